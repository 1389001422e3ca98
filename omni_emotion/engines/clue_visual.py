"""Visual clues: facial-expression probabilities of the main face over time, plus facial actions.

Crops of the main face (cut from the clip's sampled frames with the track's boxes, framed the way `fer`
frames its input) go through the FER2013 expression model. Probabilities are summarised per
phase (beginning, middle, end of the track), per time window (the UI timeline), and per emotion family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.expressions import FER_FAMILY, FER_LABELS, ExpressionModel, crop_face
from omni_emotion.facial_actions import PHASES, ActionFact, describe_actions, phase_slices
from omni_emotion.types import FaceTrack, Perception

__all__ = ["VisualClues", "expression_inputs", "timeline_windows", "visual_clues"]

_MAX_BOX_GAP_S = 0.5  # a sampled frame uses the track's nearest box only when it is this close in time


@dataclass
class VisualClues:
    """What the face showed. probs (K, 7) in FER_LABELS order at ``times`` (K,) seconds; phases (3, 7)."""

    times: np.ndarray
    probs: np.ndarray
    phases: np.ndarray
    actions: list[ActionFact] = field(default_factory=list)
    other_faces: int = 0
    face_seconds: float = 0.0
    duration: float = 0.0

    @property
    def has_face(self) -> bool:
        return len(self.probs) > 0

    def family_means(self) -> dict[str, float]:
        """Mean probability per family over the whole track (0 when there is no face)."""
        mean = self.probs.mean(axis=0) if self.has_face else np.zeros(len(FER_LABELS))
        return {FER_FAMILY[label]: float(p) for label, p in zip(FER_LABELS, mean)}

    def phase_top(self) -> list[tuple[str, float]]:
        """The dominant FER class and its mean probability in each phase."""
        return [(FER_LABELS[int(np.argmax(p))], float(np.max(p))) for p in self.phases]


def expression_inputs(track: FaceTrack, perception: Perception) -> tuple[np.ndarray, list[np.ndarray]]:
    """(times, crops) for the expression model.

    Crops are cut from the clip's sampled frames with the track's nearest box, framed as `fer` frames its
    training input (the tracker's aligned crops are framed differently and shift the model's output); the
    track's own crops are the fallback when no sampled frame lies near a detection (e.g. live buffers).
    """
    clip = perception.clip
    times, crops = [], []
    if len(track.timestamps):
        for t, frame in zip(clip.timestamps, clip.frames):
            i = int(np.argmin(np.abs(track.timestamps - t)))
            if abs(track.timestamps[i] - t) <= _MAX_BOX_GAP_S:
                times.append(float(t))
                crops.append(crop_face(frame, track.boxes[i]))
    if not crops and track.crops is not None and len(track.crops):
        fallback = track.crop_times if track.crop_times is not None else track.timestamps[: len(track.crops)]
        return np.asarray(fallback, dtype=np.float64), list(track.crops)
    return np.asarray(times, dtype=np.float64), crops


def visual_clues(perception: Perception, model: ExpressionModel) -> VisualClues:
    """Run the expression model over the main face and measure its actions; empty when no face."""
    clip = perception.clip
    track = perception.main_face
    others = sum(1 for f in perception.faces if not f.main)
    if track is None:
        return VisualClues(np.zeros(0), np.zeros((0, len(FER_LABELS))), np.zeros((3, len(FER_LABELS))),
                           other_faces=others, duration=clip.duration)
    times, crops = expression_inputs(track, perception)
    probs = model.predict(crops) if crops else np.zeros((0, len(FER_LABELS)), dtype=np.float32)
    order = np.argsort(times, kind="stable")
    times, probs = times[order], probs[order]
    phases = (np.stack([probs[s].mean(axis=0) for s in phase_slices(len(probs))])
              if len(probs) else np.zeros((3, len(FER_LABELS))))
    actions = describe_actions(track.boxes, track.timestamps, track.landmarks)
    return VisualClues(times, probs, phases, actions, others, track.end - track.start, clip.duration)


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
    if clues.duration and clues.face_seconds < 0.6 * clues.duration:
        parts.append(f"The face is visible for about {clues.face_seconds:.1f} of {clues.duration:.1f} seconds.")
    if clues.other_faces:
        parts.append(f"{clues.other_faces} other face{'s' if clues.other_faces > 1 else ''} also appear{'' if clues.other_faces > 1 else 's'}.")
    return " ".join(parts)


_AT = {"beginning": "at the beginning", "middle": "in the middle", "end": "by the end"}
_ADJ = {"angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy", "sad": "sad",
        "surprise": "surprised", "neutral": "neutral"}


def _adj(label: str) -> str:
    return _ADJ[label]
