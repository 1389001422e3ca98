"""``omni-emotion eval``: score predictions (or an engine run) on OV-MERD / EMER-OV with the EW metric."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from omni_emotion.cli.options import add_pipeline_arguments, add_ray_arguments, pipeline_spec
from omni_emotion.errors import ConfigError
from omni_emotion.evaluation.floor import OBJECTIVES, Floor
from omni_emotion.evaluation.report import json_summary, score_rows
from omni_emotion.evaluation.session import EvalRequest, Evaluation, default_clip_cache, run_evaluation
from omni_emotion.evaluation.wheels import GROUPINGS, WheelTables
from omni_emotion.mentions import LabelExtractor, LLMExtractor, RuleExtractor

__all__ = ["floor_note", "format_table", "register", "run"]

MAX_LISTED_PROBLEMS = 10
TEXT_COLUMNS = (*GROUPINGS, "M-avg")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score emotion predictions on OV-MERD / EMER-OV (emotion-wheel metric)",
        description=(
            "Score predicted open-vocabulary labels against ground truth with the OV-MER emotion-wheel "
            "metric (M1, M2, five wheels at L1/L2; M-avg) and MER2026 Track 2's MER-FG (mean level-1 F1 of "
            "the five wheels). The table shows percent; --json prints fractions 0..1."
        ),
    )
    p.add_argument("--gt", help="ground-truth CSV with columns name,openset (e.g. check-openset.csv)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--pred", help="predictions: CSV name,openset, or JSONL of {name, reason} free text")
    src.add_argument("--videos", help="folder of clips <name>.<ext> to run an engine on instead of --pred")
    p.add_argument(
        "--extractor",
        default="rule",
        choices=("rule", "llm"),
        help="how labels are read from JSONL free text: rule (deterministic, default) or llm (the "
        "benchmark authors' extraction prompt, answered by the server at --llm-url, else by the omni model, "
        "which needs its weights and, by default, a CUDA GPU)",
    )
    p.add_argument(
        "--llm-url",
        help="for --extractor llm: an OpenAI-compatible server's API root, e.g. http://127.0.0.1:8000/v1 "
        "(vllm serve Qwen/Qwen2.5-7B-Instruct: the authors extract with Qwen2.5)",
    )
    p.add_argument("--llm-model", default="", help="the served model's name (default: the server's first)")
    add_pipeline_arguments(
        p.add_argument_group("the pipeline for --videos"),
        device_help="torch device (cpu, cuda, cuda:0); default cpu for --videos, cuda for --extractor llm",
    )
    p.add_argument(
        "--wheels",
        help="folder with format.csv, synonym.xlsx, wheel1..5.xlsx (default: the cache): OV-MER's "
        "emotion_wheel or MER2026's emotion_wheel_mer2026 (revised word forms; the output names which)",
    )
    p.add_argument(
        "--cache", help="resumable JSONL of per-clip results for --videos (default: under the cache)"
    )
    p.add_argument("--out", help="where --videos writes its predictions CSV (default: beside --cache)")
    p.add_argument(
        "--published",
        help="CSV of published baseline scores to print beside ours (default: ../shared/data/ovmerd/..., shown "
        "only when --gt is OV-MERD's check-openset.csv: other ground truths were never scored by them)",
    )
    p.add_argument(
        "--floor-objective",
        default="M-avg",
        choices=OBJECTIVES,
        help="what the floor (the best constant answer for this ground truth) maximises (default M-avg)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object (fractions 0..1) on the last line"
    )
    p.add_argument(
        "--download", action="store_true", help="download the grouping tables into --wheels or the cache"
    )
    add_ray_arguments(p)  # --ray [ADDRESS], --actors, --cpus-per-actor, --gpus-per-actor (for --videos)
    p.set_defaults(func=run)


def floor_note(floor: Floor) -> str:
    """One sentence saying what the floor is and that it was chosen with the ground truth."""
    return (
        f"floor: the best constant answer, the same labels for every sample, chosen WITH this ground truth "
        f"(greedy over its most frequent labels, maximising {floor.objective}); a score below it is no "
        "better than guessing those labels."
    )


def _row_line(row: dict, width: int) -> str:
    return f"{row['model']:<{width}}" + "".join(f"{row[c]:>7.2f}" for c in TEXT_COLUMNS)


def format_table(evaluation: Evaluation, label: str) -> str:
    """Our scores, then the floor, beside the published baselines, in percent, one model per row (like
    OV-MER Table 4), then the means, the floor's sentence and the skipped samples."""
    result, floor = evaluation.result, evaluation.floor
    rows = score_rows(evaluation, label)
    width = max([*(len(row["model"]) for row in rows), 5]) + 1
    lines = [f"{'model':<{width}}" + "".join(f"{c:>7}" for c in TEXT_COLUMNS)]
    lines += [_row_line(row, width) for row in rows if row["kind"] != "published"]
    published = [row for row in rows if row["kind"] == "published"]
    if published:
        lines.append("-" * len(lines[0]) + "  published (OV-MER Table 4)")
        lines += [_row_line(row, width) for row in published]
    lines.append("")
    fg, fg_floor = result.mer_fg, (evaluation.mer_fg_floor or floor)
    lines.append(
        f"L1-avg {result.l1_avg * 100:.2f}   precision {result.precision * 100:.2f}   recall "
        f"{result.recall * 100:.2f}   avg {result.avg * 100:.2f}   (means over the 12 groupings)"
    )
    lines.append(
        f"MER-FG {fg.score * 100:.2f}   precision {fg.precision * 100:.2f}   recall {fg.recall * 100:.2f}"
        "   (MER2026 Track 2: means over the five wheels at level 1)"
    )
    lines.append(
        f"floor  L1-avg {floor.result.l1_avg * 100:.2f}   precision {floor.result.precision * 100:.2f}"
        f"   recall {floor.result.recall * 100:.2f}   avg {floor.result.avg * 100:.2f}"
    )
    lines.append(
        f"floor  MER-FG {fg_floor.result.mer_fg.score * 100:.2f}   (best constant for MER-FG: "
        f"{', '.join(fg_floor.labels) or 'none'})"
    )
    hint = (
        ""
        if evaluation.tables.startswith("mer2026")
        else ("   (MER2026's own MER-FG needs its tables: --wheels .../emotion_wheel_mer2026)")
    )
    lines.append(f"grouping tables: {evaluation.tables}{hint}")
    lines.append(floor_note(floor))
    lines.append(f"scored {result.n_scored} samples, skipped {result.n_skipped}")
    for key, reason in list(result.skipped.items())[:MAX_LISTED_PROBLEMS]:
        lines.append(f"  skipped {key}: {reason}")
    if result.n_skipped > MAX_LISTED_PROBLEMS:
        lines.append(f"  ... and {result.n_skipped - MAX_LISTED_PROBLEMS} more")
    return "\n".join(lines)


def _llm_extractor(args: argparse.Namespace) -> LLMExtractor:
    """LLM extraction by the server at ``--llm-url``, else by the omni model's text-only generation (loads the
    model: minutes for 7B)."""
    if args.llm_url:
        from omni_emotion.evaluation.llm_server import ChatServer

        server = ChatServer(args.llm_url, args.llm_model)
        return LLMExtractor(replace(server, model=server.served_model()))  # asks for the model name once
    from omni_emotion.engines.omni import OmniEngine
    from omni_emotion.paths import weights_dir as default_weights_dir

    engine = OmniEngine.load(args.weights_dir or default_weights_dir(), device=args.device or "cuda")
    return LLMExtractor(engine.generate_text)


def _label(args: argparse.Namespace) -> str:
    """Our row's name: the predictions file's model (shared baselines are <Model>/openset.csv and
    <Model>/reasons.jsonl), or the engine that analysed the clips."""
    if args.videos:
        return f"ours ({args.engine})"
    pred = Path(args.pred)
    label = "ours: " + (pred.parent.name if pred.stem in ("openset", "reasons") else pred.stem)
    return label + (" (llm extraction)" if args.extractor == "llm" else "")


def _request(args: argparse.Namespace) -> EvalRequest:
    cache = None
    if args.videos:
        cache = Path(args.cache) if args.cache else default_clip_cache(args.gt, args.videos, args.engine)
    return EvalRequest(
        gt=args.gt,
        pred=args.pred,
        videos=args.videos,
        wheels=args.wheels,
        cache=cache,
        predictions_csv=args.out if args.videos else None,
        floor_objective=args.floor_objective,
        published=args.published,
    )


def _clip_analysis(args: argparse.Namespace, pipeline) -> tuple[Callable[[], Any], Callable | None]:
    """(load_pipeline, prefill) for ``run_evaluation``; ``pipeline`` is injected by tests."""
    if args.ray is not None:
        from omni_emotion.cli.options import ray_config, tqdm_progress
        from omni_emotion.jobs.folder import LazyPipeline, analyze_eval_clips

        # Ray analyses the clips into the same cache; the sequential pass then finds them all done
        spec = pipeline_spec(args)

        def prefill(names: list[str], cache: Path) -> None:
            job = analyze_eval_clips(
                names, args.videos, cache, spec, ray_config(args), progress=tqdm_progress
            )
            print(job.line(), file=sys.stderr)

        return partial(LazyPipeline, spec), prefill
    if pipeline is not None:
        return (lambda: pipeline), None

    return pipeline_spec(args).create, None


def _tqdm(items, desc: str):
    from tqdm import tqdm

    from omni_emotion.console import interactive

    return tqdm(items, desc=desc, file=sys.stderr, disable=not interactive())


def run(args: argparse.Namespace, *, pipeline=None, stdout: TextIO | None = None) -> int:
    """The ``eval`` command; ``pipeline`` replaces ``EmotionPipeline.create(...)`` for --videos (tests)."""
    from omni_emotion.evaluation import runner

    out = stdout or sys.stdout
    if args.download:
        from omni_emotion.evaluation.download import download_wheels

        print(f"grouping tables saved in {download_wheels(args.wheels)}", file=out)
        if not args.gt:
            return 0
    if not args.gt or not (args.pred or args.videos):
        raise ConfigError("eval needs --gt GT.csv and either --pred PRED or --videos DIR (or --download).")
    if args.extractor == "llm" and not (args.pred and runner.is_free_text(args.pred)):
        raise ConfigError("--extractor llm reads free text: give a JSONL of {name, reason} as --pred.")
    if args.llm_url and args.extractor != "llm":
        raise ConfigError("--llm-url answers the label extraction: give it with --extractor llm.")
    request = _request(args)
    make_extractor: Callable[[WheelTables], LabelExtractor] = RuleExtractor
    if args.extractor == "llm":  # the model loads (minutes for 7B) only once the files have been read

        def make_extractor(tables: WheelTables) -> LabelExtractor:
            return _llm_extractor(args)

    load_pipeline, prefill = _clip_analysis(args, pipeline) if args.videos else (None, None)
    evaluation = run_evaluation(
        request, load_pipeline=load_pipeline, make_extractor=make_extractor, prefill=prefill, progress=_tqdm
    )
    if evaluation.cache is not None:
        print(
            f"per-clip results: {evaluation.cache}\npredictions CSV: {evaluation.predictions_csv}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(json_summary(evaluation)), file=out)
    else:
        print(format_table(evaluation, _label(args)), file=out)
    return 0
