"""One evaluation, from files to scores: the flow both ``omni-emotion eval`` and the Evaluate tab run.

Read the grouping tables and the ground truth, get predictions (a predictions file, or the pipeline run over
a clip folder through ``runner.predict_clips``), score them (``metrics.score_dataset``: scores per grouping
and per sample), then the floor over the same samples (``floor.floor_of``). The front ends only format the
``Evaluation`` this returns (``evaluation.report`` builds the rows they share).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from omni_emotion.errors import ConfigError, EvaluationDataError
from omni_emotion.evaluation import runner
from omni_emotion.evaluation.floor import OBJECTIVES, Floor, floor_of
from omni_emotion.evaluation.metrics import EvalResult
from omni_emotion.evaluation.wheels import WheelTables, default_cache_dir, load_wheels
from omni_emotion.mentions import LabelExtractor, RuleExtractor

__all__ = [
    "OVMERD_GT_NAME",
    "EvalRequest",
    "Evaluation",
    "Progress",
    "default_clip_cache",
    "run_evaluation",
]

OVMERD_GT_NAME = "check-openset.csv"  # the published baselines were scored on this ground truth only

T = TypeVar("T")


class Progress(Protocol):
    """Wraps a long iteration for display (tqdm, Gradio's ``progress.tqdm``); ``desc`` names the work."""

    def __call__(self, items: Iterable[T], desc: str) -> Iterable[T]: ...


PathLike = str | os.PathLike[str]
_PATH_FIELDS = ("gt", "pred", "videos", "wheels", "cache", "predictions_csv", "published")


@dataclass(frozen=True)
class EvalRequest:
    """What to score: ``gt`` against exactly one of ``pred`` (a labels CSV or a JSONL of free text) or
    ``videos`` (a clip folder the pipeline analyses, resumably, into the JSONL ``cache``).

    wheels: the grouping-table folder (None: the download cache). predictions_csv: where the predictions are
    written as ``name,openset`` (None: beside ``cache`` for a clip folder, nowhere for a file). limit: a clip
    folder's first N ground-truth samples only (0 = all). published: a CSV of published scores to stand
    beside ours (None: OV-MER's Table 4, shown only when ``gt`` is OV-MERD's ``check-openset.csv``).
    """

    gt: Path
    pred: Path | None = None
    videos: Path | None = None
    wheels: Path | None = None
    cache: Path | None = None
    predictions_csv: Path | None = None
    limit: int = 0
    floor_objective: str = "M-avg"
    published: Path | None = None

    def __post_init__(self) -> None:
        for name in _PATH_FIELDS:  # paths given as text become Paths
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        if (self.pred is None) == (self.videos is None):
            raise ConfigError("An evaluation needs exactly one of a predictions file and a clip folder.")
        if self.videos is not None and self.cache is None:
            raise ConfigError("An evaluation over a clip folder needs a cache file for its per-clip results.")
        if self.limit < 0 or (self.limit and self.videos is None):
            raise ConfigError(f"A sample limit must be 0 or more and needs a clip folder (got {self.limit}).")
        if self.floor_objective not in OBJECTIVES:
            raise ConfigError(
                f"The floor objective {self.floor_objective!r} is not one of {', '.join(OBJECTIVES)}."
            )


@dataclass(frozen=True)
class Evaluation:
    """One evaluation's outcome, everything the front ends show.

    result: scores per grouping, ``result.samples`` (one per scored or skipped ground-truth sample) and
    ``result.skipped`` (name or file line -> reason). floor: the best constant answer over the samples
    ``result`` scored. mer_fg_floor: the same for the MER-FG score (the floor itself when its objective
    already is MER-FG's). tables: the grouping tables' name (``WheelTables.name``: edition and a short
    content hash). published: model -> column -> percent, empty where they do not apply.
    predictions: name -> predicted labels as read or analysed. predictions_csv / cache: the files written
    (None when none was).
    """

    request: EvalRequest
    result: EvalResult
    floor: Floor
    published: Mapping[str, Mapping[str, float]]
    predictions: Mapping[str, list[str]]
    predictions_csv: Path | None = None
    cache: Path | None = None
    mer_fg_floor: Floor | None = None
    tables: str = ""


def default_clip_cache(gt: PathLike, videos: PathLike, engine: str) -> Path:
    """``<cache>/eval-runs/<folder>-<engine>-<hash>.jsonl``: one resumable run per ground truth, folder and
    engine."""
    gt, videos = Path(gt), Path(videos)
    key = f"{gt.resolve()}|{videos.resolve()}|{engine}"
    run_id = f"{videos.name or 'clips'}-{engine}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    return default_cache_dir() / "eval-runs" / f"{run_id}.jsonl"


def _published(request: EvalRequest) -> dict[str, dict[str, float]]:
    """The published OV-MER baselines, beside OV-MERD scores only (or when a file is named explicitly)."""
    if request.published is None and request.gt.name != OVMERD_GT_NAME:
        return {}
    return runner.read_published(request.published)


def _described(progress: Progress | None, desc: str) -> Callable[[Iterable[T]], Iterable[T]] | None:
    return None if progress is None else (lambda items: progress(items, desc))


def _no_match(request: EvalRequest, result: EvalResult) -> EvaluationDataError:
    first = "; ".join(f"{k}: {v}" for k, v in list(result.skipped.items())[:1])
    return EvaluationDataError(
        f"no prediction matches a ground-truth sample of {request.gt} ({result.n_skipped} skipped; "
        f"first: {first})."
    )


def run_evaluation(
    request: EvalRequest,
    *,
    load_pipeline: Callable[[], runner.Pipeline] | None = None,
    make_extractor: Callable[[WheelTables], LabelExtractor] = RuleExtractor,
    progress: Progress | None = None,
    prefill: Callable[[list[str], Path], object] | None = None,
) -> Evaluation:
    """Score ``request``; raises ``EvaluationDataError`` (one sentence) for unusable files or no match.

    load_pipeline: called once for a clip folder, after the inputs are checked, so a bad path fails before
    the models load. make_extractor(tables): called for a predictions file, after the ground truth is read,
    gives what turns JSONL free text into labels (default: the rule extractor).
    prefill(names, cache): fills the per-clip cache before the sequential pass (the CLI's ``--ray``).
    """
    tables = load_wheels(request.wheels)
    truth = runner.read_ground_truth(request.gt)
    published = _published(request)
    if request.pred is not None:
        extractor = make_extractor(tables) if runner.is_free_text(request.pred) else None
        pred = runner.read_predictions(
            request.pred, extractor, progress=_described(progress, "extracting labels")
        )
        cache = None
    else:
        names = list(truth.labels)[: request.limit or None]
        if not request.videos.is_dir():
            raise EvaluationDataError(f"The clips folder {request.videos} does not exist.")
        if load_pipeline is None:
            raise ConfigError("An evaluation over a clip folder needs a pipeline to analyse the clips.")
        cache = request.cache
        if prefill is not None:
            prefill(names, cache)
        pred = runner.predict_clips(
            names, request.videos, load_pipeline(), cache, progress=_described(progress, "analysing clips")
        )
        truth = runner.Labelled({name: truth.labels[name] for name in names}, truth.problems)
    csv_path = request.predictions_csv
    if csv_path is None and cache is not None:
        csv_path = cache.with_name(cache.stem + "-predictions.csv")
    if csv_path is not None:
        runner.write_predictions_csv(csv_path, pred.labels)
    result = runner.evaluate(truth, pred, tables)
    if result.n_scored == 0:
        raise _no_match(request, result)
    floor = floor_of(result, truth.labels, tables, request.floor_objective)
    mer_fg_floor = floor if floor.objective != "M-avg" else floor_of(result, truth.labels, tables, "MER-FG")
    return Evaluation(
        request, result, floor, published, pred.labels, csv_path, cache, mer_fg_floor, tables.name
    )
