"""`omni-emotion probe CLIP [--faces] [--speech] [--json]`: what the decoder (and optionally perception) sees."""

from __future__ import annotations

import argparse
import json
from typing import Any

from omni_emotion.media import MediaConfig, iter_frames, load_clip

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
    config = MediaConfig(max_duration_s=args.max_duration)
    clip = load_clip(args.clip, num_frames=args.frames, config=config)
    facts: dict[str, Any] = clip.facts()
    if args.faces:
        from omni_emotion.faces import load_face_analyzer

        analyzer = load_face_analyzer()
        tracks = analyzer.track(iter_frames(args.clip, fps=args.fps, config=config)) if clip.has_video else []
        facts["faces"] = [t.summary() for t in tracks]
    if args.speech:
        from omni_emotion.speech import load_speech_analyzer

        transcript, prosody = load_speech_analyzer().analyze(clip.audio)
        facts["transcript"] = transcript.text
        facts["language"] = transcript.language
        facts["prosody"] = prosody.description
        facts["speech_regions"] = [[round(a, 2), round(b, 2)] for a, b in prosody.speech_regions]
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
                    f"{face['detections']} detections, ~{face['mean_face_px']:.0f} px"
                )
        elif isinstance(value, list) and key == "streams":
            print(f"{key:<{width}}  " + ("; ".join(value) if value else "none"))
        else:
            print(f"{key:<{width}}  {value}")
