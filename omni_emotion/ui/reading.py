"""Make an engine's prose easy to read on the page: the figures in parentheses move into a collapsed
detail, a clue the explanation repeats is shown once, and the measures the clues name are explained in a
short glossary. Pure functions of strings; the engine's own text is never changed, only laid out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["GLOSSARY", "glossary_for", "plain", "sentences", "without_repeats"]

# The measures the clue engine's sentences cite, in the words a person would look up. Keys are matched
# case-insensitively as whole words; the first key that matches a term names its entry.
GLOSSARY: dict[str, str] = {
    "semitones": "the musical unit of pitch: 12 semitones make an octave, so a range of 2 semitones is a "
    "flat, monotone voice and 8 or more a lively one.",
    "alpha ratio": "how much of the voice's energy lies above 1 kHz against below it, in dB; higher means a "
    "tenser, brighter voice.",
    "Hammarberg": "the strongest peak below 2 kHz against the one between 2 and 5 kHz, in dB; lower means a "
    "tenser voice.",
    "HNR": "harmonics-to-noise ratio, in dB: how much of the voice is clear tone rather than breath or "
    "roughness; higher means a clearer voice.",
    "VADER": "a rule-based sentiment score of the words, from -1 (very negative) to +1 (very positive); the "
    "'compound' score is its one-number summary.",
    "arousal": "how activated the voice sounds, from 0 (calm, subdued) to 1 (tense, excited).",
    "dBFS": "loudness in decibels below the loudest sound a recording can hold; -20 is a normal speaking "
    "level, -40 quiet.",
    "jitter": "how much the pitch wobbles from one vocal-fold cycle to the next; high jitter sounds "
    "trembling.",
    "syllables/s": "speaking rate; about 4 to 5 syllables per second is ordinary speech.",
    "words/s": "speaking rate; about 2 to 3 words per second is ordinary speech.",
    "action unit": "a facial muscle movement in the Facial Action Coding System (AU12 lifts the lip corners "
    "in a smile, AU4 lowers the brows).",
    "face scores": "a face's figure, as in \"reads as happy (happy 0.95)\", is the expression model's "
    "probability for that class, from 0 to 1 over seven classes (angry, disgust, fear, happy, "
    "sad, surprise, neutral).",
}
_TERM_ALIASES = {
    "semitone": "semitones",
    "compound": "VADER",
    "action units": "action unit",
    "AU": "action unit",
    "harmonics-to-noise": "HNR",
    "reads as": "face scores",
    "face reads": "face scores",
}

# A parenthesis holding a figure: "(neutral 0.71)", "(HNR 12.3 dB)", "(+0.45)". Nested once at most:
# "(face reads happy (mean 0.74, 1.00 at the middle))".
_FIGURE = re.compile(r"\s*\((?:[^()]|\([^()]*\))*\d(?:[^()]|\([^()]*\))*\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\u4e00-\u9fff])")


def plain(text: str) -> str:
    """``text`` without its parenthesised figures: "reads as happy (happy 0.95)." -> "reads as happy."."""
    out = _FIGURE.sub("", text)
    return re.sub(r"\s+([,.;:!?])", r"\1", out).strip()


def sentences(text: str) -> list[str]:
    """Split prose into sentences (at ., ! or ? followed by a capital); empty text gives []."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def without_repeats(explanation: str, clues: Iterable[str]) -> str:
    """The explanation minus the sentences that a clue shown on its own already says word for word; the
    whole explanation when nothing else would be left."""
    said = {s for clue in clues for s in sentences(clue)}
    kept = [s for s in sentences(explanation) if s not in said]
    return " ".join(kept) if kept else explanation.strip()


def glossary_for(texts: Iterable[str]) -> list[tuple[str, str]]:
    """(term, meaning) for each glossary term the texts use, in glossary order, each once."""
    joined = " ".join(texts)
    found: set[str] = set()
    for term in (*GLOSSARY, *_TERM_ALIASES):
        pattern = r"(?<![\w/])" + re.escape(term) + r"(?![\w])"
        flags = 0 if term in ("AU", "HNR", "VADER") else re.IGNORECASE
        if re.search(pattern if term != "AU" else r"\bAU\d+\b", joined, flags):
            found.add(_TERM_ALIASES.get(term, term))
    return [(term, GLOSSARY[term]) for term in GLOSSARY if term in found]
