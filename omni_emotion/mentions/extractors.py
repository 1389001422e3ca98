"""Label extractors: free text into a ranked label list, by rule (``RuleExtractor``, on the mention finder)
or by a language model (``LLMExtractor``, with the benchmark authors' prompt)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Protocol

from omni_emotion.mentions.find import MentionConfig, Vocabulary, find_emotion_mentions
from omni_emotion.mentions.labels import parse_labels

__all__ = [
    "AUTHORS_EXTRACTION_PROMPT",
    "EXTRACTION_CONFIG",
    "VALENCE_WORDS",
    "LLMExtractor",
    "LabelExtractor",
    "RuleExtractor",
    "WordGroups",
    "extraction_prompt",
    "parse_reply",
    "project_vocabulary",
]

# Valence words name no emotion of their own: as a modifier ("negative emotions such as fear", "a positive
# attitude") one is kept only when a description gives nothing more specific; said as what the state is, in
# a conclusion ("her emotional state is negative", "positive and confident"), it is a label like any other.
VALENCE_WORDS = frozenset(["positive", "negative", "neutral"])
_PREDICATE_END = re.compile(r"\s*(?:[.,;:!?/)]|$|(?:and|or|but|overall)\b)")

# Words the benchmark's synonym tables contain but that describe the description, not a feeling.
_META = frozenset(
    [
        "emotion",
        "emotions",
        "emotional",
        "emotionally",
        "feeling",
        "feelings",
        "feel",
        "feels",
        "felt",
        "state",
        "states",
        "mood",
        "moods",
        "expression",
        "expressions",
        "express",
        "expressed",
        "expressing",
        "facial",
        "face",
        "person",
        "people",
        "character",
        "information",
        "sense",
        "see",
        "seen",
        "determine",
        "observation",
        "observations",
        "content",
        "thought",
        "thoughts",
        "certain",
        "clear",
        "clearly",
        "related",
        "important",
        "including",
        "includes",
        "include",
        "associated",
        "speaking",
        "facing",
        "going",
        "supporting",
        "supports",
        "support",
        "personal",
        "lack",
        "question",
        "available",
        "current",
        "analyze",
        "analyzing",
        "observe",
        "observed",
        "used",
        "use",
        "here",
        "color",
        "colors",
        "left",
        "leave",
        "mean",
        "create",
        "received",
        "involved",
        "consider",
        "considering",
        "help",
        "go",
        "living",
        "significant",
        "wrong",
        "bright",
        "open",
        "closed",
        "casual",
        "distance",
        "strong",
        "intense",
        "resting",
        "engaging",
        "challenges",
        "challenging",
        "private",
        "alone",
        "participating",
        "thank",
        "affect",
        "believe",
        "expectations",
        "warm",
        "slight",
    ]
)


class WordGroups(Protocol):
    """The emotion-wheel tables as the extractor reads them (``evaluation.wheels.WheelTables`` is one):
    every known word form -> its grouping row (base word first), and the words on the wheels."""

    groups: Mapping[str, Sequence[str]]
    wheel_words: Container[str]


class LabelExtractor(Protocol):
    """Anything that turns a free-text emotion description into labels, most salient first."""

    def extract(self, text: str) -> list[str]: ...


def project_vocabulary() -> dict[str, str]:
    """The project lexicon's words and forms -> headword (empty when ``omni_emotion.lexicon`` is absent)."""
    try:
        from omni_emotion.lexicon import LEXICON
    except ImportError:
        return {}
    return {form.strip().lower(): entry.word for entry in LEXICON for form in (entry.word, *entry.forms)}


# Conclusion sentences weigh three times a plain mention, and a feeling stated as one ("she feels", "a sense
# of") twice one named in passing ("a serious face"): a label named once in passing in the clues is dropped
# beside a concluded one (below keep_ratio); one named again and again, stated, or concluded, stays.
EXTRACTION_CONFIG = MentionConfig(summary_weight=3.0, frame_weight=2.0)


class RuleExtractor:
    """Deterministic label extraction from prose using the grouping tables' vocabulary and the lexicon.

    Core words (those on the emotion wheels, their word forms, and the project lexicon) count anywhere; the
    rest of the tables' ~7,400 forms (many are everyday words: "push", "playing", "consideration") count only
    where a conclusion sentence states them as the feeling ("overall, she feels tense").
    Mentions that are negated, or not the described person's present feeling (``Mention.excluded``: someone
    else's, the past's, a thing's, a face's look, "cannot tell", words quoted from the subtitles), do not
    count; every other mention does, wherever it stands (as the benchmark's LLM extraction keeps feelings
    named among the clues), weighted by salience (conclusions, the final sentence, feelings stated as such).
    Labels are merged by base word, ranked by summed weight, and those below ``keep_ratio`` of the best are
    dropped; valence words ("positive", "negative") stand beside more specific ones only when a conclusion
    says the state is one ("her emotional state is negative"), not as a modifier ("negative emotions"); at
    most ``max_labels``.
    """

    def __init__(
        self,
        tables: WordGroups | None = None,
        *,
        max_labels: int = 6,
        keep_ratio: float = 0.5,
        config: MentionConfig = EXTRACTION_CONFIG,
    ) -> None:
        if max_labels < 1 or not 0.0 <= keep_ratio <= 1.0:
            raise ValueError(f"need max_labels >= 1 and 0 <= keep_ratio <= 1, got {max_labels}, {keep_ratio}")
        self.max_labels, self.keep_ratio, self.config = max_labels, keep_ratio, config
        lexicon = project_vocabulary()
        self._canonical: dict[str, str] = dict(lexicon)
        core = set(lexicon)
        extended: set[str] = set()
        if tables is not None:
            for form, row in tables.groups.items():
                self._canonical.setdefault(form, row[0])
                if form in tables.wheel_words or row[0] in tables.wheel_words:
                    core.add(form)
                else:
                    extended.add(form)
        self.core = frozenset(core - _META)
        self.vocabulary = Vocabulary(self.core | (extended - _META))

    def canonical(self, word: str) -> str:
        return self._canonical.get(word, word)

    def extract(self, text: str) -> list[str]:
        scores: dict[str, float] = {}
        surface: dict[str, str] = {}
        order: dict[str, int] = {}
        concluded_valence: set[str] = set()
        for m in find_emotion_mentions(text, self.vocabulary, self.config):
            if m.negated or m.excluded or (m.word not in self.core and not (m.summary and m.framed)):
                continue
            key = self.canonical(m.word)
            if key in VALENCE_WORDS and m.summary and _PREDICATE_END.match(text, m.end):
                concluded_valence.add(key)
            scores[key] = scores.get(key, 0.0) + m.weight
            surface.setdefault(key, m.word)
            order.setdefault(key, len(order))
        if any(key not in VALENCE_WORDS for key in scores):
            scores = {
                key: score
                for key, score in scores.items()
                if key not in VALENCE_WORDS or key in concluded_valence
            }
        if not scores:
            return []
        best = max(scores.values())
        ranked = sorted(scores, key=lambda k: (-scores[k], order[k]))
        return [surface[k] for k in ranked if scores[k] >= self.keep_ratio * best][: self.max_labels]


# The benchmark authors' extraction prompt, verbatim: a prompt is data, and only the same words make our LLM
# extraction comparable with theirs. Source: MERTools (github.com/zeroQiaoba/MERTools),
# MER2026/MER2026_Track2/toolkit/utils/qwen.py, reason_to_openset_qwen (the same text in MER2025_Track23);
# they send it as the only (user) message to Qwen2.5 with temperature 0.7, top_p 0.8, up to 512 new tokens.
AUTHORS_EXTRACTION_PROMPT = (
    "Please assume the role of an expert in the field of emotions. "
    "We provide clues that may be related to the emotions of the characters. Based on the provided clues, "
    "please identify the emotional states of the main character. "
    "The main character is the one with the most detailed clues. "
    "Please separate different emotional categories with commas and output only the clearly identifiable "
    "emotional categories in a list format. "
    "If none are identified, please output an empty list. "
    "Input: We cannot recognize his emotional state; Output: [] "
    "Input: His emotional state is happy, sad, and angry; Output: [happy, sad, angry] "
    "Input: {reason}; Output: "
)


def extraction_prompt(text: str) -> str:
    """The instruction for LLM extraction: the authors' prompt (``AUTHORS_EXTRACTION_PROMPT``) around
    ``text``, inserted as it is, as they insert it."""
    return AUTHORS_EXTRACTION_PROMPT.replace("{reason}", text)


# A usable label: one to four lowercase words of letters ("happy", "let down", "self-conscious").
_LABEL_SHAPE = re.compile(r"[a-z]+(?:['-][a-z]+)*(?: [a-z]+(?:['-][a-z]+)*){0,3}")
# Answers that mean "no emotion found" rather than naming one.
_NO_LABEL = frozenset({"none", "unknown", "unclear", "nothing", "no emotion", "not sure", "n/a"})


class LLMExtractor:
    """Label extraction by a language model; ``generate(prompt) -> str`` is injected (e.g. the MLLM's).

    Only usable labels are returned: one to four words of letters, not a "none"-like answer; a reply with
    none (garbage, prose, ``[]``) gives ``[]``, so callers can fall back to ``RuleExtractor``. With ``known``
    (e.g. the lexicon's word forms) a reply also needs one label that is, or contains, a known word: that
    tells an answer from fluent noise, while the reply's other labels stay open-vocabulary.
    """

    def __init__(
        self, generate: Callable[[str], str], *, max_labels: int = 10, known: Container[str] | None = None
    ) -> None:
        if max_labels < 1:
            raise ValueError(f"max_labels must be >= 1, got {max_labels}")
        self.generate = generate
        self.max_labels = max_labels
        self.known = known

    def extract(self, text: str) -> list[str]:
        labels = parse_reply(self.generate(extraction_prompt(text)))
        if self.known is not None and not any(
            label in self.known or any(word in self.known for word in label.split()) for label in labels
        ):
            return []
        return labels[: self.max_labels]


def parse_reply(reply: str) -> list[str]:
    """The usable labels of an extraction reply, in order, without duplicates.

    Reads the first bracketed list when the model adds prose around it, else the first non-empty line.
    """
    found = re.search(r"\[[^\[\]]*\]", reply)
    lines = [line for line in reply.splitlines() if line.strip()]
    labels = parse_labels(found.group() if found else lines[0] if lines else "")
    cleaned = (" ".join(label.strip(" .;:!\"'`*").split()) for label in labels)
    usable = (label for label in cleaned if _LABEL_SHAPE.fullmatch(label) and label not in _NO_LABEL)
    return list(dict.fromkeys(usable))
