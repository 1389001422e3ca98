"""Carry face boxes between detections (the live fast path): sparse optical flow, duplicate merging, motion.

The detector is the costly step of a live frame, so the live session runs it every few frames and moves the
boxes in between with pyramidal Lucas-Kanade flow on a few corners inside each box (forward and backward,
keeping the points that come back to where they started). A box whose points are lost reports a low
confidence, and the session detects again. ``motion_outside`` tells when something moves where no face is
tracked (a person walking in), another reason to detect. All coordinates are in the pixels of the gray
frames given.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.faces.tracker import iou_matrix

__all__ = ["BoxFlow", "FlowConfig", "duplicate_groups", "motion_outside", "to_gray"]


@dataclass(frozen=True)
class FlowConfig:
    """max_points: corners followed per box; min_points: fewer surviving points means the box is lost;
    max_fb_error: forward-backward disagreement (px) above which a point is dropped; window, levels: the
    Lucas-Kanade search window (px) and pyramid levels."""

    max_points: int = 24
    min_points: int = 5
    max_fb_error: float = 1.5
    window: int = 15
    levels: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.min_points <= self.max_points:
            raise ConfigError(f"need 1 <= min_points <= max_points, got {self.min_points}, {self.max_points}")
        if self.max_fb_error <= 0 or self.window < 3 or self.levels < 0:
            raise ConfigError("max_fb_error must be positive, window >= 3 and levels >= 0")


def to_gray(frame_rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """(gray frame shrunk so its longer side is at most ``side``, its scale against the given frame)."""
    h, w = frame_rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    small = frame_rgb
    if scale < 1.0:
        small = cv2.resize(
            frame_rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), scale


def _seed_points(gray: np.ndarray, box: np.ndarray, count: int) -> np.ndarray:
    """(P, 2) float32 corners inside the middle of ``box``, topped up with a grid where the face is flat."""
    h, w = gray.shape
    x1, y1, x2, y2 = box
    mx, my = 0.15 * (x2 - x1), 0.15 * (y2 - y1)
    l, t = int(max(0, x1 + mx)), int(max(0, y1 + my))
    r, b = int(min(w, x2 - mx)), int(min(h, y2 - my))
    if r - l < 3 or b - t < 3:
        return np.zeros((0, 2), np.float32)
    found = cv2.goodFeaturesToTrack(gray[t:b, l:r], maxCorners=count, qualityLevel=0.01, minDistance=2)
    points = np.zeros((0, 2), np.float32) if found is None else found.reshape(-1, 2) + np.float32([l, t])
    if len(points) < count // 2:
        gx, gy = np.meshgrid(np.linspace(l, r - 1, 4), np.linspace(t, b - 1, 4))
        points = np.concatenate([points, np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)])
    return points.astype(np.float32)


class BoxFlow:
    """Follows boxes (keyed by track id) from one gray frame to the next. Not thread-safe: one per session."""

    def __init__(self, config: FlowConfig = FlowConfig()) -> None:
        self.config = config
        self._prev: np.ndarray | None = None
        self._boxes: dict[int, np.ndarray] = {}
        self._points: dict[int, np.ndarray] = {}

    def reset(self) -> None:
        self._prev = None
        self._boxes.clear()
        self._points.clear()

    def seed(self, gray: np.ndarray, boxes: dict[int, np.ndarray]) -> None:
        """Follow exactly ``boxes`` from ``gray`` on (after a detection)."""
        self._prev = gray
        self._boxes = {k: np.asarray(b, np.float64).copy() for k, b in boxes.items()}
        self._points = {k: _seed_points(gray, b, self.config.max_points) for k, b in self._boxes.items()}

    def advance(self, gray: np.ndarray) -> dict[int, tuple[np.ndarray, float]]:
        """Move every box to ``gray``: {key: (box (4,), confidence in [0, 1])}. Confidence is the share of
        points followed; a box with fewer than ``min_points`` keeps its place with confidence 0."""
        prev, self._prev = self._prev, gray
        if prev is None or not self._boxes or prev.shape != gray.shape:
            return {
                k: (b.copy(), 0.0 if prev is None or prev.shape != gray.shape else 1.0)
                for k, b in self._boxes.items()
            }
        keys = [k for k in self._boxes if len(self._points[k])]
        out = {k: (self._boxes[k].copy(), 0.0) for k in self._boxes if k not in keys}
        if not keys:
            return out
        cfg = self.config
        old = np.concatenate([self._points[k] for k in keys]).reshape(-1, 1, 2)
        lk = {
            "winSize": (cfg.window, cfg.window),
            "maxLevel": cfg.levels,
            "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
        }
        new, ok_f, _ = cv2.calcOpticalFlowPyrLK(prev, gray, old, None, **lk)
        back, ok_b, _ = cv2.calcOpticalFlowPyrLK(gray, prev, new, None, **lk)
        fb = np.linalg.norm((back - old).reshape(-1, 2), axis=1)
        good = (ok_f.ravel() == 1) & (ok_b.ravel() == 1) & (fb <= cfg.max_fb_error)
        old, new = old.reshape(-1, 2), new.reshape(-1, 2)
        start = 0
        for k in keys:
            n = len(self._points[k])
            sel = slice(start, start + n)
            start += n
            keep = good[sel]
            confidence = float(keep.mean())
            if keep.sum() < cfg.min_points:
                out[k] = (self._boxes[k].copy(), 0.0)
                self._points[k] = np.zeros((0, 2), np.float32)
                continue
            a, b = old[sel][keep], new[sel][keep]
            self._boxes[k] = _moved_box(self._boxes[k], a, b)
            self._points[k] = b.astype(np.float32)
            if keep.sum() < cfg.max_points // 2:  # top up so the box survives the next frames
                self._points[k] = np.concatenate(
                    [self._points[k], _seed_points(gray, self._boxes[k], cfg.max_points)]
                )
            out[k] = (self._boxes[k].copy(), confidence)
        return out


def _moved_box(box: np.ndarray, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``box`` shifted by the median point motion and scaled by the median change of spread (median flow)."""
    shift = np.median(new - old, axis=0)
    d_old = np.linalg.norm(old - np.median(old, axis=0), axis=1)
    d_new = np.linalg.norm(new - np.median(new, axis=0), axis=1)
    usable = d_old > 1.0
    scale = float(np.median(d_new[usable] / d_old[usable])) if usable.sum() >= 3 else 1.0
    scale = float(np.clip(scale, 0.8, 1.25))  # one frame never grows or shrinks a face more than this
    cx, cy = (box[0] + box[2]) / 2 + shift[0], (box[1] + box[3]) / 2 + shift[1]
    hw, hh = (box[2] - box[0]) / 2 * scale, (box[3] - box[1]) / 2 * scale
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh], np.float64)


def duplicate_groups(boxes: np.ndarray, min_iou: float = 0.5, max_centre: float = 0.35) -> list[list[int]]:
    """Indices of ``boxes`` (N, 4) grouped by head: boxes overlapping by ``min_iou`` or whose centres lie
    within ``max_centre`` of the smaller box's width (with similar sizes) are one face. Groups keep the
    order of ``boxes`` (the first of each group is the one to keep when boxes come best first)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    if n < 2:
        return [[i] for i in range(n)]
    iou = iou_matrix(boxes, boxes)
    widths = np.clip(boxes[:, 2] - boxes[:, 0], 1.0, None)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    dist = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    small = np.minimum(widths[:, None], widths[None, :])
    similar = small / np.maximum(widths[:, None], widths[None, :]) >= 0.5
    same = (iou >= min_iou) | ((dist <= max_centre * small) & similar)
    group_of = list(range(n))  # union-find over "same head"

    def root(i: int) -> int:
        while group_of[i] != i:
            group_of[i] = group_of[group_of[i]]
            i = group_of[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if same[i, j]:
                a, b = root(i), root(j)
                group_of[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def motion_outside(
    prev: np.ndarray, gray: np.ndarray, boxes: list[np.ndarray], threshold: int = 25, share: float = 0.01
) -> bool:
    """Whether more than ``share`` of the pixels outside ``boxes`` changed by more than ``threshold`` grey
    levels between two equally sized gray frames (someone coming into view)."""
    if prev.shape != gray.shape:
        return True
    changed = cv2.absdiff(prev, gray) > threshold
    h, w = gray.shape
    for box in boxes:
        x1, y1, x2, y2 = box
        pw, ph = 0.25 * (x2 - x1), 0.25 * (y2 - y1)  # the head and shoulders move with a tracked face
        top, bottom = int(max(0, y1 - ph)), int(min(h, y2 + 2 * ph))
        changed[top:bottom, int(max(0, x1 - pw)) : int(min(w, x2 + pw))] = False
    return float(changed.mean()) > share
