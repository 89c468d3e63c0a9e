"""Weights saved by the official code (``torch.save(model.state_dict())`` in sasr_net/main.py),
loaded into `OfficialSaSRNet`.

Our submodules carry the paper's names, so the official names are mapped by prefix. The
table doubles as a map of the official code: each official attribute, and where it lives here.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

# official name prefix -> ours, in the order of the official SaSR_Net's attributes
KEY_MAP = {
    "fc_a1.": "audio_proj.fc1.",
    "fc_a2.": "audio_proj.fc2.",
    "visual_net.": "visual_net.",
    "fc_fusion.": "answer_head.fusion.",
    "linear11.": "temporal_v.fc1.",
    "linear12.": "temporal_v.fc2.",
    "linear21.": "temporal_a.fc1.",
    "linear22.": "temporal_a.fc2.",
    "norm1.": "temporal_v.norm.",
    "norm2.": "temporal_a.norm.",
    "norm3.": "unused_norm.",
    "attn_a.": "temporal_a.attn.",
    "attn_v.": "temporal_v.attn.",
    "question_encoder.word2vec.": "question_encoder.embedding.",
    "question_encoder.lstm.": "question_encoder.lstm.",
    "question_encoder.fc.": "question_encoder.fc.",
    "fc_ans.": "answer_head.classifier.",
    "fc_gl.": "grounding.fc.",
    "fc1.": "match_head.mlp.0.",
    "fc2.": "match_head.mlp.2.",
    "fc3.": "match_head.mlp.4.",
    "fc4.": "match_head.mlp.6.",
    "sasr.fc_a.": "sasr.audio_in.",
    "sasr.fc_v.": "sasr.visual_in.",
    "sasr.fc_st.": "sasr.visual_st_in.",
    "sasr.fc_fusion.": "sasr.visual_fusion.",
    "sasr.av_token": "sasr.tokens",
    "sasr.audio_cug.blocks.": "sasr.audio.slt_layers.",
    "sasr.audio_cug.cross_attn.0.": "sasr.audio.segment_attn.",
    "sasr.audio_cug.han_encoder.": "sasr.audio.cross_modal_grouping.",
    "sasr.audio_cug.grouping.": "sasr.audio.source_grouping.",
    "sasr.visual_cug.blocks.": "sasr.visual.slt_layers.",
    "sasr.visual_cug.cross_attn.0.": "sasr.visual.segment_attn.",
    "sasr.visual_cug.grouping.": "sasr.visual.source_grouping.",
    "sasr.fc_prob.": "sasr.presence.",
    "sasr.fc_prob_a.": "sasr.presence_a.",
    "sasr.fc_prob_v.": "sasr.presence_v.",
    "sasr.fc_cls.": "sasr.token_classifier.",
}

_DATA_PARALLEL = "module."  # nn.DataParallel's prefix on every name
_SHOWN = 20  # names listed per kind of problem; the rest are counted


def _rename(name: str, table: Mapping[str, str]) -> str | None:
    """Apply the longest prefix of ``table`` that ``name`` starts with; None if none does."""
    matches = [prefix for prefix in table if name.startswith(prefix)]
    if not matches:
        return None
    prefix = max(matches, key=len)
    return table[prefix] + name[len(prefix):]


def official_to_ours(name: str) -> str | None:
    """An official parameter name -> ours (None: not a name of the official network)."""
    return _rename(name, KEY_MAP)


def ours_to_official(name: str) -> str | None:
    """One of our parameter names -> the official one (None: the official network lacks it)."""
    return _rename(name, {ours: official for official, ours in KEY_MAP.items()})


def _listing(kind: str, names: list[str]) -> str:
    more = f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    return f"{len(names)} {kind}: {', '.join(names[:_SHOWN])}{more}"


def load_official_state_dict(
    model: nn.Module, state_dict_or_path: Mapping[str, torch.Tensor] | str | os.PathLike
) -> None:
    """Copy an official state dict (its names, with or without DataParallel's ``module.``) into
    ``model``, an `OfficialSaSRNet`. A path is read on the CPU with ``weights_only=True``.

    A model built ``with_resnet=False`` skips the official ``visual_net.`` weights. Missing,
    unexpected and wrongly shaped entries are reported together in one ValueError, by their
    official names.
    """
    where = ""
    state = state_dict_or_path
    if isinstance(state_dict_or_path, (str, os.PathLike)):
        path = Path(state_dict_or_path)
        where = f"{path}: "
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
            raise ValueError(f"{where}cannot be read as saved tensors ({error})") from error
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{where}expected a state dict (parameter name -> tensor), got {type(state).__name__}")
    ours = model.state_dict()
    has_resnet = any(name.startswith("visual_net.") for name in ours)
    loaded: dict[str, torch.Tensor] = {}
    seen: set[str] = set()
    unexpected, wrong_shape = [], []
    for key, value in state.items():
        name = key.removeprefix(_DATA_PARALLEL)
        target = official_to_ours(name)
        if target in ours:
            seen.add(target)
            if value.shape == ours[target].shape:
                loaded[target] = value
            else:
                wrong_shape.append(f"{name} {tuple(value.shape)} (expected {tuple(ours[target].shape)})")
        elif name.startswith("visual_net.") and not has_resnet:
            continue  # the held ResNet, which this model leaves out
        else:
            unexpected.append(name)
    missing = [ours_to_official(name) or name for name in ours if name not in seen]
    problems = [
        _listing(kind, names)
        for kind, names in (("missing", missing), ("unexpected", unexpected), ("with the wrong shape", wrong_shape))
        if names
    ]
    if problems:
        hint = ""
        if any(name.startswith("visual_net.") for name in missing):
            hint = " (weights saved without the ResNet load into OfficialSaSRNet(config, with_resnet=False))"
        elif wrong_shape:
            hint = " (build the model with the SaSRConfig sizes the weights were saved with)"
        raise ValueError(f"{where}not an official SaSR-Net state dict for this model: " + "; ".join(problems) + hint)
    model.load_state_dict(loaded)
