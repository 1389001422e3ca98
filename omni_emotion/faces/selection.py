"""Who the analysis is about: the person who speaks and is seen.

Pure functions over FaceTrack data. Each observation of a track is weighted by how well the face is seen
(``seen_weights``: frontality from the 5 landmarks times the detector's confidence, faces/quality.py), so a
turned-away head or a doubtful detection counts for little. A track's score is, in order of weight:
- speaking: its mouth moves more while the voice is heard than while it is not (``speaking_score``), times
  how much of the speech it is seen for; the mouth motion is the tracker's pixel measure (faces/mouth.py), or
  a detector's mouth value, or else the 5 landmarks' mouth corners (``mouth_activity``);
- presence: its seen-weighted share of the frames;
- size: its mean face width times its mean seen weight.
On top of the score, a turned-away track never wins over a frontal one seen in at least as many frames:
the back of a head in the foreground of a two-shot is large, steady and its landmarks jitter like a mouth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.faces.quality import detection_weight, frontality
from omni_emotion.types import FaceTrack

__all__ = [
    "SelectionConfig",
    "in_regions",
    "mouth_activity",
    "mouth_motion",
    "seen_weights",
    "select_main",
    "speaking_score",
]


@dataclass(frozen=True)
class SelectionConfig:
    """Weights of the main-person score (they need not sum to 1); the largest time step (s) between two
    observations for their mouth change to count as motion; ``turned_below``: mean frontality
    (faces/quality.py: 0.1 in profile to 1 frontal) under which a track counts as turned away."""

    speaking_weight: float = 0.6
    presence_weight: float = 0.25
    size_weight: float = 0.15
    max_step_s: float = 0.5
    turned_below: float = 0.4

    def __post_init__(self) -> None:
        weights = (self.presence_weight, self.size_weight, self.speaking_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ConfigError(f"selection weights must be >= 0 with a positive sum, got {weights}")
        if self.max_step_s <= 0:
            raise ConfigError(f"max_step_s must be positive, got {self.max_step_s}")
        if not 0 <= self.turned_below <= 1:
            raise ConfigError(f"turned_below must be in [0, 1], got {self.turned_below}")


def mouth_activity(timestamps: np.ndarray, landmarks: np.ndarray, max_step_s: float = 0.5) -> np.ndarray:
    """Per-observation mouth motion from 5-point landmarks (the fallback without the tracker's pixel measure).

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


def mouth_motion(track: FaceTrack, max_step_s: float = 0.5) -> np.ndarray | None:
    """(T,) mouth motion of a track: the tracker's measure when it has one, else the landmarks'; None without
    either."""
    if track.mouth is not None and np.isfinite(track.mouth).any():
        return np.asarray(track.mouth, dtype=np.float64)
    if track.landmarks is not None:
        return mouth_activity(track.timestamps, track.landmarks, max_step_s)
    return None


def seen_weights(track: FaceTrack) -> np.ndarray:
    """(T,) how well each observation shows the face, in [0.01, 1]: frontality (1 without landmarks: the pose
    is unknown) times the detector-confidence factor."""
    confidence = detection_weight(np.asarray(track.scores, dtype=np.float64)).reshape(-1)
    if track.landmarks is None:
        return confidence
    return frontality(track.landmarks).reshape(-1) * confidence


def in_regions(timestamps: np.ndarray, regions: Sequence[tuple[float, float]]) -> np.ndarray:
    """(T,) bool: whether each time lies inside any (start, end) region, seconds."""
    ts = np.asarray(timestamps, dtype=np.float64)
    inside = np.zeros(len(ts), dtype=bool)
    for start, end in regions:
        inside |= (ts >= start) & (ts <= end)
    return inside


def speaking_score(
    timestamps: np.ndarray,
    motion: np.ndarray,
    regions: Sequence[tuple[float, float]],
    weights: np.ndarray | None = None,
    min_samples: int = 3,
) -> float | None:
    """How much more the mouth moves during speech than outside it (motion units per step).

    motion[i] is the change from observation i - 1 to i, so it counts as during speech when either of the
    two lies inside ``regions`` (the mouth closing after a phrase is speech). The weighted mean motion during
    speech minus the weighted mean outside when both have ``min_samples`` measurements; the mean during
    speech alone when the face is only seen then (the pixel measure is 0 for a still mouth); None when it is
    seen speaking fewer than ``min_samples`` times. weights (T,) >= 0, default 1. Never lower when motion
    rises during speech, never higher when it rises outside.
    """
    motion = np.asarray(motion, dtype=np.float64)
    w = np.ones(len(motion)) if weights is None else np.asarray(weights, dtype=np.float64)
    valid = np.isfinite(motion) & (w > 0)
    observed = in_regions(timestamps, regions)
    inside = observed.copy()
    inside[1:] |= observed[:-1]
    speaking, silent = inside & valid, ~inside & valid
    if speaking.sum() < min_samples:
        return None
    score = float(np.average(motion[speaking], weights=w[speaking]))
    if silent.sum() >= min_samples:
        score -= float(np.average(motion[silent], weights=w[silent]))
    return score


def select_main(
    tracks: list[FaceTrack],
    frames_seen: int,
    speech_regions: Sequence[tuple[float, float]] | None = None,
    config: SelectionConfig = SelectionConfig(),
) -> list[FaceTrack]:
    """Flag exactly one track ``main`` (when any) and record the score parts in ``attributes``.

    speaking = max(speaking_score, 0) x the seen-weighted observations during speech, over the best track's
    (0 without speech or a mouth measure); presence = seen-weighted detections / frames_seen; size = mean
    face width x mean seen weight, over the best track's. A track whose mean frontality is under
    ``config.turned_below`` cannot win while a frontal one has at least as many detections. Ties go to more
    detections, then the lower track id, so the choice does not depend on the list's order. Returns the list.
    """
    if not tracks:
        return tracks
    seen = [seen_weights(tr) for tr in tracks]
    facing = [float(frontality(tr.landmarks).mean()) if tr.landmarks is not None else 1.0 for tr in tracks]
    sizes = [float(np.mean(tr.boxes[:, 2] - tr.boxes[:, 0])) * float(w.mean()) for tr, w in zip(tracks, seen)]
    speaking: list[float | None] = []
    evidence: list[float] = []
    for tr, w in zip(tracks, seen):
        motion = mouth_motion(tr, config.max_step_s) if speech_regions else None
        score = None if motion is None else speaking_score(tr.timestamps, motion, speech_regions, w)
        speaking.append(score)
        heard = float(w[in_regions(tr.timestamps, speech_regions)].sum()) if speech_regions else 0.0
        evidence.append(max(score, 0.0) * heard if score is not None else 0.0)
    best_evidence, best_size = max(evidence), max(max(sizes), 1e-9)
    totals = []
    for tr, w, size, speak, ev, front in zip(tracks, seen, sizes, speaking, evidence, facing):
        presence = min(float(w.sum()) / max(frames_seen, 1), 1.0)
        size_rel = size / best_size
        speak_rel = ev / best_evidence if best_evidence > 0 else 0.0
        total = (
            config.speaking_weight * speak_rel
            + config.presence_weight * presence
            + config.size_weight * size_rel
        )
        tr.attributes.update(
            presence=round(presence, 4),
            size_rel=round(size_rel, 4),
            facing=round(front, 4),
            speaking=None if speak is None else round(speak, 5),
            main_score=round(total, 4),
        )
        totals.append(total)
    frontal_counts = [len(tr.timestamps) for tr, f in zip(tracks, facing) if f >= config.turned_below]
    most_frontal = max(frontal_counts, default=0)
    eligible = [
        i
        for i, (tr, f) in enumerate(zip(tracks, facing))
        if f >= config.turned_below or len(tr.timestamps) > most_frontal
    ]
    best = max(eligible, key=lambda i: (totals[i], len(tracks[i].timestamps), -tracks[i].track_id))
    for i, tr in enumerate(tracks):
        tr.main = i == best
    return tracks
