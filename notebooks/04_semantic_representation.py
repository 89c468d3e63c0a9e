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
# # 04 · Source-aware semantic representation (SaSR)
#
# **Paper §3.3.** After §3.2 the tokens and the segments have mixed once, symmetrically. SaSR
# makes the exchange directed and learnable, per modality, with cross-attention
#
# $$\mathrm{CrossAttn}(a, b) = \operatorname{softmax}\!\left(\frac{\mathrm{FC}_q(a)\,\mathrm{FC}_k(b)^\top}{\sqrt{D}}\right)\mathrm{FC}_v(b)$$
#
# in which each row of $a$ decides how much to read from each row of $b$. Two steps per modality
# (written for audio; vision is the same with its own weights):
#
# 1. the tokens read the segments and are updated with a residual:
#    $G^{a\prime} = G^a + \mathrm{FC}(\mathrm{CrossAttn}(G^a, f^s_A))$
#    (the text names a LayerNorm; `sasr_lite` applies it after the residual);
# 2. the segments read the updated tokens:
#    $f^g_A = \mathrm{FC}(\mathrm{CrossAttn}(f^s_A, G^{a\prime}))$.
#
# So $f^g$, the representation every later block uses, is built *only* from token content: each
# segment is re-expressed as a mixture of source prototypes.
#
# A supervision signal ties tokens to instruments, $L_{source}$: one linear layer turns each
# updated token into a presence logit, and a binary cross-entropy compares the $C$ logits of each
# modality with the video's multi-hot list of instruments $p$.
#
# | name | shape |
# |---|---|
# | `f_a_s`, `tokens_a` (in) | `[B, T, D]`, `[B, C, D]` |
# | `tokens_a` (out, $G^{a\prime}$), token weights | `[B, C, D]`, `[B, C, T]` |
# | `f_a_g`, segment weights | `[B, T, D]`, `[B, T, C]` |
# | `presence_a` | `[B, C]` |

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import copy

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from sasr_lite import SaSRConfig
from sasr_lite.device import pick_device
from sasr_lite.model import CrossAttention, SaSRBranch
from sasr_lite.notebook_utils import cmp, sizes

SIZES = sizes(SCALE)  # every size this notebook picks at this scale
DEVICE = pick_device()
torch.manual_seed(0)
config = SaSRConfig.tiny()  # the equation checks use small random tensors at every scale
B, T, C, D = 2, 10, config.num_tokens, config.d_model
print("scale:", SIZES.scale, "| device:", DEVICE)

# %% [markdown]
# ## Cross-attention, checked by what it must do
# Unlike $S$ in §3.2, cross-attention has three linear maps (query, key, value), so it can learn
# *what* to compare and *what* to copy. Exercise `04.cross_attn` asks you to write it; here the
# package's `CrossAttention` is held to three consequences of the equation, for $a$ the $C$ tokens
# and $b$ the $T$ segments:
#
# * the weights are $[B, C, T]$ and each row sums to 1 (a softmax over the rows of $b$);
# * the output is those weights times the values, $W\,\mathrm{FC}_v(b)$;
# * with $\mathrm{FC}_k = 0$ every key is the same, the scores of a row are all equal, each weight
#   is $1/T$, and every row of $a$ reads the plain mean of the values.

# %%
# NBVAL_CHECK_OUTPUT
cross = CrossAttention(D).to(DEVICE)
a, b = torch.randn(B, C, D, device=DEVICE), torch.randn(B, T, D, device=DEVICE)
read, w = cross(a, b)  # [B, C, D], [B, C, T]
print("read:", list(read.shape), "| weights:", list(w.shape))
print("rows sum to 1:", torch.allclose(w.sum(-1), torch.ones(B, C, device=DEVICE)))
cmp("read = W FC_v(b)", w @ cross.fc_v(b), read)

blind_keys = copy.deepcopy(cross)
torch.nn.init.zeros_(blind_keys.fc_k.weight)
torch.nn.init.zeros_(blind_keys.fc_k.bias)
cmp("FC_k = 0: mean of FC_v(b)", cross.fc_v(b).mean(1, keepdim=True).expand(B, C, D), blind_keys(a, b)[0])

# %% [markdown]
# ## One SaSR branch: the two equations in order
# `SaSRBranch` (exercise `04.sasr_branch` asks you to write it from its weights) is checked the same
# way, by switching one piece off and saying what must come out:
#
# * $G^{a\prime}$ leaves a LayerNorm whose scale starts at 1 and shift at 0: every token has mean 0
#   and standard deviation 1 over its $D$ numbers;
# * with the token FC at 0 the read adds nothing and only the residual is left: $G^{a\prime} = \mathrm{LN}(G^a)$;
# * with the segment queries at 0 every segment reads the tokens uniformly; $f^g$ is built from
#   token content only, so all $T$ segments come out as the same vector.

# %%
# NBVAL_CHECK_OUTPUT
branch = SaSRBranch(D).to(DEVICE)
f_a_s, tokens_a = torch.randn(B, T, D, device=DEVICE), torch.randn(B, C, D, device=DEVICE)
f_a_g, tokens_new, token_w, segment_w = branch(f_a_s, tokens_a)
print("f_a_g", list(f_a_g.shape), "| G^a'", list(tokens_new.shape),
      "| token weights", list(token_w.shape), "| segment weights", list(segment_w.shape))
print("G^a' has mean 0 and std 1 per token:",
      torch.allclose(tokens_new.mean(-1), torch.zeros(B, C, device=DEVICE), atol=1e-5),
      torch.allclose(tokens_new.std(-1, unbiased=False), torch.ones(B, C, device=DEVICE), atol=1e-3))

residual_only = copy.deepcopy(branch)
torch.nn.init.zeros_(residual_only.token_fc.weight)
torch.nn.init.zeros_(residual_only.token_fc.bias)
cmp("token FC = 0: LN(G^a)", branch.token_norm(tokens_a), residual_only(f_a_s, tokens_a)[1])

uniform_read = copy.deepcopy(branch)
torch.nn.init.zeros_(uniform_read.segment_attn.fc_q.weight)
torch.nn.init.zeros_(uniform_read.segment_attn.fc_q.bias)
f_g_uniform = uniform_read(f_a_s, tokens_a)[0]
print("segment queries = 0: all T segments equal:", torch.allclose(f_g_uniform, f_g_uniform[:, :1].expand(B, T, D), atol=1e-5))

# %% [markdown]
# ## $L_{source}$: which instruments are in this video?
# The presence head is one `Linear(D, 1)` shared by the $C$ tokens of a modality: token $c$ gives
# the logit "source $c$ is present". With targets $p \in \{0, 1\}^C$ (weak labels derived from the
# instruments each video's questions and answers name, see notebook 02):
#
# $$L_{source} = \mathrm{BCE}(\sigma(\mathrm{FC}(G^{a\prime})), p) + \mathrm{BCE}(\sigma(\mathrm{FC}(G^{v\prime})), p)$$

# %%
# NBVAL_CHECK_OUTPUT
p = torch.zeros(B, C, device=DEVICE)
p[0, [5, 20]] = 1.0  # video 0: cello and violin
p[1, 13] = 1.0  # video 1: piano
presence_a = branch.presence(tokens_new).squeeze(-1)  # [B, C]
cmp("presence logits", presence_a, branch.presence_logits(tokens_new))
bce = F.binary_cross_entropy(torch.sigmoid(presence_a), p)
cmp("BCE(sigmoid(x), p)", bce, F.binary_cross_entropy_with_logits(presence_a, p))

# %% [markdown]
# ## After training: do tokens stand for instruments?
# Two views of the lesson model (trained by notebook 08, or here if it has not run). Left: cosine
# similarity between the 22 raw tokens $G$ (kept apart by $L_{reg}$, so the off-diagonal should
# fall towards 0 with training). Right: the audio presence probabilities
# $\sigma(\mathrm{FC}(G^{a\prime}))$ for a few test videos, with triangles on the instruments their
# scene really plays (test videos have no weak labels: those come from the train split only).
# At the test scale the model trained for seconds, so expect noise; the lesson benchmark draws
# its scenes from 8 of the 22 classes, so only those 8 tokens ever see their instrument.

# %%
import numpy as np

from sasr_lite.data.dataset import BatchLoader
from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.notebook_utils import lesson_model, synthetic_benchmark
from sasr_lite.synth.scenes import load_scenes, scene_index
from sasr_lite.data.loading import load_data

DATA = synthetic_benchmark(SIZES.synth_size)
data = load_data(DATA, splits=("train", "val", "test"))
scenes = scene_index(load_scenes(DATA / "scenes" / "test.json"))
model, _ = lesson_model(SIZES, data)  # trained by notebook 08 (or now, if it has not run)
batch = next(iter(BatchLoader(data.dataset("test"), batch_size=64, shuffle=False, device=DEVICE)))
with torch.no_grad():
    out = model(batch["audio"], batch["visual"], batch["visual_maps"], batch["question"],
                video_of=batch["video_of"])  # per-video outputs (presence) have one row per video

# %%
G = F.normalize(model.slt.tokens.detach().float().cpu(), dim=-1)
shown = range(4)  # the batch's first four videos
fig = plt.figure(figsize=(14, 5))
ax = fig.add_subplot(1, 3, 1)
image = ax.imshow(G @ G.T, cmap="coolwarm", vmin=-1, vmax=1)
ax.set_xticks(range(len(INSTRUMENTS)), INSTRUMENTS, rotation=90, fontsize=6)
ax.set_yticks(range(len(INSTRUMENTS)), INSTRUMENTS, fontsize=6)
ax.set_title("cosine similarity of the raw tokens G")
fig.colorbar(image, ax=ax, fraction=0.046)
ax = fig.add_subplot(1, 3, (2, 3))
x = np.arange(len(INSTRUMENTS))
for k, row in enumerate(shown):
    offset = (k - 1.5) * 0.2
    ax.bar(x + offset, torch.sigmoid(out.presence_a[row]).cpu(), 0.2, label=f"video {k}: audio tokens")
    heard = {i.cls for i in scenes[data.stores["test"].ids[batch["video_index"][row]]].instruments if i.sounds}
    playing = np.array([c in heard for c in INSTRUMENTS])
    ax.plot(x[playing] + offset, np.full(playing.sum(), 1.03), "v", color=f"C{k}")
ax.set_xticks(x, INSTRUMENTS, rotation=90, fontsize=7)
ax.set(ylim=(0, 1.08), title="audio presence probability per token (triangles: instruments heard in the scene)")
ax.legend(fontsize=7, ncols=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.tight_layout()
plt.show()

# %% [markdown]
# **Try:** `use_sasr=False` (paper Table 2) skips both equations: $f^g = f^s$ and the tokens are not
# updated. The presence heads still read the tokens, so $L_{source}$ is still defined.

# %% [markdown]
# ## Paper vs kit
# Where the kit's computation departs from the paper's equations for this block (§3.3):
#
# * **LayerNorm after the token residual.** $G^{a\prime} = \mathrm{LN}(G^a + \mathrm{FC}(\ldots))$: the
#   paper's equation has no normalisation, its text names LayerNorm; without it the updated
#   tokens' scale drifts from the segments' they are read with.
# * **$f^g_A$ reads $G^{a\prime}$.** The paper's audio equation writes $\mathrm{CrossAttn}(f^s_A, G^a)$
#   (the tokens *before* the update) while the visual one reads $G^{v\prime}$ and the sentence after
#   the equations speaks of the updated tokens. We read this as a typo and use $G^{a\prime}$ for
#   both modalities: with $G^a$ the token update would never reach the audio path at all.
# * **$L_{source}$'s labels are weak.** MUSIC-AVQA ships no per-video source labels; the kit marks
#   every instrument a video's train questions and answers name (the official labels also used an
#   audio tagger and were never published).


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
# ### Exercise `04.cross_attn` · implement · 15 min
# Write CrossAttn(a, b) with query/key/value projections from their weights.


# %%
def cross_attn(a: torch.Tensor, b: torch.Tensor, w_q: torch.Tensor, b_q: torch.Tensor,
               w_k: torch.Tensor, b_k: torch.Tensor, w_v: torch.Tensor, b_v: torch.Tensor) -> torch.Tensor:
    """CrossAttn(a, b) = softmax(FC_q(a) FC_k(b)^T / sqrt(D)) FC_v(b) (3.3): each row of a reads b.

    a [B, N, D], b [B, M, D] -> [B, N, D]. Each FC is a linear map in nn.Linear's layout:
    FC_q(x) = x @ w_q.T + b_q with w_q [D, D], b_q [D]; the same for k and v.
    """
    ### BEGIN SOLUTION
    q, k, v = a @ w_q.T + b_q, b @ w_k.T + b_k, b @ w_v.T + b_v
    return torch.softmax(q @ k.transpose(1, 2) / math.sqrt(a.shape[-1]), dim=-1) @ v
    ### END SOLUTION


check("04.cross_attn", cross_attn)


# %% [markdown]
# ### Exercise `04.sasr_branch` · implement · 20 min
# Write one SaSR branch: the token update with residual and LayerNorm, then the segment read.


# %%
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
    ### BEGIN SOLUTION
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
    ### END SOLUTION


check("04.sasr_branch", sasr_branch)


# %% [markdown]
# ### Exercise `04.branch_parameters` · predict · 10 min
# Predict the parameter count of SaSRBranch(d_model=512).


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    D = 512
    linear = D * D + D  # one D -> D layer with bias
    return 2 * 3 * linear + 2 * linear + 2 * D + (D + 1)  # two CrossAttn, two FCs, LayerNorm, presence head
    ### END SOLUTION


check("04.branch_parameters", answer)
