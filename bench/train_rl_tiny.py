"""Phase 4 (GRPO, emotion-wheel reward) on the tiny random model; prints figures, not a test.

The toy task: each clip is a red or a blue frame, and its OV labels are ``mad`` (red) or ``sad`` (blue),
two words in different groups of every grouping of a small generated table. The "phase 3" model is first
tuned to answer ``mad`` or ``sad`` without regard to the colour (each clip seen with both answers) and to
name the colour when asked, so it starts near a mean reward of 0.5 plus the format reward; GRPO must make
the answer follow the colour. The defaults are the configuration tests/test_training_rl.py runs (36 steps at
a constant lr 5e-3). Each seed prints a line; the last line is JSON with, per seed, ``reward_start``,
``reward_end``, ``ew_start``, ``ew_end`` (means over the first and last 6-step windows), ``kl_end`` and
``seconds``, and ``samples_per_s`` over all seeds (sampled answers per second, rollout and update together).

    .venv/bin/python bench/train_rl_tiny.py [--seeds 0 1 2 3 4] [--steps 36] [--device cpu|cuda] [--lora-rank 0]
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

from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.training.cache import FeatureCache
from omni_emotion.training.config import phase_config
from omni_emotion.training.grpo import GRPOTrainer, PromptDataset
from omni_emotion.training.rl_config import RLConfig
from omni_emotion.training.toy_task import phase3_model, toy_samples, toy_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=36)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lora-rank", type=int, default=0)
    parser.add_argument(
        "--lr", type=float, default=5e-3, help="constant over the run, as in tests/test_training_rl.py"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (the tiny model's ops are too small for more)",
    )
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
        phase3_model(samples, processor, config, folder).save_pretrained(folder / "phase3-model")
        data = PromptDataset(samples, processor, FeatureCache(processor, folder / "cache"), system=None)
        rl = RLConfig(num_generations=8, max_new_tokens=8, length_free_tokens=6, lora_rank=args.lora_rank)
        runs, answers, seconds = {}, 0, 0.0
        for seed in args.seeds:
            torch.manual_seed(seed)
            model = OmniEmotionForConditionalGeneration.from_pretrained(folder / "phase3-model")
            train = phase_config(
                4,
                batch_size=4,
                micro_batch_size=4,
                epochs=args.steps * 4 / len(samples),
                learning_rate=args.lr,
                min_lr_ratio=1.0,
                warmup_ratio=0.0,
                log_every=6,
                precision="fp32",
                seed=seed,
                num_frames=1,
            )
            trainer = GRPOTrainer(
                model,
                data,
                train,
                rl,
                toy_tables(),
                folder / f"phase4-{seed}",
                tokenizer=processor.tokenizer,
                device=args.device,
                progress=False,
            )
            result = trainer.train()
            answers, seconds = answers + result.samples, seconds + result.seconds
            ew = [h["ew"] for h in result.history]
            print(
                f"seed {seed}: EW by 6-step window {' '.join(f'{x:.3f}' for x in ew)}; kl {result.kl_end:.4f}, "
                f"{result.seconds:.1f} s",
                flush=True,
            )
            runs[seed] = {
                "reward_start": round(result.reward_start, 4),
                "reward_end": round(result.reward_end, 4),
                "ew_start": round(ew[0], 4),
                "ew_end": round(ew[-1], 4),
                "kl_end": round(result.kl_end, 5),
                "seconds": round(result.seconds, 1),
            }
    print(
        json.dumps(
            {
                "seeds": runs,
                "steps": args.steps,
                "lr": args.lr,
                "samples_per_s": round(answers / max(seconds, 1e-9), 1),
                "lora_rank": args.lora_rank,
                "device": args.device,
                "cpu_threads": torch.get_num_threads(),
                "machine": platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
