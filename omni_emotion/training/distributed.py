"""Data-parallel training over several processes: torchrun's environment, DDP, and FSDP2 for the LLM.

Start it with ``omni-emotion train ... --nproc N`` (N local workers through torch.distributed's elastic
launcher, the engine behind torchrun) or ``torchrun --nproc-per-node N -m omni_emotion.cli train ...`` (any
torchrun set-up, several nodes included). Every rank reads the same global stream of micro-batches and takes
its share of each optimizer step (rank r: micro-batches r, r + W, ... of the step's group), so a step sees the
same samples whatever the world size W. Checkpoints hold full weights and the full optimizer state keyed by
parameter name, written by rank 0, so a run resumes at any world size.

``--shard`` shards every parameter with FSDP2 (``fully_shard``): each LLM decoder layer is its own unit,
gathered just before it runs, and the rest of the model is the root unit. Without it, DDP keeps a full
replica per rank and averages gradients. Ranks may see different modalities in the same step (one a clip
with a face, another audio only): a projector unused on a rank contributes a zero gradient there, and the
trainer gives every trained parameter without a gradient a zero one, so a step's update is the same for any
world size and either engine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from omni_emotion.errors import ConfigError, DeviceUnavailableError

__all__ = ["DistContext", "full_model_state", "launch", "optimizer_state", "process_group", "wrap_model"]


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job (torchrun's RANK, WORLD_SIZE, LOCAL_RANK; 0, 1, 0 when alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.world_size:
            raise ConfigError(f"rank {self.rank} is outside a world of {self.world_size} processes.")

    @classmethod
    def from_env(cls) -> DistContext:
        env = os.environ
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, requested: str | None) -> torch.device:
        """``requested`` ("cpu", "cuda"; default cuda when present), with CUDA ranks on their local GPU."""
        kind = requested or ("cuda" if torch.cuda.is_available() else "cpu")
        if not kind.startswith("cuda"):
            return torch.device(kind)
        if not torch.cuda.is_available():
            raise DeviceUnavailableError("a CUDA device was asked for but PyTorch sees no GPU.")
        if self.active:
            if self.local_rank >= torch.cuda.device_count():
                raise DeviceUnavailableError(
                    f"local rank {self.local_rank} has no GPU: this node has {torch.cuda.device_count()}."
                )
            return torch.device("cuda", self.local_rank)
        return torch.device(kind)

    def sum(self, *values: float) -> list[float]:
        """Each value summed over the ranks (unchanged when alone)."""
        if not self.active:
            return list(values)
        device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
        tensor = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def barrier(self) -> None:
        if self.active:
            dist.barrier()


@contextlib.contextmanager
def process_group(ctx: DistContext, device: torch.device) -> Iterator[None]:
    """The process group for a torchrun-started rank (NCCL on CUDA, gloo on CPU); nothing when alone. A group
    the caller already made (a notebook, a test running several trainings) is used and left to it."""
    if not ctx.active or dist.is_initialized():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    else:
        # torchrun leaves each worker all the cores; N workers would then fight over them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", 1))))
    cuda = device.type == "cuda"
    dist.init_process_group(backend="nccl" if cuda else "gloo", device_id=device if cuda else None)
    try:
        yield
    finally:
        dist.destroy_process_group()


def launch(nproc: int, entry: Callable[..., Any], *args: Any) -> dict[int, Any]:
    """Run ``entry(*args)`` in ``nproc`` local worker processes (what ``torchrun --standalone`` does);
    returns each rank's return value."""
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"omni-emotion-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",
        max_restarts=0,
    )
    return elastic_launch(config, entry)(*args)


def wrap_model(model: nn.Module, ctx: DistContext, device: torch.device, shard: bool) -> nn.Module:
    """The module to run forward on: the model itself when alone, DDP around it, or (``shard``) the model
    sharded in place by FSDP2, decoder layer by decoder layer, then the rest."""
    if shard:
        if not ctx.active:
            raise ConfigError(
                "--shard splits the model over several processes: add --nproc N or use torchrun"
            )
        from torch.distributed.fsdp import fully_shard

        for layer in model.model.language_model.layers:
            fully_shard(layer)
        fully_shard(model)
        # a micro-batch without face or audio leaves that projector unused on its rank while another rank
        # uses it: every rank must still reduce-scatter a gradient of every parameter, or the collectives'
        # sizes differ (gloo aborts, NCCL hangs). Unused, it counts as zero
        model.set_reduce_scatter_unused_params(True)
        return model
    if not ctx.active:
        return model
    # an absent modality skips its projector, so which trained parameters get gradients varies by batch
    return nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True
    )


def _options(ctx: DistContext, sharded: bool):
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    # full tensors, gathered to rank 0's CPU memory one at a time: a 7B model never sits whole on one GPU
    return StateDictOptions(full_state_dict=True, cpu_offload=ctx.active and sharded)


def full_model_state(model: nn.Module, ctx: DistContext, sharded: bool) -> dict[str, torch.Tensor] | None:
    """Full weights for ``save_pretrained(state_dict=...)``; a collective when sharded (all ranks call it)."""
    if not sharded:
        return None  # save_pretrained reads the model's own (complete) parameters
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    return get_model_state_dict(model, options=_options(ctx, sharded))


def optimizer_state(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    ctx: DistContext,
    sharded: bool,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Get (``state`` None) or set the full optimizer state keyed by parameter name, the same for any
    world size and sharding; a collective when sharded."""
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

    if state is None:
        return get_optimizer_state_dict(model, optimizer, options=_options(ctx, sharded))
    # not strict: the state may lack a tensor's AdamW moments (a checkpoint written before its step had any use
    # of it); it then starts without them, as it would have without a restart
    options = dataclasses.replace(_options(ctx, sharded), strict=False)
    set_optimizer_state_dict(model, optimizer, state, options=options)
    return state
