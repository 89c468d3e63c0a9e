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
# # 10 · Ablations as experiments
#
# **Paper §4.3.** Two ablation tables on MUSIC-AVQA (`sasr_lite.paper.ablation_reference()`): without
# SLT and SaSR the model scores 70.31, and both blocks together add 3.90 (Table 2); without spatial
# (SA) and temporal (TA) attention 70.17, and both add 1.03 (Table 3). The paper gives single numbers,
# no seeds, no intervals, and no per-type breakdown.
#
# An ablation is an experiment, and this notebook runs it as one:
#
# 1. **Why a block could be useless.** A block matters only for questions that nothing else can
#    answer. Without SA the visual path reads the spatial mean $\frac{1}{P}\sum_p X_{t,p}$; without TA
#    the answer reads the time average $\frac{1}{T}\sum_t$. If those means already hold the answer (a
#    *shortcut*), switching the block off costs nothing. We measure what the means give away.
# 2. **Predict** which question types each ablation should hurt, from the equations, before any run.
# 3. **Run** every variant with three seeds, each until its validation accuracy stops improving.
# 4. **Measure** per question type, with paired-bootstrap 95% intervals, and compare with the
#    prediction.
# 5. **Take an overlapping block out** (SLT, which also reads over time) and repeat the SA and TA
#    ablations: a block can look useless beside another that does part of its job.
# 6. **Turn a shortcut on** and repeat the SA ablation: where the means can answer, the block
#    should become redundant.

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without
DATA = None  # a MUSIC-AVQA folder prepared by data_scripts/; None: $SASR_LITE_DATA, else the synthetic benchmark

# %%
# %matplotlib inline
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display

from sasr_lite.data.loading import load_data
from sasr_lite.device import pick_device
from sasr_lite.model import build_model
from sasr_lite.notebook_utils import ablation_data, sizes
from sasr_lite.synth.cues import Cues

DEVICE = pick_device()
SIZES = sizes(SCALE)
data = load_data(ablation_data(SIZES, DATA), splits=("train", "val", "test"))
SYNTHETIC = data.release == "synthetic"
CUES = Cues.from_dict(json.loads((data.root / "synth.json").read_text())["cues"]) if SYNTHETIC else None
print("scale:", SIZES.scale, "| device:", DEVICE, "| data:", data.root, "|", len(data.records["test"]), "test questions")
print("cues:", CUES.to_dict() if CUES else "real data (no cue knobs)")

# %% [markdown]
# ## The switches do what they say
# Each block has a switch in `SaSRConfig` (`use_slt`, `use_sasr`, `use_spatial`, `use_temporal`;
# docs/design.md §3.7). One forward pass of each variant on the same random batch, checked against
# the definitions:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
B, T, P = 2, 10, 196
config = SIZES.model.replace(num_answers=5)
maps = torch.rand(B, T, P, 512)
inputs = (torch.rand(B, T, 128), maps.mean(2), maps, torch.randint(0, config.question_vocab_size, (B, 14)))

out = build_model(config.replace(use_spatial=False, use_temporal=False)).eval()(*inputs)
print("no SA: spatial weights exactly 1/P:", bool((out.spatial_attn == 1 / P).all()))
print("no TA: temporal weights exactly 1/T:", bool((out.temporal_attn_a == 1 / T).all() and (out.temporal_attn_v == 1 / T).all()))

model = build_model(config.replace(use_slt=False, use_sasr=False)).eval()
out = model(*inputs)
print("no SLT: no self-attention map:", out.slt_attn_a is None)
print("no SaSR: tokens unchanged:", torch.equal(out.tokens_a[0], model.slt.tokens))

# %% [markdown]
# ## What the means give away: the cues of the benchmark
# The synthetic generator has a named knob for each shortcut (`sasr_lite/synth/cues.py`, recorded in
# `synth.json`); its docstrings derive from the equations which block each knob makes necessary:
#
# | knob | on | makes which block redundant when on |
# |---|---|---|
# | `position_in_pooled` | each column scales the channels, so the spatial mean still says which instrument stands where | SA, for Location |
# | `playing_in_pooled` | a playing instrument looks brighter, so the mean says who plays | SA's audio-visual match |
# | `silent_visible` | some visible instruments never play | (off: vision alone counts the sounding ones) |
# | `several_at_once` | two or more sources often play in one segment | (off: one plays at a time, so SA's weights can peak on it) |
# | `offscreen` | some sounds come from outside the picture | (off: "is this sound from the video" is always yes) |
# | `order_in_time_average` | everyone plays from entry to end, so the time average gives the order | TA, for Temporal |
# | `time_in_features` | a slow drift says *when* each segment is | (off: no block can tell first from last) |
#
# The last knob is about the architecture, not a shortcut: SaSR-Net has **no positional encoding**.
# Every block treats the $T$ segments alike and TA is a weighted sum, so shuffling the segments
# changes no answer (checked here on a real batch). "First" and "before" are answerable only when
# the features themselves say when a segment is.

# %%
from sasr_lite.data.batch import model_inputs
from sasr_lite.data.dataset import BatchLoader
from sasr_lite.data.loading import sized_for

batch = next(iter(BatchLoader(data.dataset("test"), 8, shuffle=False, device=DEVICE)))
torch.manual_seed(0)
fresh = build_model(sized_for(SIZES.experiment_model, data)).to(DEVICE).eval()
x = model_inputs(batch)
order = torch.randperm(x["audio"].shape[1])
shuffled = {k: v[:, order] if k in ("audio", "visual", "visual_maps") else v for k, v in x.items()}
with torch.no_grad():
    moved = (fresh(**x).answer_logits - fresh(**shuffled).answer_logits).abs().max().item()
print(f"segments shuffled: largest change of an answer logit {moved:.1e} (float rounding)")

# %% [markdown]
# **A probe of the means.** A small MLP reads the question (template and fillers) and either
# nothing more or the *averaged* features (pooled visual and audio, averaged over the segments:
# exactly what the model sees with SA and TA off). Trained on the train split and scored on the test
# split (`sasr_lite.diagnose.cue_diagnosis`), on this benchmark and with a knob flipped. A type the
# average answers far above the question alone has a shortcut.

# %%
from sasr_lite.diagnose import cue_diagnosis

TYPES = ["Audio-Visual/Location", "Audio-Visual/Temporal", "Audio-Visual/Counting", "Visual/Location"]
if SYNTHETIC:
    probe = cue_diagnosis(SIZES.ablation_size, base=CUES, views=("question", "average"),
                          knobs=("position_in_pooled", "silent_visible", "several_at_once", "time_in_features"))
    display(probe.set_index(["setting", "view"])[TYPES + ["Overall"]].round(1))
else:
    print("real data: the probe needs the synthetic generator's knobs")

# %% [markdown]
# ## The paper's SaSR equation can forget which segment is which
# The paper's segment update $f^g = \mathrm{FC}(\mathrm{CrossAttn}(f^s, G'))$ has no residual: each
# segment becomes a mixture of token values and nothing else. If all segments read the tokens with the
# same weights, they become one vector. Measured on notebook 08's lesson model (the paper's equation),
# as the spread over the segments of each stage of the audio path (`sasr_lite.diagnose.segment_spread`):

# %%
from sasr_lite.diagnose import segment_spread
from sasr_lite.notebook_utils import lesson_model, notebook_data

lesson_data = load_data(notebook_data(SIZES, DATA), splits=("train", "val", "test"))
lesson, _ = lesson_model(SIZES, lesson_data)
audio = next(iter(BatchLoader(lesson_data.dataset("test"), 16, shuffle=False, device=DEVICE)))["audio"]
spread = segment_spread(lesson, audio)
print(spread.to_frame().T.map("{:.2e}".format).to_string())
print(f"f_a^g keeps {spread['f_a_g'] / spread['f_a_s']:.2f} of f_a^s's spread")

# %% [markdown]
# The less of $f^s$'s spread $f^g$ keeps, the more alike the audio query of spatial attention is from
# segment to segment, and the less temporal attention has to choose between. Trained for 16 epochs on
# this notebook's benchmark, the same sizes kept about $10^{-4}$ of it (docs/design.md §3.3), and
# temporal attention stayed uniform to four digits. The official code adds $f^s$ back
# ($f^g = f^s + \ldots$). The experiments below use that residual (`sasr_residual=True`) and a sharper
# spatial softmax (`spatial_temperature=0.1`: cosine scores lie in $[-1, 1]$, and at temperature 1 the
# weights on the sounding instrument stay near their uniform share): `SIZES.experiment_model`.

# %% [markdown]
# ## Predictions, before any run
# From the equations, on this benchmark (`sasr_lite.ablations.PREDICTIONS`):

# %%
from sasr_lite.ablations import PREDICTIONS

for variant, (switches, types, why) in PREDICTIONS.items():
    print(f"{variant} {switches}: predicted drop in {', '.join(types) or 'no type'}\n    because {why}")

# %% [markdown]
# ## Run every variant until it converges
# Three seeds per variant, each run under `runs/<scale>/experiments/` beside this notebook (reused when
# the notebook runs again), two at a time on a 2-core CPU. A run stops once the best validation
# accuracy of its last three epochs gains less than 0.5 points over the best before them (judged from
# epoch 9 on; `TrainConfig.converge_*`); the epoch cap is a safety net, and the table says for each run
# whether it converged or hit the cap.

# %%
from sasr_lite.evaluate import evaluate_split, prior_accuracy
from sasr_lite.notebook_utils import experiment_run, load_or_train_many, run_converged

VARIANTS = {"full model": ("full", {}), "no SLT": ("no_slt", dict(use_slt=False)),
            "no SaSR": ("no_sasr", dict(use_sasr=False)), "no SA": ("no_sa", dict(use_spatial=False)),
            "no TA": ("no_ta", dict(use_temporal=False))}
SEEDS = SIZES.ablation_seeds


def run_all(bench, variants: dict) -> tuple[pd.DataFrame, dict, dict]:
    """Train (or reuse) every variant x seed on ``bench``; per-run results, test predictions and models."""
    runs = {(name, seed): experiment_run(SIZES, bench, key, seed, changes)
            for name, (key, changes) in variants.items() for seed in SEEDS}
    models = dict(zip(runs, load_or_train_many(list(runs.values()), bench)))
    rows, predictions = [], {}
    for ((name, seed), run), model in zip(runs.items(), models.values()):
        report = evaluate_split(model, bench, "test", name=name)  # grades the attention on synthetic data
        history = pd.read_csv(run.run_dir / "metrics.csv")
        predictions[name, seed] = report.predictions.frame
        table = report.table.iloc[0]
        rows.append(dict(variant=name, seed=seed, epochs=len(history), converged=run_converged(history),
                         overall=table[("Overall", "Avg")], audio_visual=table[("Audio-Visual", "Avg")],
                         pointing=report.attention["pointing_accuracy"] if report.attention else np.nan,
                         spatial_mass=report.attention["spatial_mass"] if report.attention else np.nan,
                         temporal_mass=np.mean([report.attention[f"temporal_mass_{m}"] for m in ("audio", "visual")])
                         if report.attention else np.nan,
                         temporal_uniform=report.attention["temporal_mass_uniform"] if report.attention else np.nan))
    return pd.DataFrame(rows), predictions, models


results, predictions, models = run_all(data, VARIANTS)
results[["variant", "seed", "epochs", "converged"]].pivot(index="variant", columns="seed").loc[list(VARIANTS)]

# %% [markdown]
# ## Accuracy per variant
# Mean ± standard deviation over the seeds, beside the answer prior of notebook 02 (a model at the
# prior has learned nothing from the video), the spatial attention's pointing (how often its peak lies
# on a sounding instrument) and its mass there (the uniform share is the pointing's chance), the
# temporal attention's mass on the segments each question asks about (audio and visual branches
# averaged; uniform weights give the share printed above the table), and what the paper's text
# implies for the same change (Table 2 only; Table 3 gives no single-attention row).

# %%
from sasr_lite.paper import ablation_reference

reference = ablation_reference()
table2 = reference[reference["table"] == "Table 2"].set_index("variant")["gain"]
paper_delta = {"no SLT": table2["+ SaSR"] - table2.max(), "no SaSR": table2["+ SLT"] - table2.max()}
prior = prior_accuracy(data.records["train"], data.records["test"])
summary = results.groupby("variant", sort=False)[["overall", "audio_visual", "pointing", "spatial_mass",
                                                  "temporal_mass"]].agg(["mean", "std"]).round(1)
summary[("paper: overall change (implied)", "")] = [f"{paper_delta[v]:+.2f}" if v in paper_delta else "-" for v in summary.index]
print(f"{SIZES.scale} scale: answer prior {prior:.1f}% on {len(data.records['test'])} test questions; uniform temporal "
      f"weights put {results['temporal_uniform'].mean():.1f}% on the segments a question asks about")
if SIZES.smoke:
    print("SMOKE RUN (test scale): seconds of training; the numbers show the machinery, not a result")
summary

# %% [markdown]
# ## Per-type differences, with intervals
# For each variant: its accuracy minus the full model's on the same test questions, per question type.
# Each question counts as the share of a variant's seeds that answered it right. Two things would
# change the difference if we ran the experiment again: other test questions, and other training
# runs. The same seeds retrained on another CPU land elsewhere (floating-point sums in another
# order), and on this benchmark a per-type difference of 2-3 points can flip sign that way. So each
# of the 1,000 bootstrap resamples first draws each variant's seeds with replacement, then the test
# questions, the same ones for both variants (`sasr_lite.ablations.ablation_deltas`). An interval
# that contains 0 means these runs and this test set cannot tell the two apart. With three seeds the
# run level is coarse, and it still understates the spread a little (a bootstrap of 3 draws does).

# %%
from sasr_lite.ablations import ablation_deltas, prediction_check

KEYS = {name: key for name, (key, _) in VARIANTS.items()}
by_key = {KEYS[name]: [predictions[name, s] for s in SEEDS] for name in VARIANTS}
deltas = ablation_deltas(data.records["test"], by_key, reference="full")


def delta_table(deltas: dict, columns=TYPES + ["Overall/Avg"]) -> pd.DataFrame:
    """variant x type: "delta [low, high]" in percentage points."""
    return pd.DataFrame({v: {c: "{:+.1f} [{:+.1f}, {:+.1f}]".format(*cells[c]) for c in columns if c in cells}
                         for v, cells in deltas.items()}).T


display(delta_table(deltas))
checks = pd.DataFrame(prediction_check(deltas))
checks["verdict"] = np.where(checks["shown"], "drop shown (interval below 0)", "not shown")
checks.round(2)

# %% [markdown]
# ## Found, not predicted
# Every question type whose interval lies wholly below 0 for a variant (a *drop*) or wholly above 0
# (a *gain*: the model does better without the block), beside whether the equations predicted it. No
# gain was predicted. A drop or a gain nobody predicted is a hypothesis for the next experiment, not
# a result to explain away.

# %%
GROUPS = ("Audio/", "Visual/", "Audio-Visual/")
predicted = {v: set(types) for v, (_, types, _) in PREDICTIONS.items()}
found = pd.DataFrame([dict(variant=v, type=c, effect="drop" if hi < 0 else "gain", delta=d, low=lo, high=hi,
                           predicted=hi < 0 and c in predicted.get(v, ()))
                      for v, cells in deltas.items() for c, (d, lo, hi) in cells.items()
                      if c.startswith(GROUPS) and not c.endswith("/Avg") and (hi < 0 or lo > 0)])
found.round(2) if len(found) else "no type moves with its whole interval on one side of 0"

# %% [markdown]
# Where does a gain come from? Per template of each type that gained, mean accuracy over the seeds,
# the full model beside the variant (`sasr_lite.evaluate.template_table`).

# %%
from sasr_lite.evaluate import template_table


def template_means(name: str, runs: dict) -> pd.Series:
    """Per-template test accuracy (%) of variant ``name``, mean over the seeds."""
    per_seed = [template_table(data.records["test"], runs[name, s])["accuracy"] for s in SEEDS]
    return pd.concat(per_seed, axis=1).mean(axis=1)


NAMES = {key: name for name, key in KEYS.items()}
templates = template_table(data.records["test"], predictions["full model", SEEDS[0]])[["group", "type", "question"]]
gains = found[found["effect"] == "gain"] if len(found) else found
largest = {}  # variant -> its gain's template that moved most: (question, full model, variant)
for r in gains.itertuples():
    group, subtype = r.type.split("/")
    rows = templates[(templates["group"] == group) & (templates["type"] == subtype)].copy()
    for name in ("full model", NAMES[r.variant]):
        rows[name] = template_means(name, predictions).reindex(rows.index)
    rows["difference"] = rows[NAMES[r.variant]] - rows["full model"]
    top = rows.loc[rows["difference"].idxmax()]
    largest[f"{NAMES[r.variant]} ({r.type})"] = (top["question"], top["full model"], top[NAMES[r.variant]])
    print(f"{NAMES[r.variant]} gains {r.delta:+.1f} points on {r.type}:")
    display(rows.drop(columns=["group", "type"]).round(1))

# %% [markdown]
# At the lesson scale the gains of *no SA* and *no SLT* on Visual/Location sit almost entirely in one
# template, "Where is the performance?" (indoor or outdoor), whose answer is the background that fills
# most of the 196 cells. Without SA, $f_{v,t}^{attn}$ is the spatial mean, mostly background; with SA
# at temperature 0.1 the weights sit on the instruments' cells (the pointing above). The full model
# still has the pooled path $f_v^g$, which holds the whole picture, and answers near the template's
# prior anyway. Why it does not learn to read the background from there is open: a hypothesis for the
# next experiment, not a result.

# %% [markdown]
# ## SLT reads over time too: SA and TA without it
# SLT's step (3.2) is self-attention over the $T$ segments *and* the tokens together, so each segment
# comes out as a content-weighted read of every segment:
# $f^s_t = \sum_j w_{t,j} f^r_j + \sum_c w_{t,c}\, g_c$. Choosing segments by their content is TA's
# job (3.5), and with SLT on it is partly done before TA runs: TA then picks among segments that
# already hold each other, and the plain time average loses little. Without SLT, $f^s_t = f^r_t$ is
# segment $t$ alone: TA is the only block that reads over time, and SA's audio query at $t$ is
# segment $t$'s own sound. Prediction: measured against the model without SLT, switching TA off
# drops Audio-Visual/Temporal, and switching SA off drops Audio-Visual/Location
# (`sasr_lite.ablations.WITHOUT_SLT_PREDICTIONS`). The TA half came from a one-seed pilot (seed 0
# without SLT and TA); the three seeds below test it. Same seeds and stopping rule as above; the
# "no SLT" runs are the ones above.

# %%
from sasr_lite.ablations import WITHOUT_SLT_PREDICTIONS, WITHOUT_SLT_REFERENCE

for variant, (switches, types, why) in WITHOUT_SLT_PREDICTIONS.items():
    print(f"{variant} {switches}: predicted drop in {', '.join(types)}\n    because {why}")
SLT_VARIANTS = {"no SLT": VARIANTS["no SLT"]} | {
    f"no SLT, {name}": (f"{WITHOUT_SLT_REFERENCE}_{key}", WITHOUT_SLT_PREDICTIONS[key][0])
    for name, key in (("no SA", "no_sa"), ("no TA", "no_ta"))}
slt_results, slt_predictions, _ = run_all(data, SLT_VARIANTS)
slt_keys = {"no SLT": WITHOUT_SLT_REFERENCE, "no SLT, no SA": "no_sa", "no SLT, no TA": "no_ta"}
slt_deltas = ablation_deltas(data.records["test"], {slt_keys[n]: [slt_predictions[n, s] for s in SEEDS]
                                                    for n in SLT_VARIANTS}, reference=WITHOUT_SLT_REFERENCE)
display(slt_results.groupby("variant", sort=False)[["epochs", "overall", "pointing"]].agg(["mean", "min", "max"]).round(1))
display(delta_table(slt_deltas))
slt_checks = pd.DataFrame(prediction_check(slt_deltas, WITHOUT_SLT_PREDICTIONS))
slt_checks["verdict"] = np.where(slt_checks["shown"], "drop shown (interval below 0)", "not shown")
slt_checks.round(2)

# %% [markdown]
# Per template, mean accuracy over the seeds, beside each template's answer prior. No Audio-Visual
# Location question of MUSIC-AVQA asks for a place alone: each also needs when or how loud (the first
# or last instrument to come in, the loudest, the one playing at the same time), so SA's place helps
# only once that part is answered. The two whose answer is a place ("is the first sounding
# instrument on the left", "where is the loudest instrument") stay near their answer prior here for
# every variant, the full model included.

# %%
from sasr_lite.baselines import AnswerPrior
from sasr_lite.data.taxonomy import TEMPLATES

AV_TEMPLATES = [t.key for t in TEMPLATES if t.group == "Audio-Visual" and t.subtype in ("Location", "Temporal")]
all_predictions = {**predictions, **slt_predictions}
per_template = pd.DataFrame({name: template_means(name, all_predictions)
                             for name in ["full model", "no SA", "no TA", *SLT_VARIANTS]})
per_template["answer prior"] = template_table(data.records["test"], AnswerPrior().fit(data.records["train"]).predict(
    data.records["test"]))["accuracy"]
per_template.reindex([k for k in AV_TEMPLATES if k in per_template.index]).round(1)

# %% [markdown]
# ## Why *no TA* shows nothing: a block that does not choose
# Read the `temporal_mass` column of the summary first. In the trained runs TA puts as much weight
# on the segments a question asks about as uniform weights would (the share printed above that
# table): it has not learned to pick them. Uniform weights, $a_t = 1/T$, are exactly what the
# ablation puts in TA's place, so switching off a TA that does not choose removes nothing the
# answers depend on, whatever the questions need. An ablation measures a block *as trained*, not as
# designed. Check what a block does before you read its ablation.
#
# Could choosing segments by the question pay off on this benchmark? Two more probes
# (`sasr_lite.diagnose.SegmentProbe`) read the segments, beside the raw average:
#
# - **set** reads each segment with a small MLP $\phi$ and averages: $\frac{1}{T}\sum_t \phi(x_t)$. This
#   is what the model keeps without TA. Every segment passes FC-ReLU-FC (3.1), SLT and SaSR before
#   the answer, and the answer always adds the time average of those features (3.6). A mean of
#   *nonlinear* features can keep the order when a segment's features say when it is: a unit
#   $\mathrm{ReLU}(w \cdot x_t - b)$ that fires only for "violin, early" survives the average (a
#   *Deep Sets* encoder, Zaheer et al. 2017). The spatial mean behind SA's ablation has no such
#   $\phi$, because it averages the raw maps.
# - **attended** weights the same $\phi(x_t)$ by the question, as TA does:
#   $\mathrm{softmax}_t(q \cdot \phi(x_t) / \sqrt{H})$.
#
# The test suite checks the mechanism on questions built for it ("which of A and B comes in
# first?", where each plays 3 of 10 segments). There the raw average scores a coin's 50%, and set
# and attended score 100%. The table below uses this benchmark's Audio-Visual/Temporal questions:
# each probe is trained and scored on those alone, with three probe seeds, with time in the
# features and without.

# %%
from sasr_lite.diagnose import ProbeConfig, probe_accuracy, probe_data, select_types

ORDER_VIEWS, ORDER_SEEDS = ("question", "average", "set", "attended"), (0, 1, 2)
ORDER_COLUMNS = ["Audio-Visual/Temporal", *[k for k in AV_TEMPLATES if k.startswith("av_temp")]]
order_probe = None
if SYNTHETIC:
    rows = []
    for on in (True, False):
        temporal = select_types(probe_data(SIZES.ablation_size, CUES.replace(time_in_features=on)), ORDER_COLUMNS[:1])
        rows += [{"time_in_features": "on" if on else "off", "view": view, "seed": seed,
                  **probe_accuracy(temporal, view, ProbeConfig(seed=seed), by_template=True)}
                 for view in ORDER_VIEWS for seed in ORDER_SEEDS]
    by_view = pd.DataFrame(rows).groupby(["time_in_features", "view"], sort=False)
    order_probe = by_view[ORDER_COLUMNS].agg(["mean", "std"])
    print(f"test accuracy (%), mean and std over {len(ORDER_SEEDS)} probe seeds")
    display(order_probe.round(1))
else:
    print("real data: the probe needs the synthetic generator's knobs")

# %% [markdown]
# With time in the features, the attended reader beats both the raw average and the set reader on
# the Audio-Visual/Temporal questions. Most of its gain is on "what is the <TH> instrument that comes
# in" and "before/after". Without time in the features, no reader beats the average by more than
# the spread between probe seeds.
# The set reader could hold the order in principle, but it does not learn it from this benchmark's
# temporal training questions (under a thousand). So choosing segments by the question is worth a
# few points here, and that is TA's job (3.5). The trained model's TA does not take those points,
# because it never learned to pick the segments. A drop for *no TA* can only appear once the full
# model's TA learns to focus, and in these runs it never did.

# %% [markdown]
# ## Fitted, not learned: the templates whose answer is a place
# Why do the place templates stay near their prior, whatever block is switched off? Either the model
# cannot see the place, or it never learns to read it. Score the full model's runs on the questions they
# were trained on as well (`sasr_lite.evaluate.fit_table`): a template answered on the training videos
# but not on new ones was learned as a fact about each video, not as a rule that reads the features.
# That is possible here: every training video comes with about 20 questions, and its features identify
# it. An ablation can only show a drop on questions the full model answers by a rule, so a large
# `gap` on a template means no block's ablation can show anything there.

# %%
from sasr_lite.evaluate import fit_table

train_runs = [evaluate_split(models["full model", s], data, "train", name="full model", grade=False).predictions.frame
              for s in SEEDS]
fit = fit_table(data.records["train"], train_runs, data.records["test"], [predictions["full model", s] for s in SEEDS])
fit["answer prior (test)"] = per_template["answer prior"]
PLACE_TEMPLATES = [k for k in ("av_loc_where_ll", "av_temp_where_fl") if k in fit.index]
fit.reindex([k for k in AV_TEMPLATES if k in fit.index]).round(1)

# %% [markdown]
# Two blocks that read over time overlap: an ablation measures what a block adds *given the others*,
# so a block can look useless beside one that does part of its job and be needed without it; the
# experiment above tests that for SA and TA beside SLT. A run's epochs are in the table: the
# stopping rule judges plateaus from epoch 9 on, and a run that stops early on one pulls its variant
# down, so read a large drop beside the epochs it trained.

# %% [markdown]
# ## The cue experiment: the same ablation with a shortcut on
# Counting the *sounding* instruments needs each sound matched to a pictured instrument whenever some
# pictured instruments never play (`silent_visible` on, as in this benchmark): the audio-guided
# spatial attention is where a sound meets the picture. With `silent_visible` off every pictured
# instrument plays at some point, the count of sounding ones is the count of pictured ones, and the
# pooled picture answers it: SA should then be **redundant for Audio-Visual/Counting**. This
# prediction is written before these runs: the full model and *no SA* on a benchmark that differs
# in that one knob.

# %%
cue_experiment = None
if SYNTHETIC:
    CUE_KNOB = "silent_visible"
    flipped = CUES.replace(**{CUE_KNOB: not getattr(CUES, CUE_KNOB)})
    flipped_data = load_data(ablation_data(SIZES, DATA, cues=flipped), splits=("train", "val", "test"))
    flipped_results, flipped_predictions, _ = run_all(flipped_data, {n: VARIANTS[n] for n in ("full model", "no SA")})
    flipped_deltas = ablation_deltas(flipped_data.records["test"],
                                     {KEYS[n]: [flipped_predictions[n, s] for s in SEEDS] for n in ("full model", "no SA")},
                                     reference="full")
    state = lambda cues: f"{CUE_KNOB} {'on' if getattr(cues, CUE_KNOB) else 'off'}"
    cue_experiment = {"knob": CUE_KNOB, "cues": flipped.to_dict(),
                      "deltas": {state(CUES): {"no_sa": deltas["no_sa"]}, state(flipped): flipped_deltas},
                      "converged": {f"{KEYS[r.variant]}/seed{r.seed}": bool(r.converged)
                                    for r in flipped_results.itertuples()}}
    display(pd.concat({setting: delta_table(cells) for setting, cells in cue_experiment["deltas"].items()}))
    results = pd.concat([results, flipped_results.assign(variant=flipped_results["variant"] + f" ({state(flipped)})")])

# %% [markdown]
# The numbers go on record in `results/<scale>/ablations.json` (`sasr_lite.ablations.write_ablations`,
# with the cues, every per-type delta, which runs converged and the cue experiment) and the headline
# in `results/<scale>/10_ablations.json`, the file README quotes:

# %%
from pathlib import Path

from sasr_lite.ablations import write_ablations
from sasr_lite.results import record

main_runs = results[~results["variant"].str.endswith(")")]
slt_experiment = {"reference": WITHOUT_SLT_REFERENCE, "switches": {k: v[0] for k, v in WITHOUT_SLT_PREDICTIONS.items()},
                  "deltas": slt_deltas, "converged": {f"{slt_keys[r.variant]}/seed{r.seed}": bool(r.converged)
                                                      for r in slt_results.itertuples()}}
converged = {f"{KEYS[r.variant]}/seed{r.seed}": bool(r.converged) for r in main_runs.itertuples()}
if cue_experiment is not None:
    print("wrote", write_ablations(Path("results") / SIZES.scale / "ablations.json", scale=SIZES.scale,
                                   cues=CUES.to_dict(), deltas=deltas, converged=converged,
                                   cue_experiment=cue_experiment, slt_experiment=slt_experiment, seeds=list(SEEDS),
                                   answer_prior=round(prior, 2)))
full_runs = main_runs[main_runs["variant"] == "full model"]
full = full_runs["overall"]
interval = "{:+.2f} [{:+.2f}, {:+.2f}]".format
cell = lambda v, c: interval(*deltas[v][c])
measured = {"seeds per variant": len(SEEDS), "runs converged": f"{sum(converged.values())} of {len(converged)}",
            "epochs per run (min-max)": f"{main_runs['epochs'].min()}-{main_runs['epochs'].max()}",
            "answer prior on test (%)": round(prior, 1),
            "full model, overall test accuracy (%)": f"{full.mean():.2f}" + (f" ± {full.std():.2f}" if len(full) > 1 else ""),
            "no SA: Audio-Visual/Location minus full [95% CI] (predicted drop)": cell("no_sa", "Audio-Visual/Location"),
            "no TA: Audio-Visual/Temporal minus full [95% CI] (predicted drop)": cell("no_ta", "Audio-Visual/Temporal"),
            "without SLT, no SA: Audio-Visual/Location minus no SLT [95% CI] (predicted drop)":
                interval(*slt_deltas["no_sa"]["Audio-Visual/Location"]),
            "without SLT, no TA: Audio-Visual/Temporal minus no SLT [95% CI] (predicted drop)":
                interval(*slt_deltas["no_ta"]["Audio-Visual/Temporal"]),
            "full model: temporal attention's mass on the segments a question asks about vs uniform weights (%)":
                f"{full_runs['temporal_mass'].mean():.1f} vs {full_runs['temporal_uniform'].mean():.1f}",
            "full model, place templates (where is the loudest / first sounding instrument): train vs test accuracy (%)":
                "{:.1f} vs {:.1f}".format(*fit.loc[PLACE_TEMPLATES, ["train", "test"]].mean()),
            "types moved without a prediction (interval wholly on one side of 0), variant minus full [95% CI]":
                "; ".join(f"{r.variant} {r.type} " + interval(r.delta, r.low, r.high)
                          for r in found.itertuples() if not r.predicted) or "none",
            "gains: the template that moved most, full model -> variant (%)":
                "; ".join(f"{v}: {q} {a:.1f} -> {b:.1f}" for v, (q, a, b) in largest.items()) or "none",
            "without SLT: runs converged, epochs per run (min-max)":
                f"{sum(slt_experiment['converged'].values())} of {len(slt_experiment['converged'])}, "
                f"{slt_results['epochs'].min()}-{slt_results['epochs'].max()}"}
measured |= {f"{name}: overall minus full [95% CI]": cell(KEYS[name], "Overall/Avg") for name in VARIANTS
             if name != "full model"}
if order_probe is not None:
    for setting in ("on", "off"):
        means = [order_probe.loc[(setting, v), ("Audio-Visual/Temporal", "mean")] for v in ("average", "set", "attended")]
        measured[f"probe of the segments, Audio-Visual/Temporal, time_in_features {setting}: average / set / attended "
                 f"(%, mean of {len(ORDER_SEEDS)} probe seeds)"] = " / ".join(f"{m:.1f}" for m in means)
if cue_experiment is not None:
    for setting, cells in cue_experiment["deltas"].items():
        measured[f"no SA, {setting}: Audio-Visual/Counting minus full [95% CI]"] = interval(*cells["no_sa"]["Audio-Visual/Counting"])
print("wrote", record(SIZES.scale, "10_ablations", measured, note=(
    f"notebook 10's experiments on the {data.release} lesson-cue benchmark ({SIZES.scale} scale, "
    f"{len(data.records['test'])} test questions): SaSR-Net with the SaSR residual and spatial temperature 0.1, "
    f"each variant x seed trained until its best validation accuracy gained under 0.5 points over 3 epochs (cap "
    f"{SIZES.experiment.epochs}); differences: 1,000 bootstrap resamples, each drawing every variant's seeds "
    "with replacement and then the test questions (paired), each question scored as the share of the drawn "
    "seeds that answered it right")))

# %%
fig, ax = plt.subplots(figsize=(9, 3.2))
variants = [v for v in deltas]
for k, column in enumerate(TYPES):
    for j, v in enumerate(variants):
        d, lo, hi = deltas[v][column]
        ax.errorbar(k + (j - 1.5) * 0.18, d, yerr=[[d - lo], [hi - d]], fmt="o", color=f"C{j}", capsize=3,
                    label=v if k == 0 else None)
ax.axhline(0, color="gray", lw=1)
ax.set_xticks(range(len(TYPES)), TYPES, fontsize=8)
ax.set(ylabel="variant - full model (pp)", title=f"per-type ablation effects, 95% intervals ({SIZES.scale} scale)")
ax.legend(fontsize=8, ncol=4)
plt.tight_layout()
plt.show()

# %% [markdown]
# Reading it honestly: a difference whose interval contains 0 is not a result; one whose interval lies
# below 0 where the equations predicted a drop is the block doing its job on questions only it can
# answer. A drop where none was predicted (above, "Found, not predicted") says the equations' story
# was incomplete; the cue experiment then tests the explanation it suggests.


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
    from sasr_lite.notebook_utils import experiment_run, run_accuracies

    def seeds_of(variant):  # the variant's runs, one per seed, as run_all trained them
        key, changes = VARIANTS[variant]
        return [experiment_run(SIZES, data, key, seed, changes) for seed in SEEDS]

    full, ablated = seeds_of("full model"), seeds_of("no SaSR")
    before, after = (float(np.mean(run_accuracies(runs, data))) for runs in (full, ablated))  # recorded per run
    return dict(setting="use_sasr", value=False, before=before, after=after, explanation=(
        f"Switching SaSR off moved the mean over seeds from {before:.1f}% to {after:.1f}%. Without it the tokens "
        "never read the segments, so the features carry no source-aware summary and L_source only trains the "
        "presence heads; the paired interval in the table above says whether this test set can see the "
        "difference, and the paper's implied change is printed beside it."),
        baseline=[str(r.run_dir) for r in full], run=[str(r.run_dir) for r in ablated])
    ### END SOLUTION


check("10.ablation", answer)
