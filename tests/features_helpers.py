"""Small synthetic scenes and media files shared by the test_features_* modules."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from sasr_lite.synth.scenes import NUM_SEGMENTS, Instrument, Scene


def mask(first: str) -> str:
    """A 60-segment sounding mask starting with `first`, silent afterwards."""
    return first + "0" * (NUM_SEGMENTS - len(first))


def two_instrument_scene(video_id: str = "00000042", background: str = "indoor") -> Scene:
    """A violin on the left playing in seconds 0-1, a drum on the right playing in second 1 only."""
    violin = Instrument("violin", True, 0.2, "left", (3, 1, 11, 4), mask("11"), 0.8, 0.1)
    drum = Instrument("drum", True, 0.8, "right", (4, 10, 12, 13), mask("01"), 0.5, 0.9)
    return Scene(video_id, background, (violin, drum))


def write_counter_video(path: Path, num_frames: int, fps: int | Fraction, audio: bool = False) -> Path:
    """An MP4 whose frame i is a flat grey of value 6 * i, i < 43 (a decoded frame tells its index)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"crf": "0", "preset": "ultrafast"}  # lossless grey levels
        sound = container.add_stream("aac", rate=16000) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 6 * i, np.uint8), format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if sound is not None:
            samples = int(num_frames / fps * 16000)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 16000, start
                container.mux(sound.encode(chunk))
            container.mux(sound.encode())
    return path


def frame_index(frame: np.ndarray) -> int:
    """Inverse of write_counter_video's grey levels."""
    return int(round(float(frame.mean()) / 6))
