"""Folder jobs on Ray Data: a callable-class stage builds the pipeline once per actor (loading takes seconds,
a clip about one), each actor runs ``run.analyze_one``, and the results stream back to the caller as they
finish."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omni_emotion.errors import ConfigError, OmniEmotionError
from omni_emotion.jobs.run import ClipResult, PipelineFactory, analyze_one

__all__ = ["AnalyzeStage", "RayConfig", "RayUnavailableError", "decode_row", "ray_results"]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'omni-emotion[scale]' (or: .venv/bin/pip install -e '.[scale]')"
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20  # results are a few kB each; Ray's default is 30 % of the RAM


class RayUnavailableError(ConfigError):
    """``--ray`` was asked for but Ray is not installed, or the cluster cannot be joined."""


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


def ray_results(
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
