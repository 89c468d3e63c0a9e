# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · The answer head and the four losses
#
# **Paper §3.6.** The last block turns the two temporal summaries into an answer.
#
# 1. *Shortcut:* add to each summary the plain time average of the features it came from,
#    modality by modality ($f^{ta}_A + \overline{f^g_A}$, $f^{ta}_V + \overline{f^{sa}_V}$), so
#    the global content survives even when the temporal attention is sharp, and gradients have a
#    short path.
# 2. *Fusion:* concatenate the two, squash with $\tanh$, project back to $D$: $f_{av}$.
# 3. *Question gating:* multiply $f_{av}$ element-wise by the question vector $q$ and classify:
#    $\hat y = \mathrm{FC}(\tanh(f_{av} \odot q))$ over the answer vocabulary (built from the train
#    split: 42 answers in MUSIC-AVQA).
#
# **The objective** (end of §3.6) adds three auxiliary losses to the answer cross-entropy, each with
# weight $\lambda = 0.5$ (§4.1):
#
# $$L = L_{avqa} + \lambda_1 L_{source} + \lambda_2 L_{reg} + \lambda_3 L_{match}$$
#
# | loss | from | target | notebook |
# |---|---|---|---|
# | $L_{avqa}$ | answer logits `[B, A]` | answer index | this one |
# | $L_{source}$ | presence logits `[B, C]` ×2 | weak multi-hot instrument labels | 04 |
# | $L_{reg}$ | token logits `[C, C]` | token $i$ is class $i$ | 03 |
# | $L_{match}$ | match logits `[B, T, 2]` ×2 | 1 for the true video, 0 for another video's maps | 05 |

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import dataclasses

import torch

from sasr_lite import SaSRConfig
from sasr_lite.device import pick_device
from sasr_lite.model import AnswerHead
from sasr_lite.notebook_utils import cmp, sizes

SIZES = sizes(SCALE)  # every size this notebook picks at this scale
DEVICE = pick_device()
torch.manual_seed(0)
config = SaSRConfig.tiny()  # the equation checks use small random tensors at every scale
B, T, D, A = 4, 10, config.d_model, config.num_answers
print("scale:", SIZES.scale, "| device:", DEVICE)

# %% [markdown]
# ## The answer head, checked by what it must do
# Exercise `07.answer_fusion` asks you to write the head; here the package's `AnswerHead` is held
# to two consequences of the three steps above:
#
# * the shortcut only ever uses the *sum* $f^{ta}_A + \overline{f^g_A}$, so handing the head the
#   time average as the summary and the summary as every segment's features changes nothing;
# * the gate multiplies by $q$: with $q = 0$, $\tanh(0) = 0$ reaches the classifier, and every
#   video gets the classifier's bias as its logits, whatever it saw or heard.

# %%
# NBVAL_CHECK_OUTPUT
head = AnswerHead(D, A).to(DEVICE).eval()
f_a_ta, f_v_ta, q = (torch.randn(B, D, device=DEVICE) for _ in range(3))
f_a_g, f_v_sa = torch.randn(B, T, D, device=DEVICE), torch.randn(B, T, D, device=DEVICE)
logits = head(f_a_ta, f_a_g, f_v_ta, f_v_sa, q)
print("answer logits:", list(logits.shape))

swapped = head(f_a_g.mean(1), f_a_ta[:, None].expand(B, T, D), f_v_sa.mean(1), f_v_ta[:, None].expand(B, T, D), q)
cmp("summary and time average swapped", logits, swapped)
cmp("q = 0: the classifier's bias", head.classifier.bias.expand(B, A),
    head(f_a_ta, f_a_g, f_v_ta, f_v_sa, torch.zeros_like(q)))

# %% [markdown]
# ## The four losses on one forward pass
# A tiny model on random inputs of the real shapes ($T = 10$ segments, $P = 196 = 14 \times 14$
# map positions, $L = 14$ words), with a second set of maps from "another video" for $L_{match}$.
# `sasr_lite.losses.sasr_losses` computes the four terms (exercise `07.total_loss` asks you to
# write them); below, the total is checked against the objective's weighted sum, and the rule that
# unknown answers (index -1: an answer never seen in train) are left out of $L_{avqa}$: whatever
# the model says for such a question, $L_{avqa}$ does not move.

# %%
from sasr_lite.losses import sasr_losses
from sasr_lite.model import build_model

P, L = 196, 14
model = build_model(config).to(DEVICE)
batch = dict(
    audio=torch.randn(B, T, config.audio_dim, device=DEVICE),
    visual=torch.rand(B, T, config.visual_dim, device=DEVICE),
    visual_maps=torch.rand(B, T, P, config.visual_dim, device=DEVICE),
    question=torch.randint(2, config.question_vocab_size, (B, L), device=DEVICE),
    visual_maps_neg=torch.rand(B, T, P, config.visual_dim, device=DEVICE),
)
answer = torch.tensor([3, 0, -1, 7], device=DEVICE)  # the third answer is unknown
sources = (torch.rand(B, config.num_tokens, device=DEVICE) < 0.1).float()
out = model(**batch)
losses = sasr_losses(out, answer, sources, config)

# %%
# NBVAL_CHECK_OUTPUT
weighted = losses["avqa"] + sum(getattr(config, f"lambda_{n}") * losses[n] for n in ("source", "reg", "match"))
cmp("L = L_avqa + sum of lambda * aux", weighted, losses["total"])

unknown = answer == -1
shouted = out.answer_logits.masked_fill(unknown[:, None], 100.0)  # the unknown question: any answer, loudly
losses_shouted = sasr_losses(dataclasses.replace(out, answer_logits=shouted), answer, sources, config)
cmp("L_avqa ignores the unknown answer", losses["avqa"], losses_shouted["avqa"])

# %% [markdown]
# How big is each term at initialisation? The answer head makes a near-uniform guess over the $A$
# answers (what that costs is exercise `07.answer_loss_chance`), and the token classifier cannot
# yet tell the $C$ tokens apart (notebook 03's `03.reg_loss_chance`). $L_{match}$ is two cross-entropies of a 2-way guess, so
# $\approx 2 \ln 2 = 1.386$ (notebook 08 shows it sitting there until the match head learns).
# $L_{source}$ is two binary cross-entropies, one per modality, each averaged over the $C$ presence
# logits: with logits near 0 each is near $\ln 2$, so the sum starts near $2 \ln 2$, a little above
# it because the random logits are not exactly 0. Whether the weighted auxiliary terms outweigh
# the answer loss depends on $A$: the cell prints both sides for this model.

# %%
import math

aux = sum(getattr(config, f"lambda_{n}") * losses[n].item() for n in ("source", "reg", "match"))
print(f"L_avqa {losses['avqa'].item():.3f} | L_reg {losses['reg'].item():.3f} | L_match {losses['match'].item():.3f} | "
      f"L_source {losses['source'].item():.3f} (2 ln 2 = {2 * math.log(2):.3f})")
# MUSIC-AVQA's 42-answer head is left out: its starting L_avqa is exercise 07.answer_loss_chance
print(f"weighted auxiliary terms {aux:.3f} vs L_avqa {losses['avqa'].item():.3f} with A = {A} answers")

# %%
import matplotlib.pyplot as plt

weights = dict(avqa=1.0, source=config.lambda_source, reg=config.lambda_reg, match=config.lambda_match)
names = list(weights)
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.barh(names, [weights[n] * losses[n].item() for n in names], color="tab:blue")
ax.set_xlabel("contribution to L at initialisation (weight × loss)")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# ## Paper vs kit
# Where the kit's computation departs from the paper's equations for this block (§3.6):
#
# * **The visual shortcut uses $f^{sa}_V$.** The paper adds the time-mean of $f^g_V$ to the
#   visual summary; the kit adds the time-mean of $f^{sa}_V$, the vectors the temporal attention
#   itself reads, so the shortcut and the attended summary live in the same space (as in AVST).
# * **Dropout before the classifier** (`SaSRConfig.dropout`, 0.1): not in the paper's equation.
# * **Loss weights.** As the paper: $\lambda = 0.5$ for all three auxiliary losses. $L_{match}$ is
#   the sum of the positive and negative cross-entropies, as written in notebook 05.


# %% [markdown]
# ## Exercises
# Each exercise has an id, a kind and an estimate of the minutes it takes. *Implement*: write the
# function's body; *predict*: work the number out before you run anything, then return it;
# *experiment*: change one setting, measure, and explain what changed. `check(id, answer)` grades an
# answer, prints PASS or FAIL with a hint, and never stops the notebook; `sasr_lite.labs.exercises()`
# lists them all.

# %% [markdown] tags=["instructor"]
# *For the instructor* (this cell is left out of the student copies): the solutions sit between
# nbgrader-style solution markers; `make student` writes copies of the notebooks
# without them, and `sasr-lite grade` grades collected copies (README's "Course labs",
# docs/instructor.md).


# %%
import math

import numpy as np
import torch
import torch.nn.functional as F

from sasr_lite.labs import check


# %% [markdown]
# ### Exercise `07.answer_fusion` · implement · 15 min
# Write the answer head: shortcut, fusion, question gating, classifier.


# %%
def answer_fusion(f_a_ta: torch.Tensor, f_a_g: torch.Tensor, f_v_ta: torch.Tensor, f_v_sa: torch.Tensor,
                  q: torch.Tensor, fusion_weight: torch.Tensor, fusion_bias: torch.Tensor,
                  classifier_weight: torch.Tensor, classifier_bias: torch.Tensor) -> torch.Tensor:
    """The answer head (3.6) -> answer logits [B, A]:

        audio  = f_a_ta + mean over T of f_a_g        visual = f_v_ta + mean over T of f_v_sa
        f_av   = FC_fusion(tanh([audio ; visual]))     logits = FC_classifier(tanh(f_av * q))

    f_a_ta, f_v_ta, q [B, D]; f_a_g, f_v_sa [B, T, D]; fusion_weight [D, 2D], classifier_weight
    [A, D], in nn.Linear's layout: FC(x) = x @ weight.T + bias.
    """
    ### BEGIN SOLUTION
    joint = torch.cat([f_a_ta + f_a_g.mean(1), f_v_ta + f_v_sa.mean(1)], dim=-1)
    f_av = torch.tanh(joint) @ fusion_weight.T + fusion_bias
    return torch.tanh(f_av * q) @ classifier_weight.T + classifier_bias
    ### END SOLUTION


check("07.answer_fusion", answer_fusion)


# %% [markdown]
# ### Exercise `07.total_loss` · implement · 20 min
# Write the weighted total loss from the model's outputs (unknown answers left out).


# %%
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
    ### BEGIN SOLUTION
    def ce(logits, target):
        flat = logits.reshape(-1, 2)
        return F.cross_entropy(flat, torch.full((len(flat),), target))

    known = answer != -1
    avqa = F.cross_entropy(answer_logits[known], answer[known])
    source = sum(F.binary_cross_entropy_with_logits(x, sources) for x in (presence_a, presence_v))
    reg = F.cross_entropy(token_logits, torch.arange(len(token_logits)))
    match = ce(match_logits, 1) + ce(match_logits_neg, 0)
    return avqa + lambda_source * source + lambda_reg * reg + lambda_match * match
    ### END SOLUTION


check("07.total_loss", total_loss)


# %% [markdown]
# ### Exercise `07.answer_loss_chance` · predict · 5 min
# Predict L_avqa at initialisation for MUSIC-AVQA's 42-answer head (uniform guess).


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    return math.log(42)  # a uniform guess over 42 answers
    ### END SOLUTION


check("07.answer_loss_chance", answer)


# %% [markdown]
# ### Exercise `07.loss_weights` · experiment · 40 min
# Experiment: change one auxiliary loss weight at lesson scale and explain the change.


# %%
def answer():
    """Your measurement, as a dict."""
    ### BEGIN SOLUTION
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
    ### END SOLUTION


check("07.loss_weights", answer)
