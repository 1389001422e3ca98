"""``EmotionPipeline``: owns the perception models, one engine, their device, their weights folder and the one
lock for model work, loaded once per process.

    pipeline = EmotionPipeline.create(engine="auto")      # seconds: loads the models (some on first need)
    analysis = pipeline.analyze_file("clip.mp4")           # then each clip is only inference

Engines and face detectors are chosen by name from their registries (engines/registry.py,
faces/registry.py); "auto" picks the highest-ranked one that can run here (the MLLM when its weights and a
CUDA GPU are present, else the CPU clue engine). Live, Analyze and Evaluate all go through this object, and
its lock serialises every analysis, so one pipeline can be shared by UI sessions and threads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from omni_emotion.engines.base import Engine
from omni_emotion.engines.registry import ENGINES
from omni_emotion.errors import ConfigError
from omni_emotion.paths import weights_dir as default_weights_dir
from omni_emotion.perception import Perceiver
from omni_emotion.types import Analysis, Clip, Perception, ProgressFn

if TYPE_CHECKING:  # the speech package loads scipy and the ASR stack: not at CLI start-up
    from omni_emotion.expressions import ExpressionModel
    from omni_emotion.speech.voice import SpeakerVoice

__all__ = [
    "ANALYSIS_TORCH_THREADS",
    "ENGINES",
    "EmotionPipeline",
    "PipelineSpec",
    "analysis_asr_threads",
    "resolve_engine",
]

log = logging.getLogger(__name__)

# The torch models of the CPU path are small (a 64x64 expression CNN, MiniLM on one sentence) and run beside
# the speech recogniser, which has its own threads: a second torch thread gained nothing, and with the other
# core busy the two threads waited on each other, 3-10x slower (MiniLM 0.07 s with one thread against
# 0.34-0.55 s with two, 16 expression crops 0.2 s against 0.5-0.7 s, at load 7); the outputs are the same.
ANALYSIS_TORCH_THREADS = 1


def analysis_asr_threads() -> int:
    """The speech recogniser's CPU threads for one-clip commands: all cores but one, at least 1, since the
    faces are tracked beside it. On 2 cores two threads were slower even alone: the speech of a 4 s clip took
    1.6-2.2 s against 1.4 s with one (greedy decoding waits on its threads at every token)."""
    return max(1, (os.cpu_count() or 1) - 1)


def resolve_engine(engine: str, weights_dir: str | Path | None = None) -> str:
    """The registered engine name that ``engine`` (a name or "auto") stands for on this machine."""
    folder = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    return ENGINES.resolve(engine, folder).name


@dataclass(frozen=True)
class PipelineSpec:
    """The ``EmotionPipeline.create`` arguments: small and picklable, so a worker process (a Ray actor) can
    build its own pipeline. weights_dir None: ``omni_emotion.paths.weights_dir()``. torch_threads: torch's
    CPU threads for the process (0: leave them); ``ANALYSIS_TORCH_THREADS`` is what one-clip commands use."""

    engine: str = "auto"
    device: str = "cpu"
    weights_dir: str | None = None
    face_backend: str = "auto"
    asr_threads: int = 0
    torch_threads: int = 0

    def create(self) -> EmotionPipeline:
        """The pipeline; ``torch_threads`` > 0 first sets torch's (process-wide) intra-op thread count, which
        is why only a spec, owned by a command or a worker process, carries it."""
        if self.torch_threads < 0:
            raise ConfigError(f"torch_threads must be >= 0, got {self.torch_threads}.")
        return EmotionPipeline.create(
            engine=self.engine,
            device=self.device,
            weights_dir=self.weights_dir,
            face_backend=self.face_backend,
            asr_threads=self.asr_threads,
            torch_threads=self.torch_threads,
        )


@dataclass
class EmotionPipeline:
    """A perceiver (faces + speech) and an engine on one device; use ``create`` to build one."""

    perceiver: Perceiver
    engine: Engine
    fps: float = 5.0
    num_frames: int = 8  # sampled frames kept in the Clip: the MLLM's input, the clue engine's timeline
    device: str = "cpu"
    weights_dir: Path = field(default_factory=default_weights_dir)

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.num_frames < 1:
            raise ConfigError(f"fps must be > 0 and num_frames >= 1, got {self.fps} and {self.num_frames}.")
        self.weights_dir = Path(self.weights_dir)
        # re-entrant: a caller may hold it around several calls (a whole evaluation) that each take it
        self.lock = threading.RLock()
        self._expressions: ExpressionModel | None = None

    @property
    def engine_name(self) -> str:
        return self.engine.name

    @property
    def face_backend(self) -> str:
        return getattr(self.perceiver.faces, "backend", "") if self.perceiver.faces is not None else ""

    @classmethod
    def create(
        cls,
        engine: str = "auto",
        device: str = "cpu",
        weights_dir: str | Path | None = None,
        fps: float = 5.0,
        num_frames: int | None = None,
        asr_threads: int = 0,
        face_backend: str = "auto",
        torch_threads: int = 0,
    ) -> EmotionPipeline:
        """Load the face and speech analyzers and the chosen engine (ModelNotFoundError names what is
        missing).

        engine, face_backend: names in their registries, or "auto".
        weights_dir: None = ``omni_emotion.paths.weights_dir()``.
        num_frames None: the engine entry's own count (8 for the MLLM, what it was trained with; 16 for the
        clue engine, whose expression timeline reads faces on the sampled frames).
        asr_threads: CPU threads of the speech recogniser, 0 = all cores (the live app leaves one core to its
        per-frame path).
        torch_threads: torch's CPU threads for the process (0: leave them). An engine that loads its models in
        the background (``start_loading``, the clue engine) sets them there, before its first model: the
        clip is perceived meanwhile, and perception needs no torch.
        """
        from omni_emotion.faces import load_face_analyzer
        from omni_emotion.speech import SpeechAnalyzer, SpeechConfig
        from omni_emotion.speech.asr import AsrConfig

        folder = Path(weights_dir) if weights_dir is not None else default_weights_dir()
        entry = ENGINES.resolve(engine, folder)
        t0 = time.perf_counter()
        chosen = entry.create(device, folder)
        start_loading = getattr(chosen, "start_loading", None)
        if start_loading is not None:  # first: the engine's models load while the rest is built
            start_loading(torch_threads)
        elif torch_threads:
            import torch

            torch.set_num_threads(torch_threads)
        faces = load_face_analyzer(face_backend, device=device)
        asr = AsrConfig(device=device if device.startswith("cuda") else "cpu", cpu_threads=asr_threads)
        speech = SpeechAnalyzer(SpeechConfig(asr=asr))  # checks the recogniser's files; loads on first speech
        log.info("pipeline with engine %s loaded in %.1f s", entry.name, time.perf_counter() - t0)
        return cls(
            Perceiver(faces, speech),
            chosen,
            fps=fps,
            num_frames=num_frames or entry.num_frames,
            device=device,
            weights_dir=folder,
        )

    def load_now(self) -> None:
        """Load now what otherwise loads on first need (the engine's text models, the speech recogniser). A
        live process calls it before streaming: a model loading beside the frames holds the GIL for seconds
        (imports) and took the fast path from 15-31 to 7-10 frames/s under load. tiny.en still waits for
        English speech."""
        if self.perceiver.speech is not None:
            self.perceiver.speech.load_now()
        load = getattr(self.engine, "load_now", None)
        if load is not None:
            load()

    def expression_model(self) -> ExpressionModel:
        """The facial-expression model: the engine's own when it has one, else one loaded here once, on this
        pipeline's device (ModelNotFoundError when it is not installed)."""
        if self.engine.expressions is not None:
            return self.engine.expressions
        with self.lock:
            if self._expressions is None:
                from omni_emotion.expressions import ExpressionModel

                self._expressions = ExpressionModel.load(self.device)
            return self._expressions

    def predict_expressions(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """(K, 7) expression probabilities of aligned face crops, under the model lock."""
        with self.lock:
            return np.asarray(self.expression_model().predict(list(crops)))

    def analyze_file(self, path: str | Path, progress: ProgressFn | None = None) -> Analysis:
        """Perceive and analyse one media file. Progress runs 0-0.6 for perception, 0.6-1 for the engine."""
        return self.analyze_file_with_perception(path, progress)[0]

    def analyze_file_with_perception(
        self, path: str | Path, progress: ProgressFn | None = None
    ) -> tuple[Analysis, Perception]:
        """``analyze_file`` that also returns the perception behind the analysis (face tracks with their
        aligned crops, transcript, prosody): what the app needs for face thumbnails and plots."""
        with self.lock:
            t0 = time.perf_counter()
            perception = self.perceiver.perceive_file(
                path, fps=self.fps, num_frames=self.num_frames, progress=_scaled(progress, 0.0, 0.6)
            )
            return self._analyze(perception, progress, t0), perception

    def analyze_clip(
        self,
        clip: Clip,
        progress: ProgressFn | None = None,
        speaker: SpeakerVoice | None = None,
        fresh_seconds: float | None = None,
    ) -> Analysis:
        """Perceive and analyse an in-memory clip (a live buffer).

        speaker: the session's memory of this speaker's voice; the window is read against it (as it was
        before this window), then the window's voice joins it, counting ``fresh_seconds`` of new speech.
        """
        with self.lock:
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
