"""The learned voice model (engines/voice_model.py): its file, its two views, its distance weight, and that
bench/fit_voice.py reproduces the committed parameters exactly."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from omni_emotion.engines.voice_model import MIN_SPEAKER_S, VOICE_MODEL_FILE, load_voice_model
from omni_emotion.speech.voice import SpeakerVoice
from omni_emotion.types import VoiceProfile

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "dev" / "emodb-5speakers"
MODEL = load_voice_model()


def _profile(functionals, seconds: float = 2.0) -> VoiceProfile:
    return VoiceProfile(27.0, 5.0, -15.0, 25.0, 5.0, 3.5, 0.1, seconds, tuple(float(v) for v in functionals))


def _typical() -> np.ndarray:
    """A voice at the training data's mean in the single view (other functionals at the speaker view's mean
    offset plus the single view's means where it has them)."""
    x = np.zeros(len(MODEL.feature_names))
    view = MODEL.views["single"]
    x[list(view.columns)] = view.mean
    return x


def test_the_model_reads_the_functionals_the_meter_measures():
    from omni_emotion.speech.voice import VoiceMeter

    assert MODEL.feature_names == VoiceMeter().feature_names
    assert len(MODEL.feature_names) == 88
    assert set(MODEL.families) == {"anger", "boredom", "disgust", "fear", "joy", "neutral", "sadness"}
    assert sum(MODEL.train_share) == pytest.approx(1.0, abs=1e-6)
    assert "sha256" in MODEL.source["data"]


def test_no_functionals_no_evidence():
    assert MODEL.evidence(None) is None
    assert MODEL.evidence(_profile([])) is None


def test_a_typical_voice_gives_calibrated_probabilities_at_full_weight():
    heard = MODEL.evidence(_profile(_typical()))
    assert heard.view == "single" and heard.weight == 1.0
    assert sum(heard.probabilities.values()) == pytest.approx(1.0)
    shares = dict(zip(MODEL.families, MODEL.train_share))
    for family, p in heard.probabilities.items():
        assert heard.ratio[family] == pytest.approx(p / shares[family])


def test_a_voice_far_from_the_training_data_counts_less():
    far = _typical()
    far[list(MODEL.views["single"].columns)] += 25.0 * MODEL.views["single"].scale
    heard = MODEL.evidence(_profile(far))
    assert heard.distance > MODEL.views["single"].ood_distance and 0.0 < heard.weight < 0.05


def test_the_speaker_view_needs_enough_earlier_speech():
    voice = _profile(_typical())
    short = dataclasses.replace(voice, speech_seconds=MIN_SPEAKER_S - 1)
    enough = dataclasses.replace(voice, speech_seconds=MIN_SPEAKER_S)
    assert MODEL.evidence(voice, short).view == "single"
    assert MODEL.evidence(voice, enough).view == "speaker"


def test_the_speakers_typical_voice_keeps_every_functional():
    memory = SpeakerVoice()
    for k in range(3):
        memory.add(_profile(np.full(88, float(k)), seconds=10.0))
    typical = memory.typical()
    assert typical.functionals == tuple([1.0] * 88) and typical.speech_seconds == 30.0
    memory.add(_profile([], seconds=5.0))  # a hand-built profile without functionals is left out of them
    assert memory.typical().functionals == tuple([1.0] * 88)


@pytest.mark.slow
@pytest.mark.skipif(not DEV.is_dir(), reason="needs ../shared/data/dev/emodb-5speakers (the fitting data)")
def test_fit_voice_reproduces_the_committed_model_exactly(tmp_path):
    out = tmp_path / "voice_model.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "fit_voice.py"),
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "features.json"),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    assert out.read_bytes() == VOICE_MODEL_FILE.read_bytes()
