"""The MLLM on a CUDA GPU (marker ``gpu``, left out by default; bench/gpu_check.sh runs them): bf16 forward and
generation of the tiny model, sdpa against eager attention, static cache against dynamic cache."""

from __future__ import annotations

import pytest
import torch
from fixtures import synthetic_perception

from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import TINY_SPECIAL_IDS, preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def _model(attn: str = "sdpa", dtype: torch.dtype = torch.bfloat16) -> OmniEmotionForConditionalGeneration:
    torch.manual_seed(0)
    model = OmniEmotionForConditionalGeneration._from_config(preset_config("tiny"), attn_implementation=attn)
    return model.to("cuda", dtype).eval()


def _inputs(model) -> dict[str, torch.Tensor]:
    perception = synthetic_perception(size=(40, 48), track_id=0)
    clip, face = perception.clip, perception.main_face
    processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(model.config))
    batch = processor(clip, face, "How?")
    return {k: v.to("cuda", model.dtype) if v.is_floating_point() else v.to("cuda") for k, v in batch.items()}


def test_bf16_generation_on_cuda_blocks_modality_tokens():
    model = _model()
    inputs = _inputs(model)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=False)
    new = out[0, inputs["input_ids"].shape[1] :].tolist()
    assert len(new) == 8
    assert not {TINY_SPECIAL_IDS[t] for t in ("<video>", "<audio>", "<vi_start>", "<au_start>")} & set(new)


def test_sdpa_matches_eager_attention_in_float32():
    sdpa, eager = _model("sdpa", torch.float32), _model("eager", torch.float32)
    inputs = _inputs(sdpa)
    with torch.inference_mode():
        torch.testing.assert_close(sdpa(**inputs).logits, eager(**inputs).logits, atol=1e-4, rtol=1e-4)


def test_static_cache_generates_what_the_dynamic_cache_does():
    model = _model(dtype=torch.float32)
    inputs = _inputs(model)
    gen = dict(max_new_tokens=8, min_new_tokens=8, do_sample=False)
    with torch.inference_mode():
        dynamic = model.generate(**inputs, **gen)
        static = model.generate(**inputs, **gen, cache_implementation="static")
    assert torch.equal(dynamic, static)
