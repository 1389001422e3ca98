"""Audio encoder: Whisper-large-v3's encoder, average pooling (stride 3, ~60 ms per token), projector.

Whisper's encoder only accepts exactly ``2 * max_source_positions`` mel frames (3000 = 30 s for
large-v3; transformers raises otherwise), so the processor pads the log-mel to that length and the tokens
are trimmed back to the real audio duration with ``audio_token_count``: a 4 s clip costs 67 LLM tokens,
not 500.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import WhisperConfig
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from omni_emotion.model.encoders.vision import TwoLayerProjector

__all__ = ["HOP_LENGTH", "SAMPLE_RATE", "AudioEncoder", "audio_token_count"]

SAMPLE_RATE = 16_000  # Hz, Whisper's input rate
HOP_LENGTH = 160  # samples: 10 ms mel hop (window 400 samples = 25 ms)


def audio_token_count(num_samples: int, *, max_source_positions: int = 1500, pool_stride: int = 3) -> int:
    """LLM tokens for ``num_samples`` of 16 kHz audio: ceil(ceil(ceil(n / 160) / 2) / stride).

    Mel frames are 10 ms, Whisper's stride-2 convolution makes 20 ms frames, pooling makes 60 ms tokens.
    At least 1 (an absent or empty track still takes one zero token), at most the 30 s window's count.
    """
    mel = math.ceil(max(num_samples, 0) / HOP_LENGTH)
    frames = math.ceil(mel / 2)
    limit = math.ceil(max_source_positions / pool_stride)
    return int(min(max(math.ceil(frames / pool_stride), 1), limit))


class AudioEncoder(nn.Module):
    """forward(input_features (B, n_mels, 2 * max_source_positions)) -> (B, ceil(max_source_positions /
    stride), D_text); take the first ``audio_token_count`` tokens of each row."""

    def __init__(
        self, whisper_config: WhisperConfig, text_hidden_size: int, *, pool_stride: int = 3, act: str = "gelu"
    ):
        super().__init__()
        self.encoder = WhisperEncoder(whisper_config)
        self.pool = nn.AvgPool1d(pool_stride, stride=pool_stride, ceil_mode=True)
        self.projector = TwoLayerProjector(whisper_config.d_model, text_hidden_size, act)
        self.pool_stride = pool_stride
        self.max_source_positions = whisper_config.max_source_positions

    @property
    def mel_frames(self) -> int:
        return 2 * self.max_source_positions

    def forward(self, input_features: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_features.to(self.encoder.dtype), return_dict=True).last_hidden_state
        pooled = self.pool(hidden.transpose(1, 2)).transpose(1, 2)
        return self.projector(pooled)
