"""One training run from a ``TrainRequest``: phases 1 to 3 (``Trainer``, data-parallel over ``nproc`` local
processes or under torchrun) and phase 4 (GRPO, one process). ``omni_emotion.cli.train`` parses the options
into the request; everything a user can get wrong is checked here once, before any worker starts."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from omni_emotion.errors import ConfigError, ModelNotFoundError, OmniEmotionError
from omni_emotion.training.config import TrainConfig
from omni_emotion.training.rl_config import RLConfig, require_labels

if TYPE_CHECKING:
    from omni_emotion.training.distributed import DistContext

__all__ = ["TrainRequest", "processor_and_cache", "run_training"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainRequest:
    """What one run trains, from where, into where.

    config: the phase's settings (``phase_config``).  rl: phase 4's settings (None for phases 1 to 3).
    data: the JSONL manifest.  init: the model folder to start from.  out: checkpoints, final model, log.
    resume: a checkpoint folder, "auto" (the latest in ``out``) or None.  cache: the feature cache folder
    (None: under the cache root), ``no_cache`` to decode every clip every epoch.  face_fps: face-tracking
    rate.  device: "cuda", "cuda:1", "cpu" or None (cuda when present).  nproc: local data-parallel
    processes.  shard: FSDP2 instead of DDP.  wheels: phase 4's emotion-wheel tables folder.
    """

    config: TrainConfig
    data: str
    init: str
    out: str
    rl: RLConfig | None = None
    resume: str | None = None
    cache: str | None = None
    no_cache: bool = False
    face_fps: float = 5.0
    device: str | None = None
    nproc: int = 1
    shard: bool = False
    wheels: str | None = None


def _face_fn(fps: float):
    """The main face track of a clip, from the perception layer's tracker (dense frames at ``fps``)."""
    try:
        from omni_emotion.faces import load_face_analyzer
    except ImportError as err:
        raise ModelNotFoundError(
            "face tracking (omni_emotion.faces) is not installed; phases 2 and 3 need face crops"
        ) from err
    from omni_emotion.media import iter_frames

    analyzer = load_face_analyzer()

    def main_track(clip, path):
        tracks = analyzer.track(iter_frames(path, fps=fps))
        return next((t for t in tracks if t.main), None)

    main_track.cache_tag = f"faces:{type(analyzer.detector).__name__}:{analyzer.config!r}:fps={fps}"
    return main_track


def _source(request: TrainRequest) -> tuple[Path, Path | None]:
    """The model folder to load and the checkpoint to resume from (None for a fresh run)."""
    from omni_emotion.training.trainer import latest_checkpoint
    from omni_emotion.weights import omni_missing_files

    resume = None
    if request.resume:
        resume = latest_checkpoint(request.out) if request.resume == "auto" else Path(request.resume)
        if resume is None:
            raise ConfigError(f"--resume auto found no checkpoint in {request.out}")
    source = Path(resume or request.init)
    lacking = omni_missing_files(source)
    if lacking:
        raise ModelNotFoundError(
            f"{source} is not an Omni-Emotion model folder (missing {', '.join(lacking)}); "
            "assemble one with `omni-emotion weights init` or pass a previous phase's --out"
        )
    return source, resume


def run_training(request: TrainRequest) -> int:
    # everything a user can get wrong is checked here, once, before any worker starts
    from omni_emotion.training.distributed import DistContext, launch  # torch: only once a run starts

    config = request.config
    _source(request)
    ctx = DistContext.from_env()
    if config.phase == 4 and (request.nproc > 1 or ctx.active or request.shard):
        raise ConfigError("phase 4 runs in one process; leave out --nproc, --shard and torchrun")
    if request.nproc < 1:
        raise ConfigError(f"--nproc must be at least 1, got {request.nproc}")
    if request.nproc == 1 or ctx.active:
        if request.nproc > 1:
            raise ConfigError("--nproc starts its own processes; under torchrun leave it out")
        return _train(request, ctx)
    if config.accumulation_steps % request.nproc:
        raise ConfigError(
            f"batch_size {config.batch_size} must be a multiple of micro_batch_size x --nproc "
            f"({config.micro_batch_size} x {request.nproc}), so every process runs as many micro-batches"
        )
    results = launch(request.nproc, _rank_main, request)
    errors = [r for r in results.values() if isinstance(r, OmniEmotionError)]
    if errors:
        raise errors[0]
    return 0


def _rank_main(request: TrainRequest) -> int | OmniEmotionError:
    """One worker of ``--nproc``: a user's error comes back to the launching process as the error itself."""
    from omni_emotion.training.distributed import DistContext

    try:
        return _train(request, DistContext.from_env())
    except OmniEmotionError as err:
        return err


def processor_and_cache(request: TrainRequest, source: Path, model, samples, config: TrainConfig):
    """The processor saved in ``source`` (at the phase's frame count) and the feature cache the run reads
    clips through (faces tracked only when the model uses them and some clip has video)."""
    from omni_emotion.model.processor import OmniEmotionProcessor
    from omni_emotion.paths import cache_root
    from omni_emotion.training.cache import FeatureCache

    saved = OmniEmotionProcessor.from_pretrained(source)
    processor = OmniEmotionProcessor(
        saved.tokenizer, dataclasses.replace(saved.config, num_frames=config.num_frames)
    )
    needs_faces = model.config.use_face and any(s.video is not None for s in samples)
    cache = FeatureCache(
        processor,
        None if request.no_cache else Path(request.cache or cache_root() / "features"),
        face_fn=_face_fn(request.face_fps) if needs_faces else None,
    )
    return processor, cache


def _train(request: TrainRequest, ctx: DistContext) -> int:
    import torch

    from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
    from omni_emotion.training.data import ManifestDataset
    from omni_emotion.training.distributed import process_group
    from omni_emotion.training.manifest import read_manifest
    from omni_emotion.training.trainer import Trainer

    config = request.config
    source, resume = _source(request)
    device = ctx.device(request.device)
    if config.phase == 4:
        return _train_rl(request, source, resume, device)
    samples = read_manifest(request.data)
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    with process_group(ctx, device):
        # bf16 on disk stays bf16 in memory; the trainer upcasts only the trained parameters to fp32
        model = OmniEmotionForConditionalGeneration.from_pretrained(
            source, dtype=torch.bfloat16 if bf16 else torch.float32
        )
        processor, cache = processor_and_cache(request, source, model, samples, config)
        dataset = ManifestDataset(samples, processor, cache, max_length=config.max_length)
        trainer = Trainer(
            model,
            dataset,
            dataset.collate,
            config,
            request.out,
            device=device,
            processor=processor,
            dist=ctx,
            shard=request.shard,
        )
        if ctx.is_main:
            print(
                f"phase {config.phase}: {len(samples)} samples, {trainer.total} steps of {config.batch_size} "
                f"({config.accumulation_steps} x {config.micro_batch_size}"
                + (
                    f" over {ctx.world_size} processes, {'FSDP2' if request.shard else 'DDP'}"
                    if ctx.active
                    else ""
                )
                + f"), lr {config.learning_rate:g}, training {', '.join(config.trainable)} "
                f"({trainer.trainable_params:,} parameters) on {trainer.device}"
                + (f", resuming from {resume}" if resume else ""),
                flush=True,
            )
        result = trainer.train(resume=resume)
    if ctx.is_main:
        print(json.dumps(result.to_dict()), flush=True)
    return 0


def _train_rl(request: TrainRequest, source: Path, resume: Path | None, device) -> int:
    """Phase 4 (GRPO, see grpo.py and rl.py) from ``source`` (the --init folder, or the checkpoint to resume)
    into ``request.out``."""
    import torch

    from omni_emotion.evaluation import load_wheels
    from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
    from omni_emotion.training.grpo import GRPOTrainer, PromptDataset
    from omni_emotion.training.manifest import read_manifest

    config, rl = request.config, request.rl or RLConfig()
    samples = read_manifest(request.data)
    require_labels(samples)
    tables = load_wheels(request.wheels)
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    dtype = torch.bfloat16 if bf16 else torch.float32
    init = Path(request.init)
    # the KL pulls towards the --init model; with LoRA the run resumes from it plus the saved adapters
    model = OmniEmotionForConditionalGeneration.from_pretrained(
        resume if resume and not rl.lora_rank else init, dtype=dtype
    )
    reference = None
    if rl.kl_beta > 0 and not rl.lora_rank:
        reference = OmniEmotionForConditionalGeneration.from_pretrained(init, dtype=dtype) if resume else None
    processor, cache = processor_and_cache(request, source, model, samples, config)
    dataset = PromptDataset(samples, processor, cache, max_length=config.max_length)
    trainer = GRPOTrainer(
        model,
        dataset,
        config,
        rl,
        tables,
        request.out,
        tokenizer=processor.tokenizer,
        reference=reference,
        device=device,
        processor=processor,
    )
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
