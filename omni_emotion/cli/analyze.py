"""`omni-emotion analyze CLIP [--engine NAME] [--face-backend NAME] [--json]`: labels and an explanation for one clip;
`omni-emotion analyze DIR --out results.jsonl [--ray [ADDRESS]]`: every clip of a folder, resumably."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from omni_emotion.cli.options import (
    add_pipeline_arguments,
    add_ray_arguments,
    pipeline_spec,
    ray_config,
    tqdm_progress,
)
from omni_emotion.errors import ConfigError, printable
from omni_emotion.jobs.folder import analyze_folder
from omni_emotion.jobs.sinks import FORMATS
from omni_emotion.types import Analysis

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="recognise and explain the emotions in a clip")
    p.add_argument("clip", help="video, audio or image file, or a folder of them (with --out)")
    add_pipeline_arguments(p)
    p.add_argument(
        "--json", action="store_true", help="print the Analysis as one JSON object on the last line"
    )
    folder = p.add_argument_group("a folder of clips")
    folder.add_argument(
        "--out", help="results: JSONL file or Parquet folder; clips already there are skipped"
    )
    folder.add_argument("--format", choices=FORMATS, default="jsonl", help="jsonl (default) or parquet")
    add_ray_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if Path(args.clip).is_dir():
        return run_folder(args)
    if args.out or args.ray is not None:
        raise ConfigError(f"--out and --ray analyse a folder, and {args.clip} is not one.")
    from tqdm import tqdm

    from omni_emotion.console import interactive
    from omni_emotion.media import check_media

    check_media(args.clip)  # a missing or unreadable file is reported before the models load (~10 s)
    started = time.perf_counter()
    if interactive():
        print("loading models ...", file=sys.stderr, end="\r", flush=True)
    pipeline = pipeline_spec(args).create()
    load_ms = 1e3 * (time.perf_counter() - started)
    # a bar only for a person at a terminal: in a log file its redraws would pile up into one line
    with tqdm(
        total=100,
        desc="analysing",
        file=sys.stderr,
        leave=False,
        disable=not interactive(),
        bar_format="{desc:<28}{percentage:3.0f}%|{bar}|",
    ) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(max(0, int(round(100 * fraction)) - bar.n))

        analysis = pipeline.analyze_file(args.clip, progress=progress)
    # this command starts cold: its time includes loading the models
    analysis.timings_ms["load_models"] = load_ms
    analysis.timings_ms["wall"] = 1e3 * (time.perf_counter() - started)
    if args.json:
        print(analysis.to_json())
    else:
        print(summary(analysis))
    return 0


def run_folder(args: argparse.Namespace) -> int:
    """Every media file under the folder, one record per clip in --out (``omni_emotion.jobs``)."""
    if not args.out:
        raise ConfigError(f"{args.clip} is a folder: name a results file with --out results.jsonl.")
    if args.json:
        raise ConfigError("--json prints one clip's Analysis; a folder's results go to --out.")
    ray = ray_config(args)  # options are checked before anything starts
    result = analyze_folder(
        args.clip, args.out, pipeline_spec(args), fmt=args.format, ray=ray, progress=tqdm_progress
    )
    print(result.line() + f"; results in {printable(args.out)}", file=sys.stderr)
    return 0


def summary(analysis: Analysis, width: int = 100) -> str:
    """A readable report: labels, explanation, per-modality clues and timings."""
    lines = [f"labels:      {', '.join(analysis.labels)}", f"engine:      {analysis.engine}"]
    if analysis.transcript:
        lines.append(
            f"transcript:  {analysis.transcript}" + (f" [{analysis.language}]" if analysis.language else "")
        )
    lines.append("explanation:")
    lines += textwrap.wrap(analysis.explanation, width, initial_indent="  ", subsequent_indent="  ")
    for label in analysis.labels:
        if analysis.evidence.get(label):
            lines.append(f"  why {label}: {'; '.join(analysis.evidence[label])}")
    lines.append(f"time:        {time_line(analysis.timings_ms)}")
    return "\n".join(lines)


def time_line(timings_ms: dict[str, float]) -> str:
    """The time a run took, saying what it counts: cold (models loaded for it) or the analysis alone."""
    total, load, wall = (timings_ms.get(k) for k in ("total", "load_models", "wall"))
    if wall is not None and load is not None:
        analysed = f", {total / 1e3:.2f} s analysing" if total is not None else ""
        return f"{wall / 1e3:.2f} s cold ({load / 1e3:.2f} s loading the models{analysed})"
    if total is None:
        return "not measured"
    return f"{total / 1e3:.2f} s analysing, models already loaded (warm)"
