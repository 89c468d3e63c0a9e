"""ResNet-18 visual features as in MUSIC-AVQA: 512x14x14 maps and the pooled 512-d vector.

Frames are resized to 224x224 (bilinear with antialiasing, like the official PIL `Resize`) and
normalised with the official mean/std (the Kinetics statistics the MUSIC-AVQA code uses, not
ImageNet's). layer4 runs with stride 1 (its first block's conv1 and downsample conv), so the
final maps stay at 14x14 instead of 7x7; the pooled vector is their global average.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision
import torchvision.transforms.v2.functional as TF
from torch import nn

IMAGE_SIZE = 224
MEAN = (0.43216, 0.394666, 0.37645)
STD = (0.22803, 0.22145, 0.216989)


def preprocess_frames(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] RGB frames -> float32 [N, 3, 224, 224], resized and normalised."""
    frames = torch.as_tensor(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
        raise ValueError(f"frames must be uint8 [N, H, W, 3], got {frames.dtype} {tuple(frames.shape)}")
    x = frames.permute(0, 3, 1, 2).float().div_(255.0)  # [N, 3, H, W] in [0, 1] (ToTensor)
    x = TF.resize(x, [IMAGE_SIZE, IMAGE_SIZE], antialias=True)
    return TF.normalize(x, list(MEAN), list(STD))


def torchvision_resnet18() -> torchvision.models.ResNet:
    """An untrained torchvision ResNet-18: the module the ImageNet checkpoint's keys belong to."""
    return torchvision.models.resnet18(weights=None)


class ResNet18Maps(nn.Module):
    """ResNet-18 trunk (no avgpool/fc) with a stride-1 layer4."""

    def __init__(self, resnet: torchvision.models.ResNet | None = None) -> None:
        super().__init__()
        resnet = resnet if resnet is not None else torchvision_resnet18()
        # stride 1 in layer4: 14x14 maps at 224x224 input (the official 14x14 features)
        resnet.layer4[0].conv1.stride = (1, 1)
        resnet.layer4[0].downsample[0].stride = (1, 1)
        self.trunk = nn.Sequential(
            resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool,
            resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4,
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, 3, 224, 224] normalised images -> maps [B, 512, 14, 14], pooled [B, 512]."""
        maps = self.trunk(images)
        return maps, maps.mean(dim=(2, 3))


@torch.inference_mode()
def frame_features(
    model: ResNet18Maps, frames: np.ndarray, batch_size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [N, H, W, 3] -> float32 maps [N, 512, 14, 14] and pooled [N, 512] (CPU), in batches."""
    device = next(model.parameters()).device
    maps, pooled = [], []
    for i in range(0, len(frames), batch_size):
        # resize and normalise on the model's device (cheap on a GPU, same numbers on a CPU)
        m, p = model(preprocess_frames(torch.as_tensor(frames[i : i + batch_size]).to(device)))
        maps.append(m.float().cpu())
        pooled.append(p.float().cpu())
    return torch.cat(maps), torch.cat(pooled)
