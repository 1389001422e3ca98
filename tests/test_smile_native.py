"""openSMILE through its C API gives the `opensmile` package's eGeMAPSv02 functionals, bit for bit."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from omni_emotion.speech.smile_native import EgemapsExtractor

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"


@pytest.fixture(scope="module")
def extractors():
    opensmile = pytest.importorskip("opensmile", reason="the opensmile wheel is not installed")
    package = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals
    )

    def expected(signal: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Segment too short, filling with NaN."
            return package.process_signal(signal, 16000).iloc[0].to_numpy()

    return EgemapsExtractor(), expected, tuple(package.feature_names)


def _voiced(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A vowel-like signal: a gliding harmonic series with a little noise, peaking near full scale (the cast
    to 16-bit PCM must wrap and clip as the package's does)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / 16000
    wave = sum(np.sin(k * phase) / k for k in range(1, 8)) + 0.02 * rng.standard_normal(t.size)
    return (wave / np.abs(wave).max()).astype(np.float32)


def test_the_names_are_the_packages(extractors):
    mine, _, names = extractors
    assert mine.feature_names == names and len(names) == 88


@pytest.mark.parametrize(
    "signal",
    [
        _voiced(2.0, 120.0, 0),
        _voiced(3.5, 220.0, 1),
        _voiced(20.0, 180.0, 2),
        np.zeros(16000, np.float32),  # silence
        np.random.default_rng(3).uniform(-1, 1, 24000).astype(np.float32),  # noise at full scale
    ],
    ids=["low-voice", "high-voice", "20s", "silence", "noise"],
)
def test_synthetic_signals_match_bit_for_bit(extractors, signal):
    mine, expected, _ = extractors
    ours, theirs = mine(signal, 16000), expected(signal)
    assert ours.dtype == np.float32 and theirs.dtype == np.float32
    assert np.array_equal(ours, theirs, equal_nan=True)


def test_too_short_a_signal_gives_nan_as_the_package_does(extractors):
    mine, expected, _ = extractors
    short = _voiced(0.05, 150.0, 4)
    assert np.isnan(mine(short, 16000)).all() and np.isnan(expected(short)).all()


def test_real_speech_matches_bit_for_bit(extractors):
    from omni_emotion.media import load_audio

    files = sorted(DEV.glob("emodb-speaker03/*.wav"))
    if not files:
        pytest.skip(f"{DEV} is absent (the shared dev recordings sit beside the checkout)")
    mine, expected, _ = extractors
    for path in files:
        audio = load_audio(path)
        assert np.array_equal(mine(audio, 16000), expected(audio), equal_nan=True), path.name


def test_measuring_a_voice_imports_neither_the_package_nor_pandas():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from omni_emotion.speech.voice import VoiceMeter\n"
        "t = np.arange(48000) / 16000\n"
        "audio = (0.5 * np.sin(2 * np.pi * 150 * t) + 0.2 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)\n"
        "profile = VoiceMeter().measure(audio, [(0.0, 3.0)])\n"
        "assert profile is not None and len(profile.functionals) == 88\n"
        "print(sorted(m for m in ('opensmile', 'pandas', 'audinterface') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
