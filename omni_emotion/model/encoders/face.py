"""FaceXFormer-style face encoder on transformers' SwinModel (no torchvision).

Per face crop (224x224, ImageNet mean/std): Swin features from its four stages (before patch merging, as
FaceXFormer hooks ``features.1/3/5/7``), one linear layer per scale to ``fusion_dim`` channels, bilinear
upsampling to the first stage's grid, concatenation in deepest-first order, a 1x1 convolution (no bias) to
``fusion_dim`` -- FaceXFormer's encoder exactly -- then average pooling to ``tokens_per_frame`` tokens and
the two-layer face projector to the LLM width.

``facexformer_key_map`` renames the public FaceXFormer checkpoint (torchvision Swin names, under
``backbone.0``/``backbone.1``) to this module's names; ``load_facexformer_checkpoint`` reads its ``model.pt``.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import torch
from numpy._core.multiarray import scalar as _scalar
from torch import nn
from transformers import SwinConfig, SwinModel

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.model.encoders.vision import TwoLayerProjector

__all__ = [
    "FaceEncoder",
    "convert_facexformer_state_dict",
    "facexformer_key_map",
    "load_facexformer_checkpoint",
]

# FaceXFormer's inference.py reads checkpoint["state_dict_backbone"]: the training checkpoint layout of
# insightface's arcface_torch, which also stores epoch, step, optimizer and LR-scheduler state beside it
_STATE_KEYS = ("state_dict_backbone", "state_dict", "model")
# numpy scalars that LR-scheduler and metric state pickle; reading them runs no code, unlike arbitrary globals.
# numpy 1 pickles name the scalar constructor numpy.core.multiarray.scalar, numpy 2 numpy._core.multiarray.scalar
_NUMPY_SCALARS = [
    np.dtype,
    _scalar,
    (_scalar, "numpy.core.multiarray.scalar"),
    *sorted({type(np.dtype(c)) for c in "bhilqefdg?"}, key=str),
]


class FaceEncoder(nn.Module):
    """forward(faces (N, 3, S, S)) -> (N, tokens_per_frame, text_hidden_size)."""

    def __init__(
        self,
        swin_config: SwinConfig,
        text_hidden_size: int,
        *,
        fusion_dim: int = 256,
        tokens_per_frame: int = 16,
        act: str = "gelu",
    ):
        super().__init__()
        side = round(tokens_per_frame**0.5)
        if side * side != tokens_per_frame:
            raise ValueError(f"tokens_per_frame must be a square number, got {tokens_per_frame}")
        self.backbone = SwinModel(swin_config, add_pooling_layer=False)
        dims = [swin_config.embed_dim * 2**i for i in range(len(swin_config.depths))]
        self.linear_c = nn.ModuleList(nn.Linear(d, fusion_dim) for d in dims)
        self.linear_fuse = nn.Conv2d(fusion_dim * len(dims), fusion_dim, kernel_size=1, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(side)
        self.projector = TwoLayerProjector(fusion_dim, text_hidden_size, act)
        self.tokens_per_frame = tokens_per_frame

    def fused_map(self, faces: torch.Tensor) -> torch.Tensor:
        """The FaceXFormer encoder output: (N, 3, S, S) -> (N, fusion_dim, S/4, S/4)."""
        swin = self.backbone
        embedded, dims = swin.embeddings(faces.to(swin.dtype))
        out = swin.encoder(
            embedded, dims, output_hidden_states=True, output_hidden_states_before_downsampling=True
        )
        stages = out.reshaped_hidden_states[1:]  # [0] is the stem (patch embeddings)
        size = stages[0].shape[-2:]
        scaled = []
        for feature, mlp in zip(stages, self.linear_c):
            n, _, h, w = feature.shape
            x = mlp(feature.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(n, -1, h, w)
            scaled.append(nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False))
        return self.linear_fuse(torch.cat(scaled[::-1], dim=1))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        tokens = self.pool(self.fused_map(faces)).flatten(2).transpose(1, 2)
        return self.projector(tokens)


# torchvision swin_b inside FaceXFormer: backbone = Sequential(features, norm, ...); features[0] is the
# patch embedding, features[1,3,5,7] the four stages' blocks, features[2,4,6] the patch-merging layers.
_BLOCK_RENAMES = {
    "norm1": "layernorm_before",
    "attn.proj": "attention.o_proj",
    "attn.relative_position_bias_table": "attention.relative_position_bias.relative_position_bias_table",
    "norm2": "layernorm_after",
    "mlp.0": "mlp.fc1",
    "mlp.3": "mlp.fc2",
}


def facexformer_key_map(key: str) -> list[str] | None:
    """Target name(s) under ``FaceEncoder`` for one FaceXFormer checkpoint key; None to drop the key.

    A fused ``attn.qkv`` maps to three names (q, k, v rows in that order). Decoder, task heads and the
    non-persistent ``relative_position_index`` buffers are dropped.
    """
    if key.endswith("relative_position_index"):
        return None
    if m := re.fullmatch(r"(linear_c\.\d+)\.proj\.(weight|bias)", key):
        return [f"{m[1]}.{m[2]}"]
    if key == "linear_fuse.weight":
        return [key]
    if m := re.fullmatch(r"backbone\.0\.0\.([02])\.(weight|bias)", key):
        part = "patch_embeddings.projection" if m[1] == "0" else "norm"
        return [f"backbone.embeddings.{part}.{m[2]}"]
    if m := re.fullmatch(r"backbone\.1\.(weight|bias)", key):
        return [f"backbone.layernorm.{m[1]}"]
    if m := re.fullmatch(r"backbone\.0\.([2468]|[1357])\.(.+)", key):
        index, rest = int(m[1]), m[2]
        if index % 2 == 0:  # patch merging after stage index/2 - 1
            return [f"backbone.encoder.layers.{index // 2 - 1}.downsample.{rest}"]
        stage = (index - 1) // 2
        block, _, name = rest.partition(".")
        prefix = f"backbone.encoder.layers.{stage}.blocks.{block}"
        if name.startswith("attn.qkv."):
            suffix = name.removeprefix("attn.qkv.")
            return [f"{prefix}.attention.{p}_proj.{suffix}" for p in ("q", "k", "v")]
        for old, new in _BLOCK_RENAMES.items():
            if name.startswith(old + "."):
                return [f"{prefix}.{new}{name[len(old) :]}"]
        if name in _BLOCK_RENAMES:
            return [f"{prefix}.{_BLOCK_RENAMES[name]}"]
    return None


def convert_facexformer_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """FaceXFormer checkpoint (``torch.load(path)["state_dict_backbone"]``) -> ``FaceEncoder`` state dict
    (without the projector, which FaceXFormer does not have)."""
    converted: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        targets = facexformer_key_map(key)
        if targets is None:
            continue
        parts = value.chunk(3, dim=0) if len(targets) == 3 else (value,)
        for target, part in zip(targets, parts):
            converted[target] = part.contiguous()
    return converted


def load_facexformer_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The network weights of a FaceXFormer ``model.pt``, read without running pickled code.

    Accepts the training-checkpoint dict (weights under ``state_dict_backbone``, as the authors save them, or
    ``state_dict``/``model``) or a bare state dict; a ``module.`` prefix (a DistributedDataParallel wrapper)
    is removed. ``torch.load(weights_only=True)`` with numpy scalars allowed; anything else in the pickle
    raises ModelNotFoundError instead of being executed.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(
            f"FaceXFormer checkpoint {path} does not exist (get ckpts/model.pt from kartiknarayan/facexformer)"
        )
    try:
        with torch.serialization.safe_globals(_NUMPY_SCALARS):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):  # not a pickle at all
            raise ModelNotFoundError(
                f"FaceXFormer checkpoint {path} cannot be read (not a torch file)"
            ) from err
        # a global outside the allow-list: refuse to run it
        raise ModelNotFoundError(
            f"FaceXFormer checkpoint {path} holds pickled objects other than tensors, which omni-emotion will not "
            "execute; re-save its state_dict_backbone alone with torch.save"
        ) from err
    except (RuntimeError, ValueError, EOFError) as err:  # corrupt, truncated or not a torch file
        raise ModelNotFoundError(
            f"FaceXFormer checkpoint {path} cannot be read ({type(err).__name__})"
        ) from err
    state = checkpoint
    if isinstance(checkpoint, dict):
        state = next((checkpoint[k] for k in _STATE_KEYS if isinstance(checkpoint.get(k), dict)), checkpoint)
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        raise ModelNotFoundError(
            f"FaceXFormer checkpoint {path} has no state dict of tensors (looked under {', '.join(_STATE_KEYS)})"
        )
    return {k.removeprefix("module."): v for k, v in state.items()}
