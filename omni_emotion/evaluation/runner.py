"""OV-MERD dataset runner: read ground truth and predictions (labels CSV, free-text JSONL, or an engine run
over a folder of clips), then score them with the EW metric.

Bad rows never stop an evaluation: each problem is recorded as ``key -> reason`` and counted in
``n_skipped``. Files that cannot be used at all raise ``EvaluationDataError`` (one sentence; exit 2 at the
CLI). Sample names are names, not paths: clips are looked up strictly inside the clip folder. CSV cells are
written neutralised against spreadsheet formulas and restored on reading (``csvcells``).
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from omni_emotion import safe_json
from omni_emotion.clip_files import clip_name_problem, find_clip
from omni_emotion.errors import EvaluationDataError, JSONInputError
from omni_emotion.evaluation.csvcells import restore_cell, write_csv
from omni_emotion.evaluation.metrics import EvalResult, score_dataset
from omni_emotion.evaluation.wheels import GROUPINGS, WheelTables
from omni_emotion.mentions import LabelExtractor, parse_labels
from omni_emotion.paths import shared_dir

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_ROWS",
    "Labelled",
    "clip_name_problem",
    "default_published_path",
    "evaluate",
    "find_clip",
    "is_free_text",
    "predict_clips",
    "read_ground_truth",
    "read_predictions",
    "read_published",
    "write_predictions_csv",
]

log = logging.getLogger(__name__)

_LABEL_COLUMNS = ("openset", "labels", "label")
MAX_ROWS = 100_000  # rows (or JSONL lines) per file: scoring holds every sample's result, ~6 KB each
MAX_CELL_CHARS = 131_072  # characters per line, as csv's default cell limit: a longer row is skipped
_FREE_TEXT_SUFFIXES = (".jsonl", ".json", ".ndjson")


@dataclass
class Labelled:
    """name -> lowercase labels, plus the rows that could not be used (key -> reason)."""

    labels: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def _open_text(path: Path, what: str):
    if not path.is_file():
        raise EvaluationDataError(f"The {what} file {path} does not exist.")
    try:
        return open(path, newline="", encoding="utf-8-sig")
    except OSError as err:
        raise EvaluationDataError(f"The {what} file {path} cannot be read ({err.strerror}).") from err


def _bounded_lines(handle, what: str, path: Path, out: Labelled) -> Iterator[str]:
    """The file's lines, never holding more than one cell's limit in memory: a line longer than
    ``MAX_CELL_CHARS`` is skipped with its reason, like other bad rows; past ``MAX_ROWS`` lines the file is
    refused (memory grows with the samples scored)."""
    number = 0
    while True:
        line = handle.readline(MAX_CELL_CHARS + 2)
        if not line:
            return
        number += 1
        if number > MAX_ROWS + 1:  # the header is line 1
            raise EvaluationDataError(
                f"The {what} file {path} has more than {MAX_ROWS:,} rows, the most one"
                " evaluation reads; split it into parts and score each."
            )
        if len(line) > MAX_CELL_CHARS and not line.endswith("\n"):
            while line and not line.endswith("\n"):  # the rest of the over-long line, read and dropped
                line = handle.readline(MAX_CELL_CHARS + 2)
            out.problems[f"{what} line {number}"] = f"a line longer than {MAX_CELL_CHARS:,} characters"
            yield "\n"  # a blank line keeps the reader's line numbers; DictReader skips it
            continue
        yield line


def _read_label_csv(path: Path, what: str) -> Labelled:
    out = Labelled()
    with _open_text(path, what) as handle:
        try:
            reader = csv.DictReader(_bounded_lines(handle, what, path, out))
            fields = [f.strip() for f in reader.fieldnames or []]
            column = next((c for c in _LABEL_COLUMNS if c in fields), None)
            if "name" not in fields or column is None:
                raise EvaluationDataError(
                    f"The {what} file {path} needs a 'name' column and an 'openset' column, "
                    f"found {fields or 'none'}."
                )
            reader.fieldnames = fields
            for row in reader:
                line = reader.line_num
                name = restore_cell((row.get("name") or "").strip())
                value = row.get(column)
                value = None if value is None else restore_cell(value.strip())
                if not name:
                    out.problems[f"{what} line {line}"] = "row without a name"
                elif name in out.labels or name in out.problems:
                    out.problems[f"{what} line {line}"] = f"duplicate row for {name} (the first one is used)"
                elif value is None or not value.strip():
                    out.problems[name] = f"empty label string in the {what} file (line {line})"
                else:
                    out.labels[name] = parse_labels(value)
        except (csv.Error, UnicodeDecodeError) as err:
            raise EvaluationDataError(f"The {what} file {path} is not a readable CSV file ({err}).") from err
    if not out.labels:
        raise EvaluationDataError(f"The {what} file {path} has no usable rows.")
    return out


def read_ground_truth(path: str | os.PathLike[str]) -> Labelled:
    """GT CSV (``name,openset``) -> labels per sample; nameless, duplicate or empty rows are reported."""
    return _read_label_csv(Path(path), "ground-truth")


def _parse_json_line(line: str) -> tuple[Any, str | None]:
    """(value, None), or (None, why the line is unusable); hostile lines must not become tracebacks."""
    try:
        return safe_json.loads(line), None
    except JSONInputError as err:
        return None, str(err)


def _record_name(record: Any) -> str:
    """The record's name as text; "" when there is none or it is not a string or an integer."""
    name = record.get("name") if isinstance(record, dict) else None
    if isinstance(name, bool) or not isinstance(name, (str, int)):
        return ""
    return str(name).strip()


def _label_list(value: Any) -> list[str] | None:
    """Labels from a list-like string or a flat list of strings; None for anything else (nested lists)."""
    if isinstance(value, str):
        return parse_labels(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return parse_labels(value)
    return None


def is_free_text(path: str | os.PathLike[str]) -> bool:
    """True when ``read_predictions`` reads ``path`` as JSONL (free text or labels), not as a labels CSV."""
    return Path(path).suffix.lower() in _FREE_TEXT_SUFFIXES


def read_predictions(
    path: str | os.PathLike[str],
    extractor: LabelExtractor | None = None,
    *,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> Labelled:
    """Predictions from a CSV (``name,openset``) or a JSONL of ``{"name", "reason"}`` free text.

    JSONL lines may carry ``"labels"`` (a list or list-like string) instead of ``"reason"``; free text is
    turned into labels with ``extractor`` (required when any line has only a reason). ``progress`` wraps the
    iteration over JSONL lines (e.g. ``tqdm``, for a slow LLM extractor).
    """
    path = Path(path)
    if not is_free_text(path):
        return _read_label_csv(path, "prediction")
    out = Labelled()
    with _open_text(path, "prediction") as handle:  # streamed: only the labels stay in memory
        lines = enumerate(_bounded_lines(handle, "prediction", path, out), start=1)
        try:
            for number, line in progress(lines) if progress else lines:
                _read_prediction_line(out, number, line, extractor, path)
        except UnicodeDecodeError as err:
            raise EvaluationDataError(f"The prediction file {path} is not UTF-8 text ({err}).") from err
    if not out.labels:
        raise EvaluationDataError(f"The prediction file {path} has no usable lines.")
    return out


def _read_prediction_line(
    out: Labelled, number: int, line: str, extractor: LabelExtractor | None, path: Path
) -> None:
    """One JSONL line into ``out``: its labels, or the reason it is unusable."""
    if not line.strip():
        return
    record, problem = _parse_json_line(line)
    name = _record_name(record)
    if problem or not name:
        out.problems[f"prediction line {number}"] = problem or "line without a name"
        return
    if name in out.labels or name in out.problems:
        out.problems[f"prediction line {number}"] = f"duplicate line for {name} (the first one is used)"
        return
    if record.get("labels") is not None:
        labels = _label_list(record["labels"])
        if labels is None:
            out.problems[name] = f"labels are not a list of strings (prediction line {number})"
        else:
            out.labels[name] = labels
    elif isinstance(record.get("reason"), str) and record["reason"].strip():
        if extractor is None:
            raise EvaluationDataError(f"{path} holds free text but no label extractor was given.")
        out.labels[name] = [label.strip().lower() for label in extractor.extract(record["reason"])]
    else:
        out.problems[name] = f"empty reason and no labels (prediction line {number})"


class Pipeline(Protocol):
    """What the engine runner needs from ``omni_emotion.pipeline.EmotionPipeline``."""

    def analyze_file(self, path: str | os.PathLike[str], progress: Any = None) -> Any: ...


def _read_cache(cache: Path) -> dict[str, dict[str, Any]]:
    """The cached records by name; a cache that is not a results file is refused before it is appended to."""
    from omni_emotion.jobs.sinks import read_records

    return {name: record for record in read_records(cache) if (name := _record_name(record))}


def predict_clips(
    names: Iterable[str],
    videos: str | os.PathLike[str],
    pipeline: Pipeline,
    cache: str | os.PathLike[str],
    *,
    progress: Callable[[Iterable[str]], Iterable[str]] | None = None,
) -> Labelled:
    """Run ``pipeline.analyze_file`` on ``videos/<name>.<ext>`` for each name, resumably.

    Each finished clip is appended to the JSONL ``cache`` at once (``{"name", "labels", "reason",
    "engine"}`` or ``{"name", "error"}``), so an interrupted run resumes where it stopped. Missing clips and
    clips the pipeline rejects (``OmniEmotionError``) become problems; missing clips are not cached, so a
    later run picks them up once they are in the folder. Names that are paths, and clips that link outside
    ``videos``, are refused (problems, never analysed). Only ``names`` come back, whatever the cache holds.
    ``progress`` wraps the name iterator (e.g. ``tqdm``).
    """
    folder, cache = Path(videos), Path(cache)
    if not folder.is_dir():
        raise EvaluationDataError(f"The clips folder {folder} does not exist.")
    wanted = list(dict.fromkeys(names))
    refused = {name: f"refused: the name {why}" for name in wanted if (why := clip_name_problem(name))}
    from omni_emotion.jobs.run import analyze_one
    from omni_emotion.jobs.sinks import JsonlSink, eval_record

    done = _read_cache(cache)
    todo = [name for name in wanted if name not in done and name not in refused]
    with JsonlSink(cache, key="name") as sink:  # the same records as a Ray run writes into this cache
        for name in progress(todo) if progress else todo:
            try:
                clip = find_clip(folder, name)
            except EvaluationDataError as err:
                refused[name] = f"refused: {err}"
                continue
            if clip is None:
                refused[name] = f"clip failed: no clip named {name}.* in {folder}"
                continue
            record = eval_record(analyze_one(pipeline, name, clip))
            sink.write(record)
            done[name] = record
    return _clip_results(wanted, done, refused)


def _clip_results(
    names: list[str], done: Mapping[str, dict[str, Any]], refused: Mapping[str, str]
) -> Labelled:
    out = Labelled()
    for name in names:
        record = done.get(name, {})
        labels = _label_list(record.get("labels") or [])
        if name in refused:
            out.problems[name] = refused[name]
        elif "error" in record:
            out.problems[name] = f"clip failed: {record['error']}"
        elif labels is None:
            out.problems[name] = "the cached result has no list of labels"
        else:
            out.labels[name] = labels
    return out


def write_predictions_csv(path: str | os.PathLike[str], labels: Mapping[str, list[str]]) -> Path:
    """Write ``name,openset`` rows (the format ``--pred`` reads back), cells neutralised (``csvcells``)."""
    rows = ([name, "[" + ", ".join(labels_) + "]"] for name, labels_ in labels.items())
    return write_csv(path, ["name", "openset"], rows)


def evaluate(truth: Labelled, pred: Labelled, tables: WheelTables) -> EvalResult:
    """Score ``pred`` against ``truth``; problems of both files and unknown prediction names are skipped."""
    problems = dict(truth.problems)
    for key, reason in pred.problems.items():
        if key in truth.labels or key not in problems:
            problems[key] = reason
    for name in pred.labels:
        if name not in truth.labels and name not in truth.problems:
            problems[f"prediction {name}"] = "name not in the ground truth"
    usable_pred = {name: labels for name, labels in pred.labels.items() if name in truth.labels}
    return score_dataset(truth.labels, usable_pred, tables, skipped=problems)


def default_published_path() -> Path:
    """``data/ovmerd/published_table4.csv`` in the shared folder (``omni_emotion.paths.shared_dir``)."""
    return shared_dir() / "data" / "ovmerd" / "published_table4.csv"


def read_published(path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, float]]:
    """Published EW scores (percent) per model. The default file may be absent or unreadable (empty result,
    a warning); a file the user names must exist and hold rows of ``model`` plus every score column."""
    explicit = path is not None
    path = Path(path) if path else default_published_path()
    what = f"The published-scores file {path}"
    if not path.is_file():
        if explicit:
            raise EvaluationDataError(f"{what} does not exist.")
        return {}
    table: dict[str, dict[str, float]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                scores = {col: float(row[col]) for col in (*GROUPINGS, "M-avg") if row.get(col)}
                if row.get("model") and len(scores) == len(GROUPINGS) + 1:
                    table[row["model"]] = scores
    except (OSError, ValueError, csv.Error, UnicodeDecodeError) as err:
        if explicit:
            raise EvaluationDataError(f"{what} is not a readable scores CSV ({err}).") from err
        log.warning("ignoring published baselines %s (%s)", path, err)
        return {}
    if explicit and not table:
        raise EvaluationDataError(
            f"{what} has no row with a 'model' column and all of {', '.join((*GROUPINGS, 'M-avg'))}."
        )
    return table
