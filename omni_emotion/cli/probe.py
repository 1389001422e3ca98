"""`omni-emotion probe CLIP [--faces] [--speech] [--json]`: what the decoder (and optionally perception) sees,
from ``perception.probe_file``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from omni_emotion.errors import ConfigError
from omni_emotion.media import MediaConfig
from omni_emotion.perception import ProbeRequest, probe_file

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="print the decoded facts of a clip (and its faces / speech)")
    p.add_argument("clip", help="video, audio or image file")
    p.add_argument("--frames", type=int, default=8, help="frames to sample uniformly (default 8)")
    p.add_argument("--faces", action="store_true", help="also detect and track faces")
    p.add_argument("--speech", action="store_true", help="also run VAD, ASR and prosody")
    p.add_argument("--fps", type=float, default=5.0, help="face-tracking rate in frames/s (default 5)")
    p.add_argument("--max-duration", type=float, default=600.0, help="refuse clips longer than this (s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.frames < 1:
        raise ConfigError(f"--frames must be at least 1, got {args.frames}")
    if not args.fps > 0:
        raise ConfigError(f"--fps must be above 0 frames/s, got {args.fps}")
    request = ProbeRequest(
        args.clip,
        frames=args.frames,
        faces=args.faces,
        speech=args.speech,
        fps=args.fps,
        config=MediaConfig(max_duration_s=args.max_duration),
    )
    facts = probe_file(request)
    if args.json:
        print(json.dumps(facts, ensure_ascii=False))
    else:
        _print_table(facts)
    return 0


def _print_table(facts: dict[str, Any]) -> None:
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        if key == "faces":
            print(f"{key:<{width}}  {len(value)} track(s)")
            for face in value:
                flag = " (main)" if face["main"] else ""
                print(
                    f"{'':<{width}}  #{face['track_id']}{flag}: {face['start_s']:.2f}-{face['end_s']:.2f} s, "
                    f"{face['detections']} detections, ~{face['mean_face_px']:.0f} px, "
                    f"median box {face['median_box_px']}"
                )
        elif isinstance(value, list) and key == "streams":
            print(f"{key:<{width}}  " + ("; ".join(value) if value else "none"))
        else:
            print(f"{key:<{width}}  {value}")
