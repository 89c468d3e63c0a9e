"""The authors' released SaSR-Net code, timed beside the kit (``sasr-lite bench --released DIR``).

The kit neither ships nor downloads that code. ``DIR`` is a checkout of
github.com/tianyu-yang1998/SaSR-Net that the user made; this module imports its network
(``sasr_net/models.py``: ``SaSR_Net``) and its four losses (``sasr_net/loss.py``) from there and
runs the training step of its ``main.py``: forward on a question with positive and negative maps,
L_qa + 0.5 L_match + 0.5 (L_semantic^v + L_semantic^a) + 0.5 L_correlation, backward, Adam.
Inputs are random, in the shapes that code reads (maps [B, T, 512, 14, 14], one question per
sample: it has no shared video path). Timing the code itself, in the same process and run as the
kit, is what makes "the kit is N times faster than the released code" a measurement and not a
constant carried over from another machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path

import torch
from torch import nn

T, P_SIDE, AUDIO_DIM, VISUAL_DIM, L = 10, 14, 128, 512, 14
NUM_WORDS, NUM_ANSWERS, NUM_CLASSES = 93, 42, 22  # the released code's fixed vocabulary and heads
FILES = ("sasr_net/models.py", "sasr_net/loss.py")


def _import(path: Path, name: str, search: list[Path]):
    """The module in file ``path`` under ``name``, with ``search`` on sys.path while it imports
    (the released code imports its own modules by their bare names)."""
    added = [str(p) for p in search if str(p) not in sys.path]
    sys.path[:0] = added
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for p in added:
            sys.path.remove(p)


def load_released(root: str | Path):
    """(the SaSR_Net class, the loss module) from a checkout of the released code at ``root``.

    ValueError naming the file when ``root`` is not such a checkout; ImportError naming the missing
    package (the released code needs timm and einops, which the kit does not install)."""
    root = Path(root)
    missing = [f for f in FILES if not (root / f).is_file()]
    if missing:
        raise ValueError(f"{root}: not a checkout of the released SaSR-Net code (no {', '.join(missing)}); "
                         "clone github.com/tianyu-yang1998/SaSR-Net and pass its folder")
    search = [root / "sasr_net", root / "sasr_net" / "modules"]
    try:
        models = _import(root / FILES[0], "sasr_released_models", search)
        losses = _import(root / FILES[1], "sasr_released_loss", search)
    except ModuleNotFoundError as err:
        raise ImportError(f"{root / FILES[0]}: the released code imports {err.name!r}, which this environment lacks; "
                          "install its packages to time it (for SaSR-Net: pip install timm einops)") from err
    if not hasattr(models, "SaSR_Net"):
        raise ValueError(f"{root / FILES[0]} defines no SaSR_Net")
    return models.SaSR_Net, losses


def random_inputs(batch_size: int, device: torch.device) -> dict[str, torch.Tensor]:
    """One batch as the released loader hands it over: audio [B, T, 128], visual_posi and
    visual_nega [B, T, 512, 14, 14], question [B, 14], target [B], items [B, 22] (which sources play)."""
    B = batch_size
    maps = (B, T, VISUAL_DIM, P_SIDE, P_SIDE)
    return {
        "audio": torch.rand(B, T, AUDIO_DIM, device=device),
        "visual_posi": torch.rand(maps, device=device),
        "visual_nega": torch.rand(maps, device=device),
        "question": torch.randint(0, NUM_WORDS, (B, L), device=device),
        "target": torch.randint(0, NUM_ANSWERS, (B,), device=device),
        "items": (torch.rand(B, NUM_CLASSES, device=device) < 0.2).float(),
    }


def released_steps(root: str | Path, batch_size: int, device: torch.device):
    """(model, train_once, infer_once) of the released network on one random batch: its training
    step (losses weighted as its main.py weighs them, Adam at its learning rate 1e-4) and a forward
    without gradients."""
    net, losses = load_released(root)
    torch.manual_seed(0)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints whether ImageNet weights were found
        model: nn.Module = net().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = random_inputs(batch_size, device)
    match, qa = losses.LossAVMatch(), losses.LossAVQA()
    correlation, semantic = losses.LossCorrelation(num_class=NUM_CLASSES), losses.LossSemantic()
    inputs = (batch["audio"], batch["visual_posi"], batch["visual_nega"], batch["question"])

    def train_once() -> None:
        optimizer.zero_grad()
        out_qa, match_posi, match_nega, av_cls_prob, v_prob, a_prob, _ = model(*inputs)
        loss = (qa(out_qa, batch["target"]) + 0.5 * match(match_posi, match_nega)
                + 0.5 * (semantic(v_prob, batch["items"]) + semantic(a_prob, batch["items"]))
                + 0.5 * correlation(av_cls_prob))
        loss.backward()
        optimizer.step()

    @torch.no_grad()
    def infer_once() -> None:
        model(*inputs)

    return model, train_once, infer_once
