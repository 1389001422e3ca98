"""Run a folder job's clips through an emotion pipeline, one ``ClipResult`` each, in this process or on Ray
Data (``omni_emotion.jobs.ray``).

A job is a list of ``(key, path)``. Each clip gives its Analysis as a dict, or the one-sentence message of the
``OmniEmotionError`` it raised, so a bad file is recorded and the job goes on. Both modes run ``analyze_one``
on a pipeline built by the same factory (``PipelineSpec``), so they give the same results.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from omni_emotion.errors import ConfigError, OmniEmotionError
from omni_emotion.media import MEDIA_SUFFIXES
from omni_emotion.pipeline import PipelineSpec

if TYPE_CHECKING:
    from omni_emotion.jobs.ray import RayConfig

__all__ = [
    "ClipResult",
    "PipelineFactory",
    "PipelineSpec",
    "analyze_one",
    "list_media",
    "run_clips",
]


class Pipeline(Protocol):
    def analyze_file(self, path: str | os.PathLike[str], progress: Any = None) -> Any: ...


class PipelineFactory(Protocol):
    """Builds a pipeline where it will run (this process, or each Ray actor); must pickle."""

    def create(self) -> Pipeline: ...


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
        from omni_emotion.jobs.ray import ray_results

        yield from ray_results(jobs, factory, ray)
