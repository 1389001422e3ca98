"""Evaluate tab: score predictions against OV-MERD ground truth with the EW metric, beside the published
baselines. Every path must lie inside the configured data directories (UIConfig.data_dirs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from omni_emotion.evaluation.floor import Floor
from omni_emotion.evaluation.metrics import EvalResult, SampleResult
from omni_emotion.evaluation.report import SCORE_COLUMNS, score_rows, scores_document
from omni_emotion.evaluation.session import EvalRequest, Evaluation, run_evaluation
from omni_emotion.evaluation.wheels import WHEEL_FILES
from omni_emotion.ui.config import list_allowed_files, resolve_allowed
from omni_emotion.ui.context import UIContext, user_errors
from omni_emotion.ui.tempfiles import call_dir

__all__ = ["METRIC_COLUMNS", "SOURCES", "build_evaluate_tab", "evaluate_request", "floor_summary",
           "metric_rows"]

METRIC_COLUMNS = ["model", *SCORE_COLUMNS]
SAMPLE_COLUMNS = ["name", "ground truth", "predicted", "F (mean of 12)", "status"]
SOURCES = ("Predictions file (CSV or JSONL)", "Run the engine on a clip folder")
JOURNAL = "predictions.jsonl"  # clip-folder mode's per-clip results, read back once: not a download


def _cell(value: float | None) -> float | str:
    return "" if value is None else round(value, 2)


def metric_rows(evaluation: Evaluation, ours: str) -> list[list[Any]]:
    """The shared score rows as dataframe rows: percent, 2 decimals, blank where a published table gives no
    value (it has no precision and recall, so no Avg)."""
    rows = []
    for row in score_rows(evaluation, ours):
        name = f"{row['model']} (published)" if row["kind"] == "published" else row["model"]
        rows.append([name, *(_cell(row[c]) for c in SCORE_COLUMNS)])
    return rows


def _sample_row(sample: SampleResult) -> list[Any]:
    f_mean = sample.f_mean
    return [sample.name, ", ".join(sample.truth), ", ".join(sample.pred or ()),
            "" if f_mean is None else round(100 * f_mean, 1), sample.skipped or "scored"]


def floor_summary(result: EvalResult, floor: Floor) -> str:
    """Our M-avg beside the floor's, in one Markdown sentence that says the floor saw the ground truth."""
    gap = 100 * (result.m_avg - floor.result.m_avg)
    return (f"Floor (the best constant answer, the same labels for every sample, chosen **with** this ground "
            f"truth, maximising {floor.objective}): **{', '.join(floor.labels) or 'none'}**, M-avg "
            f"**{100 * floor.result.m_avg:.2f}**, L1-avg **{100 * floor.result.l1_avg:.2f}**; this run is "
            f"**{gap:+.2f}** points M-avg from it.")


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
    progress(0.0, desc="reading the files")
    paths = {"gt": resolve_allowed(gt, dirs, kind="ground-truth CSV"),
             "wheels": resolve_allowed(wheels, dirs, kind="grouping-table folder", want_dir=True),
             "predictions_csv": out_dir / "predictions.csv"}
    if source == SOURCES[0]:
        request = EvalRequest(pred=resolve_allowed(pred_path, dirs, kind="predictions file"), **paths)
        label = request.pred.name
    else:
        request = EvalRequest(videos=resolve_allowed(clips, dirs, kind="clip folder", want_dir=True),
                              cache=out_dir / JOURNAL, limit=max(int(limit or 0), 0), **paths)
        label = f"omni-emotion ({ctx.pipeline.engine_name})"
    # the pipeline takes its own lock per clip, so live sessions keep being served between clips
    evaluation = run_evaluation(request, load_pipeline=lambda: ctx.pipeline,
                                progress=lambda items, desc: progress.tqdm(items, desc=desc))
    result, mer_fg_floor = evaluation.result, evaluation.mer_fg_floor or evaluation.floor
    scores = out_dir / "scores.json"
    scores.write_text(json.dumps(scores_document(evaluation), indent=2, ensure_ascii=False), encoding="utf-8")
    summary = (f"Scored **{result.n_scored}** samples, skipped **{result.n_skipped}**. "
               f"M-avg **{100 * result.m_avg:.2f}**, L1-avg **{100 * result.l1_avg:.2f}**, "
               f"MER-FG **{100 * result.mer_fg.score:.2f}** "
               f"(floor {100 * mer_fg_floor.result.mer_fg.score:.2f}), "
               f"Avg **{100 * result.avg:.2f}** (percent; grouping tables {evaluation.tables})."
               f"\n\n{floor_summary(result, evaluation.floor)}")
    return (summary, metric_rows(evaluation, label), [_sample_row(s) for s in result.samples],
            [str(evaluation.predictions_csv), str(scores)])


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
                     api_name="evaluate")
