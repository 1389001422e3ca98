"""Where the desktop window's frames and sound come from: a camera index, a video file, a stream URL, a
microphone or an audio file played as if it were one.

Every video source runs one reader thread that puts the newest RGB frame into a ``Mailbox``; the window
takes whatever is newest, so a slow window drops frames instead of falling behind. Files (and anything
with a known duration) are paced by their timestamps against a ``PlaybackClock`` shared with the window,
so they play at their own rate and stop while paused; live sources (cameras, RTSP, a pipe) deliver at
their own pace. Audio decoded from the same container goes to ``on_audio`` at the moment it is due.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omni_emotion.errors import (
    DeviceUnavailableError,
    FrameTooLargeError,
    MediaNotFoundError,
    UnsupportedMediaError,
    check_pixels,
)
from omni_emotion.media import MEDIA_SUFFIXES, MediaConfig, check_refused_picture, packet_head

__all__ = [
    "AudioSink",
    "Mailbox",
    "MediaSource",
    "PlaybackClock",
    "SourceSpec",
    "open_camera",
    "parse_source",
]

logger = logging.getLogger(__name__)

AUDIO_RATE = 16_000  # Hz: what the analysis wants, so PyAV resamples once here
AudioSink = Callable[[np.ndarray, int], None]  # (mono float32 samples, rate)
LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "udp", "rtp", "srt", "tcp")
NETWORK_TIMEOUT_US = "5000000"  # a stream that sends nothing for 5 s has gone: fail instead of freezing


@dataclass(frozen=True)
class SourceSpec:
    """What ``--camera`` or ``--mic`` names. kind: "index" (an OpenCV camera or sounddevice device number),
    "device" (a sounddevice device name, or a /dev/video* path for OpenCV), "url" or "file"."""

    kind: str
    value: str

    @property
    def index(self) -> int:
        return int(self.value)

    @property
    def name(self) -> str:
        return f"index {self.value}" if self.kind == "index" else self.value


def parse_source(text: str, *, devices_by_name: bool) -> SourceSpec:
    """Classify a ``--camera``/``--mic`` value. Digits are an index; ``scheme://`` is a URL; an existing
    path is a file (a FIFO counts: it is how another program pipes a stream in). Otherwise, for a microphone
    (``devices_by_name``), a device name such as ``pulse``; for a camera, a missing file."""
    value = text.strip()
    if not value:
        raise UnsupportedMediaError("An empty source was given: pass a camera index, a file or a URL.")
    if value.isdigit():
        return SourceSpec("index", value)
    if "://" in value:
        return SourceSpec("url", value)
    path = Path(value).expanduser()
    if value.startswith("/dev/video"):
        return SourceSpec("device", value)
    if path.exists():
        if path.is_dir():
            raise UnsupportedMediaError(f"{path} is a folder, not a video or audio file.")
        return SourceSpec("file", str(path))
    # a value with a media file's ending is a file, not a device name ("USB Audio 2.0" is a device)
    looks_like_file = "/" in value or value.startswith(("~", ".")) or path.suffix.lower() in MEDIA_SUFFIXES
    if devices_by_name and not looks_like_file:
        return SourceSpec("device", value)
    raise MediaNotFoundError(f"{path} does not exist.")


class PlaybackClock:
    """Seconds of playback: wall time minus the time spent paused. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        self._paused_at: float | None = None

    def now(self) -> float:
        with self._lock:
            end = self._paused_at if self._paused_at is not None else self._clock()
            return end - self._start

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def pause(self) -> None:
        with self._lock:
            if self._paused_at is None:
                self._paused_at = self._clock()

    def resume(self) -> None:
        with self._lock:
            if self._paused_at is not None:
                self._start += self._clock() - self._paused_at
                self._paused_at = None


class Mailbox:
    """The newest frame from a reader thread, plus how the reader ended. Older frames are overwritten."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self.delivered = 0  # frames put
        self.dropped = 0  # frames overwritten before anyone took them
        self.last_put = time.monotonic()
        self.ended = False  # the source finished normally (end of a file)
        self.error: Exception | None = None  # the source failed; the window re-raises it

    def put(self, frame: np.ndarray) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.delivered += 1
            self.last_put = time.monotonic()
            self._cond.notify_all()

    def finish(self, error: Exception | None = None) -> None:
        with self._cond:
            self.error, self.ended = error, error is None
            self._cond.notify_all()

    def take(self, timeout: float) -> np.ndarray | None:
        """The newest frame not taken yet, waiting up to ``timeout`` seconds; None when there is none."""
        with self._cond:
            if self._frame is None and not (self.ended or self.error):
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            return frame


class _Reader:
    """A reader thread with a stop flag; subclasses implement ``_loop`` and ``_release``."""

    live = True
    describe = ""
    _daemon = False  # not a daemon: the interpreter waits for it instead of killing it inside FFmpeg

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._released = False

    def start(self) -> None:
        self.mailbox.last_put = time.monotonic()  # the stall timer starts now, not when the source was opened
        self._thread = threading.Thread(
            target=self._guarded, name=f"omni-emotion-{type(self).__name__}", daemon=self._daemon
        )
        self._thread.start()

    def _guarded(self) -> None:
        try:
            self._loop()
        except Exception as err:  # handed to the window, which reports it in one sentence
            logger.debug("source %s failed", self.describe, exc_info=True)
            self.mailbox.finish(err)
        else:
            self.mailbox.finish(None)
        finally:
            self._released = True
            self._release()

    def _loop(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Release the device or file (on the reader thread, where it was used)."""

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the reader and release the source (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        elif not self._released:  # never started: nothing else will release it
            self._released = True
            self._release()


class CaptureCamera(_Reader):
    """An OpenCV camera (index or /dev/video path), read on its own thread."""

    _daemon = True  # a vanished camera can block inside read(); it must not keep the process alive

    def __init__(self, capture: Any, name: str) -> None:
        super().__init__()
        self._capture = capture
        self.describe = f"camera at {name}"

    def _loop(self) -> None:
        while not self._stop.is_set():
            ok, bgr = self._capture.read()
            if not ok:
                raise DeviceUnavailableError(f"The {self.describe} stopped delivering frames.")
            check_pixels(f"The {self.describe}", bgr.shape[1], bgr.shape[0], MediaConfig.max_pixels)
            self.mailbox.put(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def _release(self) -> None:
        self._capture.release()


def open_camera(spec: SourceSpec) -> CaptureCamera:
    """An OpenCV camera that delivered one frame, as a reader (not started), or DeviceUnavailableError."""
    target: int | str = spec.index if spec.kind == "index" else spec.value
    # OpenCV logs each backend it tries; the one sentence below says what matters to the user.
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        capture = cv2.VideoCapture(target)
    finally:
        cv2.utils.logging.setLogLevel(previous)
    if not capture.isOpened():
        capture.release()
        raise DeviceUnavailableError(
            f"No camera at {spec.name}: connect one or pass --camera N, a file or a URL."
        )
    ok, _ = capture.read()
    if not ok:
        capture.release()
        raise DeviceUnavailableError(f"The camera at {spec.name} opened but delivered no frame.")
    return CaptureCamera(capture, spec.name)


class MediaSource(_Reader):
    """A video file, stream URL or pipe (``video=True``) and/or its audio (``on_audio``), decoded by PyAV.

    Video frames are scaled in the decoder so the longer side is at most ``max_side``; the decoder refuses
    pictures above ``max_pixels`` unallocated, and every frame is checked, since a stream's size may change
    at any keyframe. ``loop`` restarts a
    file at its end. A source with a known duration is paced on ``clock``; one without (RTSP, a pipe) is
    live: its end or failure means the camera has gone.
    """

    def __init__(
        self,
        spec: SourceSpec,
        clock: PlaybackClock,
        *,
        video: bool = True,
        on_audio: AudioSink | None = None,
        max_side: int = 640,
        loop: bool = False,
        max_pixels: int = MediaConfig.max_pixels,
    ) -> None:
        import av

        super().__init__()
        self.spec, self.clock, self.on_audio, self.max_side, self.loop = spec, clock, on_audio, max_side, loop
        self.max_pixels = max_pixels
        self.describe = spec.value if spec.kind == "file" else f"stream {spec.value}"
        self._picture_name = Path(spec.value).name if spec.kind == "file" else f"The stream {spec.value}"
        options = {"rw_timeout": NETWORK_TIMEOUT_US} if spec.kind == "url" else {}
        if spec.value.startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = "tcp"  # UDP loses packets behind NAT and most firewalls
        try:
            # probing held to the pixel limit; unheld only when that leaves the size unknown (media.decode._open)
            timeout = 5.0 if spec.kind == "url" else None
            held = options | {"max_pixels": str(max_pixels)}
            self._container = av.open(spec.value, options=held, timeout=timeout)
            if any(s.codec_context.width == 0 for s in self._container.streams.video):
                self._container.close()
                self._container = av.open(spec.value, options=options, timeout=timeout)
        except (av.FFmpegError, OSError) as err:
            if spec.kind == "url":
                raise DeviceUnavailableError(
                    f"Could not open the stream {spec.value}: {err.strerror or err}."
                ) from err
            raise UnsupportedMediaError(
                f"{Path(spec.value).name} is not a readable video or audio file."
            ) from err
        self._video = self._container.streams.video[0] if video and self._container.streams.video else None
        audio = self._container.streams.audio
        self._audio = audio[0] if on_audio is not None and audio else None
        if video and self._video is None:
            self._container.close()
            raise UnsupportedMediaError(f"{self.describe} has no video track to use as a camera.")
        if not video and self._audio is None:
            self._container.close()
            raise UnsupportedMediaError(f"{self.describe} has no audio track to use as a microphone.")
        if self._video is not None:
            ctx = self._video.codec_context
            try:
                check_pixels(self._picture_name, ctx.width, ctx.height, max_pixels)  # the size probing saw
            except FrameTooLargeError:
                self._container.close()
                raise
            self._video.thread_type = "AUTO"  # frame threads: HEVC at 960x540 decodes in real time on 2 cores
            self._video.codec_context.thread_count = 2  # each frame thread holds pictures of its own
            self._video.codec_context.options = {"max_pixels": str(max_pixels)}
        self.live = self._container.duration is None
        if self.live:
            self.describe = f"stream {spec.value}"
        self.has_audio = self._audio is not None

    def _loop(self) -> None:
        import av

        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE) if self._audio else None
        streams = [s for s in (self._video, self._audio) if s is not None]
        while not self._stop.is_set():
            origin: float | None = None  # playback second at which this pass's first frame is due
            first_t = 0.0
            for frame in self._frames(streams):
                if self._stop.is_set():
                    return
                t = frame.time if frame.time is not None else 0.0
                if origin is None:
                    origin, first_t = self.clock.now(), t
                if not self.live and not self._wait_until(origin + t - first_t):
                    return
                if isinstance(frame, av.AudioFrame):
                    for out in resampler.resample(frame):
                        self.on_audio(out.to_ndarray().reshape(-1).astype(np.float32, copy=False), AUDIO_RATE)
                else:
                    self.mailbox.put(self._rgb(frame))
            if self.live:
                raise DeviceUnavailableError(f"The {self.describe} stopped delivering frames.")
            if not self.loop:
                return
            self._container.seek(0)

    def _frames(self, streams: list[Any]):
        import av

        head = b""
        try:
            for packet in self._container.demux(streams):
                head = packet_head(packet) if packet.stream is self._video else b""
                yield from packet.decode()
        except av.FFmpegError as err:
            if self._video is not None:  # the decoder refused a picture above max_pixels: say so
                check_refused_picture(self._picture_name, self._video, head, self.max_pixels)
            if self.spec.kind == "file" and not self.live:
                raise UnsupportedMediaError(
                    f"{Path(self.spec.value).name} could not be decoded further: {err}."
                ) from err
            raise DeviceUnavailableError(f"The {self.describe} stopped delivering frames ({err}).") from err

    def _rgb(self, frame: Any) -> np.ndarray:
        check_pixels(self._picture_name, frame.width, frame.height, self.max_pixels)
        scale = min(1.0, self.max_side / max(frame.width, frame.height))
        width, height = (
            max(2, round(frame.width * scale) // 2 * 2),
            max(2, round(frame.height * scale) // 2 * 2),
        )
        return frame.to_ndarray(format="rgb24", width=width, height=height)

    def _wait_until(self, due: float) -> bool:
        """Sleep until playback second ``due`` (pausing stops the clock); False when asked to stop."""
        while not self._stop.is_set():
            ahead = due - self.clock.now()
            if ahead <= 0:
                return True
            self._stop.wait(min(ahead, 0.05))
        return False

    def _release(self) -> None:
        self._container.close()
