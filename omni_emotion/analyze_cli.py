"""`omni-emotion analyze CLIP [--engine auto|clues|omni] [--json]`: labels and an explanation for one clip."""

from __future__ import annotations

import argparse
import sys
import textwrap

from omni_emotion.pipeline import ENGINES
from omni_emotion.types import Analysis

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="recognise and explain the emotions in a clip")
    p.add_argument("clip", help="video, audio or image file")
    p.add_argument("--engine", choices=ENGINES, default="auto",
                   help="auto = omni when its weights and a CUDA GPU are present, else clues (default auto)")
    p.add_argument("--device", default="cpu", help="torch device for the models (default cpu)")
    p.add_argument("--weights-dir", default="weights", help="folder of downloaded model weights")
    p.add_argument("--json", action="store_true", help="print the Analysis as one JSON object on the last line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from omni_emotion.media import check_media
    from omni_emotion.pipeline import EmotionPipeline

    check_media(args.clip)  # a missing or unreadable file is reported before the models load (~10 s)
    with tqdm(total=100, desc="loading models", file=sys.stderr, leave=False,
              bar_format="{desc}: {percentage:3.0f}%|{bar}|") as bar:
        pipeline = EmotionPipeline.create(engine=args.engine, device=args.device, weights_dir=args.weights_dir)

        def progress(fraction: float, message: str) -> None:
            bar.set_description(message)
            bar.update(max(0, int(round(100 * fraction)) - bar.n))

        analysis = pipeline.analyze_file(args.clip, progress=progress)
    if args.json:
        print(analysis.to_json())
    else:
        print(summary(analysis))
    return 0


def summary(analysis: Analysis, width: int = 100) -> str:
    """A readable report: labels, explanation, per-modality clues and timings."""
    lines = [f"labels:      {', '.join(analysis.labels)}", f"engine:      {analysis.engine}"]
    if analysis.transcript:
        lines.append(f"transcript:  {analysis.transcript}" + (f" [{analysis.language}]" if analysis.language else ""))
    lines.append("explanation:")
    lines += textwrap.wrap(analysis.explanation, width, initial_indent="  ", subsequent_indent="  ")
    for label in analysis.labels:
        if analysis.evidence.get(label):
            lines.append(f"  why {label}: {'; '.join(analysis.evidence[label])}")
    total = analysis.timings_ms.get("total")
    if total is not None:
        lines.append(f"time:        {total / 1e3:.2f} s")
    return "\n".join(lines)
