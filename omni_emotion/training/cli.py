"""`omni-emotion train --phase {1,2,3,4} --data manifest.jsonl --init weights/DIR --out DIR [--nproc N] [--shard]`
(also under `torchrun --nproc-per-node N -m omni_emotion.cli train ...`) and
`omni-emotion train convert --format {openset,reason,label} --input FILE --media DIR --out manifest.jsonl`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from omni_emotion.errors import ConfigError, ModelNotFoundError, OmniEmotionError
from omni_emotion.training.config import PHASES, TrainConfig, phase_config
from omni_emotion.training.converters import FORMATS, convert
from omni_emotion.training.manifest import write_manifest
from omni_emotion.training.rl_cli import add_rl_arguments, rl_config

if TYPE_CHECKING:
    from omni_emotion.training.distributed import DistContext

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train the Omni-Emotion model (phase 1, 2, 3, or 4: RL) from a JSONL manifest",
        description="Train one phase of the Omni-Emotion model. Defaults are the paper's; "
        "'omni-emotion train convert ...' turns annotation CSVs into manifests.",
    )
    p.add_argument("--phase", type=int, choices=PHASES, help="1: audio projector, 2: face projector, 3: projectors + LLM, 4: GRPO on the LLM with the EW reward")
    p.add_argument("--data", help="JSONL manifest (see omni_emotion/training/README.md)")
    p.add_argument("--init", help="model folder to start from (weights init output, or the previous phase's --out)")
    p.add_argument("--out", help="folder for checkpoints, the final model and train_log.jsonl")
    p.add_argument("--resume", metavar="DIR|auto", help="continue from a checkpoint folder ('auto': the latest in --out)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--epochs", type=float, help="passes over the manifest (phase default: 1, 1, 3)")
    p.add_argument("--lr", type=float, dest="learning_rate", help="peak learning rate (default 1e-3, 1e-3, 1e-5)")
    p.add_argument("--batch-size", type=int, help="nominal batch (default 256, 256, 128)")
    p.add_argument("--micro-batch-size", type=int, help="samples per forward pass; the rest is accumulated (default 1)")
    p.add_argument("--warmup-ratio", type=float, help="fraction of steps of linear warmup (default 0.03)")
    p.add_argument("--train", dest="trainable", help="comma-separated parameter groups to train instead of the phase's")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), help="auto: bf16 autocast on CUDA, fp32 on CPU")
    p.add_argument("--gradient-checkpointing", action="store_true", default=None, help="save memory, ~30%% slower")
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
    p.add_argument("--nproc", type=int, default=1,
                   help="data-parallel processes on this machine, one per GPU (default 1; torchrun sets its own)")
    p.add_argument("--shard", action="store_true",
                   help="shard parameters, gradients and optimizer state over the processes (FSDP2) instead of DDP")
    add_rl_arguments(p)
    p.set_defaults(func=run)
    conv = p.add_subparsers(dest="train_command", metavar="convert")
    c = conv.add_parser("convert", help="annotation CSV -> training manifest")
    c.add_argument("--format", required=True, choices=FORMATS,
                   help="openset: name,openset; reason: name,reason (CSV or JSONL); label: name,label")
    c.add_argument("--input", required=True, help="annotation file")
    c.add_argument("--media", required=True, help="folder holding the clips named in the file")
    c.add_argument("--out", required=True, help="manifest to write (.jsonl)")
    c.add_argument("--candidates", help="label format: comma-separated candidate labels (default: all in the file)")
    c.add_argument("--no-check", action="store_true", help="do not require the media files to exist")
    c.set_defaults(func=run_convert)


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


def _face_fn(fps: float):
    """The main face track of a clip, from the perception layer's tracker (dense frames at ``fps``)."""
    try:
        from omni_emotion.faces import load_face_analyzer
    except ImportError as err:
        raise ModelNotFoundError("face tracking (omni_emotion.faces) is not installed; phases 2 and 3 need face crops") from err
    from omni_emotion.media import iter_frames

    analyzer = load_face_analyzer()

    def main_track(clip, path):
        tracks = analyzer.track(iter_frames(path, fps=fps))
        return next((t for t in tracks if t.main), None)

    main_track.cache_tag = f"faces:{type(analyzer.detector).__name__}:{analyzer.config!r}:fps={fps}"
    return main_track


def _config(args: argparse.Namespace) -> TrainConfig:
    names = ("max_steps", "epochs", "learning_rate", "batch_size", "micro_batch_size", "warmup_ratio", "precision",
             "gradient_checkpointing", "num_frames", "max_length", "log_every", "save_every", "seed", "num_workers")
    overrides = {k: getattr(args, k) for k in names}
    if args.trainable:
        overrides["trainable"] = tuple(g.strip() for g in args.trainable.split(",") if g.strip())
    return phase_config(args.phase, **overrides)


def _source(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """The model folder to load and the checkpoint to resume from (None for a fresh run)."""
    from omni_emotion.training.trainer import latest_checkpoint
    from omni_emotion.weights import omni_missing_files

    resume = None
    if args.resume:
        resume = latest_checkpoint(args.out) if args.resume == "auto" else Path(args.resume)
        if resume is None:
            raise ConfigError(f"--resume auto found no checkpoint in {args.out}")
    source = Path(resume or args.init)
    lacking = omni_missing_files(source)
    if lacking:
        raise ModelNotFoundError(
            f"{source} is not an Omni-Emotion model folder (missing {', '.join(lacking)}); "
            "assemble one with `omni-emotion weights init` or pass a previous phase's --out"
        )
    return source, resume


def run(args: argparse.Namespace) -> int:
    missing = [f"--{k}" for k in ("phase", "data", "init", "out") if getattr(args, k) is None]
    if missing:
        raise ConfigError(f"train needs {', '.join(missing)} (or the 'convert' subcommand)")
    # everything a user can get wrong is checked here, once, before any worker starts
    from omni_emotion.training.distributed import DistContext, launch  # torch: only once a run starts

    config = _config(args)
    rl_config(args)
    _source(args)
    ctx = DistContext.from_env()
    if args.phase == 4 and (args.nproc > 1 or ctx.active or args.shard):
        raise ConfigError("phase 4 runs in one process; leave out --nproc, --shard and torchrun")
    if args.nproc < 1:
        raise ConfigError(f"--nproc must be at least 1, got {args.nproc}")
    if args.nproc == 1 or ctx.active:
        if args.nproc > 1:
            raise ConfigError("--nproc starts its own processes; under torchrun leave it out")
        return _train(args, ctx)
    if config.accumulation_steps % args.nproc:
        raise ConfigError(
            f"batch_size {config.batch_size} must be a multiple of micro_batch_size x --nproc "
            f"({config.micro_batch_size} x {args.nproc}), so every process runs as many micro-batches"
        )
    results = launch(args.nproc, _rank_main, args)
    errors = [r for r in results.values() if isinstance(r, OmniEmotionError)]
    if errors:
        raise errors[0]
    return 0


def _rank_main(args: argparse.Namespace) -> int | OmniEmotionError:
    """One worker of ``--nproc``: a user's error comes back to the launching process as the error itself."""
    from omni_emotion.training.distributed import DistContext

    try:
        return _train(args, DistContext.from_env())
    except OmniEmotionError as err:
        return err


def processor_and_cache(args: argparse.Namespace, source: Path, model, samples, config: TrainConfig):
    """The processor saved in ``source`` (at the phase's frame count) and the feature cache the run reads
    clips through (faces tracked only when the model uses them and some clip has video)."""
    from omni_emotion.model.processor import OmniEmotionProcessor
    from omni_emotion.paths import cache_root
    from omni_emotion.training.cache import FeatureCache

    saved = OmniEmotionProcessor.from_pretrained(source)
    processor = OmniEmotionProcessor(saved.tokenizer, dataclasses.replace(saved.config, num_frames=config.num_frames))
    needs_faces = model.config.use_face and any(s.video is not None for s in samples)
    cache = FeatureCache(
        processor, None if args.no_cache else Path(args.cache or cache_root() / "features"),
        face_fn=_face_fn(args.face_fps) if needs_faces else None,
    )
    return processor, cache


def _train(args: argparse.Namespace, ctx: DistContext) -> int:
    import torch

    from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
    from omni_emotion.training.data import ManifestDataset
    from omni_emotion.training.distributed import process_group
    from omni_emotion.training.manifest import read_manifest
    from omni_emotion.training.trainer import Trainer

    config = _config(args)
    source, resume = _source(args)
    device = ctx.device(args.device)
    if config.phase == 4:
        from omni_emotion.training.rl_cli import train_rl

        return train_rl(args, config, source, resume, device)
    samples = read_manifest(args.data)
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    with process_group(ctx, device):
        # bf16 on disk stays bf16 in memory; the trainer upcasts only the trained parameters to fp32
        model = OmniEmotionForConditionalGeneration.from_pretrained(
            source, dtype=torch.bfloat16 if bf16 else torch.float32
        )
        processor, cache = processor_and_cache(args, source, model, samples, config)
        dataset = ManifestDataset(samples, processor, cache, max_length=config.max_length)
        trainer = Trainer(model, dataset, dataset.collate, config, args.out, device=device, processor=processor,
                          dist=ctx, shard=args.shard)
        if ctx.is_main:
            print(
                f"phase {config.phase}: {len(samples)} samples, {trainer.total} steps of {config.batch_size} "
                f"({config.accumulation_steps} x {config.micro_batch_size}"
                + (f" over {ctx.world_size} processes, {'FSDP2' if args.shard else 'DDP'}" if ctx.active else "")
                + f"), lr {config.learning_rate:g}, training {', '.join(config.trainable)} "
                f"({trainer.trainable_params:,} parameters) on {trainer.device}"
                + (f", resuming from {resume}" if resume else ""),
                flush=True,
            )
        result = trainer.train(resume=resume)
    if ctx.is_main:
        print(json.dumps(result.to_dict()), flush=True)
    return 0
