"""Notebook 07 (answer head and losses): fusion and question gating, the weighted total loss."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from sasr_lite import losses
from sasr_lite.config import SaSRConfig
from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.experiment import NON_NEGATIVE, Experiment
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import generator, randn, randomised
from sasr_lite.labs.predict import Predict
from sasr_lite.model import answer
from sasr_lite.model.sasrnet import SaSROutput

FUSION_STUB = '''\
def answer_fusion(f_a_ta: torch.Tensor, f_a_g: torch.Tensor, f_v_ta: torch.Tensor, f_v_sa: torch.Tensor,
                  q: torch.Tensor, fusion_weight: torch.Tensor, fusion_bias: torch.Tensor,
                  classifier_weight: torch.Tensor, classifier_bias: torch.Tensor) -> torch.Tensor:
    """The answer head (3.6) -> answer logits [B, A]:

        audio  = f_a_ta + mean over T of f_a_g        visual = f_v_ta + mean over T of f_v_sa
        f_av   = FC_fusion(tanh([audio ; visual]))     logits = FC_classifier(tanh(f_av * q))

    f_a_ta, f_v_ta, q [B, D]; f_a_g, f_v_sa [B, T, D]; fusion_weight [D, 2D], classifier_weight
    [A, D], in nn.Linear's layout: FC(x) = x @ weight.T + bias.
    """
    raise NotImplementedError("exercise 07.answer_fusion: write this function")
'''

FUSION_SOLUTION = '''\
joint = torch.cat([f_a_ta + f_a_g.mean(1), f_v_ta + f_v_sa.mean(1)], dim=-1)
f_av = torch.tanh(joint) @ fusion_weight.T + fusion_bias
return torch.tanh(f_av * q) @ classifier_weight.T + classifier_bias
'''


def _fusion_case(g: torch.Generator, B: int, T: int, D: int, A: int) -> Case:
    head = randomised(answer.AnswerHead(D, A), g)
    f_a_ta, f_v_ta, q = randn(g, B, D), randn(g, B, D), randn(g, B, D)
    f_a_g, f_v_sa = randn(g, B, T, D), randn(g, B, T, D)

    def logits(audio, visual, gate=torch.mul, visual_first=False, tanh=True) -> torch.Tensor:
        f_av = head.fusion(torch.tanh(torch.cat([visual, audio] if visual_first else [audio, visual], dim=-1)))
        gated = gate(f_av, q)
        return head.classifier(torch.tanh(gated) if tanh else gated)

    audio, visual = f_a_ta + f_a_g.mean(1), f_v_ta + f_v_sa.mean(1)
    weights = (head.fusion.weight, head.fusion.bias, head.classifier.weight, head.classifier.bias)
    return Case(
        label=f"B={B}, T={T}, D={D}, A={A} answers",
        args=(f_a_ta, f_a_g, f_v_ta, f_v_sa, q, *(w.clone() for w in weights)),
        expected=head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q),
        mistakes={
            "you left out the shortcut: add the mean over T of f_a_g (and of f_v_sa) to the attended summaries.":
                logits(f_a_ta, f_v_ta),
            "you summed over T; the shortcut is the mean over T.":
                logits(f_a_ta + f_a_g.sum(1), f_v_ta + f_v_sa.sum(1)),
            "you concatenated [visual; audio]; the order is [audio; visual], as the fusion weights expect.":
                logits(audio, visual, visual_first=True),
            "the question gates f_av by multiplication (f_av * q), not addition.":
                logits(audio, visual, gate=torch.add),
            "you left out the tanh on f_av * q before the classifier.": logits(audio, visual, tanh=False),
        },
    )


@functools.cache
def _fusion_cases(seed: int = 701) -> list[Case]:
    g = generator(seed)
    # MUSIC-AVQA's 42 answers at T = 10; small heads
    return [_fusion_case(g, 2, 10, 32, 42), _fusion_case(g, 1, 10, 8, 12), _fusion_case(g, 3, 4, 8, 5)]


TOTAL_STUB = '''\
def total_loss(answer_logits: torch.Tensor, answer: torch.Tensor, presence_a: torch.Tensor,
               presence_v: torch.Tensor, sources: torch.Tensor, token_logits: torch.Tensor,
               match_logits: torch.Tensor, match_logits_neg: torch.Tensor,
               lambda_source: float = 0.5, lambda_reg: float = 0.5, lambda_match: float = 0.5) -> torch.Tensor:
    """L = L_avqa + lambda_source L_source + lambda_reg L_reg + lambda_match L_match (3.6), a scalar:

        L_avqa   = CE(answer_logits [B, A], answer [B]), a mean over the questions whose answer
                   is known (answer -1: not in the train vocabulary, left out)
        L_source = BCE-with-logits(presence_a [B, C], sources [B, C] multi-hot), a mean,
                   plus the same for presence_v
        L_reg    = CE(token_logits [C, C], [0, 1, ..., C - 1]): token i is class i
        L_match  = CE(match_logits [B, T, 2], 1) + CE(match_logits_neg [B, T, 2], 0)
    """
    raise NotImplementedError("exercise 07.total_loss: write this function")
'''

TOTAL_SOLUTION = '''\
def ce(logits, target):
    flat = logits.reshape(-1, 2)
    return F.cross_entropy(flat, torch.full((len(flat),), target))

known = answer != -1
avqa = F.cross_entropy(answer_logits[known], answer[known])
source = sum(F.binary_cross_entropy_with_logits(x, sources) for x in (presence_a, presence_v))
reg = F.cross_entropy(token_logits, torch.arange(len(token_logits)))
match = ce(match_logits, 1) + ce(match_logits_neg, 0)
return avqa + lambda_source * source + lambda_reg * reg + lambda_match * match
'''


def _total_case(g: torch.Generator, B: int, A: int, C: int, T: int, unknown: bool,
                lambdas: tuple[float, float, float]) -> Case:
    answers = torch.randint(0, A, (B,), generator=g)
    if unknown:
        answers[1] = losses.UNKNOWN_ANSWER
    out = SaSROutput(
        answer_logits=randn(g, B, A), match_logits=randn(g, B, T, 2), match_logits_neg=randn(g, B, T, 2),
        presence_a=randn(g, B, C), presence_v=randn(g, B, C), token_logits=randn(g, C, C),
        spatial_attn=torch.full((B, T, 1), 1.0), temporal_attn_a=torch.full((B, T), 1 / T),
        temporal_attn_v=torch.full((B, T), 1 / T),
    )
    sources = (torch.rand(B, C, generator=g) < 0.3).float()
    ls, lr, lm = lambdas
    config = SaSRConfig.tiny(lambda_source=ls, lambda_reg=lr, lambda_match=lm)
    parts = losses.sasr_losses(out, answers, sources, config)
    avqa, source, reg, match = (parts[k] for k in ("avqa", "source", "reg", "match"))
    bce_a = F.binary_cross_entropy_with_logits(out.presence_a, sources)
    bce_v = F.binary_cross_entropy_with_logits(out.presence_v, sources)

    def total(source=source, reg=reg, match=match, weights=lambdas) -> torch.Tensor:
        return avqa + weights[0] * source + weights[1] * reg + weights[2] * match

    label = f"B={B}, A={A}, C={C}, T={T}" + (", answer[1] = -1 (unknown)" if unknown else "")
    label += f", lambdas {ls:g}/{lr:g}/{lm:g}"
    return Case(
        label=label,
        args=(out.answer_logits, answers, out.presence_a, out.presence_v, sources, out.token_logits,
              out.match_logits, out.match_logits_neg, ls, lr, lm),
        expected=parts["total"],
        mistakes={
            "you added the four losses without their weights; L = L_avqa + lambda_source L_source + "
            "lambda_reg L_reg + lambda_match L_match.": total(weights=(1.0, 1.0, 1.0)),
            "you used 0.5 for every weight; use the lambda arguments.": total(weights=(0.5, 0.5, 0.5)),
            "you averaged the two modalities' BCE; L_source is their sum.": total(source=(bce_a + bce_v) / 2),
            "you halved L_match (the official script's single CE over both sets); this kit sums the matched "
            "and mismatched cross-entropies.": total(match=match / 2),
            "you left out L_reg, the token classifier's cross-entropy.": total(reg=torch.zeros(())),
        },
    )


@functools.cache
def _total_cases(seed: int = 702) -> list[Case]:
    g = generator(seed)
    return [
        _total_case(g, 4, 42, 22, 10, unknown=True, lambdas=(0.5, 0.5, 0.5)),
        _total_case(g, 2, 12, 22, 10, unknown=False, lambdas=(0.3, 0.7, 1.1)),
        _total_case(g, 3, 5, 4, 6, unknown=True, lambdas=(1.0, 0.25, 2.0)),
    ]


def _answer_chance() -> float:
    A = 42  # MUSIC-AVQA's answer head, built from the train split
    return F.cross_entropy(torch.zeros(1, A), torch.zeros(1, dtype=torch.long)).item()


LOSS_WEIGHTS_SOLUTION = '''\
from sasr_lite.data.loading import load_data
from sasr_lite.notebook_utils import ablation_run, notebook_data, run_accuracies

data = load_data(notebook_data(SIZES), splits=("train", "val", "test"))
runs = [ablation_run(SIZES, data, "full model", 0), ablation_run(SIZES, data, "lambda_match 0", 0, {"lambda_match": 0.0})]
before, after = run_accuracies(runs, data)  # each also recorded in its run folder, the evidence below
return dict(setting="lambda_match", value=0.0, before=before, after=after, explanation=(
    f"Without L_match, seed 0 went from {before:.1f}% to {after:.1f}% overall. L_match is the only signal "
    "that teaches the spatial attention where the sound comes from, so questions about location and "
    "sounding instruments should suffer most; the answer loss alone can still fit the question statistics. "
    "With one seed, a difference of a point or two is within the seed spread."),
    baseline=str(runs[0].run_dir), run=str(runs[1].run_dir))
'''

EXERCISES = [
    Exercise(
        "07.answer_fusion", "Write the answer head: shortcut, fusion, question gating, classifier.", 15,
        Implement(FUSION_STUB, (Target(answer.AnswerHead, "forward"),), _fusion_cases, ("logits",)),
        solution=FUSION_SOLUTION,
    ),
    Exercise(
        "07.total_loss", "Write the weighted total loss from the model's outputs (unknown answers left out).", 20,
        Implement(TOTAL_STUB, (Target(losses, "sasr_losses"),), _total_cases, ("L",)),
        solution=TOTAL_SOLUTION,
    ),
    Exercise(
        "07.answer_loss_chance", "Predict L_avqa at initialisation for MUSIC-AVQA's 42-answer head (uniform guess).", 5,
        Predict(_answer_chance,
                why="A uniform guess gives the right answer probability 1/42, so the cross-entropy is ln 42 = "
                    "3.74; it is the largest term of L at the start, next to 0.5 x 2 ln 2 for L_match.",
                clue="A model that cannot yet tell answers apart spreads its probability evenly over the "
                     "A = 42 answers; the cross-entropy is minus the log of the right answer's probability.",
                wrong=lambda: {"that is ln 41: MUSIC-AVQA's val and test use 41 answers, but the head has the 42 "
                               "train answers.": math.log(41),
                               "that is ln 2; the head chooses among 42 answers.": math.log(2),
                               "you used log10; cross-entropy uses the natural log.": math.log10(42)},
                abs_tol=0.01, rel_tol=0.0),
        solution="return math.log(42)  # a uniform guess over 42 answers",
    ),
    Exercise(
        "07.loss_weights", "Experiment: change one auxiliary loss weight at lesson scale and explain the change.", 40,
        Experiment({"lambda_source": NON_NEGATIVE, "lambda_reg": NON_NEGATIVE, "lambda_match": NON_NEGATIVE},
                   measure="test accuracy (%)",
                   mention="which representation the term shapes (L_source: tokens that name the instruments "
                           "present; L_reg: tokens that stay distinct; L_match: audio that finds its own video's "
                           "cells); that a weight of 0 removes that signal; how the loss curves of notebook 08 "
                           "change, not only the accuracy; and that one seed at lesson scale moves by a point or "
                           "two, so compare with the seed spread before calling it an effect."),
        solution=LOSS_WEIGHTS_SOLUTION,
    ),
]
