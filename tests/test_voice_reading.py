"""The single-utterance acoustic path: eGeMAPS numbers -> population-norm reading -> acoustic clues."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni_emotion.engines.clue_acoustic import acoustic_clues, voice_cues
from omni_emotion.engines.explain import describe_acoustic, render
from omni_emotion.engines.voice_model import VoiceEvidence
from omni_emotion.engines.voice_reading import (
    ALPHA_NORM_DB,
    CUES,
    HAMMARBERG_NORM_DB,
    HNR_NORM_DB,
    PAUSE_NORM_S,
    RANGE_NORM_ST,
    REGISTERS,
    TEMPO_NORM,
    cue_scores,
    read_voice,
)
from omni_emotion.speech.voice import VoiceMeter, speech_audio
from omni_emotion.types import SAMPLE_RATE, Prosody, VoiceProfile

NEUTRAL_LOW = VoiceProfile(
    f0_mean_st=REGISTERS["lower"],
    f0_range_st=RANGE_NORM_ST,
    alpha_ratio_db=ALPHA_NORM_DB,
    hammarberg_db=HAMMARBERG_NORM_DB,
    hnr_db=HNR_NORM_DB,
    voiced_segments_per_s=TEMPO_NORM,
    mean_unvoiced_s=PAUSE_NORM_S,
    speech_seconds=3.0,
)


def _voice(**changes: float) -> VoiceProfile:
    return dataclasses.replace(NEUTRAL_LOW, **changes)


# A tense, high, fast lower-register voice (EMO-DB speaker 03's anger sits about here).
ANGRY_LOW = _voice(f0_mean_st=35.5, alpha_ratio_db=-7.0, hammarberg_db=16.0, voiced_segments_per_s=4.0)
SAD_LOW = _voice(
    f0_mean_st=23.5,
    f0_range_st=3.5,
    alpha_ratio_db=-19.5,
    hammarberg_db=29.5,
    voiced_segments_per_s=2.8,
    mean_unvoiced_s=0.2,
)


def test_cues_are_zero_at_the_norms_of_either_register():
    assert np.allclose(cue_scores(NEUTRAL_LOW, "lower"), 0.0)
    higher = _voice(f0_mean_st=REGISTERS["higher"])
    assert np.allclose(cue_scores(higher, "higher"), 0.0)
    assert cue_scores(higher, "lower")[CUES.index("pitch")] > 3.0


def test_one_utterance_is_read_without_earlier_speech():
    angry, sad = read_voice(ANGRY_LOW), read_voice(SAD_LOW)
    assert angry.top[0] == "anger" and angry.arousal > 0.8 and angry.valence < 0
    assert sad.top[0] == "sadness" and sad.arousal < 0.3
    assert read_voice(NEUTRAL_LOW).top[0] == "neutral"


def test_a_calm_higher_voice_is_not_an_aroused_lower_one():
    """The same pitch means calm in the higher register unless tension and tempo say otherwise."""
    calm_high = _voice(f0_mean_st=REGISTERS["higher"])
    reading = read_voice(calm_high)
    assert reading.top[0] == "neutral" and reading.register == "higher"
    tense_high = dataclasses.replace(calm_high, alpha_ratio_db=-7.0, hammarberg_db=16.0)
    assert read_voice(tense_high).arousal > reading.arousal


def test_joy_and_anger_differ_by_tension_and_range():
    joyful = _voice(f0_mean_st=35.0, f0_range_st=7.5, alpha_ratio_db=-13.0, hammarberg_db=22.0, hnr_db=7.5)
    assert read_voice(joyful).top[0] == "joy"
    assert read_voice(ANGRY_LOW).families["anger"] > read_voice(joyful).families["anger"]


finite = st.floats(-1e3, 1e3, allow_nan=False)


@given(finite, finite, finite, finite, finite, st.floats(0, 50), st.floats(0, 5))
def test_reading_is_a_distribution_for_any_numbers(pitch, rng, alpha, hammarberg, hnr, tempo, pause):
    reading = read_voice(VoiceProfile(pitch, rng, alpha, hammarberg, hnr, tempo, pause, 2.0))
    assert sum(reading.families.values()) == pytest.approx(1.0)
    assert 0.0 <= reading.arousal <= 1.0 and -1.0 <= reading.valence <= 1.0
    assert 0.0 <= reading.register_probability <= 1.0


@given(st.floats(-3, 3), st.floats(0, 3))
def test_more_tension_never_lowers_arousal(base, extra):
    low = _voice(alpha_ratio_db=ALPHA_NORM_DB + 3 * base)
    high = _voice(alpha_ratio_db=ALPHA_NORM_DB + 3 * (base + extra))
    assert read_voice(high).arousal >= read_voice(low).arousal - 1e-12


def test_acoustic_clues_cite_the_cues_specific_to_the_family():
    clues = acoustic_clues(Prosody(loudness_db=-20, speech_regions=[(0.0, 3.0)], voice=ANGRY_LOW))
    assert clues.reading is not None and clues.arousal == clues.reading.arousal
    anger = voice_cues(clues, "anger")
    tension = next(cue for cue in anger if cue.about == "tension")
    assert tension.number("z") >= 1.0 and tension.value == ANGRY_LOW.alpha_ratio_db
    assert f"{tension.value:.1f} dB" in render(tension)
    assert all(cue.about != "tension" for cue in voice_cues(clues, "sadness"))  # a tense voice is not sad
    assert voice_cues(clues, "disgust") == []  # the learned model knows disgust; the norm patterns do not
    assert clues.reading.top[0] == "anger"
    # the paragraph says what the learned voice model hears, with the measured cues pointing the same way
    heard = VoiceEvidence({"anger": 0.7, "neutral": 0.3}, {"anger": 4.9, "neutral": 2.1}, 1.0, "single", 1.0)
    text = describe_acoustic(dataclasses.replace(clues, model=heard), True)
    assert "To the voice model, it sounds most like anger (0.70)" in text
    assert all(render(cue) in text for cue in anger)


def test_speech_audio_joins_regions_within_a_budget():
    audio = np.arange(10 * SAMPLE_RATE, dtype=np.float32)
    joined = speech_audio(audio, [(1.0, 2.0), (5.0, 6.0)])
    assert joined.size == pytest.approx(2.2 * SAMPLE_RATE, abs=2)
    assert speech_audio(audio, [(0.0, 10.0)], max_seconds=3.0).size == 3 * SAMPLE_RATE
    assert speech_audio(audio, []).size == 0


@pytest.fixture(scope="module")
def meter() -> VoiceMeter:
    return VoiceMeter()


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == SAMPLE_RATE and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0


def test_meter_measures_synthetic_speech_and_refuses_silence(meter, tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-w", str(path), "I can hardly believe it happened."], check=True
    )
    from omni_emotion.media import load_clip

    clip = load_clip(path)
    profile = meter.measure(clip.audio, [(0.0, clip.audio_seconds)])
    assert profile is not None and 20.0 < profile.f0_mean_st < 35.0  # espeak-ng's default voice is low
    assert profile.speech_seconds == pytest.approx(clip.audio_seconds, abs=0.1)
    assert meter.measure(np.zeros(3 * SAMPLE_RATE, np.float32), [(0.0, 3.0)]) is None
    assert meter.measure(clip.audio, [(0.0, 0.2)]) is None


def test_real_acted_speech_single_utterances(meter, data_dir):
    """EMO-DB speaker 03: anger reads as aroused and non-neutral, sadness as subdued, each on its own."""
    folder = data_dir / "dev" / "emodb-speaker03"
    angry = read_voice(
        meter.measure(a := _read_wav(folder / "emodb_03a01Wa.wav"), [(0.0, a.size / SAMPLE_RATE)])
    )
    sad = read_voice(
        meter.measure(s := _read_wav(folder / "emodb_03a02Ta.wav"), [(0.0, s.size / SAMPLE_RATE)])
    )
    assert angry.top[0] != "neutral" and angry.arousal > 0.7
    assert sad.arousal < 0.4 and sad.arousal < angry.arousal


def test_the_speakers_own_voice_moves_the_norms_a_third_of_the_way():
    from omni_emotion.engines.voice_reading import SPEAKER_WEIGHT, speaker_weight
    from omni_emotion.speech.voice import SpeakerVoice

    memory = SpeakerVoice(max_profiles=5)
    assert memory.typical() is None and speaker_weight(None) == 0.0
    for _ in range(3):  # a speaker whose ordinary voice is tense and high: 3 x 2 s counted, not enough yet
        memory.add(ANGRY_LOW, fresh_seconds=2.0)
    assert memory.typical().speech_seconds == pytest.approx(6.0) and speaker_weight(memory.typical()) == 0.0
    for _ in range(30):  # overlapping windows count only their fresh speech; the oldest fall out
        memory.add(ANGRY_LOW, fresh_seconds=10.0)
    typical = memory.typical()
    assert typical.speech_seconds == pytest.approx(5 * ANGRY_LOW.speech_seconds)
    assert typical.f0_mean_st == ANGRY_LOW.f0_mean_st
    assert 0.0 < speaker_weight(typical) < SPEAKER_WEIGHT
    long_known = dataclasses.replace(typical, speech_seconds=600.0)
    assert speaker_weight(long_known) == SPEAKER_WEIGHT
    alone, relative = read_voice(ANGRY_LOW), read_voice(ANGRY_LOW, long_known)
    # the same voice sounds less aroused against a speaker who always sounds like that, but still aroused
    assert relative.arousal < alone.arousal and relative.top[0] != "neutral"
    assert relative.speaker_seconds == 600.0 and alone.speaker_seconds == 0.0
    clues = acoustic_clues(
        Prosody(loudness_db=-20, speech_regions=[(0.0, 3.0)], voice=ANGRY_LOW, speaker=long_known)
    )
    heard = VoiceEvidence({"anger": 0.6, "joy": 0.4}, {"anger": 4.2, "joy": 2.8}, 1.0, "speaker", 1.0)
    text = describe_acoustic(dataclasses.replace(clues, model=heard), True)
    assert "measured against this speaker's own earlier speech" in text
