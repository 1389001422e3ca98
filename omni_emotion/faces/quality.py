"""How much a face detection can be trusted for reading an expression, as a weight in [MIN_WEIGHT, 1].

Drama footage has small, turned and blurred faces; the expression model was trained on 48x48 frontal,
sharp faces. Four factors, each in [MIN_WEIGHT, 1], multiply:
- size: the box's shorter side against FULL_SIZE_PX (the model's input is 48 px; under it detail is lost);
- frontality: the nose's horizontal offset from the eyes' midpoint relative to the eye distance, a yaw proxy
  from the 5 landmarks (0 for a frontal face, about 0.5 in near profile);
- sharpness: the variance of the Laplacian of the grey crop resized to SHARPNESS_SIDE, a standard blur measure;
- detector score: the detector's confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["FaceQuality", "detection_weight", "face_quality", "frontality", "sharpness"]

MIN_WEIGHT = 0.1  # no single factor silences a frame completely
MIN_SIZE_PX, FULL_SIZE_PX = 24.0, 96.0
FULL_YAW, MAX_YAW = 0.1, 0.5  # nose offset / eye distance: frontal up to FULL_YAW, profile at MAX_YAW
SHARPNESS_SIDE = 64
BLURRED, SHARP = 20.0, 120.0  # Laplacian variance of a 64 px grey crop
LOW_SCORE, FULL_SCORE = 0.5, 0.9


@dataclass(frozen=True)
class FaceQuality:
    """Each factor in [MIN_WEIGHT, 1]; ``weight`` is their product (floored at MIN_WEIGHT)."""

    size: float
    frontality: float
    sharpness: float
    detection: float

    @property
    def weight(self) -> float:
        return max(MIN_WEIGHT, self.size * self.frontality * self.sharpness * self.detection)


def _ramp(value: float, low: float, high: float) -> float:
    """0 at ``low`` (and below) to 1 at ``high`` (and above), floored at MIN_WEIGHT."""
    return float(np.clip((value - low) / (high - low), MIN_WEIGHT, 1.0))


def sharpness(crop: np.ndarray) -> float:
    """Laplacian variance of an RGB uint8 crop (H, W, 3) resized to SHARPNESS_SIDE square."""
    if crop.size == 0:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def frontality(landmarks: np.ndarray) -> np.ndarray:
    """Frontality factor in [MIN_WEIGHT, 1] of (..., 5, 2) landmarks (eyes, nose, mouth corners) -> (...):
    1 up to FULL_YAW, MIN_WEIGHT from MAX_YAW on, where yaw = |nose x - eye midpoint x| / eye distance.
    Eyes closer than 1e-6 px count as turned away; NaN landmarks (pose unknown) as frontal, as None does."""
    lm = np.asarray(landmarks, dtype=np.float64)
    known = np.isfinite(lm[..., :3, :]).all(axis=(-2, -1))
    lm = np.where(known[..., None, None], lm, 0.0)
    eyes = np.linalg.norm(lm[..., 1, :] - lm[..., 0, :], axis=-1)
    offset = np.abs(lm[..., 2, 0] - (lm[..., 0, 0] + lm[..., 1, 0]) / 2.0)
    yaw = np.where(eyes >= 1e-6, offset / np.where(eyes >= 1e-6, eyes, 1.0), MAX_YAW)
    yaw = np.where(known, yaw, 0.0)
    return np.clip((MAX_YAW - yaw) / (MAX_YAW - FULL_YAW), MIN_WEIGHT, 1.0)


def detection_weight(score: np.ndarray | float) -> np.ndarray:
    """Detector-confidence factor in [MIN_WEIGHT, 1]: LOW_SCORE and below to FULL_SCORE and above."""
    ramp = (np.asarray(score, dtype=np.float64) - LOW_SCORE) / (FULL_SCORE - LOW_SCORE)
    return np.clip(ramp, MIN_WEIGHT, 1.0)


def face_quality(
    box: np.ndarray, score: float, crop: np.ndarray, landmarks: np.ndarray | None = None
) -> FaceQuality:
    """Quality of one detection: box (4,) x1, y1, x2, y2 px; score; its crop (H, W, 3); landmarks (5, 2) or None."""
    side = float(min(box[2] - box[0], box[3] - box[1]))
    # without landmarks the pose is unknown: no penalty rather than a guess
    frontal = 1.0 if landmarks is None else float(frontality(landmarks))
    return FaceQuality(
        size=_ramp(side, MIN_SIZE_PX, FULL_SIZE_PX),
        frontality=frontal,
        sharpness=_ramp(sharpness(crop), BLURRED, SHARP),
        detection=float(detection_weight(score)),
    )
