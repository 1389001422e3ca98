"""The command-line options several commands share: the ones that choose a pipeline (analyze, eval, serve,
live; the choices come from the engine and face-detector registries), and the folder-job options of analyze
and eval (Ray, the progress bar)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from omni_emotion.engines.registry import ENGINES
from omni_emotion.errors import ConfigError
from omni_emotion.faces.registry import DETECTORS

if TYPE_CHECKING:
    from omni_emotion.jobs.ray import RayConfig
    from omni_emotion.jobs.run import ClipResult
    from omni_emotion.pipeline import EmotionPipeline, PipelineSpec

__all__ = [
    "add_live_pipeline_arguments",
    "add_pipeline_arguments",
    "add_ray_arguments",
    "load_live_pipeline",
    "pipeline_spec",
    "ray_config",
    "tqdm_progress",
]

logger = logging.getLogger(__name__)


def add_pipeline_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    device_help: str = "torch device for the models (default cpu)",
) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINES.choices(),
        default="auto",
        help="analysis engine; auto (default): the first that can run here of "
        + ", ".join(e.name for e in ENGINES.entries()),
    )
    parser.add_argument(
        "--face-backend",
        choices=DETECTORS.choices(),
        default="auto",
        help="face detector; auto (default): the first that can run here of "
        + ", ".join(d.name for d in DETECTORS.entries()),
    )
    parser.add_argument("--device", default=None, help=device_help)
    parser.add_argument(
        "--weights-dir",
        default=None,
        metavar="DIR",
        help="model weights folder (default: $OMNI_EMOTION_WEIGHTS, else the checkout's weights/)",
    )


def pipeline_spec(
    args: argparse.Namespace, asr_threads: int | None = None, torch_threads: int | None = None
) -> PipelineSpec:
    """None: the one-clip commands' counts, ``pipeline.analysis_asr_threads()`` and
    ``pipeline.ANALYSIS_TORCH_THREADS``."""
    from omni_emotion.pipeline import ANALYSIS_TORCH_THREADS, PipelineSpec, analysis_asr_threads

    return PipelineSpec(
        engine=args.engine,
        device=args.device or "cpu",
        weights_dir=args.weights_dir,
        face_backend=args.face_backend,
        asr_threads=analysis_asr_threads() if asr_threads is None else asr_threads,
        torch_threads=ANALYSIS_TORCH_THREADS if torch_threads is None else torch_threads,
    )


def add_live_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """``add_pipeline_arguments`` plus ``--threads``: the commands that run live sessions (serve, live)."""
    add_pipeline_arguments(parser)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        metavar="N",
        help="CPU threads for the analysis models (default: all cores but one, at least 1, "
        "so the live per-frame path keeps a core)",
    )


def load_live_pipeline(args: argparse.Namespace) -> EmotionPipeline:
    """The pipeline for a live-capable process. torch's thread count is process-wide, so it is decided here
    (not in library code): the analysis models (torch and the speech recogniser) get ``--threads``, by
    default all cores but one, so the background analysis cannot starve the per-frame path (the face
    detector already runs its own single OpenMP thread)."""
    if args.threads < 0:
        raise ConfigError(f"--threads must be >= 0, got {args.threads}")
    threads = args.threads or max(1, (os.cpu_count() or 1) - 1)
    logger.info("analysis models use %d CPU thread(s)", threads)
    pipeline = pipeline_spec(args, asr_threads=threads, torch_threads=threads).create()
    pipeline.load_now()
    return pipeline


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Ray (needs the scale extra: pip install 'omni-emotion[scale]')")
    group.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run the folder job on Ray Data: alone, a private local Ray; with an address (auto, HOST:6379, "
        "ray://HOST:10001) it joins that cluster. Put it after the folder.",
    )
    group.add_argument("--actors", type=int, default=2, help="pipelines at once, one per actor (default 2)")
    group.add_argument("--cpus-per-actor", type=float, default=1.0, help="CPUs per actor (default 1)")
    group.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per actor (default 0)")


def ray_config(args: argparse.Namespace) -> RayConfig | None:
    """The ``RayConfig`` that ``add_ray_arguments``' options ask for, or None without ``--ray``."""
    from omni_emotion.jobs.ray import RayConfig

    if args.ray is None:
        return None
    return RayConfig(
        address=None if args.ray == "local" else args.ray,
        actors=args.actors,
        cpus_per_actor=args.cpus_per_actor,
        gpus_per_actor=args.gpus_per_actor,
    )


def tqdm_progress(results: Iterable[ClipResult], total: int) -> Iterable[ClipResult]:
    """A progress bar on stderr whose rate is clips per second."""
    from tqdm import tqdm

    from omni_emotion.console import interactive

    return tqdm(
        results,
        total=total,
        desc="clips",
        unit="clip",
        file=sys.stderr,
        smoothing=0.1,
        disable=not interactive(),
    )
