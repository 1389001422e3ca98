"""Shared fixtures: the read-only ../shared folder (skipped when absent) and synthetic media written with PyAV."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OMNI_EMOTION_SHARED", REPO.parent / "shared"))


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: shared test data is only on the project's machines (../shared)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _require(SHARED)


@pytest.fixture(scope="session")
def media_dir() -> Path:
    return _require(SHARED / "testdata" / "media")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _require(SHARED / "data")


def write_av(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    tone_hz: float | None = 440.0,
    audio_rate: int = 44_100,
    audio_seconds: float | None = None,
    video: bool = True,
    vcodec: str = "libx264",
    acodec: str = "aac",
    frame_fn=None,
) -> Path:
    """Write a synthetic clip: moving colour frames (frame_fn(i, t) -> HxWx3 uint8) plus a sine tone.

    size is (width, height). audio_seconds lets audio and video differ in length.
    """
    import av

    width, height = size
    with av.open(str(path), "w") as container:
        vstream = astream = None
        if video:
            vstream = container.add_stream(vcodec, rate=fps)
            vstream.width, vstream.height = width, height
            vstream.pix_fmt = "yuv420p"
        if tone_hz is not None:
            astream = container.add_stream(acodec, rate=audio_rate)
            astream.layout = "mono"
        if vstream is not None:
            for i in range(int(round(seconds * fps))):
                t = i / fps
                if frame_fn is not None:
                    img = frame_fn(i, t)
                else:
                    img = np.zeros((height, width, 3), np.uint8)
                    img[..., 0] = (i * 7) % 256
                    img[: height // 2, : width // 2, 1] = 200
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                frame.pts = i
                frame.time_base = Fraction(1, fps)
                for packet in vstream.encode(frame):
                    container.mux(packet)
            for packet in vstream.encode():
                container.mux(packet)
        if astream is not None:
            total = int((audio_seconds if audio_seconds is not None else seconds) * audio_rate)
            tone = (0.5 * np.sin(2 * np.pi * tone_hz * np.arange(total) / audio_rate)).astype(np.float32)
            chunk = 1024
            fmt = "fltp" if acodec in ("aac", "libopus", "libmp3lame", "mp3", "libvorbis") else "s16"
            for start in range(0, total, chunk):
                piece = tone[start : start + chunk]
                data = piece[None, :] if fmt == "fltp" else (piece * 32767).astype(np.int16)[None, :]
                frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
                frame.sample_rate = audio_rate
                frame.pts = start
                frame.time_base = Fraction(1, audio_rate)
                for packet in astream.encode(frame):
                    container.mux(packet)
            for packet in astream.encode():
                container.mux(packet)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono float samples in [-1, 1] as 16-bit PCM WAV (stdlib only)."""
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture
def make_av(tmp_path):
    """Factory fixture: make_av("name.mp4", **write_av kwargs) -> Path in a temporary folder."""

    def _make(name: str = "clip.mp4", **kwargs) -> Path:
        return write_av(tmp_path / name, **kwargs)

    return _make
