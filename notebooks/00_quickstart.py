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
# # 00 · Quickstart: SaSR-Net in ten minutes
#
# **Audio-visual question answering (AVQA)** asks a model a question about a video that can only
# be answered by looking *and* listening: "Is the cello louder than the violin?", "Which
# instrument starts playing first?", "How many instruments are sounding?". The model sees the
# frames, hears the soundtrack, reads the question, and picks one answer from a fixed list
# (yes / no, numbers, left / right, instrument names).
#
# **MUSIC-AVQA** (Li et al., CVPR 2022; paper §4.1) is the benchmark: 9,290 music-performance
# videos, 45,867 questions made from 33 templates, grouped into 9 question types (Audio / Visual /
# Audio-Visual × counting, comparative, location, existential, temporal), with 22 instrument
# classes.
#
# **SaSR-Net** (the paper this kit reproduces) adds one idea to the AVST baseline: keep one
# learnable vector per instrument class (a *source token*) and make both the audio and the visual
# features pass through those tokens, so that "cello" in the question has something to attach to
# in the sound and in the picture (§3.2-3.3). Spatial attention then finds *where* the sounding
# instrument is in each frame (§3.4), temporal attention finds *when* the question's moment
# happens (§3.5), and a small head fuses everything with the question (§3.6).
#
# ## The kit's map
#
# | step | notebook | package module |
# |---|---|---|
# | media → features (VGGish 128-d, ResNet-18 14×14×512) | 01 | `sasr_lite.features` |
# | annotations, vocabularies, feature store, synthetic benchmark | 02 | `sasr_lite.data`, `sasr_lite.synth` |
# | source-wise learnable tokens, $L_{reg}$ (§3.2) | 03 | `sasr_lite.model.slt` |
# | source-aware semantic representation, $L_{source}$ (§3.3) | 04 | `sasr_lite.model.sasr` |
# | spatial attention and the match head, $L_{match}$ (§3.4) | 05 | `sasr_lite.model.spatial` |
# | temporal attention (§3.5) | 06 | `sasr_lite.model.temporal` |
# | answer head and the total loss (§3.6) | 07 | `sasr_lite.model.answer`, `sasr_lite.losses` |
# | training with the paper's recipe (§4.1) | 08 | `sasr_lite.train` |
# | Table 1, baselines, per-template accuracy (§4.2) | 09 | `sasr_lite.evaluate`, `sasr_lite.baselines` |
# | ablations, Tables 2 and 3 (§4.3) | 10 | `sasr_lite.train` |
# | an interactive attention probe (§4.4) | 11 | `sasr_lite.probe` |
#
# Every notebook imports the package instead of pasting code; where a notebook teaches a block it
# re-derives the block in a few lines and checks the package gives the same numbers.
#
# **Three scales, one switch.** Every notebook starts with a `SCALE` parameter:
#
# | scale | what runs | time |
# |---|---|---|
# | `test` | a tiny model on 60 synthetic videos; numbers mean nothing (`make test` runs this) | seconds per notebook |
# | `lesson` | the demo's model width ($D = 128$) on 1,000 synthetic videos; a model that clearly learns | a few CPU minutes per notebook |
# | `paper` | the paper's sizes and recipe (§4.1) on MUSIC-AVQA-sized data | a GPU |
#
# Leave `SCALE = None` to take `$SASR_LITE_SCALE`, or else `paper` on a GPU and `lesson` on a CPU.
# From a shell: `SASR_LITE_SCALE=test jupyter lab`, or `papermill -p SCALE paper in.ipynb out.ipynb`.

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import torch

from sasr_lite import SaSRConfig
from sasr_lite.device import pick_device
from sasr_lite.model import build_model

from sasr_lite.notebook_utils import sizes

DEVICE = pick_device()  # CUDA when present, else CPU; chosen once, used everywhere below
SIZES = sizes(SCALE)  # every size this notebook picks at this scale
torch.manual_seed(0)
print("scale:", SIZES.scale, "| device:", DEVICE)

# %% [markdown]
# ## How big is SaSR-Net?
# The paper reports 65,117,283 parameters, counted with `torchinfo` (§4.1). Build the model at
# the paper's sizes ($D = 512$, $C = 22$ tokens, the official 93-word question vocabulary and 42
# answers) and count:

# %%
# NBVAL_CHECK_OUTPUT
from sasr_lite.model.summary import PAPER_PARAMETERS, paper_comparison, parameter_table

paper_model = build_model(SaSRConfig())  # the paper's sizes at every scale: counting is cheap
parameter_table(paper_model)

# %%
# NBVAL_CHECK_OUTPUT
comparison, explanation = paper_comparison(paper_model)
print(explanation)
comparison

# %% [markdown]
# Why ours is about seven times smaller, in short (docs/design.md §4.2 has the measurements):
#
# * **11.7 M** of the paper's count is an ImageNet ResNet-18 that the official model *holds* but
#   never runs, because the visual features are extracted beforehand (notebook 01). We keep the
#   extractor out of the model.
# * **45.5 M** is the official source-aware module: two 3-layer transformers with GroupViT-style
#   grouping over the 22 tokens. The paper's *equations* (§3.2-3.3), which this kit follows,
#   need only the tokens, a weight-free self-attention and four cross-attentions.
# * The official temporal attention is two 4-head `nn.MultiheadAttention` layers (1.05 M each);
#   the paper's equation (§3.5) has no weights, and neither does ours.
# * The question encoder matches the official one exactly (2,673,664 parameters).
#
# So "65 M" describes the released code, not the architecture in the paper's text; what a reader
# can reproduce from the equations is the count above.

# %%
# NBVAL_CHECK_OUTPUT
from sasr_lite.model.summary import OFFICIAL_QUESTION_ENCODER, count_parameters

print("question encoder:", f"{count_parameters(paper_model.question_encoder):,}",
      "| official:", f"{OFFICIAL_QUESTION_ENCODER:,}")
print("paper total:", f"{PAPER_PARAMETERS:,}")
del paper_model

# %% [markdown]
# ## A trained model answering a question
# No download needed: the kit ships a generator for a *synthetic* MUSIC-AVQA, with the exact
# annotation schema, the 33 templates and feature shapes of the real thing (notebook 02 explains
# how it is made). The first notebook that needs a trained model trains *the* lesson model
# (notebook 08 explains the run; at the lesson scale it takes a few CPU minutes) and saves it in
# `runs/<scale>/sasr/` beside this notebook; every later notebook loads that same model.

# %%
from sasr_lite.notebook_utils import lesson_model, notebook_data
from sasr_lite.data.loading import load_data

data = load_data(notebook_data(SIZES), splits=("train", "val", "test"))
model, history = lesson_model(SIZES, data)
print(f"{len(history)} epochs; validation accuracy {history['val_accuracy'].iloc[-1]:.1f}%")

# %% [markdown]
# Ask it one test question. `sasr_lite.probe.Probe` runs one (video, question) pair through the
# model and keeps every map it produced; notebook 11 puts a widget panel around it.

# %%
from sasr_lite.probe import Probe

probe = Probe(model, data, "test")
video = probe.video_ids[0]
record = probe.questions[video][0]
result = probe.ask(video, record)
print(f"video {video}: {result.question}?")
print(f"  annotated answer: {result.truth}")
for word, p in result.top(3):
    print(f"  model: {word:<16} p = {p:.2f}")

# %% [markdown]
# Where next: notebook 01 builds the features from media, 02 explains the questions, 03-07 take
# the model apart block by block, 08-11 train, evaluate, ablate and probe it.
