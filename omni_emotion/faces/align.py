"""Aligned face crops: a similarity transform maps the 5 detected landmarks onto a fixed template.

Pure functions. Landmark order everywhere in omni_emotion.faces (insightface's and the offline detector's):
eye on the image's left, eye on the image's right, nose tip, mouth corner on the left, mouth corner on the
right; (5, 2) float pixel (x, y).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["CROP_SIZE", "FACE_TEMPLATE_112", "align_face", "crop_box", "similarity_transform", "template"]

CROP_SIZE = 224  # pixels: the face encoder's input side

# ArcFace's canonical 5-point positions in a 112x112 crop (the layout insightface's recognisers expect).
FACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def template(size: int = CROP_SIZE) -> np.ndarray:
    """The 5-point template scaled to a ``size`` x ``size`` crop; (5, 2) float64 pixels."""
    if size <= 0:
        raise ValueError(f"crop size must be positive, got {size}")
    return FACE_TEMPLATE_112 * (size / 112.0)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking ``src`` points onto ``dst``.

    Umeyama's closed form. src, dst: (N, 2), N >= 2. Returns the (2, 3) float64 affine matrix M with
    dst ~= src @ M[:, :2].T + M[:, 2]. Degenerate input (all src points equal) gives a pure translation.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"need two matching (N>=2, 2) point sets, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var_s = (s**2).sum() / len(src)
    if var_s < 1e-12:
        return np.array([[1.0, 0.0, mu_d[0] - mu_s[0]], [0.0, 1.0, mu_d[1] - mu_s[1]]])
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    # Reflections are not allowed: a face seen in a mirror is still the same face geometry.
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1.0
    rot = u @ fix @ vt
    scale = (sig * np.diag(fix)).sum() / var_s
    trans = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, trans[:, None]])


def align_face(frame: np.ndarray, landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Warp the face onto the template: frame (H, W, 3) uint8, landmarks (5, 2) -> (size, size, 3) uint8.

    Pixels outside the frame are black (the crop of a face at the border keeps its geometry).
    """
    m = similarity_transform(np.asarray(landmarks, dtype=np.float64).reshape(5, 2), template(size))
    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


def crop_box(frame: np.ndarray, box: np.ndarray, size: int = CROP_SIZE, margin: float = 0.15) -> np.ndarray:
    """A square crop around a box (x1, y1, x2, y2), grown by ``margin`` per side, resized to (size, size, 3).

    For detections without landmarks: no rotation correction, only centring and scale.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * margin)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    k = size / side
    m = np.array([[k, 0.0, size / 2.0 - k * cx], [0.0, k, size / 2.0 - k * cy]])
    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
