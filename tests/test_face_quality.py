"""Face quality weights: size, frontality, sharpness and detector score, and what the clues say about them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.engines.explain import describe_visual
from omni_emotion.engines.fusion import face_evidence
from omni_emotion.expressions import FER_LABELS
from omni_emotion.faces.quality import MIN_WEIGHT, FaceQuality, face_quality, sharpness

FRONTAL = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], np.float32)


def _textured(side: int = 128) -> np.ndarray:
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 255, (side // 8, side // 8), dtype=np.uint8)
    return np.repeat(cv2.resize(grey, (side, side), interpolation=cv2.INTER_NEAREST)[..., None], 3, axis=2)


def test_a_large_frontal_sharp_confident_face_counts_fully():
    q = face_quality(np.array([0, 0, 120, 140]), 0.95, _textured(), FRONTAL)
    assert q.weight == pytest.approx(1.0)


def test_each_factor_lowers_the_weight():
    crop, box = _textured(), np.array([0, 0, 120, 140])
    full = face_quality(box, 0.95, crop, FRONTAL).weight
    small = face_quality(np.array([0, 0, 30, 34]), 0.95, crop, FRONTAL)
    turned_landmarks = FRONTAL.copy()
    turned_landmarks[2, 0] += 16  # nose 0.4 eye-distances off the eyes' midpoint: strongly turned
    turned = face_quality(box, 0.95, crop, turned_landmarks)
    blurred = face_quality(box, 0.95, cv2.GaussianBlur(crop, (0, 0), 6), FRONTAL)
    unsure = face_quality(box, 0.55, crop, FRONTAL)
    for q, factor in ((small, "size"), (turned, "frontality"), (blurred, "sharpness"), (unsure, "detection")):
        assert getattr(q, factor) < 0.5 and q.weight < 0.5 * full, factor
    assert face_quality(box, 0.95, crop, None).frontality == 1.0  # pose unknown: no penalty


def test_sharpness_orders_blur_and_the_weight_has_a_floor():
    crop = _textured()
    assert (
        sharpness(crop)
        > sharpness(cv2.GaussianBlur(crop, (0, 0), 2))
        > sharpness(cv2.GaussianBlur(crop, (0, 0), 6))
    )
    assert sharpness(np.zeros((0, 0, 3), np.uint8)) == 0.0
    assert FaceQuality(MIN_WEIGHT, MIN_WEIGHT, MIN_WEIGHT, MIN_WEIGHT).weight == MIN_WEIGHT


def _clues(qualities: list[FaceQuality]) -> VisualClues:
    probs = np.full((len(qualities), 7), 0.02, np.float32)
    half = len(qualities) // 2
    probs[:half, FER_LABELS.index("happy")] = 0.88
    probs[half:, FER_LABELS.index("sad")] = 0.88
    phases = np.stack([probs[:half].mean(0), probs.mean(0), probs[half:].mean(0)])
    return VisualClues(np.arange(len(probs), dtype=float), probs, phases, [], 0, 4.0, 4.0, qualities)


def test_clear_frames_outweigh_poor_ones_and_thin_evidence_is_said():
    good, poor = FaceQuality(1, 1, 1, 1), FaceQuality(0.2, 1, 0.5, 1)
    clues = _clues([good] * 4 + [poor] * 4)  # happy in the clear frames, sad in the poor ones
    # a poor face counts for less in the judgment
    assert face_evidence(_clues([poor] * 8)).weight < face_evidence(_clues([good] * 8)).weight == 1.0
    assert clues.thin_evidence() is None and "thin" not in describe_visual(clues)
    fact = _clues([poor] * 8).thin_evidence()
    assert (fact.modality, fact.name, fact.about) == ("face", "thin face", "size")
    assert fact.value == pytest.approx(0.1)
    thin = describe_visual(_clues([poor] * 8))
    assert "thin" in thin and "small" in thin and "0.10" in thin
