"""Decode media: one frame per second as uint8 [N, H, W, 3] and the audio as 16 kHz mono float32.

Frame rule: frame k (k = 0, 1, ...) is the frame on screen at the *start* of second k, i.e. the
latest frame whose timestamp is at most k seconds (within half a frame period), with time
measured from the first decoded frame. Like the official frame dump (`ffmpeg -r 1`), frame k is
taken at t = k s, and it pairs with the audio of [k, k+1) s that VGGish turns into segment k.
A clip covers N = ceil(duration) seconds: a 3.0 s clip gives 3 frames, 3.5 s gives 4.

Audio rule: all channels averaged (as the reference VGGish input code does), then resampled to
16 kHz with torchaudio's windowed-sinc resampler (the reference uses resampy; the two agree to
well within what the 25 ms log-mel frames can see). Video containers are decoded with PyAV,
plain audio files (.wav, .flac, .ogg) with soundfile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

SAMPLE_RATE = 16000  # VGGish's input rate
SOUNDFILE_SUFFIXES = (".wav", ".flac", ".ogg")


class MediaError(RuntimeError):
    """A media file is missing, unreadable, corrupt, or lacks the stream asked for."""


@dataclass
class Media:
    """One decoded clip: 1 fps frames and the 16 kHz mono audio track."""

    path: Path
    frames: np.ndarray  # uint8 [N, H, W, 3], frame k shown at t = k s
    audio: np.ndarray  # float32 [S], mono at `sample_rate`; empty when the file has no audio
    sample_rate: int
    has_audio: bool

    @property
    def audio_seconds(self) -> float:
        return len(self.audio) / self.sample_rate


def _open(path: Path):
    if not path.is_file():
        raise MediaError(f"media file not found: {path}")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as err:
        raise MediaError(f"cannot open media file {path}: {err}") from err


def read_frames(path: str | Path, max_seconds: int | None = None) -> np.ndarray:
    """Frames at each second's start, uint8 [N, H, W, 3] (RGB); at most `max_seconds` of them."""
    path = Path(path)
    container = _open(path)
    with container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        half = 0.5 / rate
        frames: list[np.ndarray] = []
        shown, shown_array, t0, t = None, None, None, 0.0
        try:
            for i, frame in enumerate(container.decode(stream)):
                t = frame.time if frame.time is not None else i / rate
                t0 = t if t0 is None else t0
                t -= t0
                # every second k that started before this frame appeared showed the previous one
                while shown is not None and t > len(frames) + half:
                    if shown_array is None:
                        shown_array = shown.to_ndarray(format="rgb24")
                    frames.append(shown_array)
                    if max_seconds is not None and len(frames) >= max_seconds:
                        return np.stack(frames)
                shown, shown_array = frame, None
        except (av.FFmpegError, OSError, ValueError) as err:
            raise MediaError(f"cannot decode video of {path}: {err}") from err
        if shown is None:
            raise MediaError(f"{path} has a video stream but no decodable frame")
        # the last frame stays on screen for one frame period
        end = t + 1.0 / rate
        limit = max_seconds if max_seconds is not None else np.inf
        if shown_array is None:
            shown_array = shown.to_ndarray(format="rgb24")
        while len(frames) < end - half and len(frames) < limit:
            frames.append(shown_array)
    return np.stack(frames)


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """[S] or [S, C] samples at `sample_rate` -> float32 [S'] mono at 16 kHz (channel mean)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if sample_rate == SAMPLE_RATE or samples.size == 0:
        return np.ascontiguousarray(samples)
    resampled = AF.resample(torch.from_numpy(samples), int(sample_rate), SAMPLE_RATE)
    return resampled.numpy().astype(np.float32, copy=False)


def _decode_audio_av(path: Path, max_seconds: float | None) -> tuple[np.ndarray, int] | None:
    """[S, C] float32 samples and their rate from a container, or None without an audio stream."""
    container = _open(path)
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        # float planar at the stream's own rate and layout: we mix down and resample ourselves
        resampler = av.AudioResampler(format="fltp")
        chunks: list[np.ndarray] = []
        rate, total = stream.rate, 0
        try:
            for frame in container.decode(stream):
                rate = frame.sample_rate
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())  # [C, n]
                    total += chunks[-1].shape[1]
                if max_seconds is not None and total >= max_seconds * rate:
                    break
            else:
                chunks.extend(out.to_ndarray() for out in resampler.resample(None))
        except (av.FFmpegError, OSError, ValueError) as err:
            raise MediaError(f"cannot decode audio of {path}: {err}") from err
    if not chunks:
        return np.zeros((0, 1), np.float32), int(rate or SAMPLE_RATE)
    samples = np.concatenate(chunks, axis=1).T
    if max_seconds is not None:
        samples = samples[: int(max_seconds * rate)]
    return samples, int(rate)


def read_audio(path: str | Path, max_seconds: float | None = None) -> np.ndarray | None:
    """The audio track as float32 [S] mono at 16 kHz; None when a video file has no audio stream."""
    path = Path(path)
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        if not path.is_file():
            raise MediaError(f"audio file not found: {path}")
        try:
            samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise MediaError(f"cannot read audio file {path}: {err}") from err
        if max_seconds is not None:
            samples = samples[: int(max_seconds * rate)]
    else:
        decoded = _decode_audio_av(path, max_seconds)
        if decoded is None:
            return None
        samples, rate = decoded
    return to_mono_16k(samples, rate)


def read_duration(path: str | Path) -> float:
    """Seconds a media file lasts, from its header (nothing is decoded): the container's duration,
    else its longest stream's; MediaError when the file is unreadable or says neither."""
    path = Path(path)
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        if not path.is_file():
            raise MediaError(f"audio file not found: {path}")
        try:
            return float(sf.info(str(path)).duration)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise MediaError(f"cannot read audio file {path}: {err}") from err
    container = _open(path)
    with container:
        if container.duration is not None and container.duration > 0:
            return container.duration / av.time_base
        streams = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    if not streams:
        raise MediaError(f"{path}: its header gives no duration")
    return max(streams)


def read_media(path: str | Path, max_seconds: int | None = None) -> Media:
    """Decode a video: 1 fps frames (see the module's frame rule) and 16 kHz mono audio."""
    path = Path(path)
    frames = read_frames(path, max_seconds)
    audio = read_audio(path, max_seconds)
    has_audio = audio is not None
    if audio is None:
        audio = np.zeros(0, np.float32)
    return Media(path=path, frames=frames, audio=audio, sample_rate=SAMPLE_RATE, has_audio=has_audio)
