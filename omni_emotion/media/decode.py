"""Decode a media file into a Clip (PyAV; its bundled ffmpeg reads every common format).

Frames come either as N samples spread uniformly over the clip (the model uses 8) or as a dense stream at a
given rate (face tracking). Decoding is streaming: at most one decoded frame per target is kept, so a long
file never sits in memory at full resolution. Audio is mono float32 at 16 kHz, resampled by ffmpeg's
resampler. Every file passes ``files``' checks before ffmpeg sees it.
"""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from omni_emotion.errors import (
    ConfigError,
    EmptyMediaError,
    UnsupportedMediaError,
    check_pixels,
)
from omni_emotion.image_header import declared_image_size
from omni_emotion.media.files import (
    MediaConfig,
    _check_decoded_time,
    _check_duration,
    _check_pixels,
    _checked_path,
)
from omni_emotion.types import SAMPLE_RATE, Clip

__all__ = [
    "check_media",
    "check_refused_picture",
    "fit_size",
    "iter_frames",
    "load_audio",
    "load_clip",
    "packet_head",
    "shrink_frame",
]

logger = logging.getLogger(__name__)

_PACKET_HEAD = 65_536  # bytes of a refused packet searched for an image header (JPEG markers come first)
DECODER_THREADS = 2  # per video decoder; two keep 2-core machines busy without multiplying held pictures

# Containers ffmpeg opens for single pictures; such files become one-frame clips.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif", "mjpeg"}
_IMAGE_CODECS = {"png", "mjpeg", "bmp", "webp", "tiff", "gif", "jpeg2000"}


def _open(p: Path, config: MediaConfig) -> av.container.InputContainer:
    """The container. Probing may decode pictures (raw streams: several), so it runs held to the pixel limit
    first; when that leaves a video's size unknown (the limit refused its first picture, whose size only
    decoding tells), it runs again unheld, decoding that one picture, so the first check can name its size.
    Every later picture is held to the limit while decoding (``_decode_video``)."""
    container = _open_with(p, _decoder_options(config))
    if any(s.codec_context.width == 0 for s in container.streams.video):
        container.close()
        container = _open_with(p, {})
    return container


def _open_with(p: Path, options: dict[str, str]) -> av.container.InputContainer:
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore", options=options)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as err:
        raise UnsupportedMediaError(
            f"{p.name} is not a readable audio, video or image file ({_reason(err)})."
        ) from err


def _decoder_options(config: MediaConfig) -> dict[str, str]:
    return {"max_pixels": str(config.max_pixels)}


def check_media(path: str | os.PathLike, config: MediaConfig = MediaConfig()) -> Path:
    """``path`` once it exists, is a non-empty file, ffmpeg can open it, its declared size and duration are
    within ``config`` and its first video and audio frames decode (MediaError subclasses otherwise): a cheap
    check to run before loading models."""
    p = _checked_path(path, config)
    with _open(p, config) as container:
        if container.streams.video:
            _check_size(container.streams.video[0], config, p.name)
        _check_duration(_container_seconds(container), config, p.name)
    if not (_first_video_decodes(p, config) | _first_audio_decodes(p, config)):
        raise EmptyMediaError(f"{p.name} decodes to zero frames and zero audio samples.")
    return p


def _first_video_decodes(p: Path, config: MediaConfig) -> bool:
    """False when there is no video or it holds no frame; UnsupportedMediaError when the first cannot decode."""
    with _open(p, config) as container:
        if container.streams.video:
            for _ in _decode_video(container, container.streams.video[0], p, config):
                return True
    return False


def _first_audio_decodes(p: Path, config: MediaConfig) -> bool:
    with _open(p, config) as container:
        if not container.streams.audio:
            return False
        try:
            for _ in container.decode(container.streams.audio[0]):
                return True
        except av.error.FFmpegError as err:
            raise UnsupportedMediaError(
                f"{p.name} has an audio stream that cannot be decoded ({_reason(err)})."
            ) from err
    return False


def _reason(err: Exception) -> str:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return text.strip().rstrip(".").lower()


def _is_image(container: av.container.InputContainer, vstream) -> bool:
    if vstream is None:
        return False
    names = set(container.format.name.split(","))
    return bool(names & _IMAGE_FORMATS) and vstream.codec_context.name in _IMAGE_CODECS


def _stream_seconds(stream) -> float | None:
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _container_seconds(container) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _describe(stream) -> str:
    ctx = stream.codec_context
    if stream.type == "video":
        rate = float(stream.average_rate) if stream.average_rate else None
        fps = f" {rate:.2f} fps" if rate else ""
        return f"video: {ctx.name} {ctx.width}x{ctx.height}{fps}"
    if stream.type == "audio":
        return f"audio: {ctx.name} {ctx.sample_rate} Hz {ctx.channels} ch"
    return f"{stream.type}: {ctx.name if ctx else '?'}"


def fit_size(width: int, height: int, max_side: int | None, even: bool = False) -> tuple[int, int]:
    """(width, height) shrunk, aspect kept, so the longer side is at most ``max_side`` (None or 0: as is).
    even: round to even sizes, which keep swscale and the video encoders happy."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    if even:
        return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)
    return max(1, round(width * scale)), max(1, round(height * scale))


def shrink_frame(frame: np.ndarray, max_side: int) -> np.ndarray:
    """``frame`` (H, W, C) resized with area averaging to ``fit_size``; the same array when it fits."""
    height, width = frame.shape[:2]
    size = fit_size(width, height, max_side)
    if size == (width, height):
        return frame
    import cv2  # only the live and face paths shrink arrays; decoding resizes in swscale

    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _frame_time(frame, stream) -> float | None:
    if frame.pts is None:
        return None
    base = frame.time_base or stream.time_base
    start = stream.start_time or 0
    return float((frame.pts - start) * base)


def _check_size(vstream, config: MediaConfig, name: str) -> None:
    _check_pixels(vstream.codec_context.width, vstream.codec_context.height, config, name)


def _decode_video(container, vstream, p: Path, config: MediaConfig) -> Iterator[tuple[float, av.VideoFrame]]:
    """Yield (seconds, frame) in presentation order; stops cleanly at a truncated tail, raises past max
    duration or at the first frame above the pixel limit (a stream's picture size may change at any
    keyframe)."""
    vstream.thread_type = "AUTO"
    # each frame thread holds its own pictures: a fixed count keeps memory the same on any machine
    vstream.codec_context.thread_count = DECODER_THREADS
    vstream.codec_context.options = _decoder_options(config)  # ffmpeg refuses larger pictures unallocated
    last_t = -math.inf
    index = 0
    packet_seen: list[bytes] = []
    rate = float(vstream.average_rate) if vstream.average_rate else 25.0
    try:
        for frame in _decoded(container, vstream, packet_seen):
            t = _frame_time(frame, vstream)
            if t is None:
                t = index / rate
            t = max(t, last_t) if last_t > -math.inf else max(t, 0.0)
            _check_decoded_time(t, config, p.name)
            _check_pixels(frame.width, frame.height, config, p.name)
            last_t = t
            index += 1
            yield t, frame
    except av.error.FFmpegError as err:
        check_refused_picture(p.name, vstream, packet_seen[0] if packet_seen else b"", config.max_pixels)
        if index == 0:
            raise UnsupportedMediaError(
                f"{p.name} has a video stream that cannot be decoded ({_reason(err)})."
            ) from err
        logger.warning(
            "%s: video decoding stopped after %d frames (%s); keeping what decoded", p.name, index, err
        )


def check_refused_picture(name: str, vstream, packet_head: bytes, max_pixels: int) -> None:
    """FrameTooLargeError when a decoding error was the decoder refusing a picture above ``max_pixels``
    (it allocates none). The size it was asked for is in its context (H.264 and most codecs) or in the
    refused packet's own image header (MJPEG); ``packet_head`` is that packet's first bytes."""
    check_pixels(name, vstream.codec_context.width, vstream.codec_context.height, max_pixels)
    size = declared_image_size(io.BytesIO(packet_head)) if packet_head else None
    if size is not None:
        check_pixels(name, *size, max_pixels)


def packet_head(packet) -> bytes:
    """The first bytes of a demuxed packet, enough for any image header a video packet may carry."""
    return bytes(memoryview(packet)[:_PACKET_HEAD]) if packet.size else b""


def _decoded(container, vstream, packet_seen: list[bytes]) -> Iterator[av.VideoFrame]:
    """``container.decode(vstream)``, keeping the head of the packet being decoded in ``packet_seen``."""
    for packet in container.demux(vstream):
        packet_seen[:] = [packet_head(packet)]
        yield from packet.decode()


def _to_rgb(frame, size: tuple[int, int]) -> np.ndarray:
    return frame.to_ndarray(width=size[0], height=size[1], format="rgb24")


def _decode_audio(path: Path, config: MediaConfig) -> tuple[np.ndarray, str | None]:
    """Mono float32 16 kHz samples of the first audio stream (empty when there is none)."""
    with _open(path, config) as container:
        astreams = container.streams.audio
        if not astreams:
            return np.zeros(0, np.float32), None
        astream = astreams[0]
        desc = _describe(astream)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(astream):
                frame.pts = None  # let the resampler count samples; broken pts must not insert silence
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                _check_decoded_time(total / SAMPLE_RATE, config, path.name)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as err:
            if total == 0:
                raise UnsupportedMediaError(
                    f"{path.name} has an audio stream that cannot be decoded ({_reason(err)})."
                ) from err
            logger.warning("%s: audio decoding stopped early (%s); keeping what decoded", path.name, err)
        audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
        return np.clip(audio, -1.0, 1.0), desc


def load_audio(path: str | os.PathLike, config: MediaConfig = MediaConfig()) -> np.ndarray:
    """Mono float32 audio at 16 kHz, shape (S,); empty when the file has no audio stream."""
    return _decode_audio(_checked_path(path, config), config)[0]


def load_clip(
    path: str | os.PathLike,
    *,
    num_frames: int | None = 8,
    fps: float | None = None,
    max_side: int | None = None,
    audio: bool = True,
    config: MediaConfig = MediaConfig(),
) -> Clip:
    """Decode ``path`` into a Clip.

    num_frames: frames sampled uniformly over the video (centre of N equal bins); ignored when fps is set.
    fps:        dense frames at this rate instead (memory grows with duration: prefer iter_frames for long files).
    max_side:   resize frames so the longer side is at most this many pixels (aspect kept).
    """
    if fps is None and (num_frames is None or num_frames < 1):
        raise ConfigError(f"num_frames must be >= 1 when fps is not given, got {num_frames}")
    if fps is not None and fps <= 0:
        raise ConfigError(f"fps must be positive, got {fps}")
    p = _checked_path(path, config)
    with _open(p, config) as container:
        vstream = container.streams.video[0] if container.streams.video else None
        streams = [_describe(s) for s in container.streams if s.type in ("video", "audio")]
        if vstream is None and not container.streams.audio:
            raise EmptyMediaError(f"{p.name} contains no video or audio stream.")
        _check_duration(_container_seconds(container), config, p.name)
        frames: list[np.ndarray] = []
        times: list[float] = []
        native_fps = frame_size = None
        is_image = _is_image(container, vstream)
        video_seconds = 0.0
        if vstream is not None:
            _check_size(vstream, config, p.name)
            frame_size = (vstream.codec_context.width, vstream.codec_context.height)
            size = fit_size(*frame_size, max_side, even=True)
            if is_image:
                for _, frame in _decode_video(container, vstream, p, config):
                    frames, times = [_to_rgb(frame, size)], [0.0]
                    break
            else:
                native_fps = float(vstream.average_rate) if vstream.average_rate else None
                seconds = _stream_seconds(vstream) or _container_seconds(container)
                frames, times, video_seconds = _sample_frames(
                    container, vstream, p, config, size, num_frames, fps, seconds
                )
    audio_arr, _ = _decode_audio(p, config) if audio else (np.zeros(0, np.float32), None)
    duration = max(video_seconds, audio_arr.size / SAMPLE_RATE)
    if not frames and audio_arr.size == 0:
        raise EmptyMediaError(f"{p.name} decodes to zero frames and zero audio samples.")
    if frames:
        stack = np.stack(frames)
    else:
        stack = np.zeros((0, 1, 1, 3), np.uint8)
    return Clip(
        frames=stack,
        timestamps=np.asarray(times, dtype=np.float64),
        audio=audio_arr,
        duration=float(duration),
        source=str(p),
        fps=native_fps,
        frame_size=frame_size,
        streams=streams,
        is_image=is_image,
    )


def _sample_frames(container, vstream, p, config, size, num_frames, fps, seconds):
    """Return (frames, times, video_seconds). With a known duration, keep the frame nearest each target time."""
    if fps is not None:
        frames, times = [], []
        for t, rgb in _dense(_decode_video(container, vstream, p, config), fps, size):
            frames.append(rgb)
            times.append(t)
        end = times[-1] + 1.0 / fps if times else 0.0
        return frames, times, max(end, seconds or 0.0)
    if seconds:
        targets = (np.arange(num_frames) + 0.5) * seconds / num_frames
        return _nearest(_decode_video(container, vstream, p, config), targets, size, seconds)
    seconds = _time_video(p, config)
    if seconds is None:
        return [], [], 0.0
    targets = (np.arange(num_frames) + 0.5) * seconds / num_frames
    return _nearest(_decode_video(container, vstream, p, config), targets, size, seconds)


def _time_video(p: Path, config: MediaConfig) -> float | None:
    """Seconds of video in a file that declares no duration (live webm, raw .h264), by decoding it once.

    A second container is used because such inputs often cannot seek (raw streams) and a decoder that has
    run cannot be reconfigured; the duration limit is enforced frame by frame while timing."""
    last = step = None
    with _open(p, config) as container:
        vstream = container.streams.video[0]
        for t, _ in _decode_video(container, vstream, p, config):
            step = t - last if last is not None else step
            last = t
    return None if last is None else last + (step or 0.04)


def _nearest(decoded, targets: np.ndarray, size, seconds: float):
    """Pick, for each target time, the decoded frame closest to it; convert only those frames to RGB."""
    chosen: dict[int, tuple[float, np.ndarray]] = {}
    prev: tuple[float, object] | None = None
    k = 0
    last_t = 0.0
    for t, frame in decoded:
        last_t = t
        while k < len(targets) and t >= targets[k]:
            if prev is not None and abs(prev[0] - targets[k]) < abs(t - targets[k]):
                chosen[k] = (prev[0], _to_rgb(prev[1], size))
            else:
                chosen[k] = (t, _to_rgb(frame, size))
            k += 1
        if k >= len(targets):
            break
        prev = (t, frame)
    while k < len(targets) and prev is not None:  # targets past the last frame (short or truncated video)
        chosen[k] = (prev[0], _to_rgb(prev[1], size))
        k += 1
    order = sorted(chosen)
    # Repeated frames are kept: the model expects exactly num_frames even for very short clips.
    return [chosen[i][1] for i in order], [chosen[i][0] for i in order], max(seconds, last_t)


def _dense(decoded, fps: float, size) -> Iterator[tuple[float, np.ndarray]]:
    step = 1.0 / fps
    next_t = 0.0
    for t, frame in decoded:
        if t + 1e-6 >= next_t:
            yield t, _to_rgb(frame, size)
            next_t = (math.floor(t / step + 1e-6) + 1) * step


def iter_frames(
    path: str | os.PathLike,
    *,
    fps: float,
    max_side: int | None = 640,
    config: MediaConfig = MediaConfig(),
) -> Iterator[tuple[float, np.ndarray]]:
    """Stream (seconds, RGB uint8 (H, W, 3)) at about ``fps`` frames per second; memory stays one frame.

    A still image yields one frame at t=0; a file without video yields nothing.
    """
    if fps <= 0:
        raise ConfigError(f"fps must be positive, got {fps}")
    p = _checked_path(path, config)
    with _open(p, config) as container:
        if not container.streams.video:
            return
        vstream = container.streams.video[0]
        _check_size(vstream, config, p.name)
        _check_duration(_container_seconds(container), config, p.name)
        size = fit_size(vstream.codec_context.width, vstream.codec_context.height, max_side, even=True)
        if _is_image(container, vstream):
            for _, frame in _decode_video(container, vstream, p, config):
                yield 0.0, _to_rgb(frame, size)
                return
        yield from _dense(_decode_video(container, vstream, p, config), fps, size)
