"""Grading the attention against the synthetic scenes' ground truth: does the spatial peak lie on
a sounding instrument, and does the temporal attention weigh the segments a question asks about?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sasr_lite.data.annotations import QARecord
from sasr_lite.evaluate.predict import ModelPredictions


def grade_attention(records: Sequence[QARecord], predictions: ModelPredictions, store, scenes: Mapping) -> dict:
    """Spatial pointing and temporal focus against the synthetic scenes' ground truth.

    - pointing accuracy: over every (video, kept segment) with a sounding visible instrument,
      the share whose spatial-attention argmax lies in a sounding instrument's box; chance is
      the boxes' share of the P positions (what a uniformly random peak would score).
    - spatial mass: over the same segments, the attention mass on the sounding boxes: how much of
      f_v,t^attn = sum_p w_t,p X_t,p comes from them (uniform weights give the boxes' share, the
      same number as the pointing chance). A right peak with little mass carries little of the
      instrument's cells, and so little of where it stands.
    - temporal mass: over questions about some but not all segments, the attention mass on
      those segments (audio and visual branches); uniform attention would put |segments| / T.
    ``scenes`` maps video_id -> Scene; ``store`` is the split's FeatureStore (ids, stride).
    """
    from sasr_lite.synth.ground_truth import question_segments, sounding_box_mask
    from sasr_lite.synth.scenes import kept_segments

    if not predictions.spatial:
        raise ValueError("grade_attention needs predictions made with keep_attention=True")
    segments = kept_segments(store.stride or 6)
    hits, chance, mass = [], [], []
    for row, attn in predictions.spatial.items():
        mask = sounding_box_mask(scenes[store.ids[row]], segments)  # [T, P] bool
        for t in np.flatnonzero(mask.any(axis=1)):
            hits.append(bool(mask[t, attn[t].argmax()]))
            mass.append(float(attn[t][mask[t]].sum()))
            chance.append(mask[t].mean())
    mass_a, mass_v, uniform = [], [], []
    for r in records:
        if r.question_id not in predictions.temporal_a:
            continue
        asked = question_segments(scenes[r.video_id], r, segments)  # [T] bool
        if not asked.any() or asked.all():
            continue  # a question about every segment (or none) says nothing about focus
        mass_a.append(predictions.temporal_a[r.question_id][asked].sum())
        mass_v.append(predictions.temporal_v[r.question_id][asked].sum())
        uniform.append(asked.mean())
    return {
        "pointing_accuracy": 100.0 * float(np.mean(hits)) if hits else float("nan"),
        "pointing_chance": 100.0 * float(np.mean(chance)) if chance else float("nan"),
        "pointing_segments": len(hits),
        "spatial_mass": 100.0 * float(np.mean(mass)) if mass else float("nan"),
        "temporal_mass_audio": 100.0 * float(np.mean(mass_a)) if mass_a else float("nan"),
        "temporal_mass_visual": 100.0 * float(np.mean(mass_v)) if mass_v else float("nan"),
        "temporal_mass_uniform": 100.0 * float(np.mean(uniform)) if uniform else float("nan"),
        "temporal_questions": len(uniform),
    }
