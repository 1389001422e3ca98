"""Associate per-frame face detections into tracks with stable ids, frame by frame (live) or over a clip.

Each frame, every live track is matched to at most one detection by the Hungarian algorithm on an
affinity that mixes box overlap, centre distance (in face widths, so faces moving fast at 5 fps still match)
and appearance: the identity embedding when the detector gives one (ArcFace; a hard gate as well), else a
colour descriptor (a soft term that separates two people crossing). A track not seen for up to
``max_gap_s`` is kept and can be found again (short occlusions, a hand over the face); later it ends. A
track counts once it has ``min_hits`` detections; single false detections never become tracks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.faces.detectors import Detection

__all__ = ["FaceTracker", "TrackerConfig", "cosine_matrix", "iou_matrix", "matched_pairs"]


@dataclass(frozen=True)
class TrackerConfig:
    """max_gap_s: seconds a lost track waits to be found again; min_iou: overlap that alone suffices to match;
    max_distance: centre distance in face widths beyond which no match is made; min_size_ratio: smaller over
    larger face width allowed for a match; embedding_gate: lowest identity-embedding cosine for a match;
    appearance_weight: share of appearance in the affinity; colour_floor: colour-descriptor cosine that counts
    as no resemblance (measured with the offline detector: one face over 20 s 0.96-0.99, five different
    people in one photo 0.76-0.97, so colour is a weak cue); min_hits: detections before a track counts;
    max_prediction_s: how far ahead the constant-velocity prediction extrapolates."""

    max_gap_s: float = 1.5
    min_iou: float = 0.3
    max_distance: float = 1.5
    min_size_ratio: float = 0.5
    embedding_gate: float = 0.2
    appearance_weight: float = 0.35
    colour_floor: float = 0.8
    min_hits: int = 2
    max_prediction_s: float = 0.5
    appearance_momentum: float = 0.8

    def __post_init__(self) -> None:
        checks = {
            "max_gap_s": self.max_gap_s >= 0,
            "min_iou": 0 < self.min_iou <= 1,
            "max_distance": self.max_distance > 0,
            "min_size_ratio": 0 <= self.min_size_ratio <= 1,
            "embedding_gate": -1 <= self.embedding_gate < 1,
            "appearance_weight": 0 <= self.appearance_weight < 1,
            "colour_floor": -1 <= self.colour_floor < 1,
            "min_hits": self.min_hits >= 1,
            "max_prediction_s": self.max_prediction_s >= 0,
            "appearance_momentum": 0 <= self.appearance_momentum < 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"invalid tracker settings: {', '.join(f'{k}={getattr(self, k)}' for k in bad)}"
            )


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in a (N, 4) with every box in b (M, 4), x1 y1 x2 y2 -> (N, M)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of rows of a (N, D) and b (M, D) -> (N, M); zero rows give 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    return (a / np.where(na > 0, na, 1.0)) @ (b / np.where(nb > 0, nb, 1.0)).T


@dataclass
class _Track:
    track_id: int
    box: np.ndarray  # last observed (4,)
    t: float  # time of the last observation
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # box change in px/s
    embedding: np.ndarray | None = None
    appearance: np.ndarray | None = None
    hits: int = 1

    def predict(self, t: float, horizon: float) -> np.ndarray:
        return self.box + self.velocity * min(t - self.t, horizon)


def _centres(boxes: np.ndarray) -> np.ndarray:
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)


def _blend(old: np.ndarray | None, new: np.ndarray | None, momentum: float) -> np.ndarray | None:
    if new is None:
        return old
    if old is None:
        return new.astype(np.float64)
    mixed = momentum * old + (1.0 - momentum) * new
    norm = np.linalg.norm(mixed)
    return mixed / norm if norm > 0 else mixed


class FaceTracker:
    """Stateful tracker. ``update(t, detections)`` per frame, times in seconds, non-decreasing.

    Memory holds only the live tracks (those seen in the last ``max_gap_s``), so an endless stream is fine.
    """

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._last_t: float | None = None

    @property
    def live_ids(self) -> list[int]:
        """Ids of tracks that can still be matched (confirmed or not)."""
        return [tr.track_id for tr in self._tracks]

    def reset(self) -> None:
        self._tracks.clear()
        self._last_t = None

    def update(self, t: float, detections: Sequence[Detection]) -> list[tuple[int, Detection]]:
        """Match this frame's detections to tracks; returns (track_id, detection) for every detection.

        Detections that match no track start a new one (with a new id).
        """
        t = float(t)
        if self._last_t is not None and t < self._last_t:
            raise ValueError(
                f"frame time went backwards ({t:.3f} s after {self._last_t:.3f} s); reset() first"
            )
        self._last_t = t
        cfg = self.config
        self._tracks = [tr for tr in self._tracks if t - tr.t <= cfg.max_gap_s]
        pairs = self._associate(t, list(detections))
        out: list[tuple[int, Detection]] = []
        matched_dets = set()
        for ti, di in pairs:
            tr, det = self._tracks[ti], detections[di]
            box = np.asarray(det.box, dtype=np.float64)
            dt = t - tr.t
            if dt > 0:
                step = (box - tr.box) / dt
                # Smoothed velocity; reset after a gap because the face may have stopped while hidden.
                tr.velocity = 0.5 * tr.velocity + 0.5 * step if dt <= cfg.max_prediction_s else np.zeros(4)
            tr.box, tr.t, tr.hits = box, t, tr.hits + 1
            tr.embedding = _blend(tr.embedding, det.embedding, cfg.appearance_momentum)
            tr.appearance = _blend(tr.appearance, det.appearance, cfg.appearance_momentum)
            matched_dets.add(di)
            out.append((tr.track_id, det))
        for di, det in enumerate(detections):
            if di in matched_dets:
                continue
            tr = _Track(
                self._next_id,
                np.asarray(det.box, dtype=np.float64),
                t,
                embedding=None if det.embedding is None else np.asarray(det.embedding, np.float64),
                appearance=None if det.appearance is None else np.asarray(det.appearance, np.float64),
            )
            self._next_id += 1
            self._tracks.append(tr)
            out.append((tr.track_id, det))
        return out

    def _associate(self, t: float, detections: list[Detection]) -> list[tuple[int, int]]:
        if not self._tracks or not detections:
            return []
        return matched_pairs(self._affinity(t, detections))

    def _affinity(self, t: float, detections: list[Detection]) -> np.ndarray:
        """(tracks, detections) affinity in [0, 1]; 0 means the pair may not match."""
        cfg = self.config
        pred = np.stack([tr.predict(t, cfg.max_prediction_s) for tr in self._tracks])
        boxes = np.stack([np.asarray(d.box, dtype=np.float64) for d in detections])
        iou = iou_matrix(pred, boxes)
        pw = np.clip(pred[:, 2] - pred[:, 0], 1.0, None)
        dw = np.clip(boxes[:, 2] - boxes[:, 0], 1.0, None)
        scale = np.maximum(pw[:, None], dw[None, :])
        dist = np.linalg.norm(_centres(pred)[:, None] - _centres(boxes)[None], axis=2) / scale
        ratio = np.minimum(pw[:, None], dw[None, :]) / scale
        geo = 0.5 * np.clip(iou / cfg.min_iou, 0, 1) + 0.5 * np.clip(1 - dist / cfg.max_distance, 0, 1)
        ok = ((iou >= cfg.min_iou) | (dist < cfg.max_distance)) & (ratio >= cfg.min_size_ratio)
        sim, gate = self._similarity(detections)
        if sim is not None:
            geo = (1 - cfg.appearance_weight) * geo + cfg.appearance_weight * sim
        if gate is not None:
            ok &= gate
        return np.where(ok, np.clip(geo, 1e-6, None), 0.0)

    def _similarity(self, detections: list[Detection]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Appearance resemblance (tracks, detections) in [0, 1] (0 at the kind's floor cosine, 1 for equal
        vectors) and the identity gate (or None)."""
        for attr, is_identity in (("embedding", True), ("appearance", False)):
            have_t = [getattr(tr, attr) is not None for tr in self._tracks]
            have_d = [getattr(d, attr) is not None for d in detections]
            if not any(have_t) or not any(have_d):
                continue
            dims = {len(getattr(x, attr)) for x, h in zip([*self._tracks, *detections], have_t + have_d) if h}
            if len(dims) != 1:
                continue
            d = dims.pop()
            a = np.stack([getattr(tr, attr) if h else np.zeros(d) for tr, h in zip(self._tracks, have_t)])
            b = np.stack(
                [np.asarray(getattr(x, attr)) if h else np.zeros(d) for x, h in zip(detections, have_d)]
            )
            sim = cosine_matrix(a, b)
            known = np.outer(have_t, have_d)
            # Unknown pairs get a neutral similarity so they neither win nor lose on appearance.
            floor = self.config.embedding_gate if is_identity else self.config.colour_floor
            resemblance = np.where(known, np.clip((sim - floor) / (1.0 - floor), 0, 1), 0.5)
            gate = (sim >= floor) | ~known if is_identity else None
            return resemblance, gate
        return None, None


def matched_pairs(affinity: np.ndarray) -> list[tuple[int, int]]:
    """The (row, column) pairs with positive ``affinity`` (R, C) in the assignment that maximises its total:
    ``scipy.optimize.linear_sum_assignment(-affinity)``'s pairs, those above 0. With one track or one face and
    a single best partner (or none above 0) that partner is found without the solver: importing
    scipy.optimize took 0.6 s of a cold start on 2 CPU cores, and one face is the common case."""
    if min(affinity.shape) == 1:
        flat = affinity.reshape(-1)
        best = int(np.argmax(flat))
        if flat[best] <= 0:
            return []
        if np.count_nonzero(flat == flat[best]) == 1:  # a tie goes to the solver, whose pick is its own
            return [(0, best)] if affinity.shape[0] == 1 else [(best, 0)]
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-affinity)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if affinity[r, c] > 0]
