"""Notebook 01 (features): the VGGish log-mel front end, the stride-6 sampling, the store's size."""

from __future__ import annotations

import functools
import math
import tempfile

import numpy as np
import torch

from sasr_lite.data import official_features, store
from sasr_lite.features import vggish
from sasr_lite.labs.compare import Case
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.guard import Target
from sasr_lite.labs.implement import Implement
from sasr_lite.labs.inputs import generator, randn
from sasr_lite.labs.predict import Predict

LOG_MEL_STUB = '''\
def log_mel(waveform: torch.Tensor) -> torch.Tensor:
    """VGGish's log-mel front end: waveform [..., S] float64 at 16 kHz -> log-mel [..., F, 64].

    F = 1 + (S - 400) // 160 frames: 400-sample windows (25 ms) every 160 samples (10 ms),
    no centring or padding. Multiply each frame by a periodic Hann window, take the magnitude
    of its 512-point rfft (257 bins), map the bins to 64 mel bands with vggish.mel_matrix()
    [257, 64], then take log(mel + 0.01).
    """
    raise NotImplementedError("exercise 01.log_mel: write this function")
'''

LOG_MEL_SOLUTION = '''\
frames = waveform.unfold(-1, 400, 160)  # 25 ms windows every 10 ms at 16 kHz
window = torch.hann_window(400, periodic=True, dtype=torch.float64)
spectrum = torch.fft.rfft(frames * window, n=512).abs()  # magnitude, 257 bins
return torch.log(spectrum @ vggish.mel_matrix() + 0.01)
'''


def _log_mel_case(g: torch.Generator, shape: tuple[int, ...]) -> Case:
    # a quiet tone in noise, as real audio often is: the 0.01 offset then matters
    seconds = torch.arange(shape[-1], dtype=torch.float64) / vggish.SAMPLE_RATE
    waveform = 0.05 * randn(g, *shape).double() + 0.1 * torch.sin(2 * math.pi * 440 * seconds)
    frames = waveform.unfold(-1, vggish.WINDOW_SAMPLES, vggish.HOP_SAMPLES)
    mel = vggish.mel_matrix()

    def bands(window, power: int = 1) -> torch.Tensor:
        return torch.fft.rfft(frames * window, n=vggish.FFT_LENGTH).abs() ** power @ mel

    periodic = torch.hann_window(vggish.WINDOW_SAMPLES, periodic=True, dtype=torch.float64)
    symmetric = torch.hann_window(vggish.WINDOW_SAMPLES, periodic=False, dtype=torch.float64)
    return Case(
        label=f"waveform {list(shape)}",
        args=(waveform,),
        expected=vggish.log_mel_spectrogram(waveform),
        mistakes={
            "your Hann window is symmetric; VGGish uses the periodic one, "
            "torch.hann_window(400, periodic=True).": torch.log(bands(symmetric) + 0.01),
            "you did not multiply the frames by the Hann window.": torch.log(bands(1.0) + 0.01),
            "you used the power |X|^2; VGGish uses the magnitude |X| of the rfft.":
                torch.log(bands(periodic, 2) + 0.01),
            "you took log(mel) without the 0.01 offset: log(mel + 0.01) keeps silent bands finite.":
                torch.log(bands(periodic)),
            "you used log10; VGGish takes the natural log (torch.log).": torch.log10(bands(periodic) + 0.01),
        },
    )


@functools.cache
def _log_mel_cases(seed: int = 101) -> list[Case]:
    g = generator(seed)
    # one second; T = 10 one-second segments (one video at stride 6); a batch of short clips
    return [_log_mel_case(g, shape) for shape in ((16000,), (10, 16000), (2, 3, 4000))]


STRIDE_SAMPLING_STUB = '''\
def stride_sampling(audio: torch.Tensor, maps: torch.Tensor, stride: int):
    """One video's official features -> the kept segments, as the feature store holds them.

    audio [F, 128] (VGGish, one row per second; F = 60 in MUSIC-AVQA), maps [F, 512, 14, 14]
    (ResNet-18 layer4) -> (audio [T, 128], maps [T, 196, 512], visual [T, 512]):
    keep seconds 0, stride, 2 * stride, ... (T = 10 for F = 60 and stride 6); each kept map
    becomes 196 positions p = row * 14 + col of 512 channels; visual is the mean of the 196.
    """
    raise NotImplementedError("exercise 01.stride_sampling: write this function")
'''

STRIDE_SAMPLING_SOLUTION = '''\
maps = maps[::stride].flatten(2).transpose(1, 2)  # [T, 512, 14, 14] -> [T, 196, 512]
return audio[::stride], maps, maps.mean(1)
'''


def _official_rows(audio: torch.Tensor, maps: torch.Tensor, stride: int) -> tuple[torch.Tensor, ...]:
    """The package's rows for these features, through the official per-video .npy files."""
    with tempfile.TemporaryDirectory() as root:
        for path, values in zip(official_features.official_paths(root, "clip"), (audio, maps)):
            path.parent.mkdir()
            np.save(path, values.numpy())
        rows = official_features.load_official_video(root, "clip", stride, num_frames=len(audio))
        # copies: the rows may be views of the memory-mapped files
        return tuple(torch.tensor(np.array(rows[k])) for k in ("audio", "maps", "visual"))


def _stride_case(g: torch.Generator, frames: int, stride: int) -> Case:
    side = store.OFFICIAL_MAP_SIDE
    audio, maps = randn(g, frames, store.AUDIO_DIM), randn(g, frames, store.VISUAL_DIM, side, side).relu()
    kept = torch.arange(0, frames, stride)
    T = len(kept)

    def rows(a: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return a, m, m.mean(dim=1)

    def positions(m: torch.Tensor) -> torch.Tensor:  # [T, 512, 14, 14] -> [T, 196, 512]
        return m.flatten(2).transpose(1, 2)

    late = torch.arange(stride - 1, frames, stride)
    return Case(
        label=f"{frames} seconds, stride {stride} (T = {T})",
        args=(audio, maps, stride),
        expected=_official_rows(audio, maps, stride),
        mistakes={
            f"you kept the first T = {T} seconds; keep every stride-th second, 0, {stride}, {2 * stride}, ...":
                rows(audio[:T], positions(maps[:T])),
            f"your seconds start at {stride - 1}; the kept seconds are 0, {stride}, {2 * stride}, ...":
                rows(audio[late], positions(maps[late])),
            "your maps were reshaped to [T, 196, 512] without moving the channels last: flatten the 14 x 14 "
            "grid to [T, 512, 196], then transpose to [T, 196, 512].":
                rows(audio[kept], maps[kept].reshape(T, side * side, -1)),
            "your positions run column by column (p = col * 14 + row); the store uses p = row * 14 + col.":
                rows(audio[kept], positions(maps[kept].transpose(2, 3))),
        },
    )


@functools.cache
def _stride_cases(seed: int = 102) -> list[Case]:
    g = generator(seed)
    # MUSIC-AVQA's 60 seconds at stride 6; strides that do not divide the length
    return [_stride_case(g, frames, stride) for frames, stride in ((60, 6), (12, 5), (7, 3))]


def _store_megabytes() -> float:
    return store.store_nbytes(1, 10, 196) / 1e6


def _store_slips() -> dict[str, float]:
    official = store.OFFICIAL_FRAMES * (store.AUDIO_DIM + store.VISUAL_DIM * 196) * 4 / 1e6
    return {
        "you counted 4 bytes per value; the store is float16 (2 bytes).": 2 * _store_megabytes(),
        "you kept all 60 seconds; the store keeps T = 10.": 6 * _store_megabytes(),
        "that is the official float32 file of all 60 seconds, about 12x the store.": official,
        "you counted the maps only; add the audio [10, 128] and pooled visual [10, 512] rows.":
            10 * 196 * store.VISUAL_DIM * 2 / 1e6,
        "you left out the maps [10, 196, 512], by far the largest part.":
            10 * (store.AUDIO_DIM + store.VISUAL_DIM) * 2 / 1e6,
    }


STORE_MEGABYTES_SOLUTION = '''\
T, P = 10, 196
return T * (128 + 512 + P * 512) * 2 / 1e6  # audio, pooled visual, maps; 2 bytes each
'''

EXERCISES = [
    Exercise(
        "01.log_mel", "Write VGGish's log-mel front end (frames, periodic Hann window, |rfft|, mel matrix, log).", 20,
        Implement(LOG_MEL_STUB, (Target(vggish, "log_mel_spectrogram"),), _log_mel_cases, ("log_mel",),
                  atol=1e-4, rtol=1e-5),
        solution=LOG_MEL_SOLUTION,
    ),
    Exercise(
        "01.stride_sampling", "Keep every 6th second of the official features and lay the maps out as the store does.",
        15,
        Implement(STRIDE_SAMPLING_STUB, (Target(official_features, "load_official_video"),), _stride_cases,
                  ("audio", "maps", "visual")),
        solution=STRIDE_SAMPLING_SOLUTION,
    ),
    Exercise(
        "01.store_megabytes", "Predict one video's size in the float16 store (T = 10, P = 196), in MB (1e6 bytes).", 5,
        Predict(_store_megabytes,
                why="Per kept second: 128 audio + 512 pooled + 196 x 512 map values, 2 bytes each, times 10 "
                    "seconds: the maps are 99% of it, and the 12x saving over the official files is 6x from "
                    "the stride and 2x from float16.",
                clue="Count the values per kept second (audio, pooled visual, map), multiply by T = 10 and by "
                     "the bytes per float16 value (store_nbytes in sasr_lite.data.store computes it).",
                wrong=_store_slips, abs_tol=0.005, rel_tol=0.0),
        solution=STORE_MEGABYTES_SOLUTION,
    ),
]
