"""The VGGish log-mel front end against an independent NumPy version of the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sasr_lite.features import vggish

SR = 16000


# ---- an independent NumPy implementation of AudioSet's mel_features.py / vggish_input.py ----
def np_frame(data: np.ndarray, window: int, hop: int) -> np.ndarray:
    count = 1 + (data.shape[0] - window) // hop
    return np.stack([data[i * hop : i * hop + window] for i in range(count)])


def np_mel_matrix(num_bins: int = 257) -> np.ndarray:
    def to_mel(f):
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    bins_mel = to_mel(np.linspace(0.0, SR / 2, num_bins))
    edges = np.linspace(to_mel(125.0), to_mel(7500.0), 64 + 2)
    out = np.empty((num_bins, 64))
    for i in range(64):
        lo, mid, hi = edges[i : i + 3]
        out[:, i] = np.maximum(0.0, np.minimum((bins_mel - lo) / (mid - lo), (hi - bins_mel) / (hi - mid)))
    out[0, :] = 0.0
    return out


def np_log_mel(data: np.ndarray) -> np.ndarray:
    frames = np_frame(data.astype(np.float64), 400, 160)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi / 400 * np.arange(400))  # periodic Hann
    spectrum = np.abs(np.fft.rfft(frames * hann, 512))
    return np.log(spectrum @ np_mel_matrix(spectrum.shape[1]) + 0.01)


def np_examples(data: np.ndarray) -> np.ndarray:
    return np_frame(np_log_mel(data), 96, 96)


def tone(seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def chirp(seconds: float, f0: float = 100.0, f1: float = 7000.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))  # linear sweep f0 -> f1
    return (0.3 * np.sin(phase)).astype(np.float32)


@pytest.mark.parametrize("signal", [tone(3.0), chirp(3.0)], ids=["tone", "chirp"])
def test_examples_match_numpy_reference(signal):
    ours = vggish.waveform_to_examples(signal, SR)
    ref = np_examples(signal)
    assert ours.dtype == torch.float32
    assert tuple(ours.shape) == ref.shape == (3, 96, 64)
    diff = np.abs(ours.numpy() - ref).max()
    assert diff < 1e-3, f"max |ours - numpy| = {diff}"


def test_mel_matrix_matches_numpy_and_zeroes_dc():
    ours = vggish.mel_matrix().numpy()
    np.testing.assert_allclose(ours, np_mel_matrix(), atol=1e-12)
    assert (ours[0] == 0).all()
    assert ours.shape == (257, 64)


def test_tone_peaks_in_the_right_band():
    # a 1 kHz tone lands in the band whose centre (in HTK mel) is nearest to 1 kHz
    log_mel = vggish.log_mel_spectrogram(torch.from_numpy(tone(1.0, 1000.0)))
    edges = np.linspace(*(1127.0 * np.log1p(np.array([125.0, 7500.0]) / 700.0)), 66)
    expected = int(np.argmin(np.abs(edges[1:-1] - 1127.0 * np.log1p(1000.0 / 700.0))))
    assert int(log_mel.mean(0).argmax()) == expected


@pytest.mark.parametrize(
    "samples, patches",
    [(399, 0), (400 + 94 * 160, 0), (400 + 95 * 160, 1), (SR, 1), (3 * SR, 3), (60 * SR, 62)],
)
def test_patch_count(samples, patches):
    # frames F = 1 + (S - 400) // 160, patches = F // 96 (no centring, no padding)
    out = vggish.waveform_to_examples(np.zeros(samples, np.float32), SR)
    assert tuple(out.shape) == (patches, 96, 64)


def test_stereo_is_channel_mean_and_other_rates_are_resampled():
    sig = chirp(2.0)
    stereo = np.stack([sig, 0.5 * sig], axis=1)  # reference layout [samples, channels]
    torch.testing.assert_close(
        vggish.waveform_to_examples(stereo, SR), vggish.waveform_to_examples(0.75 * sig, SR), atol=1e-4, rtol=0
    )
    # the same tone at 44.1 kHz gives the same patches as at 16 kHz, up to resampling error
    t = np.arange(2 * 44100) / 44100
    hi = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    out = vggish.waveform_to_examples(hi, 44100)
    assert out.shape == (2, 96, 64)
    assert (out - vggish.waveform_to_examples(tone(2.0), SR)).abs().max() < 0.05


def test_segment_examples_cut_each_second_separately():
    sig = chirp(3.5)
    seg = vggish.waveform_to_segment_examples(sig, SR)
    assert tuple(seg.shape) == (3, 96, 64)  # the trailing half second is dropped
    for k in range(3):
        ref = np_examples(sig[k * SR : (k + 1) * SR])[0]
        assert np.abs(seg[k].numpy() - ref).max() < 1e-3
