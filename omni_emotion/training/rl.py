"""Phase 4's pieces as pure functions: the reward of sampled answers, group advantages, the GRPO loss.

Reward of one answer to a clip whose open-vocabulary labels are ``truth``:

    reward = EW(labels(answer), truth) + format_weight * [answer yields labels] - length_penalty * excess

- EW is the emotion-wheel score of ``omni-emotion eval`` for that one sample (``evaluation.group_scores``:
  M-avg by default, L1-avg, or one grouping such as ``W3-L1``), over the whole group of answers at once.
- labels(answer): ``extractor="list"`` reads a comma-separated label list (the ``ov_labels`` answer form);
  ``"rule"`` runs the rule extractor over a prose answer (the ``describe`` form).
- The format term pays for an answer that yields labels (list: every comma piece is one to four words of
  letters; rule: at least one label is found), so the policy keeps answering in the form that is scored.
- excess = (answer tokens - ``length_free_tokens``) / (``max_new_tokens`` - ``length_free_tokens``), clipped
  to [0, 1]; an answer cut off at ``max_new_tokens`` counts as 1. It discourages long answers that list many
  words in the hope that some hit.

Advantages are normalised within each clip's group (reward minus the group mean, over the group's standard
deviation), so only differences between answers to the same clip matter. The loss per answer token is the
clipped policy-ratio objective plus ``kl_beta`` times the k3 estimate of KL(policy || reference); it is
averaged over each answer's tokens, then over the answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from omni_emotion.evaluation import RuleExtractor, WheelTables, group_scores, parse_labels
from omni_emotion.training.rl_config import RLConfig

__all__ = ["AnswerRewards", "RLConfig", "answer_labels", "answer_rewards", "group_advantages", "grpo_loss"]

# a usable label: one to four words of letters ("happy", "let down", "self-conscious")
_LABEL = re.compile(r"[a-z]+(?:['-][a-z]+)*(?: [a-z]+(?:['-][a-z]+)*){0,3}")


def answer_labels(
    answer: str, extractor: Literal["list", "rule"], rule: RuleExtractor | None = None
) -> tuple[list[str], bool]:
    """(labels, well_formed) of one answer. ``rule`` is the RuleExtractor used when ``extractor == "rule"``."""
    if extractor == "rule":
        if rule is None:
            raise ValueError("the rule extractor needs a RuleExtractor")
        labels = rule.extract(answer)
        return labels, bool(labels)
    pieces = [
        " ".join(p.strip(" .;:!\"'`*").split())
        for p in parse_labels(answer.strip().splitlines()[0] if answer.strip() else "")
    ]
    labels = [p for p in pieces if _LABEL.fullmatch(p)]
    return list(dict.fromkeys(labels)), bool(pieces) and len(labels) == len(pieces)


@dataclass(frozen=True)
class AnswerRewards:
    """Per-answer terms of one group (arrays of length G) and the labels each answer yielded."""

    total: np.ndarray
    ew: np.ndarray
    format: np.ndarray
    length: np.ndarray
    labels: list[list[str]]


def answer_rewards(
    truth: Sequence[str],
    answers: Sequence[str],
    tokens: Sequence[int],
    truncated: Sequence[bool],
    tables: WheelTables,
    config: RLConfig,
    rule: RuleExtractor | None = None,
) -> AnswerRewards:
    """Rewards of a group of ``answers`` to one clip (``tokens``: their lengths; ``truncated``: cut at the cap)."""
    extracted = [answer_labels(a, config.extractor, rule) for a in answers]
    labels = [x[0] for x in extracted]
    ew = group_scores(truth, labels, tables, config.grouping)
    fmt = np.array([float(ok) for _, ok in extracted])
    span = config.max_new_tokens - config.length_free_tokens
    excess = np.clip((np.asarray(tokens, dtype=np.float64) - config.length_free_tokens) / span, 0.0, 1.0)
    excess = np.where(np.asarray(truncated, dtype=bool), 1.0, excess)
    total = ew + config.format_weight * fmt - config.length_penalty * excess
    return AnswerRewards(total, ew, fmt, excess, labels)


def group_advantages(rewards: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """(..., G) rewards -> (reward - group mean) / (group std + eps); a group of equal rewards gives zeros."""
    mean = rewards.mean(dim=-1, keepdim=True)
    std = (
        rewards.std(dim=-1, keepdim=True, unbiased=False) if rewards.shape[-1] > 1 else torch.zeros_like(mean)
    )
    # the mean of equal floats can differ from them in the last bit: such a group gets exact zeros
    equal = rewards.amax(dim=-1, keepdim=True) == rewards.amin(dim=-1, keepdim=True)
    return torch.where(equal, 0.0, (rewards - mean) / (std + eps))


def grpo_loss(
    logps: torch.Tensor,
    old_logps: torch.Tensor,
    ref_logps: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip_epsilon: float,
    kl_beta: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """GRPO objective of G answers: (G, T) token log-probs under the policy, at sampling time and under the
    reference, (G,) advantages, (G, T) mask of answer tokens. Returns the loss and {kl, clip_fraction}
    (token means)."""
    mask = mask.to(logps.dtype)
    ratio = torch.exp(logps - old_logps)
    adv = advantages[:, None].to(logps.dtype)
    clipped = torch.clamp(ratio, 1.0 - clip_epsilon, 1.0 + clip_epsilon)
    per_token = -torch.min(ratio * adv, clipped * adv)
    kl = torch.zeros_like(logps)
    if ref_logps is not None:
        delta = ref_logps - logps
        kl = torch.exp(delta) - delta - 1.0  # k3: unbiased, never negative
        per_token = per_token + kl_beta * kl
    tokens = mask.sum(dim=1).clamp(min=1.0)
    loss = ((per_token * mask).sum(dim=1) / tokens).mean()
    n = mask.sum().clamp(min=1.0)
    with torch.no_grad():
        was_clipped = ((ratio - clipped).abs() > 0).to(logps.dtype)
        stats = {"kl": float((kl * mask).sum() / n), "clip_fraction": float((was_clipped * mask).sum() / n)}
    return loss, stats
