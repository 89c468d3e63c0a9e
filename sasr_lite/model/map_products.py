"""The two products of spatial attention (3.4) with the maps X, in the layouts a CPU runs fastest.

Per segment row n (one video's segment t), X_n [P, C] is a fixed feature map: no gradient flows
into it. Spatial attention multiplies it twice, and autograd adds two more products in the
backward, so every training step reads each map four times:

    scores_n = X_n q_n            [P]   forward         grad q_n = X_n^T g_n      (g = d scores_n)
    f_n      = X_n^T w_n          [C]   forward         grad w_n = X_n  g'_n      (g' = d f_n)

On a CPU (MKL) the row-times-matrix-transposed layout that autograd picks for two of these,
``bmm(q [N, 1, C], X^T [N, C, P])``, ran about 1.7x slower than ``bmm(X [N, P, C], q [N, C, 1])``
with the vector as a transposed row, which reads the maps as fast as a plain sum does (lesson-size
maps, 2 threads). The two functions here compute the same products with a hand-written backward
that uses that layout for ``X_n q_n`` and ``X_n g'_n``. Same equations; only the order of the
additions inside a product can differ (last bits).

They are used on a CPU when the maps need no gradient; on a GPU, or when a learner asks for the
gradient with respect to the maps (a saliency map), spatial attention keeps plain ``torch.bmm``.
"""

from __future__ import annotations

import torch


def _column(v: torch.Tensor) -> torch.Tensor:
    """[N, K] -> [N, K, 1] as the transpose of a row ([N, 1, K] viewed as [N, K, 1]): the stride
    layout with which MKL's batched product of [N, P, K] by [N, K, 1] reads the maps at full speed
    (an ``unsqueeze(-1)`` column ran 4x slower)."""
    return v.unsqueeze(1).transpose(1, 2)


class MapScores(torch.autograd.Function):
    """scores [N, P] = X q, row by row: ``scores[n, p] = X[n, p] . q[n]`` (3.4's dot products)."""

    @staticmethod
    def forward(ctx, query: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        """query q [N, C], maps X [N, P, C] (no gradient) -> scores [N, P]."""
        ctx.save_for_backward(maps)
        ctx.query_dtype = query.dtype
        return torch.bmm(maps, _column(query)).squeeze(-1)

    @staticmethod
    def backward(ctx, grad_scores: torch.Tensor):
        """d scores [N, P] -> d q [N, C] = sum_p d scores[n, p] X[n, p]."""
        (maps,) = ctx.saved_tensors
        grad_query = torch.bmm(grad_scores.unsqueeze(1).to(maps.dtype), maps).squeeze(1)
        return grad_query.to(ctx.query_dtype), None


class MapPooling(torch.autograd.Function):
    """f [N, C] = X^T w, row by row: ``f[n] = sum_p w[n, p] X[n, p]`` (3.4's attended vector)."""

    @staticmethod
    def forward(ctx, weights: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        """weights w [N, P], maps X [N, P, C] (no gradient) -> f [N, C]."""
        ctx.save_for_backward(maps)
        ctx.weights_dtype = weights.dtype
        return torch.bmm(weights.unsqueeze(1).to(maps.dtype), maps).squeeze(1)

    @staticmethod
    def backward(ctx, grad_f: torch.Tensor):
        """d f [N, C] -> d w [N, P] = X d f, row by row."""
        (maps,) = ctx.saved_tensors
        grad_weights = torch.bmm(maps, _column(grad_f.to(maps.dtype))).squeeze(-1)
        return grad_weights.to(ctx.weights_dtype), None


def map_scores(query: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """query [N, C], maps [N, P, C] -> [N, P]: ``X_n q_n`` per row (`MapScores` on a CPU when the
    maps need no gradient, else ``torch.bmm``)."""
    if maps.device.type == "cpu" and not maps.requires_grad:
        return MapScores.apply(query, maps)
    return torch.bmm(query.unsqueeze(1), maps.transpose(1, 2)).squeeze(1)


def map_pooling(weights: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """weights [N, P], maps [N, P, C] -> [N, C]: ``X_n^T w_n`` per row (`MapPooling` on a CPU when
    the maps need no gradient, else ``torch.bmm``)."""
    if maps.device.type == "cpu" and not maps.requires_grad:
        return MapPooling.apply(weights, maps)
    return torch.bmm(weights.unsqueeze(1), maps).squeeze(1)
