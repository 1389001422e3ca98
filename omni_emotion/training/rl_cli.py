"""The phase-4 options of `omni-emotion train` and the run they start (GRPO, see grpo.py and rl.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from omni_emotion.errors import ConfigError
from omni_emotion.training.config import TrainConfig
from omni_emotion.training.rl_config import EXTRACTORS, RLConfig, require_labels

__all__ = ["add_rl_arguments", "rl_config", "train_rl"]

# argparse dest -> RLConfig field
_FIELDS = {
    "generations": "num_generations", "temperature": "temperature", "max_new_tokens": "max_new_tokens",
    "clip_epsilon": "clip_epsilon", "kl_beta": "kl_beta", "updates_per_batch": "updates_per_batch",
    "reward": "grouping", "extractor": "extractor", "format_weight": "format_weight",
    "length_penalty": "length_penalty", "length_free_tokens": "length_free_tokens", "lora_rank": "lora_rank",
    "lora_alpha": "lora_alpha",
}


def add_rl_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("phase 4 (GRPO with the emotion-wheel reward)")
    g.add_argument("--generations", type=int, help="answers sampled per clip (default 8)")
    g.add_argument("--temperature", type=float, help="sampling temperature (default 1.0)")
    g.add_argument("--max-new-tokens", type=int, help="answer length cap in tokens (default 64)")
    g.add_argument("--clip-epsilon", type=float, help="policy-ratio clip (default 0.2)")
    g.add_argument("--kl-beta", type=float, help="weight of the KL to the --init model (default 0.04; 0: none)")
    g.add_argument("--updates-per-batch", type=int, help="optimizer updates per batch of answers (default 1)")
    g.add_argument("--reward", metavar="GROUPING",
                   help="EW figure rewarded: M-avg (default), L1-avg, or one grouping (M1, M2, W1-L1 ... W5-L2)")
    g.add_argument("--extractor", choices=EXTRACTORS,
                   help="labels from answers: list (comma-separated labels, default) or rule (prose)")
    g.add_argument("--format-weight", type=float, help="reward for an answer that yields labels (default 0.2)")
    g.add_argument("--length-penalty", type=float, help="penalty for answers past --length-free-tokens (default 0.1)")
    g.add_argument("--length-free-tokens", type=int, help="answer tokens free of the length penalty (default 32)")
    g.add_argument("--lora-rank", type=int, help="train rank-R adapters on the LLM instead of its weights (default 0: off)")
    g.add_argument("--lora-alpha", type=float, help="adapter scale numerator (default 16)")
    g.add_argument("--wheels", help="emotion-wheel tables folder (default: $OMNI_EMOTION_WHEELS or the cache)")


def rl_config(args: argparse.Namespace) -> RLConfig | None:
    """The RLConfig of phase 4 (None for other phases); phase-4 options on another phase are an error."""
    given = {field: getattr(args, dest) for dest, field in _FIELDS.items() if getattr(args, dest, None) is not None}
    if args.phase != 4:
        if given or getattr(args, "wheels", None):
            flag = next(iter(k for k in _FIELDS if getattr(args, k, None) is not None), "wheels").replace("_", "-")
            raise ConfigError(f"--{flag} only applies to --phase 4")
        return None
    return RLConfig(**given)


def train_rl(args: argparse.Namespace, config: TrainConfig, source: Path, resume: Path | None, device) -> int:
    """Phase 4 from ``source`` (the --init folder, or the checkpoint to resume) into ``args.out``."""
    import torch

    from omni_emotion.evaluation import load_wheels
    from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
    from omni_emotion.training.cli import processor_and_cache
    from omni_emotion.training.grpo import GRPOTrainer, PromptDataset
    from omni_emotion.training.manifest import read_manifest

    rl = rl_config(args)
    samples = read_manifest(args.data)
    require_labels(samples)
    tables = load_wheels(args.wheels)
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    dtype = torch.bfloat16 if bf16 else torch.float32
    init = Path(args.init)
    # the KL pulls towards the --init model; with LoRA the run resumes from it plus the saved adapters
    model = OmniEmotionForConditionalGeneration.from_pretrained(resume if resume and not rl.lora_rank else init, dtype=dtype)
    reference = None
    if rl.kl_beta > 0 and not rl.lora_rank:
        reference = OmniEmotionForConditionalGeneration.from_pretrained(init, dtype=dtype) if resume else None
    processor, cache = processor_and_cache(args, source, model, samples, config)
    dataset = PromptDataset(samples, processor, cache, max_length=config.max_length)
    trainer = GRPOTrainer(model, dataset, config, rl, tables, args.out, tokenizer=processor.tokenizer,
                          reference=reference, device=device, processor=processor)
    print(
        f"phase 4: {len(samples)} clips, {trainer.total} steps of {config.batch_size} clips x {rl.num_generations} "
        f"answers, lr {config.learning_rate:g}, reward {rl.grouping} ({rl.extractor} extraction), KL beta "
        f"{rl.kl_beta:g}, training {'LoRA rank ' + str(rl.lora_rank) + ' on ' if rl.lora_rank else ''}"
        f"{', '.join(config.trainable)} ({trainer.trainable_params:,} parameters) on {trainer.device}"
        + (f", resuming from {resume}" if resume else ""),
        flush=True,
    )
    result = trainer.train(resume=resume)
    print(json.dumps(result.to_dict()), flush=True)
    return 0
