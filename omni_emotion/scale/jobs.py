"""Run clips through an emotion pipeline, in this process or on Ray Data, one ``ClipResult`` each.

A job is a list of ``(key, path)``. Each clip gives its Analysis as a dict, or the one-sentence message of the
``OmniEmotionError`` it raised, so a bad file is recorded and the job goes on. Both modes run ``analyze_one``
on a pipeline built by the same factory (``PipelineSpec``), so they give the same results; on Ray a
callable-class stage builds that pipeline once per actor (loading takes seconds, a clip about one), and the
results stream back to the caller as they finish.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from omni_emotion.errors import ConfigError, OmniEmotionError
from omni_emotion.media import MEDIA_SUFFIXES
from omni_emotion.pipeline import PipelineSpec

__all__ = [
    "AnalyzeStage",
    "ClipResult",
    "PipelineFactory",
    "PipelineSpec",
    "RayConfig",
    "RayUnavailableError",
    "analyze_one",
    "decode_row",
    "list_media",
    "run_clips",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'omni-emotion[scale]' (or: .venv/bin/pip install -e '.[scale]')"
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20  # results are a few kB each; Ray's default is 30 % of the RAM


class RayUnavailableError(ConfigError):
    """``--ray`` was asked for but Ray is not installed, or the cluster cannot be joined."""


class Pipeline(Protocol):
    def analyze_file(self, path: str | os.PathLike[str], progress: Any = None) -> Any: ...


class PipelineFactory(Protocol):
    """Builds a pipeline where it will run (this process, or each Ray actor); must pickle."""

    def create(self) -> Pipeline: ...


@dataclass(frozen=True)
class RayConfig:
    """Where and how wide a Ray job runs.

    address: None starts a private local Ray (no dashboard, no usage stats) sized to the actors;
    otherwise it is passed to ``ray.init`` ("auto", "HOST:6379", "ray://HOST:10001") to join a cluster.
    actors: pipelines running at once, each in its own actor.  cpus_per_actor, gpus_per_actor: the resources
    Ray reserves for each (fractions allowed, e.g. 0.5 GPU to put two actors on one GPU).
    """

    address: str | None = None
    actors: int = 2
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0

    def __post_init__(self) -> None:
        if self.actors < 1:
            raise ConfigError(f"--actors must be at least 1, got {self.actors}.")
        if self.cpus_per_actor <= 0 or self.gpus_per_actor < 0:
            raise ConfigError(
                f"--cpus-per-actor must be > 0 and --gpus-per-actor >= 0, got {self.cpus_per_actor} and "
                f"{self.gpus_per_actor}."
            )


@dataclass(frozen=True)
class ClipResult:
    """One clip's outcome: ``analysis`` (``Analysis.to_dict()``) or ``error`` (one sentence)."""

    key: str
    analysis: dict[str, Any] | None = None
    error: str | None = None

    def to_json(self) -> str:
        record = {"key": self.key, "analysis": self.analysis, "error": self.error}
        return json.dumps(record, ensure_ascii=False)


def analyze_one(pipeline: Pipeline, key: str, path: str | os.PathLike[str]) -> ClipResult:
    """The one step both modes run. Only user-caused errors are recorded; anything else is a bug and stops."""
    try:
        return ClipResult(key, analysis=pipeline.analyze_file(path).to_dict())
    except OmniEmotionError as err:
        return ClipResult(key, error=str(err))


def list_media(folder: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """``(relative posix path, path)`` of every media file under ``folder``, sorted; links to folders and
    hidden entries are not followed."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"The folder {root} does not exist.")
    found = []
    for parent, dirs, files in os.walk(root):  # os.walk does not follow links to folders
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(parent) / name
            if not name.startswith(".") and path.suffix.lower() in MEDIA_SUFFIXES and path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return sorted(found)


# -- running ------------------------------------------------------------------------------------------------


def run_clips(
    jobs: Sequence[tuple[str, Path]], factory: PipelineFactory, ray: RayConfig | None = None
) -> Iterator[ClipResult]:
    """One ``ClipResult`` per job, in this process (``ray`` None) or on Ray Data, as each finishes (on Ray
    not necessarily in job order). The pipeline is built at the first ``next()``, or in each actor."""
    if not jobs:
        return
    if ray is None:
        pipeline = factory.create()
        for key, path in jobs:
            yield analyze_one(pipeline, key, path)
    else:
        yield from _ray_results(jobs, factory, ray)


class AnalyzeStage:
    """The Ray Data stage: one per actor, so the pipeline loads once per actor, not once per batch.

    A user's error while loading (missing weights, no GPU) comes back as a ``fatal`` row that the driver
    raises as that error: raised here, Ray would only report that an actor died.
    """

    def __init__(self, factory: PipelineFactory):
        try:
            self.pipeline, self.failure = factory.create(), None
        except OmniEmotionError as err:
            self.pipeline, self.failure = None, err

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if self.failure is not None:
            fatal = json.dumps({"fatal": type(self.failure).__name__, "message": str(self.failure)})
            return {"result": [fatal] * len(batch["key"])}
        pairs = zip(batch["key"], batch["path"])
        return {"result": [analyze_one(self.pipeline, str(k), str(p)).to_json() for k, p in pairs]}


def decode_row(text: str) -> ClipResult:
    """A stage row back to a ``ClipResult``; a ``fatal`` row raises its error, with its type when the
    project defines it (``omni_emotion.errors``)."""
    from omni_emotion import errors

    data = json.loads(text)
    if "fatal" in data:
        kind = getattr(errors, data["fatal"], None)
        if not (isinstance(kind, type) and issubclass(kind, OmniEmotionError)):
            kind = OmniEmotionError
        raise kind(data["message"])
    return ClipResult(data["key"], data["analysis"], data["error"])


@contextlib.contextmanager
def _ray_session(config: RayConfig):
    try:
        import ray
    except ImportError as err:
        raise RayUnavailableError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}.") from err
    if ray.is_initialized():  # a caller's session (a notebook, a Ray job): use it, leave it running
        yield ray
        return
    if config.address:
        try:
            ray.init(address=config.address, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise RayUnavailableError(f"Cannot join the Ray cluster at {config.address} ({err}).") from err
    else:
        # Ray reads this at start-up only; setdefault keeps a user's explicit choice.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(
            num_cpus=math.ceil(config.actors * config.cpus_per_actor),
            num_gpus=math.ceil(config.actors * config.gpus_per_actor),
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            logging_level=logging.WARNING,
        )
    try:
        yield ray
    finally:
        ray.shutdown()


def _ray_results(
    jobs: Sequence[tuple[str, Path]], factory: PipelineFactory, config: RayConfig
) -> Iterator[ClipResult]:
    with _ray_session(config) as ray:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the caller shows one bar in clips/s, not Ray's per operator
        # one block per clip: an idle actor takes the next clip, whatever the others are doing
        ds = ray.data.from_items([{"key": k, "path": str(p)} for k, p in jobs], override_num_blocks=len(jobs))
        ds = ds.map_batches(
            AnalyzeStage,
            fn_constructor_kwargs={"factory": factory},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=config.actors),
            num_cpus=config.cpus_per_actor,
            num_gpus=config.gpus_per_actor,
        )
        for row in ds.iter_rows():
            yield decode_row(row["result"])
