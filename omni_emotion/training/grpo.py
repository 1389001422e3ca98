"""Phase 4: GRPO on the Omni-Emotion model, the emotion-wheel metric as the reward (see rl.py for the terms).

Why our own step rather than TRL's ``GRPOTrainer``: TRL (1.16) tokenises prompts with the processing class's
``text=/images=`` call and chat template and forwards a fixed set of image fields (``pixel_values``,
``image_grid_thw``, ...) to the model; our model takes video frames, face crops, a log-mel and their masks
and the prompt is built by our processor around modality placeholders. Driving it through TRL would mean
overriding TRL's private rollout and log-prob methods, and giving up the trainer this project already has
(feature cache, frozen groups, checkpoints the omni engine loads, resume). The step below is ~150 lines.

One optimizer step (``batch_size`` clips, ``micro_batch_size`` clips a forward pass):
1. rollout: for every clip, G answers are sampled from the current policy (the clip's inputs repeated G
   times, one ``generate`` call, modality tokens blocked as always); the token log-probs under the policy
   (when ``updates_per_batch`` > 1) and under the frozen reference are kept;
2. reward: the answers' labels are scored against the clip's OV labels by ``evaluation.group_scores``, plus
   the format and length terms; advantages are normalised within the group;
3. ``updates_per_batch`` AdamW updates on those answers with the clipped-ratio + KL loss.
Everything is logged: a line per ``log_every`` steps in ``train_log.jsonl`` (loss, reward and its terms, KL,
clip fraction, answer length) and, for the same steps, every clip's answers with their labels and rewards
in ``rewards.jsonl``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from omni_emotion.errors import ConfigError
from omni_emotion.evaluation import RuleExtractor, WheelTables
from omni_emotion.training.config import TrainConfig
from omni_emotion.training.data import ManifestDataset
from omni_emotion.training.distributed import DistContext
from omni_emotion.training.lora import add_lora, lora_state, merged_state
from omni_emotion.training.manifest import TrainingDataError
from omni_emotion.training.rl import answer_rewards, group_advantages, grpo_loss
from omni_emotion.training.rl_config import RLConfig, require_labels
from omni_emotion.training.schedule import micro_batch_stream
from omni_emotion.training.trainer import (
    STATE_FILE,
    Trainer,
    TrainingDivergedError,
    TrainResult,
    _autocast,
    _to_device,
    train_mode,
)

__all__ = ["REWARDS_FILE", "GRPOTrainer", "PromptDataset", "RLResult", "Rollout"]

REWARDS_FILE = "rewards.jsonl"


class PromptDataset(ManifestDataset):
    """``dataset[i]`` -> the model inputs of sample i's prompt (no answer); every sample needs OV labels."""

    def __init__(self, samples, processor, cache, **kwargs):
        super().__init__(samples, processor, cache, **kwargs)
        require_labels(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[index]
        features = self.cache.load(sample)
        out = self.processor(
            features.clip(str(sample.video or sample.audio)),
            features.face_track(),
            sample.prompt,
            system=self.system,
            audio_features=features.audio_features(self.processor.config.mel_frames),
        )
        if out["input_ids"].shape[1] > self.max_length:
            where = f" (line {sample.line})" if sample.line else ""
            raise TrainingDataError(
                f"sample {sample.id!r}{where} needs {out['input_ids'].shape[1]} prompt tokens, more than max_length "
                f"{self.max_length}."
            )
        return {"inputs": out, "index": index}

    @staticmethod
    def collate(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return items  # clips are rolled out one at a time: G answers to one prompt need no padding


@dataclass
class Rollout:
    """G sampled answers to one clip: model inputs (repeated G times), answer tokens, their mask, the
    advantages, and the log-probs at sampling time (None when the first update recomputes them) and
    under the reference (None without a KL term)."""

    inputs: dict[str, torch.Tensor]
    completion: torch.Tensor
    mask: torch.Tensor
    advantages: torch.Tensor
    old_logps: torch.Tensor | None
    ref_logps: torch.Tensor | None


@dataclass
class RLResult(TrainResult):
    """TrainResult plus the mean reward of the first and last logging windows and the last window's KL."""

    reward_start: float = math.nan
    reward_end: float = math.nan
    kl_end: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(
            reward_start=round(self.reward_start, 4),
            reward_end=round(self.reward_end, 4),
            kl_end=round(self.kl_end, 5),
        )
        return out


def _repeat(inputs: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    return {k: v.repeat_interleave(n, dim=0) for k, v in inputs.items()}


class GRPOTrainer(Trainer):
    """Phase 4 on ``model`` (loaded from the phase-3 folder). ``reference``: the frozen model the KL term
    pulls towards (default: a copy of ``model`` as given; with LoRA the model with its adapters off).
    ``tables``: the EW grouping tables the reward scores with. The rest is as for ``Trainer``."""

    def __init__(
        self,
        model: torch.nn.Module,
        dataset: PromptDataset,
        config: TrainConfig,
        rl: RLConfig,
        tables: WheelTables,
        out_dir: str | Path,
        *,
        tokenizer: Any,
        reference: torch.nn.Module | None = None,
        device: torch.device | str | None = None,
        processor: Any = None,
        progress: bool = True,
        dist: DistContext = DistContext(),
    ):
        if dist.active:
            raise ConfigError("phase 4 runs in one process; leave out --nproc and torchrun")
        self.rl, self.tables, self.tokenizer = rl, tables, tokenizer
        self.rule = RuleExtractor(tables) if rl.extractor == "rule" else None
        self.lora = None
        if rl.lora_rank:
            if not set(config.trainable) <= {"llm"}:
                raise ConfigError("with LoRA only the LLM trains: leave out --train or pass --train llm")
            self.lora = add_lora(model, rl.lora_rank, rl.lora_alpha, rl.lora_targets)
        elif rl.kl_beta > 0 and reference is None:
            reference = copy.deepcopy(model)
        super().__init__(
            model,
            dataset,
            dataset.collate,
            config,
            out_dir,
            device=device,
            processor=processor,
            progress=progress,
            dist=dist,
        )
        self.reference = None
        if reference is not None and rl.kl_beta > 0 and self.lora is None:
            # frozen: bf16 under bf16 training, like the policy's frozen weights
            self.reference = reference.to(self.device, torch.bfloat16 if self.bf16 else torch.float32)
            self.reference.eval().requires_grad_(False)
        self.eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_id

    def _set_trainable(self) -> int:
        """The phase's groups (``llm``: marked trained in the config); with LoRA only the adapters train, so
        the LLM's own weights stay frozen (bf16 under bf16) from the start."""
        count = super()._set_trainable()
        return count if self.lora is None else self.lora.set_trainable()

    # -- checkpoints: the saved model is the merged one, adapters travel in the trainer state ----------------

    def _save_model(self, folder: Path) -> None:
        if self.lora is None:
            return super()._save_model(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, state_dict=merged_state(self.model, self.lora))
        if self.processor is not None:
            self.processor.save_pretrained(folder)

    def save(self, folder: Path) -> Path:
        super().save(folder)
        state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=True)
        state["rl"] = self.rl.to_dict()
        if self.lora is not None:
            state["lora"] = lora_state(self.model, self.lora)
        torch.save(state, folder / STATE_FILE)
        return folder

    def load_state(self, folder: str | Path) -> None:
        """As ``Trainer.load_state``; with LoRA the adapters come from the state (the model is the --init one)."""
        state = torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=True)
        if (self.lora is None) != ("lora" not in state):
            raise ConfigError(
                f"{folder} was trained {'with' if 'lora' in state else 'without'} LoRA; resume it the same way"
            )
        if self.lora is not None:
            unknown = self.model.load_state_dict(state["lora"], strict=False).unexpected_keys
            if unknown:
                raise ConfigError(f"{folder} holds adapters this model lacks (first: {unknown[0]})")
        super().load_state(folder)

    # -- rollout -----------------------------------------------------------------------------------------

    def _token_logps(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor],
        completion: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """(G, T) log-probs of the answer tokens under ``model`` (logits over the sampling temperature)."""
        prompt = inputs["input_ids"]
        ids = torch.cat([prompt, completion], dim=1)
        attention = torch.cat([inputs["attention_mask"], mask.to(inputs["attention_mask"].dtype)], dim=1)
        extra = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
        with _autocast(self.device, self.bf16):
            logits = model(
                input_ids=ids,
                attention_mask=attention,
                logits_to_keep=completion.shape[1] + 1,
                use_cache=False,
                **extra,
            ).logits
        logits = logits[:, :-1].float() / self.rl.temperature
        return torch.log_softmax(logits, dim=-1).gather(-1, completion[..., None]).squeeze(-1)

    @torch.no_grad()
    def _rollout(self, item: dict[str, Any]) -> tuple[Rollout, dict[str, Any]]:
        """Sample G answers to one clip and score them; returns the rollout and its log record."""
        rl, g = self.rl, self.rl.num_generations
        sample = self.dataset.samples[item["index"]]
        inputs = _repeat(_to_device(item["inputs"], self.device), g)
        self.model.eval()  # no dropout while sampling, and generation's KV cache under gradient checkpointing
        with _autocast(self.device, self.bf16):
            out = self.model.generate(
                **inputs,
                do_sample=True,
                temperature=rl.temperature,
                top_k=0,
                top_p=1.0,
                max_new_tokens=rl.max_new_tokens,
                eos_token_id=self.eos_id,
                pad_token_id=self.pad_id,
            )
        train_mode(self.model)
        completion = out[:, inputs["input_ids"].shape[1] :]
        is_eos = completion == self.eos_id
        ended = is_eos.any(dim=1)
        # answer tokens: up to and including the first <|im_end|>
        first = torch.where(
            ended, is_eos.int().argmax(dim=1), torch.full_like(ended, completion.shape[1], dtype=torch.long)
        )
        positions = torch.arange(completion.shape[1], device=completion.device)[None]
        mask = positions <= first[:, None]
        lengths = mask.sum(dim=1).tolist()
        texts = [
            self.tokenizer.decode(row[:n], skip_special_tokens=True).strip()
            for row, n in zip(completion, lengths)
        ]
        rewards = answer_rewards(sample.labels, texts, lengths, (~ended).tolist(), self.tables, rl, self.rule)
        advantages = group_advantages(torch.tensor(rewards.total, dtype=torch.float32)).to(self.device)
        old = self._token_logps(self.model, inputs, completion, mask) if rl.updates_per_batch > 1 else None
        ref = None
        if rl.kl_beta > 0:
            if self.lora is not None:
                with self.lora.disabled():
                    ref = self._token_logps(self.model, inputs, completion, mask)
            else:
                ref = self._token_logps(self.reference, inputs, completion, mask)
        record = {
            "id": sample.id,
            "truth": list(sample.labels),
            "answers": [
                {
                    "text": t,
                    "labels": lab,
                    "reward": round(float(r), 4),
                    "ew": round(float(e), 4),
                    "format": float(f),
                    "length": round(float(x), 4),
                }
                for t, lab, r, e, f, x in zip(
                    texts, rewards.labels, rewards.total, rewards.ew, rewards.format, rewards.length
                )
            ],
        }
        stats = {
            "reward": float(rewards.total.mean()),
            "reward_std": float(rewards.total.std()),
            "ew": float(rewards.ew.mean()),
            "format": float(rewards.format.mean()),
            "length_excess": float(rewards.length.mean()),
            "answer_tokens": float(np.mean(lengths)),
        }
        return Rollout(inputs, completion, mask, advantages, old, ref), {"record": record, "stats": stats}

    # -- loop ----------------------------------------------------------------------------------------------

    def _update(self, rollouts: Sequence[Rollout]) -> dict[str, float]:
        """One AdamW update on the batch's answers; returns loss, kl, clip fraction and the gradient norm."""
        loss_sum, kl_sum, clip_sum = 0.0, 0.0, 0.0
        for r in rollouts:
            logps = self._token_logps(self.forward_model, r.inputs, r.completion, r.mask)
            old = r.old_logps if r.old_logps is not None else logps.detach()
            loss, stats = grpo_loss(
                logps, old, r.ref_logps, r.advantages, r.mask, self.rl.clip_epsilon, self.rl.kl_beta
            )
            (loss / len(rollouts)).backward()
            loss_sum += loss.item() / len(rollouts)
            kl_sum += stats["kl"] / len(rollouts)
            clip_sum += stats["clip_fraction"] / len(rollouts)
        if not math.isfinite(loss_sum):
            raise TrainingDivergedError(
                f"the loss became {loss_sum} at step {self.step + 1}; "
                "lower the learning rate or resume from an earlier checkpoint"
            )
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.params, self.config.max_grad_norm or math.inf))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return {"loss": loss_sum, "kl": kl_sum, "clip_fraction": clip_sum, "grad_norm": grad_norm}

    def _log_rl(self, record: dict[str, float], groups: list[dict[str, Any]]) -> None:
        with (self.out_dir / "train_log.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        with (self.out_dir / REWARDS_FILE).open("a", encoding="utf-8") as f:
            for group in groups:
                f.write(json.dumps({"step": record["step"], **group}, ensure_ascii=False) + "\n")
        line = (
            f"step {record['step']}/{self.total} reward {record['reward']:.3f} (ew {record['ew']:.3f}, format "
            f"{record['format']:.2f}) kl {record['kl']:.4f} loss {record['loss']:.4f} lr {record['lr']:.2e} "
            f"{record['samples_per_s']:.1f} answers/s"
        )
        if self.progress:
            tqdm.write(line)

    def train(self, resume: str | Path | None = None) -> RLResult:
        """Run until the last step; returns the summary (losses and rewards per logging window in history)."""
        if resume is not None:
            self.load_state(resume)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        cfg, rl = self.config, self.rl
        start_step, history = self.step, []
        # no DataLoader: creating its iterator draws from the global RNG that sampling uses, which would
        # make a resumed run sample other answers than the uninterrupted one
        stream = micro_batch_stream(
            len(self.dataset), cfg.micro_batch_size, seed=cfg.seed, start=self.step * cfg.accumulation_steps
        )
        loader = (
            [self.dataset[j] for j in next(stream)]
            for _ in range((self.total - self.step) * cfg.accumulation_steps)
        )
        bar = tqdm(
            total=self.total, initial=self.step, desc="phase 4", unit="step", disable=not self.progress
        )
        t0 = window_t = time.perf_counter()
        answers = window_answers = 0
        window: list[dict[str, float]] = []
        step_items: list[dict[str, Any]] = []
        for i, micro in enumerate(loader):
            step_items.extend(micro)
            if (i + 1) % cfg.accumulation_steps:
                continue
            rollouts, logs = zip(*(self._rollout(item) for item in step_items))
            step_items = []
            lr = self.optimizer.param_groups[0]["lr"]
            for _ in range(rl.updates_per_batch):
                update = self._update(rollouts)
            self.scheduler.step()
            self.step += 1
            n = len(rollouts) * rl.num_generations
            answers += n
            window_answers += n
            stats = {k: float(np.mean([g["stats"][k] for g in logs])) for k in logs[0]["stats"]}
            window.append({**stats, **update, "lr": lr})
            bar.update(1)
            bar.set_postfix(reward=f"{stats['reward']:.3f}")
            if self.step % cfg.log_every == 0 or self.step == self.total:
                now = time.perf_counter()
                record = {"step": self.step, **{k: float(np.mean([w[k] for w in window])) for k in window[0]}}
                record["lr"], record["grad_norm"] = lr, update["grad_norm"]
                record["samples_per_s"] = window_answers / max(now - window_t, 1e-9)
                history.append(record)
                self._log_rl(record, [g["record"] for g in logs])
                window, window_t, window_answers = [], now, 0
            if cfg.save_every and self.step % cfg.save_every == 0 and self.step < self.total:
                self.save(self.out_dir / f"checkpoint-{self.step}")
        result = self._finish(bar, t0, start_step, answers, history)
        rewards = [h["reward"] for h in history] or [math.nan]
        return RLResult(
            **{f.name: getattr(result, f.name) for f in dataclasses.fields(result)},
            reward_start=rewards[0],
            reward_end=rewards[-1],
            kl_end=history[-1]["kl"] if history else math.nan,
        )
