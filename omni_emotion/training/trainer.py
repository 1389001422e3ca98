"""The training loop shared by the three phases.

AdamW on the parameter groups the phase trains (``model.set_trainable``); every other parameter is frozen
and, under bf16, stored in bf16 while the trained ones keep fp32 master weights. Micro-batches are
accumulated to the nominal batch; the loss of each micro-batch (mean over its answer tokens) is weighted by
its share of the step's samples. Checkpoints are ``save_pretrained`` folders (what the omni engine and the
next phase's ``--init`` load) plus ``trainer_state.pt`` (optimizer, scheduler, step) for resuming.

Under torchrun (``distributed.py``) each of the W ranks runs its share of every step's micro-batches and the
gradients are averaged (DDP) or reduce-scattered (FSDP2), each micro-batch weighted as above times W, so a
step's update is the single-process one. Rank 0 alone logs and writes checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from omni_emotion.errors import ConfigError, DeviceUnavailableError, OmniEmotionError
from omni_emotion.training.config import TrainConfig
from omni_emotion.training.distributed import DistContext, full_model_state, optimizer_state, wrap_model
from omni_emotion.training.schedule import lr_factor, micro_batch_stream, total_steps

__all__ = [
    "LOG_FILE",
    "STATE_FILE",
    "TrainResult",
    "Trainer",
    "TrainingDivergedError",
    "latest_checkpoint",
    "train_mode",
]

logger = logging.getLogger(__name__)

STATE_FILE = "trainer_state.pt"
LOG_FILE = "train_log.jsonl"


class TrainingDivergedError(OmniEmotionError, FloatingPointError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    """Summary of a run; losses are means over the first / last logging window (answer tokens only)."""

    steps: int
    total_steps: int
    samples: int
    loss_start: float
    loss_end: float
    seconds: float
    samples_per_s: float
    trainable_params: int
    checkpoint: Path
    history: list[dict[str, float]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "total_steps": self.total_steps,
            "samples": self.samples,
            "loss_start": round(self.loss_start, 4),
            "loss_end": round(self.loss_end, 4),
            "seconds": round(self.seconds, 1),
            "samples_per_s": round(self.samples_per_s, 2),
            "trainable_params": self.trainable_params,
            "checkpoint": str(self.checkpoint),
        }


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The ``checkpoint-N`` folder with the largest N that holds a trainer state, or None."""
    found = [
        (int(p.name.split("-")[1]), p)
        for p in Path(out_dir).glob("checkpoint-*")
        if p.name.split("-")[1].isdigit() and (p / STATE_FILE).is_file()
    ]
    return max(found)[1] if found else None


def train_mode(model: nn.Module) -> nn.Module:
    """Train mode for the parts that train, eval mode for every frozen part (a submodule with parameters, none
    of them trained): a frozen encoder then behaves as at inference (no drop-path, no dropout) in the trained
    log-probs as in sampling and in the reference, in every phase."""
    model.train()

    def visit(module: nn.Module) -> None:
        for child in module.children():
            params = list(child.parameters())
            if params and not any(p.requires_grad for p in params):
                child.eval()
            else:
                visit(child)

    visit(model)
    return model


def _autocast(device: torch.device, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()
    }


class Trainer:
    """Runs one phase. ``dataset[i]`` -> features of sample i; ``collate(list of those)`` -> model kwargs
    with ``labels``.

    ``processor`` (optional; anything with ``save_pretrained(folder)``, normally the OmniEmotionProcessor
    with its tokenizer) is saved next to every checkpoint so the folder is self-contained: the omni engine
    and the next phase load it with the settings (e.g. ``num_frames``) this run trained with.
    ``dist``: this rank's place when started by torchrun (its process group already initialised);
    ``shard``: FSDP2 instead of DDP.
    """

    def __init__(
        self,
        model: nn.Module,
        dataset: Sequence,
        collate: Callable[[list], dict[str, Any]],
        config: TrainConfig,
        out_dir: str | Path,
        *,
        device: torch.device | str | None = None,
        processor: Any = None,
        progress: bool = True,
        dist: DistContext = DistContext(),
        shard: bool = False,
    ):
        if len(dataset) == 0:
            raise ConfigError("the training set is empty")
        self.device = (
            torch.device(device)
            if device is not None
            else torch.device("cuda" if torch.cuda.is_available() else "cpu")
        )
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceUnavailableError("a CUDA device was asked for but PyTorch sees no GPU.")
        if config.accumulation_steps % dist.world_size:
            raise ConfigError(
                f"batch_size {config.batch_size} must be a multiple of micro_batch_size x processes "
                f"({config.micro_batch_size} x {dist.world_size}), so every process runs as many micro-batches"
            )
        self.dist, self.shard = dist, shard
        self.bf16 = config.precision == "bf16" or (config.precision == "auto" and self.device.type == "cuda")
        frames = getattr(model.config, "num_frames", config.num_frames)
        if config.num_frames > frames:
            raise ConfigError(
                f"num_frames {config.num_frames} exceeds the model's {frames} frame time embeddings"
            )
        self.model, self.dataset, self.collate, self.config = model, dataset, collate, config
        self.out_dir, self.processor, self.progress = Path(out_dir), processor, progress and dist.is_main
        self.trainable_params = self._set_trainable()
        if not any(p.requires_grad for p in model.parameters()):
            raise ConfigError(f"the groups {', '.join(config.trainable)} hold no parameters in this model")
        self._prepare_model()
        # after wrapping: FSDP2 replaces each parameter by its shard
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.total = total_steps(len(dataset), config.batch_size, config.epochs, config.max_steps)
        self.optimizer = self._optimizer()
        warmup = round(config.warmup_ratio * self.total)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, self.total, warmup, config.min_lr_ratio)
        )
        self.step = 0

    def _set_trainable(self) -> int:
        """Unfreeze the phase's groups (before the model is moved: frozen weights never pass through fp32)."""
        return self.model.set_trainable(self.config.trainable)

    def _prepare_model(self) -> None:
        model = self.model
        if self.bf16:
            # frozen weights in bf16 halve their memory; trained ones stay fp32 so small updates are not lost
            model.to(self.device, torch.bfloat16)
            for p in model.parameters():
                if p.requires_grad:
                    p.data = p.data.float()
        else:
            model.to(self.device, torch.float32)
        if self.config.gradient_checkpointing:
            # non-reentrant: frozen encoders feed the checkpointed layers inputs that need no gradient
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        train_mode(model)
        self.forward_model = wrap_model(model, self.dist, self.device, self.shard)

    def _optimizer(self) -> torch.optim.Optimizer:
        # no weight decay on biases, norms and embeddings-like vectors (1-D tensors)
        decay = [p for p in self.params if p.ndim >= 2]
        other = [p for p in self.params if p.ndim < 2]
        groups = [
            {"params": decay, "weight_decay": self.config.weight_decay},
            {"params": other, "weight_decay": 0.0},
        ]
        fused = self.device.type == "cuda"
        return torch.optim.AdamW(
            [g for g in groups if g["params"]],
            lr=self.config.learning_rate,
            betas=self.config.betas,
            fused=fused,
        )

    # -- checkpoints -------------------------------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Write model and processor (save_pretrained) and the trainer state to ``folder`` (rank 0; with
        FSDP2 every rank takes part in gathering the full weights and optimizer state)."""
        self._save_model(folder)
        optimizer = optimizer_state(self.model, self.optimizer, self.dist, self.shard)
        if self.dist.is_main:
            state = {
                "step": self.step,
                "total": self.total,
                "optimizer": optimizer,
                "scheduler": self.scheduler.state_dict(),
                "config": self.config.to_dict(),
                "torch_rng": torch.get_rng_state(),
            }
            torch.save(state, folder / STATE_FILE)
        return folder

    def _save_model(self, folder: Path) -> None:
        weights = full_model_state(self.model, self.dist, self.shard)
        if not self.dist.is_main:
            return
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, state_dict=weights)
        if self.processor is not None:
            self.processor.save_pretrained(folder)

    def load_state(self, folder: str | Path) -> None:
        """Continue from a checkpoint: optimizer, scheduler and step. The model must be loaded from ``folder``."""
        path = Path(folder) / STATE_FILE
        if not path.is_file():
            raise ConfigError(f"{folder} is not a training checkpoint (no {STATE_FILE})")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state["config"]["phase"] != self.config.phase:
            raise ConfigError(
                f"{folder} was saved by phase {state['config']['phase']}, not phase {self.config.phase}"
            )
        if state["config"]["trainable"] != list(self.config.trainable):
            raise ConfigError(
                f"{folder} trained other parameter groups ({', '.join(state['config']['trainable'])})"
            )
        optimizer_state(self.model, self.optimizer, self.dist, self.shard, state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        torch.set_rng_state(state["torch_rng"])

    # -- loop ----------------------------------------------------------------------------------------------

    def _loader(self):
        """This rank's micro-batches for the remaining steps, and each step's sample count over all ranks."""
        stream = micro_batch_stream(
            len(self.dataset),
            self.config.micro_batch_size,
            seed=self.config.seed,
            start=self.step * self.config.accumulation_steps,
        )
        accum, rank, world = self.config.accumulation_steps, self.dist.rank, self.dist.world_size
        steps = [[next(stream) for _ in range(accum)] for _ in range(self.total - self.step)]
        mine = [batch for group in steps for batch in group[rank::world]]
        step_samples = [sum(len(b) for b in group) for group in steps]
        loader = torch.utils.data.DataLoader(
            self.dataset,
            batch_sampler=mine,
            collate_fn=self.collate,
            num_workers=self.config.num_workers,
            pin_memory=self.device.type == "cuda",
        )
        return mine, step_samples, loader

    def _log(self, record: dict[str, float]) -> None:
        with (self.out_dir / LOG_FILE).open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        line = (
            f"step {record['step']}/{self.total} loss {record['loss']:.4f} lr {record['lr']:.2e} "
            f"grad_norm {record['grad_norm']:.3f} {record['samples_per_s']:.1f} samples/s"
        )
        if self.progress:
            tqdm.write(line)  # above the progress bar, on the console the user is watching
        else:
            logger.info(line)

    def _sync(self, last: bool):
        """DDP averages gradients on the step's last micro-batch only; FSDP2 reduce-scatters every one, so
        no rank ever holds the LLM's full gradients."""
        if isinstance(self.forward_model, nn.parallel.DistributedDataParallel) and not last:
            return self.forward_model.no_sync()
        return contextlib.nullcontext()

    def train(self, resume: str | Path | None = None) -> TrainResult:
        """Run until the last step, logging every ``log_every`` steps; returns the summary (on every rank)."""
        if resume is not None:
            self.load_state(resume)
        if self.dist.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        cfg, world = self.config, self.dist.world_size
        per_rank = cfg.accumulation_steps // world
        start_step, history = self.step, []
        batches, step_samples, loader = self._loader()
        bar = tqdm(
            total=self.total,
            initial=self.step,
            desc=f"phase {cfg.phase}",
            unit="step",
            disable=not self.progress,
        )
        window_loss, window_steps, samples, t0 = 0.0, 0, 0, time.perf_counter()
        window_t, window_samples = t0, 0
        step_loss = 0.0
        for i, batch in enumerate(loader):
            micro = i % per_rank
            step_total = step_samples[i // per_rank]
            n = len(batches[i])
            with self._sync(micro == per_rank - 1):
                with _autocast(self.device, self.bf16):
                    out = self.forward_model(**_to_device(batch, self.device), use_cache=False)
                loss = out.loss.float()
                # gradients are averaged over the ranks: times W restores this micro-batch's share of the step
                (loss * (n * world / step_total)).backward()
            step_loss += loss.item() * n / step_total
            if micro < per_rank - 1:
                continue
            (step_loss,) = self.dist.sum(step_loss)
            if not math.isfinite(step_loss):  # the same verdict on every rank, from the summed loss
                raise TrainingDivergedError(
                    f"the loss became {step_loss} at step {self.step + 1}; "
                    "lower the learning rate or resume from an earlier checkpoint"
                )
            # a trained tensor no micro-batch used (no face or audio in this step) gets a zero gradient, as it does
            # under FSDP2 when another rank used it, so AdamW treats it alike for every world size and engine
            for p in self.params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            # an infinite limit measures the norm without clipping
            grad_norm = nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm or math.inf)
            grad_norm = float(grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm)
            lr = self.optimizer.param_groups[0]["lr"]  # the rate this step used
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            samples += step_total
            window_loss += step_loss
            window_steps += 1
            window_samples += step_total
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.4f}")
            step_loss = 0.0
            if self.step % cfg.log_every == 0 or self.step == self.total:
                now = time.perf_counter()
                record = {
                    "step": self.step,
                    "loss": window_loss / window_steps,
                    "lr": lr,
                    "grad_norm": grad_norm,
                    "samples_per_s": window_samples / max(now - window_t, 1e-9),
                }
                history.append(record)
                if self.dist.is_main:
                    self._log(record)
                window_loss, window_steps, window_t, window_samples = 0.0, 0, now, 0
            if cfg.save_every and self.step % cfg.save_every == 0 and self.step < self.total:
                self.save(self.out_dir / f"checkpoint-{self.step}")
        return self._finish(bar, t0, start_step, samples, history)

    def _finish(
        self, bar: tqdm, t0: float, start_step: int, samples: int, history: list[dict[str, float]]
    ) -> TrainResult:
        """The end of every phase's loop: the final checkpoint and model, then the summary. ``samples``: what
        the run went through since ``t0`` (answers in phase 4)."""
        bar.close()
        seconds = time.perf_counter() - t0
        final = self.save(self.out_dir / f"checkpoint-{self.step}")
        self._save_model(self.out_dir)
        self.dist.barrier()  # every rank returns once rank 0 has written the final model
        losses = [h["loss"] for h in history] or [math.nan]
        return TrainResult(
            steps=self.step - start_step,
            total_steps=self.total,
            samples=samples,
            loss_start=losses[0],
            loss_end=losses[-1],
            seconds=seconds,
            samples_per_s=samples / max(seconds, 1e-9),
            trainable_params=self.trainable_params,
            checkpoint=final,
            history=history,
        )
