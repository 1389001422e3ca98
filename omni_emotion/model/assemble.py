"""Assemble an untrained-projector Omni-Emotion model from the public parts and save it.

LLaVA-OneVision (SigLIP + projector + Qwen2, renamed with ``llava_onevision_key_map``), Whisper's encoder,
and the face backbone (FaceXFormer's checkpoint through ``convert_facexformer_state_dict``, or an ImageNet
Swin) are written into one state dict; transformers' ``from_pretrained`` then initialises what is new (face
and audio projectors, face fusion when starting from ImageNet, the zero time embedding) and the result is
saved with safetensors (``untrained_modules`` naming the parts still random) together with the processor
(its settings and the tokenizer, which gains the modality tokens).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.model.config import SPECIAL_TOKENS, SWIN_B, OmniEmotionConfig
from omni_emotion.model.encoders.face import convert_facexformer_state_dict, load_facexformer_checkpoint
from omni_emotion.model.modeling import (
    GROUP_PREFIXES,
    OmniEmotionForConditionalGeneration,
    llava_onevision_key_map,
)
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.weights import HUB_MODEL_FILES, HUB_TOKENIZER_FILES, resolve_model_dir

__all__ = ["assemble"]

log = logging.getLogger(__name__)


def _face_state(face: str | None, swin: str, swin_config) -> tuple[dict[str, torch.Tensor], object]:
    from transformers import SwinConfig, SwinModel

    if face is not None:
        state = load_facexformer_checkpoint(face)
        config = swin_config or SwinConfig(**SWIN_B)
        return {f"model.face.{k}": v for k, v in convert_facexformer_state_dict(state).items()}, config
    folder = resolve_model_dir(swin, allow_patterns=list(HUB_MODEL_FILES))
    model = SwinModel.from_pretrained(folder, add_pooling_layer=False)
    return {f"model.face.backbone.{k}": v for k, v in model.state_dict().items()}, model.config


def assemble(
    llava: str,
    whisper: str,
    out: Path,
    *,
    face: str | None = None,
    swin: str = "microsoft/swin-base-patch4-window7-224",
    swin_config=None,
    dtype: torch.dtype = torch.bfloat16,
    **config_overrides,
) -> Path:
    """Build and save the model folder ``out``; returns it. ``llava``/``whisper``/``swin`` are hub ids or
    local folders; ``face`` a FaceXFormer ``model.pt`` (then ``swin`` is not used)."""
    from transformers import (
        AutoTokenizer,
        GenerationConfig,
        LlavaOnevisionForConditionalGeneration,
        WhisperModel,
    )

    out = Path(out)
    llava_dir = resolve_model_dir(llava, allow_patterns=[*HUB_MODEL_FILES, *HUB_TOKENIZER_FILES])
    whisper_dir = resolve_model_dir(whisper, allow_patterns=list(HUB_MODEL_FILES))  # the encoder only
    tokenizer = AutoTokenizer.from_pretrained(llava_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS)})
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<video>", *SPECIAL_TOKENS)}

    ref = LlavaOnevisionForConditionalGeneration.from_pretrained(llava_dir, dtype=dtype)
    state = {llava_onevision_key_map(k): v for k, v in ref.state_dict().items()}
    text_config, vision_config, llava_config = ref.config.text_config, ref.config.vision_config, ref.config
    del ref
    audio = WhisperModel.from_pretrained(whisper_dir, dtype=dtype)
    state |= {f"model.audio.encoder.{k}": v for k, v in audio.encoder.state_dict().items()}
    audio_config = audio.config
    del audio
    face_state, face_config = _face_state(face, swin, swin_config)
    state |= {k: v.to(dtype) for k, v in face_state.items()}

    if len(tokenizer) > text_config.vocab_size:
        raise ModelNotFoundError(
            f"the tokenizer has {len(tokenizer)} tokens but the LLM only {text_config.vocab_size} embeddings; "
            "use a LLaVA-OneVision checkpoint whose vocabulary has spare rows"
        )
    # new tokens start at the mean embedding instead of untrained padding rows
    new_ids = torch.tensor([ids[t] for t in SPECIAL_TOKENS])
    for key in ("model.language_model.embed_tokens.weight", "lm_head.weight"):
        if key in state:
            table = state[key].clone()
            table[new_ids] = table[: min(new_ids)].float().mean(0).to(table.dtype)
            state[key] = table

    # what this folder starts without: FaceXFormer brings its fusion MLPs, an ImageNet Swin does not
    untrained = ["face_projector", "audio_projector", "frame_embedding"]
    if face is None:
        untrained.append("face_fusion")
    if config_overrides.get("fusion") == "cross_attention":
        untrained.append("cross_attention")
    config = OmniEmotionConfig(
        vision_config=vision_config,
        text_config=text_config,
        audio_config=audio_config,
        face_config=face_config,
        video_token_index=ids["<video>"],
        audio_token_index=ids["<audio>"],
        vi_start_token_index=ids["<vi_start>"],
        vi_end_token_index=ids["<vi_end>"],
        au_start_token_index=ids["<au_start>"],
        au_end_token_index=ids["<au_end>"],
        projector_hidden_act=llava_config.projector_hidden_act,
        vision_feature_select_strategy=llava_config.vision_feature_select_strategy,
        vision_feature_layer=llava_config.vision_feature_layer,
        multimodal_projector_bias=llava_config.multimodal_projector_bias,
        face_image_size=face_config.image_size,
        untrained_modules=untrained,
        **config_overrides,
    )
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        config.save_pretrained(tmp)
        save_file({k: v.contiguous() for k, v in state.items()}, str(Path(tmp) / "model.safetensors"))
        del state
        allowed = [prefix for group in untrained for prefix in GROUP_PREFIXES[group]]
        model = OmniEmotionForConditionalGeneration.from_pretrained(tmp, dtype=dtype, allow_missing=allowed)
    if (llava_dir / "generation_config.json").is_file():
        # LLaVA-OneVision's stop token (<|im_end|>) and defaults, not ones derived from the config alone
        model.generation_config = GenerationConfig.from_pretrained(llava_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    OmniEmotionProcessor(tokenizer, ProcessorConfig.from_model_config(model.config)).save_pretrained(out)
    log.info("assembled %s (%.2fB parameters)", out, sum(p.numel() for p in model.parameters()) / 1e9)
    return out
