"""Figures for notebooks and the demo report; each function returns a matplotlib Figure.

- `training_curves(history)`: loss parts and accuracies per epoch.
- `accuracy_by_type(table)`: grouped bars over the Table 1 columns, one colour per model.
- `spatial_attention(attn, mask)`: 14x14 heatmaps of the spatial attention for a few segments,
  the ground-truth sounding cells outlined.
- `temporal_attention(weights, truth)`: attention over the T segments beside the segments the
  question is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

LOSS_PARTS = ("loss_total", "loss_avqa", "loss_source", "loss_reg", "loss_match")


def training_curves(history: pd.DataFrame | Sequence[Mapping], title: str = "") -> Figure:
    """Losses (left) and accuracies (right) per epoch from a training history."""
    history = pd.DataFrame(history)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    epochs = history["epoch"] + 1
    for name in LOSS_PARTS:
        if name in history:
            ax_loss.plot(epochs, history[name], marker=".", label=name.removeprefix("loss_"))
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="losses")
    ax_loss.legend(fontsize=8)
    for name, label in (("train_accuracy", "train"), ("val_accuracy", "val")):
        if name in history and history[name].notna().any():
            ax_acc.plot(epochs, history[name], marker=".", label=label)
    ax_acc.set(xlabel="epoch", ylabel="answer accuracy (%)", title="accuracy")
    ax_acc.legend(fontsize=8)
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def accuracy_by_type(table: pd.DataFrame, title: str = "accuracy per question type") -> Figure:
    """Grouped bars: one group per Table 1 column, one bar per row (model) of ``table``."""
    labels = [f"{g}\n{t}" for g, t in table.columns]
    x = np.arange(len(labels))
    width = 0.8 / max(len(table), 1)
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(labels)), 3.8))
    for i, (name, row) in enumerate(table.iterrows()):
        ax.bar(x + (i - (len(table) - 1) / 2) * width, row.to_numpy(dtype=float), width, label=str(name))
    ax.set_xticks(x, labels, fontsize=7)
    ax.set(ylabel="accuracy (%)", ylim=(0, 100))
    ax.set_title(title, pad=22)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(table), frameon=False)
    fig.tight_layout()
    return fig


def spatial_attention(
    attn: np.ndarray,
    mask: np.ndarray | None = None,
    segments: Sequence[int] | None = None,
    title: str = "spatial attention",
) -> Figure:
    """attn [T, P] (P a square, e.g. 196 = 14x14); mask [T, P] bool ground truth, outlined in white.

    ``segments`` picks the columns shown (default: up to 5 evenly spaced segments).
    """
    attn = np.asarray(attn, dtype=float)
    T, P = attn.shape
    side = int(round(P**0.5))
    if side * side != P:
        raise ValueError(f"spatial attention needs a square number of positions, got P={P}")
    segments = list(segments) if segments is not None else sorted(set(np.linspace(0, T - 1, min(T, 5)).astype(int)))
    fig, axes = plt.subplots(1, len(segments), figsize=(2.3 * len(segments), 2.6), squeeze=False)
    for ax, t in zip(axes[0], segments):
        ax.imshow(attn[t].reshape(side, side), cmap="magma")
        if mask is not None and np.asarray(mask)[t].any():
            ax.contour(np.asarray(mask)[t].reshape(side, side).astype(float), levels=[0.5], colors="white", linewidths=1)
        peak = int(attn[t].argmax())
        ax.plot(peak % side, peak // side, "c+", markersize=10, mew=2)
        ax.set_title(f"segment {t}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title + ("  (white: sounding instruments, +: peak)" if mask is not None else "  (+: peak)"), fontsize=10)
    fig.tight_layout()
    return fig


def temporal_attention(
    weights: Mapping[str, np.ndarray] | np.ndarray,
    truth: np.ndarray | None = None,
    title: str = "temporal attention",
) -> Figure:
    """weights [T] (or {"audio": [T], "visual": [T]}); truth [T] bool: segments the question is about (shaded)."""
    if not isinstance(weights, Mapping):
        weights = {"attention": weights}
    T = len(next(iter(weights.values())))
    fig, ax = plt.subplots(figsize=(6, 2.8))
    if truth is not None:
        for t in np.flatnonzero(np.asarray(truth)):
            ax.axvspan(t - 0.5, t + 0.5, color="tab:green", alpha=0.15, lw=0)
    width = 0.8 / len(weights)
    for i, (name, w) in enumerate(weights.items()):
        ax.bar(np.arange(T) + (i - (len(weights) - 1) / 2) * width, np.asarray(w, dtype=float), width, label=name)
    ax.axhline(1.0 / T, color="gray", ls="--", lw=1, label="uniform")
    ax.set(xlabel="segment", ylabel="weight")
    ax.set_title(title + ("\n(green: the segments the question is about)" if truth is not None else ""), fontsize=9)
    ax.set_xticks(range(T))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
