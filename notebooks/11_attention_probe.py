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

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without
DATA = None  # a MUSIC-AVQA folder prepared by data_scripts/; None: $SASR_LITE_DATA, else the synthetic benchmark

# %%
# %matplotlib inline
import numpy as np
from IPython.display import display

from sasr_lite.device import pick_device
from sasr_lite.notebook_utils import check_trained_on, lesson_model, notebook_data, run_root, sizes
from sasr_lite.probe import Probe, ProbePanel
from sasr_lite.data.loading import load_data

DEVICE = pick_device()
SIZES = sizes(SCALE)
data = load_data(notebook_data(SIZES, DATA), splits=("train", "val", "test"))
model, _ = lesson_model(SIZES, data)  # notebook 08's model (trained here if absent)
print("scale:", SIZES.scale, "| device:", DEVICE, "| data:", data.root)
print(check_trained_on(run_root(SIZES, data) / "sasr", data))

# %% [markdown]
# ## The panel
# Pick a video and one of its questions, or type a question and press Enter; move the slider to
# step through the segments. The panel needs a live kernel (and a trusted notebook); below it, a
# static picture of its first state, which shows wherever the notebook is opened.

# %%
from IPython.display import Image

probe = Probe(model, data, "test")
panel = ProbePanel(probe)
display(panel.widget)
display(Image(panel.png()))  # the static copy

# %% [markdown]
# ## Driving it from code
# Every control is an ordinary widget whose callback is a method, so the panel can be driven from
# Python (this is also how `tests/test_probe.py` checks it without a browser). Ask about another
# moment, then type a question of your own:

# %%
# NBVAL_CHECK_OUTPUT
print("controls:", [w.description for w in (panel.video, panel.question, panel.typed, panel.segment)])
print("segments:", panel.segment.min, "to", panel.segment.max)

# %%
before = panel.spatial_image.get_array().copy()
panel.segment.value = panel.segment.max  # the last kept segment
print("spatial map redrawn for the new segment:", not np.allclose(before, panel.spatial_image.get_array()))

# %%
panel.typed.value = "Is there a violin sound?"
print(f"{panel.result.question}? -> {panel.result.prediction}  (unknown words: {panel.result.unknown_words or 'none'})")
for word, p in panel.result.top(3):
    print(f"  {word:<16} {p:.2f}")
Image(panel.png())

# %% [markdown]
# **Try:** look for segments where the spatial peak (cyan cross) sits on the sounding instrument
# (white outline), and for "first"/"last" questions whose temporal weights follow the green bands.
# Which question types does the model get right when its attention is wrong? At the test scale
# the model trained for seconds, so its maps stay close to their initial state; the committed
# outputs show the lesson model.
