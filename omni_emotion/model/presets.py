"""Model shapes by size: ``tiny`` (random, for tests and the CPU benchmark, with a character tokenizer) and
``0.5b`` / ``7b`` (the public checkpoints' shapes, for benchmarks with random weights; ``weights init``
reads the real configs from the checkpoints instead)."""

from __future__ import annotations

import string

from transformers import PreTrainedTokenizerFast, Qwen2Config, SiglipVisionConfig, SwinConfig, WhisperConfig

from omni_emotion.model.config import (
    SIGLIP_SO400M,
    SPECIAL_TOKENS,
    SWIN_B,
    WHISPER_LARGE_V3_ENCODER,
    OmniEmotionConfig,
)

__all__ = ["SIZES", "TINY_SPECIAL_IDS", "preset_config", "tiny_tokenizer"]

SIZES = ("tiny", "0.5b", "7b")

_CHARS = string.ascii_letters + string.digits + string.punctuation + " \n"
# special tokens of the tiny vocabulary, placed after the characters
TINY_SPECIAL_IDS = {
    tok: len(_CHARS) + i
    for i, tok in enumerate(("<video>", *SPECIAL_TOKENS, "<|im_start|>", "<|im_end|>", "<pad>"))
}
_TINY_VOCAB = len(_CHARS) + len(TINY_SPECIAL_IDS)

# llava-hf/llava-onevision-qwen2-{0.5b,7b}-ov-hf: text_config and generation_config.json carry
# bos <|endoftext|> and eos <|im_end|>, the ChatML turn end the model was tuned to stop at
_QWEN2_SPECIAL = dict(bos_token_id=151643, eos_token_id=151645)
_QWEN2 = {
    "0.5b": dict(
        vocab_size=152000,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,
    ),
    "7b": dict(
        vocab_size=152128,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        tie_word_embeddings=False,
    ),
}


def preset_config(size: str, **overrides) -> OmniEmotionConfig:
    """An OmniEmotionConfig for ``size`` in SIZES; keyword overrides replace top-level fields."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    if size == "tiny":
        ids = TINY_SPECIAL_IDS
        kwargs = dict(
            # SigLIP 32 px / patch 8: a 4x4 grid pooled to 2x2 = 4 tokens per frame
            vision_config=SiglipVisionConfig(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=32,
                patch_size=8,
                vision_use_head=False,
            ),
            text_config=Qwen2Config(
                vocab_size=_TINY_VOCAB,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                max_position_embeddings=2048,
                tie_word_embeddings=False,
                pad_token_id=ids["<pad>"],
                eos_token_id=ids["<|im_end|>"],
                bos_token_id=None,
            ),
            # 100 encoder positions = 200 mel frames = a 2 s window, 34 tokens when full
            audio_config=WhisperConfig(
                vocab_size=_TINY_VOCAB,
                num_mel_bins=16,
                d_model=16,
                encoder_layers=1,
                encoder_attention_heads=2,
                encoder_ffn_dim=32,
                decoder_layers=1,
                decoder_attention_heads=2,
                decoder_ffn_dim=32,
                max_source_positions=100,
                pad_token_id=0,
                bos_token_id=1,
                eos_token_id=2,
                decoder_start_token_id=1,
            ),
            face_config=SwinConfig(
                image_size=32,
                patch_size=2,
                embed_dim=8,
                depths=[1, 1, 2, 1],
                num_heads=[1, 1, 2, 2],
                window_size=2,
            ),
            video_token_index=ids["<video>"],
            vi_start_token_index=ids["<vi_start>"],
            vi_end_token_index=ids["<vi_end>"],
            au_start_token_index=ids["<au_start>"],
            au_end_token_index=ids["<au_end>"],
            audio_token_index=ids["<audio>"],
            face_tokens_per_frame=4,
            face_fusion_dim=8,
            face_image_size=32,
        )
    else:
        kwargs = dict(
            vision_config=SiglipVisionConfig(**SIGLIP_SO400M),
            text_config=Qwen2Config(**_QWEN2[size], **_QWEN2_SPECIAL),
            audio_config=WhisperConfig(**WHISPER_LARGE_V3_ENCODER),
            face_config=SwinConfig(**SWIN_B),
        )
    kwargs.update(overrides)
    return OmniEmotionConfig(**kwargs)


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A character-level tokenizer matching the ``tiny`` vocabulary (ids of TINY_SPECIAL_IDS), built offline."""
    from tokenizers import Tokenizer, decoders, models

    core = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(_CHARS)}, merges=[], unk_token="?"))
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="?")
    tok.add_tokens(list(TINY_SPECIAL_IDS), special_tokens=True)  # in id order
    tok.pad_token, tok.eos_token = "<pad>", "<|im_end|>"
    return tok
