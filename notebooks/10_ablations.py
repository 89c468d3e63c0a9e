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
# # 10 · Ablations as experiments: which block answers which question
#
# **Paper §4.3.** Two ablation tables on MUSIC-AVQA, accuracy in %, as the paper's text states them
# (`sasr_lite.paper.ablation_reference()`): **Table 2** (source-aware half) without SLT and SaSR 70.31,
# SLT alone +1.85, SaSR alone +1.47, both +3.90; **Table 3** (attention half) without spatial (SA)
# and temporal (TA) attention 70.17, with both +1.03. The two tables imply different scores for one
# full model (74.21 against 71.20), and the paper gives no seeds or intervals.
#
# An ablation is an experiment: before a run we say which question types should drop and why, from
# the equations; after it we measure the drop per type with an interval, and read it honestly. A
# block can only matter for questions that its input's *average* cannot answer: without SA the
# model reads the spatial mean of the maps ($w_{t,p} = 1/P$), without TA the mean over segments
# ($a_t = 1/T$). So we first **measure what those means already answer** (a probe), then build the
# benchmark on that evidence, then run the ablations, and finally show one **cue experiment**: the
# same ablation with one shortcut on and off.

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without
DATA = None  # a MUSIC-AVQA folder prepared by data_scripts/; None: $SASR_LITE_DATA, else the lesson benchmark

# %%
# %matplotlib inline
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display

from sasr_lite.data.loading import load_data
from sasr_lite.device import pick_device
from sasr_lite.evaluate import evaluate_split
from sasr_lite.model import build_model
from sasr_lite.notebook_utils import ablation_data, experiment_run, load_or_train_many, run_converged, sizes

DEVICE = pick_device()
SIZES = sizes(SCALE)
START = time.perf_counter()
data = load_data(ablation_data(SIZES, DATA), splits=("train", "val", "test"))
synthetic = data.release == "synthetic"
print("scale:", SIZES.scale, "| device:", DEVICE, "| data:", data.root)

# %% [markdown]
# ## The switches do what they say
# One forward pass of each variant on the same random batch, checked against the definitions: no SA
# means exactly uniform weights $1/P$ over the 196 map cells, no TA exactly uniform weights $1/T$
# over the segments, no SLT means $f^s = f^r$ (no self-attention map), no SaSR means $f^g = f^s$
# (the tokens are not updated).

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
B, T, P = 2, 10, 196
config = SIZES.model.replace(num_answers=5)
maps = torch.rand(B, T, P, 512)
inputs = (torch.rand(B, T, 128), maps.mean(2), maps, torch.randint(0, config.question_vocab_size, (B, 14)))

out = build_model(config.replace(use_spatial=False)).eval()(*inputs)
print("no SA: spatial weights exactly 1/P:", bool((out.spatial_attn == 1 / P).all()))
out = build_model(config.replace(use_temporal=False)).eval()(*inputs)
print("no TA: temporal weights exactly 1/T:", bool((out.temporal_attn_a == 1 / T).all() and (out.temporal_attn_v == 1 / T).all()))
model = build_model(config.replace(use_slt=False, use_sasr=False)).eval()
out = model(*inputs)
print("no SLT: no self-attention map:", out.slt_attn_a is None)
print("no SaSR: tokens unchanged:", torch.equal(out.tokens_a[0], model.slt.tokens))

# %% [markdown]
# ## What do the means already answer? A probe per question type
# The synthetic benchmark has named **cues** (`sasr_lite/synth/cues.py`), each a shortcut a pooled
# or time-averaged vector could take: `position_in_pooled` (each column *multiplies* the channels, so
# class and place are bound in one product that survives pooling), `playing_in_pooled` (a playing
# instrument brightens), `silent_visible`, `offscreen`, `order_in_time_average` (the first to come in
# plays longest). The **classic** benchmark of notebooks 00-09 has the first four on; the **lesson**
# benchmark turns `position_in_pooled` and `playing_in_pooled` off: the column then *adds* a code
# shared by every cell, which pools to the same constant in every video.
#
# The probe (`sasr_lite.diagnose`) is a small MLP with no attention at all. It reads the question
# (template and fillers) and the *average* view: the pooled visual vector and the audio, averaged
# over the segments, what the model has with SA and TA both off. The *question* view reads the
# question alone. Each row below flips one knob of the lesson cues; a type the average view answers
# far above the question view has a shortcut, and no attention block is needed for it.

# %%
from sasr_lite.data.taxonomy import TEMPLATES
from sasr_lite.diagnose import TYPE_NAMES, ProbeConfig, cue_diagnosis

probe_config = ProbeConfig(epochs=4) if SIZES.smoke else ProbeConfig()
if synthetic:
    probe = cue_diagnosis(SIZES.ablation_size, "lesson", views=("question", "average"), config=probe_config,
                          by_template=True)
    table = probe.set_index(["setting", "view"]).round(1).T
    display(table.loc[[name for name in TYPE_NAMES if name in table.index] + ["Overall"]])  # per type
    # the templates that answer with a place or an order, where the cues differ most
    display(table.loc[[t.key for t in TEMPLATES if t.key in table.index and t.subtype in ("Location", "Temporal")]])
else:
    print("real data: the cues are knobs of the synthetic generator, no probe here")

# %% [markdown]
# Reading it: the question view is the floor (answer balance and question form). Location answers
# that name a *class* ("what is on the left of the X") partly come from the set of classes in the
# pooled map, whatever the cues; a *side* answer ("where is the loudest instrument") needs the place of
# one particular instrument, which the lesson cues keep out of the pooled map. With
# `position_in_pooled` on, the pooled vector carries that place, and SA has nothing left to add.

# %% [markdown]
# ## Predictions, before any run
# From the equations and the probe, on the lesson benchmark (`sasr_lite.ablations.PREDICTIONS`):

# %%
from sasr_lite.ablations import PREDICTIONS

for variant, (switches, types, why) in PREDICTIONS.items():
    print(f"{variant} ({switches}): should drop {', '.join(types) or 'no type'}\n    because {why}")

# %% [markdown]
# ## Train every variant until it converges
# Each variant × seed is a separate run under `notebooks/runs/<scale>/experiments/`, reused when the
# notebook runs again, trained two at a time on a 2-core CPU (one process per core). Every run
# trains until its validation accuracy gains less than 0.5 points over two epochs
# (`TrainConfig.converge_gain`), with a cap on the epochs; the table says which runs converged.

# %%
VARIANTS = {"full": {}} | {variant: switches for variant, (switches, _, _) in PREDICTIONS.items()}
runs = {(name, seed): experiment_run(SIZES, data, name, seed, switches)
        for name, switches in VARIANTS.items() for seed in SIZES.ablation_seeds}
print(f"{len(runs)} runs: {len(VARIANTS)} variants x {len(SIZES.ablation_seeds)} seeds, each until converged "
      f"(at most {SIZES.experiment.epochs} epochs)")
models = dict(zip(runs, load_or_train_many(list(runs.values()), data)))


def evaluate_runs(runs: dict, models: dict, data) -> tuple[pd.DataFrame, dict]:
    """Per run: overall test accuracy, epochs, converged; and the test predictions per variant."""
    rows, predictions = [], {}
    for (name, seed), model in models.items():
        report = evaluate_split(model, data, "test", name=name)
        predictions.setdefault(name, []).append(report.predictions.frame)
        history = pd.read_csv(runs[name, seed].run_dir / "metrics.csv")
        rows.append(dict(variant=name, seed=seed, overall=report.table.iloc[0][("Overall", "Avg")],
                         epochs=len(history), converged=run_converged(history)))
    return pd.DataFrame(rows), predictions


results, predictions = evaluate_runs(runs, models, data)
results

# %% [markdown]
# ## Differences from the full model, per type, with intervals
# Each cell is the variant's accuracy minus the full model's on the same test questions, in points,
# with the paired-bootstrap 95% interval: each question counts as the share of the seeds that
# answered it right, and the bootstrap resamples the questions 1,000 times
# (`sasr_lite.ablations.ablation_deltas`). A drop is *shown* when the whole interval lies below 0.

# %%
from sasr_lite.ablations import ablation_deltas, prediction_check
from sasr_lite.evaluate import prior_accuracy

prior = prior_accuracy(data.records["train"], data.records["test"])
print(f"{SIZES.scale} scale: {len(SIZES.ablation_seeds)} seed(s) per variant, {len(data.records['test'])} test "
      f"questions; answer prior {prior:.1f}%; full model {results.loc[results.variant == 'full', 'overall'].mean():.1f}%")
deltas = ablation_deltas(data.records["test"], predictions)
table = pd.DataFrame({v: {k: f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]" for k, (d, lo, hi) in cells.items()}
                      for v, cells in deltas.items()})
if SIZES.smoke:
    print("SMOKE RUN (test scale): each variant trained for seconds with one seed; the numbers show the "
          "machinery, not a result")
display(table)
checks = pd.DataFrame(prediction_check(deltas))
display(checks)

types = [k for k in next(iter(deltas.values())) if not k.endswith("/Avg")] + ["Overall/Avg"]
fig, ax = plt.subplots(figsize=(10, 3.2))
for k, (variant, cells) in enumerate(deltas.items()):
    d, lo, hi = np.array([cells[t] for t in types]).T
    x = np.arange(len(types)) + 0.18 * (k - (len(deltas) - 1) / 2)
    ax.errorbar(x, d, yerr=[d - lo, hi - d], fmt="o", ms=4, capsize=2, label=variant)
ax.axhline(0, color="gray", lw=1)
ax.set_xticks(range(len(types)), [t.replace("Audio-Visual", "AV").replace("/", "\n") for t in types], fontsize=7)
ax.set(ylabel="variant - full (points)", title=f"ablations per type, 95% paired-bootstrap intervals ({SIZES.scale} scale)")
ax.legend(fontsize=7, ncol=4)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The cue experiment: the same ablation with the shortcut on
# Now the lesson benchmark with one knob flipped: `position_in_pooled` on, so the pooled map carries
# each instrument's place. The prediction: the full model and *no SA* now score alike on the
# location types (SA redundant), where on the lesson benchmark *no SA* dropped (SA needed).

# %%
CUE = "position_in_pooled"
if synthetic:
    cue_data = load_data(ablation_data(SIZES, DATA, cues={"position_in_pooled": True, "playing_in_pooled": False}),
                         splits=("train", "val", "test"))
    cue_runs = {(name, seed): experiment_run(SIZES, cue_data, name, seed, VARIANTS[name])
                for name in ("full", "no_sa") for seed in SIZES.ablation_seeds}
    cue_models = dict(zip(cue_runs, load_or_train_many(list(cue_runs.values()), cue_data)))
    cue_results, cue_predictions = evaluate_runs(cue_runs, cue_models, cue_data)
    cue_deltas = ablation_deltas(cue_data.records["test"], cue_predictions)
    compare = pd.DataFrame({f"{CUE} off (lesson)": {k: deltas["no_sa"][k] for k in deltas["no_sa"]},
                            f"{CUE} on": cue_deltas["no_sa"]}).map(lambda c: f"{c[0]:+.1f} [{c[1]:+.1f}, {c[2]:+.1f}]")
    display(compare)

# %% [markdown]
# ## The numbers, as a file
# `results/<scale>/ablations.json` (at the test scale under `runs/test/`) holds the benchmark's cues,
# every delta with its interval, whether each run converged and the cue experiment; the README quotes
# it. It is written here, by `sasr_lite.ablations.write_ablations`, never by hand.

# %%
import json

from sasr_lite.ablations import write_ablations

converged = {f"{name}/seed{seed}": bool(ok) for name, seed, ok in results[["variant", "seed", "converged"]].itertuples(index=False)}
cues = json.loads((Path(data.root) / "synth.json").read_text())["cues"] if synthetic else {"real data": True}
if synthetic:
    converged |= {f"{CUE} on/{name}/seed{seed}": bool(ok)
                  for name, seed, ok in cue_results[["variant", "seed", "converged"]].itertuples(index=False)}
    cue_doc = {"knob": CUE, "variant": "no_sa", "cues": json.loads((Path(cue_data.root) / "synth.json").read_text())["cues"],
               "deltas": {"off": {"no_sa": deltas["no_sa"]}, "on": {"no_sa": cue_deltas["no_sa"]}}}
else:
    cue_doc = {"deltas": {}}
target = (Path("runs/test") if SIZES.smoke else Path("../results") / SIZES.scale) / "ablations.json"
written = write_ablations(target, scale=SIZES.scale, cues=cues, deltas=deltas, converged=converged,
                          cue_experiment=cue_doc, predictions=prediction_check(deltas),
                          seeds=list(SIZES.ablation_seeds), test_questions=len(data.records["test"]),
                          answer_prior=round(prior, 2))
print(f"wrote {written}; notebook time {time.perf_counter() - START:.0f} s")

# %% [markdown]
# Reading it honestly: a difference whose interval contains 0 is not a result, and a prediction
# whose drop is not shown stays unconfirmed on this test set. For SLT and SaSR no cue of the
# generator is aimed at them (the class tokens get their training signal from L_source in both
# variants), so no drop is predicted; if their intervals contain 0, that is the answer "not shown
# on this benchmark", not "useless". The paper reports single numbers without seeds or intervals;
# a reproduction should report both.


# %% [markdown]
# ## Exercises
# Each exercise has an id, a kind and an estimate of the minutes it takes. *Implement*: write the
# function's body; *predict*: work the number out before you run anything, then return it;
# *experiment*: change one setting, measure, and explain what changed. `check(id, answer)` grades an
# answer, prints PASS or FAIL with a hint, and never stops the notebook; `sasr_lite.labs.exercises()`
# lists them all. The solutions sit between `### BEGIN SOLUTION` and `### END SOLUTION`: `make
# student` writes copies of the notebooks without them (see the README's "Course labs").


# %%
import math

import numpy as np
import torch
import torch.nn.functional as F
from sasr_lite.evaluate import bootstrap_indices

from sasr_lite.labs import check


# %% [markdown]
# ### Exercise `10.paired_bootstrap` · implement · 20 min
# Write the paired bootstrap of an accuracy difference between two runs.


# %%
def paired_bootstrap(correct_a: np.ndarray, correct_b: np.ndarray, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95):
    """The overall accuracy difference A - B of two runs on the same N questions, in percentage
    points, with a paired percentile-bootstrap interval.

    correct_a, correct_b [N] bool -> (delta, low, high). Draw the resamples with
    sasr_lite.evaluate.bootstrap_indices(N, n_boot, seed) and apply each one to *both* runs
    (paired: the questions' shared difficulty cancels); keep the central `level` share of the
    resampled differences.
    """
    ### BEGIN SOLUTION
    draws = bootstrap_indices(len(correct_a), n_boot, seed)  # the same questions for both runs
    differences = 100 * (correct_a[draws].mean(axis=1) - correct_b[draws].mean(axis=1))
    tail = 50 * (1 - level)
    low, high = np.percentile(differences, [tail, 100 - tail])
    return 100 * (correct_a.mean() - correct_b.mean()), low, high
    ### END SOLUTION


check("10.paired_bootstrap", paired_bootstrap)


# %% [markdown]
# ### Exercise `10.ablated_attention` · predict · 5 min
# Predict each spatial weight of a model built with use_spatial=False (P = 196).


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    return 1 / 196  # uniform over the 14 x 14 cells
    ### END SOLUTION


check("10.ablated_attention", answer)


# %% [markdown]
# ### Exercise `10.ablation` · experiment · 45 min
# Experiment: switch one block off at lesson scale and explain the measured change.


# %%
def answer():
    """Your measurement, as a dict."""
    ### BEGIN SOLUTION
    full = results.loc[results["variant"] == "full", "overall"].mean()
    ablated = results.loc[results["variant"] == "no_sasr", "overall"].mean()
    return dict(setting="use_sasr", value=False, before=full, after=ablated, explanation=(
        f"Switching SaSR off moved the mean over seeds from {full:.1f}% to {ablated:.1f}%. Without it the tokens "
        "never read the segments, so the features carry no source-aware summary and L_source only trains the "
        "presence heads; the paired interval in the table above says whether this test set can see the "
        "difference (the paper's Table 2 implies -2.05 for the same switch on MUSIC-AVQA)."))
    ### END SOLUTION


check("10.ablation", answer)
