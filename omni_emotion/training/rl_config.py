"""Phase 4's settings (GRPO with the emotion-wheel reward) as a frozen dataclass; no torch here, so the CLI
can check them before anything heavy loads. The terms are explained in rl.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from omni_emotion.errors import ConfigError
from omni_emotion.evaluation.wheels import GROUPINGS
from omni_emotion.training.manifest import Sample, TrainingDataError

__all__ = ["EXTRACTORS", "REWARD_GROUPINGS", "RLConfig", "require_labels"]

EXTRACTORS = ("list", "rule")
# the EW figures a reward can be: as evaluation.reward.REWARD_GROUPINGS (numpy-free here; a test ties them)
REWARD_GROUPINGS = ("M-avg", "L1-avg", *GROUPINGS)


@dataclass(frozen=True)
class RLConfig:
    """GRPO settings of phase 4 (the optimizer's are in TrainConfig; its batch_size counts clips).

    num_generations: answers sampled per clip (G).  temperature: sampling temperature (top-k and top-p off,
    so the ratio is taken against the distribution that was sampled).  max_new_tokens: answer length cap.
    clip_epsilon: the policy ratio is clipped to [1 - eps, 1 + eps].  kl_beta: weight of the KL term to the
    frozen reference (the --init model; 0 drops the reference).  updates_per_batch: optimizer updates on one
    batch of sampled answers (1: the ratio is 1 and clipping never binds).  grouping: the EW figure rewarded
    (REWARD_GROUPINGS).  extractor: "list" or "rule" (module docstring).  format_weight, length_penalty,
    length_free_tokens: the reward's other terms.  lora_rank: 0 trains the groups' weights; > 0 trains
    low-rank adapters on the LLM's linear layers instead (needs ``peft``), merged into the saved model.
    """

    num_generations: int = 8
    temperature: float = 1.0
    max_new_tokens: int = 64
    clip_epsilon: float = 0.2
    kl_beta: float = 0.04
    updates_per_batch: int = 1
    grouping: str = "M-avg"
    extractor: Literal["list", "rule"] = "list"
    format_weight: float = 0.2
    length_penalty: float = 0.1
    length_free_tokens: int = 32
    lora_rank: int = 0
    lora_alpha: float = 16.0
    lora_targets: tuple[str, ...] = field(
        default=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    )

    def __post_init__(self) -> None:
        if self.num_generations < 2:
            raise ConfigError(
                f"num_generations must be at least 2 (advantages compare answers), got {self.num_generations}"
            )
        if not self.temperature > 0 or self.max_new_tokens < 1:
            raise ConfigError("temperature must be positive and max_new_tokens at least 1")
        if not 0 < self.clip_epsilon < 1 or self.kl_beta < 0 or self.updates_per_batch < 1:
            raise ConfigError("clip_epsilon must be in (0, 1), kl_beta >= 0 and updates_per_batch >= 1")
        if self.grouping not in REWARD_GROUPINGS:
            raise ConfigError(
                f"unknown reward grouping {self.grouping!r}; use one of {', '.join(REWARD_GROUPINGS)}"
            )
        if self.extractor not in EXTRACTORS:
            raise ConfigError(f"unknown extractor {self.extractor!r}; use one of {', '.join(EXTRACTORS)}")
        if self.format_weight < 0 or self.length_penalty < 0:
            raise ConfigError("format_weight and length_penalty must be >= 0")
        if not 0 <= self.length_free_tokens < self.max_new_tokens:
            raise ConfigError(
                f"length_free_tokens must be in [0, max_new_tokens {self.max_new_tokens}), "
                f"got {self.length_free_tokens}"
            )
        if self.lora_rank < 0 or not self.lora_alpha > 0:
            raise ConfigError("lora_rank must be >= 0 and lora_alpha positive")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["lora_targets"] = list(self.lora_targets)
        return out


def require_labels(samples: Sequence[Sample]) -> None:
    """Phase 4 scores answers against each clip's OV labels: a sample without them is an error naming it."""
    unlabelled = next((s for s in samples if not s.labels), None)
    if unlabelled is not None:
        where = f" (line {unlabelled.line})" if unlabelled.line else ""
        raise TrainingDataError(
            f"sample {unlabelled.id!r}{where} has no 'labels'; phase 4 rewards answers against each clip's OV "
            "labels (write the manifest with `omni-emotion train convert --format openset`)."
        )
