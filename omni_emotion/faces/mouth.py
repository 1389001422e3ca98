"""Mouth motion per face observation, to tell who speaks: pixels of the mouth region, or a detector's value.

The face is warped onto a small template from its 5 landmarks and lightly blurred; the measure is the grey
spread (standard deviation) of the mouth box. An open mouth shows a dark cavity, teeth and lips: its box's
spread rises, and falls again when the lips close, so speech makes it change from one observation to the
next while a still mouth keeps it. Box statistics barely move when the head nods or the alignment is a pixel
off, which a pixel-by-pixel difference does not survive (measured on the generated clips of
tests/test_faces_main_person.py: a nodding listener read as much "mouth motion" as the speaker by
differencing, speaking score 0.053 against 0.059; by the spread the change per step in speech is 0.02 for the
listener and 0.18 for the speaker). The change is taken relative to the two spreads, so
brightness and contrast changes of the whole frame cancel. Its limit: lips that move without opening change
the spread little (a talking man in the shared clips: 0.02 per step). One 48 px warp per detection: 0.3-1.5
ms on the shared 2-core machine (bench/main_person.py), under 1% of detection and tracking.

A detector that measures the mouth itself (e.g. a mesh with lip points) can put a mouth-opening level, in
face heights, into ``Detection.attributes[MOUTH_OPEN_KEY]``; its change then replaces the pixel measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from omni_emotion.faces.align import similarity_transform, template

__all__ = ["MOUTH_OPEN_KEY", "PATCH_SIDE", "MouthMeter", "face_patch", "mouth_spread", "spread_change"]

MOUTH_OPEN_KEY = "mouth_open"  # Detection.attributes key: mouth opening / face height, when a detector has it
PATCH_SIDE = 48  # px: the template face the mouth box is cut from (mouth about 14 x 24 px)
# (y0, y1, x0, x1) in the 48 px template, whose mouth corners sit at y ~ 39.5, x 17.8-30.3
MOUTH_BOX = (31, 47, 12, 36)
BLUR_PX = 1.0  # Gaussian sigma on the template: sub-pixel alignment error and sensor noise fade
CONTRAST_FLOOR = 8.0  # grey levels added to the spread, so a flat, dark or tiny mouth box is not all noise
BOX_MARGIN = 0.15  # without landmarks: the box grown by this per side, as align.crop_box frames it

_TEMPLATE = template(PATCH_SIDE)


def face_patch(frame: np.ndarray, box: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
    """(PATCH_SIDE, PATCH_SIDE) float32 blurred grey face on the template: frame (H, W, 3) uint8 RGB; box (4,)
    px; landmarks (5, 2) px or None (then the box is centred and scaled, without rotation)."""
    if landmarks is not None and np.all(np.isfinite(landmarks)):
        m = similarity_transform(np.asarray(landmarks, np.float64).reshape(5, 2), _TEMPLATE)
    else:
        x1, y1, x2, y2 = (float(v) for v in box)
        k = PATCH_SIDE / (max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * BOX_MARGIN))
        half = PATCH_SIDE / 2
        m = np.array([[k, 0.0, half - k * (x1 + x2) / 2], [0.0, k, half - k * (y1 + y2) / 2]])
    face = cv2.warpAffine(frame, m, (PATCH_SIDE, PATCH_SIDE), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.GaussianBlur(grey, (0, 0), BLUR_PX)


def mouth_spread(patch: np.ndarray) -> float:
    """Grey standard deviation of the mouth box of a face patch (grey levels)."""
    y0, y1, x0, x1 = MOUTH_BOX
    return float(patch[y0:y1, x0:x1].std())


def spread_change(before: float, after: float) -> float:
    """|after - before| over their mean plus CONTRAST_FLOOR: 0 for a still mouth, about 0.3-1 as it opens."""
    return abs(after - before) / (0.5 * (before + after) + CONTRAST_FLOOR)


class MouthMeter:
    """Mouth motion of one track, observation by observation (keeps only the previous level).

    ``max_step_s``: a longer gap between two observations gives NaN (the face may have changed while unseen).
    """

    def __init__(self, max_step_s: float = 0.5) -> None:
        self.max_step_s = max_step_s
        self._t: float | None = None
        self._spread: float | None = None
        self._open: float | None = None

    def update(
        self,
        t: float,
        frame: np.ndarray,
        box: np.ndarray,
        landmarks: np.ndarray | None,
        attributes: Mapping[str, Any],
    ) -> float:
        """Motion since the previous observation (NaN for the first one and after a long gap)."""
        close = self._t is not None and t - self._t <= self.max_step_s
        self._t = t
        if MOUTH_OPEN_KEY in attributes:
            level = float(attributes[MOUTH_OPEN_KEY])
            motion = abs(level - self._open) if close and self._open is not None else np.nan
            self._open, self._spread = level, None
            return motion
        spread = mouth_spread(face_patch(frame, box, landmarks))
        motion = spread_change(self._spread, spread) if close and self._spread is not None else np.nan
        self._spread, self._open = spread, None
        return motion
