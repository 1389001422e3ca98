"""Label churn in the live views, before and after omni_emotion.label_steadiness.

    PYTHONPATH=$PWD .venv/bin/python bench/label_steadiness.py [--clip ../shared/testdata/media/face_noface.mov]
                                                               [--loop-s 3.5] [--seconds 60]

The first ``--loop-s`` seconds of a real clip loop as webcam and microphone for ``--seconds`` of session
time on a simulated clock (--fps frames/s, audio in 0.1 s chunks), and the background analysis runs once per
second of session time, as a live session does. The machine's speed therefore changes nothing here: every
run sees the same windows. Prints, per minute: how often the raw labels changed (every answer shown, as
before) and how often the shown labels change through SteadyLabels under a few settings (the default
first); and how often the main face's named expression changes per minute, raw per-frame smoothing (the
session's own) against SteadyExpressions.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

import numpy as np
from common import SHARED_MEDIA

from omni_emotion.label_steadiness import SteadinessConfig, SteadyExpressions, changes_per_minute
from omni_emotion.live import LiveConfig, LiveSession, load_live_models
from omni_emotion.media import iter_frames, load_audio
from omni_emotion.pipeline import EmotionPipeline
from omni_emotion.types import SAMPLE_RATE

SETTINGS = {
    "default (3 windows, quorum 2, dwell 4 s)": SteadinessConfig(),
    "vote only (3 windows, quorum 2, no dwell)": SteadinessConfig(min_dwell_s=0.0),
    "dwell only (1 window, 4 s)": SteadinessConfig(history=1, quorum=1),
    "stricter (5 windows, quorum 3, dwell 6 s)": SteadinessConfig(history=5, quorum=3, min_dwell_s=6.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=SHARED_MEDIA / "face_noface.mov")
    parser.add_argument("--loop-s", type=float, default=3.5, help="seconds of the clip that loop")
    parser.add_argument("--seconds", type=float, default=60.0, help="session time streamed")
    parser.add_argument(
        "--fps",
        type=float,
        default=10.0,
        choices=(1.0, 2.0, 5.0, 10.0),
        help="webcam frames per second of session time (a divisor of 10: whole audio chunks)",
    )
    args = parser.parse_args()
    fps = args.fps

    frames = [f for t, f in iter_frames(args.clip, fps=fps, max_side=640) if t < args.loop_s]
    audio = load_audio(args.clip)[: int(args.loop_s * SAMPLE_RATE)]
    started = time.perf_counter()
    pipeline = EmotionPipeline.create(engine="clues")
    clock = [0.0]
    session = LiveSession(load_live_models(pipeline), LiveConfig(), clock=lambda: clock[0], background=False)
    print(
        f"{args.clip.name}, first {args.loop_s:g} s looped ({len(frames)} frames, {audio.size / SAMPLE_RATE:.1f} s "
        f"audio) for {args.seconds:g} s of session time; models loaded in {time.perf_counter() - started:.1f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; each analysis (session time, labels):",
        flush=True,
    )

    chunk = SAMPLE_RATE // 10
    sequence: list[tuple[float, list[str]]] = []
    raw_expr: list[str] = []
    steady_expr: list[str] = []
    smoother = SteadyExpressions()
    next_analysis = 1.0
    for i in range(int(args.seconds * fps)):
        clock[0] = i / fps
        for k in range(int(10 / fps)):  # the 0.1 s chunks up to this frame's time, looping with the video
            start = (int(i * 10 / fps) + k) * chunk
            session.add_audio(np.take(audio, np.arange(start, start + chunk), mode="wrap"), SAMPLE_RATE)
        result = session.process_frame(frames[i % len(frames)])
        main = max(result.faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), default=None)
        if main is not None:
            raw_expr.append(main.expression)
            steady = {f.track_id: f for f in smoother.smooth(clock[0], result.faces)}[main.track_id]
            steady_expr.append(steady.expression)
        if clock[0] >= next_analysis:
            update = session.analyze_now()
            if update is not None and update.analysis is not None:
                sequence.append((clock[0], list(update.analysis.labels)))
                print(f"  {clock[0]:5.1f} s  {','.join(update.analysis.labels)}", flush=True)
            next_analysis += LiveConfig().refresh_s
    session.close()

    print(f"{len(sequence)} analyses")
    print(f"label changes per minute, raw (every answer shown): {changes_per_minute(sequence, None):.1f}")
    for name, config in SETTINGS.items():
        print(f"label changes per minute, {name}: {changes_per_minute(sequence, config):.1f}")
    minutes = args.seconds / 60.0
    for name, shown in (("session smoothing only", raw_expr), ("SteadyExpressions", steady_expr)):
        flips = sum(a != b for a, b in itertools.pairwise(shown))
        print(
            f"main face's expression changes per minute, {name}: {flips / minutes:.1f} "
            f"({len(shown)} frames with a face)"
        )


if __name__ == "__main__":
    main()
