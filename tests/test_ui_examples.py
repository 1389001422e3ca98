"""The spoken example clips the app makes for the Analyze tab."""

from __future__ import annotations

import shutil

import pytest

from omni_emotion.media import load_clip
from omni_emotion.ui.examples import EXAMPLES, SpokenExample, make_examples

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian's espeak-ng")


def test_examples_are_made_once_with_speech_and_a_picture(tmp_path):
    paths = make_examples(tmp_path)
    assert [p.stem for p in paths] == [e.name for e in EXAMPLES]
    for path in paths:
        clip = load_clip(path)
        assert clip.has_video and clip.audio_seconds > 2.0
        assert abs(clip.duration - clip.audio_seconds) < 0.6  # the card lasts as long as the speech
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert make_examples(tmp_path) == paths and [p.stat().st_mtime_ns for p in paths] == stamps
    assert not list(tmp_path.glob("*.part.mp4"))


def test_delivery_settings_change_the_speech(tmp_path):
    slow, fast = (
        SpokenExample(name, "I feel fine today, thank you for asking.", words_per_min=rate)
        for name, rate in (("slow", 100), ("fast", 220))
    )
    slow_path, fast_path = make_examples(tmp_path, (slow, fast))
    assert load_clip(slow_path).audio_seconds > 1.5 * load_clip(fast_path).audio_seconds


def test_the_face_example_shows_a_real_face_in_every_frame(tmp_path):
    from omni_emotion.faces.registry import load_detector
    from omni_emotion.media import iter_frames
    from omni_emotion.ui.examples import example_poster, portrait

    if portrait() is None:
        pytest.skip("scikit-image's sample portrait is not installed")
    face = next(e for e in EXAMPLES if e.picture)
    (path,) = make_examples(tmp_path, (face,))
    assert path.stat().st_size < 1_000_000
    detector = load_detector("yuface")
    frames = [f for _, f in iter_frames(path, fps=2)]
    assert len(frames) >= 4 and all(detector.detect(f) for f in frames)
    assert example_poster(path).shape[2] == 3
