"""The three scales the notebooks and the demo run at, chosen by one switch.

- ``test``: seconds per notebook, for `make test` (a tiny model on 60 synthetic videos; its
  numbers mean nothing, it proves the code runs).
- ``lesson``: CPU minutes, what the committed notebooks show (the demo's benchmark and model
  width: 1,000 synthetic videos of 8 instrument classes, d_model = 128).
- ``paper``: the paper's sizes and recipe (section 4.1) on the full-size synthetic benchmark or
  real MUSIC-AVQA; meant for a GPU.

The switch is the environment variable ``SASR_LITE_SCALE`` (or the ``SCALE`` parameter at the
top of every notebook, which papermill can set: ``papermill -p SCALE paper ...``). Unset, it is
``paper`` when CUDA is present and ``lesson`` otherwise.
"""

from __future__ import annotations

import os

import torch

from sasr_lite.presets import PRESETS

SCALES = tuple(PRESETS)  # each scale is a preset (sasr_lite.presets)
SCALE_ENV = "SASR_LITE_SCALE"


def resolve_scale(scale: str | None = None) -> str:
    """``scale`` if given, else ``$SASR_LITE_SCALE``, else ``paper`` with CUDA and ``lesson`` without."""
    source = "SCALE"
    if not scale:
        scale, source = os.environ.get(SCALE_ENV, ""), SCALE_ENV
    if not scale:
        return "paper" if torch.cuda.is_available() else "lesson"
    if scale not in SCALES:
        raise ValueError(f"{source}={scale!r} is not a scale; choose one of {', '.join(SCALES)}")
    return scale
