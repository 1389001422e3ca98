"""On-disk feature cache: each clip is decoded, face-tracked and turned into a log-mel once; later epochs
(and later phases) read small arrays instead of decoding video again.

What is stored per clip (``<root>/<2 hex>/<sha1>.npz``, written atomically):
- ``frames`` (F, S, S, 3) uint8: the processor's ``num_frames`` uniformly sampled frames, resized to the
  SigLIP size S with the processor's filter (bicubic, antialiased) and rounded to uint8;
- ``crops`` (K, Sf, Sf, 3) uint8 + ``crop_times`` (K,) s: the main face track's crops nearest the sampled
  frames (within the processor's gap), at the face size;
- ``mel`` (n_mels, k) float16: the leading columns of the padded Whisper log-mel; every later column equals
  ``mel_pad`` (padding is silence, which the log-mel clamps to one value), so 30 s of padding costs nothing.

The key hashes the media paths, their sizes and modification times, and every processor setting that
changes the arrays, so editing a clip or changing the model's shapes never reads stale features.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from omni_emotion.media import MediaConfig, load_audio, load_clip
from omni_emotion.model.encoders.audio import HOP_LENGTH
from omni_emotion.model.processor import OmniEmotionProcessor, sample_indices
from omni_emotion.training.manifest import Sample
from omni_emotion.types import SAMPLE_RATE, Clip, FaceTrack

__all__ = ["CACHE_VERSION", "ClipFeatures", "FaceFn", "FeatureCache", "resize_images"]

CACHE_VERSION = 1
N_FFT = 400  # Whisper's 25 ms window: a mel column depends on samples within N_FFT/2 of its centre

# (decoded clip with its sampled frames, media path) -> the main person's FaceTrack, or None
FaceFn = Callable[[Clip, Path], "FaceTrack | None"]


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, size, size, 3) uint8 with the processor's bicubic antialiased filter."""
    if len(images) == 0 or images.shape[1:3] == (size, size):
        return np.ascontiguousarray(images)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(
        x, size=(size, size), mode="bicubic", antialias=True, align_corners=False
    )
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


@dataclass
class ClipFeatures:
    """Cached arrays of one clip (see module docstring); ``audio_samples`` = 16 kHz samples the mel covers."""

    frames: np.ndarray
    times: np.ndarray
    crops: np.ndarray
    crop_times: np.ndarray
    mel: np.ndarray | None
    mel_pad: float
    audio_samples: int
    duration: float

    def clip(self, source: str = "") -> Clip:
        """A Clip of the cached frames without audio samples (pass ``audio_features`` to the processor)."""
        return Clip(
            frames=self.frames,
            timestamps=self.times,
            audio=np.zeros(0, np.float32),
            duration=self.duration,
            source=source,
        )

    def face_track(self) -> FaceTrack | None:
        """The cached crops as a main FaceTrack (boxes and scores are not needed downstream and are zero)."""
        if not len(self.crops):
            return None
        k = len(self.crops)
        return FaceTrack(
            track_id=0,
            timestamps=self.crop_times,
            boxes=np.zeros((k, 4), np.float32),
            scores=np.ones(k, np.float32),
            crops=self.crops,
            crop_times=self.crop_times,
            main=True,
        )

    def input_features(self, mel_frames: int) -> torch.Tensor | None:
        """(1, n_mels, mel_frames) float32 log-mel, padding columns restored; None without audio."""
        if self.mel is None:
            return None
        full = np.full((self.mel.shape[0], mel_frames), self.mel_pad, np.float32)
        full[:, : self.mel.shape[1]] = self.mel
        return torch.from_numpy(full)[None]

    def audio_features(self, mel_frames: int) -> tuple[torch.Tensor, int] | None:
        """``(input_features(mel_frames), audio_samples)``: the processor's ``audio_features`` argument."""
        mel = self.input_features(mel_frames)
        return None if mel is None else (mel, self.audio_samples)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "frames": self.frames,
            "times": self.times,
            "crops": self.crops,
            "crop_times": self.crop_times,
            "scalars": np.array([self.mel_pad, self.audio_samples, self.duration], np.float64),
        }
        if self.mel is not None:
            arrays["mel"] = self.mel
        return arrays

    @classmethod
    def from_arrays(cls, data) -> ClipFeatures:
        mel_pad, samples, duration = data["scalars"].tolist()
        return cls(
            frames=data["frames"],
            times=data["times"],
            crops=data["crops"],
            crop_times=data["crop_times"],
            mel=data.get("mel"),
            mel_pad=mel_pad,
            audio_samples=int(samples),
            duration=duration,
        )


def _file_id(path: Path | None) -> list:
    if path is None:
        return []
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


class FeatureCache:
    """``load(sample)`` -> ClipFeatures, from ``root`` when cached, else decoded (and stored when ``root`` is set).

    ``face_fn`` finds the main face track (None: no face crops). ``hits``/``misses`` count cache use.
    """

    def __init__(
        self,
        processor: OmniEmotionProcessor,
        root: str | os.PathLike | None = None,
        *,
        face_fn: FaceFn | None = None,
        media_config: MediaConfig | None = None,
    ):
        self.processor, self.face_fn = processor, face_fn
        self.media_config = media_config or MediaConfig()
        self.root = Path(root) if root is not None else None
        self.hits = self.misses = 0

    def key(self, sample: Sample) -> str:
        cfg = self.processor.config
        settings = [
            CACHE_VERSION,
            _file_id(sample.video),
            _file_id(sample.audio),
            cfg.num_frames,
            cfg.image_size,
            cfg.face_size,
            cfg.use_face and self.face_fn is not None,
            cfg.face_max_gap_s,
            cfg.use_audio,
            cfg.n_mels,
            # a face_fn's ``cache_tag`` names its detector and settings, so changing them re-tracks the clips
            cfg.mel_frames,
            getattr(
                self.face_fn, "cache_tag", getattr(self.face_fn, "__qualname__", repr(type(self.face_fn)))
            ),
        ]
        return hashlib.sha1(json.dumps(settings).encode()).hexdigest()

    def load(self, sample: Sample) -> ClipFeatures:
        path = self.root / (key := self.key(sample))[:2] / f"{key}.npz" if self.root is not None else None
        if path is not None and path.is_file():
            self.hits += 1
            with np.load(path) as data:
                return ClipFeatures.from_arrays(data)
        self.misses += 1
        features = self.extract(sample)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a crash or a parallel worker never leaves a half-written entry
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **features.to_arrays())
            os.replace(tmp, path)
        return features

    def extract(self, sample: Sample) -> ClipFeatures:
        """Decode ``sample``'s media and compute its arrays (no cache involved)."""
        cfg = self.processor.config
        if sample.video is not None:
            clip = load_clip(
                sample.video, num_frames=cfg.num_frames, audio=sample.audio is None, config=self.media_config
            )
        else:
            clip = Clip(
                frames=np.zeros((0, 1, 1, 3), np.uint8),
                timestamps=np.zeros(0),
                audio=np.zeros(0, np.float32),
                duration=0.0,
            )
        if sample.audio is not None:
            audio = load_audio(sample.audio, config=self.media_config)
            clip = Clip(
                frames=clip.frames,
                timestamps=clip.timestamps,
                audio=audio,
                duration=max(clip.duration, audio.size / SAMPLE_RATE),
                source=clip.source,
            )
        idx = sample_indices(len(clip.frames), cfg.num_frames)
        frames, times = (
            resize_images(clip.frames[idx], cfg.image_size),
            clip.timestamps[idx].astype(np.float64),
        )
        crops, crop_times = self._faces(clip, sample.video, times)
        mel, mel_pad, samples = self._mel(clip)
        return ClipFeatures(frames, times, crops, crop_times, mel, mel_pad, samples, float(clip.duration))

    def _faces(self, clip: Clip, path: Path | None, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = self.processor.config.face_size
        empty = np.zeros((0, size, size, 3), np.uint8), np.zeros(0)
        if not self.processor.config.use_face or self.face_fn is None or path is None or not len(times):
            return empty
        track = self.face_fn(clip, path)
        if track is None or track.crops is None or not len(track.crops):
            return empty
        crop_times = track.crop_seconds
        nearest = np.abs(crop_times[None, :] - times[:, None]).argmin(axis=1)
        keep = np.unique(nearest[np.abs(crop_times[nearest] - times) <= self.processor.config.face_max_gap_s])
        return resize_images(track.crops[keep], size), np.asarray(crop_times[keep], np.float64)

    def _mel(self, clip: Clip) -> tuple[np.ndarray | None, float, int]:
        if not self.processor.config.use_audio or not clip.has_audio:
            return None, 0.0, 0
        mel, samples = self.processor.log_mel(clip.audio)
        mel = mel[0].numpy()
        # columns whose window reaches real samples; the rest is padding and all equal
        keep = min(math.ceil((samples + N_FFT // 2) / HOP_LENGTH) + 1, mel.shape[1])
        pad = float(mel[0, -1]) if keep < mel.shape[1] else 0.0
        return mel[:, :keep].astype(np.float16), pad, samples
