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
# # 01 · From media to features
#
# **Paper §3.1.** SaSR-Net never sees pixels or waveforms while it trains. Each video is cut into
# one-second segments, and two frozen, pretrained networks turn every segment into vectors once,
# before training:
#
# * **audio**: VGGish (trained on AudioSet) reads a log-mel spectrogram of the second and gives
#   one 128-d vector, $f^r_{a_t}$ after a learned projection;
# * **vision**: ResNet-18 (trained on ImageNet) reads the segment's first frame. Its last
#   convolutional stage, run with stride 1, keeps a $14 \times 14$ grid of 512-d vectors (the map
#   $X_t$, $P = 196$ positions, used by spatial attention in §3.4); their average is the pooled
#   512-d vector $f^r_{v_t}$.
#
# The official MUSIC-AVQA files hold all 60 seconds: `vggish/<id>.npy` `[60, 128]` and
# `res18_14x14/<id>.npy` `[60, 512, 14, 14]` in float32, 24 MB per video. Training keeps every 6th
# second (§4.1), so $T = 10$.
#
# This notebook renders one synthetic clip to a real MP4, decodes it, checks the VGGish
# front end, runs both networks and draws what they see. (The synthetic benchmark's feature store
# is rendered straight from its scenes with the same shapes, not through these networks: see
# notebook 02. These extractors are for real videos.)

# %% tags=["parameters"]
SCALE = None  # "test", "lesson" or "paper"; None: $SASR_LITE_SCALE, else "paper" with CUDA, "lesson" without

# %%
# %matplotlib inline
import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from sasr_lite.device import pick_device
from sasr_lite.notebook_utils import cmp, sizes

DEVICE = pick_device()
SIZES = sizes(SCALE)
torch.manual_seed(0)
SECONDS = 6 if SIZES.smoke else 60  # seconds of the clip to render and decode (MUSIC-AVQA clips: 60)
print("scale:", SIZES.scale, "| device:", DEVICE)
WEIGHTS = None  # a folder with resnet18-f37072fd.pth and vggish-10086976.pth (data_scripts/download_weights.py)

# %% [markdown]
# ## Render and decode a clip
# `sasr_lite.synth.media` draws a synthetic concert (each instrument class has its own shape,
# colour and timbre; a sounding instrument is bright and bobs, a silent one is dim) and writes an
# H.264/AAC MP4. `sasr_lite.features.media` decodes any video the way the reference pipeline
# does: the frame at the start of every second, and the audio resampled to 16 kHz mono.

# %%
from sasr_lite.features.media import read_media
from sasr_lite.notebook_utils import synthetic_benchmark
from sasr_lite.synth.media import render_scene
from sasr_lite.synth.scenes import load_scenes

DATA = synthetic_benchmark("tiny")
scene = next(s for s in load_scenes(DATA / "scenes" / "test.json") if len(s.visible) >= 2)
mp4 = render_scene(scene, DATA.parent / "clips", seconds=SECONDS, wav=False)  # notebooks/data/clips/<id>.mp4
media = read_media(mp4)
print([(i.cls, i.side, "sounds" if i.sounds else "silent") for i in scene.instruments])

# %%
print("frames:", media.frames.shape, media.frames.dtype)  # [seconds, H, W, 3]: one frame per second
print(f"audio: {round(media.audio_seconds)} seconds, mono, {media.sample_rate} samples per second")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 2.9))
for ax, t in zip(axes, (0, SECONDS // 2, SECONDS - 1)):
    ax.imshow(media.frames[t])
    ax.set_title(f"second {t}")
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The VGGish front end
# VGGish does not read raw samples but a log-mel spectrogram. Frame $f$ is the 400 samples
# (25 ms at 16 kHz) from sample $160 f$ on (a 10 ms hop, no padding), times a periodic Hann window
# $w$; its magnitude spectrum has the 257 bins of a 512-point FFT; a fixed matrix
# $M \in \mathbb{R}^{257 \times 64}$ pools the bins into 64 mel bands between 125 and 7500 Hz:
#
# $$X_f = \big|\operatorname{rfft}_{512}(w \odot x_{160f\,:\,160f+400})\big|, \qquad
#   \text{log-mel}_f = \log(X_f M + 0.01)$$
#
# One second of audio gives $1 + (16000 - 400) / 160 = 98$ frames, of which a 96-frame patch
# (0.96 s) is one VGGish input. Two inputs whose answer we know without computing it check
# `sasr_lite.features.vggish` (exercise `01.log_mel` asks you to write the front end): silence
# has no energy in any band, so every value is $\log 0.01$; a 1 kHz tone falls in FFT bin
# $1000 \cdot 512 / 16000 = 32$, so its loudest band is the one that $M$ fills most from bin 32.

# %%
# NBVAL_CHECK_OUTPUT
from sasr_lite.features import vggish

second = torch.as_tensor(media.audio[: vggish.SAMPLE_RATE], dtype=torch.float64)  # [16000]
print("one second of the clip:", list(vggish.log_mel_spectrogram(second).shape))  # [frames, bands]

silence = vggish.log_mel_spectrogram(torch.zeros_like(second))
print(f"silence: every value is log 0.01 = {math.log(0.01):.3f}:",
      torch.allclose(silence, torch.full_like(silence, math.log(0.01))))
samples = torch.arange(vggish.SAMPLE_RATE, dtype=torch.float64)
tone = vggish.log_mel_spectrogram(torch.sin(2 * math.pi * 1000 * samples / vggish.SAMPLE_RATE))
print("1 kHz tone: loudest band", tone.mean(0).argmax().item(),
      "| band M fills most from bin 32:", vggish.mel_matrix()[32].argmax().item())

# %%
patches = vggish.waveform_to_segment_examples(media.audio, media.sample_rate)
print("VGGish patches, one per second:", list(patches.shape))
fig, ax = plt.subplots(figsize=(11, 2.6))
ax.imshow(patches.flatten(0, 1).T, origin="lower", aspect="auto", cmap="magma")
ax.set(xlabel="10 ms frames (96 per second)", ylabel="mel band", title="log-mel patches fed to VGGish")
for s in range(1, SECONDS):
    ax.axvline(s * 96, color="w", lw=0.6)
plt.show()

# %% [markdown]
# ## The two networks
# With `WEIGHTS = None` both networks have seeded random weights: the shapes and the plumbing are
# real, the numbers carry no pretrained knowledge. Point `WEIGHTS` at the downloaded files to get
# the features MUSIC-AVQA was built from.

# %%
from sasr_lite.features import weights as W
from sasr_lite.features.resnet import frame_features

if WEIGHTS is None:
    vggish_net, resnet = W.random_vggish(), W.random_resnet18()
else:
    vggish_net = W.load_vggish(Path(WEIGHTS) / "vggish-10086976.pth")
    resnet = W.load_resnet18(Path(WEIGHTS) / "resnet18-f37072fd.pth")
vggish_net, resnet = vggish_net.to(DEVICE), resnet.to(DEVICE)

audio_features = vggish.embed(vggish_net, patches)  # [seconds, 128]
maps, pooled = frame_features(resnet, media.frames)  # [seconds, 512, 14, 14], [seconds, 512]

# %% [markdown]
# ResNet-18 normally shrinks a 224×224 image to a 7×7 grid; setting its last stage's stride to 1
# keeps 14×14, so each map cell covers a 16×16-pixel patch of the resized frame. The pooled vector
# is just the average of the 196 cells:

# %%
print("audio:", list(audio_features.shape), "| maps:", list(maps.shape), "| pooled:", list(pooled.shape))
cmp("pooled = mean of the map", maps.mean(dim=(2, 3)), pooled)

# %%
t = 0
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].imshow(media.frames[t])
axes[0].set_title(f"frame, second {t}")
axes[1].imshow(maps[t].norm(dim=0), cmap="viridis")
axes[1].set_title("ResNet-18 map: |x_p| at each of 14×14 cells")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Why stride 6 and float16
# Training keeps seconds 0, 6, ..., 54, so each video is $T = 10$ segments. `sasr_lite` stores
# only those, in float16, in one contiguous memory-mapped array per split (notebook 02): the
# whole of MUSIC-AVQA then fits the page cache or a single GPU, and a batch is one array read.

# %%
# NBVAL_CHECK_OUTPUT
from sasr_lite.data.store import store_nbytes

official = 60 * (128 + 512 * 14 * 14) * 4  # float32, all 60 seconds
print(f"kept seconds: {list(range(0, 60, 6))}")
print(f"per video, official: {official / 1e6:.1f} MB")
# the whole dataset only, in whole GB: one video's store size is exercise 01.store_megabytes
print(f"MUSIC-AVQA, 9,290 videos: {9290 * official / 1e9:.0f} GB -> {store_nbytes(9290, 10, 196) / 1e9:.0f} GB")

# %% [markdown]
# ## Paper vs kit
# Where this notebook's computation departs from the paper (§4.1) and its reference pipeline:
#
# * **Weights.** With `WEIGHTS = None` both networks have seeded random weights; the paper uses
#   ImageNet ResNet-18 and AudioSet VGGish. Point `WEIGHTS` at the downloaded files for the real
#   features.
# * **Storage.** The paper keeps every 6th one-second segment (T = 10); we do the same but store
#   only those segments, in float16, in one memory-mapped file per split, where the official code
#   keeps all 60 seconds per video in float32 (12x larger).
# * Nothing else: the log-mel front end, the frame sampling and the 14×14×512 maps follow the
#   reference pipeline.


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
from sasr_lite.features import vggish

from sasr_lite.labs import check


# %% [markdown]
# ### Exercise `01.log_mel` · implement · 20 min
# Write VGGish's log-mel front end (frames, periodic Hann window, |rfft|, mel matrix, log).


# %%
def log_mel(waveform: torch.Tensor) -> torch.Tensor:
    """VGGish's log-mel front end: waveform [..., S] float64 at 16 kHz -> log-mel [..., F, 64].

    F = 1 + (S - 400) // 160 frames: 400-sample windows (25 ms) every 160 samples (10 ms),
    no centring or padding. Multiply each frame by a periodic Hann window, take the magnitude
    of its 512-point rfft (257 bins), map the bins to 64 mel bands with vggish.mel_matrix()
    [257, 64], then take log(mel + 0.01).
    """
    ### BEGIN SOLUTION
    frames = waveform.unfold(-1, 400, 160)  # 25 ms windows every 10 ms at 16 kHz
    window = torch.hann_window(400, periodic=True, dtype=torch.float64)
    spectrum = torch.fft.rfft(frames * window, n=512).abs()  # magnitude, 257 bins
    return torch.log(spectrum @ vggish.mel_matrix() + 0.01)
    ### END SOLUTION


check("01.log_mel", log_mel)


# %% [markdown]
# ### Exercise `01.stride_sampling` · implement · 15 min
# Keep every 6th second of the official features and lay the maps out as the store does.


# %%
def stride_sampling(audio: torch.Tensor, maps: torch.Tensor, stride: int):
    """One video's official features -> the kept segments, as the feature store holds them.

    audio [F, 128] (VGGish, one row per second; F = 60 in MUSIC-AVQA), maps [F, 512, 14, 14]
    (ResNet-18 layer4) -> (audio [T, 128], maps [T, 196, 512], visual [T, 512]):
    keep seconds 0, stride, 2 * stride, ... (T = 10 for F = 60 and stride 6); each kept map
    becomes 196 positions p = row * 14 + col of 512 channels; visual is the mean of the 196.
    """
    ### BEGIN SOLUTION
    maps = maps[::stride].flatten(2).transpose(1, 2)  # [T, 512, 14, 14] -> [T, 196, 512]
    return audio[::stride], maps, maps.mean(1)
    ### END SOLUTION


check("01.stride_sampling", stride_sampling)


# %% [markdown]
# ### Exercise `01.store_megabytes` · predict · 5 min
# Predict one video's size in the float16 store (T = 10, P = 196), in MB (1e6 bytes).


# %%
def answer():
    """Your prediction."""
    ### BEGIN SOLUTION
    T, P = 10, 196
    return T * (128 + 512 + P * 512) * 2 / 1e6  # audio, pooled visual, maps; 2 bytes each
    ### END SOLUTION


check("01.store_megabytes", answer)
