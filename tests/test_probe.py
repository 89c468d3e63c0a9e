"""The attention probe (notebook 11): driven from Python, without a front end.

Each widget change must reach the model or the figure: moving the segment slider redraws the
spatial map from another row of the attention, picking a question reruns the model, a typed
question is tokenised like the annotations, a new video swaps the question list.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from sasr_lite import SaSRConfig
from sasr_lite.model import SaSRNet, build_model
from sasr_lite.probe import Probe, ProbePanel
from sasr_lite.synth.generate import generate
from sasr_lite.data.loading import load_data


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    root = generate(tmp_path_factory.mktemp("synth") / "ten", size=10, seed=0)
    with warnings.catch_warnings():  # a 10-video train split may miss some test answers: expected here
        warnings.simplefilter("ignore", UserWarning)
        data = load_data(root, splits=("train", "test"))
        torch.manual_seed(0)
        config = SaSRConfig.tiny(question_vocab_size=len(data.question_vocab), num_answers=len(data.answer_vocab))
        return Probe(SaSRNet(config), data, "test")


@pytest.fixture
def panel(probe):
    return ProbePanel(probe)


def test_ask_matches_a_direct_forward_pass(probe):
    record = probe.questions[probe.video_ids[0]][0]
    result = probe.ask(record.video_id, record)
    row = probe.store.index_of(record.video_id)
    item = probe.dataset[probe._record_index[record.question_id]]
    with torch.no_grad():
        out = probe.model(item["audio"][None], item["visual"][None], item["visual_maps"][None], item["question"][None])
    np.testing.assert_allclose(result.probs, torch.softmax(out.answer_logits[0], -1).numpy(), atol=1e-6)
    np.testing.assert_allclose(result.spatial, out.spatial_attn[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(result.temporal_v, out.temporal_attn_v[0].numpy(), atol=1e-6)
    assert result.truth == record.answer
    assert result.sounding.shape == (probe.T, probe.store.P) and result.asked.shape == (probe.T,)
    np.testing.assert_array_equal(result.sources, probe.dataset.sources[row])


def test_segment_slider_redraws_the_spatial_map(panel):
    r = panel.result
    t = int(np.argmax([np.abs(r.spatial[t] - r.spatial[0]).max() for t in range(panel.probe.T)]))
    assert t != 0, "every segment has the same spatial attention: nothing to check"
    before = panel.spatial_image.get_array().copy()
    shown = bytes(panel.image.value)
    panel.segment.value = t
    after = panel.spatial_image.get_array()
    np.testing.assert_allclose(after.ravel(), r.spatial[t], atol=1e-7)
    assert not np.allclose(before, after)
    # the picture the page shows is the redrawn figure, as a PNG
    assert bytes(panel.image.value).startswith(b"\x89PNG") and bytes(panel.image.value) != shown


def test_question_dropdown_reruns_the_model(panel):
    first = panel.result
    panel.question.value = panel.question.options[1][1]
    second = panel.result
    assert second.question != first.question
    assert not np.allclose(first.probs, second.probs)  # the question gates the answer head
    heights = [bar.get_width() for bar in panel.answer_bars][::-1]
    np.testing.assert_allclose(heights, [p for _, p in second.top()], atol=1e-7)


def test_typed_question_is_tokenised_and_flags_unknown_words(panel):
    panel.typed.value = "Is there a zither sound?"
    result = panel.result
    assert result.question == "Is there a zither sound"
    assert result.tokens[:5] == ["Is", "there", "a", "zither", "sound"] and len(result.tokens) == 14
    assert result.unknown_words == ["zither"]
    assert result.truth is None and result.asked is None
    assert "zither" in panel.status.value
    panel.typed.value = ""  # clearing the box goes back to the selected annotated question
    assert panel.result.truth is not None


def test_video_dropdown_swaps_questions(panel):
    second = panel.probe.video_ids[1]
    panel.video.value = second
    ids = {r.question_id for r in panel.probe.questions[second]}
    assert {value for _, value in panel.question.options} == ids
    assert panel.result.video_id == second


def test_unknown_video_is_a_clear_error(probe):
    with pytest.raises(ValueError, match="not in the test split"):
        probe.ask("no-such-video", "Is there a cello sound")


def test_the_probe_shows_the_official_network_too(probe):
    """The probe reads only fields both networks fill (build_model's "official" port)."""
    torch.manual_seed(0)
    config = probe.model.config.replace(arch="official", d_model=512)  # its grounding needs D = 512
    official = Probe(build_model(config).eval(), probe.data, "test")
    record = official.questions[official.video_ids[0]][0]
    result = official.ask(record.video_id, record)
    assert result.probs.shape == (len(probe.data.answer_vocab),) and np.isclose(result.probs.sum(), 1, atol=1e-5)
    assert result.spatial.shape == (official.T, official.store.P)
    np.testing.assert_allclose(result.spatial.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(result.temporal_a.sum(), 1, atol=1e-5)
    ProbePanel(official)  # draws its first figure without error
