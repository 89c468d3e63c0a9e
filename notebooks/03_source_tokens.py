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
# # 03 · Source-wise learnable tokens (SLT)
#
# **Paper §3.2.** SaSR-Net keeps one learnable vector per instrument class, $C = 22$ of them, the
# matrix $G \in \mathbb{R}^{C \times D}$. Each token is meant to become the model's idea of one
# source ("cello", "piano", ...). The tokens meet the data in the simplest possible way: they are
# appended to the $T$ segment vectors of one modality, the $T + C$ vectors attend to each other,
# and the result is cut back into two pieces:
#
# $$[\,f^s_a;\; G^a\,] = S([\,f^r_a;\; G\,]), \qquad [\,f^s_v;\; G^v\,] = S([\,f^r_v;\; G\,])$$
#
# The same $G$ goes into both modalities; audio and vision each get their own copy back
# ($G^a$, $G^v$). $S$ has no weights at all:
#
# $$S(f) = \operatorname{softmax}\!\left(\frac{f f^\top}{\sqrt{D}}\right) f$$
#
# | name | shape | meaning |
# |---|---|---|
# | `f_a_r`, `f_v_r` | `[B, T, D]` | projected VGGish / pooled ResNet-18 vectors (§3.1) |
# | `G` | `[C, D]` | the learnable tokens |
# | `f_a_s`, `f_v_s` | `[B, T, D]` | segments after mixing with the tokens |
# | `tokens_a`, `tokens_v` | `[B, C, D]` | tokens after reading the segments |
#
# This notebook checks `sasr_lite.model`'s $S$ and token block against their equations (the
# exercises at the end ask you to write both), looks at the regulariser $L_{reg}$ that keeps the
# tokens apart, and draws which segments each token reads in a real (synthetic) video.

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import torch

from sasr_lite import SaSRConfig
from sasr_lite.device import pick_device
from sasr_lite.model import SourceTokens, self_attention
from sasr_lite.notebook_utils import cmp, sizes

SIZES = sizes(SCALE)  # every size this notebook picks at this scale
DEVICE = pick_device()  # CUDA when present, else CPU
torch.manual_seed(0)
config = SaSRConfig.tiny()  # the equation checks use small random tensors at every scale
B, T, C, D = 2, 10, config.num_tokens, config.d_model
print("scale:", SIZES.scale, "| device:", DEVICE)

# %% [markdown]
# ## The parameter-free self-attention $S$
# Every row of the $N \times N$ weight matrix is a softmax, so each output vector is a weighted
# average of the inputs. Dividing by $\sqrt{D}$ keeps the dot products of $D$-dimensional vectors
# from growing with $D$.
#
# A case small enough to work by hand: two orthogonal unit vectors, $f = I_2$ ($N = D = 2$). Then
# $f f^\top / \sqrt{2}$ has $1/\sqrt{2} \approx 0.707$ on the diagonal and $0$ off it, so each
# element keeps $e^{0.707} / (e^{0.707} + 1) \approx 0.670$ of itself and reads $0.330$ of the other:
#
# $$S(I_2) = \begin{pmatrix} 0.670 & 0.330 \\ 0.330 & 0.670 \end{pmatrix}$$
#
# The package's `self_attention` (exercise `03.self_attention` asks you to write it) must give
# that, and on a random $[B, T + C, D]$ input, weights whose rows sum to 1:

# %%
# NBVAL_CHECK_OUTPUT
by_hand = torch.tensor([[0.670, 0.330], [0.330, 0.670]])
cmp("S(I_2), worked by hand", by_hand, self_attention(torch.eye(2)), atol=1e-3)

f = torch.randn(B, T + C, D, device=DEVICE)
S_f, weights = self_attention(f, return_weights=True)  # [B, N, D], [B, N, N]
print("S(f):", list(S_f.shape), "| weights:", list(weights.shape))
print("rows sum to 1:", torch.allclose(weights.sum(-1), torch.ones(B, T + C, device=DEVICE)))

# %% [markdown]
# ## The token block: concatenate, attend, split
# `SourceTokens` owns $G$ (started from a small random normal: tokens that all start at zero,
# as in the official code, would be identical and get identical gradients). Its forward pass
# returns the joint weights $W$ too, $(T + C) \times (T + C)$ per video. Split $W$ into blocks by
# who reads (segments above, tokens below) and what is read (segments left, tokens right), and
# the equation says each output is what its row reads from both pieces:
#
# $$f^s_a = W_{ss}\, f^r_a + W_{sg}\, G, \qquad G^a = W_{gs}\, f^r_a + W_{gg}\, G$$
#
# Check the package's `SourceTokens` (exercise `03.token_block` asks you to write it) against that:

# %%
# NBVAL_CHECK_OUTPUT
slt = SourceTokens(C, D).to(DEVICE)
f_a_r = torch.randn(B, T, D, device=DEVICE)
f_a_s, tokens_a, slt_weights = slt(f_a_r)  # [B, T, D], [B, C, D], [B, T+C, T+C]
print("f_a_s:", list(f_a_s.shape), "| G^a:", list(tokens_a.shape), "| W:", list(slt_weights.shape))

W = slt_weights
G = slt.tokens.detach()
cmp("f_a_s = W_ss f_a_r + W_sg G", W[:, :T, :T] @ f_a_r + W[:, :T, T:] @ G, f_a_s)
cmp("G^a = W_gs f_a_r + W_gg G", W[:, T:, :T] @ f_a_r + W[:, T:, T:] @ G, tokens_a)

# %% [markdown]
# ## Reading the $(T + C) \times (T + C)$ weights
# The joint weight matrix has four blocks: segments reading segments, segments reading tokens,
# tokens reading segments and tokens reading tokens. At initialisation the tokens are tiny
# ($\lVert g_i \rVert \approx 0.02\sqrt{D}$), so their dot products with anything are near zero
# and every token reads an almost uniform mix; the segments, with large norms, mostly read
# themselves. Training is what makes the token rows selective.

# %%
def plot_slt_blocks(w, title):
    """w [T+C, T+C] -> the joint weights with the four blocks marked."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    image = ax.imshow(w, cmap="viridis")
    ax.axhline(T - 0.5, color="w", lw=1)
    ax.axvline(T - 0.5, color="w", lw=1)
    ax.set_xlabel(f"read from: segments 0..{T - 1} | tokens 0..{C - 1}")
    ax.set_ylabel("reader")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    plt.show()


plot_slt_blocks(slt_weights[0].detach().cpu(), "SLT weights at initialisation (audio)")

# %% [markdown]
# ## $L_{reg}$: each token must name its own class
# Nothing in $S$ tells token $i$ which instrument it stands for. The paper adds a regulariser
# (end of §3.3): a linear classifier reads every raw token and must answer "class $i$" for token
# $i$, a cross-entropy over $C$ classes with targets $0, 1, \dots, C-1$:
#
# $$L_{reg} = \mathrm{CE}\big(\mathrm{FC}(g_i),\, i\big)$$
#
# At initialisation the classifier is random and the tokens are tiny, so every token gets nearly
# the same logits: the classifier cannot tell them apart yet (what $L_{reg}$ is then, you work
# out in exercise `03.reg_loss_chance`).

# %%
# NBVAL_CHECK_OUTPUT
token_logits = slt.classifier(slt.tokens)  # [C, C]: row i = class scores of token i
cmp("FC(G)", token_logits, slt.token_logits())
named = (token_logits.argmax(-1) == torch.arange(C, device=DEVICE)).sum().item()
# how far any token's logits stray from the mean row: near 0 when the classifier sees one token C times
apart = (token_logits - token_logits.mean(0)).abs().max().item()
print(f"at initialisation: {named} of {C} tokens named right; rows differ from their mean by at most {apart:.3f}")

# %% [markdown]
# ## Which segments do the tokens read, after training?
# Load the lesson model (notebook 08 trains it; the first notebook that needs it trains it, with
# a progress bar) and run a test video through it. Rows of the left panel are the 22 tokens,
# columns the 10 kept segments: the share of each token's attention that goes to each segment
# (the rest goes to the other tokens). The right panel is the scene's ground truth: which
# instruments sound in each segment. One might expect a token to read the segments where *its*
# instrument sounds. Look at the rows of the instruments in this scene instead: in the lesson
# model they stand out by reading *less* from the segments where their instrument plays. $S$ has
# no weights, so a token's attention is the similarity of its vector to each segment's, and no
# loss asks for a high one: $L_{reg}$ only keeps the tokens apart, and $L_{source}$ only needs the
# *updated* tokens of notebook 04 to tell which instruments are present, which a contrast does as
# well as a match. (At the test scale the model trained for seconds, so this picture is noise.)

# %%
import numpy as np

from sasr_lite.data.taxonomy import INSTRUMENTS
from sasr_lite.notebook_utils import lesson_model, synthetic_benchmark
from sasr_lite.synth.scenes import kept_segments, load_scenes
from sasr_lite.data.loading import load_data

DATA = synthetic_benchmark(SIZES.synth_size)
data = load_data(DATA, splits=("train", "val", "test"))
model, _ = lesson_model(SIZES, data)  # trained by notebook 08 (or now, if it has not run)

store = data.stores["test"]
scenes = load_scenes(DATA / "scenes" / "test.json")
scene = max(scenes, key=lambda s: (len({i.sounding for i in s.instruments}), len(s.instruments)))  # a busy one
video_id = scene.video_id
test = data.dataset("test")
item = test[next(k for k, r in enumerate(test.records) if r.video_id == video_id)]  # one question of it
with torch.no_grad():
    out = model(*(item[key][None].to(DEVICE) for key in ("audio", "visual", "visual_maps", "question")))
segments = kept_segments(store.stride)

# %%
T = store.T
tokens_to_segments = out.slt_attn_a[0, T:, :T].float().cpu()  # [C, T]
truth = np.zeros((len(INSTRUMENTS), T))
for inst in scene.instruments:
    truth[INSTRUMENTS.index(inst.cls)] = np.maximum(truth[INSTRUMENTS.index(inst.cls)], inst.mask[list(segments)])

fig, axes = plt.subplots(1, 2, figsize=(10, 5.5), sharey=True)
image = axes[0].imshow(tokens_to_segments, aspect="auto", cmap="viridis")
axes[0].set(title="audio tokens reading segments (trained)", xlabel="kept segment")
axes[0].set_yticks(range(len(INSTRUMENTS)), INSTRUMENTS, fontsize=7)
fig.colorbar(image, ax=axes[0], fraction=0.046)
axes[1].imshow(truth, aspect="auto", cmap="Greens", vmin=0, vmax=1.3)
axes[1].set(title=f"video {video_id}: who sounds (ground truth)", xlabel="kept segment")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Try:** the `use_slt=False` switch (paper Table 2) skips this block: $f^s = f^r$ and both
# modalities receive the raw $G$. Build `build_model(config.replace(use_slt=False))` and check that
# `out.slt_attn_a` is `None` and that SaSR (notebook 04) now reads the raw tokens.

# %% [markdown]
# ## Paper vs kit
# Where the kit's computation departs from the paper's equations for this block (§3.1-3.2):
#
# * **Input projections.** §4.1 says a linear layer turns 128-d VGGish vectors into 512-d audio
#   features and uses the 512-d visual vectors as they are. The kit's audio projection is
#   FC-ReLU-FC (as AVST's), and the pooled visual vectors pass one FC, so both modalities have
#   learnable inputs of width $D$ also when $D \ne 512$.
# * **Attention span of $S$.** The paper writes the self-attention per segment $t$, over one
#   segment and the $C$ tokens; the kit attends over the whole sequence of $T + C$ vectors (all
#   segments and all tokens together), so each $f^s_t$ can also draw on the other segments and each
#   token reads the whole clip at once.
# * **Token initialisation.** Small random normal (std 0.02); the official code starts the tokens
#   at zero, where $L_{reg}$'s classifier gets identical inputs for every class.


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
# ### Exercise `03.self_attention` · implement · 10 min
# Write the parameter-free self-attention S(f) = softmax(f f^T / sqrt(D)) f.


# %%
def self_attention(f: torch.Tensor) -> torch.Tensor:
    """S(f) = softmax(f f^T / sqrt(D)) f, the parameter-free self-attention of SLT (3.2).

    f [..., N, D] -> [..., N, D]: row i of the N x N weights says how much element i reads
    from every element, so each row sums to 1.
    """
    ### BEGIN SOLUTION
    return torch.softmax(f @ f.transpose(-2, -1) / math.sqrt(f.shape[-1]), dim=-1) @ f
    ### END SOLUTION


check("03.self_attention", self_attention)


# %% [markdown]
# ### Exercise `03.token_block` · implement · 15 min
# Write the SLT step: concatenate segments and tokens, attend, split.


# %%
def token_block(f_r: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SLT (3.2): [f^s; G^m] = S([f^r; G]) for one modality.

    f_r [B, T, D] segments, tokens G [C, D] -> (f_s [B, T, D], tokens G^m [B, C, D]): append the
    tokens after each video's segments (one [B, T + C, D] sequence; every video gets its own
    copy of G), apply S (your self_attention), split the result back into segments and tokens.
    """
    ### BEGIN SOLUTION
    B, T, D = f_r.shape
    joint = torch.cat([f_r, tokens.expand(B, -1, -1)], dim=1)  # [B, T + C, D]
    out = torch.softmax(joint @ joint.transpose(1, 2) / math.sqrt(D), dim=-1) @ joint
    return out[:, :T], out[:, T:]
    ### END SOLUTION


check("03.token_block", token_block)


# %% [markdown]
# ### Exercise `03.token_parameters` · predict · 5 min
# Predict the parameter count of SourceTokens(num_tokens=22, d_model=512).


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    C, D = 22, 512
    return C * D + (D * C + C)  # the tokens G, and the L_reg classifier FC (weights + bias)
    ### END SOLUTION


check("03.token_parameters", answer)


# %% [markdown]
# ### Exercise `03.reg_loss_chance` · predict · 5 min
# Predict L_reg of a token classifier that cannot tell the 22 tokens apart.


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    return math.log(22)  # cross-entropy of a uniform guess over 22 classes
    ### END SOLUTION


check("03.reg_loss_chance", answer)
