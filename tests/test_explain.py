"""Facts and their words: fusion decides on fact names and numbers, explain.py words every fact it states
(with its number, citing its modality), and FusionConfig's constants are the ones that move decisions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.engines.clue_acoustic import AcousticClues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.engines.explain import explain, reasons, render
from omni_emotion.engines.fusion import NEAR_NORM, FusionConfig, fuse, judge
from omni_emotion.engines.voice_model import VoiceEvidence
from omni_emotion.engines.voice_reading import CUES, PATTERNS, VoiceReading
from omni_emotion.expressions import FER_LABELS
from omni_emotion.facial_actions import PHASES, phase_slices
from omni_emotion.facts import Fact
from omni_emotion.lexicon import LEXICON
from omni_emotion.types import VoiceProfile

# facts cited without a number: face actions measured in units no listener knows, and verdicts
UNNUMBERED = {"mouth widened", "head lowered", "face drops", "lowered", "turns happy", NEAR_NORM.name}
MODALITY_WORDS = {
    "face": ("face", "mouth", "head"),
    "voice": ("voice",),
    "words": ("says", "words", "wording"),
}
VOICE = VoiceProfile(
    f0_mean_st=35.0,
    f0_range_st=7.5,
    alpha_ratio_db=-6.0,
    hammarberg_db=15.0,
    hnr_db=7.0,
    voiced_segments_per_s=4.2,
    mean_unvoiced_s=0.08,
    speech_seconds=2.4,
)


def _face(per_phase: list[str], strength: float, actions: list[Fact]) -> VisualClues:
    n = 9
    probs = np.full((n, 7), (1 - strength) / 6, np.float32)
    for s, label in zip(phase_slices(n), per_phase):
        probs[s, FER_LABELS.index(label)] = strength
    phases = np.stack([probs[s].mean(0) for s in phase_slices(n)])
    return VisualClues(np.linspace(0, 4, n), probs, phases, actions, 0, 4.0, 4.0)


def _voice(arousal: float, tension: float = 0.0, trembling: bool = False, **families: float) -> AcousticClues:
    posterior = {f: families.get(f, 0.0) for f in PATTERNS}
    posterior["neutral"] += 1.0 - sum(posterior.values())
    cues = dict.fromkeys(CUES, 0.0) | {"tension": tension, "pitch": 1.5 * tension}
    reading = VoiceReading(posterior, "lower", 0.9, cues, arousal, 0.0)
    facts = (Fact("voice", "trembling", 0.031),) if trembling else ()
    heard = {f: p for f, p in posterior.items()} | {"disgust": 0.0}
    heard = {f: (p + 0.01) / (1 + 0.01 * len(heard)) for f, p in heard.items()}
    model = VoiceEvidence(heard, {f: p * len(heard) for f, p in heard.items()}, 1.0, "single", 1.0)
    return AcousticClues(True, arousal, facts, 3.0, reading, VOICE, model)


def _numbers(value: float) -> set[str]:
    """The ways explain.py prints a number."""
    specs = (".2f", "+.2f", ".1f", "+.1f", ".0f", "+.0f")
    return {f"{value:{spec}}" for spec in specs} | {f"{100 * value:.0f}%"}


@st.composite
def clips(draw):
    labels = st.sampled_from(FER_LABELS)
    per_phase = [draw(labels) for _ in PHASES]
    names = st.sampled_from(["mouth widened", "head lowered", "face drops", "head still"])
    wheres = st.sampled_from(["beginning", "middle", "end", "beginning and end"])
    actions = draw(
        st.lists(
            st.builds(lambda name, where: Fact("face", name, 0.2, where=where), names, wheres), max_size=2
        )
    )
    visual = _face(per_phase, draw(st.floats(0.3, 0.95)), actions)
    family = draw(st.sampled_from([f for f in PATTERNS if f != "neutral"]))
    acoustic = _voice(
        draw(st.floats(0.0, 1.0)),
        draw(st.floats(-3.0, 3.0)),
        draw(st.booleans()),
        **{family: draw(st.floats(0.0, 1.0))},
    )
    words = [e.word for e in LEXICON]
    text = TextualClues(
        text="words",
        valence=draw(st.none() | st.floats(-1.0, 1.0)),
        translation=draw(st.sampled_from(["", "the words"])),
        similar=[(w, 0.5) for w in draw(st.lists(st.sampled_from(words), max_size=2))],
        explicit=draw(st.lists(st.sampled_from(words), max_size=2, unique=True)),
    )
    return visual, acoustic, text


def _walk(facts):
    for fact in facts:
        yield fact
        yield from _walk(fact.support)


@settings(max_examples=150, deadline=None)
@given(clips())
def test_every_fact_fusion_states_is_worded_with_its_number_and_modality(clip):
    labels = fuse(*clip)
    assert 1 <= len(labels) <= 6
    for label in labels:
        assert label.evidence, f"{label.word} has no evidence"
        for fact in label.evidence:
            words = render(fact)
            if fact.modality in MODALITY_WORDS:
                assert any(w in words for w in MODALITY_WORDS[fact.modality]), (fact, words)
        for fact in _walk(label.evidence):
            words = render(fact)  # a name without wording raises KeyError
            if fact.value is not None and fact.name not in UNNUMBERED:
                assert any(n in words for n in _numbers(fact.value)), (fact, words)


def test_an_unworded_fact_is_an_error_not_a_silent_gap():
    with pytest.raises(KeyError, match="no wording"):
        render(Fact("face", "eyebrows raised", 0.4))
    with pytest.raises(ValueError, match="modality"):
        Fact("smell", "smoke")


def test_explanation_cites_the_leading_labels_facts_from_each_modality_behind_it():
    text = TextualClues(text="I am so sad", valence=-0.5, explicit=["sad"])
    visual = _face(["sad"] * 3, 0.9, [])
    judgment = judge(visual, _voice(0.2, -2.0, sadness=0.8), text)
    assert judgment.labels[0].word == "sad"
    modalities = {f.modality for f in judgment.labels[0].evidence}
    assert {"face", "voice", "words"} <= modalities
    paragraph = explain("", "", "", judgment, visual)
    for cited in reasons(judgment.labels[0])[:2]:
        assert cited in paragraph


@pytest.mark.parametrize(
    ("clip", "word", "change"),
    [
        (
            (_face(["angry"] * 3, 0.9, []), _voice(0.9, 2.5, anger=0.9), TextualClues()),
            "furious",
            {"furious_arousal": 0.95},
        ),
        (
            (_face(["angry"] * 3, 0.9, []), _voice(0.9, 2.5, anger=0.9), TextualClues()),
            "furious",
            {"furious_tension": 3.0},
        ),
        (
            (_face(["happy"] * 3, 0.9, []), _voice(0.5), TextualClues(text="x", valence=-0.5)),
            "sarcastic",
            {"negative_words": -0.6},
        ),
        (
            (_face(["sad", "happy", "happy"], 0.9, []), AcousticClues(), TextualClues()),
            "relieved",
            {"arc_first_min": 0.95},
        ),
    ],
)
def test_fusion_config_constants_move_the_decisions(clip, word, change):
    assert word in [lab.word for lab in fuse(*clip)]
    assert word not in [lab.word for lab in fuse(*clip, FusionConfig(**change))]


@pytest.mark.parametrize(
    ("clip", "base", "word"),
    [
        (
            (_face(["sad"] * 3, 0.9, []), _voice(0.5, trembling=True, sadness=0.5), TextualClues()),
            "sad",
            "upset",
        ),
        ((_face(["happy"] * 3, 0.9, []), _voice(0.8), TextualClues()), "happy", "excited"),
        ((_face(["sad", "happy", "happy"], 0.9, []), AcousticClues(), TextualClues()), "happy", "relieved"),
    ],
)
def test_a_specific_word_follows_its_base_word_and_ranks_below_it(clip, base, word):
    labels = fuse(*clip)
    words = [lab.word for lab in labels]
    assert words.index(word) > words.index(base)
    scores = {lab.word: lab.score for lab in labels}
    assert scores[word] < scores[base]


def test_said_words_are_kept_and_cited_facts_follow_their_config():
    text = TextualClues(text="I am grateful", valence=0.4, explicit=["grateful"])
    clip = (_face(["happy"] * 3, 0.9, []), _voice(0.5), text)
    base = {lab.word: lab for lab in fuse(*clip)}
    assert base["grateful"].evidence[0].name == "said"
    assert base["happy"].evidence[0].name == "expression"
    uncited = fuse(*clip, FusionConfig(cite_face_min=0.99))
    assert all(f.modality != "face" for lab in uncited for f in lab.evidence)
