"""Emotion words in text: label lists, mentions in prose, and label extractors (rule-based or LLM).

A low layer (docs/architecture.md): the clue engine reads the transcript with it, the omni engine reads its
own answer with it, and the evaluation reads other models' free-text answers with it.

Models answer in prose ("...his expressions suggest anger rather than fear; overall he feels frustrated"),
while the EW metric scores label lists. ``find_emotion_mentions`` is the reusable core: it finds vocabulary
words and multi-word phrases in text and marks each mention as negated ("not angry", "no sign of fear",
"rather than happy") or hedged ("may be", "seems", "possibly"), with a salience weight that favours
conclusion sentences and the final summary. ``RuleExtractor`` turns mentions into a ranked label list;
``LLMExtractor`` asks a language model (the benchmark's approach) through an injected ``generate`` callable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "AUTHORS_EXTRACTION_PROMPT",
    "LLMExtractor",
    "LabelExtractor",
    "Mention",
    "MentionConfig",
    "RuleExtractor",
    "Vocabulary",
    "WordGroups",
    "extraction_prompt",
    "find_emotion_mentions",
    "parse_labels",
    "parse_reply",
    "project_vocabulary",
    "split_list_string",
]

_TOKEN = re.compile(r"[a-z]+(?:['’-][a-z]+)*|[.!?;:]+|,|\n")
_SENTENCE_END = frozenset({".", "!", "?", "\n", ";", ":"})
_NEGATORS = frozenset(
    "not no never without nor neither hardly barely nothing none cannot lack lacks lacking lacked absence "
    "absent free".split()
)
_NEGATOR_PHRASES = (("rather", "than"), ("instead", "of"), ("other", "than"), ("far", "from"))
_NOT_NEGATING_NEXT = frozenset({"only", "just", "merely", "simply", "doubt", "to", "mention"})
_CONTRAST = frozenset("but however yet although though whereas while instead except".split())
_HEDGES = frozenset(
    "may might could possibly possible perhaps maybe seem seems seemed seemingly appear appears appeared "
    "probably potential potentially slight slightly somewhat hint hints suggest suggests suggesting "
    "uncertain unclear".split()
)
_SUMMARY = re.compile(
    r"\b(in conclusion|in summary|to summari[sz]e|to sum up|overall|all in all|in general|therefore|thus|"
    r"emotional states?|emotions? (?:is|are|of)|inferr?ed|infer|conclude|conclusion)\b"
)
# Words the benchmark's synonym tables contain but that describe the description, not a feeling.
_META = frozenset(
    "emotion emotions emotional emotionally feeling feelings feel feels felt state states mood moods "
    "expression expressions express expressed expressing facial face person people character information "
    "sense see seen determine observation observations content thought thoughts certain clear clearly "
    "related "
    "important including includes include associated speaking facing going supporting supports support "
    "personal lack question available current analyze analyzing observe observed used use here color colors "
    "left leave mean create received involved consider considering help go living significant wrong bright "
    "open closed casual distance strong intense resting engaging challenges challenging private alone "
    "participating thank affect believe expectations warm slight".split()
)


_SPLIT = re.compile(r"['\",]")


def split_list_string(text: str) -> list[str]:
    """Split a list-like string the way the benchmark's authors do: ``"['a', 'b']"`` -> ``['a', 'b']``.

    One leading ``[`` and one trailing ``]`` are removed, then the rest is cut at quotes and commas and each
    piece is stripped; empty pieces are dropped. Case is kept (callers lowercase where the authors do).
    """
    text = text.strip()
    if text.startswith("["):
        text = text[1:]
    if text.endswith("]"):
        text = text[:-1]
    return [piece.strip() for piece in _SPLIT.split(text) if piece.strip()]


def parse_labels(value: str | Iterable[str] | None) -> list[str]:
    """Labels from a list-like string (``"['a', 'b']"``, ``"[a, b]"``, ``"a, b"``) or a list, lowercased.

    Empty pieces are dropped; order and duplicates are kept (scoring works on sets).
    """
    if value is None:
        return []
    pieces = split_list_string(value) if isinstance(value, str) else [str(v) for v in value]
    return [p.strip().lower() for p in pieces if p.strip()]


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Lowercase tokens with character spans; punctuation that ends clauses is kept as its own token."""
    lowered = text.lower()
    return [(m.group().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(lowered)]


class Vocabulary:
    """A set of words and multi-word phrases compiled for matching (longest phrase first)."""

    def __init__(self, words: Iterable[str]) -> None:
        self._first: dict[str, list[tuple[str, ...]]] = {}
        self.words: frozenset[str] = frozenset(w.strip().lower() for w in words if w and w.strip())
        for word in self.words:
            parts = tuple(tok for tok, _, _ in _tokens(word) if tok not in _SENTENCE_END and tok != ",")
            if parts:
                self._first.setdefault(parts[0], []).append(parts)
        for phrases in self._first.values():
            phrases.sort(key=len, reverse=True)

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def __len__(self) -> int:
        return len(self.words)

    def match(self, tokens: list[str], i: int) -> int:
        """Length (in tokens) of the longest phrase starting at ``tokens[i]``; 0 when none."""
        for phrase in self._first.get(tokens[i], ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                return len(phrase)
        return 0


@dataclass(frozen=True)
class MentionConfig:
    """How mentions are weighted. Scopes are in tokens; weights multiply a base weight of 1."""

    negation_scope: int = 6
    hedge_scope: int = 8
    hedge_weight: float = 0.75
    summary_weight: float = 2.0
    final_weight: float = 1.5

    def __post_init__(self) -> None:
        if self.negation_scope < 1 or self.hedge_scope < 1:
            raise ValueError("negation_scope and hedge_scope must be >= 1 token")
        for name in ("hedge_weight", "summary_weight", "final_weight"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class Mention:
    """One emotion word or phrase found in text.

    word: the vocabulary entry (lowercase); start/end: character offsets in the original text;
    negated: asserted as absent ("not angry"); hedged: softened ("may be angry"); weight: salience >= 0
    (0 when negated; higher in conclusion sentences and the final summary); summary: the mention sits in a
    conclusion sentence ("overall", "in conclusion", "emotional state is", ...).
    """

    word: str
    start: int
    end: int
    negated: bool
    hedged: bool
    weight: float
    summary: bool = False


def _negator_length(tokens: list[str], i: int) -> int:
    """Tokens taken by a negation cue starting at ``i`` (0 when there is none)."""
    tok = tokens[i]
    for phrase in _NEGATOR_PHRASES:
        if tuple(tokens[i : i + len(phrase)]) == phrase:
            return len(phrase)
    if tok == "free" and (i + 1 >= len(tokens) or tokens[i + 1] != "of"):
        return 0
    if tok in _NEGATORS or tok.endswith("n't"):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        return 0 if nxt in _NOT_NEGATING_NEXT else 1
    return 0


def find_emotion_mentions(
    text: str, vocabulary: Vocabulary | Iterable[str], config: MentionConfig = MentionConfig()
) -> list[Mention]:
    """Every vocabulary word or phrase in ``text``, in order, with negation, hedging and salience.

    Negation reaches ``negation_scope`` tokens past a cue ("not", "no", "without", "n't", "rather than",
    "instead of", "lack of", ...) and carries through a coordinated list ("no fear, anger or sadness"); it
    stops at sentence punctuation and contrast words ("but", "however"). "not only" does not negate.
    """
    vocab = vocabulary if isinstance(vocabulary, Vocabulary) else Vocabulary(vocabulary)
    spans = _tokens(text)
    tokens = [tok for tok, _, _ in spans]
    # Sentence boundaries decide which mentions sit in a conclusion or in the final sentence.
    sentence_of, sentences, start = [], [], 0
    for i, tok in enumerate(tokens):
        sentence_of.append(len(sentences))
        if tok in _SENTENCE_END and tok != ":" and tok != ";":
            sentences.append((start, i + 1))
            start = i + 1
    sentences.append((start, len(tokens)))
    summary = [
        bool(_SUMMARY.search(text[spans[a][1] : spans[b - 1][2]].lower())) if b > a else False
        for a, b in sentences
    ]

    raw: list[tuple[str, int, int, bool, bool, int]] = []
    negation_left = hedge_left = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _SENTENCE_END or tok in _CONTRAST:
            negation_left = hedge_left = 0
            i += 1
            continue
        if tok == ",":
            # A comma ends the negation unless a list of emotions goes on ("no fear, anger or sadness").
            continues_list = i + 1 < len(tokens) and (
                tokens[i + 1] in ("or", "and", "nor") or vocab.match(tokens, i + 1)
            )
            if not continues_list:
                negation_left = 0
            i += 1
            continue
        length = vocab.match(tokens, i)
        if length:
            end = i + length
            raw.append(
                (
                    " ".join(tokens[i:end]),
                    spans[i][1],
                    spans[end - 1][2],
                    negation_left > 0,
                    hedge_left > 0,
                    sentence_of[i],
                )
            )
            if negation_left > 0:
                negation_left = max(negation_left, 3)  # carry through "fear, anger or sadness"
            i = end
            continue
        cue = _negator_length(tokens, i)
        if cue:
            negation_left = config.negation_scope
            i += cue
            continue
        if tok in _HEDGES:
            hedge_left = config.hedge_scope + 1
        negation_left = max(negation_left - 1, 0)
        hedge_left = max(hedge_left - 1, 0)
        i += 1

    last_sentence = max((s for *_, s in raw), default=-1)
    mentions = []
    for word, a, b, negated, hedged, sent in raw:
        weight = 0.0
        if not negated:
            weight = config.hedge_weight if hedged else 1.0
            if summary[sent]:
                weight *= config.summary_weight
            if sent == last_sentence:
                weight *= config.final_weight
        mentions.append(Mention(word, a, b, negated, hedged, weight, summary[sent]))
    return mentions


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


class RuleExtractor:
    """Deterministic label extraction from prose using the grouping tables' vocabulary and the lexicon.

    Core words (those on the emotion wheels, their word forms, and the project lexicon) count anywhere; the
    rest of the tables' ~7,400 forms (many are everyday synonyms) count only inside conclusion sentences.
    Labels are merged by base word, ranked by summed mention weight, and those below ``keep_ratio`` of the
    best are dropped; at most ``max_labels`` are returned.
    """

    def __init__(
        self,
        tables: WordGroups | None = None,
        *,
        max_labels: int = 6,
        keep_ratio: float = 0.3,
        config: MentionConfig = MentionConfig(),
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
        mentions = find_emotion_mentions(text, self.vocabulary, self.config)
        any_summary = any(m.summary and not m.negated for m in mentions)
        for m in mentions:
            if m.negated or (m.word not in self.core and not m.summary):
                continue
            if any_summary and not m.summary:
                continue
            key = self.canonical(m.word)
            scores[key] = scores.get(key, 0.0) + m.weight
            surface.setdefault(key, m.word)
            order.setdefault(key, len(order))
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
