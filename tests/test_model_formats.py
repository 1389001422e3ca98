"""The MLLM against the real public formats: SigLIP normalisation, LLaVA-OneVision's generation config and
system prompt, modality tokens never generated, saved folders across parameter-naming schemes, and loads that
would leave weights random. Tiny random configs, no downloads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import GenerationConfig

from omni_emotion.model.layout import DEFAULT_SYSTEM_PROMPT
from omni_emotion.model.modeling import IncompleteCheckpointError, OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import TINY_SPECIAL_IDS, preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.types import Clip

MODALITY_TOKENS = ("<video>", "<audio>", "<vi_start>", "<vi_end>", "<au_start>", "<au_end>")


def _model(**overrides) -> OmniEmotionForConditionalGeneration:
    torch.manual_seed(0)
    return OmniEmotionForConditionalGeneration(preset_config("tiny", **overrides)).eval()


def _processor(model) -> OmniEmotionProcessor:
    return OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(model.config))


def _clip(value: int = 255) -> Clip:
    return Clip(
        frames=np.full((8, 40, 48, 3), value, np.uint8),
        timestamps=np.linspace(0, 1, 8, endpoint=False),
        audio=np.zeros(16000, np.float32),
        duration=1.0,
    )


# ---- frames: SigLIP's mean and std ---------------------------------------------------------------------


def test_frames_are_normalised_as_siglip():
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    processor = _processor(_model())
    mean, std = SiglipImageProcessorPil.image_mean, SiglipImageProcessorPil.image_std
    for value in (0, 255, 51):
        pixels = processor(_clip(value), None, "?")["pixel_values_videos"][0]
        expected = (torch.full((3,), value / 255) - torch.tensor(mean)) / torch.tensor(std)
        torch.testing.assert_close(pixels[0, :, 5, 5], expected, atol=1e-5, rtol=0)


# ---- LLaVA-OneVision's generation config and system prompt -------------------------------------------


@pytest.mark.parametrize("size", ["0.5b", "7b"])
def test_real_presets_stop_at_im_end(size):
    config = preset_config(size)
    # llava-hf/llava-onevision-qwen2-*-ov-hf: bos <|endoftext|> 151643, eos <|im_end|> 151645
    assert (config.text_config.bos_token_id, config.text_config.eos_token_id) == (151643, 151645)
    generation = GenerationConfig.from_model_config(config)
    assert generation.eos_token_id == 151645


def test_prompts_carry_the_qwen_1_5_system_turn():
    processor = _processor(_model())
    ids = processor(_clip(), None, "How?")["input_ids"][0].tolist()
    text = processor.tokenizer.decode(ids)
    assert text.startswith(f"<|im_start|>system\n{DEFAULT_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n")
    assert DEFAULT_SYSTEM_PROMPT == "You are a helpful assistant."


# ---- modality tokens are never generated ---------------------------------------------------------------


@pytest.mark.parametrize("use_cache", [True, False])
def test_generation_never_emits_modality_tokens(use_cache):
    model = _model()
    processor = _processor(model)
    vocab = model.config.text_config.vocab_size
    # an LM head that prefers every modality token over everything else, then the letter "a"
    head = nn.Linear(model.config.text_config.hidden_size, vocab, bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        for rank, token in enumerate(MODALITY_TOKENS):
            head.bias[TINY_SPECIAL_IDS[token]] = 20.0 - rank
        head.bias[processor.tokenizer.convert_tokens_to_ids("a")] = 5.0
    model.lm_head = head
    inputs = processor(_clip(), None, "How?")
    with torch.no_grad():
        out = model.generate(
            **inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False, use_cache=use_cache
        )
    new = out[0, inputs["input_ids"].shape[1] :].tolist()
    assert not {TINY_SPECIAL_IDS[t] for t in MODALITY_TOKENS} & set(new)
    assert processor.tokenizer.decode(new) == "aaaa"


# ---- saved folders: both parameter-naming schemes, and no weight left random ---------------------------

# transformers' legacy names for the two towers whose parameters were renamed (SigLIP's ``vision_model.``
# level; Swin's attention.self.* / intermediate / output) -> today's
_LEGACY_SWIN = (
    ("attention.self.query.", "attention.q_proj."),
    ("attention.self.key.", "attention.k_proj."),
    ("attention.self.value.", "attention.v_proj."),
    (
        "attention.self.relative_position_bias_table",
        "attention.relative_position_bias.relative_position_bias_table",
    ),
    ("attention.output.dense.", "attention.o_proj."),
    ("intermediate.dense.", "mlp.fc1."),
    (".output.dense.", ".mlp.fc2."),
)


def _rewrite(folder, scheme: str) -> None:
    """Rename the saved tensors to the ``legacy`` or the ``flat`` naming of SigLIP and Swin."""
    path = folder / "model.safetensors"
    state = load_file(str(path))
    renamed = {}
    for key, value in state.items():
        if scheme == "legacy":
            key = key.replace("model.vision.tower.", "model.vision.tower.vision_model.")
            for old, new in _LEGACY_SWIN:
                key = key.replace(new, old) if "model.face.backbone." in key and old not in key else key
        else:
            for old, new in _LEGACY_SWIN:
                key = key.replace(old, new) if "model.face.backbone." in key else key
        renamed[key] = value
    assert renamed.keys() != state.keys() or scheme == "flat"
    save_file(renamed, str(path), metadata={"format": "pt"})


@pytest.mark.parametrize("scheme", ["legacy", "flat"])
def test_folders_of_either_naming_scheme_load_every_weight(tmp_path, scheme):
    model = _model()
    model.save_pretrained(tmp_path)
    _rewrite(tmp_path, scheme)
    names = set(load_file(str(tmp_path / "model.safetensors")))
    if scheme == "legacy":
        assert any(".vision_model." in k for k in names) and any("attention.self.query" in k for k in names)
    else:
        assert any("attention.q_proj" in k for k in names) and any("mlp.fc2" in k for k in names)
    loaded = OmniEmotionForConditionalGeneration.from_pretrained(tmp_path)
    reference = model.state_dict()
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, reference[key], msg=key)


def test_a_load_that_would_leave_weights_random_fails(tmp_path):
    _model().save_pretrained(tmp_path)
    path = tmp_path / "model.safetensors"
    state = load_file(str(path))
    del state["model.audio.projector.linear_1.weight"]
    save_file(state, str(path), metadata={"format": "pt"})
    with pytest.raises(IncompleteCheckpointError, match=r"lacks 1 weights .*audio.projector.linear_1.weight"):
        OmniEmotionForConditionalGeneration.from_pretrained(tmp_path)
    model = OmniEmotionForConditionalGeneration.from_pretrained(
        tmp_path, allow_missing=["model.audio.projector."]
    )
    assert model.model.audio.projector.linear_1.weight.shape[0] == model.config.text_config.hidden_size
