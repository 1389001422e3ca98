"""safe_json.loads: hostile JSON lines give one JSONInputError sentence, never a traceback."""

from __future__ import annotations

import json

import pytest

from omni_emotion.errors import JSONInputError, OmniEmotionError
from omni_emotion.safe_json import loads, nesting_depth


def test_a_line_nested_100k_deep_is_refused_with_its_depth(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"name": "a", "reason": "ok"}\n')
    deep, normal = path.read_text().splitlines()
    with pytest.raises(JSONInputError, match="nested 100000 levels deep, more than the 64 allowed"):
        loads(deep)
    assert loads(normal) == {"name": "a", "reason": "ok"}


def test_an_integer_of_5000_digits_is_refused_not_converted():
    with pytest.raises(JSONInputError, match="number of 5000 characters"):
        loads('{"name": ' + "7" * 5000 + "}")
    with pytest.raises(JSONInputError, match="number of 3001 characters"):
        loads("[1." + "5" * 2999 + "]")


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"name": "x", "reason": "[[[{{{" * 100 + '\\"]'})
    assert nesting_depth(text) == 1
    assert loads(text)["reason"].startswith("[[[{{{")


@pytest.mark.parametrize("text", ["", "not json", '{"name": "a",', "[1, 2"])
def test_invalid_json_is_one_user_error_sentence(text):
    with pytest.raises(JSONInputError) as info:
        loads(text)
    message = str(info.value)
    assert isinstance(info.value, OmniEmotionError) and isinstance(info.value, ValueError)
    assert message.startswith("Not valid JSON") and message.endswith(".") and "\n" not in message


def test_ordinary_values_come_back_as_json_loads_gives_them():
    text = '{"name": "s1", "labels": ["happy", "calm"], "score": 0.75, "n": -12, "ok": true, "x": null}'
    assert loads(text) == json.loads(text)
    assert loads("[" * 64 + "]" * 64) == json.loads("[" * 64 + "]" * 64)
