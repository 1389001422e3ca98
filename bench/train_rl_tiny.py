"""Phase 4 (GRPO, emotion-wheel reward) on the tiny random model; prints figures, not a test.

The toy task: each clip is a red or a blue frame, and its OV labels are ``mad`` (red) or ``sad`` (blue),
two words in different groups of every grouping of a small generated table. The "phase 3" model is first
tuned to answer ``mad`` or ``sad`` without regard to the colour (each clip seen with both answers), so
it starts near a mean reward of 0.5 plus the format reward; GRPO must make the answer follow the colour.
The last line is JSON with ``reward_start``, ``reward_end`` (means over the first and last logging
windows), ``kl_end``, ``steps``, ``samples_per_s`` (sampled answers per second, rollout and update together).

    .venv/bin/python bench/train_rl_tiny.py [--steps 60] [--device cpu|cuda] [--lora-rank 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import platform
import tempfile
from pathlib import Path

import torch

from omni_emotion.model.presets import preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.training.cache import FeatureCache
from omni_emotion.training.config import phase_config
from omni_emotion.training.grpo import GRPOTrainer, PromptDataset
from omni_emotion.training.rl_config import RLConfig
from omni_emotion.training.toy_task import phase3_model, toy_samples, toy_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lora-rank", type=int, default=0)
    parser.add_argument("--lr", type=float, default=5e-3, help="the configuration tests/test_training_rl.py documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the tiny model's ops are too small for more)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = preset_config("tiny")
        # stills: one frame slot is all the task needs (and 8x less vision work per answer)
        one_frame = dataclasses.replace(ProcessorConfig.from_model_config(config), num_frames=1)
        processor = OmniEmotionProcessor(tiny_tokenizer(), one_frame)
        samples = toy_samples(folder)
        model = phase3_model(samples, processor, config, folder)
        torch.manual_seed(args.seed)
        data = PromptDataset(samples, processor, FeatureCache(processor, folder / "cache"), system=None)
        train = phase_config(4, batch_size=4, micro_batch_size=4, epochs=args.steps * 4 / len(samples),
                             learning_rate=args.lr, warmup_ratio=0.0, log_every=10, precision="fp32", seed=args.seed,
                             num_frames=1)
        rl = RLConfig(num_generations=8, max_new_tokens=8, length_free_tokens=6, lora_rank=args.lora_rank)
        trainer = GRPOTrainer(model, data, train, rl, toy_tables(), folder / "phase4", tokenizer=processor.tokenizer,
                              device=args.device, progress=False)
        result = trainer.train()
        for h in result.history:
            print(f"step {h['step']}: reward {h['reward']:.3f} (ew {h['ew']:.3f}, format {h['format']:.2f}) "
                  f"kl {h['kl']:.4f}")
    print(json.dumps({
        "reward_start": round(result.reward_start, 4), "reward_end": round(result.reward_end, 4),
        "kl_end": round(result.kl_end, 5), "steps": result.steps, "samples_per_s": round(result.samples_per_s, 1),
        "seconds": round(result.seconds, 1), "lora_rank": args.lora_rank, "device": args.device,
        "cpu_threads": torch.get_num_threads(), "machine": platform.machine(),
    }))


if __name__ == "__main__":
    main()
