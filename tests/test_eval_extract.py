"""Label extraction from free text: negation, hedges, phrases, summary weighting, and the LLM interface."""

from __future__ import annotations

import csv
import json
from typing import ClassVar

import pytest

from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.wheels import load_wheels
from omni_emotion.mentions import (
    LLMExtractor,
    MentionConfig,
    RuleExtractor,
    Vocabulary,
    extraction_prompt,
    find_emotion_mentions,
    parse_labels,
    parse_reply,
)

VOCAB = Vocabulary(
    ["angry", "anger", "fear", "happy", "sad", "sadness", "nervous", "let down", "calm", "down"]
)


def _flags(text):
    return [(m.word, m.negated, m.hedged) for m in find_emotion_mentions(text, VOCAB)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He is not angry.", [("angry", True, False)]),
        ("He isn't angry at all.", [("angry", True, False)]),
        (
            "There is no sign of fear, anger or sadness.",
            [("fear", True, False), ("anger", True, False), ("sadness", True, False)],
        ),
        ("He looks calm rather than happy.", [("calm", False, False), ("happy", True, False)]),
        ("Without fear, she speaks. She is happy.", [("fear", True, False), ("happy", False, False)]),
        ("He is not angry, but sad.", [("angry", True, False), ("sad", False, False)]),
        ("He is not angry, he is sad.", [("angry", True, False), ("sad", False, False)]),
        ("Not only happy but also nervous.", [("happy", False, False), ("nervous", False, False)]),
        ("She may be nervous.", [("nervous", False, True)]),
        ("He seems a little sad.", [("sad", False, True)]),
    ],
)
def test_negation_and_hedges(text, expected):
    assert _flags(text) == expected


def test_multi_word_phrases_win_over_their_parts():
    mentions = find_emotion_mentions("She felt let down by him.", VOCAB)
    assert [(m.word, m.start, m.end) for m in mentions] == [("let down", 9, 17)]


def test_plain_word_lists_work_as_vocabulary_and_offsets_index_the_text():
    text = "Overall, Happy!"
    (m,) = find_emotion_mentions(text, ["happy"])
    assert text[m.start : m.end] == "Happy"


def test_summary_and_final_sentences_weigh_more():
    config = MentionConfig(summary_weight=2.0, final_weight=1.5, hedge_weight=0.5)
    first, second, third = find_emotion_mentions(
        "He is sad. He may be angry. In conclusion, he is nervous.", VOCAB, config
    )
    assert first.weight == 1.0
    assert second.weight == 0.5
    assert third.summary and third.weight == 3.0
    assert all(m.weight == 0.0 for m in find_emotion_mentions("He is not sad.", VOCAB))


def test_mention_config_is_validated():
    with pytest.raises(ValueError, match="hedge_weight"):
        MentionConfig(hedge_weight=0)


def test_rule_extractor_ranks_conclusion_labels_first_and_drops_negated():
    extractor = RuleExtractor()  # project lexicon only
    text = (
        "At first he smiles and seems happy. He is not angry at all. His voice trembles. "
        "In conclusion, the character's emotional state is nervous and anxious."
    )
    labels = extractor.extract(text)
    assert labels[:2] == ["nervous", "anxious"]
    assert "angry" not in labels
    assert extractor.extract("The weather report lists temperatures.") == []


def test_llm_extractor_builds_the_prompt_and_parses_the_reply():
    prompts = []

    def generate(prompt):
        prompts.append(prompt)
        return "Sure. [Nervous, anxious, nervous]\nThe person..."

    labels = LLMExtractor(generate).extract("He trembles and looks around.")
    assert labels == ["nervous", "anxious"]
    assert "He trembles and looks around." in prompts[0] and prompts[0] == extraction_prompt(
        "He trembles and looks around."
    )
    assert LLMExtractor(lambda p: "[]").extract("unclear") == []
    assert LLMExtractor(lambda p: "happy, sad").extract("x") == ["happy", "sad"]


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("\n\n Happy.\nMore text", ["happy"]),
        ('["let down", "Self-conscious"]', ["let down", "self-conscious"]),
        ("[none]", []),
        ("[unknown, sad]", ["sad"]),
        ("q#1, zz9, [", []),
        ("[a very long label of words]", []),
        ("", []),
    ],
)
def test_replies_keep_only_usable_labels(reply, expected):
    assert parse_reply(reply) == expected


def test_known_words_tell_an_answer_from_noise():
    known = {"nervous", "happy"}
    assert LLMExtractor(lambda p: "[wistful, nervous]", known=known).extract("x") == ["wistful", "nervous"]
    assert LLMExtractor(lambda p: "[very happy]", known=known).extract("x") == ["very happy"]
    assert LLMExtractor(lambda p: "vpwyhap, jjjt", known=known).extract("x") == []
    assert LLMExtractor(lambda p: "vpwyhap, jjjt").extract("x") == ["vpwyhap", "jjjt"]
    assert LLMExtractor(lambda p: "[a, b, c]", max_labels=2).extract("x") == ["a", "b"]
    with pytest.raises(ValueError, match="max_labels"):
        LLMExtractor(lambda p: "", max_labels=0)


def test_extractor_on_shared_baselines_stays_near_the_authors_llm_extraction(data_dir, tmp_path):
    """The issue's goal: on average no worse than 3 points of M-avg below the published LLM extraction."""
    tables = load_wheels(data_dir / "emotion_wheel", cache_dir=tmp_path)
    extractor = RuleExtractor(tables)
    with open(data_dir / "ovmerd" / "check-openset.csv", newline="") as handle:
        truth = {row["name"]: parse_labels(row["openset"]) for row in csv.DictReader(handle)}
    with open(data_dir / "ovmerd" / "published_table4.csv", newline="") as handle:
        published = {row["model"]: float(row["M-avg"]) for row in csv.DictReader(handle)}
    gaps = []
    for folder in sorted((data_dir / "ovmerd" / "baselines").iterdir()):
        with open(folder / "reasons.jsonl") as handle:
            pred = {r["name"]: extractor.extract(r["reason"]) for r in map(json.loads, handle)}
        gaps.append(score_dataset(truth, pred, tables).m_avg * 100 - published[folder.name])
    assert sum(gaps) / len(gaps) >= -3.0, f"gaps per baseline: {[round(g, 2) for g in gaps]}"


# Why descriptions lose labels or gain wrong ones, one kind at a time, on sentences written for these tests.
WHEEL_WORDS = [
    "angry",
    "anger",
    "sad",
    "sadness",
    "happy",
    "calm",
    "relaxed",
    "nervous",
    "uncertain",
    "afraid",
    "worried",
    "positive",
    "negative",
    "joyful",
    "pleasant",
    "grief",
]


def _excluded(text):
    return [(m.word, m.excluded) for m in find_emotion_mentions(text, Vocabulary(WHEEL_WORDS))]


@pytest.mark.parametrize(
    "text, expected",
    [
        # someone else's feeling
        ("Her friend is angry, but she stays calm.", [("angry", "someone else"), ("calm", "")]),
        ("The other man looks nervous while he smiles.", [("nervous", "someone else")]),
        ("His brother's anger frightens him.", [("anger", "someone else")]),
        ("Everyone around her seems happy.", [("happy", "someone else")]),
        ("Her mother's remark makes her sad.", [("sad", "")]),  # the feeling is hers again
        ("She talks with her friend and looks relaxed.", [("relaxed", "")]),  # no feeling given to the friend
        # the past
        ("She was sad before, but now she is joyful.", [("sad", "past"), ("joyful", "")]),
        ("At first, he was calm. Then he became angry.", [("calm", "past"), ("angry", "")]),
        ("He used to be afraid of dogs.", [("afraid", "past")]),
        ("A frown is often used to show anger.", [("anger", "")]),  # "used to" of habit, not of the past
        ("He was afraid.", [("afraid", "")]),  # narrated in the past tense is not "before"
        # a thing, not a person
        ("They sit in a calm and pleasant room.", [("calm", "a thing"), ("pleasant", "a thing")]),
        (
            "Soft music gives a relaxed atmosphere; she looks relaxed.",
            [("relaxed", "a thing"), ("relaxed", "")],
        ),
        ("She may feel calm or the news makes her worried.", [("calm", ""), ("worried", "")]),
        # the description cannot tell
        ("His emotional state is uncertain.", [("uncertain", "cannot tell")]),
        ("It is unclear; he seems uncertain.", [("uncertain", "")]),
    ],
)
def test_feelings_of_others_of_the_past_and_of_things_are_marked(text, expected):
    assert _excluded(text) == expected


class _Tables:
    """Tables where every test word is its own base word on the wheel."""

    groups: ClassVar[dict[str, tuple[str, ...]]] = {word: (word,) for word in WHEEL_WORDS}
    wheel_words = frozenset(WHEEL_WORDS)


@pytest.mark.parametrize(
    "text, expected",
    [
        # negation and hedging: "does not seem", "might be"
        ("He does not seem angry; he might be sad.", ["sad"]),
        ("She is hardly nervous at all. Overall, she is relaxed.", ["relaxed"]),
        # labels named only as nouns or adverbs (word forms) are found
        ("There is grief in her eyes and she speaks angrily.", ["grief", "angrily"]),
        # another person's feeling, and a past one, are not the described person's
        ("Her friend is angry. She herself looks calm.", ["calm"]),
        ("He was sad before; now he seems happy.", ["happy"]),
        # valence words stand only when nothing more specific does
        ("She is in a positive mood and looks happy.", ["happy"]),
        ("His state is negative.", ["negative"]),
        # a feeling named among the clues stays beside the conclusion when it is named again and again
        (
            "She looks sad. Sadness fills her voice; she sighs sadly, with sad eyes. "
            "In conclusion, she is worried.",
            ["worried", "sad"],
        ),
        ("She looks sad. In conclusion, she is worried.", ["worried"]),
    ],
)
def test_rule_extractor_on_written_sentences(text, expected):
    tables = _Tables()
    tables.groups = {**_Tables.groups, "angrily": ("angry",), "sadness": ("sad",), "sadly": ("sad",)}
    assert RuleExtractor(tables).extract(text) == expected


def _framed(text):
    return [(m.word, m.framed) for m in find_emotion_mentions(text, Vocabulary(WHEEL_WORDS))]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("She feels nervous.", [("nervous", True)]),
        ("The woman looks worried.", [("worried", True)]),
        ("He shows a sense of grief.", [("grief", True)]),
        # a list after a frame is framed item by item, through "or even"
        (
            "She has feelings of sadness, grief, or even anger.",
            [("sadness", True), ("grief", True), ("anger", True)],
        ),
        # named in passing: a voice, a room, a noun phrase
        ("Her voice is calm.", [("calm", False)]),
        ("He gives a nervous laugh.", [("nervous", False)]),
        ("She feels tired. Her smile is happy.", [("happy", False)]),  # the frame does not cross sentences
    ],
)
def test_feelings_stated_as_such_are_framed(text, expected):
    assert _framed(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ('The subtitle says "I am so angry", and she looks calm.', [("angry", "quoted"), ("calm", "")]),
        (
            "She whispers “so sad, so sad” with a happy face.",
            [("sad", "quoted"), ("sad", "quoted"), ("happy", "")],
        ),
        ('He said "I am angry and left.', [("angry", "")]),  # an unpaired quote quotes nothing
    ],
)
def test_quoted_words_are_the_persons_speech_not_a_label(text, expected):
    assert _excluded(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # a feeling stated as one outweighs one named in passing in the same sentence
        ("Her voice is calm. She feels nervous and afraid.", ["nervous", "afraid"]),
        # the subtitle's words are evidence, not the label: "sorry" said again and again is not extracted
        ('She says "sorry, sorry, I am so sorry, so sad". She seems calm.', ["calm"]),
    ],
)
def test_rule_extractor_weighs_stated_feelings_and_skips_quotes(text, expected):
    tables = _Tables()
    tables.groups = {**_Tables.groups, "sorry": ("sorry",)}
    tables.wheel_words = frozenset([*WHEEL_WORDS, "sorry"])
    assert RuleExtractor(tables).extract(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # said as what the state is, in a conclusion: a label beside the specific one
        ("In conclusion, she is sad, and her emotional state is negative.", ["sad", "negative"]),
        ("He smiles. Overall, he is positive and happy.", ["positive", "happy"]),
        # as a modifier it gives way to the specific label, in a conclusion or not
        ("Overall, she shows negative emotions such as sadness.", ["sadness"]),
        ("She has a positive attitude. In conclusion, she is happy.", ["happy"]),
    ],
)
def test_valence_stands_beside_specific_labels_only_when_concluded_as_the_state(text, expected):
    assert RuleExtractor(_Tables()).extract(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("She wears a calm expression but feels nervous.", [("calm", "appearance"), ("nervous", "")]),
        ("He has a happy facial expression.", [("happy", "appearance")]),
        ("His relaxed body language and calm demeanor", [("relaxed", "appearance"), ("calm", "appearance")]),
        ("A positive and relaxed attitude.", [("positive", "appearance"), ("relaxed", "appearance")]),
        ("She looks calm and relaxed.", [("calm", ""), ("relaxed", "")]),  # said of her, not of her face
    ],
)
def test_what_the_face_or_body_shows_is_appearance_not_a_stated_feeling(text, expected):
    assert _excluded(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("From the voice, it sounds like he is angry.", [("angry", False, True)]),
        ("She looks like she is happy.", [("happy", False, True)]),
        ("He sounds angry.", [("angry", False, False)]),  # a plain linking verb is no hedge
    ],
)
def test_an_impression_with_like_is_hedged(text, expected):
    assert _flags(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Overall, she feels drained.", ["drained"]),
        # an everyday word in a conclusion sentence, not stated as the feeling, is not a label
        ("Overall, the drained battery dies, and she feels calm.", ["calm"]),
    ],
)
def test_words_off_the_wheels_count_only_when_a_conclusion_states_them(text, expected):
    tables = _Tables()
    tables.groups = {**_Tables.groups, "drained": ("drained",)}  # on no wheel, and not in the lexicon
    assert RuleExtractor(tables).extract(text) == expected
