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
# # 06 · Question-guided temporal attention
#
# **Paper §3.5.** A question is usually about a moment, not the whole clip: "which instrument
# comes in *first*?", "is the violin *always* playing?". Temporal attention lets the question
# vector $q$ score the $T$ segments and summarise each modality by the segments it cares about:
#
# $$f^{ta}_A = \operatorname{softmax}\!\left(\frac{q\, (F^g_A)^\top}{\sqrt{D}}\right) F^g_A, \qquad
#   f^{ta}_V = \operatorname{softmax}\!\left(\frac{q\, (F^{sa}_V)^\top}{\sqrt{D}}\right) F^{sa}_V$$
#
# Audio is summarised from its source-aware features $f^g_a$ (§3.3), vision from the spatially
# attended $f^{sa}_v$ (§3.4). As in the paper's equation the block has no weights; the official
# code uses two 4-head `nn.MultiheadAttention` layers here instead (docs/design.md §4.2).
#
# | name | shape |
# |---|---|
# | `q` | `[B, D]` |
# | `f_a_g`, `f_v_sa` | `[B, T, D]` |
# | `f_a_ta`, `f_v_ta` | `[B, D]` |
# | `temporal_attn_a`, `temporal_attn_v` | `[B, T]` (each row sums to 1) |

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch

from sasr_lite import SaSRConfig
from sasr_lite.device import pick_device
from sasr_lite.model import TemporalAttention
from sasr_lite.notebook_utils import cmp, sizes

SIZES = sizes(SCALE)  # every size this notebook picks at this scale
DEVICE = pick_device()
torch.manual_seed(0)
config = SaSRConfig.tiny()  # the equation checks use small random tensors at every scale
B, T, D = 2, 10, config.d_model
print("scale:", SIZES.scale, "| device:", DEVICE)

# %% [markdown]
# ## A case worked by hand
# Exercise `06.temporal_attention` asks you to write the block; here the package's
# `TemporalAttention` must reproduce a case small enough to work on paper. Take $D = 4$, one question
# $q = (2, 0, 0, 0)$ and $T = 2$ segments, $F = \big((1, 0, 0, 0),\ (0, 0, 0, 0)\big)$. The scores are
# $q \cdot F_t / \sqrt{4} = (1, 0)$, the weights $\big(e / (e + 1),\ 1 / (e + 1)\big) = (0.731, 0.269)$,
# and the summary $f^{ta} = 0.731 \cdot (1, 0, 0, 0) + 0.269 \cdot 0 = (0.731, 0, 0, 0)$.

# %%
# NBVAL_CHECK_OUTPUT
q_hand = torch.tensor([[2.0, 0.0, 0.0, 0.0]])  # [B = 1, D = 4]
F_hand = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])  # [B = 1, T = 2, D = 4]
f_ta_hand, w_hand = TemporalAttention()(q_hand, F_hand)
cmp("weights, by hand", torch.tensor([[0.731, 0.269]]), w_hand, atol=1e-3)
cmp("f_ta, by hand", torch.tensor([[0.731, 0.0, 0.0, 0.0]]), f_ta_hand, atol=1e-3)

q, f_a_g = torch.randn(B, D, device=DEVICE), torch.randn(B, T, D, device=DEVICE)
f_a_ta, w = TemporalAttention()(q, f_a_g)
print("f_a_ta:", list(f_a_ta.shape), "| weights:", list(w.shape),
      "| each question's weights sum to 1:", torch.allclose(w.sum(-1), torch.ones(B, device=DEVICE)))

# %% [markdown]
# ## The TA ablation ignores the question
# Switching the block off (`use_temporal=False`, paper Table 3) gives fixed weights: every question
# reads the segments the same way, so the question can no longer pick a moment. (Which weights,
# exactly, is exercise `06.ablated_weights`.)

# %%
# NBVAL_CHECK_OUTPUT
ablated = TemporalAttention(enabled=False)
off_f_ta, off_w = ablated(q, f_a_g)
other_f_ta, other_w = ablated(torch.randn(B, D, device=DEVICE), f_a_g)  # other questions, same videos
print("another question, the same weights:", torch.equal(off_w, other_w))
cmp("another question, the same f_ta", off_f_ta, other_f_ta)

# %% [markdown]
# ## Against the ground truth
# The synthetic scenes say which segments each question is about (`question_segments`: where the
# named instruments sound, where they come in for "first"/"before" questions, every segment for
# whole-video questions). Three test questions about *part* of the clip, through the lesson model
# (trained by notebook 08, or here if it has not run): green bands are the asked-about segments,
# bars the audio and visual weights, the dashed line uniform $1/T$. Notebook 09 measures the same
# thing over the whole test split ("temporal mass").

# %%
from sasr_lite.notebook_utils import lesson_model, synthetic_benchmark
from sasr_lite.probe import Probe
from sasr_lite.synth.ground_truth import question_segments
from sasr_lite.data.loading import load_data

data = load_data(synthetic_benchmark(SIZES.synth_size), splits=("train", "val", "test"))
model, _ = lesson_model(SIZES, data)  # trained by notebook 08 (or now, if it has not run)
probe = Probe(model, data, "test")

partial = []
for video_id, questions in probe.questions.items():
    for record in questions:
        asked = question_segments(probe.scenes[video_id], record, probe.segments)
        if asked.any() and not asked.all():
            partial.append((video_id, record))

fig, axes = plt.subplots(1, 3, figsize=(15, 3), sharey=True)
for ax, (video_id, record) in zip(axes, partial[:3]):
    r = probe.ask(video_id, record)
    for s in np.flatnonzero(r.asked):
        ax.axvspan(s - 0.5, s + 0.5, color="tab:green", alpha=0.15, lw=0)
    ax.bar(np.arange(T) - 0.2, r.temporal_a, 0.4, label="audio")
    ax.bar(np.arange(T) + 0.2, r.temporal_v, 0.4, label="visual")
    ax.axhline(1 / T, color="gray", ls="--", lw=1)
    ax.set_title(f"{r.question}?", fontsize=8, wrap=True)
    ax.set_xlabel("kept segment")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# What to look for: the audio bars of the lesson model sit on the dashed line. Its audio temporal
# attention stays uniform after training, not just after short training (notebook 09 measures its
# "temporal mass" at the uniform rate over the whole test split). The equations explain it:
# $f^g_A = \mathrm{FC}(\mathrm{CrossAttn}(f^s_A, G^{a\prime}))$ has no residual, so every segment's
# $f^g_{a,t}$ is a mixture of the same 22 token vectors and changes little from segment to segment;
# $q \cdot f^g_{a,t}$ is then almost the same for every $t$, and so is the softmax. The visual branch
# reads $f^{sa}_V$, which carries each segment's attended map, so it has more to choose from. Its
# weights do move, but when the questions are about one video, compare them: if the visual bars
# peak on the same segments whatever the question asks, the branch has learned where the video is
# busy rather than what the question is about. Notebook 09 measures how much of it lands on the
# asked-about segments over the whole test split.

# %% [markdown]
# ## Paper vs kit
# Where the kit's computation departs from the paper's equations for this block (§3.1, §3.5):
#
# * **The question vector.** The paper takes the LSTM's final hidden state; the kit (like AVST
#   and the official code) concatenates the final hidden and cell states and projects them:
#   $q = \mathrm{FC}(\tanh([h; c]))$. The LSTM stops at the last word instead of reading on
#   through the `<pad>` tokens as the official encoder does.
# * **No weights in the attention.** As the paper's equation: $\mathrm{softmax}(q F^\top / \sqrt{D})\,F$.
#   The official code uses two 4-head `nn.MultiheadAttention` layers here (1.05 M parameters each).


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
# ### Exercise `06.temporal_attention` · implement · 10 min
# Write question-guided temporal attention over the T segments.


# %%
def temporal_attention(q: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Question-guided temporal attention (3.5): f^ta = softmax(q F^T / sqrt(D)) F.

    q [B, D] question vectors, f [B, T, D] segment features (f_a_g or f_v_sa)
    -> (f_ta [B, D], weights [B, T]): each question's weights over its video's T segments sum to 1.
    """
    ### BEGIN SOLUTION
    weights = torch.softmax((f * q.unsqueeze(1)).sum(-1) / math.sqrt(q.shape[-1]), dim=-1)  # [B, T]
    return (weights.unsqueeze(-1) * f).sum(1), weights
    ### END SOLUTION


check("06.temporal_attention", temporal_attention)


# %% [markdown]
# ### Exercise `06.ablated_weights` · predict · 5 min
# Predict each temporal weight of a model built with use_temporal=False (T = 10).


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    return 1 / 10  # uniform over T = 10 segments
    ### END SOLUTION


check("06.ablated_weights", answer)


# %% [markdown]
# ### Exercise `06.unscaled_logits` · predict · 5 min
# Predict by what factor dropping 1/sqrt(D) widens the spread of q . f_t at D = 512.


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    return math.sqrt(512)  # the dot product of D unit-variance terms has std sqrt(D)
    ### END SOLUTION


check("06.unscaled_logits", answer)
