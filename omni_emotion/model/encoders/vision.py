"""General vision encoder: LLaVA-OneVision's video path (SigLIP tower -> projector -> 2x2 bilinear pooling).

It follows transformers' ``LlavaOnevisionModel.get_video_features`` step for step (same module names under
``tower``/``projector``/``image_newline``, same layer selection and pooling), so a LLaVA-OneVision checkpoint
loads by renaming prefixes only and, with the other modalities off, the LLM sees identical features.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import AutoModel, PreTrainedConfig
from transformers.activations import ACT2FN

__all__ = ["TwoLayerProjector", "VisionEncoder", "pool_frame_features"]


class TwoLayerProjector(nn.Module):
    """Linear -> activation -> Linear (the LLaVA projector; also used for the face and audio branches)."""

    def __init__(self, in_dim: int, out_dim: int, act: str = "gelu", bias: bool = True):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, out_dim, bias=bias)
        self.act = ACT2FN[act]
        self.linear_2 = nn.Linear(out_dim, out_dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(x)))


def pool_frame_features(features: torch.Tensor, side: int) -> torch.Tensor:
    """Bilinear 2x downsampling of each frame's square token grid, as LLaVA-OneVision pools video.

    features: (N, side*side, D) -> (N, ceil(side/2)**2, D).
    """
    n, length, dim = features.shape
    if length != side * side:
        raise ValueError(f"expected {side}x{side}={side * side} tokens per frame, got {length}")
    grid = features.view(n, side, side, dim).permute(0, 3, 1, 2)
    pooled = nn.functional.interpolate(grid, size=[math.ceil(side / 2)] * 2, mode="bilinear")
    return pooled.permute(0, 2, 3, 1).reshape(n, -1, dim)


class VisionEncoder(nn.Module):
    """SigLIP tower + two-layer projector + per-frame pooling + the learned newline embedding.

    forward(pixel_values (B, F, 3, S, S) normalised with mean and std 0.5, as SigLIP) -> (B, F, P, D_text) where
    P = ceil((S // patch) / 2)**2 (196 for 384 px, patch 14). ``image_newline`` (D_text,) is appended once
    per video by the fusion step.
    """

    def __init__(
        self,
        vision_config: PreTrainedConfig,
        text_hidden_size: int,
        *,
        act: str = "gelu",
        bias: bool = True,
        feature_layer: int = -1,
        select_strategy: str = "full",
    ):
        super().__init__()
        self.tower = AutoModel.from_config(vision_config)
        self.projector = TwoLayerProjector(vision_config.hidden_size, text_hidden_size, act, bias)
        self.image_newline = nn.Parameter(torch.randn(text_hidden_size) / math.sqrt(text_hidden_size))
        self.feature_layer = feature_layer
        self.select_strategy = select_strategy
        self.side = vision_config.image_size // vision_config.patch_size

    @property
    def tokens_per_frame(self) -> int:
        return math.ceil(self.side / 2) ** 2

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        batch, frames = pixel_values.shape[:2]
        flat = pixel_values.flatten(0, 1).to(self.tower.dtype)
        out = self.tower(flat, output_hidden_states=True, return_dict=True)
        hidden = out.hidden_states[self.feature_layer]
        if self.select_strategy == "default":  # drop a CLS token; SigLIP has none, kept for parity
            hidden = hidden[:, 1:]
        pooled = pool_frame_features(self.projector(hidden), self.side)
        return pooled.view(batch, frames, pooled.shape[1], pooled.shape[2])
