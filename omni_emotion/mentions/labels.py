"""Label lists: the benchmark's list-like strings (``"['a', 'b']"``) into lowercase labels."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["parse_labels", "split_list_string"]

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
