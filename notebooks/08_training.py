# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
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
# # 08 · Training SaSR-Net
#
# **Paper §4.1.** The recipe: batch 16, 80 epochs, Adam with learning rate $10^{-4}$ multiplied by
# 0.3 every 16 epochs, and the total loss of notebook 07 with $\lambda_1 = \lambda_2 = \lambda_3 = 0.5$.
# `sasr_lite.train` runs exactly that (`TrainConfig()` defaults), on whatever device is present:
# on a GPU it uses bf16 autocast and can keep the whole feature store in GPU memory
# (`resident=True`), so 80 epochs of a MUSIC-AVQA-sized split take minutes.
#
# In fast mode (`make test`) the run is a smoke test: a tiny model, 60 synthetic videos, a few
# epochs at a larger learning rate so that anything moves at all. Its numbers mean nothing;
# `FAST = False` trains the paper's model with the paper's recipe on the full-size synthetic
# benchmark (point `DATA` at MUSIC-AVQA features for the real thing). The same run from a shell:
#
# ```bash
# sasr-lite synth --out data/synth --size full
# sasr-lite train data/synth --out runs/sasr            # the paper's recipe
# sasr-lite train data/synth --out runs/smoke --tiny --epochs 5 --lr 3e-3
# ```
#
# The checkpoint written here (`notebooks/runs/<mode>/sasr/`) is what notebooks 09-11 load.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd

from sasr_lite.device import fast_mode, pick_device
from sasr_lite.notebook_utils import cmp, load_or_train, sizes, synthetic_benchmark
from sasr_lite.train import load_data

FAST = fast_mode()  # `make test` sets SASR_LITE_FAST=1; set FAST = False for the paper's recipe
DEVICE = pick_device()  # a GPU when present
RETRAIN = False  # True: train again even when a finished checkpoint with these settings exists
SIZES = sizes(FAST)
DATA = synthetic_benchmark(SIZES.synth_size)  # or your MUSIC-AVQA folder (avqa-*.json + store/)
RUN = SIZES.runs / "sasr"
print("device:", DEVICE)

# %% [markdown]
# ## The settings
# Two dataclasses hold everything: `SaSRConfig` (sizes, switches, loss weights; notebook 03-07)
# and `TrainConfig` (the optimisation). Vocabulary and answer sizes come from the train split.

# %%
# NBVAL_CHECK_OUTPUT
data = load_data(DATA, splits=("train", "val", "test"))
train_config = SIZES.train.replace(device=str(DEVICE))
settings = {k: v for k, v in train_config.to_dict().items() if k != "device"}
print(f"release: {data.release} | train {len(data.records['train'])} questions, val {len(data.records['val'])}")
print(f"vocabularies: {len(data.question_vocab)} question words, {len(data.answer_vocab)} answers")
print(f"model: d_model={SIZES.model.d_model}, tokens={SIZES.model.num_tokens}, spatial_norm={SIZES.model.spatial_norm}, "
      f"lambdas={SIZES.model.lambda_source}/{SIZES.model.lambda_reg}/{SIZES.model.lambda_match}")
pd.Series(settings, name="TrainConfig").to_frame()

# %% [markdown]
# ## Train
# Each epoch shuffles the questions, draws fresh negatives for $L_{match}$, and reports the mean of
# every loss part; validation accuracy is measured after each epoch, and the best and last
# checkpoints are written atomically. The bars are plain text (no widgets), so this notebook also
# runs head-less.

# %%
model, history = load_or_train(RUN, data, SIZES.model, train_config, retrain=RETRAIN)

# %%
from sasr_lite import plots

plots.training_curves(history, title=f"SaSR-Net on the {SIZES.synth_size} synthetic benchmark")
plt.show()
history[["epoch", "loss_total", "loss_avqa", "loss_source", "loss_reg", "loss_match", "train_accuracy",
         "val_accuracy", "lr"]].round(3)

# %% [markdown]
# ## Checking the schedule
# StepLR multiplies the learning rate by $\gamma$ every `step_size` epochs:
# $\text{lr}_e = \text{lr}_0 \cdot \gamma^{\lfloor e / \text{step} \rfloor}$. The history records the rate
# each epoch actually used:

# %%
# NBVAL_CHECK_OUTPUT
expected = [train_config.lr * train_config.gamma ** (e // train_config.step_size) for e in history["epoch"]]
cmp("learning rate per epoch", expected, history["lr"].to_numpy(), atol=1e-12)
print(f"{len(history)} epochs, checkpoint in {RUN}: {sorted(p.name for p in RUN.glob('*.pt'))}")

# %% [markdown]
# ## Speed
# Samples per second per epoch, as measured by the loop (fast mode on a busy CPU says little; the
# design targets are in DESIGN.md §5: at least 10x the official code on CPU, at least 10,000
# training samples/s on an H100 with the store resident on the GPU).

# %%
print(f"median {history['samples_per_s'].median():.0f} samples/s, {history['epoch_seconds'].sum():.1f} s of training")
