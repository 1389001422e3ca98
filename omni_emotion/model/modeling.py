"""`OmniEmotionForConditionalGeneration`: LLaVA-OneVision + Whisper audio branch + FaceXFormer face branch.

Flow per clip: frames -> VisionEncoder (B, F, Pv, D); face crops -> FaceEncoder (B, F, Pf, D); a learned
per-frame-index embedding is added to both; ``fuse_visual`` orders them (video-level concatenation by
default); audio -> AudioEncoder, trimmed to the real length; ``merge_placeholders`` writes the visual
tokens over ``<video>`` and the audio tokens over ``<audio>``; the Qwen2 decoder and LM head follow.
Module names under ``model.vision`` / ``model.language_model`` / ``lm_head`` mirror LLaVA-OneVision's, so
``llava_onevision_key_map`` only renames prefixes.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, LogitsProcessor, LogitsProcessorList, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import CausalLMOutputWithPast

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.model.config import OmniEmotionConfig
from omni_emotion.model.encoders.audio import AudioEncoder
from omni_emotion.model.encoders.face import FaceEncoder
from omni_emotion.model.encoders.vision import VisionEncoder
from omni_emotion.model.layout import fuse_visual, merge_placeholders

__all__ = [
    "GROUP_PREFIXES",
    "MODULE_GROUPS",
    "IncompleteCheckpointError",
    "ModalityTokenBlocker",
    "OmniEmotionForConditionalGeneration",
    "OmniEmotionModel",
    "OmniEmotionOutput",
    "OmniEmotionPreTrainedModel",
    "llava_onevision_key_map",
]

# Parameter groups a trainer freezes or unfreezes together (see ``set_trainable``).
MODULE_GROUPS = (
    "vision_tower",
    "vision_projector",
    "face_backbone",
    "face_fusion",
    "cross_attention",
    "face_projector",
    "audio_encoder",
    "audio_projector",
    "frame_embedding",
    "llm",
)

# State-dict key prefixes of the groups ``weights init`` may leave at their random start.
GROUP_PREFIXES = {
    "face_fusion": ("model.face.linear_c.", "model.face.linear_fuse."),
    "cross_attention": ("model.cross_attention.",),
    "face_projector": ("model.face.projector.",),
    "audio_projector": ("model.audio.projector.",),
    "frame_embedding": ("model.frame_embedding.",),
}


class IncompleteCheckpointError(ModelNotFoundError):
    """A saved folder lacks weights the model needs; loading it would leave them random."""


class ModalityTokenBlocker(LogitsProcessor):
    """Sets the scores of the modality tokens to -inf: they are inputs only, and a generated placeholder
    would ask the next step for features that do not exist."""

    def __init__(self, token_ids: Iterable[int]):
        self.token_ids = sorted(set(token_ids))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        blocked = torch.tensor(self.token_ids, device=scores.device)
        return scores.index_fill(-1, blocked, float("-inf"))


_FACE_INPUTS = ("face_pixel_values", "face_mask", "frame_mask", "audio_mask", "audio_token_lengths")


def llava_onevision_key_map(key: str) -> str:
    """transformers' LlavaOnevisionForConditionalGeneration state-dict key -> this model's key."""
    for old, new in (
        ("model.vision_tower.", "model.vision.tower."),
        ("model.multi_modal_projector.", "model.vision.projector."),
        ("model.image_newline", "model.vision.image_newline"),
    ):
        if key.startswith(old):
            return new + key[len(old) :]
    return key


# transformers 5.24 renamed the KV cache of forward arguments and outputs from ``past_key_values`` to ``cache``;
# the cache travels through ``**kwargs`` under whichever name the installed version's ``generate`` uses.
CACHE_NAME = "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"


class OmniEmotionOutput(CausalLMOutputWithPast):
    """loss (1,) when labels are given; logits (B, L, vocab); the KV cache (field ``CACHE_NAME``);
    hidden_states/attentions on request."""


class FrameTimeEmbedding(nn.Module):
    """One learned vector per frame index, added to that frame's general and face tokens; starts at zero."""

    def __init__(self, num_frames: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(num_frames, dim))


class FaceQueryCrossAttention(nn.Module):
    """Face tokens (queries) attend to the same frame's general tokens (keys/values), with a residual."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, face: torch.Tensor, general: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(general)
        attended, _ = self.attn(self.norm_q(face), kv, kv, need_weights=False)
        return face + attended


class OmniEmotionPreTrainedModel(PreTrainedModel):
    config: OmniEmotionConfig
    config_class = OmniEmotionConfig
    base_model_prefix = "model"
    input_modalities = ("video", "audio", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = [CACHE_NAME]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_attention_backend = True
    _no_split_modules = ["Qwen2DecoderLayer", "SiglipEncoderLayer", "WhisperEncoderLayer", "SwinLayer"]

    @torch.no_grad()
    def _init_weights(self, module):
        # transformers.initialization skips tensors already loaded from a checkpoint
        super()._init_weights(module)
        if isinstance(module, FrameTimeEmbedding):
            # zero: an untrained time embedding leaves LLaVA-OneVision's features unchanged
            init.zeros_(module.weight)
        elif isinstance(module, VisionEncoder):
            init.normal_(module.image_newline, std=self.config.text_config.hidden_size**-0.5)


class OmniEmotionModel(OmniEmotionPreTrainedModel):
    """Encoders, fusion and the Qwen2 decoder without LM head."""

    def __init__(self, config: OmniEmotionConfig):
        super().__init__(config)
        text = config.text_config
        act, hidden = config.projector_hidden_act, text.hidden_size
        self.vision = VisionEncoder(
            config.vision_config,
            hidden,
            act=act,
            bias=config.multimodal_projector_bias,
            feature_layer=config.vision_feature_layer,
            select_strategy=config.vision_feature_select_strategy,
        )
        self.face = (
            FaceEncoder(
                config.face_config,
                hidden,
                fusion_dim=config.face_fusion_dim,
                tokens_per_frame=config.face_tokens_per_frame,
                act=act,
            )
            if config.use_face
            else None
        )
        self.cross_attention = (
            FaceQueryCrossAttention(hidden, text.num_attention_heads)
            if config.use_face and config.fusion == "cross_attention"
            else None
        )
        self.audio = (
            AudioEncoder(config.audio_config, hidden, pool_stride=config.audio_pool_stride, act=act)
            if config.use_audio
            else None
        )
        self.frame_embedding = FrameTimeEmbedding(config.num_frames, hidden)
        self.language_model = AutoModel.from_config(text)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def visual_features(
        self,
        pixel_values_videos: torch.Tensor | None,
        face_pixel_values: torch.Tensor | None,
        face_mask: torch.Tensor | None,
        frame_mask: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """(B, F, 3, S, S) frames and (B, F, 3, Sf, Sf) face crops -> (B, N, D) fused tokens; None if both absent.

        An absent stream (None), a padding frame (frame_mask (B, F) False) or a frame without a face
        (face_mask False) contributes zeros; masked frames are not encoded at all. A sample whose frames are
        all masked gets zeros for every token, as a sample without video.
        """
        if pixel_values_videos is None and face_pixel_values is None:
            return None
        ref = pixel_values_videos if pixel_values_videos is not None else face_pixel_values
        batch, frames = ref.shape[:2]
        if frames > self.config.num_frames:
            raise ValueError(
                f"{frames} frames given but the model has time embeddings for {self.config.num_frames}"
            )
        dtype, device = self.frame_embedding.weight.dtype, self.frame_embedding.weight.device
        time = self.frame_embedding.weight[:frames][None, :, None, :]
        real = None  # None: every frame given is real
        if pixel_values_videos is not None and frame_mask is not None and not bool(frame_mask.all()):
            real = frame_mask.to(device, torch.bool)
        if pixel_values_videos is not None and real is None:
            general = self.vision(pixel_values_videos) + time
        else:
            general = torch.zeros(
                batch, frames, self.vision.tokens_per_frame, time.shape[-1], dtype=dtype, device=device
            )
            if real is not None and real.any():
                # only the real frames go through SigLIP, as one (1, K) clip
                encoded = self.vision(pixel_values_videos[real][None])[0]
                encoded = encoded + time[0, :, 0][real.nonzero()[:, 1]][:, None]
                general = general.to(encoded.dtype).index_put((real,), encoded)
        face = None
        # zero-shot: no face tokens at all (LLaVA-OneVision's layout); an untrained face stream: zero tokens
        if self.face is not None and not self.config.zero_shot:
            face = torch.zeros(
                batch, frames, self.config.face_tokens_per_frame, time.shape[-1], dtype=dtype, device=device
            )
            if face_pixel_values is not None and self.config.face_live:
                present = (
                    torch.ones(batch, frames, dtype=torch.bool, device=face.device)
                    if face_mask is None
                    else face_mask.to(face.device, torch.bool)
                )
                if present.any():
                    encoded = (
                        self.face(face_pixel_values[present])
                        + time[0, :, 0][present.nonzero()[:, 1]][:, None]
                    )
                    face = face.index_put((present,), encoded.to(face.dtype))
        visual = fuse_visual(
            general, self.vision.image_newline, face, self.config.fusion, self.cross_attention
        )
        if face is not None and self.cross_attention is not None and not self.config.face_live:
            # the untrained cross-attention's output is the face stream's: zero, the newline kept
            keep = torch.zeros(visual.shape[1], 1, dtype=torch.bool, device=visual.device)
            keep[-1] = True
            visual = visual.masked_fill(~keep, 0.0)
        if real is not None and not bool(real.any(1).all()):
            # a sample with no real frame has no video (its crops belong to frames): all its tokens are zero,
            # the newline too, exactly as when it is run alone without pixel values
            visual = visual.masked_fill(~real.any(1)[:, None, None], 0.0)
        return visual

    def audio_features(
        self,
        input_features: torch.Tensor,
        audio_token_lengths: torch.Tensor,
        audio_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, n_mels, frames) log-mel -> (sum(lengths), D): each clip's first ``lengths[b]`` tokens, zero where
        ``audio_mask`` is False."""
        tokens = self.audio(input_features)
        rows = []
        for b, length in enumerate(audio_token_lengths.tolist()):
            row = tokens[b, :length]
            if audio_mask is not None and not bool(audio_mask[b]):
                row = torch.zeros_like(row)
            rows.append(row)
        return torch.cat(rows, dim=0)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        pixel_values_videos: torch.Tensor | None = None,
        face_pixel_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        frame_mask: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        audio_token_lengths: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ):
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
            features = self._placeholder_features(
                input_ids,
                inputs_embeds,
                pixel_values_videos,
                face_pixel_values,
                face_mask,
                frame_mask,
                input_features,
                audio_token_lengths,
                audio_mask,
            )
            inputs_embeds = merge_placeholders(inputs_embeds, input_ids, features)
        return self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=use_cache,
            **kwargs,
        )

    def _placeholder_features(
        self,
        input_ids,
        inputs_embeds,
        pixel_values_videos,
        face_pixel_values,
        face_mask,
        frame_mask,
        input_features,
        audio_token_lengths,
        audio_mask,
    ) -> dict[str, tuple[int, torch.Tensor]]:
        features: dict[str, tuple[int, torch.Tensor]] = {}
        dim = inputs_embeds.shape[-1]
        video_id, audio_id = self.config.video_token_id, self.config.audio_token_id
        n_video = int((input_ids == video_id).sum())
        if n_video:
            visual = self.visual_features(pixel_values_videos, face_pixel_values, face_mask, frame_mask)
            rows = visual.reshape(-1, dim) if visual is not None else inputs_embeds.new_zeros(n_video, dim)
            features["vision"] = (video_id, rows)
        n_audio = int((input_ids == audio_id).sum())
        if n_audio:
            if input_features is not None and self.audio is None:
                raise ValueError("audio features were given but this model was built with use_audio=False")
            if input_features is not None and self.config.audio_live:
                if audio_token_lengths is None:
                    raise ValueError("audio_token_lengths is required with input_features")
                rows = self.audio_features(input_features, audio_token_lengths, audio_mask)
            else:  # no audio, or an untrained audio projector: its output must not reach the LLM
                rows = inputs_embeds.new_zeros(n_audio, dim)
            features["audio"] = (audio_id, rows)
        return features


class OmniEmotionForConditionalGeneration(OmniEmotionPreTrainedModel, GenerationMixin):
    """The full MLLM with LM head; ``generate`` works as for any transformers decoder.

    forward inputs (shapes for batch B, sequence L, frames F):
      input_ids (B, L), attention_mask (B, L), labels (B, L) with -100 on prompt tokens;
      pixel_values_videos (B, F, 3, 384, 384), frame_mask (B, F) bool (False: padding frame);
      face_pixel_values (B, F, 3, 224, 224), face_mask (B, F) bool;
      input_features (B, n_mels, 3000) log-mel, audio_token_lengths (B,) long, audio_mask (B,) bool.
    Any modality input may be None: its placeholders then receive zeros.
    """

    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}

    def __init__(self, config: OmniEmotionConfig):
        super().__init__(config)
        self.model = OmniEmotionModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path, *args, allow_missing: Iterable[str] = (), **kwargs
    ):
        """transformers' ``from_pretrained`` that refuses to leave weights random.

        Legacy parameter names (SigLIP under ``vision_model.``, Swin's ``attention.self.query`` ...) are
        renamed by transformers' checkpoint conversion mapping of each sub-model. Any weight still missing or
        of the wrong shape raises IncompleteCheckpointError, unless its key starts with one of
        ``allow_missing`` (``weights init`` lists the new projectors there).
        """
        want_info = kwargs.pop("output_loading_info", False)
        model, info = super().from_pretrained(
            pretrained_model_name_or_path, *args, output_loading_info=True, **kwargs
        )
        allowed = tuple(allow_missing)
        missing = sorted(
            key
            for key in (*info["missing_keys"], *(m[0] for m in info["mismatched_keys"]))
            if not (allowed and key.startswith(allowed))
        )
        if missing:
            raise IncompleteCheckpointError(
                f"{pretrained_model_name_or_path} lacks {len(missing)} weights this model needs (first: "
                f"{missing[0]}), so loading it would leave them random; re-assemble it with `omni-emotion weights "
                "init` or load it with the omni-emotion version that saved it"
            )
        return (model, info) if want_info else model

    def modality_token_ids(self) -> list[int]:
        """Ids of the placeholder and marker tokens, which generation must never emit."""
        c = self.config
        return [
            c.video_token_id,
            c.audio_token_id,
            c.vi_start_token_index,
            c.vi_end_token_index,
            c.au_start_token_index,
            c.au_end_token_index,
        ]

    def generate(self, *args, logits_processor: LogitsProcessorList | None = None, **kwargs):
        """``GenerationMixin.generate`` with the modality tokens blocked (``ModalityTokenBlocker``)."""
        processors = LogitsProcessorList(logits_processor or [])
        processors.append(ModalityTokenBlocker(self.modality_token_ids()))
        return super().generate(*args, logits_processor=processors, **kwargs)

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value

    def module_groups(self) -> dict[str, list[nn.Module]]:
        """Named parameter groups (``MODULE_GROUPS``) for phase-wise training; absent branches are empty."""
        m = self.model
        face, audio = m.face, m.audio
        return {
            "vision_tower": [m.vision.tower],
            "vision_projector": [m.vision.projector],
            "face_backbone": [face.backbone] if face else [],
            "face_fusion": [face.linear_c, face.linear_fuse] if face else [],
            "cross_attention": [m.cross_attention] if m.cross_attention else [],
            "face_projector": [face.projector] if face else [],
            "audio_encoder": [audio.encoder] if audio else [],
            "audio_projector": [audio.projector] if audio else [],
            "frame_embedding": [m.frame_embedding],
            "llm": [m.language_model, self.lm_head],
        }

    def set_trainable(self, groups: Iterable[str]) -> int:
        """Freeze every parameter, then unfreeze the named groups; returns the trainable parameter count.

        The image newline is trained with the vision projector. The groups leave ``config.untrained_modules``,
        so the folder this model is saved to records them as trained and their streams reach the LLM.
        """
        groups = set(groups)
        unknown = groups - set(MODULE_GROUPS)
        if unknown:
            raise ValueError(
                f"unknown module groups {sorted(unknown)}; choose from {', '.join(MODULE_GROUPS)}"
            )
        self.requires_grad_(False)
        self.config.untrained_modules = [g for g in self.config.untrained_modules if g not in groups]
        table = self.module_groups()
        for name in groups:
            for module in table[name]:
                module.requires_grad_(True)
        self.model.vision.image_newline.requires_grad_("vision_projector" in groups)
        if self.model.audio is not None:  # Whisper's sinusoidal positions are fixed
            self.model.audio.encoder.embed_positions.requires_grad_(False)
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        pixel_values_videos: torch.Tensor | None = None,
        face_pixel_values: torch.Tensor | None = None,
        face_mask: torch.Tensor | None = None,
        frame_mask: torch.Tensor | None = None,
        input_features: torch.Tensor | None = None,
        audio_token_lengths: torch.Tensor | None = None,
        audio_mask: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> OmniEmotionOutput:
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            pixel_values_videos=pixel_values_videos,
            face_pixel_values=face_pixel_values,
            face_mask=face_mask,
            frame_mask=frame_mask,
            input_features=input_features,
            audio_token_lengths=audio_token_lengths,
            audio_mask=audio_mask,
            use_cache=use_cache,
            **kwargs,
        )
        hidden = outputs.last_hidden_state
        if isinstance(logits_to_keep, int) and logits_to_keep > 0:
            hidden = hidden[:, -logits_to_keep:]
        elif isinstance(logits_to_keep, torch.Tensor):
            hidden = hidden[:, logits_to_keep]
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )
        return OmniEmotionOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            **{CACHE_NAME: outputs.get(CACHE_NAME)},
        )

    def prepare_inputs_for_generation(self, *args, is_first_iteration: bool | None = False, **kwargs):
        inputs = super().prepare_inputs_for_generation(*args, is_first_iteration=is_first_iteration, **kwargs)
        if not is_first_iteration and kwargs.get("use_cache", True):
            for key in _FACE_INPUTS:  # the encoders run once, at prefill
                inputs.pop(key, None)
        return inputs
