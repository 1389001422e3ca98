"""Low-rank adapters on the LLM's linear layers, through torch's own parametrizations (no extra dependency).

Each targeted ``nn.Linear`` of the decoder gets ``weight = W + (alpha / rank) * B @ A`` with A (rank, in)
drawn like a Linear's weight and B (out, rank) zero, so training starts at the loaded model exactly. Only A
and B train; W stays the loaded tensor, which makes "adapters off" the reference model of phase 4 without
a second copy. The saved model is the merged one (plain parameter names, loadable by the omni engine);
the adapters alone go into the trainer state, so a run resumes from its --init model plus the adapters.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize

from omni_emotion.errors import ConfigError

__all__ = ["LoRA", "LowRankDelta", "add_lora", "lora_state", "merged_state"]

_ORIGINAL = ".parametrizations.weight.original"


class LowRankDelta(nn.Module):
    """The parametrization ``W -> W + scale * B @ A`` (off while ``enabled`` is False)."""

    def __init__(self, out_features: int, in_features: int, rank: int, alpha: float):
        super().__init__()
        self.A = nn.Parameter(torch.empty(rank, in_features))
        self.B = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.scale = alpha / rank
        self.enabled = True

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return weight
        return weight + (self.scale * (self.B @ self.A)).to(weight.dtype)


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
    ``targets`` (Qwen2's q/k/v/o and MLP projections by default)."""
    llm = model.model.language_model
    deltas = {}
    for name, module in llm.named_modules():
        if isinstance(module, nn.Linear) and name.rsplit(".", 1)[-1] in targets:
            delta = LowRankDelta(module.out_features, module.in_features, rank, alpha).to(module.weight.device)
            parametrize.register_parametrization(module, "weight", delta)
            deltas[f"model.language_model.{name}"] = delta
    if not deltas:
        raise ConfigError(f"no linear layer of the LLM is named {', '.join(targets)}; nothing to adapt")
    return LoRA(model, deltas)


def lora_state(model: nn.Module, lora: LoRA) -> dict[str, torch.Tensor]:
    """The adapters' tensors under their names in ``model.state_dict()``."""
    return {
        f"{name}.parametrizations.weight.0.{key}": tensor.detach().cpu().clone()
        for name, delta in lora.deltas.items()
        for key, tensor in delta.state_dict().items()
    }


@torch.no_grad()
def merged_state(model: nn.Module, lora: LoRA) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with every adapted weight merged (``W + scale * B @ A``) under its plain name."""
    modules = dict(model.named_modules())
    out = {}
    for key, tensor in model.state_dict().items():
        if ".parametrizations.weight.0." in key:
            continue
        if key.endswith(_ORIGINAL):
            name = key[: -len(_ORIGINAL)]
            out[f"{name}.weight"] = modules[name].weight.detach()
        else:
            out[key] = tensor
    return out
