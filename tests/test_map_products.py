"""Spatial attention's two products with the maps (`sasr_lite.model.map_products`): the values and
gradients of the hand-written backward against direct computation and against autograd's own."""

from __future__ import annotations

import torch

from model_reference import one_thread  # noqa: F401  (autouse fixture)
from sasr_lite.model.map_products import MapPooling, MapScores, map_pooling, map_scores
from sasr_lite.model.spatial import SpatialAttention


def test_both_products_equal_their_sums_over_positions_and_channels():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(6, 13, 24, generator=g, dtype=torch.float64)
    q, w = torch.randn(6, 24, generator=g, dtype=torch.float64), torch.rand(6, 13, generator=g, dtype=torch.float64)
    scores = map_scores(q, X)
    pooled = map_pooling(w, X)
    for n in range(6):
        for p in range(13):
            assert torch.isclose(scores[n, p], sum(X[n, p, c] * q[n, c] for c in range(24)), rtol=1e-12)
        for c in range(24):
            assert torch.isclose(pooled[n, c], sum(w[n, p] * X[n, p, c] for p in range(13)), rtol=1e-12)


def test_the_hand_written_gradients_pass_gradcheck():
    g = torch.Generator().manual_seed(1)
    X = torch.rand(4, 7, 5, generator=g, dtype=torch.float64)  # fixed maps: no gradient
    q = torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.rand(4, 7, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: MapScores.apply(v, X), (q,))
    assert torch.autograd.gradcheck(lambda v: MapPooling.apply(v, X), (w,))


def _attention_grads(block: SpatialAttention, f_a_g, f_v_g, maps, map_norm=None):
    inputs = [f_a_g.clone().requires_grad_(), f_v_g.clone().requires_grad_()]
    block.zero_grad(set_to_none=True)
    f_v_sa, weights = block(*inputs, maps, map_norm)
    # a loss that reads both outputs, so the weights' own gradient is checked too
    (f_v_sa.square().sum() + (weights * torch.arange(weights.shape[-1])).sum()).backward()
    return f_v_sa.detach(), weights.detach(), [t.grad for t in inputs] + [p.grad for p in block.parameters()]


def test_spatial_attention_gives_the_gradients_of_plain_autograd():
    # the maps asking for a gradient send spatial attention down the plain torch.bmm path: the
    # reference for the fast path, on the same numbers
    torch.manual_seed(2)
    for norm in ("l2", "none"):
        block = SpatialAttention(16, visual_dim=24, norm=norm, temperature=0.5).double()
        f_a_g, f_v_g = torch.randn(2, 3, 16, dtype=torch.float64), torch.randn(2, 3, 16, dtype=torch.float64)
        maps = torch.rand(2, 3, 13, 24, dtype=torch.float64)
        fast = _attention_grads(block, f_a_g, f_v_g, maps, torch.linalg.vector_norm(maps, dim=-1))
        plain = _attention_grads(block, f_a_g, f_v_g, maps.clone().requires_grad_())
        for a, b in zip(fast[:2], plain[:2]):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
        assert len(fast[2]) == len(plain[2]) == 2 + 4  # inputs, query projection and fc
        for a, b in zip(fast[2], plain[2]):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_a_gradient_for_the_maps_is_still_given_when_asked():
    # a learner's saliency map: d (attended vector) / d maps, through the plain path
    torch.manual_seed(3)
    maps = torch.rand(2, 5, 8, requires_grad=True)
    w = torch.softmax(torch.randn(2, 5), dim=-1)
    map_pooling(w, maps).sum().backward()
    torch.testing.assert_close(maps.grad, w[:, :, None].expand(2, 5, 8))


def test_bf16_autocast_keeps_the_dtypes_of_the_plain_path():
    torch.manual_seed(4)
    block = SpatialAttention(16, visual_dim=24, norm="l2", temperature=0.1)
    f_a_g, f_v_g = torch.randn(2, 3, 16), torch.randn(2, 3, 16)
    maps = torch.rand(2, 3, 13, 24).to(torch.bfloat16)  # as the CPU loader gives them in bf16
    results = []
    for ask_maps in (False, True):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            results.append(_attention_grads(block, f_a_g, f_v_g, maps.clone().requires_grad_(ask_maps)))
    (fast_out, fast_w, fast_grads), (plain_out, plain_w, plain_grads) = results
    assert fast_out.dtype == plain_out.dtype and fast_w.dtype == plain_w.dtype
    torch.testing.assert_close(fast_out, plain_out, rtol=2e-2, atol=2e-2)
    for a, b in zip(fast_grads, plain_grads):
        assert a.dtype == b.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=5e-2, atol=5e-2)
