"""Who the analysis is about: screen time, face size and, when there is speech, the moving mouth.

Pure functions over FaceTrack data. The mouth measure uses the 5 landmarks only: with no lip points, speech
shows as the mouth corners moving relative to the nose and to each other (jaw drop, lip spreading); both
distances are divided by the eye distance so head size and zoom cancel out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.types import FaceTrack

__all__ = ["SelectionConfig", "in_regions", "mouth_activity", "select_main", "speaking_score"]


@dataclass(frozen=True)
class SelectionConfig:
    """Weights of the main-person score (they need not sum to 1) and the largest time step (s) between two
    observations for their mouth change to count as motion."""

    presence_weight: float = 0.45
    size_weight: float = 0.3
    speaking_weight: float = 0.25
    max_step_s: float = 0.5

    def __post_init__(self) -> None:
        weights = (self.presence_weight, self.size_weight, self.speaking_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ConfigError(f"selection weights must be >= 0 with a positive sum, got {weights}")
        if self.max_step_s <= 0:
            raise ConfigError(f"max_step_s must be positive, got {self.max_step_s}")


def mouth_activity(timestamps: np.ndarray, landmarks: np.ndarray, max_step_s: float = 0.5) -> np.ndarray:
    """Per-observation mouth motion from 5-point landmarks.

    timestamps (T,) s; landmarks (T, 5, 2) px (NaN rows allowed). Returns (T,) float64: the absolute change,
    since the previous observation, of (nose-to-mouth-centre distance + mouth width) / eye distance; NaN for
    the first observation, after a step longer than ``max_step_s`` and where landmarks are missing.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    lm = np.asarray(landmarks, dtype=np.float64).reshape(len(ts), 5, 2)
    eyes = np.linalg.norm(lm[:, 1] - lm[:, 0], axis=1)
    mouth_centre = (lm[:, 3] + lm[:, 4]) / 2
    drop = np.linalg.norm(mouth_centre - lm[:, 2], axis=1)
    width = np.linalg.norm(lm[:, 4] - lm[:, 3], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shape = np.where(eyes > 1e-6, (drop + width) / eyes, np.nan)
    motion = np.full(len(ts), np.nan)
    if len(ts) > 1:
        step = np.abs(np.diff(shape))
        step[np.diff(ts) > max_step_s] = np.nan
        motion[1:] = step
    return motion


def in_regions(timestamps: np.ndarray, regions: Sequence[tuple[float, float]]) -> np.ndarray:
    """(T,) bool: whether each time lies inside any (start, end) region, seconds."""
    ts = np.asarray(timestamps, dtype=np.float64)
    inside = np.zeros(len(ts), dtype=bool)
    for start, end in regions:
        inside |= (ts >= start) & (ts <= end)
    return inside


def speaking_score(
    timestamps: np.ndarray, motion: np.ndarray, regions: Sequence[tuple[float, float]], min_samples: int = 3
) -> float | None:
    """How much more the mouth moves during speech than outside it (landmark units per step).

    Mean motion inside ``regions`` minus the mean outside when both have ``min_samples`` measurements;
    the inside mean alone when the face is only seen during speech; None when it is never seen speaking.
    """
    motion = np.asarray(motion, dtype=np.float64)
    valid = np.isfinite(motion)
    inside = in_regions(timestamps, regions)
    speaking = motion[inside & valid]
    silent = motion[~inside & valid]
    if len(speaking) < min_samples:
        return None
    if len(silent) >= min_samples:
        return float(speaking.mean() - silent.mean())
    return float(speaking.mean())


def select_main(
    tracks: list[FaceTrack],
    frames_seen: int,
    speech_regions: Sequence[tuple[float, float]] | None = None,
    config: SelectionConfig = SelectionConfig(),
) -> list[FaceTrack]:
    """Flag exactly one track ``main`` (when any) and record the score parts in ``attributes``.

    presence = detections / frames_seen; size = mean face width over the widest track's; speaking =
    speaking_score over the best track's (0 without speech or landmarks). Returns the same list.
    """
    if not tracks:
        return tracks
    widths = [float(np.mean(tr.boxes[:, 2] - tr.boxes[:, 0])) for tr in tracks]
    speaking: list[float | None] = []
    for tr in tracks:
        score = None
        if speech_regions and tr.landmarks is not None:
            motion = mouth_activity(tr.timestamps, tr.landmarks, config.max_step_s)
            score = speaking_score(tr.timestamps, motion, speech_regions)
        speaking.append(score)
    best_speaking = max([s for s in speaking if s is not None and s > 0], default=0.0)
    best_width = max(max(widths), 1e-6)
    totals = []
    for tr, width, speak in zip(tracks, widths, speaking):
        presence = min(len(tr.timestamps) / max(frames_seen, 1), 1.0)
        size = width / best_width
        speak_rel = max(speak, 0.0) / best_speaking if (speak is not None and best_speaking > 0) else 0.0
        total = (
            config.presence_weight * presence + config.size_weight * size + config.speaking_weight * speak_rel
        )
        tr.attributes.update(
            presence=round(presence, 4),
            size_rel=round(size, 4),
            speaking=None if speak is None else round(speak, 5),
            main_score=round(total, 4),
        )
        totals.append(total)
    best = int(np.argmax(totals))
    for i, tr in enumerate(tracks):
        tr.main = i == best
    return tracks
