"""The batch: what `BatchLoader` yields and what both networks read from it.

A batch holds B questions of V videos. The video tensors have one row per video (V <= B: the
questions of one video share its row, and ``video_of`` says which row is whose), so the video
path, which never reads the question, runs once per video.
"""

from __future__ import annotations

from typing import TypedDict

import torch

# the forward arguments of SaSRNet and OfficialSaSRNet that a batch supplies
MODEL_INPUTS = ("audio", "visual", "visual_maps", "visual_map_norms", "question", "video_of", "question_len", "choices",
                "choice_len")
NEGATIVE_INPUTS = ("visual_maps_neg", "visual_neg", "visual_map_norms_neg")  # another video's features, for L_match


class Batch(TypedDict, total=False):
    """One batch; a plain dict with these keys (the multiple-choice keys only on AVQA-Yang)."""

    # per video
    audio: torch.Tensor  # [V, T, 128] VGGish
    visual: torch.Tensor  # [V, T, 512] pooled ResNet-18
    visual_maps: torch.Tensor  # [V, T, P, 512] ResNet-18 maps
    visual_maps_neg: torch.Tensor  # [V, T, P, 512] another video's maps (the negatives of L_match)
    visual_neg: torch.Tensor  # [V, T, 512] ... and its pooled vectors
    visual_map_norms: torch.Tensor  # [V, T, P] |X_t,p|, kept by the loader (CPU, float32 maps only)
    visual_map_norms_neg: torch.Tensor  # [V, T, P] ... of the negative maps
    sources: torch.Tensor  # [V, C] multi-hot source labels (L_source)
    video_index: torch.Tensor  # [V] rows of the feature store
    # per question
    question: torch.Tensor  # [B, L] word indices, 0 = <pad>
    question_len: torch.Tensor  # [B] on the host (the LSTM's packing reads it there)
    answer: torch.Tensor  # [B] answer index, -1 = not in the train vocabulary
    subtype: torch.Tensor  # [B]
    template: torch.Tensor  # [B]
    question_id: torch.Tensor  # [B]
    video_of: torch.Tensor  # [B] the video row of each question
    choices: torch.Tensor  # [B, K, L_c] candidate answers' word indices (multiple choice)
    choice_len: torch.Tensor  # [B, K] on the host


def model_inputs(batch: Batch, negatives: bool = False) -> dict[str, torch.Tensor]:
    """The keyword arguments of a network's forward for ``batch``; with ``negatives`` also the
    negative video's features, which the training step needs for L_match."""
    names = MODEL_INPUTS + (NEGATIVE_INPUTS if negatives else ())
    return {name: batch[name] for name in names if name in batch}
