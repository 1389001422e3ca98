"""Learning-rate schedule and the order samples are visited in: pure functions, tested beside the trainer.

The data is a stream of micro-batches: epoch ``e`` shuffles the dataset (seeded by ``seed + e``) and cuts
it into micro-batches (any mix of videos, stills and audio-only samples batches together: the processor
pads frames); an optimizer step consumes ``accumulation`` consecutive micro-batches of the stream (a step
may straddle two epochs). Resuming at step ``s`` therefore means skipping ``s * accumulation``
micro-batches, with no state other than the step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

__all__ = ["lr_factor", "micro_batch_stream", "micro_batches_per_epoch", "total_steps"]


def lr_factor(step: int, total: int, warmup: int, min_ratio: float = 0.0) -> float:
    """Multiplier of the peak learning rate for optimizer step ``step`` (0-based) of ``total``.

    Linear warmup over the first ``warmup`` steps (from 1/(warmup+1) up to 1), then cosine decay from 1 down to
    ``min_ratio`` at the last step.
    """
    if warmup > 0 and step < warmup:
        return (step + 1) / (warmup + 1)
    span = max(total - warmup - 1, 1)
    progress = min(max((step - warmup) / span, 0.0), 1.0)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def total_steps(num_samples: int, batch_size: int, epochs: float, max_steps: int | None = None) -> int:
    """Optimizer steps for ``epochs`` passes over ``num_samples`` at ``batch_size`` samples a step (>= 1)."""
    steps = max(math.ceil(epochs * num_samples / batch_size), 1)
    return min(steps, max_steps) if max_steps is not None else steps


def micro_batches_per_epoch(num_samples: int, micro_batch_size: int) -> int:
    """Micro-batches in one epoch; only the last may be smaller."""
    return math.ceil(num_samples / micro_batch_size)


def micro_batch_stream(
    num_samples: int, micro_batch_size: int, *, seed: int, start: int = 0, shuffle: bool = True
) -> Iterator[list[int]]:
    """Endless stream of micro-batches (lists of dataset indices), skipping the first ``start``."""
    if num_samples < 1 or micro_batch_size < 1:
        raise ValueError("num_samples and micro_batch_size must be at least 1")
    epoch, offset = divmod(start, micro_batches_per_epoch(num_samples, micro_batch_size))
    while True:
        if shuffle:
            order = torch.randperm(
                num_samples, generator=torch.Generator().manual_seed(seed + epoch)
            ).tolist()
        else:
            order = list(range(num_samples))
        chunks = [order[j : j + micro_batch_size] for j in range(0, num_samples, micro_batch_size)]
        yield from chunks[offset:]
        epoch, offset = epoch + 1, 0
