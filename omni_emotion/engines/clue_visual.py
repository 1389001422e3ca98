"""Visual clues: facial-expression probabilities of the main face over time, plus facial actions.

Crops of the main face (cut from the clip's sampled frames with the track's boxes, framed the way `fer`
frames its input) go through the FER2013 expression model. Each frame is weighted by its face quality
(size, frontality, sharpness, detector score: faces/quality.py), so the clear frames of a drama clip
outweigh the small, turned or blurred ones. Probabilities are summarised per phase (beginning, middle,
end of the track), per time window (the UI timeline), and per emotion family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from omni_emotion.expression_io import FER_LABELS, crop_face
from omni_emotion.faces.quality import FaceQuality, face_quality
from omni_emotion.facial_actions import describe_actions, phase_slices
from omni_emotion.facts import Fact
from omni_emotion.types import FaceTrack, Perception

if TYPE_CHECKING:  # the model is torch's: it loads in the background, after this module
    from omni_emotion.expressions import ExpressionModel

__all__ = ["VisualClues", "expression_inputs", "timeline_windows", "visual_clues"]

_MAX_BOX_GAP_S = 0.5  # a sampled frame uses the track's nearest box only when it is this close in time
THIN_QUALITY = 0.4  # mean face-quality weight under which the face evidence is thin
QUALITY_FACTORS = ("size", "frontality", "sharpness", "detection")


@dataclass
class VisualClues:
    """What the face showed. probs (K, 7) in FER_LABELS order at ``times`` (K,) seconds; phases (3, 7) are
    quality-weighted phase means; ``qualities`` (K,) the per-frame face quality."""

    times: np.ndarray
    probs: np.ndarray
    phases: np.ndarray
    actions: list[Fact] = field(default_factory=list)
    other_faces: int = 0
    face_seconds: float = 0.0
    duration: float = 0.0
    qualities: list[FaceQuality] = field(default_factory=list)

    @property
    def has_face(self) -> bool:
        return len(self.probs) > 0

    @property
    def weights(self) -> np.ndarray:
        """(K,) per-frame weights; 1 where no quality was measured."""
        if len(self.qualities) != len(self.probs):
            return np.ones(len(self.probs))
        return np.array([q.weight for q in self.qualities])

    @property
    def quality(self) -> float:
        """Mean face-quality weight in [0.1, 1]; 1 without a face (nothing to discount)."""
        return float(self.weights.mean()) if self.has_face else 1.0

    def weighted_mean(self) -> np.ndarray:
        """(7,) quality-weighted mean probabilities over the track."""
        return np.average(self.probs, axis=0, weights=self.weights)

    def phase_top(self) -> list[tuple[str, float]]:
        """The dominant FER class and its mean probability in each phase."""
        return [(FER_LABELS[int(np.argmax(p))], float(np.max(p))) for p in self.phases]

    def thin_evidence(self) -> Fact | None:
        """A "thin face" fact (the mean quality, ``about`` its weakest factor) when the face evidence is
        thin; None when it is not."""
        if self.quality >= THIN_QUALITY:
            return None
        factors = {
            name: float(np.mean([getattr(q, name) for q in self.qualities])) for name in QUALITY_FACTORS
        }
        return Fact("face", "thin face", self.quality, about=min(factors, key=factors.__getitem__))


def expression_inputs(
    track: FaceTrack, perception: Perception
) -> tuple[np.ndarray, list[np.ndarray], list[FaceQuality]]:
    """(times, crops, qualities) for the expression model.

    Crops are cut from the clip's sampled frames with the track's nearest box, framed as `fer` frames its
    training input (the tracker's aligned crops are framed differently and shift the model's output); the
    track's own crops are the fallback when no sampled frame lies near a detection (e.g. live buffers).
    """
    clip = perception.clip
    times, crops, qualities = [], [], []
    if len(track.timestamps):
        for t, frame in zip(clip.timestamps, clip.frames):
            i = int(np.argmin(np.abs(track.timestamps - t)))
            if abs(track.timestamps[i] - t) <= _MAX_BOX_GAP_S:
                times.append(float(t))
                crops.append(crop_face(frame, track.boxes[i]))
                qualities.append(_quality(track, i, crops[-1]))
    if not crops and track.crops is not None and len(track.crops):
        fallback = track.crop_seconds
        nearest = [int(np.argmin(np.abs(track.timestamps - t))) for t in fallback]
        qualities = [_quality(track, i, crop) for i, crop in zip(nearest, track.crops)]
        return np.asarray(fallback, dtype=np.float64), list(track.crops), qualities
    return np.asarray(times, dtype=np.float64), crops, qualities


def _quality(track: FaceTrack, index: int, crop: np.ndarray) -> FaceQuality:
    landmarks = None if track.landmarks is None else track.landmarks[index]
    return face_quality(track.boxes[index], float(track.scores[index]), crop, landmarks)


def visual_clues(perception: Perception, model: ExpressionModel) -> VisualClues:
    """Run the expression model over the main face and measure its actions; empty when no face."""
    clip = perception.clip
    track = perception.main_face
    others = sum(1 for f in perception.faces if not f.main)
    if track is None:
        return VisualClues(
            np.zeros(0),
            np.zeros((0, len(FER_LABELS))),
            np.zeros((3, len(FER_LABELS))),
            other_faces=others,
            duration=clip.duration,
        )
    times, crops, qualities = expression_inputs(track, perception)
    probs = model.predict(crops) if crops else np.zeros((0, len(FER_LABELS)), dtype=np.float32)
    order = np.argsort(times, kind="stable")
    times, probs = times[order], probs[order]
    qualities = [qualities[i] for i in order]
    weights = np.array([q.weight for q in qualities])
    phases = (
        np.stack([np.average(probs[s], axis=0, weights=weights[s]) for s in phase_slices(len(probs))])
        if len(probs)
        else np.zeros((3, len(FER_LABELS)))
    )
    actions = describe_actions(track.boxes, track.timestamps, track.landmarks)
    return VisualClues(
        times, probs, phases, actions, others, track.end - track.start, clip.duration, qualities
    )


def timeline_windows(clues: VisualClues, window_s: float = 1.0) -> list[dict]:
    """Per-window mean expression scores for the UI: [{"start_s", "end_s", "scores": {label: p}, "top"}]."""
    if not clues.has_face:
        return []
    out = []
    start = np.floor(clues.times[0] / window_s) * window_s
    while start <= clues.times[-1]:
        inside = (clues.times >= start) & (clues.times < start + window_s)
        if inside.any():
            mean = clues.probs[inside].mean(axis=0)
            out.append(
                {
                    "start_s": round(float(start), 3),
                    "end_s": round(float(start + window_s), 3),
                    "scores": {label: round(float(p), 4) for label, p in zip(FER_LABELS, mean)},
                    "top": FER_LABELS[int(np.argmax(mean))],
                }
            )
        start += window_s
    return out
