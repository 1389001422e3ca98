"""`omni-emotion probe CLIP [--faces] [--speech] [--json]`: what the decoder (and optionally perception) sees."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.media import MediaConfig, load_clip
from omni_emotion.types import FaceTrack

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
    config = MediaConfig(max_duration_s=args.max_duration)
    if args.faces or args.speech:
        facts = _perceive(args, config)
    else:
        facts = load_clip(args.clip, num_frames=args.frames, config=config).facts()
    if args.json:
        print(json.dumps(facts, ensure_ascii=False))
    else:
        _print_table(facts)
    return 0


def _perceive(args: argparse.Namespace, config: MediaConfig) -> dict[str, Any]:
    """Clip facts plus faces and/or speech, through the same Perceiver as ``analyze``: with both, the tracker
    gets the VAD speech regions, and boxes are in source pixels (tracking frames are downscaled)."""
    from omni_emotion.perception import Perceiver

    faces = speech = None
    if args.faces:
        from omni_emotion.faces import load_face_analyzer

        faces = load_face_analyzer()
    if args.speech:
        from omni_emotion.speech import load_speech_analyzer

        speech = load_speech_analyzer()
    perception = Perceiver(faces, speech).perceive_file(args.clip, fps=args.fps, num_frames=args.frames,
                                                        config=config)
    facts: dict[str, Any] = perception.clip.facts()
    if args.faces:
        facts["faces"] = [_face_facts(t) for t in perception.faces]
    if args.speech:
        prosody = perception.prosody
        facts["transcript"] = perception.transcript.text
        facts["language"] = perception.transcript.language
        facts["prosody"] = prosody.description
        facts["speech_regions"] = [[round(a, 2), round(b, 2)] for a, b in prosody.speech_regions]
    return facts


def _face_facts(track: FaceTrack) -> dict[str, Any]:
    """A track's summary plus its median box [x1, y1, x2, y2] in source-frame pixels."""
    box = np.median(track.boxes, axis=0) if len(track.boxes) else np.zeros(4)
    return track.summary() | {"median_box_px": [round(float(v), 1) for v in box]}


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
