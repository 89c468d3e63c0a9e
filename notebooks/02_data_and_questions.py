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
# # 02 · Data and questions
#
# **Paper §4.1.** MUSIC-AVQA pairs 9,290 music videos with 45,867 questions generated from 33
# templates such as "Is the `<Object>` louder than the `<Object>`?". Each template belongs to one
# of 9 question types: Audio {Counting, Comparative}, Visual {Counting, Location}, Audio-Visual
# {Existential, Location, Counting, Comparative, Temporal}; the paper's Table 1 reports accuracy
# in exactly these columns.
#
# This notebook reads the annotation format, turns questions into the 14 word indices the model
# reads, looks at the answer distributions (and why a model must beat the *prior* before its
# accuracy means anything), and opens the synthetic benchmark that lets the kit run with no
# download: same schema, same feature shapes, and a known ground truth for every scene.

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display

from sasr_lite.device import pick_device
from sasr_lite.notebook_utils import sizes, synthetic_benchmark

DEVICE = pick_device()
SIZES = sizes(SCALE)
DATA = synthetic_benchmark(SIZES.synth_size)  # test: tiny (60 videos), lesson: small (1,000), paper: full
print("scale:", SIZES.scale, "| benchmark:", DATA)
MUSIC_AVQA = None  # a folder holding the real avqa-{train,val,test}.json, to compare with the real data

# %% [markdown]
# ## One annotation record
# The file is a JSON list of records (docs/design.md §2.1). Three traps: `type` is a *string* holding a
# JSON list, `templ_values` too, and the answer key is spelt `anser`. The synthetic benchmark
# writes exactly the same format:

# %%
raw = json.loads((DATA / "avqa-train.json").read_text())[0]
raw

# %% [markdown]
# ## From a record to 14 word indices
# The reference pipeline fills the placeholders in order from `templ_values`, drops the question
# mark, splits on spaces and pads to $L = 14$ words. Re-derived here, then checked against
# `sasr_lite.data.annotations`, which every part of the kit uses:

# %%
# NBVAL_CHECK_OUTPUT
from sasr_lite.data.annotations import load_annotations


def by_hand(raw: dict) -> tuple[str, ...]:
    """The reference preprocessing of one raw record: fill, drop the question mark, split, pad."""
    filled = raw["question_content"]
    for value in json.loads(raw["templ_values"]):
        filled = re.sub(r"<[A-Za-z]+>", value, filled, count=1)  # placeholders in order
    words = filled.rstrip().rstrip("?？").split()
    return tuple(words + ["<pad>"] * (14 - len(words)))


records = {split: load_annotations(DATA / f"avqa-{split}.json") for split in ("train", "val", "test")}
raws = json.loads((DATA / "avqa-train.json").read_text())
assert all(by_hand(r) == record.tokens for r, record in zip(raws, records["train"]))
print("ok  by-hand tokens match the package for every train record")

# %%
record = records["train"][0]
print("tokens:", record.tokens)
print("type:", record.group, "/", record.subtype, "| template:", record.template.key, "| answer:", record.answer)

# %% [markdown]
# Vocabularies come from the train split only (never hard-coded): questions get `<pad>` = 0 and
# `<unk>` = 1; answers have no `<unk>`, so an answer never seen in train can never be predicted
# (it encodes to -1 and counts as wrong). On MUSIC-AVQA's real train split this gives 94 question
# entries (the official code's 93 words, plus our `<unk>`) and 42 answers.

# %%
from sasr_lite.data.vocab import build_vocabularies

question_vocab, answer_vocab = build_vocabularies(records["train"])
print(f"{len(question_vocab)} question words, {len(answer_vocab)} answers")
print("encoded:", question_vocab.encode(record.tokens))
print({split: len(r) for split, r in records.items()}, "questions per split")

# %% [markdown]
# ## The 33 templates

# %%
from sasr_lite.data.taxonomy import SUBTYPES, TEMPLATES

counts = pd.Series([r.template.key for r in records["train"]]).value_counts()
templates = pd.DataFrame(
    [dict(group=t.group, type=t.subtype, template=t.text, train_questions=int(counts.get(t.key, 0))) for t in TEMPLATES]
)
templates

# %% [markdown]
# ## Answers per question type, and the prior
# Many templates have a short answer list (yes/no, a number, left/right), and on real data the
# answers are far from uniform. A model can then score well by learning *which answer is usual
# for this kind of question* without looking or listening. `sasr_lite.baselines.AnswerPrior`
# predicts each template's most frequent train answer; it is the floor every number in Table 1
# has to be read against. The synthetic generator spreads the answers of each template as evenly
# as the template allows, which caps the prior but does not make it small: a yes/no template is
# still answered right half the time by always saying "yes", a left/right one half the time, so
# read the table below type by type (on the lesson benchmark: about 50% on the yes/no types, about
# 20-27% on the location and temporal ones, about 38% overall). On MUSIC-AVQA the answers are far
# less balanced: measured with this kit on the updated release, a prior fitted on the val
# annotations alone answers 51.0% of the test questions correctly, and 78.9% of the Audio-Visual
# Existential ones (AVST, which sees and hears, reports 82.49% there).

# %%
def answer_shares(recs, title):
    """Heatmap: share (%) of each answer within each of the 9 question types."""
    frame = pd.DataFrame({"type": [f"{r.group} {r.subtype}" for r in recs], "answer": [r.answer for r in recs]})
    shares = pd.crosstab(frame["answer"], frame["type"], normalize="columns") * 100
    shares = shares[[f"{g} {s}" for g, s in SUBTYPES if f"{g} {s}" in shares.columns]]  # Table 1 order
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(shares) + 1.8))
    sns.heatmap(shares, cmap="rocket_r", vmin=0, vmax=100, linewidths=0.3, cbar_kws=dict(label="% of the type"), ax=ax)
    ax.set(title=title, xlabel="", ylabel="answer")
    ax.tick_params(axis="both", labelsize=7)
    plt.show()


answer_shares(records["train"], "synthetic train split: answers per question type (%)")

# %%
from sasr_lite.baselines import AnswerPrior
from sasr_lite.evaluate import accuracy_table

prior = AnswerPrior().fit(records["train"])
prior_table = accuracy_table(records["test"], prior.predict(records["test"]), name="answer prior (synthetic test)")
# type by type, as the text reads it: a group's average pools types with different answer lists
prior_table.loc[:, [(group, kind) for group, kind in prior_table.columns if kind != "Avg" or group == "Overall"]].round(1)

# %% [markdown]
# With `MUSIC_AVQA` pointing at the real annotations, the same two views of the real data (the
# prior is fitted on train when present, else on val, and scored on test):

# %%
if MUSIC_AVQA is not None:
    from pathlib import Path

    real = {s: load_annotations(p) for s in ("train", "val", "test") if (p := Path(MUSIC_AVQA) / f"avqa-{s}.json").is_file()}
    fit_split = "train" if "train" in real else "val"
    answer_shares(real[fit_split], f"MUSIC-AVQA {fit_split}: answers per question type (%)")
    real_prior = AnswerPrior().fit(real[fit_split])
    display(accuracy_table(real["test"], real_prior.predict(real["test"]), name=f"answer prior ({fit_split} -> test)").round(1))

# %% [markdown]
# ## The synthetic benchmark's scenes
# Every synthetic video is generated from a *scene* (`sasr_lite.synth.scenes`): which instruments
# are visible where (a box on the 14×14 grid), which are heard (some are off-screen), when each one
# sounds (in 6-second blocks, so every answer survives the stride-6 sampling), how loud and how
# rhythmic. Questions, answers, features and rendered media are all computed from the scene, which
# also gives the attention ground truth used in notebooks 05, 06 and 09.
#
# The `tiny` and `full` benchmarks draw scenes from all 22 classes. The `small` one behind
# `make demo` draws from the 8 classes MUSIC-AVQA's questions name most often: in a few CPU
# minutes, a model learns which word names which sound for 8 classes, but for few of 22.

# %%
from sasr_lite.synth.media import render_frames
from sasr_lite.synth.scenes import load_scenes

scenes = load_scenes(DATA / "scenes" / "train.json")
scene = max(scenes, key=lambda s: (len({i.sounding for i in s.instruments}), len(s.visible)))  # a busy one
frame = next(render_frames(scene, seconds=1, fps=1))

fig, axes = plt.subplots(1, 2, figsize=(11, 3), gridspec_kw=dict(width_ratios=[1, 1.6]))
axes[0].imshow(frame)
axes[0].set_title(f"video {scene.video_id}, second 0 ({scene.background})")
axes[0].axis("off")
masks = np.array([i.mask for i in scene.instruments], dtype=float)  # [instruments, 60]
axes[1].imshow(masks, aspect="auto", cmap="Greens", vmin=0, vmax=1.3)
axes[1].set_yticks(range(len(scene.instruments)),
                   [f"{i.cls} ({i.side or 'off-screen'})" for i in scene.instruments])
axes[1].set_xticks(range(0, 60, 6))
axes[1].set(xlabel="second (ticks: the kept segments)", title="who sounds when")
plt.tight_layout()
plt.show()
for r in records["train"]:
    if r.video_id == scene.video_id:
        print(f"{r.question}?  ->  {r.answer}")

# %% [markdown]
# ## The feature store and a batch
# Each split's features live in one folder of contiguous float16 arrays, memory-mapped, so a
# batch is a couple of fancy-index reads (docs/design.md §5.1). `AVQADataset` adds the encoded question,
# the answer index, the weak source labels and, for $L_{match}$, the maps of *another* video;
# `BatchLoader` gathers whole batches and converts to float32 on the device. A batch carries each
# of its videos once (the first dimension is V) and its questions ($B$ rows), with `video_of`
# saying which video each question is about: SaSR-Net's video path never reads the question,
# so it runs once per video however many questions ask about it.

# %%
from sasr_lite.data.dataset import AVQADataset, BatchLoader
from sasr_lite.data.sources import weak_source_labels
from sasr_lite.data.store import FeatureStore

store = FeatureStore.open(DATA / "store" / "train")
print(f"store: {len(store)} videos, T={store.T}, P={store.P}, maps {store.maps.dtype} {list(store.maps.shape)}")
dataset = AVQADataset(records["train"], store, question_vocab, answer_vocab,
                      source_labels=weak_source_labels(records["train"]))
batch = next(iter(BatchLoader(dataset, batch_size=4, shuffle=False, device=DEVICE)))
for key, value in batch.items():
    print(f"  {key:<16} {str(value.dtype):<14} {list(value.shape)}")

# %% [markdown]
# The source labels behind $L_{source}$ are *weak*: MUSIC-AVQA ships none, so
# `sasr_lite.data.sources` marks every instrument a video's train questions and answers name
# (dropping those an answer says are absent). The official labels also used an audio tagger and
# were never published.

# %%
from sasr_lite.data.sources import class_names

labels = weak_source_labels(records["train"])
truth = sorted({i.cls for i in scene.instruments})
print("weak label:", class_names(labels[scene.video_id]), "| scene's instruments:", truth)


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
from collections import Counter

from sasr_lite.labs import check


# %% [markdown]
# ### Exercise `02.answer_prior` · implement · 15 min
# Write the per-template answer prior (most frequent train answer, ties alphabetical).


# %%
def answer_prior(train_templates: list[str], train_answers: list[str], test_templates: list[str]) -> list[str]:
    """The per-template answer prior: one predicted answer per test question.

    train_templates[i] is the template key of train question i (e.g. "a_count_is_there") and
    train_answers[i] its answer. A test question gets its template's most frequent train
    answer, a tie going to the alphabetically first answer; a template never seen in train
    gets the most frequent train answer overall (same tie rule).
    """
    ### BEGIN SOLUTION
    def best(answers):
        counts = Counter(answers)
        return min(counts, key=lambda a: (-counts[a], a))  # most frequent, ties alphabetical

    by_template = {}
    for key, answer in zip(train_templates, train_answers):
        by_template.setdefault(key, []).append(answer)
    fallback = best(train_answers)
    return [best(by_template[k]) if k in by_template else fallback for k in test_templates]
    ### END SOLUTION


check("02.answer_prior", answer_prior)


# %% [markdown]
# ### Exercise `02.prior_balanced` · predict · 5 min
# Predict the prior's accuracy (%) on a template answered left, right, middle equally often.


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    return 100 / 3  # the prior always answers one of the three: right a third of the time
    ### END SOLUTION


check("02.prior_balanced", answer)
