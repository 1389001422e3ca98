"""Phase configs: the paper's three training phases as frozen dataclasses (every value is a field).

Phase 1, audio alignment:      only the audio projector trains; lr 1e-3, batch 256, 1 epoch.
Phase 2, face alignment:       only the face projector trains;  lr 1e-3, batch 256, 1 epoch.
Phase 3, instruction tuning:   vision, face and audio projectors + the LLM decoder (and the per-frame time
                               embedding, which no public checkpoint carries); lr 1e-5, batch 128, 3 epochs.
With ``fusion=cross_attention`` the face-query cross-attention (new, like the face projector) trains in
phases 2 and 3 too; in the other fusion modes its group is empty.
Phase 4, reinforcement learning (GRPO with the emotion-wheel metric as the reward, see rl.py): the LLM
                               decoder; lr 1e-6, batch 16 clips (each sampled ``num_generations`` times),
                               1 epoch. Not from the Omni-Emotion paper: usual GRPO settings for a tuned LLM.
All phases: 8 frames per clip, video-level concatenation (a property of the model's config, checked by the
trainer), AdamW, linear warmup then cosine decay, gradient clipping. ``batch_size`` is the nominal batch;
it is reached by accumulating ``batch_size / micro_batch_size`` micro-batches per optimizer step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from omni_emotion.errors import ConfigError

__all__ = ["PHASES", "PHASE_GROUPS", "TrainConfig", "phase_config"]

PHASES = (1, 2, 3, 4)

# Parameter groups (OmniEmotionForConditionalGeneration.module_groups names) each phase trains.
PHASE_GROUPS: dict[int, tuple[str, ...]] = {
    1: ("audio_projector",),
    2: ("face_projector", "cross_attention"),
    3: ("vision_projector", "face_projector", "cross_attention", "audio_projector", "frame_embedding", "llm"),
    4: ("llm",),
}
_PAPER = {  # phase -> (learning rate, nominal batch, epochs)
    1: (1e-3, 256, 1.0),
    2: (1e-3, 256, 1.0),
    3: (1e-5, 128, 3.0),
    4: (1e-6, 16, 1.0),
}
PRECISIONS = ("auto", "bf16", "fp32")


@dataclass(frozen=True)
class TrainConfig:
    """One training run.

    phase: 1, 2, 3 or 4 (selects the defaults below through ``phase_config``).
    trainable: parameter groups that receive gradients; everything else is frozen.
    learning_rate: peak AdamW learning rate.  batch_size: nominal samples per optimizer step.
    micro_batch_size: samples per forward pass (batch_size must be a multiple of it).
    epochs: passes over the manifest (fractions allowed).  max_steps: optimizer steps cap (None = epochs decide).
    warmup_ratio: fraction of steps of linear warmup from 0; then cosine decay to ``min_lr_ratio * lr``.
    weight_decay, max_grad_norm (0 disables clipping), betas: AdamW settings.
    num_frames: frames sampled per clip (the model's time embedding must cover it).
    precision: "auto" = bf16 autocast on CUDA, fp32 on CPU.  gradient_checkpointing: trade compute for memory.
    max_length: prompt + answer tokens above this are truncated (answers first lose their tail).
    log_every: optimizer steps between loss log lines.  save_every: steps between checkpoints (0: at the end only).
    seed: shuffling and initialisation seed.  num_workers: DataLoader worker processes.
    """

    phase: int
    trainable: tuple[str, ...]
    learning_rate: float
    batch_size: int
    epochs: float
    micro_batch_size: int = 1
    max_steps: int | None = None
    warmup_ratio: float = 0.03
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    betas: tuple[float, float] = (0.9, 0.999)
    num_frames: int = 8
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    gradient_checkpointing: bool = False
    max_length: int = 4096
    log_every: int = 10
    save_every: int = 0
    seed: int = 0
    num_workers: int = 0

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ConfigError(f"phase must be one of 1, 2, 3, 4, got {self.phase!r}")
        if not self.trainable:
            raise ConfigError("trainable must name at least one parameter group")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.micro_batch_size < 1 or self.batch_size < 1:
            raise ConfigError("batch_size and micro_batch_size must be at least 1")
        if self.batch_size % self.micro_batch_size:
            raise ConfigError(
                f"batch_size {self.batch_size} must be a multiple of micro_batch_size {self.micro_batch_size}"
            )
        if not self.epochs > 0:
            raise ConfigError(f"epochs must be positive, got {self.epochs}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"max_steps must be at least 1, got {self.max_steps}")
        if not 0 <= self.warmup_ratio < 1 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError("warmup_ratio must be in [0, 1) and min_lr_ratio in [0, 1]")
        if self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ConfigError("weight_decay and max_grad_norm must be >= 0")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.num_frames < 1 or self.max_length < 8:
            raise ConfigError("num_frames must be >= 1 and max_length >= 8")
        if self.log_every < 1 or self.save_every < 0 or self.num_workers < 0:
            raise ConfigError("log_every must be >= 1; save_every and num_workers >= 0")

    @property
    def accumulation_steps(self) -> int:
        """Micro-batches per optimizer step."""
        return self.batch_size // self.micro_batch_size

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["trainable"], out["betas"] = list(self.trainable), list(self.betas)
        return out


def phase_config(phase: int, **overrides) -> TrainConfig:
    """The paper's defaults for ``phase``, with any field replaced by ``overrides`` (None values are ignored)."""
    if phase not in PHASES:
        raise ConfigError(f"phase must be one of 1, 2, 3, 4, got {phase!r}")
    lr, batch, epochs = _PAPER[phase]
    base = TrainConfig(
        phase=phase, trainable=PHASE_GROUPS[phase], learning_rate=lr, batch_size=batch, epochs=epochs
    )
    unknown = set(overrides) - set(TrainConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown training option {min(unknown)!r}")
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
