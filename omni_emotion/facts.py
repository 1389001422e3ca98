"""``Fact``: one measured finding, by name and number, that the clue engine decides on and explains.

Facts are what the clue modules measure (a facial action, a loud voice, a word said), what fusion decides
on (it compares names and values, never wording) and what a label's evidence holds. Only
``engines/explain.py`` turns them into words, so a sentence can change without changing a decision.
This module imports nothing from the project: perception-level code (facial_actions.py) states facts too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODALITIES", "Fact"]

MODALITIES = ("face", "voice", "words", "clip")  # "clip": a finding that joins modalities or none


@dataclass(frozen=True)
class Fact:
    """One measured finding.

    modality: one of MODALITIES.
    name: what was found ("expression", "mouth widened", "loud", "voice pattern", "said", ...); each name
        has one wording in explain.py, and the name fixes the value's unit unless ``unit`` is given.
    value: the finding's main number, None when it has none.
    about: what it concerns: an expression class, an emotion family, a word, a voice cue.
    where: when in the clip ("beginning", "middle", "end", "beginning and end", "throughout"), or what it is
        measured against (a voice cue: the voice register); "" when neither applies.
    unit: the value's unit where the name does not fix it (speech rate: "words/s" or "syllables/s").
    more: further named numbers, e.g. (("mean", 0.46),).
    support: the facts this one rests on (a voice pattern's cues, the smile behind sarcasm).
    """

    modality: str
    name: str
    value: float | None = None
    about: str = ""
    where: str = ""
    unit: str = ""
    more: tuple[tuple[str, float], ...] = ()
    support: tuple[Fact, ...] = ()

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"Fact.modality must be one of {', '.join(MODALITIES)}, got {self.modality!r}")
        if not self.name:
            raise ValueError("Fact.name must not be empty")

    def number(self, key: str) -> float:
        """The further number called ``key`` (KeyError when the fact has none)."""
        for name, value in self.more:
            if name == key:
                return value
        raise KeyError(f"fact {self.name!r} has no number {key!r}")
