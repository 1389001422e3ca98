"""Low-rank adapters on the LLM's linear layers, a separate path beside each frozen weight (no extra package).

Each targeted ``nn.Linear`` of the decoder computes ``W x + (alpha / rank) * B (A x)``: the adapter is a
submodule (``<linear>.lora``) with A (rank, in) drawn like a Linear's weight and B (out, rank) zero, so
training starts at the loaded model exactly, and a forward hook adds its output to the Linear's. A and B stay
fp32 and their product is never added into W: in bf16 a small update added into the weight rounds away
entry by entry (an update of 6e-6 is below half a bf16 step of almost every weight), while on its own path it
reaches the output summed over the input features, where it is still visible. Only A and B train; W stays the
loaded tensor, which makes "adapters off" the reference model of phase 4 without a second copy. The saved
model is the merged one (plain parameter names, loadable by the omni engine); the adapters alone go into the
trainer state, so a run resumes from its --init model plus the adapters.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from omni_emotion.errors import ConfigError

__all__ = ["LoRA", "LowRankDelta", "add_lora", "lora_state", "merged_state"]

_SUFFIX = ".lora."


class LowRankDelta(nn.Module):
    """The adapter path ``x -> scale * B (A x)``, in fp32 whatever the autocast or input dtype."""

    def __init__(self, out_features: int, in_features: int, rank: int, alpha: float):
        super().__init__()
        self.A = nn.Parameter(torch.empty(rank, in_features))
        self.B = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.scale = alpha / rank
        self.enabled = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self.scale * nn.functional.linear(nn.functional.linear(x.to(self.A.dtype), self.A), self.B)

    def weight_delta(self) -> torch.Tensor:
        """(out, in) ``scale * B @ A``: what merging adds to the Linear's weight."""
        return self.scale * (self.B @ self.A)

    def add_to(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        """Forward hook of the adapted Linear: its output plus the adapter's, summed in fp32, rounded once."""
        if not self.enabled:
            return output
        return (output.float() + self(args[0])).to(output.dtype)


class LoRA:
    """The adapters added to one model: switch them on and off, and train only them."""

    def __init__(self, model: nn.Module, deltas: dict[str, LowRankDelta]):
        self.model, self.deltas = model, deltas

    def set_trainable(self) -> int:
        """Freeze every parameter but the adapters'; returns the adapters' parameter count."""
        self.model.requires_grad_(False)
        for delta in self.deltas.values():
            delta.requires_grad_(True)
        return sum(p.numel() for d in self.deltas.values() for p in d.parameters())

    @contextlib.contextmanager
    def disabled(self) -> Iterator[None]:
        """The loaded model without its adapters, for the duration of the block."""
        for delta in self.deltas.values():
            delta.enabled = False
        try:
            yield
        finally:
            for delta in self.deltas.values():
                delta.enabled = True


def add_lora(model: nn.Module, rank: int, alpha: float, targets: Sequence[str]) -> LoRA:
    """Adapters of ``rank`` on every Linear of ``model.model.language_model`` whose name ends in one of
    ``targets`` (Qwen2's q/k/v/o and MLP projections by default); fp32, on each Linear's device."""
    llm = model.model.language_model
    deltas = {}
    for name, module in list(llm.named_modules()):
        if isinstance(module, nn.Linear) and name.rsplit(".", 1)[-1] in targets:
            delta = LowRankDelta(module.out_features, module.in_features, rank, alpha).to(
                module.weight.device
            )
            module.lora = delta
            module.register_forward_hook(delta.add_to)
            deltas[f"model.language_model.{name}"] = delta
    if not deltas:
        raise ConfigError(f"no linear layer of the LLM is named {', '.join(targets)}; nothing to adapt")
    return LoRA(model, deltas)


def lora_state(model: nn.Module, lora: LoRA) -> dict[str, torch.Tensor]:
    """The adapters' tensors under their names in ``model.state_dict()``."""
    return {
        f"{name}.lora.{key}": tensor.detach().cpu().clone()
        for name, delta in lora.deltas.items()
        for key, tensor in delta.state_dict().items()
    }


@torch.no_grad()
def merged_state(model: nn.Module, lora: LoRA) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` without the adapters, every adapted weight merged (``W + scale * B @ A``, summed
    in fp32 and stored in the weight's dtype) under its plain name."""
    out = {}
    for key, tensor in model.state_dict().items():
        if _SUFFIX in key:
            continue
        name = key.removesuffix(".weight")
        if name in lora.deltas:
            tensor = (tensor.float() + lora.deltas[name].weight_delta().to(tensor.device)).to(tensor.dtype)
        out[key] = tensor
    return out
