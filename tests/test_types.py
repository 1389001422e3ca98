"""Core types: the Analysis JSON contract of DESIGN.md and Clip validation; media's pure helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.media import fit_size, resample_audio, shrink_frame
from omni_emotion.types import Analysis, Clip, Clues, FaceTrack

DESIGN_KEYS = [
    "labels",
    "explanation",
    "clues",
    "transcript",
    "language",
    "faces",
    "timeline",
    "engine",
    "timings_ms",
    "evidence",
]


def test_analysis_json_has_exactly_the_design_keys():
    analysis = Analysis(
        labels=["nervous", "surprised"],
        explanation="Er sagt: 我很高兴.",
        clues=Clues(visual="brows raised", acoustic="", textual="says he is fine"),
        engine="clues",
        timings_ms={"total": 12.345},
        evidence={"nervous": ["fast speech"]},
    )
    data = json.loads(analysis.to_json())
    assert list(data) == DESIGN_KEYS
    assert data["clues"] == {"visual": "brows raised", "acoustic": "", "textual": "says he is fine"}
    assert data["evidence"] == {"nervous": ["fast speech"]}  # each label's reasons, as the page shows them
    assert "我很高兴" in analysis.to_json()  # non-ASCII kept as said
    assert Analysis.from_dict(data).to_dict() == data


def test_clip_rejects_inconsistent_arrays():
    with pytest.raises(ValueError):
        Clip(
            frames=np.zeros((2, 4, 4, 3), np.uint8),
            timestamps=np.zeros(3),
            audio=np.zeros(0, np.float32),
            duration=1,
        )
    with pytest.raises(ValueError):
        Clip(
            frames=np.zeros((2, 4, 4, 3), np.float32),
            timestamps=np.zeros(2),
            audio=np.zeros(0, np.float32),
            duration=1,
        )


def test_face_track_summary():
    track = FaceTrack(
        track_id=3,
        timestamps=np.array([0.0, 0.2, 0.4]),
        boxes=np.array([[0, 0, 10, 10], [0, 0, 20, 20], [0, 0, 30, 30]], np.float32),
        scores=np.array([0.9, 0.8, 0.7]),
        main=True,
    )
    assert track.summary() == {
        "track_id": 3,
        "main": True,
        "start_s": 0.0,
        "end_s": 0.4,
        "detections": 3,
        "mean_face_px": 20.0,
        "mean_score": 0.8,
    }


@given(st.integers(2, 9000), st.integers(2, 9000), st.one_of(st.none(), st.integers(16, 4096)))
def test_fit_size_even_bounds_and_aspect(width, height, max_side):
    w, h = fit_size(width, height, max_side, even=True)
    if max_side is None or max(width, height) <= max_side:
        assert (w, h) == (width, height)
    else:
        assert max(w, h) <= max_side + 1 and w % 2 == 0 and h % 2 == 0
        # even sizes: each side within 1 px of the exact scaled size (at least 2 px)
        scale = max_side / max(width, height)
        assert abs(w - max(2.0, width * scale)) <= 1.0 and abs(h - max(2.0, height * scale)) <= 1.0


@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(32, 1024))
def test_fit_size_keeps_the_longer_side_within_the_limit(width, height, max_side):
    w, h = fit_size(width, height, max_side)
    assert max(w, h) <= max_side or (w, h) == (width, height)
    assert w >= 1 and h >= 1
    if max(width, height) > max_side:
        assert max(w, h) == max_side  # the longer side lands exactly on the limit


def test_shrink_frame_returns_the_same_array_when_it_fits():
    small = np.zeros((40, 60, 3), np.uint8)
    assert shrink_frame(small, 64) is small
    big = np.zeros((480, 1280, 3), np.uint8)
    assert shrink_frame(big, 640).shape == (240, 640, 3)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([8000, 11025, 22050, 32000, 44100, 48000]), st.floats(0.05, 2.0))
def test_resample_length_matches_duration(rate, seconds):
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, int(rate * seconds)).astype(np.float32)
    out = resample_audio(audio, rate)
    assert out.dtype == np.float32
    assert abs(out.size - audio.size * 16000 / rate) <= 2
