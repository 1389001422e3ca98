"""Overlays on live frames: face boxes, track ids, expressions and the current labels (OpenCV drawing)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from omni_emotion.live import LiveFace
from omni_emotion.ui.colours import expression_colour, label_colour

__all__ = ["draw_overlay", "hex_to_rgb"]

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b) ints."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _text_with_background(
    img: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour: tuple[int, int, int]
) -> int:
    """Draw ``text`` on a filled box whose top-left is ``origin``; returns the box's right edge."""
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, _FONT, scale, thickness)
    x, y = origin
    cv2.rectangle(img, (x, y), (x + w + 6, y + h + base + 6), colour, thickness=-1)
    ink = (0, 0, 0) if sum(colour) > 450 else (255, 255, 255)
    cv2.putText(img, text, (x + 3, y + h + 3), _FONT, scale, ink, thickness, cv2.LINE_AA)
    return x + w + 6


def draw_overlay(
    frame: np.ndarray, faces: Sequence[LiveFace], labels: Sequence[str] = (), status: str = ""
) -> np.ndarray:
    """Return a copy of ``frame`` (H, W, 3) uint8 RGB with boxes, "#id expression p%" tags, label chips
    along the bottom edge and an optional status line at the top. The input is never modified."""
    img = np.ascontiguousarray(frame).copy()
    height, width = img.shape[:2]
    scale = max(0.4, min(1.0, width / 900))
    line = max(2, round(width / 320))
    for face in faces:
        x1, y1, x2, y2 = (round(v) for v in face.box)
        colour = hex_to_rgb(expression_colour(face.expression))
        cv2.rectangle(img, (x1, y1), (x2, y2), colour, line)
        tag = f"#{face.track_id}"
        if face.expression:
            tag += f" {face.expression} {max(face.probabilities):.0%}"
        (_, th), base = cv2.getTextSize(tag, _FONT, scale, max(1, round(scale * 2)))
        top = y1 - th - base - 6 if y1 - th - base - 6 >= 0 else min(y2 + 2, height - th - base - 6)
        _text_with_background(img, tag, (max(0, x1 - line // 2), max(0, top)), scale, colour)
    if status:
        _text_with_background(img, status, (4, 4), scale * 0.8, (40, 40, 40))
    x = 4
    (_, th), base = cv2.getTextSize("Ag", _FONT, scale, max(1, round(scale * 2)))
    y = height - th - base - 10
    for label in labels:
        (tw, _), _ = cv2.getTextSize(label, _FONT, scale, max(1, round(scale * 2)))
        if x + tw + 6 > width:
            break
        x = _text_with_background(img, label, (x, y), scale, hex_to_rgb(label_colour(label))) + 4
    return img
