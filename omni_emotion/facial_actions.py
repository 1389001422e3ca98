"""Facial actions that five landmarks and a face box honestly allow, as pure functions over a track.

Five points (two eyes, nose tip, two mouth corners; insightface/RetinaFace order) give head pose proxies
(turn, tilt, nod) and mouth width; they do not show brows, eyelids or whether the mouth is open, so this
module does not claim those. Boxes alone give head movement, leaning in or back and the face dropping in
the frame. Values are relative to the person's own range within the clip where an absolute scale would
depend on identity (mouth width) or camera (box size).

All inputs: landmarks (T, 5, 2) float pixels, boxes (T, 4) x1, y1, x2, y2 pixels, times (T,) seconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from omni_emotion.facts import Fact

__all__ = [
    "ActionThresholds",
    "box_motion",
    "describe_actions",
    "head_pitch_ratio",
    "head_roll_deg",
    "head_yaw",
    "mouth_width_ratio",
    "phase_slices",
]

PHASES = ("beginning", "middle", "end")


@dataclass(frozen=True)
class ActionThresholds:
    """When a measured change becomes a stated fact. Units are given per field."""

    turned_yaw: float = 0.35  # |nose offset| in eye distances: head clearly turned aside
    tilted_deg: float = 12.0  # eye-line angle, degrees
    lowered_pitch: float = 0.12  # rise of the nose-between-eyes-and-mouth ratio over the clip's lowest third
    smile_widen: float = 0.10  # mouth width above the person's own 20th percentile, fraction
    moving_face_widths_per_s: float = 0.35  # box-centre speed that reads as a restless head
    still_face_widths_per_s: float = 0.05
    size_change: float = 0.15  # face-size change beginning -> end, fraction (leaning in / back)
    drop_face_heights: float = 0.25  # box-centre drop, in face heights, beginning -> end

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value <= 0:
                raise ValueError(f"ActionThresholds.{name} must be > 0, got {value}")


def _action(name: str, where: str, value: float) -> Fact:
    return Fact("face", name, float(value), where=where)


def _eye_dist(lm: np.ndarray) -> np.ndarray:
    return np.maximum(np.linalg.norm(lm[:, 1] - lm[:, 0], axis=-1), 1e-6)


def head_yaw(lm: np.ndarray) -> np.ndarray:
    """(T,) horizontal offset of the nose tip from the eye midpoint, in eye distances (0 = facing camera)."""
    mid = (lm[:, 0] + lm[:, 1]) / 2.0
    return (lm[:, 2, 0] - mid[:, 0]) / _eye_dist(lm)


def head_roll_deg(lm: np.ndarray) -> np.ndarray:
    """(T,) angle of the line through both eyes, degrees (0 = level), whichever eye comes first."""
    left = np.where(lm[:, 0:1, 0] <= lm[:, 1:2, 0], lm[:, 0], lm[:, 1])
    right = np.where(lm[:, 0:1, 0] <= lm[:, 1:2, 0], lm[:, 1], lm[:, 0])
    d = right - left
    return np.degrees(np.arctan2(d[:, 1], np.maximum(d[:, 0], 1e-6)))


def head_pitch_ratio(lm: np.ndarray) -> np.ndarray:
    """(T,) where the nose tip sits between the eye line (0) and the mouth line (1).

    Nodding down moves the projected nose tip towards the mouth, so the ratio rises when the head lowers.
    """
    eye_y = (lm[:, 0, 1] + lm[:, 1, 1]) / 2.0
    mouth_y = (lm[:, 3, 1] + lm[:, 4, 1]) / 2.0
    return (lm[:, 2, 1] - eye_y) / np.maximum(mouth_y - eye_y, 1e-6)


def mouth_width_ratio(lm: np.ndarray) -> np.ndarray:
    """(T,) distance between the mouth corners over the eye distance (a smile pulls the corners apart)."""
    return np.linalg.norm(lm[:, 4] - lm[:, 3], axis=-1) / _eye_dist(lm)


def box_motion(boxes: np.ndarray, times: np.ndarray) -> float:
    """Median speed of the box centre in face widths per second (0 for fewer than two detections)."""
    if len(boxes) < 2:
        return 0.0
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-6)
    dt = np.maximum(np.diff(times), 1e-3)
    speed = np.linalg.norm(np.diff(centre, axis=0), axis=-1) / width[1:] / dt
    return float(np.median(speed))


def phase_slices(n: int) -> list[slice]:
    """Three consecutive slices (beginning, middle, end) covering ``n`` items; short tracks share items."""
    if n <= 0:
        return [slice(0, 0)] * 3
    edges = np.linspace(0, n, 4).round().astype(int)
    return [slice(min(a, n - 1), max(b, min(a, n - 1) + 1)) for a, b in itertools.pairwise(edges)]


def _phase_means(values: np.ndarray) -> np.ndarray:
    return np.array([float(np.mean(values[s])) for s in phase_slices(len(values))])


def _where(flags: np.ndarray) -> str:
    on = [p for p, f in zip(PHASES, flags) if f]
    if len(on) == 3:
        return "throughout"
    return " and ".join(on)


def describe_actions(
    boxes: np.ndarray,
    times: np.ndarray,
    landmarks: np.ndarray | None = None,
    thresholds: ActionThresholds = ActionThresholds(),
) -> list[Fact]:
    """Face facts about head and mouth movement over one track, in a fixed order (pose, mouth, motion).

    Names and values (``where`` is the phase or phases): "head turned" (|nose offset|, eye distances),
    "head tilted" (eye-line angle, degrees), "head lowered" (rise of the pitch ratio), "mouth widened"
    (fraction above the person's own width), "head moving" / "head still" (face widths per second),
    "leaning in" / "leaning back" (face-size change, fraction), "face drops" (face heights).
    """
    facts: list[Fact] = []
    t = thresholds
    if landmarks is not None and len(landmarks) >= 1:
        yaw = _phase_means(head_yaw(landmarks))
        turned = np.abs(yaw) >= t.turned_yaw
        if turned.any():
            facts.append(_action("head turned", _where(turned), np.max(np.abs(yaw))))
        roll = _phase_means(head_roll_deg(landmarks))
        tilted = np.abs(roll) >= t.tilted_deg
        if tilted.any():
            facts.append(_action("head tilted", _where(tilted), np.max(np.abs(roll))))
        pitch = head_pitch_ratio(landmarks)
        if len(pitch) >= 3:
            base = float(np.percentile(pitch, 20))
            lowered = _phase_means(pitch) - base >= t.lowered_pitch
            if lowered.any() and not lowered.all():
                facts.append(_action("head lowered", _where(lowered), np.max(_phase_means(pitch) - base)))
        width = mouth_width_ratio(landmarks)
        if len(width) >= 3:
            base = float(np.percentile(width, 20))
            widen = _phase_means(width) / max(base, 1e-6) - 1.0
            smiling = widen >= t.smile_widen
            if smiling.any() and not smiling.all():
                facts.append(_action("mouth widened", _where(smiling), widen.max()))
    if len(boxes) >= 3:
        speed = box_motion(boxes, times)
        if speed >= t.moving_face_widths_per_s:
            facts.append(_action("head moving", "throughout", speed))
        elif speed <= t.still_face_widths_per_s:
            facts.append(_action("head still", "throughout", speed))
        size = _phase_means(boxes[:, 2] - boxes[:, 0])
        change = size[2] / max(size[0], 1e-6) - 1.0
        if abs(change) >= t.size_change:
            facts.append(_action("leaning in" if change > 0 else "leaning back", "end", change))
        cy = _phase_means((boxes[:, 1] + boxes[:, 3]) / 2.0)
        height = float(np.mean(boxes[:, 3] - boxes[:, 1]))
        drop = (cy[2] - cy[0]) / max(height, 1e-6)
        if drop >= t.drop_face_heights:
            facts.append(_action("face drops", "end", drop))
    return facts
