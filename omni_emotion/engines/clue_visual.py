"""Visual clues: facial-expression probabilities of the main face over time, plus facial actions.

Crops of the main face (cut from the clip's sampled frames with the track's boxes, framed the way `fer`
frames its input) go through the FER2013 expression model. Each frame is weighted by its face quality
(size, frontality, sharpness, detector score: faces/quality.py), so the clear frames of a drama clip
outweigh the small, turned or blurred ones. Probabilities are summarised per phase (beginning, middle,
end of the track), per time window (the UI timeline), and per emotion family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.expressions import FER_LABELS, ExpressionModel, crop_face
from omni_emotion.faces.quality import FaceQuality, face_quality
from omni_emotion.facial_actions import PHASES, ActionFact, describe_actions, phase_slices
from omni_emotion.types import FaceTrack, Perception

__all__ = ["VisualClues", "expression_inputs", "timeline_windows", "visual_clues"]

_MAX_BOX_GAP_S = 0.5  # a sampled frame uses the track's nearest box only when it is this close in time
THIN_QUALITY = 0.4  # mean face-quality weight under which the clues call the face evidence thin


@dataclass
class VisualClues:
    """What the face showed. probs (K, 7) in FER_LABELS order at ``times`` (K,) seconds; phases (3, 7) are
    quality-weighted phase means; ``qualities`` (K,) the per-frame face quality."""

    times: np.ndarray
    probs: np.ndarray
    phases: np.ndarray
    actions: list[ActionFact] = field(default_factory=list)
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


def expression_inputs(track: FaceTrack, perception: Perception
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
        return VisualClues(np.zeros(0), np.zeros((0, len(FER_LABELS))), np.zeros((3, len(FER_LABELS))),
                           other_faces=others, duration=clip.duration)
    times, crops, qualities = expression_inputs(track, perception)
    probs = model.predict(crops) if crops else np.zeros((0, len(FER_LABELS)), dtype=np.float32)
    order = np.argsort(times, kind="stable")
    times, probs = times[order], probs[order]
    qualities = [qualities[i] for i in order]
    weights = np.array([q.weight for q in qualities])
    phases = (np.stack([np.average(probs[s], axis=0, weights=weights[s]) for s in phase_slices(len(probs))])
              if len(probs) else np.zeros((3, len(FER_LABELS))))
    actions = describe_actions(track.boxes, track.timestamps, track.landmarks)
    return VisualClues(times, probs, phases, actions, others, track.end - track.start, clip.duration, qualities)


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
            out.append({
                "start_s": round(float(start), 3),
                "end_s": round(float(start + window_s), 3),
                "scores": {label: round(float(p), 4) for label, p in zip(FER_LABELS, mean)},
                "top": FER_LABELS[int(np.argmax(mean))],
            })
        start += window_s
    return out


def describe_visual(clues: VisualClues) -> str:
    """The visual clue paragraph: expression by phase, facial actions, other faces. Every number is measured."""
    if not clues.has_face:
        extra = f" {clues.other_faces} other face(s) appear." if clues.other_faces else ""
        return ("No face of the main person is visible, so there are no facial clues." + extra) if clues.duration else ""
    parts = []
    tops = clues.phase_top()
    if len(clues.probs) == 1:  # a still image, or a face seen in one frame only: no change over time to tell
        index = int(np.argmax(clues.probs[0]))
        parts.append(f"The person's facial expression reads as {_adj(FER_LABELS[index])} "
                     f"(expression model: {FER_LABELS[index]} {clues.probs[0, index]:.2f}).")
    elif len({label for label, _ in tops}) == 1:
        label = max(tops, key=lambda x: x[1])[0]
        parts.append(f"Throughout the clip the person's facial expression reads as {_adj(label)} "
                     f"(expression model: {label} {clues.probs[:, FER_LABELS.index(label)].mean():.2f} on average).")
    else:
        steps = [f"{_AT[phase]} it reads as {_adj(label)} ({label} {p:.2f})" for phase, (label, p) in zip(PHASES, tops)]
        parts.append("Over the clip the person's facial expression changes: " + "; ".join(steps) + ".")
    for fact in clues.actions:
        where = "Throughout the clip" if fact.phase == "throughout" else f"At the {fact.phase}"
        parts.append(f"{where}, {fact.phrase}.")
    thin = _thin_evidence(clues)
    if thin:
        parts.append(thin)
    if clues.duration and clues.face_seconds < 0.6 * clues.duration:
        parts.append(f"The face is visible for about {clues.face_seconds:.1f} of {clues.duration:.1f} seconds.")
    if clues.other_faces:
        parts.append(f"{clues.other_faces} other face{'s' if clues.other_faces > 1 else ''} also appear{'' if clues.other_faces > 1 else 's'}.")
    return " ".join(parts)


def _thin_evidence(clues: VisualClues) -> str:
    """A sentence saying the face evidence is thin, naming the weakest factor; "" when it is not."""
    if clues.quality >= THIN_QUALITY:
        return ""
    factors = {name: float(np.mean([getattr(q, name) for q in clues.qualities]))
               for name in ("size", "frontality", "sharpness", "detection")}
    weakest = min(factors, key=factors.get)
    why = {"size": "the face is small", "frontality": "the face is turned away",
           "sharpness": "the face is blurred", "detection": "the face is hard to detect"}[weakest]
    return (f"The face evidence is thin ({why}; quality {clues.quality:.2f} of 1), "
            f"so the expression counts for less.")


_AT = {"beginning": "at the beginning", "middle": "in the middle", "end": "by the end"}
_ADJ = {"angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy", "sad": "sad",
        "surprise": "surprised", "neutral": "neutral"}


def _adj(label: str) -> str:
    return _ADJ[label]
