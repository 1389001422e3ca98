"""The clue engine's parts on synthetic perception: facial actions, voice, fusion rules, explanation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni_emotion.engines.clue_acoustic import AcousticClues, acoustic_clues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues, timeline_windows
from omni_emotion.engines.decision import load_decision_tables
from omni_emotion.engines.explain import describe_acoustic, describe_visual, explain, render
from omni_emotion.engines.fusion import FusionConfig, face_evidence, fuse, judge
from omni_emotion.engines.voice_model import VoiceEvidence
from omni_emotion.expressions import FER_LABELS
from omni_emotion.faces.quality import FaceQuality
from omni_emotion.facial_actions import (
    describe_actions,
    head_pitch_ratio,
    head_roll_deg,
    head_yaw,
    mouth_width_ratio,
    phase_slices,
)
from omni_emotion.facts import Fact
from omni_emotion.lexicon import lookup
from omni_emotion.types import Prosody

FRONTAL = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float32)


def _visual(per_phase: list[str], n: int = 9, strength: float = 0.9, actions=None) -> VisualClues:
    """A face whose expression is ``per_phase[i]`` in phase i (beginning, middle, end)."""
    probs = np.full((n, 7), (1 - strength) / 6, np.float32)
    for s, label in zip(phase_slices(n), per_phase):
        probs[s] = (1 - strength) / 6
        probs[s, FER_LABELS.index(label)] = strength
    phases = np.stack([probs[s].mean(0) for s in phase_slices(n)])
    return VisualClues(np.linspace(0, 4, n), probs, phases, actions or [], 0, 4.0, 4.0)


def _voice(arousal: float | None, **facts: float) -> AcousticClues:
    """Speech with the given arousal and voice facts (name=value), without a population-norm reading."""
    stated = tuple(Fact("voice", name, value) for name, value in facts.items())
    return AcousticClues(arousal is not None, arousal, stated, 3.0)


# --- facial actions -------------------------------------------------------------------------------------
def test_pose_proxies_on_a_frontal_face():
    lm = FRONTAL[None]
    assert abs(head_yaw(lm)[0]) < 1e-6 and abs(head_roll_deg(lm)[0]) < 1e-6
    assert head_pitch_ratio(lm)[0] == pytest.approx(0.5)
    assert mouth_width_ratio(lm)[0] == pytest.approx(0.75)
    turned = FRONTAL.copy()
    turned[2, 0] += 20
    assert head_yaw(turned[None])[0] == pytest.approx(0.5)


def test_describe_actions_finds_lowered_head_and_smile():
    lm = np.repeat(FRONTAL[None], 9, axis=0)
    lm[6:, 2, 1] += 8  # nose tip moves towards the mouth at the end: head lowered
    lm[3:6, 3, 0] -= 5  # mouth corners pulled apart in the middle
    lm[3:6, 4, 0] += 5
    boxes = np.repeat(np.array([[20, 20, 80, 100]], np.float32), 9, axis=0)
    facts = {f.name: f for f in describe_actions(boxes, np.arange(9) * 0.5, lm)}
    assert facts["head lowered"].where == "end" and facts["head lowered"].value > 0
    assert facts["mouth widened"].where == "middle"
    assert facts["mouth widened"].value == pytest.approx(1 / 3, abs=0.01)  # 40 px wide instead of 30
    assert "head still" in facts and all(f.modality == "face" for f in facts.values())


@given(st.integers(0, 200))
def test_phase_slices_cover_in_order(n):
    slices = phase_slices(n)
    assert len(slices) == 3
    if n:
        covered = sorted({i for s in slices for i in range(n)[s]})
        assert covered == list(range(n))
        assert all(s.stop > s.start for s in slices)


# --- voice ----------------------------------------------------------------------------------------------
def test_acoustic_facts_of_loud_fast_and_quiet_slow_speech():
    loud = Prosody(
        loudness_db=-12,
        f0_median_hz=250,
        f0_min_hz=150,
        f0_max_hz=400,
        f0_slope_st_per_s=3.0,
        speech_rate=4.5,
        speech_regions=[(0.0, 3.0)],
    )
    quiet = Prosody(
        loudness_db=-40,
        f0_median_hz=110,
        f0_min_hz=100,
        f0_max_hz=120,
        speech_rate=1.2,
        pauses=[(1.0, 2.0)],
        speech_regions=[(0.0, 4.0)],
    )
    a, b = acoustic_clues(loud), acoustic_clues(quiet)
    # arousal comes from the voice-quality reading (tests/test_voice_reading.py), not from these facts
    assert a.arousal is None and a.reading is None
    assert {"loud", "fast", "animated", "rising"} <= {f.name for f in a.facts}
    assert {"quiet", "slow", "monotone", "pauses"} <= {f.name for f in b.facts}
    assert a.fact("loud").value == -12 and a.fact("fast").value == 4.5 and a.fact("fast").unit == "words/s"
    assert b.fact("pauses").value == pytest.approx(1.0) and b.fact("pauses").number("count") == 1
    said = describe_acoustic(a, True)
    assert all(render(f) in said for f in a.facts) and "-12 dBFS" in said and "4.5 words/s" in said
    assert acoustic_clues(Prosody()).arousal is None
    assert describe_acoustic(acoustic_clues(Prosody()), True) == "The audio contains no detectable speech."
    assert describe_acoustic(acoustic_clues(Prosody()), False) == ""


def test_acoustic_change_against_own_first_half():
    t = np.linspace(0, 4, 40).tolist()
    p = Prosody(
        loudness_db=-25,
        speech_regions=[(0.0, 4.0)],
        contour={"time_s": t, "loudness_db": [-30.0] * 20 + [-22.0] * 20, "f0_hz": [200.0] * 40},
    )
    clues = acoustic_clues(p)
    assert clues.has("louder") and not clues.has("higher")
    assert clues.fact("louder").value == pytest.approx(8.0)


# --- fusion ---------------------------------------------------------------------------------------------
def test_prior_correction_lifts_sad_over_equally_probable_happy():
    """FER2013 has far more happy than sad faces, so the same probability is stronger evidence of sadness."""
    probs = np.zeros((2, 7), np.float32)
    probs[:, FER_LABELS.index("sad")] = probs[:, FER_LABELS.index("happy")] = 0.5
    clues = VisualClues(np.zeros(2), probs, probs[[0, 0, 1]])
    ratio = face_evidence(clues).ratio
    assert ratio["sadness"] > ratio["joy"] > 0


def test_sad_face_with_subdued_voice_is_sad_then_dejected():
    labels = fuse(_visual(["sad"] * 3), _voice(0.2, quiet=-40.0), TextualClues())
    words = [lab.word for lab in labels]
    assert words[0] == "sad" and "dejected" in words
    assert all(lab.evidence for lab in labels)
    dejected = next(lab for lab in labels if lab.word == "dejected").evidence[0]
    assert (dejected.modality, dejected.name, dejected.value) == ("voice", "subdued voice", 0.2)


def test_happy_face_with_activated_voice_is_excited():
    words = [lab.word for lab in fuse(_visual(["happy"] * 3), _voice(0.8, loud=-12.0), TextualClues())]
    assert words[0] == "happy" and "excited" in words


def test_smile_with_negative_words_is_sarcastic():
    text = TextualClues(text="Oh great, this is terrible.", valence=-0.6)
    labels = fuse(_visual(["happy"] * 3), _voice(None), text)
    assert "sarcastic" in [lab.word for lab in labels]
    assert lookup("sarcastic").family == "contempt"


def test_crying_then_smiling_names_both_and_relief():
    labels = fuse(_visual(["sad", "happy", "happy"]), AcousticClues(), TextualClues())
    words = [lab.word for lab in labels]
    assert {"sad", "happy", "relieved"} <= set(words)


def test_no_evidence_at_all_answers_the_priors_floor():
    empty = VisualClues(np.zeros(0), np.zeros((0, 7)), np.zeros((3, 7)))
    judgment = judge(empty, AcousticClues(), TextualClues())
    assert [lab.word for lab in judgment.labels] == judgment.prior_labels
    assert judgment.posterior == pytest.approx(dict(load_decision_tables().prior))
    assert judgment.moved == {}
    assert all(f.name in ("prior", "near norm") for lab in judgment.labels for f in lab.evidence)


def test_explicit_words_are_kept_and_label_count_bounded():
    text = TextualClues(text="I am nervous and grateful", valence=0.2, explicit=["nervous", "grateful"])
    labels = fuse(_visual(["fear", "surprise", "happy"], strength=0.6), _voice(0.9, loud=-12.0), text)
    words = [lab.word for lab in labels]
    assert {"nervous", "grateful"} <= set(words)
    assert 1 <= len(words) <= 6 and len(set(words)) == len(words)
    with pytest.raises(ValueError):
        FusionConfig(max_labels=7)


# --- description ----------------------------------------------------------------------------------------
def test_visual_description_and_timeline_cite_numbers():
    v = _visual(["sad", "sad", "happy"])
    text = describe_visual(v)
    # the time course in order, each phase's expression with its number
    assert text.index("beginning") < text.index("sad 0.90") < text.index("end") < text.index("happy 0.90")
    windows = timeline_windows(v, 1.0)
    assert windows[0]["top"] == "sad" and windows[-1]["top"] == "happy"
    assert set(windows[0]["scores"]) == set(FER_LABELS)


def test_explanation_leads_with_a_plain_sentence_then_video_audio_words():
    visual = _visual(["sad"] * 3)
    judgment = judge(visual, _voice(0.2, quiet=-40.0), TextualClues())
    text = explain("VIDEO.", "AUDIO.", "WORDS.", judgment, visual)
    lead = text[: text.index("VIDEO")]
    assert lead.startswith("Most likely ") and all(lab.word in lead for lab in judgment.labels)
    assert "The face pointed there" in lead and not any(ch.isdigit() for ch in lead)
    assert text.index("VIDEO") < text.index("AUDIO") < text.index("WORDS")
    first = judgment.labels[0].evidence[0]
    assert (first.modality, first.name, first.about) == ("face", "expression", "sad")
    assert render(first) in text[text.index("WORDS.") :] and f"{first.value:.2f}" in render(first)


def test_a_single_observation_is_described_without_a_time_course():
    probs = np.zeros((1, len(FER_LABELS)))
    probs[0, FER_LABELS.index("surprise")] = 0.8
    probs[0, FER_LABELS.index("neutral")] = 0.2
    clues = VisualClues(np.zeros(1), probs, np.repeat(probs, 3, axis=0), face_seconds=0.0, duration=0.0)
    text = describe_visual(clues)
    assert "surprise 0.80" in text
    assert not any(phase in text for phase in ("beginning", "middle", "end", "changes"))


def test_changes_between_halves_ignore_silence_outside_speech():
    t = np.linspace(0, 10, 100).tolist()
    p = Prosody(
        loudness_db=-25,
        speech_regions=[(5.0, 10.0)],
        contour={
            "time_s": t,
            "loudness_db": [-100.0] * 50 + [-25.0] * 50,
            "f0_hz": [0.0] * 50 + [180.0] * 50,
        },
    )
    assert not acoustic_clues(p).has("louder", "softer")


def test_no_sarcasm_without_a_measured_smile():
    text = TextualClues(text="This is terrible.", valence=-0.6, similar=[("cheerful", 0.5)])
    labels = fuse(_visual(["neutral"] * 3), _voice(None), text)
    assert "sarcastic" not in [lab.word for lab in labels]
    smiling = fuse(_visual(["happy"] * 3), _voice(None), text)
    why = next(lab for lab in smiling if lab.word == "sarcastic").evidence[0]
    assert why.name == "smile with negative words" and why.value == -0.6
    (smile,) = why.support
    assert (smile.modality, smile.name, smile.about) == ("face", "expression", "happy")
    assert smile.value == pytest.approx(0.9)
    assert "0.90" in render(why) and "-0.60" in render(why)


def test_voice_description_agrees_with_its_arousal():
    activated = describe_acoustic(_voice(0.9), True)
    assert "activated" in activated and "0.90" in activated
    assert "subdued" in describe_acoustic(_voice(0.1), True)
    assert not any(word in describe_acoustic(_voice(0.5), True) for word in ("activated", "subdued"))


def test_neutral_with_measured_support_cites_it():
    visual = _visual(["neutral"] * 3, strength=0.95)
    judgment = judge(visual, _voice(None), TextualClues())
    fact = judgment.labels[0].evidence[0]
    assert judgment.labels[0].word == "neutral"
    assert (fact.modality, fact.name, fact.about) == ("face", "expression", "neutral")
    assert fact.number("mean") == pytest.approx(0.95)
    text = explain("FACE.", "", "", judgment, visual)
    assert text.startswith("Mostly neutral") and render(fact) in text


def test_english_detection_tolerates_typographic_characters():
    from omni_emotion.engines.clue_textual import _is_english
    from omni_emotion.types import Transcript

    assert _is_english(Transcript(text="I’m not happy — it’s a café thing.", language="en"))
    assert _is_english(Transcript(text="I’m fine.", language=""))
    assert not _is_english(Transcript(text="我很高兴", language=""))
    assert not _is_english(Transcript(text="je suis content", language="fr"))


# --- the judgment: valence from the face and the words, arousal from the voice -------------------------
VOICE_FAMILIES = ("anger", "boredom", "disgust", "fear", "joy", "neutral", "sadness")


def _heard(weight: float = 1.0, **probabilities: float) -> AcousticClues:
    """Speech whose learned voice model gives ``probabilities`` (the rest spread evenly), trained on
    balanced classes."""
    rest = (1.0 - sum(probabilities.values())) / (len(VOICE_FAMILIES) - len(probabilities))
    p = {f: probabilities.get(f, rest) for f in VOICE_FAMILIES}
    model = VoiceEvidence(p, {f: v * len(VOICE_FAMILIES) for f, v in p.items()}, weight, "single", 1.0)
    return AcousticClues(True, 0.8, (), 3.0, model=model)


def test_a_voice_split_between_anger_and_joy_hedges_with_both():
    empty = VisualClues(np.zeros(0), np.zeros((0, 7)), np.zeros((3, 7)))
    words = [lab.word for lab in fuse(empty, _heard(anger=0.45, joy=0.45), TextualClues())]
    assert {"angry", "happy"} <= set(words)


def test_the_face_decides_valence_and_the_voice_arousal():
    voice = _heard(anger=0.6, joy=0.3)  # activated; leaning angry
    alone = judge(VisualClues(np.zeros(0), np.zeros((0, 7)), np.zeros((3, 7))), voice, TextualClues())
    assert alone.labels[0].word == "angry" and alone.valence_from == ""
    smiling = judge(_visual(["happy"] * 3, strength=0.7), voice, TextualClues())
    assert smiling.labels[0].word == "happy" and smiling.valence_from == "face"
    # the voice's arousal still counts: activated joy, and calm families lose to the activated ones
    assert smiling.posterior["joy"] > alone.posterior["joy"]
    assert smiling.posterior["sadness"] < 0.05
    text = explain("", "", "", smiling, _visual(["happy"] * 3, strength=0.7))
    assert "the face decided which feeling" in text


def test_a_calm_voice_moves_a_neutral_face_to_calm_families_not_to_joy():
    calm = judge(_visual(["neutral"] * 3, strength=0.6), _heard(sadness=0.5, boredom=0.3), TextualClues())
    assert (
        calm.posterior["sadness"] + calm.posterior["boredom"]
        > calm.posterior["joy"] + calm.posterior["anger"]
    )


def test_an_unfamiliar_voice_says_less():
    empty = VisualClues(np.zeros(0), np.zeros((0, 7)), np.zeros((3, 7)))
    sure = judge(empty, _heard(1.0, fear=0.9), TextualClues())
    shy = judge(empty, _heard(0.1, fear=0.9), TextualClues())
    assert sure.labels[0].word == "worried" and shy.posterior["fear"] < sure.posterior["fear"]


def test_when_the_face_disagrees_the_explanation_says_which_evidence_won():
    poor = [FaceQuality(0.2, 0.2, 0.5, 1.0)] * 9
    visual = replace(_visual(["happy"] * 3, strength=0.6), qualities=poor)
    judgment = judge(visual, _heard(anger=0.9), TextualClues())
    assert judgment.labels[0].word == "angry" and "happy" not in [lab.word for lab in judgment.labels]
    text = explain(describe_visual(visual), "", "", judgment, visual)
    assert "The face reads happy" in text and "but the voice weighs more" in text
    # a label's evidence never cites the face for a family the face did not show
    assert all(f.about != "happy" for f in judgment.labels[0].evidence)
