"""Shared fakes and builders for the tests (and bench/mllm_latency.py): one pipeline stand-in and one
synthetic Perception, instead of a copy in each test file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from omni_emotion.errors import UnsupportedMediaError
from omni_emotion.media import check_media, load_clip
from omni_emotion.types import Analysis, Clip, FaceTrack, Perception, Prosody, Transcript

__all__ = ["FakePipeline", "synthetic_perception"]


@dataclass
class FakePipeline:
    """Stands in for EmotionPipeline without models: ``labels`` per file stem (``default`` for any other);
    stems in ``broken`` raise a media error; with ``decode`` every file is checked and decoded as the real
    pipeline's decoder would. Records the stems (``calls``), paths and live clips it is given."""

    labels: dict[str, list[str]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    decode: bool = False
    default: tuple[str, ...] = ("calm",)
    engine_name: str = "fake"
    calls: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)

    def analyze_file(self, path, progress=None) -> Analysis:
        stem = Path(path).stem
        self.calls.append(stem)
        self.paths.append(str(path))
        if stem in self.broken:
            raise UnsupportedMediaError(f"{Path(path).name} is not a readable video.")
        if self.decode:
            check_media(path)
            load_clip(path)  # every frame checked, as the real pipeline's decoding does
        return Analysis(
            labels=list(self.labels.get(stem, self.default)), explanation="because", engine="fake"
        )

    def analyze_file_with_perception(self, path, progress=None):
        return self.analyze_file(path, progress), None

    def analyze_clip(self, clip, progress=None, speaker=None, fresh_seconds=None) -> Analysis:
        self.clips.append(clip)
        return Analysis(labels=list(self.default), explanation="because", engine="fake")


def synthetic_perception(
    frames: int = 8,
    seconds: float = 1.0,
    size: tuple[int, int] = (48, 64),
    *,
    box: tuple[float, float, float, float] | None = None,
    track_id: int = 1,
    transcript: Transcript | None = None,
    prosody: Prosody | None = None,
    seed: int = 0,
) -> Perception:
    """Random frames (``size`` = height, width), noise audio at 16 kHz and one main face track with random
    224 px crops (its box ``box`` in every frame, else zeros); the same seed gives the same arrays."""
    rng = np.random.default_rng(seed)
    times = np.linspace(0, seconds, frames, endpoint=False)
    clip = Clip(
        frames=rng.integers(0, 255, (frames, *size, 3), dtype=np.uint8),
        timestamps=times,
        audio=(0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32),
        duration=seconds,
    )
    boxes = np.tile(np.array([box], np.float32), (frames, 1)) if box else np.zeros((frames, 4), np.float32)
    face = FaceTrack(
        track_id=track_id,
        timestamps=times,
        boxes=boxes,
        scores=np.ones(frames, np.float32),
        crops=rng.integers(0, 255, (frames, 224, 224, 3), dtype=np.uint8),
        crop_times=times,
        main=True,
    )
    return Perception(
        clip=clip, faces=[face], transcript=transcript or Transcript(), prosody=prosody or Prosody()
    )
