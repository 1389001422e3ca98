"""Silero VAD through onnxruntime, the region state machine, and mapping speech-only times back."""

from __future__ import annotations

import numpy as np
import pytest

from omni_emotion.errors import ConfigError
from omni_emotion.speech.asr import RegionMap
from omni_emotion.speech.vad import (
    FRAME_SAMPLES,
    SileroVad,
    VadConfig,
    find_silero_model,
    regions_from_probabilities,
)

FRAME_S = FRAME_SAMPLES / 16_000  # 0.032 s


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def test_model_is_found_without_importing_torch_code():
    path = find_silero_model()
    assert path.name == "silero_vad_16k_sequence.onnx" and path.is_file()


def test_silence_and_quiet_noise_have_no_speech(vad):
    rng = np.random.default_rng(1)
    assert vad.regions(np.zeros(64_000, np.float32)) == []
    assert vad.regions((0.003 * rng.standard_normal(64_000)).astype(np.float32)) == []
    assert vad.regions(np.zeros(0, np.float32)) == []


def test_probabilities_cover_every_frame_in_blocks():
    small_blocks = SileroVad(VadConfig(block_frames=7))
    audio = (0.1 * np.sin(np.arange(20_000) / 5.0)).astype(np.float32)
    probs = small_blocks.probabilities(audio)
    assert probs.shape == (int(np.ceil(20_000 / FRAME_SAMPLES)),)
    # Blocking carries the LSTM state and context, so the result does not depend on the block size.
    np.testing.assert_allclose(probs, SileroVad().probabilities(audio), atol=1e-5)


def test_hysteresis_min_speech_padding_and_merging():
    config = VadConfig(threshold=0.5, min_speech_ms=100, min_silence_ms=100, speech_pad_ms=0)
    probs = np.zeros(100)
    probs[10:20] = 0.9
    probs[20:22] = 0.4  # above the off threshold (0.35): still speech
    probs[22:30] = 0.9
    probs[50:52] = 0.9  # 64 ms: shorter than min_speech_ms, dropped
    probs[70:80] = 0.9
    regions = regions_from_probabilities(probs, config, duration_s=100 * FRAME_S)
    assert regions == [
        pytest.approx((10 * FRAME_S, 30 * FRAME_S)),
        pytest.approx((70 * FRAME_S, 80 * FRAME_S)),
    ]


def test_short_silences_do_not_split_and_padding_merges_and_clamps():
    probs = np.zeros(60)
    probs[0:10] = 0.9
    probs[12:20] = 0.9  # 64 ms gap < 300 ms min_silence: one region
    probs[40:60] = 0.9  # runs to the end
    config = VadConfig(min_speech_ms=0, speech_pad_ms=100)
    regions = regions_from_probabilities(probs, config, duration_s=60 * FRAME_S)
    assert regions == [
        pytest.approx((0.0, 20 * FRAME_S + 0.1)),
        pytest.approx((40 * FRAME_S - 0.1, 60 * FRAME_S)),
    ]
    wide = regions_from_probabilities(probs, VadConfig(min_speech_ms=0, speech_pad_ms=400), 60 * FRAME_S)
    assert wide == [pytest.approx((0.0, 60 * FRAME_S))]


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 1.5}, {"neg_threshold": 0.9}, {"min_speech_ms": -1}, {"block_frames": 0}]
)
def test_config_is_validated(kwargs):
    with pytest.raises(ConfigError):
        VadConfig(**kwargs)


def test_region_map_joins_regions_and_maps_times_back():
    audio = np.arange(16_000 * 5, dtype=np.float32)
    joined, mapping = RegionMap.cut(audio, [(1.0, 2.0), (3.0, 3.5), (4.9, 6.0)])
    assert joined.size == 16_000 + 8_000 + 1_600  # the last region is clamped to the audio
    assert joined[0] == 16_000 and joined[16_000] == 48_000
    assert mapping.to_original(0.5) == pytest.approx(1.5)
    assert mapping.to_original(1.25) == pytest.approx(3.25)
    assert mapping.to_original(1.0) == pytest.approx(3.0)  # a start at the joint begins the next region
    assert mapping.to_original(1.0, end=True) == pytest.approx(
        2.0
    )  # an end at the joint ends the earlier one
    assert mapping.to_original(99.0) == pytest.approx(5.0)  # past the end: clamped


def test_region_map_of_nothing():
    joined, _ = RegionMap.cut(np.ones(100, np.float32), [])
    assert joined.size == 0
