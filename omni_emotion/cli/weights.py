"""`omni-emotion weights init | status`: assemble the MLLM from public parts; list every model and how to get it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from omni_emotion.weights import default_weights_dir, status

__all__ = ["register"]

_SIZES = {
    "0.5b": "llava-hf/llava-onevision-qwen2-0.5b-ov-hf",
    "7b": "llava-hf/llava-onevision-qwen2-7b-ov-hf",
}
_DTYPES = ("bfloat16", "float16", "float32")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("weights", help="assemble the Omni-Emotion MLLM; list model files")
    sub = parser.add_subparsers(dest="weights_command", metavar="ACTION", required=True)

    init = sub.add_parser("init", help="assemble an untrained-projector Omni-Emotion model and save it")
    init.add_argument(
        "--size", choices=sorted(_SIZES), default="0.5b", help="LLM size when --llava is not given"
    )
    init.add_argument("--llava", help="LLaVA-OneVision hub id or local folder (default: by --size)")
    init.add_argument("--whisper", default="openai/whisper-large-v3", help="Whisper hub id or local folder")
    init.add_argument(
        "--face", help="FaceXFormer checkpoint ckpts/model.pt (default: start from an ImageNet Swin)"
    )
    init.add_argument(
        "--swin", default="microsoft/swin-base-patch4-window7-224", help="ImageNet Swin when no --face"
    )
    init.add_argument(
        "--fusion", choices=("video_concat", "frame_concat", "cross_attention"), default="video_concat"
    )
    init.add_argument("--dtype", choices=_DTYPES, default="bfloat16")
    init.add_argument("--out", type=Path, help="output folder (default: weights/omni-emotion-SIZE)")
    init.set_defaults(func=_init)

    show = sub.add_parser("status", help="which models are present, and the command for each missing one")
    show.add_argument(
        "--weights-dir",
        type=Path,
        default=None,
        help="weights folder (default: $OMNI_EMOTION_WEIGHTS or the checkout's weights/)",
    )
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=_status)


def _init(args: argparse.Namespace) -> int:
    import torch

    from omni_emotion.model.assemble import assemble

    out = args.out or default_weights_dir() / f"omni-emotion-{args.size}"
    path = assemble(
        args.llava or _SIZES[args.size],
        args.whisper,
        out,
        face=args.face,
        swin=args.swin,
        dtype=getattr(torch, args.dtype),
        fusion=args.fusion,
    )
    print(f"saved {path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from omni_emotion.model.config import streams_sentence

    rows = status(args.weights_dir, streams_of=streams_sentence)
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        print(
            f"{'ok ' if r.present else '-- '} {r.name:<{width}}  {r.path if r.present else 'missing: ' + r.get}"
            + (f"  ({r.streams})" if r.streams else "")
        )
    return 0
