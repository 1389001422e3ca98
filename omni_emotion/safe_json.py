"""JSON from files people hand in (prediction JSONL, caches) without a traceback on hostile input.

``json.loads`` recurses once per nesting level (100k nested brackets raise RecursionError deep inside the
parser) and refuses integers over 4300 digits with a ValueError about ``sys.set_int_max_str_digits``. Here
depth is measured before parsing and numbers are bounded while parsing, so either the value comes back or
one ``JSONInputError`` sentence says why not.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from omni_emotion.errors import JSONInputError

__all__ = ["MAX_DEPTH", "MAX_NUMBER_DIGITS", "loads", "nesting_depth"]

MAX_DEPTH = 64  # prediction records are two or three levels deep
MAX_NUMBER_DIGITS = 100  # far beyond any id or score, far below Python's 4300-digit conversion limit

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")


def loads(text: str, *, max_depth: int = MAX_DEPTH, max_digits: int = MAX_NUMBER_DIGITS) -> Any:
    """The JSON value in ``text``; JSONInputError when it is not JSON, nests deeper than ``max_depth`` or
    holds a number longer than ``max_digits`` digits."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JSONInputError(f"JSON nested {depth} levels deep, more than the {max_depth} allowed.")

    def bounded(kind: type) -> Any:
        def parse(digits: str) -> Any:
            if len(digits) > max_digits:
                raise JSONInputError(
                    f"JSON holds a number of {len(digits)} characters, more than {max_digits}."
                )
            return kind(digits)

        return parse

    try:
        return json.loads(text, parse_int=bounded(int), parse_float=bounded(float))
    except json.JSONDecodeError as err:
        raise JSONInputError(f"Not valid JSON ({err.msg.lower()} at character {err.pos}).") from err


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, measured without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    steps = (1 if c in "[{" else -1 for c in brackets)
    return max(itertools.accumulate(steps, initial=0))
