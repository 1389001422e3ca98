"""Display colours: emotion labels and expressions take the colour of their lexicon family."""

from __future__ import annotations

from omni_emotion.expression_io import FER_FAMILY
from omni_emotion.lexicon import FAMILIES, lookup

__all__ = ["OTHER_COLOUR", "expression_colour", "label_colour", "label_family"]

OTHER_COLOUR = "#5f6b76"  # labels the lexicon does not know


def label_family(label: str) -> str:
    """The lexicon family key of a free-word label, or "" when the lexicon does not know the word."""
    entry = lookup(label)
    return entry.family if entry is not None else ""


def label_colour(label: str) -> str:
    family = label_family(label)
    return FAMILIES[family].colour if family else OTHER_COLOUR


def expression_colour(expression: str) -> str:
    """Colour of a FER2013 class name (angry, ..., neutral); grey for "" (no expression model)."""
    family = FER_FAMILY.get(expression)
    return FAMILIES[family].colour if family else OTHER_COLOUR
