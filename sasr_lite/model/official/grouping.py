"""GroupViT-style grouping (sasr_net/modules/grouping.py: ``AssignAttention``, ``GroupingBlock``).

A set of group tokens takes the input rows apart: every input row is assigned to the group
whose token it matches best, and each group becomes the mean of its rows. In the official
network this is how the source tokens G pick up the segments of their source (paper 3.3).
"""

from __future__ import annotations

import torch
from torch import nn

from sasr_lite.model.official.layers import CrossAttentionLayer, FeedForward

GROUP_MLP_RATIO = 0.5  # official GroupingBlock mlp_ratio[0]: width of the MLP that mixes the groups
CHANNEL_MLP_RATIO = 4  # official GroupingBlock mlp_ratio[1]: width of its per-group FFN (and attention FFN)


def assign(logits: torch.Tensor, hard: bool, gumbel: bool, training: bool) -> torch.Tensor:
    """logits [B, N, M] (N groups, M inputs) -> assignment [B, N, M], summing to 1 over the groups.

    ``hard`` gives each input to one group (a one-hot column) while the gradient flows through
    the softmax (straight-through); ``gumbel`` adds Gumbel noise while training, so the
    assignment explores (official ``hard_softmax`` / ``gumbel_softmax`` with tau = 1).
    """
    if gumbel and training:
        # sampled as the official code does, so a seeded run draws the same noise
        noise = torch.distributions.Gumbel(logits.new_zeros(()), logits.new_ones(())).sample(logits.shape)
        logits = logits + noise
    # softmax over the groups: each input row spreads one unit over the N groups
    soft = logits.softmax(dim=-2)
    if not hard:
        return soft
    one_hot = torch.zeros_like(soft).scatter_(-2, soft.max(dim=-2, keepdim=True).indices, 1.0)
    return one_hot - soft.detach() + soft


class AssignAttention(nn.Module):
    """One-head attention whose softmax runs over the groups, not the inputs (official ``AssignAttention``)."""

    def __init__(self, dim: int, hard: bool, gumbel: bool) -> None:
        super().__init__()
        self.hard, self.gumbel = hard, gumbel
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, groups: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """groups [B, N, D], x [B, M, D] -> out [B, N, D], weights [B, N, M] (what each group reads)."""
        D = groups.shape[-1]
        logits = (self.q_proj(groups) @ self.k_proj(x).transpose(1, 2)) * D**-0.5  # [B, N, M]
        assignment = assign(logits, self.hard, self.gumbel, self.training)
        # a group averages the rows given to it; the +1 (official assign_eps) keeps an empty group at 0
        weights = assignment / (assignment.sum(dim=-1, keepdim=True) + 1.0)
        return self.proj(weights @ self.v_proj(x)), weights


class GroupingBlock(nn.Module):
    """Group tokens read the input rows and become the groups (official ``GroupingBlock``).

    The tokens are first mixed across the token axis by an MLP (``num_groups_in`` ->
    ``num_groups_out``), then attend to the inputs (a post-norm cross-attention layer), then
    take their rows through the assignment, then pass a per-group FFN.
    """

    def __init__(
        self, dim: int, num_heads: int, num_groups_in: int, num_groups_out: int, hard: bool, gumbel: bool
    ) -> None:
        super().__init__()
        self.norm_tokens = nn.LayerNorm(dim)
        self.mlp_inter = FeedForward(num_groups_in, int(GROUP_MLP_RATIO * dim), num_groups_out)
        self.norm_post_tokens = nn.LayerNorm(dim)
        self.norm_x = nn.LayerNorm(dim)
        self.pre_assign_attn = CrossAttentionLayer(dim, num_heads, CHANNEL_MLP_RATIO, 0.0, post_norm=True)
        self.assign = AssignAttention(dim, hard, gumbel)
        self.norm_new_x = nn.LayerNorm(dim)
        self.mlp_channels = FeedForward(dim, CHANNEL_MLP_RATIO * dim)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, M, D] inputs, tokens [B, S, D] -> groups [B, S', D], weights [B, S', M]."""
        tokens, x = self.norm_tokens(tokens), self.norm_x(x)
        # mix the tokens along the token axis: [B, S, D] -> [B, S', D]
        groups = self.norm_post_tokens(self.mlp_inter(tokens.transpose(1, 2)).transpose(1, 2))
        groups, _ = self.pre_assign_attn(groups, x)
        read, weights = self.assign(groups, x)
        groups = groups + read
        return groups + self.mlp_channels(self.norm_new_x(groups)), weights
