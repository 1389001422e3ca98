"""Learning-rate schedule and the order samples are visited in: pure functions, tested beside the trainer.

The data is a stream of micro-batches: epoch ``e`` shuffles the dataset (seeded by ``seed + e``), cuts each
kind of sample (e.g. "has video" vs "audio only", which cannot share a batch) into micro-batches and
shuffles their order; an optimizer step consumes ``accumulation`` consecutive micro-batches of the stream
(a step may straddle two epochs). Resuming at step ``s`` therefore means skipping ``s * accumulation``
micro-batches, with no state other than the step.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence

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


def micro_batches_per_epoch(kinds: Sequence[Hashable], micro_batch_size: int) -> int:
    """Micro-batches in one epoch: each kind is cut separately, so each kind's last one may be smaller."""
    counts: dict[Hashable, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    return sum(math.ceil(c / micro_batch_size) for c in counts.values())


def _epoch(kinds: Sequence[Hashable], micro_batch_size: int, generator: torch.Generator | None) -> list[list[int]]:
    n = len(kinds)
    order = torch.randperm(n, generator=generator).tolist() if generator is not None else list(range(n))
    by_kind: dict[Hashable, list[int]] = {}
    for i in order:
        by_kind.setdefault(kinds[i], []).append(i)
    chunks = [
        idx[j : j + micro_batch_size] for idx in by_kind.values() for j in range(0, len(idx), micro_batch_size)
    ]
    if generator is None:
        return chunks
    return [chunks[j] for j in torch.randperm(len(chunks), generator=generator).tolist()]


def micro_batch_stream(
    kinds: Sequence[Hashable], micro_batch_size: int, *, seed: int, start: int = 0, shuffle: bool = True
) -> Iterator[list[int]]:
    """Endless stream of micro-batches (lists of dataset indices of one kind), skipping the first ``start``."""
    per_epoch = micro_batches_per_epoch(kinds, micro_batch_size)
    epoch, offset = divmod(start, per_epoch)
    while True:
        generator = torch.Generator().manual_seed(seed + epoch) if shuffle else None
        yield from _epoch(kinds, micro_batch_size, generator)[offset:]
        epoch, offset = epoch + 1, 0
