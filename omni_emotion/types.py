"""The data that flows one way through omni-emotion (docs/architecture.md):

    file / webcam+mic -> Clip -> FaceTrack[] + Transcript + Prosody (= Perception) -> Engine -> Analysis

Arrays are numpy; times are seconds from the start of the clip; audio is mono float32 at 16 kHz.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "SAMPLE_RATE",
    "Analysis",
    "Clip",
    "Clues",
    "FaceTrack",
    "Perception",
    "ProgressFn",
    "Prosody",
    "Segment",
    "Transcript",
    "VoiceProfile",
    "Word",
]

SAMPLE_RATE = 16_000  # Hz: every audio array in the project is at this rate

# progress(fraction in [0, 1], description) -- tqdm in the CLI, gr.Progress in the UI
ProgressFn = Callable[[float, str], None]


@dataclass
class Clip:
    """Decoded media: sampled RGB frames and mono 16 kHz audio.

    frames:      (N, H, W, 3) uint8 RGB; N == 0 for audio-only input, N == 1 for a still image.
    timestamps:  (N,) float64 seconds of each frame.
    audio:       (S,) float32 in [-1, 1] at ``sample_rate``; empty when there is no audio stream.
    duration:    seconds covered by the longer of the video and audio streams.
    fps:         the source's native frame rate (None for stills and audio-only).
    frame_size:  (width, height) of the source video before any resizing, or None.
    streams:     human-readable descriptions of the streams found, e.g. "video: h264 640x360 25.0 fps".
    """

    frames: np.ndarray
    timestamps: np.ndarray
    audio: np.ndarray
    duration: float
    source: str = ""
    sample_rate: int = SAMPLE_RATE
    fps: float | None = None
    frame_size: tuple[int, int] | None = None
    streams: list[str] = field(default_factory=list)
    is_image: bool = False

    def __post_init__(self) -> None:
        if self.frames.ndim != 4 or (len(self.frames) and self.frames.shape[-1] != 3):
            raise ValueError(f"frames must be (N, H, W, 3), got {self.frames.shape}")
        if self.frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8, got {self.frames.dtype}")
        if len(self.timestamps) != len(self.frames):
            raise ValueError(f"{len(self.frames)} frames but {len(self.timestamps)} timestamps")
        if self.audio.ndim != 1 or self.audio.dtype != np.float32:
            raise ValueError(f"audio must be 1-D float32, got {self.audio.dtype} {self.audio.shape}")

    @property
    def has_video(self) -> bool:
        return len(self.frames) > 0

    @property
    def has_audio(self) -> bool:
        return self.audio.size > 0

    @property
    def audio_seconds(self) -> float:
        return self.audio.size / self.sample_rate

    def facts(self) -> dict[str, Any]:
        """What `omni-emotion probe` prints: plain JSON-able facts about the decoded clip."""
        return {
            "source": self.source,
            "duration_s": round(self.duration, 3),
            "fps": None if self.fps is None else round(self.fps, 3),
            "frame_size": None if self.frame_size is None else list(self.frame_size),
            "frames_decoded": int(len(self.frames)),
            "decoded_size": None
            if not self.has_video
            else [int(self.frames.shape[2]), int(self.frames.shape[1])],
            "audio_sample_rate": self.sample_rate if self.has_audio else None,
            "audio_s": round(self.audio_seconds, 3),
            "streams": list(self.streams),
            "is_image": self.is_image,
        }


@dataclass
class FaceTrack:
    """One person's face followed over time.

    timestamps: (T,) seconds;  boxes: (T, 4) float32 x1, y1, x2, y2 in pixels of the frames the tracker was
                given (Perceiver rescales them to source-frame pixels, as Analysis.faces reports them);
    landmarks:  (T, 5, 2) float32 (eyes, nose, mouth corners) or None when the detector has none;
    scores:     (T,) detection confidences;
    mouth:      (T,) float32 mouth motion since the track's previous observation (faces/mouth.py; NaN where
                unmeasured) or None when the tracker did not measure it;
    crops:      (K, 224, 224, 3) uint8 aligned face crops at ``crop_times`` (K <= T, bounded by the tracker);
    main:       True for the person the analysis is about.
    attributes: optional per-track facts (e.g. "age", "gender", "embedding" from insightface).
    """

    track_id: int
    timestamps: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None
    crops: np.ndarray | None = None
    crop_times: np.ndarray | None = None
    main: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    mouth: np.ndarray | None = None

    @property
    def crop_seconds(self) -> np.ndarray:
        """(K,) time of each crop: ``crop_times``, or the first K timestamps when a tracker gave none."""
        if self.crops is None:
            return np.zeros(0)
        return self.crop_times if self.crop_times is not None else self.timestamps[: len(self.crops)]

    @property
    def start(self) -> float:
        return float(self.timestamps[0]) if len(self.timestamps) else 0.0

    @property
    def end(self) -> float:
        return float(self.timestamps[-1]) if len(self.timestamps) else 0.0

    def summary(self) -> dict[str, Any]:
        """The JSON-able summary that goes into ``Analysis.faces``."""
        sizes = (self.boxes[:, 2] - self.boxes[:, 0]) if len(self.boxes) else np.zeros(0)
        return {
            "track_id": int(self.track_id),
            "main": bool(self.main),
            "start_s": round(self.start, 3),
            "end_s": round(self.end, 3),
            "detections": int(len(self.timestamps)),
            "mean_face_px": round(float(sizes.mean()), 1) if len(sizes) else 0.0,
            "mean_score": round(float(self.scores.mean()), 3) if len(self.scores) else 0.0,
        }


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass
class Transcript:
    """What was said: full text, detected language (ISO 639-1, e.g. "en", "zh") and timed segments;
    translation: the English translation when the language is not English ("" otherwise)."""

    text: str = ""
    language: str = ""
    language_probability: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    translation: str = ""

    @property
    def english(self) -> str:
        """The words in English: the translation where there is one, else the text itself."""
        return self.translation or self.text

    @property
    def display(self) -> str:
        """What people read: the words as said, then the English translation when there is one."""
        return f"{self.text} [English: {self.translation}]" if self.translation else self.text

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]


@dataclass(frozen=True)
class VoiceProfile:
    """Voice-quality numbers of the speech regions (eGeMAPS functionals, see speech/voice.py).

    f0_mean_st: mean pitch in semitones above 27.5 Hz (120 Hz = 25.5 st, 210 Hz = 35.2 st);
    f0_range_st: 20th-80th percentile pitch range in semitones;  alpha_ratio_db: energy 1-5 kHz over
    50 Hz-1 kHz in voiced frames (higher = tenser, brighter voice);  hammarberg_db: strongest peak 0-2 kHz
    over 2-5 kHz (lower = tenser);  hnr_db: harmonics-to-noise ratio (higher = clearer, more regular voice);
    voiced_segments_per_s: voiced stretches per second (a syllable-rate proxy);  mean_unvoiced_s: mean
    length of unvoiced stretches inside speech;  speech_seconds: how much speech was measured;
    functionals: all 88 eGeMAPSv02 functionals in openSMILE's order (what the learned voice model reads;
    empty when built by hand).
    """

    f0_mean_st: float
    f0_range_st: float
    alpha_ratio_db: float
    hammarberg_db: float
    hnr_db: float
    voiced_segments_per_s: float
    mean_unvoiced_s: float
    speech_seconds: float
    functionals: tuple[float, ...] = ()


@dataclass
class Prosody:
    """How it was said, measured on the speech regions.

    loudness_db: RMS level of speech in dBFS;  f0_*: fundamental frequency statistics in Hz;
    f0_slope_st_per_s: linear trend of the pitch contour in semitones per second (>0 rising);
    voiced_ratio: fraction of speech frames that are voiced;  speech_rate: words (or syllables) per second;
    pauses: (start, end) seconds of silences inside speech;  speech_regions: VAD (start, end) seconds.
    description: a short factual sentence, e.g. "loud, high and rising pitch, fast speech".
    voice: eGeMAPS voice-quality numbers of the speech (None without enough voiced speech);
    speaker: the same person's typical voice from their earlier speech in a session, when known.
    """

    loudness_db: float | None = None
    loudness_range_db: float | None = None
    f0_median_hz: float | None = None
    f0_min_hz: float | None = None
    f0_max_hz: float | None = None
    f0_slope_st_per_s: float | None = None
    f0_jitter: float | None = None
    voiced_ratio: float = 0.0
    speech_rate: float | None = None
    speech_rate_unit: str = "words/s"
    pauses: list[tuple[float, float]] = field(default_factory=list)
    speech_regions: list[tuple[float, float]] = field(default_factory=list)
    description: str = ""
    contour: dict[str, list[float]] = field(default_factory=dict)
    voice: VoiceProfile | None = None
    speaker: VoiceProfile | None = None

    @property
    def has_speech(self) -> bool:
        return bool(self.speech_regions)


@dataclass
class Perception:
    """Everything the perception layer measured on one clip; both engines read this."""

    clip: Clip
    faces: list[FaceTrack] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    prosody: Prosody = field(default_factory=Prosody)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def main_face(self) -> FaceTrack | None:
        return next((f for f in self.faces if f.main), None)


@dataclass
class Clues:
    """Per-modality clue sentences; empty string when a modality is absent."""

    visual: str = ""
    acoustic: str = ""
    textual: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"visual": self.visual, "acoustic": self.acoustic, "textual": self.textual}


@dataclass
class Analysis:
    """What every engine returns. ``to_dict()``/``to_json()`` keys are the public contract (docs/architecture.md).

    ``evidence``: label -> the reasons behind it (the facts the engine counted), as the page shows them.
    """

    labels: list[str]
    explanation: str
    clues: Clues = field(default_factory=Clues)
    transcript: str = ""
    language: str = ""
    faces: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] | None = None
    engine: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)

    JSON_KEYS = (
        "labels",
        "explanation",
        "clues",
        "transcript",
        "language",
        "faces",
        "timeline",
        "engine",
        "timings_ms",
        "evidence",
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "explanation": self.explanation,
            "clues": self.clues.to_dict(),
            "transcript": self.transcript,
            "language": self.language,
            "faces": list(self.faces),
            "timeline": self.timeline,
            "engine": self.engine,
            "timings_ms": {k: round(float(v), 1) for k, v in self.timings_ms.items()},
            "evidence": {label: list(reasons) for label, reasons in self.evidence.items()},
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analysis:
        clues = data.get("clues") or {}
        return cls(
            labels=list(data.get("labels", [])),
            explanation=str(data.get("explanation", "")),
            clues=Clues(**{k: str(clues.get(k, "")) for k in ("visual", "acoustic", "textual")}),
            transcript=str(data.get("transcript", "")),
            language=str(data.get("language", "")),
            faces=list(data.get("faces", [])),
            timeline=data.get("timeline"),
            engine=str(data.get("engine", "")),
            timings_ms=dict(data.get("timings_ms", {})),
            evidence={str(k): [str(r) for r in v] for k, v in (data.get("evidence") or {}).items()},
        )
