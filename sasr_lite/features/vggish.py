"""VGGish in PyTorch: the reference log-mel front end, the VGG network, and PCA post-processing.

The pretrained weights only make sense on the reference front end's exact numbers, and a stock
`torchaudio.transforms.MelSpectrogram` is not it (different mel triangles, centred frames, a
symmetric window). The reference (AudioSet's `mel_features.py` / `vggish_input.py`):
400-sample windows (25 ms at 16 kHz) every 160 samples (10 ms), no centring or padding, a
periodic Hann window, the magnitude of a 512-point rfft (257 bins), a 64-band mel matrix whose
triangles are linear in the HTK mel scale between 125 and 7500 Hz with the DC bin weighted zero,
then log(mel + 0.01); 96-frame patches (0.96 s) with a 96-frame hop. We compute it in float64
(like the NumPy original) and hand back float32.

Two ways to cut patches:
- `waveform_to_examples` is the reference: continuous 0.96 s patches (a 60 s clip gives 62).
- `waveform_to_segment_examples` is what the official MUSIC-AVQA extractor does to get one
  embedding per second: it cuts the audio into 1 s chunks and keeps the first 96 frames of each
  chunk's log-mel (frames never straddle two seconds).
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio.functional as AF
from torch import nn

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 400  # 25 ms
HOP_SAMPLES = 160  # 10 ms
FFT_LENGTH = 512  # 2 ** ceil(log2(400))
NUM_MEL_BINS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96  # 0.96 s of 10 ms frames per patch
EXAMPLE_HOP_FRAMES = 96
EMBEDDING_SIZE = 128
QUANTIZE_MIN, QUANTIZE_MAX = -2.0, 2.0  # PCA'd embeddings are clipped to this range, then 8-bit


def hertz_to_mel(hertz: torch.Tensor | float) -> torch.Tensor:
    """HTK mel scale: mel = 1127 ln(1 + f / 700)."""
    return 1127.0 * torch.log1p(torch.as_tensor(hertz, dtype=torch.float64) / 700.0)


def mel_matrix(
    num_spectrogram_bins: int = FFT_LENGTH // 2 + 1,
    sample_rate: int = SAMPLE_RATE,
    num_mel_bins: int = NUM_MEL_BINS,
    lower_hz: float = MEL_MIN_HZ,
    upper_hz: float = MEL_MAX_HZ,
) -> torch.Tensor:
    """The reference mel weights, float64 [num_spectrogram_bins, num_mel_bins]."""
    bins_mel = hertz_to_mel(torch.linspace(0.0, sample_rate / 2, num_spectrogram_bins, dtype=torch.float64))
    edges = torch.linspace(
        float(hertz_to_mel(lower_hz)), float(hertz_to_mel(upper_hz)), num_mel_bins + 2, dtype=torch.float64
    )
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    # each band is a triangle in mel: up from its lower edge to its centre, down to its upper edge
    rising = (bins_mel[:, None] - lower) / (centre - lower)
    falling = (upper - bins_mel[:, None]) / (upper - centre)
    weights = torch.minimum(rising, falling).clamp(min=0.0)
    weights[0, :] = 0.0  # the reference gives the DC bin no weight
    return weights


def log_mel_spectrogram(waveform: torch.Tensor) -> torch.Tensor:
    """[..., S] samples at 16 kHz -> float64 [..., F, 64] log-mel, F = 1 + (S - 400) // 160."""
    waveform = torch.as_tensor(waveform, dtype=torch.float64)
    if waveform.shape[-1] < WINDOW_SAMPLES or waveform.numel() == 0:
        num_frames = max(0, 1 + (waveform.shape[-1] - WINDOW_SAMPLES) // HOP_SAMPLES)
        return waveform.new_full((*waveform.shape[:-1], num_frames, NUM_MEL_BINS), float(np.log(LOG_OFFSET)))
    frames = waveform.unfold(-1, WINDOW_SAMPLES, HOP_SAMPLES)  # [..., F, 400], no centring
    window = torch.hann_window(WINDOW_SAMPLES, periodic=True, dtype=torch.float64)
    magnitude = torch.fft.rfft(frames * window, n=FFT_LENGTH).abs()  # [..., F, 257]
    return torch.log(magnitude @ mel_matrix() + LOG_OFFSET)


def _mono_16k(waveform: np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
    """[S] or [S, C] (the reference's numpy layout, averaged over C) -> float64 [S'] at 16 kHz."""
    waveform = torch.as_tensor(waveform, dtype=torch.float64)
    if waveform.ndim == 2:
        waveform = waveform.mean(dim=1)
    if waveform.ndim != 1:
        raise ValueError(f"waveform must be [samples] or [samples, channels], got shape {tuple(waveform.shape)}")
    if sample_rate != SAMPLE_RATE and waveform.numel() > 0:
        waveform = AF.resample(waveform, int(sample_rate), SAMPLE_RATE)
    return waveform


def waveform_to_examples(waveform: np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The reference patches: float32 [N, 96, 64], N = (F - 96) // 96 + 1 for F log-mel frames.

    `waveform` is [samples] or [samples, channels] (channels are averaged), any sample rate
    (resampled to 16 kHz with torchaudio when it differs).
    """
    log_mel = log_mel_spectrogram(_mono_16k(waveform, sample_rate))  # [F, 64]
    if log_mel.shape[0] < EXAMPLE_FRAMES:
        return torch.zeros(0, EXAMPLE_FRAMES, NUM_MEL_BINS)
    # [N, 64, 96] windows over frames -> [N, 96, 64]
    return log_mel.unfold(0, EXAMPLE_FRAMES, EXAMPLE_HOP_FRAMES).transpose(1, 2).float().contiguous()


def waveform_to_segment_examples(waveform: np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
    """One patch per whole second (official MUSIC-AVQA extractor): float32 [floor(S / sr), 96, 64]."""
    waveform = _mono_16k(waveform, sample_rate)
    seconds = waveform.numel() // SAMPLE_RATE
    chunks = waveform[: seconds * SAMPLE_RATE].reshape(seconds, SAMPLE_RATE)  # [K, 16000]
    log_mel = log_mel_spectrogram(chunks)  # [K, 98, 64]
    return log_mel[:, :EXAMPLE_FRAMES].float().contiguous()


class Postprocessor(nn.Module):
    """The reference PCA (with whitening), clipping to [-2, 2] and 8-bit quantisation.

    Buffers have the port's key names: `pca_eigen_vectors` [128, 128], `pca_means` [128, 1].
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("pca_eigen_vectors", torch.eye(EMBEDDING_SIZE))
        self.register_buffer("pca_means", torch.zeros(EMBEDDING_SIZE, 1))

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """[B, 128] raw embeddings -> [B, 128] float codes in {0, ..., 255}."""
        # e' = V (e - mu), for a batch of row vectors
        pca = (embeddings - self.pca_means.T) @ self.pca_eigen_vectors.T
        clipped = pca.clamp(QUANTIZE_MIN, QUANTIZE_MAX)
        # code = round((e' - min) * 255 / (max - min))
        return torch.round((clipped - QUANTIZE_MIN) * (255.0 / (QUANTIZE_MAX - QUANTIZE_MIN)))


def _vgg_blocks() -> nn.Sequential:
    """Four conv blocks (64 | 128 | 256, 256 | 512, 512), each ending in a 2x2 max-pool."""
    layers: list[nn.Module] = []
    in_channels = 1
    for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = int(v)
    return nn.Sequential(*layers)


class VGGish(nn.Module):
    """The VGGish network in the PyTorch port's layout (state-dict keys `features.{0,3,6,8,11,13}.*`,
    `embeddings.{0,2,4}.*`). The 128-d layer keeps its ReLU, as in the port and in the TF-slim
    graph the official MUSIC-AVQA features came from. `pproc` (optional) applies PCA + 8-bit codes.
    """

    def __init__(self, postprocessor: Postprocessor | None = None) -> None:
        super().__init__()
        self.features = _vgg_blocks()
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 6 * 4, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, EMBEDDING_SIZE),
            nn.ReLU(inplace=True),
        )
        self.pproc = postprocessor

    def forward(self, examples: torch.Tensor) -> torch.Tensor:
        """[B, 96, 64] log-mel patches -> [B, 128] embeddings (8-bit codes when `pproc` is set)."""
        x = self.features(examples.unsqueeze(1))  # [B, 512, 6, 4]
        # flatten in TF's channels-last order, which the ported fc weights expect
        x = x.permute(0, 2, 3, 1).flatten(1)  # [B, 6 * 4 * 512]
        x = self.embeddings(x)
        return x if self.pproc is None else self.pproc(x)


@torch.inference_mode()
def embed(model: VGGish, examples: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Run `model` over [N, 96, 64] patches in batches on the model's device -> float32 [N, 128] (CPU)."""
    device = next(model.parameters()).device
    outputs = [
        model(examples[i : i + batch_size].to(device)).float().cpu()
        for i in range(0, examples.shape[0], batch_size)
    ]
    return torch.cat(outputs) if outputs else torch.zeros(0, EMBEDDING_SIZE)
