"""ClueEngine with its real offline models on synthetic perception (no face/speech models needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.types import (
    Analysis,
    Clip,
    FaceTrack,
    Perception,
    Prosody,
    Segment,
    Transcript,
    VoiceProfile,
)

# eGeMAPS numbers of a high, tense, quick lower-register voice with a wide range (an excited man)
ACTIVATED_VOICE = VoiceProfile(
    f0_mean_st=35.0,
    f0_range_st=7.5,
    alpha_ratio_db=-12.0,
    hammarberg_db=21.0,
    hnr_db=7.0,
    voiced_segments_per_s=4.2,
    mean_unvoiced_s=0.08,
    speech_seconds=2.4,
)


@pytest.fixture(scope="module")
def engine():
    from omni_emotion.engines.clues import ClueEngine

    try:
        return ClueEngine()
    except ModelNotFoundError as err:
        pytest.skip(str(err))


def _clip(frames: np.ndarray | None = None, seconds: float = 3.0) -> Clip:
    frames = np.zeros((0, 1, 1, 3), np.uint8) if frames is None else frames
    ts = np.linspace(0, seconds, len(frames), endpoint=False)
    return Clip(frames, ts, np.zeros(int(16000 * seconds), np.float32), seconds)


def _said(text: str, language: str = "en") -> Transcript:
    return Transcript(text, language, 0.99, [Segment(0.0, 2.0, text)])


def test_textual_clues_valence_similarity_and_negation(engine):
    from omni_emotion.engines.clue_textual import textual_clues

    happy = textual_clues(_said("I'm so happy today, this is wonderful!"), engine.text_models)
    assert happy.valence > 0.5 and "happy" in happy.explicit
    assert happy.similar and happy.similar[0][1] >= 0.35
    denial = textual_clues(_said("I am not angry at all, I'm just tired."), engine.text_models)
    assert "angry" in denial.negated and "angry" not in denial.explicit and "tired" in denial.explicit
    chinese = textual_clues(_said("我今天很高兴", "zh"), engine.text_models)
    assert chinese.valence is None and chinese.text == "我今天很高兴"


def test_words_only_clip_gives_json_contract(engine):
    assert engine.name == "clues"
    speech = Prosody(
        loudness_db=-14,
        f0_median_hz=240,
        f0_min_hz=160,
        f0_max_hz=380,
        speech_rate=4.0,
        speech_regions=[(0.2, 2.6)],
        voice=ACTIVATED_VOICE,
    )
    p = Perception(_clip(), [], _said("This is the best news ever, I'm thrilled!"), speech)
    calls = []
    a = engine.analyze(p, progress=lambda f, m: calls.append(f))
    data = json.loads(a.to_json())  # the public contract: these keys, in this order, carrying the answer
    assert list(data) == list(Analysis.JSON_KEYS)
    assert (data["engine"], data["labels"], data["explanation"]) == ("clues", a.labels, a.explanation)
    assert (
        data["evidence"] == {label: list(facts) for label, facts in a.evidence.items()} and data["evidence"]
    )
    assert a.labels[0] in {"happy", "thrilled", "excited"} and "excited" in a.labels
    assert set(a.to_dict()) == set(Analysis.JSON_KEYS)
    assert 'The person says: "This is the best news ever' in a.explanation
    assert a.clues.visual == "" and "loud" in a.clues.acoustic
    assert a.timeline == [] and calls[-1] == 1.0
    assert all(a.evidence[label] for label in a.labels)


def test_chinese_transcript_is_quoted_as_said(engine):
    p = Perception(_clip(), [], _said("我真的很难过", "zh"), Prosody())
    a = engine.analyze(p)
    assert "我真的很难过" in a.explanation and a.language == "zh"
    # without a translation the words cannot be read, so nothing moves the answer from the prior's
    assert a.labels == ["angry", "happy"] and "most common answer" in a.explanation


def test_translated_words_feed_the_textual_clue(engine):
    said = Transcript(
        "我真的很难过,我很伤心",
        "zh",
        0.98,
        [Segment(0.0, 2.0, "我真的很难过,我很伤心")],
        translation="I am really sad, I am heartbroken.",
    )
    a = engine.analyze(Perception(_clip(), [], said, Prosody()))
    assert (
        '"我真的很难过,我很伤心"' in a.explanation
        and 'In English: "I am really sad, I am heartbroken."' in a.explanation
    )
    assert "The translated wording is clearly negative" in a.clues.textual
    assert (
        a.labels[0] == "sad"
        and a.transcript == "我真的很难过,我很伤心 [English: I am really sad, I am heartbroken.]"
    )


def test_face_track_drives_timeline(engine):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(6, 120, 160, 3), dtype=np.uint8)
    clip = _clip(frames)
    track = FaceTrack(
        0,
        clip.timestamps.copy(),
        np.tile([40, 20, 120, 100], (6, 1)).astype(np.float32),
        np.ones(6, np.float32),
        main=True,
    )
    other = FaceTrack(
        1,
        clip.timestamps[:2].copy(),
        np.tile([0, 0, 30, 30], (2, 1)).astype(np.float32),
        np.ones(2, np.float32),
    )
    a = engine.analyze(Perception(clip, [track, other], Transcript(), Prosody()))
    assert len(a.timeline) == 3 and all(abs(sum(w["scores"].values()) - 1) < 1e-3 for w in a.timeline)
    assert "1 other face also appears." in a.clues.visual
    assert [f["main"] for f in a.faces] == [True, False]
