"""FaceAnalyzer: detect faces in a frame (live fast path) or track them through a clip into FaceTracks.

``track`` streams: frames are consumed one at a time and each track keeps at most ``max_crops_per_track``
aligned 224x224 crops, evenly spread over its life, so a 10-minute clip at 10 fps stays within a few MB per
person (plus ~100 bytes per detection for boxes, scores and landmarks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.faces.align import CROP_SIZE, align_face, crop_box
from omni_emotion.faces.detectors import Detection, FaceDetector
from omni_emotion.faces.mouth import MouthMeter
from omni_emotion.faces.registry import load_detector
from omni_emotion.faces.selection import SelectionConfig, select_main
from omni_emotion.faces.tracker import FaceTracker, TrackerConfig
from omni_emotion.media import shrink_frame
from omni_emotion.types import FaceTrack

__all__ = ["FaceAnalyzer", "FaceConfig", "appearance_descriptor", "as_rgb", "load_face_analyzer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceConfig:
    """max_side: frames are shrunk so their longer side is at most this before detection (px);
    crop_size: side of the aligned crops (px); min_face_px: detections narrower than this are dropped."""

    max_side: int = 640
    crop_size: int = CROP_SIZE
    min_face_px: float = 12.0
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)

    def __post_init__(self) -> None:
        if self.max_side < 32:
            raise ConfigError(f"max_side must be at least 32 px, got {self.max_side}")
        if self.crop_size < 16:
            raise ConfigError(f"crop_size must be at least 16 px, got {self.crop_size}")
        if self.min_face_px < 0:
            raise ConfigError(f"min_face_px must be >= 0, got {self.min_face_px}")


def as_rgb(frame: np.ndarray) -> np.ndarray:
    """Any image array as (H, W, 3) uint8 C-contiguous RGB: gray (H, W) or (H, W, 1) is repeated, RGBA
    loses alpha, floats in [0, 1] are scaled to 0..255. Raises ValueError for other shapes."""
    a = np.asarray(frame)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"a frame must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        if a.size and np.nanmax(a) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:
        a = a[..., :3]
    return np.ascontiguousarray(a)


def appearance_descriptor(frame_rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """(64,) float32 L2-normalised hue x saturation histogram (16 x 4 bins) of the face box's central part,
    where skin, hair line and eyes are; None when the box lies outside the frame."""
    h, w = frame_rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = 0.2 * (x2 - x1), 0.1 * (y2 - y1)
    l, t = int(max(0, x1 + mx)), int(max(0, y1 + my))
    r, b = int(min(w, x2 - mx)), int(min(h, y2 - my))
    if r - l < 2 or b - t < 2:
        return None
    patch = cv2.resize(frame_rgb[t:b, l:r], (24, 24), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 4], [0, 180, 0, 256]).ravel().astype(np.float32)
    hist = np.sqrt(hist)  # Hellinger-style: dominant bins do not swamp the rest
    norm = float(np.linalg.norm(hist))
    return hist / norm if norm > 0 else None


class _CropSampler:
    """Keeps at most ``limit`` crops evenly spread over an unknown number of observations.

    Observation k is kept when k is a multiple of the stride; when the store overflows, every other kept
    crop is dropped and the stride doubles.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stride = 1
        self.count = 0
        self.items: list[tuple[float, np.ndarray]] = []

    def wants(self) -> bool:
        return self.limit > 0 and self.count % self.stride == 0

    def add(self, t: float, crop: np.ndarray | None) -> None:
        if crop is not None:
            self.items.append((t, crop))
            if len(self.items) > self.limit:
                self.items = self.items[::2]
                self.stride *= 2
        self.count += 1


class _TrackBuilder:
    def __init__(self, track_id: int, crop_limit: int, max_step_s: float = 0.5) -> None:
        self.track_id = track_id
        self.times: list[float] = []
        self.mouth: list[float] = []
        self.mouth_meter = MouthMeter(max_step_s)
        self.boxes: list[np.ndarray] = []
        self.scores: list[float] = []
        self.landmarks: list[np.ndarray] = []
        self.has_landmarks = False
        self.embeddings: list[np.ndarray] = []
        self.ages: list[int] = []
        self.genders: list[str] = []
        self.crops = _CropSampler(crop_limit)

    def add(self, t: float, det: Detection, frame: np.ndarray, crop_size: int) -> None:
        self.times.append(t)
        self.boxes.append(np.asarray(det.box, dtype=np.float32))
        self.scores.append(float(det.score))
        lm = det.landmarks
        self.has_landmarks |= lm is not None
        self.landmarks.append(
            np.full((5, 2), np.nan, np.float32) if lm is None else np.asarray(lm, np.float32)
        )
        self.mouth.append(self.mouth_meter.update(t, frame, det.box, lm, det.attributes))
        if det.embedding is not None:
            self.embeddings.append(np.asarray(det.embedding, dtype=np.float32))
        if "age" in det.attributes:
            self.ages.append(int(det.attributes["age"]))
        if "gender" in det.attributes:
            self.genders.append(str(det.attributes["gender"]))
        crop = None
        if self.crops.wants():
            crop = crop_box(frame, det.box, crop_size) if lm is None else align_face(frame, lm, crop_size)
        self.crops.add(t, crop)

    def build(self) -> FaceTrack:
        attrs: dict[str, Any] = {}
        if self.embeddings:
            mean = np.mean(self.embeddings, axis=0)
            attrs["embedding"] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        if self.ages:
            attrs["age"] = int(np.median(self.ages))
        if self.genders:
            attrs["gender"] = max(set(self.genders), key=self.genders.count)
        items = self.crops.items
        return FaceTrack(
            track_id=self.track_id,
            timestamps=np.asarray(self.times, dtype=np.float64),
            boxes=np.stack(self.boxes).astype(np.float32),
            scores=np.asarray(self.scores, dtype=np.float32),
            landmarks=np.stack(self.landmarks) if self.has_landmarks else None,
            mouth=np.asarray(self.mouth, dtype=np.float32),
            crops=np.stack([c for _, c in items]) if items else None,
            crop_times=np.asarray([t for t, _ in items], dtype=np.float64) if items else None,
            attributes=attrs,
        )


def _release_ended(
    builders: dict[int, _TrackBuilder], live: set[int], min_hits: int, max_total_crops: int
) -> None:
    """Drop ended tracks too short to count, then thin ended tracks' crops until the total fits the budget."""
    for track_id in [k for k, b in builders.items() if k not in live and len(b.times) < min_hits]:
        del builders[track_id]
    total = sum(len(b.crops.items) for b in builders.values())
    ended = sorted((b for k, b in builders.items() if k not in live), key=lambda b: len(b.times))
    for builder in ended:
        while total > max_total_crops and builder.crops.items:
            kept = builder.crops.items[::2] if len(builder.crops.items) > 1 else []
            total -= len(builder.crops.items) - len(kept)
            builder.crops.items = kept
        if total <= max_total_crops:
            return


class FaceAnalyzer:
    """Owns one detector backend. ``detect`` per frame; ``track`` over a clip's dense frames."""

    def __init__(self, detector: FaceDetector, config: FaceConfig = FaceConfig()) -> None:
        self.detector = detector
        self.config = config

    @property
    def backend(self) -> str:
        return self.detector.name

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]:
        """Faces in one frame, coordinates in that frame's pixels. Any frame shape or size is accepted
        (gray, RGBA, tiny, extreme aspect ratios); an empty frame has no faces."""
        frame = as_rgb(frame_rgb)
        h, w = frame.shape[:2]
        if h == 0 or w == 0:
            return []
        small = shrink_frame(frame, self.config.max_side)
        scale = small.shape[1] / w
        out = []
        for det in self.detector.detect(small):
            box = np.asarray(det.box, dtype=np.float32) / scale
            if box[2] - box[0] < self.config.min_face_px:
                continue
            lm = None if det.landmarks is None else np.asarray(det.landmarks, dtype=np.float32) / scale
            appearance = appearance_descriptor(frame, box) if det.embedding is None else None
            out.append(Detection(box, det.score, lm, det.embedding, appearance, det.attributes))
        return out

    def new_tracker(self) -> FaceTracker:
        return FaceTracker(self.config.tracker)

    def track(
        self,
        frames: Iterable[tuple[float, np.ndarray]],
        speech_regions: Sequence[tuple[float, float]] | None = None,
        max_crops_per_track: int = 32,
        max_total_crops: int = 512,
    ) -> list[FaceTrack]:
        """Tracks over (time s, frame (H, W, 3) uint8 RGB) pairs in time order, e.g. media.iter_frames(...).

        Returns the tracks with at least ``min_hits`` detections (or every track when fewer frames were
        seen), ordered by start time, exactly one flagged ``main`` when any. speech_regions: VAD (start, end)
        seconds, used to prefer the person whose mouth moves with the speech.

        Memory stays bounded however many people come and go: a track that ended with fewer than ``min_hits``
        detections is dropped at once, and ended tracks give up crops (fewest detections first) so that all
        tracks together hold at most ``max_total_crops`` (512 aligned 224x224 crops = 77 MB).
        """
        if max_crops_per_track < 0:
            raise ConfigError(f"max_crops_per_track must be >= 0, got {max_crops_per_track}")
        if max_total_crops < max_crops_per_track:
            raise ConfigError(
                f"max_total_crops ({max_total_crops}) must be >= max_crops_per_track ({max_crops_per_track})"
            )
        tracker = self.new_tracker()
        builders: dict[int, _TrackBuilder] = {}
        frames_seen = 0
        ended_seen = 0
        for t, frame in frames:
            frame = as_rgb(frame)
            frames_seen += 1
            for track_id, det in tracker.update(t, self.detect(frame)):
                if track_id not in builders:
                    builders[track_id] = _TrackBuilder(
                        track_id, max_crops_per_track, self.config.selection.max_step_s
                    )
                builder = builders[track_id]
                builder.add(float(t), det, frame, self.config.crop_size)
            live = set(tracker.live_ids)
            ended = sum(1 for k in builders if k not in live)
            if ended > ended_seen:  # only when a track has just ended: nothing else changes the budget
                _release_ended(builders, live, self.config.tracker.min_hits, max_total_crops)
                ended_seen = sum(1 for k in builders if k not in live)
        min_hits = min(self.config.tracker.min_hits, frames_seen)
        tracks = [b.build() for b in builders.values() if len(b.times) >= min_hits]
        tracks.sort(key=lambda tr: (tr.start, tr.track_id))
        log.debug("%d frames, %d tracks kept of %d", frames_seen, len(tracks), len(builders))
        return select_main(tracks, frames_seen, speech_regions, self.config.selection)


def load_face_analyzer(
    backend: str = "auto", device: str = "cpu", config: FaceConfig = FaceConfig()
) -> FaceAnalyzer:
    """The face analyzer for ``backend`` (a name in ``faces.registry.DETECTORS`` or auto) on ``device``
    (cpu | cuda[:N]). auto: insightface's buffalo_l pack when it is on disk, else the offline BlazeFace
    detector (yuface where BlazeFace's packages are absent).
    Raises ModelNotFoundError naming what to install."""
    return FaceAnalyzer(load_detector(backend, device), config)
