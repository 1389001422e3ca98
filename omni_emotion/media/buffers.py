"""In-memory audio and frame buffers (live webcam + microphone, uploads from the browser): the one
integer-to-float audio normaliser, polyphase resampling, and a Clip built from buffers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from omni_emotion.errors import MediaError
from omni_emotion.types import SAMPLE_RATE, Clip

__all__ = ["clip_from_arrays", "pcm_to_float", "resample_audio"]


def pcm_to_float(audio: np.ndarray) -> np.ndarray:
    """The one integer-to-float audio normaliser: (S,) or (S, C) integer or float PCM -> float32, channels
    averaged. Signed integers are divided by their maximum; unsigned ones are centred on their mid-point
    first (8-bit WAV's silence is 128, which becomes 0.0). Floats are kept as they are (not clipped)."""
    audio = np.asarray(audio)
    if np.issubdtype(audio.dtype, np.unsignedinteger):  # e.g. 8-bit WAV: silence sits at mid-range
        info = np.iinfo(audio.dtype)
        mid = (int(info.max) + 1) / 2
        audio = (audio.astype(np.float32) - mid) / mid
    elif np.issubdtype(audio.dtype, np.integer):
        audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max)
    if audio.ndim == 2:  # (S, C) as browsers and sounddevice deliver it
        audio = audio.mean(axis=1)
    return audio.astype(np.float32, copy=False)


def resample_audio(audio: np.ndarray, sample_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited polyphase resampling of mono audio to ``target_rate``; returns float32 (S',)."""
    audio = pcm_to_float(audio)
    if sample_rate == target_rate or audio.size == 0:
        return audio
    from scipy.signal import resample_poly  # here: 0.8 s to import, and decoded audio is 16 kHz already

    ratio = Fraction(target_rate, int(sample_rate)).limit_denominator(1000)
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(np.float32)


def clip_from_arrays(
    frames: np.ndarray | list[np.ndarray],
    timestamps: np.ndarray | list[float],
    audio: np.ndarray | None,
    sample_rate: int,
    source: str = "live",
) -> Clip:
    """Build a Clip from in-memory buffers (live webcam + microphone). Inputs are copied, never modified."""
    if len({np.shape(f) for f in frames}) > 1:
        sizes = sorted({np.shape(f) for f in frames})
        raise MediaError(f"live buffer mixes frame sizes {sizes}; start a new window.")
    stack = np.stack(frames).astype(np.uint8, copy=True) if len(frames) else np.zeros((0, 1, 1, 3), np.uint8)
    if stack.ndim == 3:  # grayscale frames
        stack = np.repeat(stack[..., None], 3, axis=-1)
    times = np.asarray(timestamps, dtype=np.float64).copy()
    samples = (
        resample_audio(audio, sample_rate) if audio is not None and len(audio) else np.zeros(0, np.float32)
    )
    samples = np.clip(samples, -1.0, 1.0).astype(np.float32)
    if len(times) and len(times) != len(stack):
        raise MediaError(f"live buffer has {len(stack)} frames but {len(times)} timestamps.")
    # the last frame lasts one frame interval, so n frames cover n intervals, not n - 1
    span = float(times[-1] - times[0]) * len(times) / (len(times) - 1) if len(times) > 1 else 0.0
    t0 = float(times[0]) if len(times) else 0.0
    return Clip(
        frames=stack,
        timestamps=times - t0,
        audio=samples,
        duration=max(span, samples.size / SAMPLE_RATE),
        source=source,
        frame_size=(int(stack.shape[2]), int(stack.shape[1])) if len(stack) else None,
        streams=(["video: live"] if len(stack) else []) + (["audio: live"] if samples.size else []),
    )
