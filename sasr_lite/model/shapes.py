"""Input checks shared by every block: a wrong shape fails early, naming the argument.

Shapes and dtypes are known on the host, so checking them is free. Checking *values* (an index
out of range) means reading the tensor: free on the CPU, but on a GPU the host then waits for
every queued kernel, once per check and step. So value checks run on the CPU always and on an
accelerator only when ``SASR_LITE_CHECK_VALUES=1`` (turn it on to debug a CUDA error).
"""

from __future__ import annotations

import os

import torch

CHECK_VALUES_ENV = "SASR_LITE_CHECK_VALUES"


def reads_values(x: torch.Tensor) -> bool:
    """Whether a value check on ``x`` runs: on the CPU, or when ``SASR_LITE_CHECK_VALUES=1``."""
    return x.device.type == "cpu" or os.environ.get(CHECK_VALUES_ENV) == "1"


def check_shape(name: str, x: object, dims: tuple[str | int, ...], sizes: dict[str, int]) -> None:
    """Raise ``ValueError`` unless ``x`` is a tensor shaped like ``dims``.

    ``dims`` mixes fixed sizes (``512``) and symbols (``"B"``, ``"T"``). A symbol already in
    ``sizes`` must match it; a new one is bound there, so later arguments are checked against the
    sizes the earlier ones fixed (``audio`` fixes ``B`` and ``T``, ``visual_maps`` must agree).
    """
    expected = "[" + ", ".join(str(d) for d in dims) + "]"
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a tensor shaped {expected}, got {type(x).__name__}")
    bound = dict(sizes)
    ok = x.dim() == len(dims)
    if ok:
        for d, size in zip(dims, x.shape):
            if isinstance(d, int):
                ok = ok and size == d
            elif d in bound:
                ok = ok and size == bound[d]
            else:
                bound[d] = size
            # an empty T, P, L or batch leaves nothing to attend over
            ok = ok and size > 0
    if not ok:
        known = ", ".join(f"{k}={v}" for k, v in sizes.items() if k in dims)
        hint = f" ({known})" if known else ""
        raise ValueError(f"{name} must be {expected}{hint}, got {tuple(x.shape)}")
    sizes.update(bound)


def check_float(name: str, x: torch.Tensor) -> None:
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


def check_model_inputs(config, audio, visual, visual_maps, question, visual_maps_neg=None, video_of=None,
                       visual_neg=None, segments: str | int = "T") -> None:
    """The checks both networks (`SaSRNet`, `OfficialSaSRNet`) run on their forward's inputs, laid
    out as that forward's docstring says; ``segments`` is "T" (any length) or a fixed T."""
    sizes: dict[str, int] = {}
    V = "B" if video_of is None else "V"  # one video row per question unless video_of says otherwise
    T = segments
    check_shape("audio", audio, (V, T, config.audio_dim), sizes)
    check_shape("visual", visual, (V, T, config.visual_dim), sizes)
    check_shape("visual_maps", visual_maps, (V, T, "P", config.visual_dim), sizes)
    check_shape("question", question, ("B", "L"), sizes)
    if video_of is not None:
        check_shape("video_of", video_of, ("B",), sizes)
        if video_of.is_floating_point() or video_of.dtype == torch.bool:
            raise ValueError(f"video_of must hold integer video rows, got dtype {video_of.dtype}")
        if reads_values(video_of) and (video_of.min() < 0 or video_of.max() >= sizes["V"]):
            raise ValueError(f"video_of must index the {sizes['V']} video rows, got values in "
                             f"[{int(video_of.min())}, {int(video_of.max())}]")
    if visual_maps_neg is not None:
        check_shape("visual_maps_neg", visual_maps_neg, (V, T, "P", config.visual_dim), sizes)
        check_float("visual_maps_neg", visual_maps_neg)
    if visual_neg is not None:
        if visual_maps_neg is None:
            raise ValueError("visual_neg was given without visual_maps_neg (the negatives' maps)")
        check_shape("visual_neg", visual_neg, (V, T, config.visual_dim), sizes)
        check_float("visual_neg", visual_neg)
    for name, x in (("audio", audio), ("visual", visual), ("visual_maps", visual_maps)):
        check_float(name, x)
