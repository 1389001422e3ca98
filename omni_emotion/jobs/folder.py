"""Folder jobs: every clip of a folder through ``EmotionPipeline``, in this process or on Ray Data.

    omni-emotion analyze DIR --out results.jsonl [--ray [ADDRESS]] [--actors 2] [--format parquet]
    omni-emotion eval --gt GT.csv --videos DIR --ray [ADDRESS]

Results stream back to this process, which appends each to the output as it arrives (``jobs.sinks``): a run
that stops resumes by skipping the keys already written, and a file that fails is a record with its error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_emotion.jobs.run import ClipResult, PipelineFactory, list_media, run_clips
from omni_emotion.jobs.sinks import JsonlSink, eval_record, open_sink, output_record

if TYPE_CHECKING:
    from omni_emotion.jobs.ray import RayConfig

__all__ = [
    "JobSummary",
    "LazyPipeline",
    "analyze_eval_clips",
    "analyze_folder",
]

Progress = Callable[[Iterable[ClipResult], int], Iterable[ClipResult]]


@dataclass(frozen=True)
class JobSummary:
    """Counts of one run; ``seconds`` is wall time from the start (model loading included)."""

    analysed: int
    failed: int
    skipped: int
    seconds: float

    @property
    def clips_per_s(self) -> float:
        return self.analysed / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"analysed {self.analysed} clips in {self.seconds:.1f} s ({self.clips_per_s:.2f} clips/s, model "
            f"loading included); {self.failed} failed with their error recorded; {self.skipped} already in "
            "the output were skipped"
        )


def analyze_folder(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    factory: PipelineFactory,
    *,
    fmt: str = "jsonl",
    ray: RayConfig | None = None,
    progress: Progress | None = None,
) -> JobSummary:
    """Analyse every media file under ``folder`` not yet in ``out``, appending one record per clip.

    ``progress(results, total)`` wraps the stream of results (e.g. ``tqdm``, whose rate is clips/s).
    """
    t0 = time.perf_counter()
    jobs = list_media(folder)
    _check_not_an_input(Path(folder), Path(out), jobs)
    sink = open_sink(out, fmt)
    done = sink.done_keys()
    todo = [(key, path) for key, path in jobs if key not in done]
    analysed, failed = _drain(todo, factory, ray, sink, output_record, progress)
    return JobSummary(analysed, failed, len(jobs) - len(todo), time.perf_counter() - t0)


def _check_not_an_input(folder: Path, out: Path, jobs: list[tuple[str, Path]]) -> None:
    """ConfigError when ``out`` is one of the clips, or a media-named file inside the input folder: results
    must never be written into something the job reads."""
    from omni_emotion.errors import ConfigError
    from omni_emotion.media import MEDIA_SUFFIXES

    target = out.resolve()
    inputs = {path.resolve() for _, path in jobs}
    inside = target.is_relative_to(folder.resolve())
    if target in inputs or (inside and target.suffix.lower() in MEDIA_SUFFIXES):
        raise ConfigError(
            f"--out {out} is one of the input clips (or named like one inside the input"
            " folder); name a results file such as results.jsonl."
        )


def _drain(
    jobs, factory: PipelineFactory, ray: RayConfig | None, sink, record, progress: Progress | None
) -> tuple[int, int]:
    """Run ``jobs`` (sequentially or on Ray) and write ``record(result)`` for each: (analysed, failed)."""
    analysed = failed = 0
    with sink:
        results = run_clips(jobs, factory, ray)
        for result in progress(results, len(jobs)) if progress else results:
            sink.write(record(result))
            analysed += 1
            failed += result.error is not None
    return analysed, failed


# -- eval --videos DIR --ray --------------------------------------------------------------------------------


def analyze_eval_clips(
    names: Iterable[str],
    videos: str | os.PathLike[str],
    cache: str | os.PathLike[str],
    factory: PipelineFactory,
    ray: RayConfig | None,
    *,
    progress: Progress | None = None,
) -> JobSummary:
    """Analyse the ground truth's clips not yet in the eval runner's ``cache`` and append their records there,
    so that ``runner.predict_clips`` then finds every clip done. Names it would refuse (paths, links out of
    ``videos``) and missing clips are left to it, to be reported with their reason."""
    from omni_emotion.clip_files import clip_name_problem, find_clip
    from omni_emotion.errors import EvaluationDataError

    t0 = time.perf_counter()
    sink = JsonlSink(Path(cache), key="name")
    done = sink.done_keys()
    jobs = []
    for name in dict.fromkeys(names):
        if name in done or clip_name_problem(name):
            continue
        try:
            clip = find_clip(Path(videos), name)
        except EvaluationDataError:
            continue
        if clip is not None:
            jobs.append((name, clip))
    analysed, failed = _drain(jobs, factory, ray, sink, eval_record, progress)
    return JobSummary(analysed, failed, len(done), time.perf_counter() - t0)


class LazyPipeline:
    """Builds its pipeline at the first clip. After a Ray run ``predict_clips`` normally finds every clip in
    its cache; only a clip added to the folder meanwhile is analysed here."""

    def __init__(self, factory: PipelineFactory):
        self.factory, self._pipeline = factory, None

    def analyze_file(self, path: str | os.PathLike[str], progress: Any = None) -> Any:
        if self._pipeline is None:
            self._pipeline = self.factory.create()
        return self._pipeline.analyze_file(path, progress)
