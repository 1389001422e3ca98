"""Emotion words and phrases in prose, each marked negated ("not angry", "no sign of fear", "rather than
happy"), hedged ("may be", "seems") or excluded (someone else's feeling, the past's, a thing's, "cannot tell"),
with a salience weight that favours conclusion sentences and the final summary."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from dataclasses import dataclass

__all__ = ["Mention", "MentionConfig", "Vocabulary", "find_emotion_mentions"]

_TOKEN = re.compile(r"[a-z]+(?:['’-][a-z]+)*|[.!?;:]+|,|\n")
_SENTENCE_END = frozenset({".", "!", "?", "\n", ";", ":"})
_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "without",
        "nor",
        "neither",
        "hardly",
        "barely",
        "nothing",
        "none",
        "cannot",
        "lack",
        "lacks",
        "lacking",
        "lacked",
        "absence",
        "absent",
        "free",
    ]
)
_NEGATOR_PHRASES = (("rather", "than"), ("instead", "of"), ("other", "than"), ("far", "from"))
_NOT_NEGATING_NEXT = frozenset({"only", "just", "merely", "simply", "doubt", "to", "mention"})
_CONTRAST = frozenset(
    ["but", "however", "yet", "although", "though", "whereas", "while", "instead", "except"]
)
_HEDGES = frozenset(
    [
        "may",
        "might",
        "could",
        "possibly",
        "possible",
        "perhaps",
        "maybe",
        "seem",
        "seems",
        "seemed",
        "seemingly",
        "appear",
        "appears",
        "appeared",
        "probably",
        "potential",
        "potentially",
        "slight",
        "slightly",
        "somewhat",
        "hint",
        "hints",
        "suggest",
        "suggests",
        "suggesting",
        "uncertain",
        "unclear",
    ]
)
# "it sounds like", "looks like": an impression, hedged like "seems".
_LIKE_VERBS = frozenset(
    [
        "sound",
        "sounds",
        "sounded",
        "look",
        "looks",
        "looked",
        "feel",
        "feels",
        "felt",
        "seem",
        "seems",
        "seemed",
    ]
)
_SUMMARY = re.compile(
    r"\b(in conclusion|in summary|to summari[sz]e|to sum up|overall|all in all|in general|therefore|thus|"
    r"emotional states?|emotions? (?:is|are|of)|inferr?ed|infer|conclude|conclusion)\b"
)
# Who a feeling belongs to, and when: an emotion predicated of someone other than the described person ("her
# friend is angry", "the other man looks sad"), set in the past ("she was sad before", "at first he was
# calm"), or describing a thing ("a pleasant atmosphere", "a calm room") is not the person's state now.
_RELATIONS = frozenset(
    [
        "friend",
        "friends",
        "mother",
        "father",
        "mom",
        "dad",
        "parent",
        "parents",
        "husband",
        "wife",
        "son",
        "daughter",
        "brother",
        "sister",
        "boyfriend",
        "girlfriend",
        "colleague",
        "colleagues",
        "boss",
        "partner",
        "companion",
        "companions",
        "child",
        "children",
        "family",
        "teacher",
        "classmate",
        "classmates",
        "neighbor",
        "neighbour",
        "neighbors",
        "neighbours",
        "opponent",
        "opponents",
        "interlocutor",
    ]
)
_OTHERS = frozenset(["others", "everyone", "everybody", "crowd", "audience", "onlookers", "bystanders"])
_PERSON_NOUNS = frozenset(
    [
        "man",
        "woman",
        "person",
        "people",
        "character",
        "characters",
        "one",
        "ones",
        "party",
        "girl",
        "boy",
        "guy",
        "lady",
    ]
)
_POSSESSIVES = frozenset(["his", "her", "their", "my", "your", "our", "its"])
_LINKING = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "seem",
        "seems",
        "seemed",
        "look",
        "looks",
        "looked",
        "appear",
        "appears",
        "appeared",
        "feel",
        "feels",
        "felt",
        "sound",
        "sounds",
        "sounded",
        "become",
        "becomes",
        "became",
        "get",
        "gets",
        "got",
        "remain",
        "remains",
        "remained",
    ]
)
_MAIN_PERSON = frozenset(["he", "she", "i", "character", "person", "speaker", "protagonist"])
_BARE_LINKING = frozenset(["feel", "look", "seem", "become", "get"])
_MAIN_OBJECT = frozenset(["him", "her", "his", "me", "my"])  # the described person when next to the feeling
_DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "their",
        "its",
        "my",
        "your",
        "our",
        "some",
        "any",
    ]
)
_NOT_HABIT = frozenset(  # "is used to show": "used to" of habit, not of the past
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "often",
        "commonly",
        "usually",
        "typically",
        "generally",
        "also",
    ]
)
_PAST_MARKERS = frozenset(["earlier", "previously", "formerly", "initially", "originally"])
_PAST_PHRASES = (("used", "to"), ("at", "first"), ("in", "the", "past"), ("at", "the", "beginning"))
_CLAUSE_END_AFTER_BEFORE = frozenset({".", "!", "?", "\n", ";", ":", ",", "but", "and", "now", "yet"})
_THINGS = frozenset(
    [
        "atmosphere",
        "environment",
        "environments",
        "setting",
        "settings",
        "scene",
        "scenes",
        "room",
        "rooms",
        "space",
        "spaces",
        "place",
        "places",
        "music",
        "background",
        "backgrounds",
        "weather",
        "day",
        "occasion",
        "event",
        "events",
        "surroundings",
        "ambiance",
        "ambience",
        "lighting",
        "colors",
        "colours",
        "color",
        "colour",
        "decor",
        "furniture",
        "landscape",
        "scenery",
        "outfit",
        "clothing",
        "clothes",
        "dress",
        "song",
        "songs",
        "film",
        "movie",
        "video",
        "videos",
        "story",
        "stories",
        "news",
        "topic",
        "topics",
        "conversation",
        "conversations",
        "situation",
        "situations",
        "interaction",
        "interactions",
        "gathering",
        "party",
        "celebration",
        "home",
        "house",
        "office",
        "street",
    ]
)
# What a face or body shows ("a serious expression", "a calm demeanor", "a positive attitude") describes how
# the person looks, not a feeling stated as theirs: the benchmark's extraction model mostly leaves it out.
_APPEARANCE = frozenset(
    ["expression", "expressions", "demeanor", "demeanour", "posture", "gaze", "attitude", "language"]
)
# Predicates that say the description cannot tell ("her emotional state is unclear"), when their subject is
# the feeling itself rather than the person ("he is uncertain" stays a label).
_UNKNOWABLE = frozenset(["uncertain", "unclear", "unknown", "undetermined", "ambiguous", "indeterminate"])
_FEELING_NOUNS = frozenset(
    ["state", "states", "emotion", "emotions", "feeling", "feelings", "mood", "moods", "it", "situation"]
)


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
    [
        "feel",
        "feels",
        "feeling",
        "feelings",
        "felt",
        "emotion",
        "emotions",
        "emotional",
        "mood",
        "moods",
        "state",
        "states",
        "experiencing",
        "experience",
        "experiences",
        "sense",
        "expresses",
        "expressing",
        "express",
        "shows",
        "showing",
        "show",
        "displays",
        "displaying",
        "conveys",
        "conveying",
        "convey",
        "reveals",
        "revealing",
        "exhibits",
        "exhibiting",
    ]
)
_PERSON_WORDS = _MAIN_PERSON | _PERSON_NOUNS | frozenset(["they", "individual", "lady", "woman", "man"])
# What may stand between the items of a framed list: "feelings of loneliness, isolation, or even depression".
_LIST_GLUE = frozenset(
    [
        ",",
        "and",
        "or",
        "even",
        "also",
        "possibly",
        "perhaps",
        "maybe",
        "a",
        "an",
        "some",
        "sense",
        "of",
        "feeling",
        "feelings",
    ]
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
