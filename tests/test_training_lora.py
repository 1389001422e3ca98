"""LoRA in bf16: the adapters are a separate fp32 path, so an update too small to survive being added into a
bf16 weight still reaches the layer's output, in the direction it was meant to move it."""

from __future__ import annotations

import torch
from torch import nn

from omni_emotion.training.lora import add_lora, merged_state

WIDTH, OUT, RANK, ALPHA = 3584, 256, 8, 16.0  # Qwen2-7B's hidden width


def _llm(dtype: torch.dtype) -> nn.Module:
    """The attribute path add_lora adapts (``model.model.language_model``), with one q_proj."""
    torch.manual_seed(0)
    root = nn.Module()
    root.model = nn.Module()
    root.model.language_model = nn.ModuleDict({"q_proj": nn.Linear(WIDTH, OUT, bias=False)})
    nn.init.normal_(root.model.language_model["q_proj"].weight, std=0.02)
    return root.to(dtype)


def test_adapters_start_at_the_loaded_model_and_switch_off():
    model = _llm(torch.bfloat16)
    layer = model.model.language_model["q_proj"]
    x = torch.randn(4, WIDTH, dtype=torch.bfloat16)
    before = layer(x)
    lora = add_lora(model, RANK, ALPHA, ["q_proj"])
    assert torch.equal(layer(x), before)  # B starts at zero
    next(iter(lora.deltas.values())).B.data.fill_(1e-2)
    assert not torch.equal(layer(x), before)
    with lora.disabled():
        assert torch.equal(layer(x), before)
    # the merged weight gives the adapted output (summed in fp32, so to bf16 rounding of the output)
    merged = merged_state(model, lora)["model.language_model.q_proj.weight"]
    assert merged.dtype == torch.bfloat16
    assert set(merged_state(model, lora)) == {"model.language_model.q_proj.weight"}
    torch.testing.assert_close(x @ merged.T, layer(x), rtol=2e-2, atol=2e-2)


def test_a_small_update_moves_the_bf16_output_the_way_it_should():
    """Ten AdamW-sized steps of 1e-5 on B (|scale * B @ A| about 5e-6 per weight, the size at which the issue
    measured that 91.5% of bf16 weights do not change) along the loss gradient. Added into the bf16 weight
    (the former parametrization) the visible change was mostly rounding noise: 2.34 times the intended change
    away from it, cosine 0.058. On the adapter's own path: 0.94 and 0.35 (measured with this seed)."""
    model = _llm(torch.bfloat16)
    layer = model.model.language_model["q_proj"]
    lora = add_lora(model, RANK, ALPHA, ["q_proj"])
    delta = next(iter(lora.deltas.values()))
    x = torch.randn(32, WIDTH).to(torch.bfloat16)
    target = torch.randn(32, OUT)
    (layer(x).float() * target).sum().backward()
    assert delta.B.grad is not None and delta.B.dtype == torch.float32
    with torch.no_grad():
        y0 = layer(x).float()
        delta.B.copy_(-10 * 1e-5 * delta.B.grad.sign())
        step = delta.scale * (delta.B @ delta.A)
        assert 2e-6 < float(step.pow(2).mean().sqrt()) < 2e-5
        intended = x.float() @ step.T
        seen = layer(x).float() - y0
    assert float((seen - intended).norm() / intended.norm()) < 1.0
    assert float(nn.functional.cosine_similarity(seen.flatten(), intended.flatten(), dim=0)) > 0.25
