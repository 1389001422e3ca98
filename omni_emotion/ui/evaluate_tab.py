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
from omni_emotion.evaluation.report import score_rows, scores_document
from omni_emotion.evaluation.session import EvalRequest, Evaluation, run_evaluation
from omni_emotion.evaluation.wheels import GROUPINGS, WHEEL_FILES
from omni_emotion.ui.config import list_allowed_files, resolve_allowed
from omni_emotion.ui.context import UIContext, user_errors
from omni_emotion.ui.tempfiles import call_dir

__all__ = [
    "LEGEND",
    "METRIC_COLUMNS",
    "SOURCES",
    "build_evaluate_tab",
    "evaluate_request",
    "floor_summary",
    "metric_rows",
    "metric_table",
    "prediction_files",
]

# The score table's columns, left to right: the summaries first, so they are in view at any width. Each
# name is a key of evaluation.report.score_rows' rows; a new score is one more name here.
METRIC_COLUMNS = ["model", "M-avg", "L1-avg", "MER-FG", "Avg", *GROUPINGS]
SAMPLE_COLUMNS = ["name", "ground truth", "predicted", "F (mean of 12)", "status"]
SOURCES = ("Predictions file (CSV or JSONL)", "Run the engine on a clip folder")
JOURNAL = "predictions.jsonl"  # clip-folder mode's per-clip results, read back once: not a download
LEGEND = (
    "F-score (percent) of the predicted label set against the true one, after mapping both to groups: "
    "**M1** word forms (happy, happiness), **M2** synonyms, **Wk-Lj** emotion wheel k (of 5) at "
    "level j (L1 the wheel's inner ring of core emotions, L2 its finer outer ring). **M-avg** is the "
    "mean of all 12, **L1-avg** the mean of the five wheels at L1, **Avg** (precision + recall) / 2 "
    "over the 12. Published rows give F only, so their Avg is blank."
)
# Rows of this run and of the floor stand out from the published baselines (background, text colour).
HIGHLIGHT = {"ours": ("#dcfce7", "#14532d"), "floor": ("#fef3c7", "#78350f")}
# Ground-truth and table files that sit beside predictions in the data folders: never offered as predictions.
TABLE_FILES = ("format.csv", "published_table4.csv")
NOT_PREDICTIONS = (*TABLE_FILES, "gt.csv")


def _cell(value: float | None) -> float | str:
    return "" if value is None else round(value, 2)


def _ranked(evaluation: Evaluation, ours: str) -> list[dict[str, Any]]:
    """score_rows, best M-avg first (this run and the floor included)."""
    return sorted(score_rows(evaluation, ours), key=lambda row: -(row["M-avg"] or 0.0))


def metric_rows(evaluation: Evaluation, ours: str) -> list[list[Any]]:
    """The shared score rows as dataframe rows in ``METRIC_COLUMNS`` order, best M-avg first: percent,
    2 decimals, blank where a published table gives no value (it has no precision and recall, so no Avg)."""
    rows = []
    for row in _ranked(evaluation, ours):
        name = f"{row['model']} (published)" if row["kind"] == "published" else row["model"]
        rows.append([name, *(_cell(row[c]) for c in METRIC_COLUMNS[1:])])
    return rows


def metric_table(evaluation: Evaluation, ours: str):
    """``metric_rows`` as a pandas Styler: this run's row and the floor's highlighted, two decimals."""
    import pandas as pd

    kinds = [row["kind"] for row in _ranked(evaluation, ours)]
    frame = pd.DataFrame(metric_rows(evaluation, ours), columns=METRIC_COLUMNS)

    def paint(row: pd.Series) -> list[str]:
        colours = HIGHLIGHT.get(kinds[row.name])
        style = f"background-color: {colours[0]}; color: {colours[1]}; font-weight: 600" if colours else ""
        return [style] * len(row)

    return frame.style.apply(paint, axis=1).format(precision=2)


def _first_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline(4096)
    except OSError:
        return ""


def is_prediction_file(path: str) -> bool:
    """A file the Predictions list may offer: a CSV whose header has ``name`` and ``openset``, or a JSONL
    whose first record has a ``name``; never a known ground-truth or table file (``gt.csv``,
    ``check-*.csv``, ``format.csv``, ``published_table4.csv``), which share that header or sit beside them."""
    name = Path(path).name.lower()
    if name in NOT_PREDICTIONS or name.startswith("check-"):
        return False
    head = _first_line(path)
    if name.endswith(".csv"):
        columns = {c.strip().strip('"').lower() for c in head.split(",")}
        return {"name", "openset"} <= columns
    if name.endswith(".jsonl"):
        try:
            first = json.loads(head)
        except ValueError:
            return False
        return isinstance(first, dict) and "name" in first
    return False


def prediction_files(data_dirs: tuple[Path, ...]) -> list[str]:
    return [p for p in list_allowed_files(data_dirs, (".csv", ".jsonl")) if is_prediction_file(p)]


def _ours_name(pred: Path) -> str:
    """Our row's name: the predictions' folder beside the file's name, since every baseline's file is
    called openset.csv."""
    return f"{pred.parent.name}/{pred.name} (this run)"


def _sample_row(sample: SampleResult) -> list[Any]:
    f_mean = sample.f_mean
    return [
        sample.name,
        ", ".join(sample.truth),
        ", ".join(sample.pred or ()),
        "" if f_mean is None else round(100 * f_mean, 1),
        sample.skipped or "scored",
    ]


def floor_summary(result: EvalResult, floor: Floor) -> str:
    """Our M-avg beside the floor's, in one Markdown sentence that says the floor saw the ground truth."""
    gap = 100 * (result.m_avg - floor.result.m_avg)
    return (
        f"Floor (the best constant answer, the same labels for every sample, chosen **with** this ground "
        f"truth, maximising {floor.objective}): **{', '.join(floor.labels) or 'none'}**, M-avg "
        f"**{100 * floor.result.m_avg:.2f}**, L1-avg **{100 * floor.result.l1_avg:.2f}**; this run is "
        f"**{gap:+.2f}** points M-avg from it."
    )


def _wheel_dirs(data_dirs: tuple[Path, ...]) -> list[str]:
    found = {str(Path(p).parent) for p in list_allowed_files(data_dirs, ("format.csv",))}
    return sorted(d for d in found if all((Path(d) / f).is_file() for f in WHEEL_FILES))


def evaluate_request(
    ctx: UIContext, gt: str, source: str, pred_path: str, clips: str, wheels: str, limit: float, progress: Any
) -> tuple:
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


def _evaluate_into(
    out_dir: Path,
    ctx: UIContext,
    gt: str,
    source: str,
    pred_path: str,
    clips: str,
    wheels: str,
    limit: float,
    progress: Any,
) -> tuple:
    dirs = ctx.config.data_dirs
    progress(0.0, desc="reading the files")
    paths = {
        "gt": resolve_allowed(gt, dirs, kind="ground-truth CSV"),
        "wheels": resolve_allowed(wheels, dirs, kind="grouping-table folder", want_dir=True),
        "predictions_csv": out_dir / "predictions.csv",
    }
    if source == SOURCES[0]:
        request = EvalRequest(pred=resolve_allowed(pred_path, dirs, kind="predictions file"), **paths)
        label = _ours_name(request.pred)
    else:
        request = EvalRequest(
            videos=resolve_allowed(clips, dirs, kind="clip folder", want_dir=True),
            cache=out_dir / JOURNAL,
            limit=max(int(limit or 0), 0),
            **paths,
        )
        label = f"omni-emotion ({ctx.pipeline.engine_name}, this run)"
    # the pipeline takes its own lock per clip, so live sessions keep being served between clips
    evaluation = run_evaluation(
        request,
        load_pipeline=lambda: ctx.pipeline,
        progress=lambda items, desc: progress.tqdm(items, desc=desc),
    )
    result, mer_fg_floor = evaluation.result, evaluation.mer_fg_floor or evaluation.floor
    scores = out_dir / "scores.json"
    scores.write_text(json.dumps(scores_document(evaluation), indent=2, ensure_ascii=False), encoding="utf-8")
    summary = (
        f"Scored **{result.n_scored}** samples, skipped **{result.n_skipped}**. "
        f"M-avg **{100 * result.m_avg:.2f}**, L1-avg **{100 * result.l1_avg:.2f}**, "
        f"MER-FG **{100 * result.mer_fg.score:.2f}** "
        f"(floor {100 * mer_fg_floor.result.mer_fg.score:.2f}), "
        f"Avg **{100 * result.avg:.2f}** (percent; grouping tables {evaluation.tables})."
        f"\n\n{floor_summary(result, evaluation.floor)}"
    )
    return (
        summary,
        metric_table(evaluation, label),
        [_sample_row(s) for s in result.samples],
        [str(evaluation.predictions_csv), str(scores)],
    )


def build_evaluate_tab(ctx: UIContext) -> None:
    dirs = ctx.config.data_dirs

    @user_errors
    def run(
        gt: str, source: str, pred_path: str, clips: str, wheels: str, limit: float, progress=gr.Progress()
    ) -> tuple:
        return evaluate_request(ctx, gt, source, pred_path, clips, wheels, limit, progress)

    csvs = [c for c in list_allowed_files(dirs, (".csv",)) if Path(c).name.lower() not in TABLE_FILES]
    preds = prediction_files(dirs)
    gt_default = next((c for c in csvs if c.endswith("check-openset.csv")), None)
    # the first predictions beside the default ground truth: the defaults then score a published baseline
    near = str(Path(gt_default).parent) + "/" if gt_default else None
    pred_default = next((p for p in preds if near and p.startswith(near)), None)
    wheel_dirs = _wheel_dirs(dirs)
    with gr.Tab("Evaluate", id="evaluate"):
        allowed = ", ".join(f"`{d}`" for d in dirs) or "none: start the app with `--data-dir DIR`"
        gr.Markdown(
            f"EMER-OV / OV-MERD evaluation with the emotion-wheel metric. Allowed data directories: {allowed}."
        )
        with gr.Row():
            gt = gr.Dropdown(
                csvs, value=gt_default, label="Ground-truth CSV (name, openset)", allow_custom_value=True
            )
            wheels = gr.Dropdown(
                wheel_dirs,
                value=wheel_dirs[0] if wheel_dirs else None,
                label="Grouping tables folder (emotion_wheel)",
                allow_custom_value=True,
            )
        source = gr.Radio(list(SOURCES), value=SOURCES[0], label="Predictions")
        with gr.Row():
            pred = gr.Dropdown(
                preds,
                value=pred_default,
                allow_custom_value=True,
                label="Predictions CSV (name, openset) or JSONL (name, reason)",
            )
            clips = gr.Textbox(
                label="Clip folder (each clip named <name> from the ground truth, with any "
                "video or audio suffix: .mp4, .wav, ...)",
                visible=False,
                placeholder="a folder inside a data directory",
            )
            limit = gr.Number(value=0, precision=0, label="Only the first N samples (0 = all)", visible=False)
        button = gr.Button("Evaluate", variant="primary", elem_id="evaluate-button")
        summary = gr.Markdown(elem_id="evaluate-summary")
        table = gr.Dataframe(
            headers=METRIC_COLUMNS,
            interactive=False,
            wrap=True,
            elem_id="evaluate-table",
            label="EW metric, percent, best M-avg first; this run in green, the floor (the "
            "best constant answer, chosen with the ground truth) in amber",
        )
        gr.Markdown(LEGEND, elem_id="evaluate-legend")
        samples = gr.Dataframe(
            headers=SAMPLE_COLUMNS, label="Per-sample results", interactive=False, wrap=True, max_height=400
        )
        files = gr.File(label="Download predictions and scores", file_count="multiple", interactive=False)

        def switch(mode: str) -> tuple:
            by_file = mode == SOURCES[0]
            return gr.update(visible=by_file), gr.update(visible=not by_file), gr.update(visible=not by_file)

        source.change(switch, source, [pred, clips, limit], api_visibility="private", queue=False)
        # one progress bar, on the summary, instead of one over every output
        button.click(
            run,
            [gt, source, pred, clips, wheels, limit],
            [summary, table, samples, files],
            api_name="evaluate",
            show_progress_on=[summary],
        )
