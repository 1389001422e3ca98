"""Prosody math on synthetic signals whose answers are known: pitch, level, slope, rate and pauses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from omni_emotion.errors import ConfigError
from omni_emotion.speech.prosody import (
    MAX_CONTOUR_POINTS,
    ProsodyConfig,
    describe,
    frame_rms_db,
    measure_prosody,
    yin,
)
from omni_emotion.types import Prosody, Word


def harmonics(f0: float, seconds: float = 1.0, rate: int = 16_000, amplitude: float = 0.3) -> np.ndarray:
    """Sum of all harmonics below Nyquist with 1/k amplitudes (a sawtooth-like voice source)."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, int(rate / 2 / f0) + 1))
    return (amplitude * x / np.abs(x).max()).astype(np.float32)


def glottal_pulses(
    f0: float, seconds: float = 1.0, rate: int = 16_000, formant_hz: float = 700.0
) -> np.ndarray:
    """An impulse train at f0 through one vowel-like resonance: a crude voiced speech sound."""
    x = np.zeros(int(seconds * rate))
    x[np.round(np.arange(0, x.size, rate / f0)).astype(int).clip(max=x.size - 1)] = 1.0
    y = lfilter([1.0], [1.0, -1.8 * np.cos(2 * np.pi * formant_hz / rate), 0.81], x)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


@pytest.mark.parametrize("f0", [220.0, 330.0])
@pytest.mark.parametrize("source", [harmonics, glottal_pulses])
@pytest.mark.parametrize("rate", [16_000, 8_000])
def test_pitch_of_synthetic_voices(f0, source, rate):
    audio = source(f0, seconds=1.5, rate=rate)
    p = measure_prosody(audio, rate, [(0.0, 1.5)])
    assert p.f0_median_hz == pytest.approx(f0, rel=0.05)
    assert p.voiced_ratio > 0.9
    assert p.f0_jitter is not None and p.f0_jitter < 0.01


@settings(max_examples=25, deadline=None)
@given(
    f0=st.floats(70.0, 450.0),
    amplitude=st.floats(0.005, 1.0),
    rate=st.sampled_from([8_000, 16_000, 22_050, 44_100]),
)
def test_yin_tracks_any_steady_pitch(f0, amplitude, rate):
    track, aperiodicity = yin(harmonics(f0, seconds=0.4, rate=rate, amplitude=amplitude), rate)
    assert len(track) == len(aperiodicity) == int(np.ceil(0.4 * rate / round(0.01 * rate)))
    voiced = track[np.isfinite(track)]
    assert voiced.size > 0.8 * track.size
    assert np.median(voiced) == pytest.approx(f0, rel=0.05)


def test_silence_and_noise_are_unvoiced():
    rng = np.random.default_rng(0)
    for audio in (np.zeros(16_000, np.float32), (0.1 * rng.standard_normal(16_000)).astype(np.float32)):
        track, _ = yin(audio, 16_000)
        assert np.isfinite(track).mean() < 0.1


def test_silence_gaps_inside_a_voice_do_not_produce_fake_high_pitch():
    voice = glottal_pulses(120.0, seconds=0.5)
    audio = np.concatenate([voice, np.zeros(8_000, np.float32), voice])
    p = measure_prosody(audio, 16_000, [(0.0, 1.5)])
    assert p.f0_max_hz == pytest.approx(120.0, rel=0.05)
    assert 0.5 < p.voiced_ratio < 0.75


def test_rising_pitch_has_positive_slope_and_is_described():
    rate, seconds = 16_000, 1.0
    t = np.arange(int(rate * seconds)) / rate
    f = 150.0 * 2.0**t  # one octave per second = 12 semitones per second
    audio = (0.3 * np.sin(2 * np.pi * np.cumsum(f) / rate)).astype(np.float32)
    p = measure_prosody(audio, rate, [(0.0, seconds)])
    assert p.f0_slope_st_per_s == pytest.approx(12.0, rel=0.1)
    assert "rising pitch" in p.description


def test_loudness_of_a_sine_is_its_rms_in_dbfs():
    audio = (0.5 * np.sin(2 * np.pi * 200 * np.arange(16_000) / 16_000)).astype(np.float32)
    p = measure_prosody(audio, 16_000, [(0.0, 1.0)])
    assert p.loudness_db == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)
    assert p.loudness_range_db < 1.0
    levels = frame_rms_db(audio, 16_000)
    assert levels.shape == (100,)
    assert np.median(levels) == pytest.approx(-9.03, abs=0.1)


def test_loudness_only_counts_speech_regions():
    audio = np.concatenate([harmonics(200.0, 1.0, amplitude=0.5), harmonics(200.0, 1.0, amplitude=0.05)])
    loud = measure_prosody(audio, 16_000, [(0.0, 1.0)])
    quiet = measure_prosody(audio, 16_000, [(1.0, 2.0)])
    assert loud.loudness_db - quiet.loudness_db == pytest.approx(20.0, abs=0.5)


def test_no_regions_or_no_audio_means_no_speech():
    audio = harmonics(200.0)
    for p in (measure_prosody(audio, 16_000, []), measure_prosody(np.zeros(0, np.float32), 16_000, [(0, 1)])):
        assert p == Prosody(description="no speech")


def test_speech_rate_in_words_and_cjk_syllables():
    audio = harmonics(150.0, 2.0)
    words = [Word(0.1 * i, 0.1 * i + 0.08, w) for i, w in enumerate(["I", "am", "very", "happy", "today"])]
    p = measure_prosody(audio, 16_000, [(0.0, 2.0)], words)
    assert (p.speech_rate, p.speech_rate_unit) == (2.5, "words/s")
    zh = [Word(0.0, 0.4, "我很"), Word(0.4, 0.8, "高兴"), Word(0.8, 1.0, "。")]
    p = measure_prosody(audio, 16_000, [(0.0, 2.0)], zh)
    assert (p.speech_rate, p.speech_rate_unit) == (2.0, "syllables/s")


def test_pauses_come_from_region_gaps_and_word_gaps():
    audio = harmonics(150.0, 4.0)
    words = [Word(0.0, 0.5, "one"), Word(0.6, 1.0, "two"), Word(1.5, 2.0, "three"), Word(3.2, 3.5, "four")]
    p = measure_prosody(audio, 16_000, [(0.0, 2.0), (3.0, 4.0)], words)
    assert p.pauses == [(1.0, 1.5), (2.0, 3.2)]
    assert p.speech_regions == [(0.0, 2.0), (3.0, 4.0)]
    assert "2 pauses" in p.description


def test_contour_is_bounded_for_long_audio():
    audio = glottal_pulses(110.0, seconds=60.0)
    p = measure_prosody(audio, 16_000, [(0.0, 60.0)])
    lengths = {len(v) for v in p.contour.values()}
    assert len(lengths) == 1 and 0 < lengths.pop() <= MAX_CONTOUR_POINTS
    assert set(p.contour) == {"time_s", "f0_hz", "loudness_db"}


def test_description_words_follow_the_numbers():
    p = Prosody(
        loudness_db=-12.0,
        f0_median_hz=260.0,
        f0_min_hz=180.0,
        f0_max_hz=400.0,
        f0_slope_st_per_s=-3.0,
        f0_jitter=0.12,
        speech_rate=4.0,
        speech_rate_unit="words/s",
        speech_regions=[(0.0, 3.0)],
    )
    text = describe(p)
    for phrase in (
        "loud (-12 dBFS)",
        "high falling pitch",
        "wide pitch range (14 st)",
        "unsteady voice",
        "fast speech",
    ):
        assert phrase in text
    assert describe(Prosody()) == "no speech"


def test_config_is_validated():
    with pytest.raises(ConfigError):
        ProsodyConfig(fmin_hz=300, fmax_hz=100)
    with pytest.raises(ConfigError):
        ProsodyConfig(yin_threshold=0.5, voicing_threshold=0.2)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 6_000),
    rate=st.sampled_from([4_000, 8_000, 16_000, 44_100, 48_000]),
    gain=st.sampled_from([0.0, 1e-6, 0.3, 5.0]),
    regions=st.lists(st.tuples(st.floats(-1.0, 2.0), st.floats(-1.0, 2.0)), max_size=4),
    seed=st.integers(0, 10),
)
def test_any_audio_and_regions_give_a_prosody_without_error(n, rate, gain, regions, seed):
    audio = (gain * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)
    p = measure_prosody(audio, rate, regions)
    assert isinstance(p.description, str) and p.description
    for value in (p.loudness_db, p.f0_median_hz, p.f0_slope_st_per_s, p.f0_jitter):
        assert value is None or np.isfinite(value)
    assert 0.0 <= p.voiced_ratio <= 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1.0, 1.0, width=32), max_size=400),
    st.floats(0.5, 0.9999),
)
def test_dc_block_gives_lfilters_bits(samples, pole):
    from omni_emotion.speech.prosody import dc_block

    audio = np.asarray(samples, np.float32)
    assert np.array_equal(dc_block(audio, pole), lfilter([1.0, -1.0], [1.0, -pole], audio))


def test_dc_block_on_long_audio_takes_scipys_path_with_the_same_bits():
    from omni_emotion.speech.prosody import DC_BLOCK_LOOP_SAMPLES, dc_block

    rng = np.random.default_rng(3)
    pole = float(np.exp(-2.0 * np.pi * 13.0 / 16000))
    for size in (DC_BLOCK_LOOP_SAMPLES, DC_BLOCK_LOOP_SAMPLES + 1):
        audio = rng.standard_normal(size).astype(np.float32)
        assert np.array_equal(dc_block(audio, pole), lfilter([1.0, -1.0], [1.0, -pole], audio))
