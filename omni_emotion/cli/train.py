"""`omni-emotion train --phase {1,2,3,4} --data manifest.jsonl --init weights/DIR --out DIR [--nproc N] [--shard]`
(also under `torchrun --nproc-per-node N -m omni_emotion.cli train ...`) and
`omni-emotion train convert --format {openset,reason,label} --input FILE --media DIR --out manifest.jsonl`.

The options become a ``TrainRequest`` for ``omni_emotion.training.run.run_training``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from omni_emotion.errors import ConfigError
from omni_emotion.training.config import PHASES, TrainConfig, phase_config
from omni_emotion.training.converters import FORMATS, convert
from omni_emotion.training.manifest import write_manifest
from omni_emotion.training.rl_config import EXTRACTORS, RLConfig

if TYPE_CHECKING:
    from omni_emotion.training.run import TrainRequest

__all__ = ["register", "train_request"]

# argparse dest -> RLConfig field
_FIELDS = {
    "generations": "num_generations",
    "temperature": "temperature",
    "max_new_tokens": "max_new_tokens",
    "clip_epsilon": "clip_epsilon",
    "kl_beta": "kl_beta",
    "updates_per_batch": "updates_per_batch",
    "reward": "grouping",
    "extractor": "extractor",
    "format_weight": "format_weight",
    "length_penalty": "length_penalty",
    "length_free_tokens": "length_free_tokens",
    "lora_rank": "lora_rank",
    "lora_alpha": "lora_alpha",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the Omni-Emotion model (phase 1, 2, 3, or 4: RL) from a JSONL manifest",
        description="Train one phase of the Omni-Emotion model. Defaults are the paper's; "
        "'omni-emotion train convert ...' turns annotation CSVs into manifests.",
    )
    p.add_argument(
        "--phase",
        type=int,
        choices=PHASES,
        help="1: audio projector, 2: face projector, 3: projectors + LLM, 4: GRPO on the LLM with the EW reward",
    )
    p.add_argument("--data", help="JSONL manifest (see omni_emotion/training/README.md)")
    p.add_argument(
        "--init", help="model folder to start from (weights init output, or the previous phase's --out)"
    )
    p.add_argument("--out", help="folder for checkpoints, the final model and train_log.jsonl")
    p.add_argument(
        "--resume", metavar="DIR|auto", help="continue from a checkpoint folder ('auto': the latest in --out)"
    )
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--epochs", type=float, help="passes over the manifest (phase default: 1, 1, 3)")
    p.add_argument(
        "--lr", type=float, dest="learning_rate", help="peak learning rate (default 1e-3, 1e-3, 1e-5)"
    )
    p.add_argument("--batch-size", type=int, help="nominal batch (default 256, 256, 128)")
    p.add_argument(
        "--micro-batch-size", type=int, help="samples per forward pass; the rest is accumulated (default 1)"
    )
    p.add_argument("--warmup-ratio", type=float, help="fraction of steps of linear warmup (default 0.03)")
    p.add_argument(
        "--train", dest="trainable", help="comma-separated parameter groups to train instead of the phase's"
    )
    p.add_argument(
        "--precision", choices=("auto", "bf16", "fp32"), help="auto: bf16 autocast on CUDA, fp32 on CPU"
    )
    p.add_argument(
        "--gradient-checkpointing", action="store_true", default=None, help="save memory, ~30%% slower"
    )
    p.add_argument("--num-frames", type=int, help="frames per clip (default 8)")
    p.add_argument("--max-length", type=int, help="token limit per sample (default 4096)")
    p.add_argument("--log-every", type=int, help="steps between loss lines (default 10)")
    p.add_argument("--save-every", type=int, help="steps between checkpoints (default: only at the end)")
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int, dest="num_workers", help="data-loading processes (default 0)")
    p.add_argument("--cache", help="feature cache folder (default ~/.cache/omni-emotion/features)")
    p.add_argument("--no-cache", action="store_true", help="decode every clip every epoch")
    p.add_argument("--face-fps", type=float, default=5.0, help="face-tracking rate in frames/s (default 5)")
    p.add_argument("--device", help="cuda, cuda:1 or cpu (default: cuda when present)")
    p.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="data-parallel processes on this machine, one per GPU (default 1; torchrun sets its own)",
    )
    p.add_argument(
        "--shard",
        action="store_true",
        help="shard parameters, gradients and optimizer state over the processes (FSDP2) instead of DDP",
    )
    _add_rl_arguments(p)
    p.set_defaults(func=run)
    conv = p.add_subparsers(dest="train_command", metavar="convert")
    c = conv.add_parser("convert", help="annotation CSV -> training manifest")
    c.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="openset: name,openset; reason: name,reason (CSV or JSONL); label: name,label",
    )
    c.add_argument("--input", required=True, help="annotation file")
    c.add_argument("--media", required=True, help="folder holding the clips named in the file")
    c.add_argument("--out", required=True, help="manifest to write (.jsonl)")
    c.add_argument(
        "--candidates", help="label format: comma-separated candidate labels (default: all in the file)"
    )
    c.add_argument("--no-check", action="store_true", help="do not require the media files to exist")
    c.set_defaults(func=run_convert)


def _add_rl_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("phase 4 (GRPO with the emotion-wheel reward)")
    g.add_argument("--generations", type=int, help="answers sampled per clip (default 8)")
    g.add_argument("--temperature", type=float, help="sampling temperature (default 1.0)")
    g.add_argument("--max-new-tokens", type=int, help="answer length cap in tokens (default 64)")
    g.add_argument("--clip-epsilon", type=float, help="policy-ratio clip (default 0.2)")
    g.add_argument(
        "--kl-beta", type=float, help="weight of the KL to the --init model (default 0.04; 0: none)"
    )
    g.add_argument("--updates-per-batch", type=int, help="optimizer updates per batch of answers (default 1)")
    g.add_argument(
        "--reward",
        metavar="GROUPING",
        help="EW figure rewarded: M-avg (default), L1-avg, or one grouping (M1, M2, W1-L1 ... W5-L2)",
    )
    g.add_argument(
        "--extractor",
        choices=EXTRACTORS,
        help="labels from answers: list (comma-separated labels, default) or rule (prose)",
    )
    g.add_argument(
        "--format-weight", type=float, help="reward for an answer that yields labels (default 0.2)"
    )
    g.add_argument(
        "--length-penalty", type=float, help="penalty for answers past --length-free-tokens (default 0.1)"
    )
    g.add_argument(
        "--length-free-tokens", type=int, help="answer tokens free of the length penalty (default 32)"
    )
    g.add_argument(
        "--lora-rank",
        type=int,
        help="train rank-R adapters on the LLM instead of its weights (default 0: off)",
    )
    g.add_argument("--lora-alpha", type=float, help="adapter scale numerator (default 16)")
    g.add_argument(
        "--wheels", help="emotion-wheel tables folder (default: $OMNI_EMOTION_WHEELS or the cache)"
    )


def _config(args: argparse.Namespace) -> TrainConfig:
    names = (
        "max_steps",
        "epochs",
        "learning_rate",
        "batch_size",
        "micro_batch_size",
        "warmup_ratio",
        "precision",
        "gradient_checkpointing",
        "num_frames",
        "max_length",
        "log_every",
        "save_every",
        "seed",
        "num_workers",
    )
    overrides = {k: getattr(args, k) for k in names}
    if args.trainable:
        overrides["trainable"] = tuple(g.strip() for g in args.trainable.split(",") if g.strip())
    return phase_config(args.phase, **overrides)


def _rl_config(args: argparse.Namespace) -> RLConfig | None:
    """The RLConfig of phase 4 (None for other phases); phase-4 options on another phase are an error."""
    given = {
        field: getattr(args, dest) for dest, field in _FIELDS.items() if getattr(args, dest, None) is not None
    }
    if args.phase != 4:
        if given or getattr(args, "wheels", None):
            flag = next(iter(k for k in _FIELDS if getattr(args, k, None) is not None), "wheels").replace(
                "_", "-"
            )
            raise ConfigError(f"--{flag} only applies to --phase 4")
        return None
    return RLConfig(**given)


def train_request(args: argparse.Namespace) -> TrainRequest:
    """The run the options ask for; an option that does not fit the phase is a ConfigError here."""
    from omni_emotion.training.run import TrainRequest

    missing = [f"--{k}" for k in ("phase", "data", "init", "out") if getattr(args, k) is None]
    if missing:
        raise ConfigError(f"train needs {', '.join(missing)} (or the 'convert' subcommand)")
    return TrainRequest(
        config=_config(args),
        rl=_rl_config(args),
        data=args.data,
        init=args.init,
        out=args.out,
        resume=args.resume,
        cache=args.cache,
        no_cache=args.no_cache,
        face_fps=args.face_fps,
        device=args.device,
        nproc=args.nproc,
        shard=args.shard,
        wheels=args.wheels,
    )


def run(args: argparse.Namespace) -> int:
    request = train_request(args)
    from omni_emotion.training.run import run_training  # torch: only once a run starts

    return run_training(request)


def run_convert(args: argparse.Namespace) -> int:
    kwargs: dict = {"check_files": not args.no_check}
    if args.format == "label" and args.candidates:
        kwargs["candidates"] = [c for c in args.candidates.split(",") if c.strip()]
    elif args.candidates:
        raise ConfigError("--candidates only applies to --format label")
    samples = convert(args.format, args.input, args.media, **kwargs)
    count = write_manifest(samples, args.out)
    print(f"wrote {count} samples to {args.out}")
    return 0
