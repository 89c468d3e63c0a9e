"""Notebook 04 (source-aware semantic representation): cross-attention and one SaSR branch."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import generator, randn, randomised
from sasr_lite.labs.predict import Predict
from sasr_lite.model import sasr

CROSS_ATTN_STUB = '''\
def cross_attn(a: torch.Tensor, b: torch.Tensor, w_q: torch.Tensor, b_q: torch.Tensor,
               w_k: torch.Tensor, b_k: torch.Tensor, w_v: torch.Tensor, b_v: torch.Tensor) -> torch.Tensor:
    """CrossAttn(a, b) = softmax(FC_q(a) FC_k(b)^T / sqrt(D)) FC_v(b) (3.3): each row of a reads b.

    a [B, N, D], b [B, M, D] -> [B, N, D]. Each FC is a linear map in nn.Linear's layout:
    FC_q(x) = x @ w_q.T + b_q with w_q [D, D], b_q [D]; the same for k and v.
    """
    raise NotImplementedError("exercise 04.cross_attn: write this function")
'''

CROSS_ATTN_SOLUTION = '''\
q, k, v = a @ w_q.T + b_q, b @ w_k.T + b_k, b @ w_v.T + b_v
return torch.softmax(q @ k.transpose(1, 2) / math.sqrt(a.shape[-1]), dim=-1) @ v
'''


def _linear(x: torch.Tensor, fc: torch.nn.Linear) -> torch.Tensor:
    return x @ fc.weight.T + fc.bias


def _weights_of(attn: sasr.CrossAttention) -> tuple[torch.Tensor, ...]:
    return tuple(p.detach().clone() for fc in (attn.fc_q, attn.fc_k, attn.fc_v) for p in (fc.weight, fc.bias))


def _cross_case(g: torch.Generator, B: int, N: int, M: int, D: int, label: str) -> Case:
    attn = randomised(sasr.CrossAttention(D), g)
    a, b = randn(g, B, N, D), randn(g, B, M, D)
    q, k, v = _linear(a, attn.fc_q), _linear(b, attn.fc_k), _linear(b, attn.fc_v)
    scores = q @ k.transpose(1, 2)
    w_q, _, w_k, _, w_v, _ = _weights_of(attn)
    untransposed = (torch.softmax((a @ w_q + attn.fc_q.bias) @ (b @ w_k + attn.fc_k.bias).transpose(1, 2)
                                  / math.sqrt(D), dim=-1) @ (b @ w_v + attn.fc_v.bias))
    return Case(
        label=f"a [{B}, {N}, {D}], b [{B}, {M}, {D}] ({label})",
        args=(a, b, *_weights_of(attn)),
        expected=attn(a, b)[0],
        mistakes={
            "you left out the 1/sqrt(D) scaling of the scores.": torch.softmax(scores, dim=-1) @ v,
            "your softmax runs over the wrong axis: each row of a reads from the M rows of b, so the "
            "softmax runs over the last axis (dim=-1).": torch.softmax(scores / math.sqrt(D), dim=1) @ v,
            "you multiplied by w, not w.T: nn.Linear computes x @ w.T + bias.": untransposed,
            "you used b itself as the values; they are FC_v(b).": torch.softmax(scores / math.sqrt(D), dim=-1) @ b,
        },
    )


@functools.cache
def _cross_cases(seed: int = 401) -> list[Case]:
    g = generator(seed)
    return [
        _cross_case(g, 2, 22, 10, 32, "C = 22 tokens read T = 10 segments"),
        _cross_case(g, 2, 10, 22, 8, "segments read tokens"),
        _cross_case(g, 1, 10, 196, 8, "T = 10 rows read P = 196 cells"),
    ]


SASR_BRANCH_STUB = '''\
def sasr_branch(f_s: torch.Tensor, tokens: torch.Tensor, params: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """One SaSR branch (3.3): f_s [B, T, D] segments, tokens G^m [B, C, D]
    -> (f_g [B, T, D], updated tokens G^m' [B, C, D]):

        G^m' = LayerNorm(G^m + FC_token(CrossAttn_token(G^m, f_s)))
        f_g  = FC_segment(CrossAttn_segment(f_s, G^m'))

    params holds the weights by SaSRBranch's state_dict names: "token_attn.fc_q.weight",
    "token_attn.fc_q.bias", ... (fc_k, fc_v), "token_fc.weight", "token_fc.bias",
    "token_norm.weight", "token_norm.bias" (LayerNorm over D, eps 1e-5), "segment_attn.fc_q.weight",
    ..., "segment_fc.weight", "segment_fc.bias". Your cross_attn from 04.cross_attn helps.
    """
    raise NotImplementedError("exercise 04.sasr_branch: write this function")
'''

SASR_BRANCH_SOLUTION = '''\
def attend(prefix, a, b):
    q = a @ params[f"{prefix}.fc_q.weight"].T + params[f"{prefix}.fc_q.bias"]
    k = b @ params[f"{prefix}.fc_k.weight"].T + params[f"{prefix}.fc_k.bias"]
    v = b @ params[f"{prefix}.fc_v.weight"].T + params[f"{prefix}.fc_v.bias"]
    return torch.softmax(q @ k.transpose(1, 2) / math.sqrt(a.shape[-1]), dim=-1) @ v

D = f_s.shape[-1]
read = attend("token_attn", tokens, f_s) @ params["token_fc.weight"].T + params["token_fc.bias"]
tokens_new = F.layer_norm(tokens + read, (D,), params["token_norm.weight"], params["token_norm.bias"])
f_g = attend("segment_attn", f_s, tokens_new) @ params["segment_fc.weight"].T + params["segment_fc.bias"]
return f_g, tokens_new
'''


def _branch_case(g: torch.Generator, B: int, T: int, C: int, D: int) -> Case:
    branch = randomised(sasr.SaSRBranch(D), g)
    f_s, tokens = randn(g, B, T, D), randn(g, B, C, D)
    params = {name: p.detach().clone() for name, p in branch.state_dict().items()}
    read = branch.token_fc(branch.token_attn(tokens, f_s)[0])
    new = branch.token_norm(tokens + read)

    def segments(g_m: torch.Tensor) -> torch.Tensor:
        return branch.segment_fc(branch.segment_attn(f_s, g_m)[0])

    def norm(x: torch.Tensor) -> torch.Tensor:
        return branch.token_norm(x)

    bare = F.layer_norm(tokens + read, (D,))  # without LayerNorm's learned scale and shift
    return Case(
        label=f"B={B}, T={T}, C={C}, D={D}",
        args=(f_s, tokens, params),
        expected=branch(f_s, tokens)[:2],
        mistakes={
            "you left out the residual: G^m' = LN(G^m + FC(CrossAttn(G^m, f_s))) keeps the old tokens.":
                (segments(norm(read)), norm(read)),
            "you left out the LayerNorm after the residual.": (segments(tokens + read), tokens + read),
            "your LayerNorm sits before the residual (G + LN(FC(...))); the kit normalises the sum.":
                (segments(tokens + norm(read)), tokens + norm(read)),
            "your LayerNorm ignores its weight and bias (token_norm.weight, token_norm.bias).":
                (segments(bare), bare),
            "your segments read the tokens before the update (G^m); they read the updated G^m'.":
                (segments(tokens), new),
        },
    )


@functools.cache
def _branch_cases(seed: int = 402) -> list[Case]:
    g = generator(seed)
    return [_branch_case(g, 2, 10, 22, 32), _branch_case(g, 1, 10, 22, 8), _branch_case(g, 3, 6, 4, 8)]


def _branch_parameters() -> float:
    return float(sum(p.numel() for p in sasr.SaSRBranch(512).parameters()))


def _branch_slips() -> dict[str, float]:
    D = 512
    total = _branch_parameters()
    return {
        "you left out the presence head Linear(512, 1) of L_source.": total - (D + 1),
        "you left out the LayerNorm's weight and bias (2 x 512).": total - 2 * D,
        "you counted no biases; every nn.Linear has one.": total - (6 * D + 2 * D + 1),
        "you counted one cross-attention; a branch has two (tokens read segments, segments read tokens).":
            total - 3 * (D * D + D),
    }


BRANCH_PARAMETERS_SOLUTION = '''\
D = 512
linear = D * D + D  # one D -> D layer with bias
return 2 * 3 * linear + 2 * linear + 2 * D + (D + 1)  # two CrossAttn, two FCs, LayerNorm, presence head
'''

EXERCISES = [
    Exercise(
        "04.cross_attn", "Write CrossAttn(a, b) with query/key/value projections from their weights.", 15,
        Implement(CROSS_ATTN_STUB, (Target(sasr.CrossAttention, "forward"),), _cross_cases, ("CrossAttn(a, b)",)),
        solution=CROSS_ATTN_SOLUTION,
    ),
    Exercise(
        "04.sasr_branch", "Write one SaSR branch: the token update with residual and LayerNorm, then the segment read.",
        20,
        Implement(SASR_BRANCH_STUB, (Target(sasr.SaSRBranch, "forward"), Target(sasr.SaSRBlock, "forward")),
                  _branch_cases, ("f_g", "tokens")),
        solution=SASR_BRANCH_SOLUTION,
    ),
    Exercise(
        "04.branch_parameters", "Predict the parameter count of SaSRBranch(d_model=512).", 10,
        Predict(_branch_parameters,
                why="Two cross-attentions of three Linear(512, 512) each (6 x 262,656), the token FC and the "
                    "segment FC (2 x 262,656), the LayerNorm (1,024) and the presence head Linear(512, 1) (513).",
                clue="List the branch's layers (two cross-attentions, two FCs, a LayerNorm, the presence head) and "
                     "count each nn.Linear(i, o) as i * o + o.",
                wrong=_branch_slips, rel_tol=0.0),
        solution=BRANCH_PARAMETERS_SOLUTION,
    ),
]
