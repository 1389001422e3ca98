"""EmotionPipeline end to end on the shared clips (real offline models), engine choice and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from omni_emotion.errors import ConfigError, ModelNotFoundError
from omni_emotion.lexicon import lookup
from omni_emotion.perception import Perceiver, rescale_track
from omni_emotion.pipeline import EmotionPipeline, resolve_engine
from omni_emotion.types import Clip, FaceTrack, Prosody, Transcript


@pytest.fixture(scope="module")
def pipeline():
    try:
        return EmotionPipeline.create(engine="clues")
    except ModelNotFoundError as err:
        pytest.skip(str(err))


def test_resolve_engine():
    assert resolve_engine("clues") == "clues"
    assert resolve_engine("auto", "/nonexistent-weights") == "clues"  # no MLLM weights, no GPU here
    with pytest.raises(ConfigError, match="auto, clues, omni"):
        resolve_engine("gpt")


class _FakeFaces:
    def __init__(self):
        self.sizes = []

    def track(self, frames, speech_regions=None):
        frames = list(frames)
        self.sizes = [f.shape for _, f in frames]
        ts = np.array([t for t, _ in frames])
        box = np.tile([10, 10, 50, 50], (len(ts), 1)).astype(np.float32)
        return [FaceTrack(0, ts, box, np.ones(len(ts)), main=True)]


class _FakeSpeech:
    def vad(self, audio, sample_rate=16000):
        return [(0.0, 1.0)]

    def analyze(self, audio, sample_rate=16000, regions=None):
        return Transcript("hello", "en"), Prosody(speech_regions=[(0.0, 1.0)])


def test_perceiver_on_a_live_clip_and_box_rescaling():
    frames = np.zeros((3, 60, 80, 3), np.uint8)
    clip = Clip(frames, np.array([0.0, 0.5, 1.0]), np.zeros(16000, np.float32), 1.0)
    p = Perceiver(_FakeFaces(), _FakeSpeech()).perceive_clip(clip)
    assert p.transcript.text == "hello" and p.main_face is not None
    assert {"speech", "faces"} <= set(p.timings_ms)
    np.testing.assert_allclose(rescale_track(p.faces[0], 2.0).boxes[0], [20, 20, 100, 100])
    assert Perceiver(None, None).perceive_clip(clip).faces == []


def test_crying_clip_leads_with_sadness(pipeline, media_dir):
    a = pipeline.analyze_file(media_dir / "WolfgangLanger_Pexels.mp4")
    assert lookup(a.labels[0]).family == "sadness", a.labels
    assert "happy" in a.labels  # she laughs in the second half
    assert a.engine == "clues" and a.timeline and a.evidence[a.labels[0]]


def test_smiling_man_is_joyful(pipeline, media_dir):
    progress = []
    a = pipeline.analyze_file(media_dir / "face_noface.mov", progress=lambda f, m: progress.append(f))
    assert any(lookup(w) is not None and lookup(w).family == "joy" for w in a.labels), a.labels
    # the face is neutral for a third of the clip and smiles after: joy is named, neutral may lead
    assert a.labels[0] == "happy" or a.explanation.startswith("Mostly neutral; if anything, happy")
    assert "reads as happy" in a.explanation
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)


def test_cli_json_last_line(media_dir, capsys):
    from omni_emotion.cli import main

    assert main(["analyze", str(media_dir / "single_face.mp4"), "--engine", "clues", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    data = json.loads(out[-1])
    assert data["engine"] == "clues" and data["labels"]
    assert main(["analyze", str(media_dir / "missing.mp4"), "--engine", "clues"]) == 2


def test_non_english_speech_is_quoted_with_its_translation(pipeline, tmp_path):
    """Spanish speech (espeak-ng): the explanation quotes the words and their English, the text cue reads
    the English."""
    import shutil
    import subprocess

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path / "triste.wav"
    said = "Estoy muy triste. Hoy es un día terrible y me siento muy solo."
    subprocess.run(["espeak-ng", "-v", "es", "-s", "140", "-w", str(path), said], check=True)
    a = pipeline.analyze_file(path)
    assert a.language == "es" and "[English: " in a.transcript
    original, english = a.transcript.split(" [English: ")
    assert (
        f'The person says: "{original}' in a.explanation
        and f'In English: "{english.rstrip("]")}' in a.explanation
    )
    assert "The translated wording is" in a.clues.textual and "negative" in a.clues.textual
    # the words reader reads the translation as sad (espeak's flat synthetic voice may still sound angry to the
    # voice model, and the judgment weighs both)
    assert "the words sound most like sadness" in a.clues.textual
