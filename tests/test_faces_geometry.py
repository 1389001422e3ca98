"""Pure parts of omni_emotion.faces: alignment math, the tracker on synthetic detections, main-person choice."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.errors import ConfigError
from omni_emotion.faces import (
    Detection,
    FaceTracker,
    TrackerConfig,
    align_face,
    crop_box,
    mouth_activity,
    select_main,
    similarity_transform,
    speaking_score,
)
from omni_emotion.faces.align import template
from omni_emotion.faces.analyzer import _CropSampler, as_rgb
from omni_emotion.faces.tracker import cosine_matrix, iou_matrix, matched_pairs
from omni_emotion.types import FaceTrack

# ---------------------------------------------------------------- alignment


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    scale=st.floats(0.05, 20.0),
    tx=st.floats(-500, 500),
    ty=st.floats(-500, 500),
)
def test_similarity_transform_recovers_an_exact_similarity(angle, scale, tx, ty):
    src = template(112) + np.array([3.0, -7.0])
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    truth = np.array([[c, -s, tx], [s, c, ty]])
    m = similarity_transform(src, _apply(truth, src))
    np.testing.assert_allclose(m, truth, atol=1e-6 * max(1.0, scale, abs(tx), abs(ty)))


def test_similarity_transform_degenerate_and_bad_shapes():
    same = np.ones((5, 2))
    m = similarity_transform(same, same + [4.0, 2.0])
    np.testing.assert_allclose(_apply(m, same), same + [4.0, 2.0])
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 2)), np.zeros((4, 2)))


def test_align_face_puts_landmarks_on_the_template():
    # A frame with 5 bright dots where a rotated, scaled, shifted face's landmarks are.
    frame = np.zeros((400, 500, 3), np.uint8)
    theta, k = math.radians(25), 1.7
    truth = np.array(
        [[k * math.cos(theta), -k * math.sin(theta), 140], [k * math.sin(theta), k * math.cos(theta), 60]]
    )
    landmarks = _apply(truth, template(112))
    for x, y in landmarks:
        cv2.circle(frame, (round(x), round(y)), 3, (255, 255, 255), -1)
    crop = align_face(frame, landmarks, 224)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    for x, y in template(224):
        patch = crop[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3]
        assert patch.max() > 200, (x, y)


def test_crop_box_is_square_and_handles_borders():
    frame = np.full((100, 200, 3), 255, np.uint8)
    crop = crop_box(frame, np.array([-20, -10, 40, 50]), 64)
    assert crop.shape == (64, 64, 3)
    assert crop[0, 0].max() == 0 and crop[-1, -1].min() == 255  # outside is black, inside is the frame


def test_as_rgb_accepts_common_layouts():
    assert as_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert as_rgb(np.zeros((4, 5, 1), np.uint8)).shape == (4, 5, 3)
    assert as_rgb(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    assert as_rgb(np.ones((4, 5, 3), np.float32)).max() == 255
    with pytest.raises(ValueError):
        as_rgb(np.zeros((4, 5, 2), np.uint8))


# ---------------------------------------------------------------- tracker


def _det(cx, cy, w=60.0, app=None, emb=None) -> Detection:
    box = np.array([cx - w / 2, cy - w / 2, cx + w / 2, cy + w / 2], np.float32)
    return Detection(box=box, score=0.9, embedding=emb, appearance=app)


def test_iou_and_cosine_matrices_by_hand():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]])
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0, 0.0]])
    np.testing.assert_allclose(cosine_matrix([[1, 0]], [[2, 0], [0, 3], [0, 0]]), [[1, 0, 0]])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(1, 50), st.floats(1, 50)),
        min_size=1,
        max_size=6,
    )
)
def test_iou_matrix_properties(raw):
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in raw])
    m = iou_matrix(boxes, boxes)
    assert np.all((m >= 0) & (m <= 1 + 1e-9))
    np.testing.assert_allclose(m, m.T)
    np.testing.assert_allclose(np.diag(m), 1.0)


def test_one_moving_face_keeps_one_id_even_when_fast():
    tracker = FaceTracker()
    ids = {tid for i in range(50) for tid, _ in tracker.update(i / 5, [_det(50 + 25 * i, 200)])}
    assert ids == {1}  # 25 px per step at 5 fps: boxes barely overlap, centre distance still matches


def test_short_occlusion_keeps_the_id_and_a_long_absence_ends_the_track():
    tracker = FaceTracker(TrackerConfig(max_gap_s=1.0))
    first = [tracker.update(i / 10, [_det(100, 100)]) for i in range(10)]
    for i in range(10, 17):  # 0.7 s hidden
        assert tracker.update(i / 10, []) == []
    back = tracker.update(1.7, [_det(104, 100)])
    assert first[0][0][0] == back[0][0] == 1
    for i in range(18, 40):  # 2.2 s gone: the track ends and memory is freed
        tracker.update(i / 10, [])
    assert tracker.live_ids == []
    assert tracker.update(4.0, [_det(104, 100)])[0][0] == 2


def test_faces_entering_and_leaving_get_their_own_ids():
    tracker = FaceTracker()
    seen: dict[int, list[float]] = {}
    for i in range(30):
        t = i / 5
        dets = [_det(100, 100)] + ([_det(400, 120, 50)] if 10 <= i < 20 else [])
        for tid, _ in tracker.update(t, dets):
            seen.setdefault(tid, []).append(t)
    assert sorted(seen) == [1, 2]
    assert len(seen[1]) == 30 and seen[2][0] == pytest.approx(2.0) and seen[2][-1] == pytest.approx(3.8)


@pytest.mark.parametrize(
    "config, with_appearance",
    [(TrackerConfig(), False), (TrackerConfig(max_prediction_s=0.0), True)],
    ids=["motion-prediction", "appearance-only"],
)
def test_two_people_crossing_keep_their_ids(config, with_appearance):
    """A walks right, B walks left at the same height; at the crossing B is hidden behind A for 3 frames.

    Either cue alone must carry the ids through: the constant-velocity prediction, or (prediction off)
    distinct colour descriptors.
    """
    app_a, app_b = np.eye(64)[0] + 0.2, np.eye(64)[1] + 0.2
    tracker = FaceTracker(config)
    history: dict[int, list[float]] = {}
    for i in range(40):
        t = i / 10
        xa, xb = 100 + 12 * i, 580 - 12 * i
        dets = [_det(xa, 200, app=app_a if with_appearance else None)]
        if abs(xa - xb) > 30:
            dets.append(_det(xb, 205, app=app_b if with_appearance else None))
        for tid, det in tracker.update(t, dets):
            history.setdefault(tid, []).append(float(det.box[0] + det.box[2]) / 2)
    assert sorted(history) == [1, 2]
    a, b = history[1], history[2]
    assert all(np.diff(a) > 0), "track 1 must keep walking right"
    assert all(np.diff(b) < 0), "track 2 must keep walking left"


def test_identity_embeddings_prevent_a_switch_in_place():
    e1, e2 = np.eye(8)[0], np.eye(8)[1]
    tracker = FaceTracker()
    tracker.update(0.0, [_det(100, 100, emb=e1)])
    tracker.update(0.2, [_det(100, 100, emb=e1)])
    ((tid, _),) = tracker.update(0.4, [_det(102, 100, emb=e2)])  # same place, another person (a cut)
    assert tid == 2


def test_tracker_rejects_time_going_back_and_bad_config():
    tracker = FaceTracker()
    tracker.update(1.0, [])
    with pytest.raises(ValueError):
        tracker.update(0.5, [])
    with pytest.raises(ConfigError):
        TrackerConfig(min_hits=0)


def test_crop_sampler_keeps_a_bounded_even_spread():
    sampler = _CropSampler(8)
    for k in range(1000):
        crop = np.zeros((1, 1, 3), np.uint8) if sampler.wants() else None
        sampler.add(float(k), crop)
    times = [t for t, _ in sampler.items]
    assert 4 <= len(times) <= 8
    steps = np.diff(times)
    assert times[0] == 0 and np.all(steps == steps[0]) and times[-1] >= 1000 - 2 * steps[0]


# ---------------------------------------------------------------- main person


def _landmarks(n: int, mouth_open: np.ndarray, x0: float = 100.0) -> np.ndarray:
    base = np.array([[x0 - 20, 100], [x0 + 20, 100], [x0, 120], [x0 - 15, 140], [x0 + 15, 140]], np.float64)
    lm = np.repeat(base[None], n, axis=0)
    lm[:, 3:, 1] += mouth_open[:, None]
    return lm


def test_mouth_activity_measures_change_and_skips_gaps():
    ts = np.array([0.0, 0.1, 0.2, 0.3, 2.0])
    still = mouth_activity(ts, _landmarks(5, np.zeros(5)))
    assert np.isnan(still[0]) and np.allclose(still[1:4], 0) and np.isnan(still[4])
    moving = mouth_activity(ts, _landmarks(5, np.array([0, 8, 0, 8, 0.0])))
    np.testing.assert_allclose(moving[1:4], 8 / 40)


def test_speaking_score_compares_speech_with_silence():
    ts = np.arange(20) / 10
    motion = np.where(ts <= 1.0, 0.3, 0.05)  # the change into 1.0 s ends the speech that stops at 0.95 s
    assert speaking_score(ts, motion, [(0.0, 0.95)]) == pytest.approx(0.25)
    assert speaking_score(ts, motion, [(5.0, 6.0)]) is None


def _track(track_id, ts, width, landmarks=None) -> FaceTrack:
    boxes = np.array([[0, 0, width, width]] * len(ts), np.float32)
    return FaceTrack(
        track_id, np.asarray(ts, float), boxes, np.ones(len(ts), np.float32), landmarks=landmarks
    )


def test_main_person_is_the_one_speaking_when_there_is_speech():
    ts = np.arange(40) / 10
    speech = [(0.0, 2.0)]
    talking = np.where(ts <= 2.0, 6 * (np.arange(40) % 2), 0.0)
    quiet = np.zeros(40)
    # The quiet face is a little larger; the talking one must still win because there is speech.
    tracks = [_track(1, ts, 110, _landmarks(40, quiet)), _track(2, ts, 100, _landmarks(40, talking, 300))]
    select_main(tracks, 40, speech)
    assert [t.main for t in tracks] == [False, True]
    assert tracks[1].attributes["speaking"] > 0
    select_main(tracks, 40, None)  # no speech: the larger face
    assert [t.main for t in tracks] == [True, False]


def test_main_person_prefers_screen_time_and_flags_exactly_one():
    tracks = [
        _track(1, np.arange(5) / 5, 120),
        _track(2, np.arange(50) / 5, 100),
        _track(3, np.arange(50) / 5, 40),
    ]
    select_main(tracks, 50)
    assert [t.main for t in tracks] == [False, True, False]
    assert select_main([], 10) == []


class ScriptedDetector:
    """Returns the detections scripted for each call, in order (a stand-in for a real detector)."""

    name = "scripted"

    def __init__(self, script):
        self.script = iter(script)

    def detect(self, frame):
        return next(self.script)


def test_tracking_memory_stays_bounded_as_people_come_and_go():
    from omni_emotion.faces.analyzer import FaceAnalyzer
    from omni_emotion.faces.detectors import Detection

    fps, people = 5, 30
    script = []
    for person in range(people):
        x = 20.0 + (person % 5) * 50
        box = np.array([x, 40, x + 40, 80], np.float32)
        script += [[Detection(box, 0.9)]] * 5 + [[]] * 10  # 1 s visible, then 2 s gone: the track ends
        if person % 3 == 0:  # a one-frame false detection somewhere else, which never becomes a track
            script[-5] = [Detection(np.array([250, 150, 290, 190], np.float32), 0.5)]
    frames = [(i / fps, np.full((240, 320, 3), 128, np.uint8)) for i in range(len(script))]
    analyzer = FaceAnalyzer(ScriptedDetector(script))
    tracks = analyzer.track(frames, max_crops_per_track=4, max_total_crops=20)
    assert len(tracks) == people and sum(t.main for t in tracks) == 1
    assert all(len(t.timestamps) == 5 for t in tracks)  # detections are all kept: only crops are thinned
    assert sum(0 if t.crops is None else len(t.crops) for t in tracks) <= 20
    with pytest.raises(ConfigError, match="max_total_crops"):
        analyzer.track(frames, max_crops_per_track=8, max_total_crops=4)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda rows: st.integers(1, 4).flatmap(
            # few distinct values, so ties (which the solver settles its own way) come up often
            lambda cols: st.lists(
                st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.5, 0.9, 1.0]), min_size=cols, max_size=cols),
                min_size=rows,
                max_size=rows,
            )
        )
    )
)
def test_matched_pairs_are_the_solvers_positive_pairs(rows):
    from scipy.optimize import linear_sum_assignment

    affinity = np.asarray(rows, np.float64)
    r, c = linear_sum_assignment(-affinity)
    expected = [(int(i), int(j)) for i, j in zip(r, c) if affinity[i, j] > 0]
    assert matched_pairs(affinity) == expected
