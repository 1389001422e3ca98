"""``omni-emotion eval``: score predictions (or an engine run) on OV-MERD / EMER-OV with the EW metric."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from omni_emotion.batch import add_ray_arguments
from omni_emotion.errors import ConfigError, EvaluationDataError
from omni_emotion.evaluation.floor import OBJECTIVES, Floor, floor_of
from omni_emotion.evaluation.metrics import EvalResult
from omni_emotion.evaluation.wheels import GROUPINGS, default_cache_dir, load_wheels
from omni_emotion.mentions import LabelExtractor, LLMExtractor, RuleExtractor
from omni_emotion.pipeline_options import add_pipeline_arguments, pipeline_spec

__all__ = ["floor_note", "format_table", "register", "run"]

MAX_LISTED_PROBLEMS = 10
OVMERD_GT_NAME = "check-openset.csv"  # the published baselines were scored on this ground truth only


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score emotion predictions on OV-MERD / EMER-OV (emotion-wheel metric)",
        description=(
            "Score predicted open-vocabulary labels against ground truth with the OV-MER emotion-wheel "
            "metric (M1, M2, five wheels at L1/L2; M-avg). The table shows percent; --json prints "
            "fractions 0..1."
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
        help="how labels are read from JSONL free text: rule (deterministic, default) or llm (the omni "
        "model answers the extraction prompt; needs its weights and, by default, a CUDA GPU)",
    )
    add_pipeline_arguments(
        p.add_argument_group("the pipeline for --videos"),
        device_help="torch device (cpu, cuda, cuda:0); default cpu for --videos, cuda for --extractor llm",
    )
    p.add_argument(
        "--wheels", help="folder with format.csv, synonym.xlsx, wheel1..5.xlsx (default: the cache)"
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


def _percent(result: EvalResult) -> dict[str, float]:
    return {**{g: result.groupings[g].f_score * 100 for g in GROUPINGS}, "M-avg": result.m_avg * 100}


def floor_note(floor: Floor) -> str:
    """One sentence saying what the floor is and that it was chosen with the ground truth."""
    return (
        f"floor: the best constant answer, the same labels for every sample, chosen WITH this ground truth "
        f"(greedy over its most frequent labels, maximising {floor.objective}); a score below it is no "
        "better than guessing those labels."
    )


def format_table(
    result: EvalResult, label: str, published: dict[str, dict[str, float]], floor: Floor | None = None
) -> str:
    """Our scores, then the floor, beside the published baselines, in percent, one model per row (like
    OV-MER Table 4)."""
    columns = (*GROUPINGS, "M-avg")
    rows = [(label, _percent(result))]
    if floor is not None:
        rows.append((f"floor (best constant: {', '.join(floor.labels)})", _percent(floor.result)))
    width = max([*(len(name) for name, _ in rows), *map(len, published), 5]) + 1
    lines = [f"{'model':<{width}}" + "".join(f"{c:>7}" for c in columns)]
    lines += [f"{name:<{width}}" + "".join(f"{scores[c]:>7.2f}" for c in columns) for name, scores in rows]
    if published:
        lines.append("-" * len(lines[0]) + "  published (OV-MER Table 4)")
        for model, scores in sorted(published.items(), key=lambda item: item[1]["M-avg"]):
            lines.append(f"{model:<{width}}" + "".join(f"{scores[c]:>7.2f}" for c in columns))
    lines.append("")
    lines.append(
        f"L1-avg {result.l1_avg * 100:.2f}   precision {result.precision * 100:.2f}   recall "
        f"{result.recall * 100:.2f}   avg {result.avg * 100:.2f}   (means over the 12 groupings)"
    )
    if floor is not None:
        lines.append(
            f"floor  L1-avg {floor.result.l1_avg * 100:.2f}   precision {floor.result.precision * 100:.2f}"
            f"   recall {floor.result.recall * 100:.2f}   avg {floor.result.avg * 100:.2f}"
        )
        lines.append(floor_note(floor))
    lines.append(f"scored {result.n_scored} samples, skipped {result.n_skipped}")
    for key, reason in list(result.skipped.items())[:MAX_LISTED_PROBLEMS]:
        lines.append(f"  skipped {key}: {reason}")
    if result.n_skipped > MAX_LISTED_PROBLEMS:
        lines.append(f"  ... and {result.n_skipped - MAX_LISTED_PROBLEMS} more")
    return "\n".join(lines)


def _published_for(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The published OV-MER baselines, beside OV-MERD scores only (or when a file is named explicitly)."""
    from omni_emotion.evaluation import runner

    if args.published is None and Path(args.gt).name != OVMERD_GT_NAME:
        return {}
    return runner.read_published(args.published)


def _run_id(gt: Path, videos: Path, engine: str) -> str:
    key = f"{gt.resolve()}|{videos.resolve()}|{engine}"
    return f"{videos.name or 'clips'}-{engine}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _llm_extractor(weights_dir: str | None, device: str) -> LLMExtractor:
    """LLM extraction by the omni model's text-only generation (loads the model: minutes for 7B)."""
    from omni_emotion.engines.omni import OmniEngine
    from omni_emotion.paths import weights_dir as default_weights_dir

    return LLMExtractor(OmniEngine.load(weights_dir or default_weights_dir(), device=device).generate_text)


def run(args: argparse.Namespace, *, pipeline=None, stdout: TextIO | None = None) -> int:
    """The ``eval`` command; ``pipeline`` replaces ``EmotionPipeline.create(...)`` for --videos (tests)."""
    from tqdm import tqdm

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
    tables = load_wheels(args.wheels)
    truth = runner.read_ground_truth(args.gt)
    if args.pred:
        pred_path = Path(args.pred)
        # Shared baselines are <Model>/openset.csv and <Model>/reasons.jsonl: name the row after the model.
        label = "ours: " + (
            pred_path.parent.name if pred_path.stem in ("openset", "reasons") else pred_path.stem
        )
        extractor: LabelExtractor = RuleExtractor(tables)
        progress = None
        if args.extractor == "llm":
            extractor = _llm_extractor(args.weights_dir, args.device or "cuda")
            label += " (llm extraction)"
            progress = partial(tqdm, desc="extracting labels", unit="line", file=sys.stderr)
        pred = runner.read_predictions(args.pred, extractor=extractor, progress=progress)
    else:
        run_id = _run_id(Path(args.gt), Path(args.videos), args.engine)
        cache = Path(args.cache) if args.cache else default_cache_dir() / "eval-runs" / f"{run_id}.jsonl"
        if not Path(args.videos).is_dir():  # before the models load (~10 s)
            raise EvaluationDataError(f"The clips folder {args.videos} does not exist.")
        if args.ray is not None:
            from omni_emotion.batch import LazyPipeline, analyze_eval_clips, ray_config, tqdm_progress

            # Ray analyses the clips into the same cache; predict_clips below then finds them all done
            spec = pipeline_spec(args)
            job = analyze_eval_clips(
                truth.labels, args.videos, cache, spec, ray_config(args), progress=tqdm_progress
            )
            print(job.line(), file=sys.stderr)
            pipeline = LazyPipeline(spec)
        elif pipeline is None:
            pipeline = pipeline_spec(args).create()

        def progress(names):
            return tqdm(names, desc="clips", unit="clip", file=sys.stderr)

        pred = runner.predict_clips(truth.labels, args.videos, pipeline, cache, progress=progress)
        csv_path = Path(args.out) if args.out else cache.with_name(cache.stem + "-predictions.csv")
        runner.write_predictions_csv(csv_path, pred.labels)
        print(f"per-clip results: {cache}\npredictions CSV: {csv_path}", file=sys.stderr)
        label = f"ours ({args.engine})"
    result = runner.evaluate(truth, pred, tables)
    if result.n_scored == 0:
        raise EvaluationDataError(
            f"no prediction matches a ground-truth sample of {args.gt} ({result.n_skipped} skipped; first: "
            + "; ".join(f"{k}: {v}" for k, v in list(result.skipped.items())[:1])
            + ")."
        )
    floor = floor_of(result, truth.labels, tables, args.floor_objective)
    if args.json:
        summary = result.summary()
        summary["skipped"] = dict(result.skipped)
        summary["floor"] = floor.summary()
        print(json.dumps(summary), file=out)
    else:
        print(format_table(result, label, _published_for(args), floor), file=out)
    return 0
