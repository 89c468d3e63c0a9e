"""Notebook 03 (source-wise learnable tokens): the parameter-free S(f), the token block, L_reg."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from sasr_lite.config import SaSRConfig
from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import generator, randn, randomised
from sasr_lite.labs.predict import Predict
from sasr_lite.model import slt

NOTEBOOK_D = SaSRConfig.tiny().d_model  # the D notebook 03's derivation cells use (a global a copied body may keep)

SELF_ATTENTION_STUB = '''\
def self_attention(f: torch.Tensor) -> torch.Tensor:
    """S(f) = softmax(f f^T / sqrt(D)) f, the parameter-free self-attention of SLT (3.2).

    f [..., N, D] -> [..., N, D]: row i of the N x N weights says how much element i reads
    from every element, so each row sums to 1.
    """
    raise NotImplementedError("exercise 03.self_attention: write this function")
'''

SELF_ATTENTION_SOLUTION = '''\
return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(f.shape[-1]), dim=-1) @ f
'''


def _self_attention_case(g: torch.Generator, shape: tuple[int, ...], label: str) -> Case:
    f = randn(g, *shape)
    D = shape[-1]
    scores = f @ f.transpose(-2, -1)
    weights = torch.softmax(scores / math.sqrt(D), dim=-1)
    return Case(
        label=f"f {list(shape)} ({label})",
        args=(f,),
        expected=slt.self_attention(f),
        mistakes={
            "your softmax runs over the wrong axis: each row of the N x N weights must sum to 1, so the softmax "
            "runs over the last axis (dim=-1).": torch.softmax(scores / math.sqrt(D), dim=-2) @ f,
            "you left out the 1/sqrt(D) scaling of the scores (without it, large D makes the softmax "
            "nearly one-hot).": torch.softmax(scores, dim=-1) @ f,
            "you divided the scores by D; the scale is 1/sqrt(D).": torch.softmax(scores / D, dim=-1) @ f,
            "you returned the weights [..., N, N]; S(f) is the weights times f, [..., N, D].": weights,
            "you added a residual (f + S(f)); S has none.": f + weights @ f,
            f"you scaled by the notebook's global D = {NOTEBOOK_D}, not this input's width: take D from "
            "f.shape[-1], so the function works for any D.": torch.softmax(scores / math.sqrt(NOTEBOOK_D), dim=-1) @ f,
        },
    )


@functools.cache
def _self_attention_cases(seed: int = 301) -> list[Case]:
    g = generator(seed)
    return [
        _self_attention_case(g, (2, 10, 32), "T = 10 segments, D = 32"),
        _self_attention_case(g, (3, 32, 8), "T + C = 10 + 22, D = 8"),
        _self_attention_case(g, (1, 196, 8), "P = 196 map cells, D = 8"),
        _self_attention_case(g, (10, 8), "no batch axis"),
    ]


TOKEN_BLOCK_STUB = '''\
def token_block(f_r: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SLT (3.2): [f^s; G^m] = S([f^r; G]) for one modality.

    f_r [B, T, D] segments, tokens G [C, D] -> (f_s [B, T, D], tokens G^m [B, C, D]): append the
    tokens after each video's segments (one [B, T + C, D] sequence; every video gets its own
    copy of G), apply S (your self_attention), split the result back into segments and tokens.
    """
    raise NotImplementedError("exercise 03.token_block: write this function")
'''

TOKEN_BLOCK_SOLUTION = '''\
B, T, D = f_r.shape
joint = torch.cat([f_r, tokens.expand(B, -1, -1)], dim=1)  # [B, T + C, D]
out = torch.softmax(joint @ joint.transpose(1, 2) / math.sqrt(D), dim=-1) @ joint
return out[:, :T], out[:, T:]
'''


def _token_case(g: torch.Generator, B: int, T: int, C: int, D: int) -> Case:
    block = randomised(slt.SourceTokens(C, D), g)
    f_r, tokens = randn(g, B, T, D), block.tokens.detach().clone()
    G = tokens.expand(B, C, D)
    f_s, G_m, _ = block(f_r)
    swapped = slt.self_attention(torch.cat([G, f_r], dim=1))  # tokens first, split as segments first
    return Case(
        label=f"B={B}, T={T}, C={C}, D={D}",
        args=(f_r, tokens),
        expected=(f_s, G_m),
        mistakes={
            "you attended over the segments and over the tokens separately; SLT attends over the joint "
            "[f^r; G] sequence of T + C vectors, so tokens read segments and segments read tokens.":
                (slt.self_attention(f_r), slt.self_attention(G)),
            "you put the tokens first but split as if the segments came first; split in the order you "
            "concatenated.": tuple(swapped.split([T, C], dim=1)),
            "you returned the inputs unchanged; that is the no-SLT ablation (f^s = f^r, G^m = G).": (f_r, G),
        },
    )


@functools.cache
def _token_cases(seed: int = 302) -> list[Case]:
    g = generator(seed)
    return [_token_case(g, 2, 10, 22, 32), _token_case(g, 1, 10, 22, 8), _token_case(g, 3, 4, 5, 8)]


def _token_parameters() -> float:
    return float(sum(p.numel() for p in slt.SourceTokens(22, 512).parameters()))


def _reg_chance() -> float:
    C = 22
    return F.cross_entropy(torch.zeros(C, C), torch.arange(C)).item()  # equal logits: a uniform guess


TOKEN_PARAMETERS_SOLUTION = '''\
C, D = 22, 512
return C * D + (D * C + C)  # the tokens G, and the L_reg classifier FC (weights + bias)
'''

EXERCISES = [
    Exercise(
        "03.self_attention", "Write the parameter-free self-attention S(f) = softmax(f f^T / sqrt(D)) f.", 10,
        Implement(SELF_ATTENTION_STUB, (Target(slt, "self_attention"),), _self_attention_cases, ("S(f)",)),
        solution=SELF_ATTENTION_SOLUTION,
    ),
    Exercise(
        "03.token_block", "Write the SLT step: concatenate segments and tokens, attend, split.", 15,
        Implement(TOKEN_BLOCK_STUB, (Target(slt.SourceTokens, "forward"),), _token_cases, ("f_s", "tokens")),
        solution=TOKEN_BLOCK_SOLUTION,
    ),
    Exercise(
        "03.token_parameters", "Predict the parameter count of SourceTokens(num_tokens=22, d_model=512).", 5,
        Predict(_token_parameters,
                why="The tokens G are 22 x 512 = 11,264 numbers and the L_reg classifier is a Linear(512, 22): "
                    "11,264 weights + 22 biases. S itself has no parameters at all.",
                clue="Count the tokens G [C, D] and the L_reg classifier, a Linear(D, C) with its bias; S has "
                     "no weights.",
                wrong=lambda: {"you counted the tokens only; the L_reg classifier Linear(512, 22) is part of "
                               "the block.": 22 * 512,
                               "you left out the classifier's 22 biases.": 2 * 22 * 512,
                               "you gave S weights (query, key, value); S is parameter-free.":
                                   _token_parameters() + 3 * (512 * 512 + 512)},
                rel_tol=0.0),
        solution=TOKEN_PARAMETERS_SOLUTION,
    ),
    Exercise(
        "03.reg_loss_chance", "Predict L_reg of a token classifier that cannot tell the 22 tokens apart.", 5,
        Predict(_reg_chance,
                why="A classifier that gives every class the same logit puts probability 1/C on the right "
                    "class, so the cross-entropy is -ln(1/C) = ln 22 = 3.09; notebook 03's L_reg starts near it.",
                clue="Equal logits mean a uniform guess over the C = 22 classes; the cross-entropy is minus the "
                     "log of the probability given to the right class.",
                wrong=lambda: {"that is ln 2, a 2-way guess; the token classifier chooses among C = 22 "
                               "classes.": math.log(2),
                               "that is the probability 1/C; the loss is its negative log.": 1 / 22,
                               "you used log10; cross-entropy uses the natural log.": math.log10(22)},
                abs_tol=0.01, rel_tol=0.0),
        solution="return math.log(22)  # cross-entropy of a uniform guess over 22 classes",
    ),
]
