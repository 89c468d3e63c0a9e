"""Section 3.4: audio-guided spatial attention over the P map positions, and the match head."""

from __future__ import annotations

import torch
from torch import nn

from sasr_lite.model.map_products import map_pooling, map_scores
from sasr_lite.model.shapes import check_float, check_shape

EPS = 1e-12  # the floor torch.nn.functional.normalize uses for zero vectors


class SpatialAttention(nn.Module):
    """Per segment t: weights over the P positions of X_t from the source-aware audio f_a,t^g.

    ``norm="l2"`` (AVST / official code) scores positions by cosine similarity, bounded to
    [-1, 1] and so nearly flat over 196 positions; ``norm="none"`` is the paper's raw dot
    product, which is very peaky. Scores are divided by ``temperature`` before the softmax.
    ``enabled=False`` (the SA ablation) gives exactly uniform weights 1/P.

    The maps are read as they are (no projection of [B, T, P, 512]); when D differs from the
    map channels the audio query is projected to the map channels instead, which is cheap.
    """

    def __init__(
        self, d_model: int, visual_dim: int, norm: str = "l2", temperature: float = 1.0, enabled: bool = True
    ) -> None:
        super().__init__()
        if norm not in ("l2", "none"):
            raise ValueError(f"norm must be 'l2' or 'none', got {norm!r}")
        self.norm, self.temperature, self.enabled = norm, temperature, enabled
        self.visual_dim = visual_dim
        self.query = nn.Identity() if d_model == visual_dim else nn.Linear(d_model, visual_dim)
        self.fc = nn.Linear(d_model + visual_dim, d_model)

    def forward(
        self, f_a_g: torch.Tensor, f_v_g: torch.Tensor, visual_maps: torch.Tensor, map_norm: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """f_a_g [B, T, D], f_v_g [B, T, D], visual_maps X [B, T, P, 512], map_norm |X_t,p| [B, T, P]
        or None -> f_v_sa [B, T, D], spatial_attn [B, T, P] (sums to 1 over P).

        ``map_norm`` (used by ``norm="l2"`` only) is the maps' norms as `BatchLoader` keeps them; None
        computes them here."""
        D = self.fc.out_features
        sizes: dict[str, int] = {}
        check_shape("f_a_g", f_a_g, ("B", "T", D), sizes)
        check_shape("f_v_g", f_v_g, ("B", "T", D), sizes)
        check_shape("visual_maps", visual_maps, ("B", "T", "P", self.visual_dim), sizes)
        check_float("visual_maps", visual_maps)
        if map_norm is not None:
            check_shape("map_norm", map_norm, ("B", "T", "P"), sizes)
        B, T, P, V = visual_maps.shape
        X = visual_maps.reshape(B * T, P, V)  # a view (no copy) of contiguous maps
        if self.enabled:
            query = self.query(f_a_g).reshape(B * T, V)
            # (3.4) score_p = X_t,p . f_a,t^g  (cosine when norm="l2")
            scores = map_scores(query, X)  # [B*T, P]
            if self.norm == "l2":
                # dividing the scores by the norms equals normalising both sides, without
                # writing a normalised copy of the maps
                if map_norm is None:
                    map_norm = torch.linalg.vector_norm(X, dim=-1)
                map_norm = map_norm.reshape(B * T, P).clamp_min(EPS)  # [B*T, P]
                query_norm = torch.linalg.vector_norm(query, dim=-1, keepdim=True).clamp_min(EPS)  # [B*T, 1]
                scores = scores / (map_norm * query_norm)
            # (3.4) w_t = softmax_P(score / temperature)
            spatial_attn = torch.softmax(scores / self.temperature, dim=-1)
        else:
            spatial_attn = X.new_full((B * T, P), 1.0 / P)
        # (3.4) f_v,t^attn = w_t X_t
        f_v_attn = map_pooling(spatial_attn, X).reshape(B, T, V)
        # (3.4) f_v,t^sa = FC(tanh([f_v,t^g; f_v,t^attn]))
        f_v_sa = self.fc(torch.tanh(torch.cat([f_v_g, f_v_attn], dim=-1)))
        return f_v_sa, spatial_attn.reshape(B, T, P)


class MatchHead(nn.Module):
    """MLP on [f_a,t^g; f_v,t^sa] -> 2 logits per segment: does this audio belong to this video?

    Widths halve as in AVST's head (2D -> D -> D/2 -> D/4 -> 2).
    """

    def __init__(self, d_model: int) -> None:
        super().__init__()
        half, quarter = max(d_model // 2, 1), max(d_model // 4, 1)
        self.mlp = nn.Sequential(
            nn.Linear(2 * d_model, d_model), nn.ReLU(),
            nn.Linear(d_model, half), nn.ReLU(),
            nn.Linear(half, quarter), nn.ReLU(),
            nn.Linear(quarter, 2),
        )

    def forward(self, f_a_g: torch.Tensor, f_v_sa: torch.Tensor) -> torch.Tensor:
        """f_a_g [B, T, D], f_v_sa [B, T, D] -> match logits [B, T, 2] (class 1 = matched)."""
        D = self.mlp[0].in_features // 2
        sizes: dict[str, int] = {}
        check_shape("f_a_g", f_a_g, ("B", "T", D), sizes)
        check_shape("f_v_sa", f_v_sa, ("B", "T", D), sizes)
        # (3.4) match logits = MLP([f_a,t^g; f_v,t^sa])
        return self.mlp(torch.cat([f_a_g, f_v_sa], dim=-1))
