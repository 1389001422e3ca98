"""The "omni" engine: the Omni-Emotion MLLM answers two prompts per clip -- open-vocabulary labels and a
clue-citing explanation -- streaming tokens; labels are then extracted from the explanation by the same
model in a text-only turn (mentions.LLMExtractor), with the rule extractor as the fallback.

Two modes, read from the model folder (``OmniEmotionConfig.untrained_modules``). Zero-shot, while neither the
face nor the audio projector is trained (what `weights init` assembles): only LLaVA-OneVision's pretrained
video path sees the clip, and the CPU perception's clues enter the prompt as text -- the transcript (its
English translation when not English), the prosody sentence and the main face's expression timeline.
Trained: the full model (video, face and audio streams whose projectors were trained) and the transcript.

Loads once: bf16 on CUDA; fp32 on CPU (with a warning: usable for tests, far too slow for people).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from omni_emotion.engines.registry import omni_available as is_available
from omni_emotion.errors import DeviceUnavailableError, ModelNotFoundError
from omni_emotion.mentions import LLMExtractor, RuleExtractor, project_vocabulary
from omni_emotion.model.prompts import EXPLAIN_PROMPT, LABELS_PROMPT, user_prompt
from omni_emotion.types import Analysis, Clues, Perception, ProgressFn

__all__ = [
    "EXPLAIN_PROMPT",
    "LABELS_PROMPT",
    "OmniEngine",
    "OmniEngineConfig",
    "choose_labels",
    "expression_timeline",
    "is_available",
    "load_engine",
    "split_clues",
    "text_prompt",
    "user_prompt",
    "zero_shot_prompt",
]

log = logging.getLogger(__name__)

_VISUAL = re.compile(
    r"\b(face|facial|eyes?|eyebrows?|brows?|gaze|smil\w*|frown\w*|mouth|lips?|head|posture|gestur\w*|look\w*)\b",
    re.IGNORECASE,
)
_ACOUSTIC = re.compile(
    r"\b(voice|tone|pitch|loud\w*|volume|pace|speech rate|intonation|sigh\w*|trembl\w*|shout\w*|whisper\w*)\b",
    re.IGNORECASE,
)
_TEXTUAL = re.compile(r"\b(says?|said|words?|subtitle|sentence|text|mentions?|tells?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class OmniEngineConfig:
    max_new_tokens_labels: int = 32
    max_new_tokens_explanation: int = 256
    # the extraction reply is a short bracketed list of emotion words ("[frustrated, angry]")
    max_new_tokens_extraction: int = 40
    max_transcript_chars: int = 1000
    # zero-shot prompt: at most this many windows of the face's expression timeline
    max_timeline_windows: int = 12

    def __post_init__(self) -> None:
        limits = (
            self.max_new_tokens_labels,
            self.max_new_tokens_explanation,
            self.max_new_tokens_extraction,
            self.max_transcript_chars,
            self.max_timeline_windows,
        )
        if min(limits) < 1:
            raise ValueError("token and character limits must be >= 1")


def expression_timeline(perception: Perception, expressions, max_windows: int = 12) -> str:
    """The main face's expression over time, one FER class per window, e.g. "0-1 s neutral (0.62); 1-2 s
    happy (0.71)"; "" without a face. Windows are 1 s, longer when the face spans more than ``max_windows``."""
    from omni_emotion.engines.clue_visual import timeline_windows, visual_clues

    clues = visual_clues(perception, expressions)
    if not clues.has_face:
        return ""
    span = float(clues.times[-1] - clues.times[0])
    windows = timeline_windows(clues, window_s=max(1.0, span / max_windows))
    return "; ".join(
        f"{w['start_s']:g}-{w['end_s']:g} s {w['top']} ({w['scores'][w['top']]:.2f})"
        for w in windows[:max_windows]
    )


def zero_shot_prompt(task: str, perception: Perception, timeline: str, max_chars: int = 1000) -> str:
    """The task preceded by the CPU perception's clues as text (the parts that were measured)."""
    lines = []
    said = perception.transcript.english.strip()[:max_chars]
    if said:
        lines.append(f'The person says: "{said}"')
    if perception.prosody.description:
        lines.append(f"Their voice: {perception.prosody.description}.")
    if timeline:
        lines.append(f"Their facial expression over time: {timeline}.")
    return "\n".join([*lines, task])


def text_prompt(user_text: str) -> str:
    """A text-only ChatML turn after LLaVA-OneVision's system turn. Unlike ``model.layout.chat_prompt`` it has
    no media block: extraction is a reading task for the LLM decoder, and empty media markers would announce a
    clip that is not there."""
    from omni_emotion.model.layout import DEFAULT_SYSTEM_PROMPT  # the model package imports transformers

    return (
        f"<|im_start|>system\n{DEFAULT_SYSTEM_PROMPT}<|im_end|>\n"
        f"<|im_start|>user\n{user_text}<|im_end|>\n<|im_start|>assistant\n"
    )


def split_clues(explanation: str) -> Clues:
    """Sort the explanation's sentences into visual / acoustic / textual clues by what they talk about."""
    buckets: dict[str, list[str]] = {"visual": [], "acoustic": [], "textual": []}
    for sentence in re.split(r"(?<=[.!?])\s+", explanation.strip()):
        for name, pattern in (("visual", _VISUAL), ("acoustic", _ACOUSTIC), ("textual", _TEXTUAL)):
            if sentence and pattern.search(sentence):
                buckets[name].append(sentence)
    return Clues(**{k: " ".join(v) for k, v in buckets.items()})


def choose_labels(explanation: str, label_answer: str) -> list[str]:
    """Labels the rule extractor finds in the explanation; the direct label answer when it finds nothing."""
    extracted = RuleExtractor().extract(explanation)
    if extracted:
        return extracted
    words = [w.strip(" .;:!\"'[]()").lower() for w in re.split(r"[,\n;]", label_answer)]
    return list(dict.fromkeys(w for w in words if w and len(w.split()) <= 3))


class OmniEngine:
    """``analyze(perception)`` -> Analysis from the MLLM; ``stream(perception, task)`` yields text pieces."""

    name = "omni"

    def __init__(
        self,
        model,
        processor,
        *,
        device: torch.device,
        config: OmniEngineConfig = OmniEngineConfig(),
        expressions=None,
    ):
        """``expressions``: the ExpressionModel for the zero-shot prompt's face timeline (None: no timeline)."""
        self.model = model.eval()
        self.zero_shot = bool(model.config.zero_shot)
        # the prompt layout follows what is trained now, not what the folder's processor config says
        self.processor = type(processor)(
            processor.tokenizer, dataclasses.replace(processor.config, zero_shot=self.zero_shot)
        )
        self.device = device
        self.config = config
        self.expressions = expressions
        # word forms that show the model's extraction reply is an answer, not noise (see LLMExtractor)
        self._known = frozenset(project_vocabulary()) or None

    @classmethod
    def load(
        cls,
        weights_dir: Path | str,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        config: OmniEngineConfig = OmniEngineConfig(),
    ) -> OmniEngine:
        from omni_emotion.model import OmniEmotionForConditionalGeneration, OmniEmotionProcessor
        from omni_emotion.weights import find_omni_checkpoint, omni_missing_files

        folder = find_omni_checkpoint(Path(weights_dir))
        if folder is None:
            missing = ", ".join(omni_missing_files(Path(weights_dir)))
            raise ModelNotFoundError(
                f"no Omni-Emotion model in {weights_dir} (missing {missing}); run `omni-emotion weights init`"
            )
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceUnavailableError("the omni engine was asked for CUDA but no CUDA GPU is available")
        if dtype is None:
            dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        if device.type == "cpu":
            log.warning("running the Omni-Emotion MLLM on the CPU in %s: expect minutes per clip", dtype)
        model = OmniEmotionForConditionalGeneration.from_pretrained(folder, dtype=dtype).to(device)
        # the settings the model was trained with (e.g. fewer frames), saved beside it
        processor = OmniEmotionProcessor.from_pretrained(folder)
        expressions = None
        if model.config.zero_shot:
            from omni_emotion.expressions import ExpressionModel

            log.info(
                "omni engine: zero-shot (face and audio projectors untrained); clues go in the prompt as text"
            )
            try:
                expressions = ExpressionModel.load("cpu")
            except ModelNotFoundError as err:
                log.warning("zero-shot prompts will lack the face's expression timeline: %s", err)
        return cls(model, processor, device=device, config=config, expressions=expressions)

    def timeline(self, perception: Perception) -> str:
        """The main face's expression timeline for zero-shot prompts ("" without an expression model)."""
        if self.expressions is None:
            return ""
        return expression_timeline(perception, self.expressions, self.config.max_timeline_windows)

    def prompt(self, perception: Perception, task: str, timeline: str | None = None) -> str:
        """The user text for ``task``: with the perception's clues in zero-shot mode, the transcript otherwise.
        ``timeline``: ``self.timeline(perception)`` when already computed."""
        if self.zero_shot:
            timeline = self.timeline(perception) if timeline is None else timeline
            return zero_shot_prompt(task, perception, timeline, self.config.max_transcript_chars)
        return user_prompt(task, perception.transcript.english, self.config.max_transcript_chars)

    def _inputs(
        self, perception: Perception, task: str, timeline: str | None = None
    ) -> dict[str, torch.Tensor]:
        text = self.prompt(perception, task, timeline)
        inputs = self.processor(perception.clip, perception.main_face, text)
        dtype = self.model.dtype
        return {
            k: v.to(self.device, dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in inputs.items()
        }

    def stream(
        self, perception: Perception, task: str, max_new_tokens: int, *, timeline: str | None = None
    ) -> Iterator[str]:
        """Greedy generation for ``task``; yields decoded text pieces as tokens arrive. ``timeline``: the
        zero-shot prompt's expression timeline when already computed (see ``prompt``)."""
        from transformers import TextIteratorStreamer

        inputs = self._inputs(perception, task, timeline)
        streamer = TextIteratorStreamer(self.processor.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[Exception] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(
                        **inputs, streamer=streamer, max_new_tokens=max_new_tokens, do_sample=False
                    )
            except Exception as err:
                errors.append(err)
                streamer.end()

        worker = threading.Thread(target=run, name="omni-generate", daemon=True)
        worker.start()
        try:
            yield from streamer
        finally:
            worker.join()
        if errors:
            raise errors[0]

    def generate_text(self, prompt: str, max_new_tokens: int | None = None) -> str:
        """Greedy text-only answer to ``prompt`` (no video, face or audio features); the reply, stripped.

        ``max_new_tokens`` defaults to ``config.max_new_tokens_extraction``.
        """
        if max_new_tokens is None:
            max_new_tokens = self.config.max_new_tokens_extraction
        tokenizer = self.processor.tokenizer
        ids = tokenizer(text_prompt(prompt), add_special_tokens=False, return_tensors="pt").input_ids
        ids = ids.to(self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
            )
        return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()

    def extract_labels(self, explanation: str, label_answer: str = "") -> list[str]:
        """Labels from ``explanation`` by this model (LLMExtractor over ``generate_text``); when its reply has
        no usable label, ``choose_labels`` (the rule extractor, then the direct ``label_answer``)."""
        if explanation.strip():
            labels = LLMExtractor(self.generate_text, known=self._known).extract(explanation)
            if labels:
                return labels
            log.debug("the model's label extraction gave no usable label; using the rule extractor")
        return choose_labels(explanation, label_answer)

    def analyze(self, perception: Perception, progress: ProgressFn | None = None) -> Analysis:
        timings = dict(perception.timings_ms)
        start = time.perf_counter()
        report = progress or (lambda fraction, text: None)
        report(0.0, "omni: labels")
        # the expression model runs once per clip, not once per prompt
        timeline = self.timeline(perception) if self.zero_shot else ""
        label_answer = "".join(
            self.stream(perception, LABELS_PROMPT, self.config.max_new_tokens_labels, timeline=timeline)
        )
        timings["omni_labels"] = (time.perf_counter() - start) * 1000
        pieces: list[str] = []
        budget = self.config.max_new_tokens_explanation
        for piece in self.stream(perception, EXPLAIN_PROMPT, budget, timeline=timeline):
            pieces.append(piece)
            report(0.3 + 0.6 * min(len(pieces) / budget, 1.0), "omni: explanation")
        explanation = "".join(pieces).strip()
        timings["omni_explanation"] = (time.perf_counter() - start) * 1000 - timings["omni_labels"]
        report(0.9, "omni: labels from the explanation")
        labels = self.extract_labels(explanation, label_answer)
        timings["omni_extraction"] = (
            (time.perf_counter() - start) * 1000 - timings["omni_labels"] - timings["omni_explanation"]
        )
        timings["omni_total"] = (time.perf_counter() - start) * 1000
        report(1.0, "omni: done")
        return Analysis(
            labels=labels,
            explanation=explanation,
            clues=split_clues(explanation),
            transcript=perception.transcript.display,
            language=perception.transcript.language,
            faces=[f.summary() for f in perception.faces],
            engine=self.name,
            timings_ms=timings,
        )


def load_engine(device: str, weights_dir: Path) -> OmniEngine:
    """The registry's factory: "cpu" lets the engine pick (CUDA when present, else a warned CPU run)."""
    return OmniEngine.load(weights_dir, device=None if device == "cpu" else device)
