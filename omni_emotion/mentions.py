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
# "it sounds like", "looks like": an impression, hedged like "seems".
_LIKE_VERBS = frozenset("sound sounds sounded look looks looked feel feels felt seem seems seemed".split())
_SUMMARY = re.compile(
    r"\b(in conclusion|in summary|to summari[sz]e|to sum up|overall|all in all|in general|therefore|thus|"
    r"emotional states?|emotions? (?:is|are|of)|inferr?ed|infer|conclude|conclusion)\b"
)
# Who a feeling belongs to, and when: an emotion predicated of someone other than the described person ("her
# friend is angry", "the other man looks sad"), set in the past ("she was sad before", "at first he was
# calm"), or describing a thing ("a pleasant atmosphere", "a calm room") is not the person's state now.
_RELATIONS = frozenset(
    "friend friends mother father mom dad parent parents husband wife son daughter brother sister boyfriend "
    "girlfriend colleague colleagues boss partner companion companions child children family teacher "
    "classmate classmates neighbor neighbour neighbors neighbours opponent opponents interlocutor".split()
)
_OTHERS = frozenset("others everyone everybody crowd audience onlookers bystanders".split())
_PERSON_NOUNS = frozenset(
    "man woman person people character characters one ones party girl boy guy lady".split()
)
_POSSESSIVES = frozenset("his her their my your our its".split())
_LINKING = frozenset(
    "is are was were be been being seem seems seemed look looks looked appear appears appeared feel feels "
    "felt sound sounds sounded become becomes became get gets got remain remains remained".split()
)
_MAIN_PERSON = frozenset("he she i character person speaker protagonist".split())
_BARE_LINKING = frozenset("feel look seem become get".split())
_MAIN_OBJECT = frozenset("him her his me my".split())  # the described person when next to the feeling
_DETERMINERS = frozenset("the a an this that these those his her their its my your our some any".split())
_NOT_HABIT = frozenset(  # "is used to show": "used to" of habit, not of the past
    "is are was were be been being often commonly usually typically generally also".split()
)
_PAST_MARKERS = frozenset("earlier previously formerly initially originally".split())
_PAST_PHRASES = (("used", "to"), ("at", "first"), ("in", "the", "past"), ("at", "the", "beginning"))
_CLAUSE_END_AFTER_BEFORE = frozenset({".", "!", "?", "\n", ";", ":", ",", "but", "and", "now", "yet"})
_THINGS = frozenset(
    "atmosphere environment environments setting settings scene scenes room rooms space spaces place places "
    "music background backgrounds weather day occasion event events surroundings ambiance ambience lighting "
    "colors colours color colour decor furniture landscape scenery outfit clothing clothes dress song songs "
    "film movie video videos story stories news topic topics conversation conversations situation "
    "situations interaction interactions gathering party celebration home house office street".split()
)
# What a face or body shows ("a serious expression", "a calm demeanor", "a positive attitude") describes how
# the person looks, not a feeling stated as theirs: the benchmark's extraction model mostly leaves it out.
_APPEARANCE = frozenset("expression expressions demeanor demeanour posture gaze attitude language".split())
# Predicates that say the description cannot tell ("her emotional state is unclear"), when their subject is
# the feeling itself rather than the person ("he is uncertain" stays a label).
_UNKNOWABLE = frozenset("uncertain unclear unknown undetermined ambiguous indeterminate".split())
_FEELING_NOUNS = frozenset("state states emotion emotions feeling feelings mood moods it situation".split())
# Valence words name no emotion of their own: as a modifier ("negative emotions such as fear", "a positive
# attitude") one is kept only when a description gives nothing more specific; said as what the state is, in
# a conclusion ("her emotional state is negative", "positive and confident"), it is a label like any other.
VALENCE_WORDS = frozenset("positive negative neutral".split())
_PREDICATE_END = re.compile(r"\s*(?:[.,;:!?/)]|$|(?:and|or|but|overall)\b)")

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
    frame_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.negation_scope < 1 or self.hedge_scope < 1:
            raise ValueError("negation_scope and hedge_scope must be >= 1 token")
        for name in ("hedge_weight", "summary_weight", "final_weight", "frame_weight"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class Mention:
    """One emotion word or phrase found in text.

    word: the vocabulary entry (lowercase); start/end: character offsets in the original text;
    negated: asserted as absent ("not angry"); hedged: softened ("may be angry"); weight: salience >= 0
    (0 when negated or excluded; higher in conclusion sentences, the final summary and stated feelings);
    summary: the mention sits in a conclusion sentence ("overall", "in conclusion", "emotional state is",
    ...); excluded: why the word is not the described person's feeling now, else "": "someone else" ("her
    friend is angry"), "past" ("she was sad before"), "a thing" ("a calm room"), "cannot tell" ("his
    emotional state is unclear"), "appearance" ("a serious expression", "a calm demeanor": how the face or
    body looks, not a feeling stated as the person's), "quoted" (inside double quotes: words the person
    says, which are evidence for a feeling, not a name for it); framed: stated as a feeling ("she feels",
    "feelings of", "a sense of", "the woman looks"), or listed right after one that is ("feelings of
    loneliness, isolation, or even depression").
    """

    word: str
    start: int
    end: int
    negated: bool
    hedged: bool
    weight: float
    summary: bool = False
    excluded: str = ""
    framed: bool = False


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


def _bounds(tokens: list[str], i: int, stops: Container[str]) -> tuple[int, int]:
    """The span around token ``i`` between the nearest stop tokens (sentence ends, contrast words, ...)."""
    a = i
    while a > 0 and tokens[a - 1] not in stops:
        a -= 1
    b = i
    while b < len(tokens) and tokens[b] not in stops:
        b += 1
    return a, b


_CLAUSE_STOPS = _SENTENCE_END | _CONTRAST
_SEGMENT_STOPS = _CLAUSE_STOPS | {","}


def _is_other_person(tokens: list[str], j: int) -> bool:
    """Token ``j`` names someone other than the described person: "her friend", "the other man", "others"."""
    tok = tokens[j].removesuffix("'s")
    before = tokens[j - 1] if j > 0 else ""
    if tok in _RELATIONS:
        return before in _POSSESSIVES or before.endswith("'s")
    if tok in ("other", "another"):
        return j + 1 < len(tokens) and tokens[j + 1].removesuffix("'s") in _PERSON_NOUNS
    return tok in _OTHERS or (tok in ("someone", "somebody") and tokens[j + 1 : j + 2] == ["else"])


def _other_person_subject(tokens: list[str], a: int, i: int) -> bool:
    """Someone other than the described person is the subject the feeling at ``i`` is predicated of: "her
    friend is angry", "his wife's anger"; a later mention of the described person ("... makes her sad")
    takes the feeling back."""
    for j in range(i - 1, a - 1, -1):
        if tokens[j] in _MAIN_PERSON and not (j > 0 and tokens[j - 1] in ("other", "another")):
            return False
        if tokens[j] in _MAIN_OBJECT and (j == i - 1 or (j == i - 2 and tokens[i - 1] in _BARE_LINKING)):
            return False  # "makes her sad", "makes him feel sad"
        if _is_other_person(tokens, j):
            if tokens[j].endswith("'s") and j == i - 1:
                return True
            # the other person's own verb: "her friend is", "the other man looks", "everyone around her seems"
            verb = next((k for k in range(j + 1, min(j + 4, i)) if tokens[k] in _LINKING), None)
            return verb is not None and not {"and", "or"} & set(tokens[j + 1 : verb])
    return False


def _is_past(tokens: list[str], a: int, b: int, i: int) -> bool:
    """A past-time marker in the mention's comma-bounded segment (or a lone fronted one: "At first, he was
    calm") and no "now" between them: "she was sad before", "he used to be calm"."""
    if a >= 2 and tokens[a - 1] == ",":  # "Initially, ..." / "At first, ...": the marker is its own segment
        head = _bounds(tokens, a - 2, _SEGMENT_STOPS)[0]
        if a - 1 - head <= 3:
            a = head
    for j in range(a, b):
        past = tokens[j] in _PAST_MARKERS or any(tuple(tokens[j : j + len(p)]) == p for p in _PAST_PHRASES)
        past = past and not (tokens[j] == "used" and j > 0 and tokens[j - 1] in _NOT_HABIT)
        ends = j + 1 >= len(tokens) or tokens[j + 1] in _CLAUSE_END_AFTER_BEFORE
        past = past or (tokens[j] == "before" and ends)
        if past and "now" not in tokens[min(i, j) : max(i, j)]:
            return True
    return False


# Words that frame what follows as the person's feeling ("she feels", "feelings of", "a sense of", "her
# emotional state is", "shows"): what a reader, or the benchmark's extraction model, takes as stated emotions.
_FRAME_CUES = frozenset(
    "feel feels feeling feelings felt emotion emotions emotional mood moods state states experiencing "
    "experience experiences sense expresses expressing express shows showing show displays displaying "
    "conveys conveying convey reveals revealing exhibits exhibiting".split()
)
_PERSON_WORDS = _MAIN_PERSON | _PERSON_NOUNS | frozenset("they individual lady woman man".split())
# What may stand between the items of a framed list: "feelings of loneliness, isolation, or even depression".
_LIST_GLUE = frozenset(
    ", and or even also possibly perhaps maybe a an some sense of feeling feelings".split()
)
_FRAME_REACH = 6


def _has_frame(tokens: list[str], a: int, i: int) -> bool:
    """A frame cue, or a linking verb after a person ("she looks", "the woman is"), shortly before ``i``."""
    lo = max(a, i - _FRAME_REACH)
    for j in range(lo, i):
        if tokens[j] in _FRAME_CUES:
            return True
        if tokens[j] in _LINKING and any(t in _PERSON_WORDS for t in tokens[max(a, j - 4) : j]):
            return True
    return False


def _exclusion(tokens: list[str], i: int, end: int, word: str) -> str:
    """Why the mention at tokens[i:end] is not the described person's present feeling ("" when it is)."""
    a, b = _bounds(tokens, i, _SEGMENT_STOPS)
    if _other_person_subject(tokens, a, i):
        return "someone else"
    if _is_past(tokens, a, b, i):
        return "past"
    after = [t for t in tokens[end : end + 4] if t not in ("facial", "body")][:3]
    for nouns, reason in ((_THINGS, "a thing"), (_APPEARANCE, "appearance")):
        if (after[:1] and after[0] in nouns) or (
            len(after) == 3
            and after[0] in ("and", "or")
            and after[1] not in _DETERMINERS
            and after[2] in nouns
        ):
            return reason
    if word in _UNKNOWABLE:
        window = tokens[max(a, i - 5) : i]
        if any(t in _FEELING_NOUNS for t in window) and any(t in _LINKING for t in window):
            return "cannot tell"
    return ""


_QUOTE = re.compile(r'"[^"]*"|“[^”]*”')


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of double-quoted passages (straight or curly quotes); an unpaired quote opens none."""
    return [(m.start(), m.end()) for m in _QUOTE.finditer(text)]


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

    quoted = _quoted_spans(text)
    raw: list[tuple[str, int, int, bool, bool, int, str, bool]] = []
    last_end, last_framed = -1, False
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
            clause_start = _bounds(tokens, i, _CLAUSE_STOPS)[0]
            framed = _has_frame(tokens, clause_start, i) or (
                last_framed and last_end >= clause_start and all(t in _LIST_GLUE for t in tokens[last_end:i])
            )
            last_end, last_framed = end, framed
            raw.append(
                (
                    " ".join(tokens[i:end]),
                    spans[i][1],
                    spans[end - 1][2],
                    negation_left > 0,
                    hedge_left > 0,
                    sentence_of[i],
                    "quoted"
                    if any(qa < spans[i][1] < qb for qa, qb in quoted)
                    else _exclusion(tokens, i, end, " ".join(tokens[i:end])),
                    framed,
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
        if tok in _HEDGES or (tok in _LIKE_VERBS and tokens[i + 1 : i + 2] == ["like"]):
            hedge_left = config.hedge_scope + 1
        negation_left = max(negation_left - 1, 0)
        hedge_left = max(hedge_left - 1, 0)
        i += 1

    last_sentence = max((r[5] for r in raw), default=-1)
    mentions = []
    for word, a, b, negated, hedged, sent, excluded, framed in raw:
        weight = 0.0
        if not negated and not excluded:
            weight = config.hedge_weight if hedged else 1.0
            if summary[sent]:
                weight *= config.summary_weight
            if sent == last_sentence:
                weight *= config.final_weight
            if framed:
                weight *= config.frame_weight
        mentions.append(Mention(word, a, b, negated, hedged, weight, summary[sent], excluded, framed))
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
