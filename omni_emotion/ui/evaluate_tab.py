"""Evaluate tab: score predictions against OV-MERD ground truth with the EW metric, beside the published
baselines. Every path must lie inside the configured data directories (UIConfig.data_dirs)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from omni_emotion.errors import EvaluationDataError
from omni_emotion.evaluation.extract import RuleExtractor
from omni_emotion.evaluation.floor import Floor, floor_of
from omni_emotion.evaluation.metrics import EvalResult, f_score, map_labels, set_scores
from omni_emotion.evaluation.runner import (
    evaluate,
    predict_clips,
    read_ground_truth,
    read_predictions,
    read_published,
    write_predictions_csv,
)
from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS, WHEEL_FILES, WheelTables, load_wheels
from omni_emotion.ui.config import list_allowed_files, resolve_allowed
from omni_emotion.ui.context import ENGINE_CONCURRENCY_ID, UIContext, user_errors
from omni_emotion.ui.tempfiles import call_dir

__all__ = ["METRIC_COLUMNS", "SOURCES", "build_evaluate_tab", "evaluate_request", "floor_summary",
           "metric_rows", "sample_rows"]

METRIC_COLUMNS = ["model", *GROUPINGS, "M-avg", "L1-avg", "Avg"]
SAMPLE_COLUMNS = ["name", "ground truth", "predicted", "F (mean of 12)", "status"]
SOURCES = ("Predictions file (CSV or JSONL)", "Run the engine on a clip folder")
JOURNAL = "predictions.jsonl"  # clip-folder mode's per-clip results, read back once: not a download


def _score_row(name: str, result: EvalResult) -> list[Any]:
    return [name, *(round(100 * result.groupings[g].f_score, 2) for g in GROUPINGS),
            *(round(100 * value, 2) for value in (result.m_avg, result.l1_avg, result.avg))]


def metric_rows(result: EvalResult, published: Mapping[str, Mapping[str, float]], ours: str,
                floor: Floor | None = None) -> list[list[Any]]:
    """Our row (percent, 2 decimals) first, then the floor, then each published baseline; Avg = (precision +
    recall) / 2 over the 12 groupings, which the published table does not give (blank there)."""
    rows = [_score_row(ours, result)]
    if floor is not None:
        rows.append(_score_row(f"floor (best constant: {', '.join(floor.labels)})", floor.result))
    for model, scores in published.items():
        l1 = [scores[g] for g in L1_GROUPINGS if g in scores]
        rows.append([f"{model} (published)", *(scores.get(g, "") for g in GROUPINGS), scores.get("M-avg", ""),
                     round(sum(l1) / len(l1), 2) if len(l1) == len(L1_GROUPINGS) else "", ""])
    return rows


def floor_summary(result: EvalResult, floor: Floor) -> str:
    """Our M-avg beside the floor's, in one Markdown sentence that says the floor saw the ground truth."""
    gap = 100 * (result.m_avg - floor.result.m_avg)
    return (f"Floor (the best constant answer, the same labels for every sample, chosen **with** this ground "
            f"truth, maximising {floor.objective}): **{', '.join(floor.labels) or 'none'}**, M-avg "
            f"**{100 * floor.result.m_avg:.2f}**, L1-avg **{100 * floor.result.l1_avg:.2f}**; this run is "
            f"**{gap:+.2f}** points M-avg from it.")


def sample_rows(truth: Mapping[str, Sequence[str]], pred: Mapping[str, Sequence[str]], tables: WheelTables,
                skipped: Mapping[str, str]) -> list[list[Any]]:
    """One row per ground-truth sample: labels, the mean F over the 12 groupings, or why it was skipped."""
    rows = []
    for name, labels in truth.items():
        predicted = pred.get(name)
        if name in skipped or predicted is None:
            rows.append([name, ", ".join(labels), ", ".join(predicted or []), "", skipped.get(name, "no prediction")])
            continue
        fs = []
        for grouping in GROUPINGS:
            scores = set_scores(map_labels(labels, tables, grouping), map_labels(predicted, tables, grouping))
            if scores is not None:
                fs.append(f_score(*scores))
        rows.append([name, ", ".join(labels), ", ".join(predicted), round(100 * sum(fs) / len(fs), 1) if fs else "",
                     "scored" if fs else "not scored"])
    return rows


def _wheel_dirs(data_dirs: tuple[Path, ...]) -> list[str]:
    found = {str(Path(p).parent) for p in list_allowed_files(data_dirs, ("format.csv",))}
    return sorted(d for d in found if all((Path(d) / f).is_file() for f in WHEEL_FILES))


def evaluate_request(ctx: UIContext, gt: str, source: str, pred_path: str, clips: str, wheels: str,
                     limit: float, progress: Any) -> tuple:
    """The Evaluate button: (summary Markdown, metric rows, sample rows, [predictions CSV, scores JSON]).

    Paths must lie inside ``ctx.config.data_dirs``; ``progress`` is Gradio's (called, and ``.tqdm``).
    The two result files stay in a folder of the app's private folder (Gradio deletes them FILE_TTL_S after
    they were written); the clip-folder journal, with every explanation and transcript, goes when the request
    ends, and a failed request leaves nothing."""
    out_dir = call_dir("eval-")
    try:
        return _evaluate_into(out_dir, ctx, gt, source, pred_path, clips, wheels, limit, progress)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        (out_dir / JOURNAL).unlink(missing_ok=True)


def _evaluate_into(out_dir: Path, ctx: UIContext, gt: str, source: str, pred_path: str, clips: str,
                   wheels: str, limit: float, progress: Any) -> tuple:
    dirs = ctx.config.data_dirs
    progress(0.0, desc="reading the grouping tables")
    tables = load_wheels(resolve_allowed(wheels, dirs, kind="grouping-table folder", want_dir=True))
    truth = read_ground_truth(resolve_allowed(gt, dirs, kind="ground-truth CSV"))
    if source == SOURCES[0]:
        pred_file = resolve_allowed(pred_path, dirs, kind="predictions file")
        pred = read_predictions(pred_file, RuleExtractor(tables))
        label = f"{pred_file.name}"
    else:
        folder = resolve_allowed(clips, dirs, kind="clip folder", want_dir=True)
        names = list(truth.labels)[: int(limit)] if limit and limit > 0 else list(truth.labels)
        with ctx.live_models.analysis_lock:
            pred = predict_clips(names, folder, ctx.pipeline, out_dir / JOURNAL,
                                 progress=lambda it: progress.tqdm(it, desc="analysing clips"))
        truth.labels = {n: truth.labels[n] for n in names}
        label = f"omni-emotion ({ctx.pipeline.engine_name})"
    progress(0.95, desc="scoring")
    result = evaluate(truth, pred, tables)
    if not result.n_scored:
        raise EvaluationDataError("No sample could be scored: the prediction names do not match the ground truth.")
    floor = floor_of(result, truth.labels, tables)
    pred_csv = write_predictions_csv(out_dir / "predictions.csv", pred.labels)
    scores = out_dir / "scores.json"
    scores.write_text(json.dumps({"summary": result.summary(), "floor": floor.summary(),
                                  "skipped": dict(result.skipped),
                                  "groupings": {g: s.to_dict() for g, s in result.groupings.items()}},
                                 indent=2, ensure_ascii=False), encoding="utf-8")
    summary = (f"Scored **{result.n_scored}** samples, skipped **{result.n_skipped}**. "
               f"M-avg **{100 * result.m_avg:.2f}**, L1-avg **{100 * result.l1_avg:.2f}**, "
               f"Avg **{100 * result.avg:.2f}** (percent).\n\n{floor_summary(result, floor)}")
    return (summary, metric_rows(result, read_published(), label, floor),
            sample_rows(truth.labels, pred.labels, tables, result.skipped), [str(pred_csv), str(scores)])


def build_evaluate_tab(ctx: UIContext) -> None:
    dirs = ctx.config.data_dirs

    @user_errors
    def run(gt: str, source: str, pred_path: str, clips: str, wheels: str, limit: float,
            progress=gr.Progress()) -> tuple:  # noqa: B008 - how Gradio injects progress
        return evaluate_request(ctx, gt, source, pred_path, clips, wheels, limit, progress)

    csvs = list_allowed_files(dirs, (".csv",))
    preds = list_allowed_files(dirs, (".csv", ".jsonl", ".json"))
    wheel_dirs = _wheel_dirs(dirs)
    with gr.Tab("Evaluate", id="evaluate"):
        allowed = ", ".join(f"`{d}`" for d in dirs) or "none: start the app with `--data-dir DIR`"
        gr.Markdown(f"EMER-OV / OV-MERD evaluation with the emotion-wheel metric. Allowed data directories: {allowed}.")
        with gr.Row():
            gt = gr.Dropdown(csvs, value=next((c for c in csvs if c.endswith("check-openset.csv")), None),
                             label="Ground-truth CSV (name, openset)", allow_custom_value=True)
            wheels = gr.Dropdown(wheel_dirs, value=wheel_dirs[0] if wheel_dirs else None,
                                 label="Grouping tables folder (emotion_wheel)", allow_custom_value=True)
        source = gr.Radio(list(SOURCES), value=SOURCES[0], label="Predictions")
        with gr.Row():
            pred = gr.Dropdown(preds, label="Predictions CSV (name, openset) or JSONL (name, reason)",
                               allow_custom_value=True)
            clips = gr.Textbox(label="Clip folder (files named <name>.mp4 ...)", placeholder="a folder inside a data directory")
            limit = gr.Number(value=0, precision=0, label="Only the first N samples (0 = all)")
        button = gr.Button("Evaluate", variant="primary", elem_id="evaluate-button")
        summary = gr.Markdown()
        table = gr.Dataframe(headers=METRIC_COLUMNS, label="EW metric, percent (F-score per grouping); "
                             "the floor row is the best constant answer, chosen with the ground truth",
                             interactive=False, wrap=True)
        samples = gr.Dataframe(headers=SAMPLE_COLUMNS, label="Per-sample results", interactive=False, wrap=True,
                               max_height=400)
        files = gr.File(label="Download predictions and scores", file_count="multiple", interactive=False)
        button.click(run, [gt, source, pred, clips, wheels, limit], [summary, table, samples, files],
                     api_name="evaluate", concurrency_id=ENGINE_CONCURRENCY_ID, concurrency_limit=1)
