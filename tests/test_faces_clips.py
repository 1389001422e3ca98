"""The face analyzer on the shared real clips (../shared/testdata/media) and on awkward synthetic frames."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from omni_emotion.errors import ConfigError, ModelNotFoundError
from omni_emotion.faces import CROP_SIZE, FaceAnalyzer, find_insightface_pack, load_face_analyzer
from omni_emotion.faces.align import template
from omni_emotion.faces.detectors import InsightFaceDetector, YuFaceDetector
from omni_emotion.faces.registry import load_detector
from omni_emotion.media import iter_frames, load_clip

FPS = 5.0


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    # The offline default, explicitly: a developer's insightface pack must not change what CI checks.
    return FaceAnalyzer(YuFaceDetector())


def _track(analyzer, path, **kwargs):
    return analyzer.track(iter_frames(path, fps=FPS), **kwargs)


def test_face_then_no_face_gives_one_track_that_ends_when_the_face_leaves(analyzer, media_dir):
    tracks = _track(analyzer, media_dir / "face_noface.mov")
    assert len(tracks) == 1 and tracks[0].main
    assert tracks[0].start < 0.3 and 1.5 < tracks[0].end < 3.5  # the clip cuts to a cartoon sky at ~2.3 s


def test_no_face_then_face_gives_one_track_that_starts_late(analyzer, media_dir):
    tracks = _track(analyzer, media_dir / "noface_face.mov")
    assert len(tracks) == 1 and tracks[0].main
    assert 3.0 < tracks[0].start < 4.5 and tracks[0].end > 5.5


def test_no_face_gives_no_track(analyzer, media_dir):
    assert _track(analyzer, media_dir / "no_face.mp4") == []


def test_group_photo_has_at_least_three_faces_and_one_main(analyzer, media_dir):
    clip = load_clip(media_dir / "multi_face.jpg", num_frames=1)
    tracks = analyzer.track(zip(clip.timestamps, clip.frames))
    assert len(tracks) >= 3
    assert sum(t.main for t in tracks) == 1
    assert len({t.track_id for t in tracks}) == len(tracks)


def test_long_clip_has_one_main_track_over_90_percent_with_bounded_crops(analyzer, media_dir):
    frames = list(iter_frames(media_dir / "WolfgangLanger_Pexels.mp4", fps=FPS))
    tracks = analyzer.track(iter(frames), max_crops_per_track=6)
    main = [t for t in tracks if t.main]
    assert len(main) == 1
    assert len(main[0].timestamps) >= 0.9 * len(frames)
    assert main[0].crops is not None and 3 <= len(main[0].crops) <= 6
    assert main[0].crops.shape[1:] == (CROP_SIZE, CROP_SIZE, 3) and main[0].crops.dtype == np.uint8
    spread = np.diff(main[0].crop_times)
    assert np.all(spread > 0) and main[0].crop_times[-1] - main[0].crop_times[0] > 0.5 * (frames[-1][0])
    assert main[0].landmarks.shape == (len(main[0].timestamps), 5, 2)
    assert main[0].summary()["main"] is True


def test_aligned_crop_has_the_face_where_the_template_says(analyzer, media_dir):
    """Detect again inside the aligned crop: its landmarks must sit near the template (order included)."""
    clip = load_clip(media_dir / "single_face.jpg", num_frames=1)
    (track,) = analyzer.track(zip(clip.timestamps, clip.frames))
    crop = track.crops[0]
    found = analyzer.detect(crop)
    assert len(found) == 1
    error = np.linalg.norm(found[0].landmarks - template(CROP_SIZE), axis=1)
    assert error.max() < 0.08 * CROP_SIZE, error


def test_speech_regions_are_accepted_and_recorded(analyzer, media_dir):
    tracks = _track(analyzer, media_dir / "single_face.mp4", speech_regions=[(0.0, 2.4)])
    assert len(tracks) == 1 and tracks[0].main
    assert "speaking" in tracks[0].attributes and "main_score" in tracks[0].attributes


def test_gray_frames_still_find_the_face(analyzer, media_dir):
    clip = load_clip(media_dir / "single_face.jpg", num_frames=1)
    gray = clip.frames[0].mean(axis=2).astype(np.uint8)
    assert len(analyzer.detect(gray)) == 1


@pytest.mark.parametrize(
    "shape",
    [
        (1, 1, 3),
        (0, 0, 3),
        (7, 5, 3),
        (20, 2000, 3),
        (2000, 20, 3),
        (240, 320),
        (240, 320, 4),
        (1080, 1920, 3),
    ],
)
def test_awkward_frames_never_crash(analyzer, shape):
    frame = np.random.default_rng(1).integers(0, 255, size=shape, dtype=np.uint8)
    dets = analyzer.detect(frame)
    assert isinstance(dets, list)
    tracks = analyzer.track([(0.0, frame), (0.2, frame)])
    assert sum(t.main for t in tracks) == (1 if tracks else 0)


def test_empty_input_gives_no_tracks(analyzer):
    assert analyzer.track([]) == []


def test_backend_choice_and_errors(tmp_path):
    with pytest.raises(ConfigError):
        load_detector("mediapipe")
    with pytest.raises(ConfigError):
        load_face_analyzer(device="tpu")
    assert find_insightface_pack(roots=(tmp_path,)) is None
    pack = tmp_path / "buffalo_l"
    pack.mkdir()
    (pack / "det_10g.onnx").write_bytes(b"not an onnx model")
    assert find_insightface_pack(roots=(tmp_path,)) == pack
    with pytest.raises(ModelNotFoundError, match="buffalo_l"):
        InsightFaceDetector(pack)  # a broken pack is a typed error naming what to get


def test_missing_offline_detector_names_the_package(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "yuface" else real(name, *a)
    )
    with pytest.raises(ModelNotFoundError, match="pip install yuface"):
        YuFaceDetector()


def test_with_speech_the_moving_face_beats_a_larger_still_one(analyzer, media_dir):
    """Real landmarks: a still photo (larger face) beside the Wolfgang clip (face and mouth moving)."""
    still = cv2.resize(load_clip(media_dir / "single_face.jpg", num_frames=1).frames[0], (366, 360))
    frames = []
    for t, frame in iter_frames(media_dir / "WolfgangLanger_Pexels.mp4", fps=FPS):
        if t > 8.0:
            break
        canvas = np.zeros((360, 700, 3), np.uint8)
        canvas[90:270, :320] = cv2.resize(frame, (320, 180))
        canvas[:, 330:696] = still
        frames.append((t, canvas))
    quiet = analyzer.track(frames)
    talking = analyzer.track(frames, speech_regions=[(0.0, 8.0)])
    assert len(quiet) == len(talking) == 2
    moving_id = min(talking, key=lambda tr: tr.boxes[:, 0].mean()).track_id  # the left face
    assert [tr.track_id for tr in quiet if tr.main] != [moving_id]
    assert [tr.track_id for tr in talking if tr.main] == [moving_id]
