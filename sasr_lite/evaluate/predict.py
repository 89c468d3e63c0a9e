"""Running a model: its answers on a split keyed by question id (and, optionally, its attention
maps), and loading a trained model from its checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sasr_lite.data.batch import model_inputs
from sasr_lite.device import autocast
from sasr_lite.errors import NonFiniteError


@dataclass
class ModelPredictions:
    """A model's answers on a split, keyed by question id, and (optionally) its attention maps."""

    frame: pd.DataFrame  # question_id, video_index, answer_index, prediction (answer word)
    spatial: dict[int, np.ndarray] = field(default_factory=dict)  # store row -> [T, P]
    temporal_a: dict[int, np.ndarray] = field(default_factory=dict)  # question_id -> [T]
    temporal_v: dict[int, np.ndarray] = field(default_factory=dict)  # question_id -> [T]


@torch.no_grad()
def predict(model: torch.nn.Module, batches, answer_vocab, keep_attention: bool = False) -> ModelPredictions:
    """Run ``model`` over ``batches`` (a BatchLoader, any order) and key every answer by the
    ``question_id`` its batch row carries. ``keep_attention`` also keeps the spatial attention
    of each video (it depends on the audio only, not on the question) and each question's
    temporal attention, on the CPU as float32."""
    model.eval()
    device = next(model.parameters()).device
    frames, out = [], ModelPredictions(frame=pd.DataFrame())
    for batch in batches:
        with autocast(device):
            output = model(**model_inputs(batch))
        qids = batch["question_id"].cpu().numpy()
        video_rows = batch["video_index"].cpu().numpy()  # [V]
        broken = (~torch.isfinite(output.answer_logits)).any(-1).cpu().numpy()  # [B]
        if broken.any():  # an argmax over NaN would silently answer with index 0
            store_ids = batches.dataset.store.ids
            videos = sorted({store_ids[r] for r in video_rows[batch["video_of"].cpu().numpy()[broken]]})
            raise NonFiniteError(f"{int(broken.sum())} questions (ids {qids[broken][:5].tolist()}) got NaN or infinite "
                                 f"answer logits; their videos {videos[:5]} in {batches.dataset.store.path} hold "
                                 "non-finite features, or the checkpoint does")
        best = output.answer_logits.argmax(-1).cpu().numpy()
        videos = video_rows[batch["video_of"].cpu().numpy()]  # [B] store row of each question
        frames.append(pd.DataFrame({"question_id": qids, "video_index": videos, "answer_index": best}))
        if keep_attention:
            spatial = output.spatial_attn.float().cpu().numpy()  # [V, T, P]
            out.spatial.update(zip(video_rows.tolist(), spatial))
            t_a, t_v = output.temporal_attn_a.float().cpu().numpy(), output.temporal_attn_v.float().cpu().numpy()
            for k, q in enumerate(qids.tolist()):
                out.temporal_a[q], out.temporal_v[q] = t_a[k], t_v[k]
    frame = pd.concat(frames, ignore_index=True)
    frame["prediction"] = [answer_vocab.tokens[i] for i in frame["answer_index"]]
    out.frame = frame
    return out


def load_model(checkpoint: str | Path, device: str | torch.device | None = None):
    """(model in eval mode, Checkpoint) from a checkpoint file."""
    from sasr_lite.checkpoint import load_checkpoint
    from sasr_lite.device import pick_device
    from sasr_lite.model import build_model

    ckpt = load_checkpoint(checkpoint)
    model = build_model(ckpt.model_config)
    model.load_state_dict(ckpt.model_state)
    return model.to(pick_device(str(device) if device is not None else None)).eval(), ckpt
