"""``EmotionPipeline``: owns the perception models and one engine, loaded once per process.

    pipeline = EmotionPipeline.create(engine="auto")      # seconds: loads every model
    analysis = pipeline.analyze_file("clip.mp4")           # then each clip is only inference

"auto" picks the Omni-Emotion MLLM when its weights and a CUDA GPU are present, else the CPU clue engine.
A lock serialises analyses, so one pipeline can be shared by UI sessions and threads.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from omni_emotion.engines.base import Engine, ProgressFn
from omni_emotion.errors import ConfigError
from omni_emotion.perception import Perceiver
from omni_emotion.types import Analysis, Clip, Perception

if TYPE_CHECKING:  # the speech package loads scipy and the ASR stack: not at CLI start-up
    from omni_emotion.speech.voice import SpeakerVoice

__all__ = ["ENGINES", "EmotionPipeline", "resolve_engine"]

log = logging.getLogger(__name__)
ENGINES = ("auto", "clues", "omni")


def _omni_available(weights_dir: Path) -> bool:
    try:
        from omni_emotion.engines.omni import OmniEngine
    except ImportError:
        return False
    return bool(OmniEngine.is_available(weights_dir))


def resolve_engine(engine: str, weights_dir: str | Path = "weights") -> str:
    """The concrete engine name ("clues" or "omni") that ``engine`` stands for on this machine."""
    if engine not in ENGINES:
        raise ConfigError(f"Unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    if engine == "auto":
        return "omni" if _omni_available(Path(weights_dir)) else "clues"
    return engine


@dataclass
class EmotionPipeline:
    """A perceiver (faces + speech) and an engine; use ``create`` to build one."""

    perceiver: Perceiver
    engine: Engine
    fps: float = 5.0
    num_frames: int = 8  # sampled frames kept in the Clip: the MLLM's input, the clue engine's expression timeline

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.num_frames < 1:
            raise ConfigError(f"fps must be > 0 and num_frames >= 1, got {self.fps} and {self.num_frames}.")
        self._lock = threading.Lock()

    @property
    def engine_name(self) -> str:
        return self.engine.name

    @classmethod
    def create(cls, engine: str = "auto", device: str = "cpu", weights_dir: str | Path = "weights",
               fps: float = 5.0, num_frames: int | None = None, asr_threads: int = 0) -> EmotionPipeline:
        """Load the face and speech analyzers and the chosen engine (ModelNotFoundError names what is missing).

        num_frames None: 8 for the MLLM (what it was trained with), 16 for the clue engine, whose expression
        timeline reads faces on the sampled frames (decoding 8 more frames costs tens of milliseconds).
        asr_threads: CPU threads of the speech recogniser, 0 = all cores (the live app leaves one core to its
        per-frame path).
        """
        from omni_emotion.faces import load_face_analyzer
        from omni_emotion.speech import SpeechAnalyzer, SpeechConfig
        from omni_emotion.speech.asr import AsrConfig

        name = resolve_engine(engine, weights_dir)
        t0 = time.perf_counter()
        faces = load_face_analyzer(device=device)
        asr = AsrConfig(device=device if device.startswith("cuda") else "cpu", cpu_threads=asr_threads)
        speech = SpeechAnalyzer(SpeechConfig(asr=asr))
        if name == "omni":
            from omni_emotion.engines.omni import OmniEngine

            chosen: Engine = OmniEngine.load(weights_dir, device=None if device == "cpu" else device)
        else:
            from omni_emotion.engines.clues import ClueEngine, ClueEngineConfig

            chosen = ClueEngine(ClueEngineConfig(device=device))
        log.info("pipeline with engine %s loaded in %.1f s", name, time.perf_counter() - t0)
        if num_frames is None:
            num_frames = 8 if name == "omni" else 16
        return cls(Perceiver(faces, speech), chosen, fps=fps, num_frames=num_frames)

    def analyze_file(self, path: str | Path, progress: ProgressFn | None = None) -> Analysis:
        """Perceive and analyse one media file. Progress runs 0-0.6 for perception, 0.6-1 for the engine."""
        return self.analyze_file_with_perception(path, progress)[0]

    def analyze_file_with_perception(self, path: str | Path, progress: ProgressFn | None = None
                                     ) -> tuple[Analysis, Perception]:
        """``analyze_file`` that also returns the perception behind the analysis (face tracks with their
        aligned crops, transcript, prosody): what the app needs for face thumbnails and plots."""
        with self._lock:
            t0 = time.perf_counter()
            perception = self.perceiver.perceive_file(path, fps=self.fps, num_frames=self.num_frames,
                                                      progress=_scaled(progress, 0.0, 0.6))
            return self._analyze(perception, progress, t0), perception

    def analyze_clip(self, clip: Clip, progress: ProgressFn | None = None, speaker: SpeakerVoice | None = None,
                     fresh_seconds: float | None = None) -> Analysis:
        """Perceive and analyse an in-memory clip (a live buffer).

        speaker: the session's memory of this speaker's voice; the window is read against it (as it was
        before this window), then the window's voice joins it, counting ``fresh_seconds`` of new speech.
        """
        with self._lock:
            t0 = time.perf_counter()
            perception = self.perceiver.perceive_clip(clip, progress=_scaled(progress, 0.0, 0.6))
            if speaker is not None:
                voice = perception.prosody.voice
                perception.prosody = replace(perception.prosody, speaker=speaker.typical())
                speaker.add(voice, fresh_seconds)
            return self._analyze(perception, progress, t0)

    def _analyze(self, perception: Perception, progress: ProgressFn | None, t0: float) -> Analysis:
        analysis = self.engine.analyze(perception, progress=_scaled(progress, 0.6, 1.0))
        analysis.timings_ms["total"] = 1e3 * (time.perf_counter() - t0)
        return analysis


def _scaled(progress: ProgressFn | None, start: float, end: float) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda fraction, message: progress(start + (end - start) * fraction, message)
