"""Voice activity detection: silero-vad's ONNX model run with plain onnxruntime (no torch).

The ``silero-vad`` PyPI package ships several exports of the same network. We use its "sequence" export,
which takes a whole block of 32 ms frames in one ONNX call and returns per-frame speech probabilities that
are identical to the streaming export's, about twice as fast because the LSTM state is carried inside ONNX
instead of a Python loop. The package's Python code imports torch, so we only locate its data folder.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omni_emotion.errors import ConfigError, ModelNotFoundError
from omni_emotion.types import SAMPLE_RATE

__all__ = ["SileroVad", "VadConfig", "find_silero_model", "regions_from_probabilities"]

FRAME_SAMPLES = 512  # samples per VAD frame at 16 kHz (32 ms), fixed by the model
CONTEXT_SAMPLES = 64  # trailing samples of the previous frame the model sees before each frame
STATE_SHAPE = (1, 1, 128)  # LSTM h and c
MODEL_FILE = "silero_vad_16k_sequence.onnx"
INSTALL_HINT = "pip install silero-vad==6.2.3 (or pip install 'omni-emotion[offline]')"


@dataclass(frozen=True)
class VadConfig:
    """How frame probabilities become speech regions.

    threshold:       a frame with probability >= threshold starts or continues speech;
    neg_threshold:   speech ends only after the probability falls below this (hysteresis); None = threshold - 0.15;
    min_speech_ms:   shorter regions are dropped (clicks, coughs);
    min_silence_ms:  shorter silences do not split a region;
    speech_pad_ms:   each region is widened by this on both sides (Whisper needs word onsets and tails);
    block_frames:    frames per ONNX call; bounds memory on long audio (512 frames = 16.4 s).
    """

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_ms: float = 250.0
    min_silence_ms: float = 300.0
    speech_pad_ms: float = 100.0
    block_frames: int = 512

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"VAD threshold must be in (0, 1), got {self.threshold}.")
        if self.neg_threshold is not None and not 0.0 < self.neg_threshold <= self.threshold:
            raise ConfigError(f"VAD neg_threshold must be in (0, threshold], got {self.neg_threshold}.")
        for name in ("min_speech_ms", "min_silence_ms", "speech_pad_ms"):
            if getattr(self, name) < 0:
                raise ConfigError(f"VAD {name} must be >= 0, got {getattr(self, name)}.")
        if self.block_frames < 1:
            raise ConfigError(f"VAD block_frames must be >= 1, got {self.block_frames}.")

    @property
    def off_threshold(self) -> float:
        return self.neg_threshold if self.neg_threshold is not None else max(self.threshold - 0.15, 0.01)


def find_silero_model(name: str = MODEL_FILE) -> Path:
    """Path of an ONNX file inside the installed ``silero_vad`` package, found without importing it."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"The silero-vad package is not installed: {INSTALL_HINT}.")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing from the silero-vad package: {INSTALL_HINT}.")
    return path


def regions_from_probabilities(
    probs: np.ndarray, config: VadConfig, duration_s: float, frame_s: float = FRAME_SAMPLES / SAMPLE_RATE
) -> list[tuple[float, float]]:
    """Turn per-frame speech probabilities (F,) into (start, end) seconds, sorted and non-overlapping.

    Hysteresis: speech starts at a frame >= threshold and ends where the probability stays below the
    off threshold for min_silence_ms. Regions are padded, clamped to [0, duration_s] and merged.
    """
    on, off = config.threshold, config.off_threshold
    min_silence_frames = config.min_silence_ms / 1000.0 / frame_s
    raw: list[tuple[int, int]] = []
    start: int | None = None
    quiet_since: int | None = None
    for i, p in enumerate(np.asarray(probs, dtype=np.float64)):
        if start is None:
            if p >= on:
                start, quiet_since = i, None
            continue
        if p >= on:
            quiet_since = None
        elif p < off:
            quiet_since = i if quiet_since is None else quiet_since
            if i + 1 - quiet_since >= min_silence_frames:
                raw.append((start, quiet_since))
                start = quiet_since = None
    if start is not None:
        raw.append((start, quiet_since if quiet_since is not None else len(probs)))

    pad = config.speech_pad_ms / 1000.0
    regions: list[tuple[float, float]] = []
    for a, b in raw:
        if (b - a) * frame_s < config.min_speech_ms / 1000.0:
            continue
        s, e = max(0.0, a * frame_s - pad), min(duration_s, b * frame_s + pad)
        if regions and s <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], e))
        elif e > s:
            regions.append((s, e))
    return regions


class SileroVad:
    """Silero VAD on 16 kHz mono float32 audio. One ONNX session per object; thread-safe to call."""

    def __init__(self, config: VadConfig = VadConfig(), model_path: str | Path | None = None) -> None:
        import onnxruntime as ort

        self.config = config
        self.model_path = Path(model_path) if model_path is not None else find_silero_model()
        options = ort.SessionOptions()
        # The network is tiny: one thread is fastest and leaves the other cores to ASR and face tracking.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """Speech probability per 32 ms frame: (ceil(S / 512),) float32 for 16 kHz audio (S,)."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        n_frames = -(-audio.size // FRAME_SAMPLES)
        out = np.zeros(n_frames, np.float32)
        h = np.zeros(STATE_SHAPE, np.float32)
        c = np.zeros(STATE_SHAPE, np.float32)
        context = np.zeros(CONTEXT_SAMPLES, np.float32)
        for first in range(0, n_frames, self.config.block_frames):
            count = min(self.config.block_frames, n_frames - first)
            frames = np.zeros((count, FRAME_SAMPLES), np.float32)
            piece = audio[first * FRAME_SAMPLES : (first + count) * FRAME_SAMPLES]
            frames.reshape(-1)[: piece.size] = piece
            contexts = np.empty((count, CONTEXT_SAMPLES), np.float32)
            contexts[0] = context
            contexts[1:] = frames[:-1, -CONTEXT_SAMPLES:]
            context = frames[-1, -CONTEXT_SAMPLES:].copy()
            probs, h, c = self._session.run(
                None, {"input": np.concatenate([contexts, frames], axis=1), "h": h, "c": c}
            )
            out[first : first + count] = probs
        return out

    def regions(self, audio: np.ndarray) -> list[tuple[float, float]]:
        """Speech regions of 16 kHz mono audio (S,) as (start, end) seconds; [] for silence or no audio."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return []
        return regions_from_probabilities(self.probabilities(audio), self.config, audio.size / SAMPLE_RATE)
