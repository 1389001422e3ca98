"""A live session: webcam frames and microphone audio in, annotated frames and refreshed labels out.

Two paths share one session:

- the **fast path** (``process_frame``) runs on the caller's thread for every frame and never waits for the
  slow path. It detects less and tracks more: the face detector runs on a small copy of the frame
  (``detect_side``, the 320 px YuNet was trained at) every ``detect_every`` frames, or sooner when a box's
  optical flow loses its points or something moves where no face is tracked; in between, the boxes move by
  optical flow (faces/flow.py). Track ids come from the face tracker; a face the detector misses keeps its
  box and id for ``hold_s`` while the flow still follows it, and boxes that land on one head are merged
  (the older id stays). The 7-class expression of each face is refreshed ``expression_hz`` times a second
  and smoothed per track.
- the **slow path** is one worker thread per session that, about once every ``refresh_s``, copies the
  last ``window_s`` seconds of buffered frames and audio into a Clip and runs the full analysis (labels,
  explanation, transcript). Its result is published as a ``LiveUpdate`` that readers poll.

Buffers are bounded ring buffers (frames are kept at ``buffer_fps``, audio for ``window_s`` seconds). When
no input arrives for ``idle_stop_s`` (the stream stopped) the worker frees the buffers and exits; the next
frame starts it again. ``close()`` does the same at once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from omni_emotion.errors import ConfigError, OmniEmotionError, check_pixels
from omni_emotion.expression_io import FER_LABELS, crop_face
from omni_emotion.heap import trim_heap
from omni_emotion.media import MediaConfig, clip_from_arrays, pcm_to_float, shrink_frame
from omni_emotion.priority import lower_thread_priority
from omni_emotion.speech.voice import SpeakerVoice
from omni_emotion.types import Analysis, Clip

if TYPE_CHECKING:
    from omni_emotion.expressions import ExpressionModel
    from omni_emotion.faces import FaceAnalyzer, FaceTracker
    from omni_emotion.pipeline import EmotionPipeline

__all__ = [
    "EXPRESSIONS",
    "LiveConfig",
    "LiveFace",
    "LiveFrame",
    "LiveModels",
    "LiveSession",
    "LiveUpdate",
    "load_live_models",
]

logger = logging.getLogger(__name__)

# FER2013 class order (angry, disgust, fear, happy, sad, surprise, neutral): ExpressionModel.predict's columns.
EXPRESSIONS = tuple(FER_LABELS)


@dataclass(frozen=True)
class LiveConfig:
    """Live-session settings. Seconds unless named otherwise.

    window_s:        how much recent input each background analysis looks at.
    refresh_s:       the background analysis starts at most this often (it runs back to back when slower).
    buffer_fps:      frames kept per second for the background analysis (the fast path sees every frame).
    max_side:        frames are downscaled so the longer side is at most this many pixels before buffering.
    max_pixels:      larger frames are refused (FrameTooLargeError), the same limit as files (MediaConfig).
    idle_stop_s:     no frame or audio for this long means the stream stopped: buffers are freed.
    min_audio_s:     an audio-only window shorter than this is not analysed.
    smoothing:       weight of the previous expression probabilities per track (0 = no smoothing).
    detect_side:     the face detector (and the optical flow) sees frames shrunk to this longer side (px).
    detect_every:    frames between two detections while every box is followed well.
    expression_hz:   expression refreshes per second and face.
    hold_s:          a face the detector misses keeps its box and id this long while the flow follows it.
    min_flow:        share of a box's flow points that must survive; below it the detector runs at once.
    small_face_px:   while no face is shown, or one is narrower than this at ``detect_side``, the detector
                     gets the whole frame (small faces that the 320 px copy loses stay found).
    background_nice: the analysis worker (and every thread it starts) runs this much nicer than the frames,
                     so on a busy CPU the frames keep their rate and the labels wait (0 = same priority).
    """

    window_s: float = 4.0
    refresh_s: float = 1.0
    buffer_fps: float = 4.0
    max_side: int = 640
    max_pixels: int = MediaConfig.max_pixels
    idle_stop_s: float = 3.0
    min_audio_s: float = 0.5
    smoothing: float = 0.5
    detect_side: int = 320
    detect_every: int = 5
    expression_hz: float = 5.0
    hold_s: float = 0.5
    min_flow: float = 0.3
    small_face_px: float = 32.0
    # +5, not +10: with one CPU-bound process beside it (bench/live.py --busy 1, load 7) +5 refreshed labels every
    # 2.5-2.8 s (2.2-2.4 s behind) against 4.3-4.4 s (3.3-3.6 s) at +10, with the frames still at 41-47 frames/s
    background_nice: int = 5

    def __post_init__(self) -> None:
        for name in ("window_s", "refresh_s", "buffer_fps", "idle_stop_s", "expression_hz"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"LiveConfig.{name} must be positive, got {getattr(self, name)}")
        if self.max_pixels <= 0:
            raise ConfigError(f"LiveConfig.max_pixels must be positive, got {self.max_pixels}")
        if self.max_side < 32:
            raise ConfigError(f"LiveConfig.max_side must be >= 32, got {self.max_side}")
        if not 0.0 <= self.smoothing < 1.0:
            raise ConfigError(f"LiveConfig.smoothing must be in [0, 1), got {self.smoothing}")
        if self.min_audio_s < 0:
            raise ConfigError(f"LiveConfig.min_audio_s must be >= 0, got {self.min_audio_s}")
        if self.detect_side < 32:
            raise ConfigError(f"LiveConfig.detect_side must be >= 32, got {self.detect_side}")
        if self.detect_every < 1:
            raise ConfigError(f"LiveConfig.detect_every must be >= 1, got {self.detect_every}")
        if not 0 <= self.background_nice <= 19:
            raise ConfigError(f"LiveConfig.background_nice must be in 0..19, got {self.background_nice}")
        if self.small_face_px < 0:
            raise ConfigError(f"LiveConfig.small_face_px must be >= 0, got {self.small_face_px}")
        if self.hold_s < 0 or not 0.0 <= self.min_flow <= 1.0:
            raise ConfigError(
                f"LiveConfig.hold_s must be >= 0 and min_flow in [0, 1], got {self.hold_s}, {self.min_flow}"
            )

    @property
    def max_buffered_frames(self) -> int:
        return math.ceil(self.window_s * self.buffer_fps) + 1


@dataclass
class LiveModels:
    """What every live session shares (loaded once per process).

    detector:        ``.detect(frame_rgb (H,W,3) uint8) -> list[Detection]`` (``.box`` x1,y1,x2,y2 px, ``.score``).
    new_tracker:     makes a fresh stateful tracker per session (``.update(t, detections)``).
    expressions:     ``.predict(list of (S,S,3) uint8 crops) -> (K,7)`` probabilities in ``EXPRESSIONS`` order,
                     or None to skip expressions.
    analyze_clip:    the slow path: (Clip, speaker=SpeakerVoice, fresh_seconds=float) -> Analysis (the
                     pipeline's ``analyze_clip``, which holds the pipeline's model lock: the window is read
                     against the session's memory of the speaker's voice, which its new speech then joins).
    """

    detector: FaceAnalyzer
    new_tracker: Callable[[], FaceTracker]
    expressions: ExpressionModel | None
    analyze_clip: Callable[..., Analysis]


@dataclass(frozen=True)
class LiveFace:
    track_id: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the frame given
    score: float
    expression: str  # top class of the smoothed probabilities, "" when no expression model
    probabilities: tuple[float, ...]  # (7,) in EXPRESSIONS order, empty when no expression model


@dataclass(frozen=True)
class LiveFrame:
    """The fast path's answer for one frame."""

    t: float  # session clock, seconds
    faces: tuple[LiveFace, ...]
    elapsed_ms: float


@dataclass(frozen=True)
class LiveUpdate:
    """One finished background analysis.

    window_start / window_end: the analysed span on the session clock; ready_at: when its labels existed.
    lag_s = ready_at - window_end: how old the newest analysed input was when its labels appeared.
    """

    seq: int
    analysis: Analysis | None
    error: str
    window_start: float
    window_end: float
    ready_at: float

    @property
    def lag_s(self) -> float:
        return self.ready_at - self.window_end


class _AudioRing:
    """The last ``seconds`` of mono float32 audio at one sample rate, with the session time of its end."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.rate = 0
        self.chunks: deque[np.ndarray] = deque()
        self.size = 0
        self.end_t = 0.0

    def add(self, samples: np.ndarray, rate: int, t: float) -> None:
        if rate != self.rate:  # a new device or format: old audio cannot be joined to new audio
            self.clear()
            self.rate = rate
        self.chunks.append(samples)
        self.size += samples.size
        self.end_t = t
        limit = int(self.seconds * rate)
        while self.chunks and self.size - self.chunks[0].size >= limit:
            self.size -= self.chunks.popleft().size

    def since(self, t0: float) -> np.ndarray:
        """Samples from session time ``t0`` (or the oldest kept) up to the newest."""
        if not self.size:
            return np.zeros(0, np.float32)
        audio = np.concatenate(list(self.chunks))
        start_t = self.end_t - audio.size / self.rate
        skip = int(max(0.0, t0 - start_t) * self.rate)
        return audio[skip:]

    def clear(self) -> None:
        self.chunks.clear()
        self.size = 0


@dataclass
class _Shown:
    """A face the fast path shows: its box in frame pixels and its expression so far."""

    box: np.ndarray
    score: float
    detected_t: float  # when the detector last found it
    flow: float = 1.0  # share of its flow points that survived the last frame
    probs: np.ndarray | None = None
    expression_t: float = -math.inf


def _rescaled(det: Any, factor: float) -> Any:
    """A detection in a frame ``factor`` times larger (box and landmarks), other fields unchanged."""
    if abs(factor - 1.0) < 1e-9:
        return det
    changes = {"box": np.asarray(det.box, np.float32)[:4] * np.float32(factor)}
    if getattr(det, "landmarks", None) is not None:
        changes["landmarks"] = np.asarray(det.landmarks, np.float32) * np.float32(factor)
    return replace(det, **changes)


class _FastPath:
    """One session's per-frame state: tracker, optical flow and the faces shown. One thread at a time."""

    def __init__(self, models: LiveModels, config: LiveConfig) -> None:
        from omni_emotion.faces.flow import BoxFlow  # OpenCV: loaded with the first session, not at import

        self.models, self.config = models, config
        self.tracker = models.new_tracker()
        self.flow = BoxFlow()
        self.shown: dict[int, _Shown] = {}
        self.alias: dict[int, int] = {}  # tracker id -> the id shown, for tracks merged into an older one
        self.since_detect = math.inf  # frames since the last detection
        self.prev_gray: np.ndarray | None = None
        self.detections = 0  # detector runs, for benches and tests

    def step(self, t: float, frame: np.ndarray) -> tuple[LiveFace, ...]:
        from omni_emotion.faces.flow import motion_outside, to_gray

        cfg = self.config
        gray, scale = to_gray(frame, cfg.detect_side)
        for key, (box, confidence) in self.flow.advance(gray).items():
            if key in self.shown:
                self.shown[key].box, self.shown[key].flow = box / scale, confidence
        self.since_detect += 1
        due = self.since_detect >= cfg.detect_every or any(f.flow < cfg.min_flow for f in self.shown.values())
        if not due and self.prev_gray is not None and self.since_detect >= 2:
            due = motion_outside(self.prev_gray, gray, [f.box * scale for f in self.shown.values()])
        self.prev_gray = gray
        if due:
            self._detect(t, frame, gray, scale)
        self._expressions(t, frame)
        return tuple(
            LiveFace(
                key,
                tuple(float(v) for v in f.box),
                f.score,
                "" if f.probs is None else EXPRESSIONS[int(np.argmax(f.probs))],
                () if f.probs is None else tuple(float(v) for v in f.probs),
            )
            for key, f in sorted(self.shown.items())
        )

    def _detect(self, t: float, frame: np.ndarray, gray: np.ndarray, scale: float) -> None:
        import cv2

        from omni_emotion.faces.flow import duplicate_groups

        self.since_detect = 0
        self.detections += 1
        widths = [(f.box[2] - f.box[0]) * scale for f in self.shown.values()]
        whole = not widths or min(widths) < self.config.small_face_px
        small = frame
        if scale < 1.0 and not whole:
            small = cv2.resize(frame, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_AREA)
        found = sorted(self.models.detector.detect(small), key=lambda d: -float(getattr(d, "score", 1.0)))
        found = [_rescaled(d, frame.shape[1] / small.shape[1]) for d in found]
        if len(found) > 1:  # two boxes on one head (the detector's near-duplicates) count once
            found = [found[g[0]] for g in duplicate_groups(np.stack([np.asarray(d.box)[:4] for d in found]))]
        seen = set()
        for track_id, det in self.tracker.update(t, found):
            key = self.alias.get(track_id, track_id)
            seen.add(key)
            old = self.shown.get(key)
            face = _Shown(np.asarray(det.box, np.float64)[:4].copy(), float(getattr(det, "score", 1.0)), t)
            if old is not None:
                face.probs, face.expression_t = old.probs, old.expression_t
            self.shown[key] = face
        for key in [k for k, f in self.shown.items() if k not in seen]:
            f = self.shown[key]
            if t - f.detected_t > self.config.hold_s or f.flow < self.config.min_flow:
                del self.shown[key]
        self._merge()
        live = getattr(self.tracker, "live_ids", None)
        if live is not None:
            self.alias = {k: v for k, v in self.alias.items() if k in set(live) and v in self.shown}
        self.flow.seed(gray, {k: f.box * scale for k, f in self.shown.items()})

    def _merge(self) -> None:
        """Faces on one head become one: the oldest id stays, with the most recently detected box."""
        from omni_emotion.faces.flow import duplicate_groups

        if len(self.shown) < 2:
            return
        keys = sorted(self.shown)
        for group in duplicate_groups(np.stack([self.shown[k].box for k in keys])):
            if len(group) < 2:
                continue
            members = [keys[i] for i in group]
            keep = members[0]
            newest = max(members, key=lambda k: self.shown[k].detected_t)
            if newest != keep:
                self.shown[keep].box = self.shown[newest].box
                self.shown[keep].score = self.shown[newest].score
                self.shown[keep].detected_t = self.shown[newest].detected_t
            for other in members[1:]:
                del self.shown[other]
                self.alias[other] = keep
                for k, v in self.alias.items():
                    if v == other:
                        self.alias[k] = keep

    def _expressions(self, t: float, frame: np.ndarray) -> None:
        model = self.models.expressions
        period = 1.0 / self.config.expression_hz
        due = [k for k, f in self.shown.items() if t - f.expression_t >= period]
        if model is None or not due:
            return
        probs = np.asarray(model.predict([crop_face(frame, self.shown[k].box) for k in due]), np.float64)
        for key, cur in zip(due, probs):
            face = self.shown[key]
            if face.probs is not None:
                cur = self.config.smoothing * face.probs + (1 - self.config.smoothing) * cur
            face.probs, face.expression_t = cur, t


class LiveSession:
    """One viewer's live stream. Thread-safe: frames, audio and reads may come from different threads.

    ``background=False`` starts no worker: the caller runs the slow path with ``analyze_now()`` (scripts,
    tests, the non-streaming API). ``clock`` returns seconds (monotonic)."""

    def __init__(
        self,
        models: LiveModels,
        config: LiveConfig = LiveConfig(),
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.models = models
        self.config = config
        self._clock = clock
        self._t0 = clock()
        self._lock = threading.Lock()
        self._frames: deque[tuple[float, np.ndarray]] = deque(maxlen=config.max_buffered_frames)
        self._frame_shape: tuple[int, ...] | None = None  # of the frames buffered and tracked now
        self._audio = _AudioRing(config.window_s)
        self._fast_lock = threading.Lock()
        self._fast = _FastPath(models, config)  # touched only under _fast_lock
        self._fresh_tracks = False  # set (under _lock) when the fast path must forget its faces
        self._last_input = -math.inf
        self._latest: LiveUpdate | None = None
        self._seq = 0
        self._speaker = SpeakerVoice()  # this person's voice so far: the speaker-relative view of the voice
        self._analysed_until = -math.inf  # end of the last analysed window: overlapping windows add only news
        self._worker: threading.Thread | None = None
        self._closed = threading.Event()
        self._background = background
        self.frames_seen = 0
        self.detections = 0  # frames the face detector ran on (the rest were followed by optical flow)

    # ---- input -------------------------------------------------------------------------------------------
    def now(self) -> float:
        """Seconds since the session started."""
        return self._clock() - self._t0

    def process_frame(self, frame_rgb: np.ndarray) -> LiveFrame:
        """Fast path for one (H, W, 3) uint8 RGB frame: faces, track ids and expressions. Buffers the frame."""
        started = self._clock()
        frame = np.ascontiguousarray(frame_rgb)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8, got {frame.dtype} {frame.shape}")
        self._check_pixels(frame)
        with self._fast_lock:  # frames from several threads take turns; readers are never blocked by it
            t = self.now()  # read in turn, so the tracker's times never go backwards
            with self._lock:
                self._follow_size(frame.shape)
                fresh, self._fresh_tracks = self._fresh_tracks, False
            if fresh:
                self._fast = _FastPath(self.models, self.config)
            before = self._fast.detections
            faces = self._fast.step(t, frame)
            self.detections += self._fast.detections - before
        self._buffer_frame(t, frame)
        self.frames_seen += 1
        return LiveFrame(t=t, faces=faces, elapsed_ms=(self._clock() - started) * 1000.0)

    def add_audio(self, samples: np.ndarray, sample_rate: int) -> None:
        """Append a microphone chunk (int16 or float, mono or (S, C)) that ends now."""
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        audio = np.clip(pcm_to_float(samples).reshape(-1), -1.0, 1.0)
        if not audio.size:
            return
        with self._lock:
            self._audio.add(audio, int(sample_rate), self.now())
            self._touch()

    # ---- output ------------------------------------------------------------------------------------------
    @property
    def latest(self) -> LiveUpdate | None:
        """The newest finished background analysis, or None before the first."""
        return self._latest

    @property
    def buffered(self) -> tuple[int, float]:
        """(frames, audio seconds) currently held: what ``close`` and idling free."""
        with self._lock:
            rate = self._audio.rate or 1
            return len(self._frames), self._audio.size / rate

    @property
    def running(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

    def close(self, wait: bool = True) -> None:
        """Stop the background worker and free the buffers; later input reopens the session.

        ``wait=False`` returns at once (the worker exits after the analysis it may be running); use it from
        an event loop."""
        self._closed.set()
        worker = self._worker
        if wait and worker is not None and worker is not threading.current_thread():
            worker.join(timeout=30.0)
        with self._lock:
            self._free()

    # ---- internals ---------------------------------------------------------------------------------------
    def _check_pixels(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        check_pixels("The live stream", width, height, self.config.max_pixels)

    def _follow_size(self, shape: tuple[int, ...]) -> None:
        """A new frame size (a rotated phone, a resized window) starts a new window: earlier frames cannot
        share a clip with it, nor their face boxes a track (caller holds ``_lock``)."""
        if shape != self._frame_shape:
            self._frames.clear()
            self._fresh_tracks = True
            self._frame_shape = shape

    def _buffer_frame(self, t: float, frame: np.ndarray) -> None:
        with self._lock:
            # a frame of the old size that raced a size change is not buffered with the new ones
            due = not self._frames or t - self._frames[-1][0] >= 1.0 / self.config.buffer_fps
            if due and frame.shape == self._frame_shape:
                self._frames.append((t, shrink_frame(frame, self.config.max_side).copy()))
            self._touch()

    def _touch(self) -> None:
        """Record input now and make sure the worker runs (caller holds ``_lock``)."""
        self._last_input = self.now()
        self._closed.clear()
        if self._background and (self._worker is None or not self._worker.is_alive()):
            # Not a daemon: the interpreter waits for it (it stops after idle_stop_s without input) instead
            # of killing it inside a torch kernel at exit, which aborts the whole process.
            self._worker = threading.Thread(target=self._run, name="omni-emotion-live", daemon=False)
            self._worker.start()

    def _free(self) -> None:
        self._frames.clear()
        self._frame_shape = None
        self._audio.clear()
        self._fresh_tracks = True  # the fast path starts over with its next frame (it may be mid-frame now)

    def _snapshot(self) -> tuple[Clip, float, float] | None:
        """Copy the last window into a Clip, or None when there is too little to analyse."""
        with self._lock:
            end = self.now()
            start = end - self.config.window_s
            frames = [(t, f) for t, f in self._frames if t >= start]
            t0 = frames[0][0] if frames else start
            audio = self._audio.since(t0)
            rate = self._audio.rate
            audio_end = self._audio.end_t if self._audio.size else -math.inf
            if not frames and (not rate or audio.size < self.config.min_audio_s * rate):
                return None
            if frames and audio.size and abs(audio_end - frames[-1][0]) > self.config.window_s:
                audio = np.zeros(0, np.float32)  # microphone stalled long ago: do not pair stale audio
        window_end = max(frames[-1][0] if frames else -math.inf, audio_end)
        clip = clip_from_arrays(
            [f for _, f in frames], [t for t, _ in frames], audio if audio.size else None, rate or 16_000
        )
        return clip, t0, window_end

    def analyze_now(self) -> LiveUpdate | None:
        """One slow-path step on the caller's thread: analyse the current window and publish the result.

        Returns None (and publishes nothing) when the buffers hold too little to analyse."""
        snap = self._snapshot()
        if snap is None:
            return None
        clip, window_start, window_end = snap
        fresh = window_end - max(window_start, self._analysed_until)
        self._analysed_until = window_end
        analysis, error = None, ""
        try:
            analysis = self.models.analyze_clip(clip, speaker=self._speaker, fresh_seconds=max(0.0, fresh))
        except OmniEmotionError as err:
            error = str(err)
        except Exception as err:
            logger.exception("live analysis failed")
            error = f"live analysis failed: {type(err).__name__}: {err}"
        with self._lock:
            self._seq += 1
            self._latest = LiveUpdate(self._seq, analysis, error, window_start, window_end, self.now())
            return self._latest

    def _run(self) -> None:
        """Worker loop: analyse the last window about every ``refresh_s`` until closed or idle."""
        lower_thread_priority(self.config.background_nice)
        next_start = self.now()
        while not self._closed.wait(timeout=max(0.0, next_start - self.now())):
            with self._lock:
                if self.now() - self._last_input > self.config.idle_stop_s:
                    self._free()
                    self._worker = None
                    return
            next_start = self.now() + self.config.refresh_s
            self.analyze_now()
            trim_heap()  # an analysis frees tens of MB across threads' arenas: give them back


def load_live_models(pipeline: EmotionPipeline) -> LiveModels:
    """The fast-path models of ``pipeline``, shared by every session: its face analyzer (detection in the
    given frame's pixels, one tracker per session) and its expression model; the slow path is its
    ``analyze_clip``. Raises ModelNotFoundError when the expression model is not installed."""
    faces = pipeline.perceiver.faces
    if faces is None:
        raise ConfigError("The live session needs a pipeline with a face analyzer.")
    return LiveModels(
        detector=faces,
        new_tracker=faces.new_tracker,
        expressions=pipeline.expression_model(),
        analyze_clip=pipeline.analyze_clip,
    )
