"""Kept map norms (`MapNorms`): the loader hands out |X_t,p| once computed, and both networks give
bit for bit the numbers they give when they compute the norms themselves."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.config import SaSRConfig
from sasr_lite.data.batch import model_inputs
from sasr_lite.data.dataset import MAP_NORM_KEYS, BatchLoader
from sasr_lite.data.loading import sized_for
from sasr_lite.data.map_norms import MapNorms
from sasr_lite.model import build_model
from sasr_lite.model.official import OfficialSaSRNet
from sasr_lite.model.spatial import SpatialAttention


def norms_of(maps: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(maps, dim=-1)


def test_the_loader_keeps_the_norms_of_the_maps_it_reads(tiny):
    loader = BatchLoader(tiny.dataset("train"), 8, shuffle=True, seed=0, device="cpu")
    kept = loader._map_norms
    assert not kept.known.any()
    for epoch in range(2):
        loader.set_epoch(epoch)
        for batch in loader:
            assert torch.equal(batch["visual_map_norms"], norms_of(batch["visual_maps"]))
            assert torch.equal(batch["visual_map_norms_neg"], norms_of(batch["visual_maps_neg"]))
    assert kept.known.all()  # every video was read as a positive or a negative
    # a second read comes from the cache, not from the maps: a marked row comes back marked
    items = loader.batch_indices()[0]
    row = int(tiny.dataset("train").video_index[items[0]])
    kept.norms[row] = -1.0
    batch = loader.gather(items)
    slot = batch["video_index"].tolist().index(row)
    assert (batch["visual_map_norms"][slot] == -1).all()


def test_norms_are_kept_only_for_float32_maps_on_the_cpu(tiny):
    bf16 = BatchLoader(tiny.dataset("train"), 8, device="cpu", maps_dtype=torch.bfloat16)
    resident = BatchLoader(tiny.dataset("train"), 8, device="cpu", resident=True)
    for loader in (bf16, resident):
        batch = next(iter(loader))
        assert not set(MAP_NORM_KEYS) & set(batch)


def test_map_norms_refuse_other_maps():
    norms = MapNorms(num_videos=3, segments=2, positions=4)
    with pytest.raises(ValueError, match="float32 norms of float32 maps, got maps of torch.float16"):
        norms.of(np.array([0]), torch.zeros(1, 2, 4, 8, dtype=torch.float16))
    with pytest.raises(ValueError, match=r"maps \(2, 2, 4, 8\) do not match 1 rows of \[T, P\] = \(2, 4\)"):
        norms.of(np.array([0]), torch.zeros(2, 2, 4, 8))
    assert not norms.known.any()


@pytest.mark.parametrize("arch", ["paper", "official"])
def test_both_networks_give_the_same_numbers_with_kept_norms(arch):
    torch.manual_seed(0)
    if arch == "paper":
        config = SaSRConfig.tiny()
        model = build_model(config).train()
    else:  # the official grounding needs visual_dim == d_model
        config = SaSRConfig.tiny(visual_dim=32, audio_dim=16, num_tokens=6)
        model = OfficialSaSRNet(config, with_resnet=False).train()
    g = torch.Generator().manual_seed(0)
    V, T, P = 2, 10, 49
    maps, maps_neg = (torch.rand(V, T, P, config.visual_dim, generator=g) for _ in range(2))
    inputs = dict(audio=torch.randn(V, T, config.audio_dim, generator=g), visual=maps.mean(2), visual_maps=maps,
                  question=torch.randint(1, config.question_vocab_size, (V, 14), generator=g),
                  visual_maps_neg=maps_neg, visual_neg=maps_neg.mean(2))
    kept = dict(visual_map_norms=norms_of(maps), visual_map_norms_neg=norms_of(maps_neg))
    results = []
    for extra in ({}, kept):
        model.zero_grad()
        torch.manual_seed(1)  # the same dropout masks (and Gumbel draws) in both passes
        out = model(**inputs, **extra)
        (out.answer_logits.sum() + out.match_logits.sum() + out.match_logits_neg.sum()).backward()
        results.append((out.answer_logits, out.spatial_attn, out.spatial_attn_neg,
                        [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (a, w, w_neg, grads), (a2, w2, w_neg2, grads2) = results
    assert torch.equal(a, a2) and torch.equal(w, w2) and torch.equal(w_neg, w_neg2)
    assert len(grads) == len(grads2) and all(torch.equal(x, y) for x, y in zip(grads, grads2))


def test_kept_norms_of_the_wrong_shape_are_refused():
    sa = SpatialAttention(d_model=8, visual_dim=16)
    f = torch.randn(2, 3, 8)
    maps = torch.rand(2, 3, 5, 16)
    with pytest.raises(ValueError, match="map_norm"):
        sa(f, f, maps, torch.ones(2, 3, 4))


def test_a_training_batch_passes_its_norms_to_the_network(tiny):
    batch = next(iter(BatchLoader(tiny.dataset("train"), 8, device="cpu")))
    assert {"visual_map_norms", "visual_map_norms_neg"} <= set(model_inputs(batch, negatives=True))
    config = sized_for(SaSRConfig.tiny(), tiny)
    torch.manual_seed(0)
    model = build_model(config).eval()
    with_norms = model(**model_inputs(batch, negatives=True))
    without = model(**{k: v for k, v in model_inputs(batch, negatives=True).items() if k not in MAP_NORM_KEYS})
    assert torch.equal(with_norms.answer_logits, without.answer_logits)


def test_spatial_attention_divides_by_the_norms_it_is_given():
    # cos / 2 at temperature 1 is cos at temperature 2: norms given twice too large must act so
    torch.manual_seed(0)
    sa = SpatialAttention(d_model=8, visual_dim=16, norm="l2", temperature=1.0)
    f_a, f_v, maps = torch.randn(2, 3, 8), torch.randn(2, 3, 8), torch.rand(2, 3, 5, 16)
    _, doubled = sa(f_a, f_v, maps, 2 * norms_of(maps))
    sa.temperature = 2.0
    _, hotter = sa(f_a, f_v, maps)
    torch.testing.assert_close(doubled, hotter, rtol=1e-6, atol=1e-7)
    sa.temperature = 1.0
    assert not torch.allclose(doubled, sa(f_a, f_v, maps)[1])  # and they were not ignored
