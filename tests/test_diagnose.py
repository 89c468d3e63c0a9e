"""The pooled-vector probe: its inputs are the generated store's vectors, and it reads what they hold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sasr_lite.data.store import FeatureStore
from sasr_lite.diagnose import (
    FILLERS, SEGMENT_WIDTH, TYPE_NAMES, ProbeConfig, SegmentProbe, probe_accuracy, probe_data, question_code,
    select_types,
)
from sasr_lite.data.taxonomy import TEMPLATES
from sasr_lite.synth.generate import generate


def test_question_code_marks_the_template_and_each_slot():
    code = question_code(3, ["violin", "piano"])
    hot = np.flatnonzero(code)
    assert list(hot) == [3, len(TEMPLATES) + FILLERS.index("violin"), len(TEMPLATES) + len(FILLERS) + FILLERS.index("piano")]


def test_probe_views_are_the_stores_pooled_vectors_and_audio(tmp_path):
    root = generate(tmp_path / "b", size=10, seed=4, cues="lesson")
    test = probe_data(10, "lesson", seed=4)["test"]
    store = FeatureStore.open(root / "store" / "test")
    segments = test["segments"].reshape(len(test["answer"]), store.T, 640)
    assert len(set(test["video"])) == len(store) >= 2
    for video, views in zip(test["video"], segments):
        row = store.index_of(video)
        stored = np.concatenate([store.visual[row], store.audio[row]], axis=1).astype(np.float32)
        np.testing.assert_allclose(views, stored, rtol=2e-3, atol=2e-3)  # the store keeps float16
    np.testing.assert_allclose(test["average"], segments.mean(axis=1), rtol=1e-5, atol=1e-6)


def fake(n: int, rng: np.random.Generator, readable: bool) -> dict:
    """Questions whose answer is the largest of 3 feature channels (readable) or a coin (not)."""
    average = rng.standard_normal((n, 32)).astype(np.float32)
    answer = np.array([f"a{k}" for k in (average[:, :3].argmax(1) if readable else rng.integers(0, 3, n))])
    return {"question": np.tile(question_code(0, []), (n, 1)), "average": average, "answer": answer,
            "type": np.full(n, TYPE_NAMES.index("Audio-Visual/Location")), "template": np.full(n, TEMPLATES[0].key)}


@pytest.mark.parametrize("readable", [True, False])
def test_probe_reads_an_answer_the_vectors_hold_and_only_then(readable):
    rng = np.random.default_rng(0)
    data = {"train": fake(2000, rng, readable), "test": fake(600, rng, readable)}
    config = ProbeConfig(hidden=64, epochs=15)
    pooled = probe_accuracy(data, "average", config)
    question = probe_accuracy(data, "question", config)
    assert list(pooled.index) == ["Audio-Visual/Location", "Overall"]
    assert question["Overall"] < 45  # the question alone: a third, give or take
    if readable:
        assert pooled["Overall"] > 85
    else:
        assert pooled["Overall"] < 45
    with pytest.raises(ValueError, match="unknown probe view 'maps'"):
        probe_accuracy(data, "maps", config)


def test_segment_spread_measures_each_stage_and_sees_the_collapse_the_residual_prevents():
    """spread = std over t of each stage, computed directly; with segment queries that read every
    token alike, the paper's f^g holds one vector for all segments and the residual keeps f^s's spread."""
    from sasr_lite.config import SaSRConfig
    from sasr_lite.diagnose import segment_spread
    from sasr_lite.model import SaSRNet

    torch.manual_seed(0)
    audio = torch.randn(3, 10, 128)
    spreads = {}
    for residual in (False, True):
        model = SaSRNet(SaSRConfig.tiny(sasr_residual=residual)).eval()
        for weight in (model.sasr.audio.segment_attn.fc_q.weight, model.sasr.audio.segment_attn.fc_q.bias):
            torch.nn.init.zeros_(weight)
        spreads[residual] = segment_spread(model, audio)
        f_a_r = model.audio_proj(audio).detach()
        assert spreads[residual]["f_a_r"] == pytest.approx(float(f_a_r.std(dim=1).mean()), rel=1e-6)
    assert spreads[False]["f_a_s"] > 1e-3 and spreads[False]["f_a_g"] < 1e-3 * spreads[False]["f_a_s"]
    assert spreads[True]["f_a_g"] == pytest.approx(spreads[True]["f_a_s"], rel=1e-4)


def ordered(n: int, rng: np.random.Generator) -> dict:
    """Questions "which of A and B comes in first?": each plays one block of 3 of the T = 10 segments,
    and channel 2 of every segment says when it is. The time average is the same for every answer
    (A and B each fill 3 tenths), so only a reader that sees A or B *together with* the time can answer."""
    T, k = 10, 3
    starts = np.stack([rng.choice(T - k + 1, size=2, replace=False) for _ in range(n)])  # [n, 2] distinct
    segments = np.zeros((n, T, SEGMENT_WIDTH), np.float32)  # the other channels hold nothing
    segments[:, :, :3] = 0.05 * rng.standard_normal((n, T, 3))
    t = np.arange(T)
    for source in (0, 1):
        segments[:, :, source] += (t >= starts[:, source:source + 1]) & (t < starts[:, source:source + 1] + k)
    segments[:, :, 2] += t / (T - 1)
    answer = np.where(starts[:, 0] < starts[:, 1], "A", "B")
    return {"question": np.tile(question_code(0, []), (n, 1)), "segments": segments.reshape(n, -1),
            "average": segments.mean(axis=1), "answer": answer,
            "type": np.full(n, TYPE_NAMES.index("Audio-Visual/Temporal")), "template": np.full(n, TEMPLATES[0].key)}


def test_a_mean_of_nonlinear_segment_features_keeps_the_order_a_mean_of_raw_ones_loses():
    rng = np.random.default_rng(1)
    data = {"train": ordered(3000, rng), "test": ordered(600, rng)}
    config = ProbeConfig(hidden=64, epochs=20)
    accuracy = {view: probe_accuracy(data, view, config)["Overall"] for view in ("average", "set", "attended")}
    assert accuracy["average"] < 60  # a coin, give or take
    assert accuracy["set"] > 90 and accuracy["attended"] > 90


def test_segment_probe_pools_by_the_mean_or_by_question_guided_weights():
    torch.manual_seed(0)
    question, segments = torch.randn(4, 7), torch.randn(4, 5, 9)
    for attend in (False, True):
        probe = SegmentProbe(9, 7, 6, 3, attend)
        h = probe.phi(segments)
        if attend:
            w = torch.softmax((h * probe.query(question)[:, None, :]).sum(-1) / 6 ** 0.5, dim=-1)
            pooled = (w[..., None] * h).sum(1)
        else:
            pooled = h.mean(1)
        expected = probe.rho(torch.cat([question, pooled], dim=-1))
        torch.testing.assert_close(probe(question, segments), expected)


def test_select_types_keeps_the_questions_of_those_types_in_every_split():
    rng = np.random.default_rng(0)
    data = {split: fake(30, rng, True) for split in ("train", "test")}
    for arrays in data.values():
        arrays["type"][::3] = TYPE_NAMES.index("Audio-Visual/Temporal")
    kept = select_types(data, ["Audio-Visual/Temporal"])
    for split, arrays in kept.items():
        assert len(arrays["answer"]) == 10 and set(arrays["type"]) == {TYPE_NAMES.index("Audio-Visual/Temporal")}
        np.testing.assert_array_equal(arrays["average"], data[split]["average"][::3])
    with pytest.raises(ValueError, match=r"unknown question types \['Audio-Visual/Time'\]"):
        select_types(data, ["Audio-Visual/Time"])
