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
# # 14 · MUSIC-AVQA v2.0 and MUSIC-AVQA-R: biased answers, balanced answers, rephrased questions
#
# MUSIC-AVQA's questions come from 33 templates, and within a template the answers are far from
# even: a model can score well by learning which answer a template usually gets. Two later
# releases measure how much of a score is that prior:
#
# - **MUSIC-AVQA v2.0** (Liu et al., WACV 2024) adds 1,230 hand-collected videos and about 8.1k new
#   questions so that the answers of each template are balanced, and publishes a *biased* and a
#   *balanced* version of train and test.
# - **MUSIC-AVQA-R** (Ma et al., NeurIPS 2024) rephrases every test question (211,572 questions
#   from 9,129) and splits them into *head* (answers frequent for their question type: more than
#   1.2 times the type's mean answer count) and *tail* (the rest). A model that leans on the prior
#   does well on the head and badly on the tail, and unseen wordings test whether it reads the
#   question at all.
#
# Both use MUSIC-AVQA's record schema, so the kit reads them through the same seam
# (`sasr_lite/data/annotations.py`): this notebook shows the record forms the published files
# hold, then trains SaSR-Net on a biased and a balanced synthetic benchmark and compares them, with
# bootstrap intervals, on balanced questions and on an -R style rephrased split.

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without
V2_TEST = None  # the published v2.0 test_balance.json to inspect; None: $SASR_LITE_MUSIC_AVQA_V2_TEST if set

# %%
# %matplotlib inline
import json
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from sasr_lite.data.annotations import DERIVED_ID_BASE, R_SPLITS, load_annotations
from sasr_lite.data.inspect import format_summary, summarize_file
from sasr_lite.data.loading import load_data
from sasr_lite.device import pick_device
from sasr_lite.evaluate import (
    accuracy_table, bootstrap_table, evaluate_split, format_table, head_tail_table, paired_bootstrap, prior_accuracy,
)
from sasr_lite.notebook_utils import load_or_train, run_root, sizes, synthetic_benchmark
from sasr_lite.paper import benchmark_table

DEVICE = pick_device()
SIZES = sizes(SCALE)
print("scale:", SIZES.scale, "| device:", DEVICE)
display(benchmark_table()[["value", "unit", "what", "where"]])

# %% [markdown]
# ## The record forms of the published files
# The v2.0 files keep MUSIC-AVQA's schema but not all of its habits. The records about the new
# videos (11-character YouTube ids, some with a `_flip` suffix: mirrored copies with left and
# right swapped in the answer) have **no `question_id`**; some carry the fillers as a real list and
# extra keys; the val files write ids as floats or null; and 576 questions of the balanced test file
# end in a full-width question mark. Below, one record of each form (values shaped like the
# published ones, written here: the real files are not part of the kit).
#
# A record without an id gets a **derived id**: 2**52 plus the first 52 bits of the SHA-256 of the
# record's content. Every published id is below 2**52, so the two can never collide; the same record
# gets the same id in the full file and in any excerpt; and the id stays exact as a float64.

# %%
forms = [
    {"video_id": "00005754", "question_id": 1923, "type": "[\"Audio-Visual\", \"Existential\"]",
     "question_content": "Is there a voiceover?", "templ_values": "[]", "question_deleted": 0, "anser": "yes"},
    {"video_id": "tOcOiTFQYp4", "type": "[\"Audio-Visual\", \"Counting\"]",
     "question_content": "How many sounding <Object> in the video\uff1f", "templ_values": "[\"erhu\"]", "anser": "two"},
    {"anser": "left", "question_content": "Which <Object> makes the sound <FL>?", "video_id": "iveNvQ4jCis_flip",
     "templ_values": "[\"violin\", \"last\"]", "type": "[\"Audio-Visual\", \"Temporal\"]"},
    {"video_id": "evv00001381", "type": "[\"Audio\", \"Counting\"]", "question_content": "Is there a <Object> sound?",
     "templ_values": ["flute"], "anser": "no", "unmatch_audio": "yes", "audio_instrument": "flute",
     "video_instrument": "piano"},
    {"video_id": "00006437", "question_id": 30338.0, "type": "[\"Audio\", \"Comparative\"]",
     "question_content": "Is the <Object> more rhythmic than the <Object>?", "templ_values": "[\"pipa\", \"clarinet\"]",
     "question_deleted": 0.0, "anser": "no", "person": None},
    {"video_id": "sa00008400", "question_id": None, "type": "[\"Visual\", \"Location\"]",
     "question_content": "What kind of musical instrument is it?", "templ_values": "[]", "question_deleted": None,
     "anser": "xylophone"},
]
scratch = Path(tempfile.mkdtemp())
excerpt_file = scratch / "avqa-test.json"
excerpt_file.write_text(json.dumps(forms, ensure_ascii=False, indent=1), encoding="utf-8")
records = load_annotations(excerpt_file)
pd.DataFrame({
    "video_id": [r.video_id for r in records],
    "question_id": [r.question_id for r in records],
    "derived": [r.question_id >= DERIVED_ID_BASE for r in records],
    "type": [f"{r.group}/{r.subtype}" for r in records],
    "words": [" ".join(w for w in r.tokens if w != "<pad>") for r in records],
    "answer": [r.answer for r in records],
})

# %% [markdown]
# The full-width `？` was read as `?` and dropped like it, so "video" is the same word as in
# every other question. `sasr-lite inspect` gives the counts per type (and the release, told from
# the file's bytes: a published v2.0 or -R file is recognised by its digest, anything else is
# "custom").

# %%
# NBVAL_CHECK_OUTPUT
print(format_summary(summarize_file(excerpt_file), top=3).split("\n\n  template")[0].replace(str(scratch), "<scratch>"))

# %%
real_test = V2_TEST or os.environ.get("SASR_LITE_MUSIC_AVQA_V2_TEST")
if real_test:  # the published file, downloaded by data_scripts/download_music_avqa_v2.py
    print(format_summary(summarize_file(real_test), top=3).split("\n\n  template")[0])
else:
    print("set V2_TEST (or $SASR_LITE_MUSIC_AVQA_V2_TEST) to the published test_balance.json to inspect it here")

# %% [markdown]
# ## Biased and balanced training, on synthetic data
# The synthetic generator balances answers within each template by default, the way v2.0 does
# (yes/no within two questions of each other, no open answer above 40% of its template).
# `bias=0.8` gives the biased counterpart: each template, when a scene offers it, is asked with the
# answer it has been given most often so far with probability 0.8. Same seed, same videos and
# features; only the questions differ. The balanced benchmark also gets an -R style split: each
# test question in two hand-written rephrasings, split into head and tail by the 1.2 mu(a) rule.

# %%
balanced_root = synthetic_benchmark(SIZES.synth_size, rephrasings=2)
biased_root = synthetic_benchmark(SIZES.synth_size, bias=0.8)
balanced = load_data(balanced_root, splits=("train", "val", "test"))
biased = load_data(biased_root, splits=("train", "val", "test"))


def top_answer_share(records) -> float:
    """Mean over templates of the share of their most common answer (%)."""
    frame = pd.DataFrame({"template": [r.template_key for r in records], "answer": [r.answer for r in records]})
    shares = frame.groupby("template")["answer"].agg(lambda a: a.value_counts(normalize=True).iloc[0])
    return 100 * shares.mean()


pd.DataFrame({name: {f"{split} questions": len(data.records[split]) for split in ("train", "test")}
              | {"top answer per template, train (%)": top_answer_share(data.records["train"]),
                 "top answer per template, test (%)": top_answer_share(data.records["test"])}
              for name, data in (("biased", biased), ("balanced", balanced))}).round(1)

# %% [markdown]
# Two SaSR-Nets, the lesson model's width, the short ablation schedule (`SIZES.ablation`),
# seed 0: one trained on each benchmark's train split. Both are then asked the *same* balanced test
# questions and the biased test questions (read with each model's own train vocabularies).

# %%
schedule = SIZES.ablation.replace(device=str(DEVICE), num_threads=1)  # one thread: the same numbers run to run
models = {}
for name, data in (("biased", biased), ("balanced", balanced)):
    models[name], _ = load_or_train(run_root(SIZES, data) / "v2" / f"trained-{name}", data, SIZES.model, schedule)


def test_as(model_data, root, splits=("test",), **options):
    """``root``'s splits read with ``model_data``'s vocabularies (a model answers in its own words)."""
    return load_data(root, splits=splits, vocabularies=model_data.vocabularies, required=splits, **options)


reports, rows = {}, []
for trained, train_data in (("biased", biased), ("balanced", balanced)):
    for tested, root in (("biased", biased_root), ("balanced", balanced_root)):
        data = test_as(train_data, root)
        report = evaluate_split(models[trained], data, "test", f"trained {trained}", grade=False)
        reports[trained, tested] = report
        ci = bootstrap_table(data.records["test"], report.predictions.frame, n_boot=1000, seed=0)[("Overall", "Avg")]
        rows.append({"trained on": trained, "tested on": tested, "accuracy": ci.iloc[0], "low": ci.iloc[1],
                     "high": ci.iloc[2],
                     "answer prior": prior_accuracy(train_data.records["train"], data.records["test"])})
overall = pd.DataFrame(rows).set_index(["trained on", "tested on"])
print("overall test accuracy (%) with 95% percentile bootstrap intervals (1,000 resamples); the answer prior is "
      "each train split's per-template answer frequencies")
overall.round(2)

# %% [markdown]
# On the balanced test the answer prior is weak, so what a model scores there it has learnt from
# the audio and video. The difference between the two models on the same balanced questions, with
# a paired interval (the same resampled questions for both):

# %%
test_records = balanced.records["test"]
difference = paired_bootstrap(test_records, reports["balanced", "balanced"].predictions.frame,
                              reports["biased", "balanced"].predictions.frame, n_boot=1000, seed=0)
print("balanced test: trained balanced (a) minus trained biased (b), percentage points, per group and overall")
difference.xs("Avg", level="type")[["questions", "a", "b", "delta", "low", "high", "excludes_zero"]].round(2)

# %%
per_type = pd.concat([accuracy_table(test_records, reports[t, "balanced"].predictions.frame, f"trained {t}")
                      for t in ("biased", "balanced")])
print("balanced test, per question type (%)")
print(format_table(per_type, 1))

# %% [markdown]
# ## MUSIC-AVQA-R style: head, tail and rephrased questions
# `sasr-lite eval CHECKPOINT DATA --release r` reads `avqa-test-headtail.json`, `-head` and `-tail`
# and scores each file on its own (plain accuracy over its questions, as the authors' `engine.py`
# and QA-TIGER's `src/trainutils.py` do). The same here, for both models: most rephrased words
# are new to the models (they read as `<unk>`), so the question's wording helps less and the
# prior more.

# %%
r_tables = []
for trained, train_data in (("biased", biased), ("balanced", balanced)):
    data = test_as(train_data, balanced_root, R_SPLITS, store_splits={split: "test" for split in R_SPLITS})
    predictions = {s: evaluate_split(models[trained], data, s, grade=False).predictions.frame for s in R_SPLITS}
    r_tables.append(head_tail_table(data.records, predictions, f"trained {trained}", n_boot=1000, seed=0))
r_table = pd.concat(r_tables)
print({label: n for label, n in r_tables[0].attrs["questions"].items()}, "questions")
print(format_table(r_table))

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
for k, table in enumerate(r_tables):
    name = table.index[0][0]
    acc, low, high = (table.loc[(name, stat)] for stat in ("accuracy", "low", "high"))
    x = [i + 0.18 * (2 * k - 1) for i in range(len(acc))]
    ax.errorbar(x, acc, yerr=[acc - low, high - acc], fmt="o", capsize=4, label=name)
ax.set_xticks(range(len(r_tables[0].columns)), r_tables[0].columns)
ax.set_ylabel("accuracy (%)")
ax.set_title("rephrased test split: head, tail, overall (95% bootstrap intervals)")
ax.legend()
plt.tight_layout()

# %% [markdown]
# ## What to read from this
# At the test scale the models train for seconds and the numbers mean nothing. At the lesson scale
# (the committed outputs: 1,000 videos, three epochs each, one thread) the biased train split's
# most common answer per template covers 55% of its questions against 38% for the balanced one,
# and the model trained on balanced answers scores about 4 points more on the same balanced test
# questions, an interval that excludes zero, most of it on visual location. Three epochs leave
# both models short of what they could learn, so the biased model does not win on its own biased
# test either. Rephrasing costs the models 5 and 8 points: most rephrased words are `<unk>` to them. Head and tail score alike here, since
# the balanced synthetic answers leave little of a head for a prior to exploit; on MUSIC-AVQA-R
# the published gap is the point. On real data the same steps run on
# `data/music_avqa_v2/{biased,balanced}` and `data/music_avqa_r` once
# `data_scripts/download_music_avqa_v2.py` and the feature scripts have prepared them.
