"""`OmniEmotionConfig`: architecture settings of the Omni-Emotion MLLM (transformers conventions).

Four sub-configs, each a stock transformers config so public checkpoints load unchanged:
``vision_config`` (SigLIP, as in LLaVA-OneVision), ``text_config`` (Qwen2), ``audio_config`` (Whisper; only
its encoder is used) and ``face_config`` (Swin, the FaceXFormer backbone). The rest are the fusion settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

__all__ = [
    "FUSION_MODES",
    "SIGLIP_SO400M",
    "SPECIAL_TOKENS",
    "SWIN_B",
    "WHISPER_LARGE_V3_ENCODER",
    "OmniEmotionConfig",
    "OmniStreams",
    "omni_streams",
    "streams_sentence",
]

FUSION_MODES = ("video_concat", "frame_concat", "cross_attention")

# The public parts' architectures, written once here (presets.py and assemble.py read them):
# LLaVA-OneVision's SigLIP so400m/14 at 384 px (without its pooling head), whisper-large-v3's encoder, and
# Swin-B as torchvision's swin_b inside FaceXFormer.
SIGLIP_SO400M = {
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 26,
    "num_attention_heads": 16,
    "image_size": 384,
    "patch_size": 14,
    "vision_use_head": False,
}
WHISPER_LARGE_V3_ENCODER = {
    "num_mel_bins": 128,
    "d_model": 1280,
    "encoder_layers": 32,
    "encoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "max_source_positions": 1500,
}
SWIN_B = {
    "image_size": 224,
    "patch_size": 4,
    "embed_dim": 128,
    "depths": [2, 2, 18, 2],
    "num_heads": [4, 8, 16, 32],
    "window_size": 7,
}

# sub-config -> (default model type, keyword arguments when it is not given). A dict given is built by the
# config class of its own ``model_type`` (this default when it names none), with its own values only.
_SUB_CONFIGS: dict[str, tuple[str, dict]] = {
    "vision_config": ("siglip_vision_model", SIGLIP_SO400M),
    "text_config": ("qwen2", {}),
    "audio_config": ("whisper", WHISPER_LARGE_V3_ENCODER),
    "face_config": ("swin", SWIN_B),
}

# Added to the LLaVA-OneVision tokenizer by `weights init`; `<video>` already exists there (id 151647).
SPECIAL_TOKENS = ("<vi_start>", "<vi_end>", "<au_start>", "<au_end>", "<audio>")


@strict
class OmniEmotionConfig(PreTrainedConfig):
    r"""
    fusion (`str`): how face tokens join the general visual tokens: ``video_concat`` (all frames' general
        tokens, the newline token, then all frames' face tokens), ``frame_concat`` (general then face tokens
        frame by frame, newline last) or ``cross_attention`` (each frame's face tokens attend to that frame's
        general tokens; only the attended face tokens and the newline reach the LLM).
    num_frames (`int`): frames per clip (the paper uses 8); also the size of the per-frame time embedding.
    face_tokens_per_frame (`int`): a square number; the fused face map is average-pooled to this many tokens.
    face_fusion_dim (`int`): width of FaceXFormer's per-scale MLPs and fused map (256 in its checkpoint).
    audio_pool_stride (`int`): Whisper frames (20 ms) averaged per audio token; 3 gives 60 ms tokens.
    use_face / use_audio (`bool`): build the face / audio branch; off, the model is plain LLaVA-OneVision
        (plus an all-zero frame embedding) and its logits equal transformers' for the same weights.
    untrained_modules (`list[str]`): module groups (``modeling.MODULE_GROUPS``) still at their random start.
        ``weights init`` lists the new projectors; ``set_trainable`` removes the groups it trains. A stream
        whose projector is untrained never reaches the LLM (its placeholders get zeros), and with neither the
        face nor the audio stream trained the model runs zero-shot: LLaVA-OneVision's own video path only.
    """

    model_type = "omni_emotion"
    attribute_map = {"video_token_id": "video_token_index", "audio_token_id": "audio_token_index"}
    # transformers 5.17 to 5.2x: a plain ``sub_configs`` mapping works in both (5.24's ``sub_configs_defaults``
    # does not exist in 5.17); ``__post_init__`` builds each sub-config from ``_SUB_CONFIGS`` as both would
    sub_configs = {key: AutoConfig for key in _SUB_CONFIGS}

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    audio_config: dict | PreTrainedConfig | None = None
    face_config: dict | PreTrainedConfig | None = None
    video_token_index: int = 151647
    audio_token_index: int = 151652
    vi_start_token_index: int = 151648
    vi_end_token_index: int = 151649
    au_start_token_index: int = 151650
    au_end_token_index: int = 151651
    projector_hidden_act: str = "gelu"
    vision_feature_select_strategy: Literal["default", "full"] = "full"
    vision_feature_layer: int = -1
    multimodal_projector_bias: bool = True
    tie_word_embeddings: bool = False
    fusion: Literal["video_concat", "frame_concat", "cross_attention"] = "video_concat"
    num_frames: int = 8
    face_tokens_per_frame: int = 16
    face_fusion_dim: int = 256
    face_image_size: int = 224
    audio_pool_stride: int = 3
    use_face: bool = True
    use_audio: bool = True
    untrained_modules: list[str] | tuple[str, ...] = ()

    def __post_init__(self, **kwargs):
        for key, (model_type, defaults) in _SUB_CONFIGS.items():
            value = getattr(self, key)
            if isinstance(value, dict):
                setattr(self, key, CONFIG_MAPPING[value.get("model_type", model_type)](**value))
            elif value is None:
                setattr(self, key, CONFIG_MAPPING[model_type](**defaults))
        super().__post_init__(**kwargs)
        # as LlavaOnevisionConfig: Qwen2 checkpoints keep the tie flag in their text config
        if not self.tie_word_embeddings and self.text_config.tie_word_embeddings:
            self.tie_word_embeddings = self.text_config.tie_word_embeddings
        if self.fusion not in FUSION_MODES:
            raise ValueError(f"fusion must be one of {', '.join(FUSION_MODES)}, got {self.fusion!r}")
        if self.vision_feature_select_strategy not in ("default", "full"):
            raise ValueError(
                "vision_feature_select_strategy must be 'default' or 'full', "
                f"got {self.vision_feature_select_strategy!r}"
            )
        side = round(self.face_tokens_per_frame**0.5)
        if self.face_tokens_per_frame < 1 or side * side != self.face_tokens_per_frame:
            raise ValueError(
                f"face_tokens_per_frame must be a square number >= 1, got {self.face_tokens_per_frame}"
            )
        if self.num_frames < 1 or self.audio_pool_stride < 1 or self.face_fusion_dim < 1:
            raise ValueError("num_frames, audio_pool_stride and face_fusion_dim must be positive integers")
        if (
            self.use_face
            and self.fusion == "cross_attention"
            and self.text_config.hidden_size % self.text_config.num_attention_heads
        ):
            raise ValueError("cross_attention fusion needs text hidden_size divisible by num_attention_heads")

    @property
    def face_live(self) -> bool:
        """The face stream reaches the LLM: the branch exists and none of its own modules is untrained."""
        own = ("face_fusion", "face_projector") + (
            ("cross_attention",) if self.fusion == "cross_attention" else ()
        )
        return self.use_face and not set(own) & set(self.untrained_modules)

    @property
    def audio_live(self) -> bool:
        """The audio stream reaches the LLM: the branch exists and its projector is trained."""
        return self.use_audio and "audio_projector" not in self.untrained_modules

    @property
    def zero_shot(self) -> bool:
        """Neither the face nor the audio stream is live: LLaVA-OneVision's own layout (video tokens only)."""
        return not (self.face_live or self.audio_live)

    @property
    def vision_grid(self) -> int:
        """Side of the pooled general-token grid per frame: ceil((image_size // patch_size) / 2)."""
        side = self.vision_config.image_size // self.vision_config.patch_size
        return -(-side // 2)


@dataclass(frozen=True)
class OmniStreams:
    """What an assembled folder feeds the LLM: ``mode`` "zero-shot" or "trained", the ``live`` streams
    (video, face, audio) and the ``untrained`` module groups."""

    mode: str
    live: tuple[str, ...]
    untrained: tuple[str, ...]

    def sentence(self) -> str:
        off = [s for s in ("face", "audio") if s not in self.live]
        tail = f"; {' and '.join(off)} untrained, kept from the LLM" if off else ""
        return f"{self.mode}: {', '.join(self.live)} live{tail}"


def omni_streams(folder: Path) -> OmniStreams:
    """Read the mode and live streams of the assembled model in ``folder`` from its config.json."""
    config = OmniEmotionConfig.from_pretrained(folder)
    live = ("video",) + (("face",) if config.face_live else ()) + (("audio",) if config.audio_live else ())
    return OmniStreams("zero-shot" if config.zero_shot else "trained", live, tuple(config.untrained_modules))


def streams_sentence(folder: Path) -> str:
    """``omni_streams(folder).sentence()``: the ``streams_of`` that ``weights.status`` takes."""
    return omni_streams(folder).sentence()
