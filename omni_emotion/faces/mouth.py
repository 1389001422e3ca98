"""Mouth motion per face observation, to tell who speaks: pixels of the mouth region, or a detector's value.

The face is warped onto a small template from the eyes and nose only (the rigid part of the face), so an
opening mouth is not aligned away; the mouth box and the eye box of two observations of the same track are
compared. Talking changes the mouth box far more than the eye box, while head motion, landmark jitter,
camera noise and lighting change both: the mouth's change minus the eyes' change keeps what is the mouth's
own. Each box is standardised (mean 0, contrast-floored unit spread) first, so brightness and contrast
changes cancel. About 0.3 ms per detection (a 48 px warp), next to tens of ms for the detection itself.

A detector that measures the mouth itself (e.g. a mesh with lip points) can put a mouth-opening level, in
face heights, into ``Detection.attributes[MOUTH_OPEN_KEY]``; its change then replaces the pixel measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from omni_emotion.faces.align import similarity_transform, template

__all__ = ["MOUTH_OPEN_KEY", "PATCH_SIDE", "MouthMeter", "face_patch", "patch_motion"]

MOUTH_OPEN_KEY = "mouth_open"  # Detection.attributes key: mouth opening / face height, when a detector has it
PATCH_SIDE = 48  # px: the template face the boxes are cut from (mouth about 14 x 24 px)
# (y0, y1, x0, x1) in the 48 px template: the mouth corners sit at y ~ 39.5, x 17.8-30.3; the eyes at y ~ 22
MOUTH_BOX = (31, 47, 12, 36)
EYES_BOX = (14, 28, 8, 40)
CONTRAST_FLOOR = 8.0  # grey levels added to a box's spread, so flat skin does not turn noise into change
BOX_MARGIN = 0.15  # without landmarks: the box grown by this per side, as align.crop_box frames it

_RIGID = template(PATCH_SIDE)[:3]  # eyes and nose


def face_patch(frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
    """(PATCH_SIDE, PATCH_SIDE) float32 grey face on the template: frame (H, W, 3) uint8 RGB; box (4,) px;
    landmarks (5, 2) px or None (then the box is centred and scaled, without rotation)."""
    if landmarks is not None and np.all(np.isfinite(landmarks)):
        m = similarity_transform(np.asarray(landmarks, np.float64).reshape(5, 2)[:3], _RIGID)
    else:
        x1, y1, x2, y2 = (float(v) for v in box)
        k = PATCH_SIDE / (max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * BOX_MARGIN))
        half = PATCH_SIDE / 2
        m = np.array([[k, 0.0, half - k * (x1 + x2) / 2], [0.0, k, half - k * (y1 + y2) / 2]])
    face = cv2.warpAffine(frame, m, (PATCH_SIDE, PATCH_SIDE), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _standardised(patch: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    y0, y1, x0, x1 = box
    part = patch[y0:y1, x0:x1]
    return (part - part.mean()) / (part.std() + CONTRAST_FLOOR)


def patch_motion(before: np.ndarray, after: np.ndarray) -> float:
    """The mouth box's own change between two face patches: mean |difference| of the standardised mouth
    boxes minus that of the eye boxes. About 0 for a still or rigidly moving face, positive when the mouth
    moves, negative when only the eyes do (a blink)."""
    mouth = float(np.abs(_standardised(after, MOUTH_BOX) - _standardised(before, MOUTH_BOX)).mean())
    eyes = float(np.abs(_standardised(after, EYES_BOX) - _standardised(before, EYES_BOX)).mean())
    return mouth - eyes


class MouthMeter:
    """Mouth motion of one track, observation by observation (keeps only the previous observation).

    ``max_step_s``: a longer gap between two observations gives NaN (the face may have changed while unseen).
    """

    def __init__(self, max_step_s: float = 0.5) -> None:
        self.max_step_s = max_step_s
        self._t: float | None = None
        self._patch: np.ndarray | None = None
        self._open: float | None = None

    def update(self, t: float, frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray | None,
               attributes: Mapping[str, Any]) -> float:
        """Motion since the previous observation (NaN for the first one and after a long gap)."""
        close = self._t is not None and t - self._t <= self.max_step_s
        self._t = t
        if MOUTH_OPEN_KEY in attributes:
            level = float(attributes[MOUTH_OPEN_KEY])
            motion = abs(level - self._open) if close and self._open is not None else np.nan
            self._open, self._patch = level, None
            return motion
        patch = face_patch(frame, box, landmarks)
        motion = patch_motion(self._patch, patch) if close and self._patch is not None else np.nan
        self._patch, self._open = patch, None
        return motion
