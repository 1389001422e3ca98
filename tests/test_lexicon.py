"""The project's emotion lexicon: size, families, ranges and lookups."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni_emotion.lexicon import FAMILIES, LEXICON, EmotionWord, family_words, lookup, normalize

BASIC = {"joy", "sadness", "anger", "fear", "surprise", "disgust", "contempt", "neutral"}


def test_size_and_families_are_what_the_module_says():
    import omni_emotion.lexicon

    words, families = map(
        int, re.search(r"(\d+) words in (\d+) families", omni_emotion.lexicon.__doc__).groups()
    )
    assert len(LEXICON) == words and len(FAMILIES) == families
    assert set(FAMILIES) == BASIC
    assert {w.family for w in LEXICON} == BASIC
    for fam in FAMILIES.values():
        assert re.fullmatch(r"#[0-9a-f]{6}", fam.colour)
    assert len({f.colour for f in FAMILIES.values()}) == len(FAMILIES)


def test_words_unique_and_normalised():
    words = [w.word for w in LEXICON]
    assert len(words) == len(set(words))
    for w in LEXICON:
        assert w.word == normalize(w.word)


@pytest.mark.parametrize(
    "form, word, family",
    [
        ("Happiness", "happy", "joy"),
        ("sadness", "sad", "sadness"),
        ("  NERVOUSLY ", "nervous", "fear"),
        ("embarrassment", "embarrassed", "fear"),
        ("relief", "relieved", "joy"),
        ("sarcasm", "sarcastic", "contempt"),
        ("helplessness", "helpless", "sadness"),
        ("gratitude", "grateful", "joy"),
        ("fed_up", "fed up", "anger"),
        ("disgust", "disgusted", "disgust"),
        ("surprise", "surprised", "surprise"),
        ("calm", "calm", "neutral"),
    ],
)
def test_lookup_forms(form, word, family):
    entry = lookup(form)
    assert entry is not None and entry.word == word and entry.family == family


def test_lookup_unknown():
    assert lookup("table") is None
    assert lookup("") is None


def test_family_words_and_validation():
    for family in FAMILIES:
        chosen = family_words(family)
        assert chosen and list(chosen) == [w for w in LEXICON if w.family == family]
    with pytest.raises(ValueError, match="allowed"):
        family_words("love")
    with pytest.raises(ValueError, match="unknown family"):
        EmotionWord("x", "nope")


@given(st.sampled_from(LEXICON), st.sampled_from(["lower", "upper", "title"]))
def test_every_form_finds_its_entry(entry, case):
    for form in (entry.word, *entry.forms):
        assert lookup(getattr(form, case)()) is entry
