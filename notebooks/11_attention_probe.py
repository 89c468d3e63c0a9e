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
# # 11 · The attention probe
#
# **Paper §4.4** shows a few hand-picked spatial and temporal attention maps. Here you pick them:
# a panel that runs any test question (or one you type) through the trained model and shows,
# live:
#
# * the **spatial attention** of the selected segment over the 14×14 map, on the rendered frame
#   and on its own, with the cells of the instruments sounding then outlined (synthetic scenes);
# * the **temporal attention** of the audio and visual branches over the $T$ segments, with the
#   segments the question is about shaded;
# * the **token presence**: how strongly each of the 22 audio and visual tokens says "my
#   instrument is here", beside the video's weak labels;
# * the **answer distribution**, with the annotated answer in green.
#
# Note what depends on what: the spatial attention is computed from the audio alone (§3.4), so it
# changes with the video and the segment but not with the question; the temporal attention and
# the answer change with the question. A typed question is tokenised like the annotations; words
# the train split never used become `<unk>` and are listed.

# %%
# %matplotlib inline
import numpy as np
from IPython.display import display

from sasr_lite.device import fast_mode, pick_device
from sasr_lite.notebook_utils import load_or_train, sizes, synthetic_benchmark
from sasr_lite.probe import Probe, ProbePanel
from sasr_lite.train import load_data

FAST = fast_mode()  # `make test` sets SASR_LITE_FAST=1; set FAST = False for the paper's recipe
DEVICE = pick_device()
SIZES = sizes(FAST)
DATA = synthetic_benchmark(SIZES.synth_size)
RUN = SIZES.runs / "sasr"  # written by notebook 08 (trained here if absent)
data = load_data(DATA, splits=("train", "val", "test"))
model, _ = load_or_train(RUN, data, SIZES.model, SIZES.train.replace(device=str(DEVICE)))

# %% [markdown]
# ## The panel
# Pick a video and one of its questions, or type a question and press Enter; move the slider to
# step through the segments. (The figure updates in a live kernel; a static copy is shown below.)

# %%
probe = Probe(model, data, "test")
panel = ProbePanel(probe)
display(panel.widget)

# %% [markdown]
# ## Driving it from code
# Every control is an ordinary widget whose callback is a method, so the panel can be driven from
# Python (this is also how `tests/test_probe.py` checks it without a browser). Ask about another
# moment, then type a question of your own:

# %%
# NBVAL_CHECK_OUTPUT
print("controls:", [w.description for w in (panel.video, panel.question, panel.typed, panel.segment)])
print("segments:", panel.segment.min, "to", panel.segment.max, "| videos:", len(probe.video_ids))

# %%
before = panel.spatial_image.get_array().copy()
panel.segment.value = panel.segment.max  # the last kept segment
print("spatial map redrawn for the new segment:", not np.allclose(before, panel.spatial_image.get_array()))

# %%
panel.typed.value = "Is there a violin sound?"
print(f"{panel.result.question}? -> {panel.result.prediction}  (unknown words: {panel.result.unknown_words or 'none'})")
for word, p in panel.result.top(3):
    print(f"  {word:<16} {p:.2f}")
panel.figure

# %% [markdown]
# **Try:** in fast mode the model trained for seconds, so the maps are close to their initial
# state. Run notebook 08 with `FAST = False` (a GPU helps), come back, and look for segments where
# the spatial peak sits on the sounding instrument, and for "first"/"last" questions whose
# temporal weights follow the green bands. Which question types does the model get right when its
# attention is wrong?
