"""Live-path benchmark: fast-path frames/s and label-refresh lag, with the background analysis running.

    .venv/bin/python bench/live.py [--clip ../shared/testdata/media/face_noface.mov] [--engine clues]
                                   [--seconds 30] [--no-slow] [--busy N] [--camera-fps F]

A real clip stands in for the webcam (640x480, letterboxed) and microphone (its audio, fed in real time in
0.1 s chunks). Frames are pushed back to back, as fast as the fast path takes them (face detection, tracking,
expressions, overlay drawing), while the session's worker analyses the last window about once a second on
the same CPU. Prints frames/s, per-frame latency percentiles, and for the labels: refreshes, mean/max lag
(newest analysed input -> labels ready) and the mean interval between refreshes, detector runs per frame
and the peak resident memory. ``--busy N`` starts N CPU-bound processes (``while 1: pass``) for the run and
kills them after (a user's busy laptop); ``--camera-fps F`` offers frames at F per second, as a webcam does,
instead of back to back.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from common import SHARED_MEDIA

from omni_emotion.live import LiveConfig, LiveSession, load_live_models
from omni_emotion.media import iter_frames, load_audio
from omni_emotion.pipeline import ENGINES, EmotionPipeline
from omni_emotion.types import SAMPLE_RATE
from omni_emotion.ui.draw import draw_overlay

DEFAULT_CLIP = SHARED_MEDIA / "face_noface.mov"


def letterbox(frame: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    scale = min(width / frame.shape[1], height / frame.shape[0])
    w, h = int(frame.shape[1] * scale), int(frame.shape[0] * scale)
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    out[top : top + h, left : left + w] = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--engine", default="clues", choices=ENGINES.choices())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--face-backend", default="auto", help="a detector name (faces/registry.py) or auto")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to stream")
    parser.add_argument("--fps", type=float, default=25.0, help="clip frames decoded per second of video")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="analysis threads (torch + ASR); default all cores but one, as `omni-emotion serve`",
    )
    parser.add_argument("--no-slow", action="store_true", help="fast path only (no background analysis)")
    parser.add_argument(
        "--nice",
        type=int,
        default=LiveConfig().background_nice,
        help="how much nicer the analysis worker runs than the frames (LiveConfig.background_nice)",
    )
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes to run beside the session")
    parser.add_argument(
        "--camera-fps", type=float, default=0.0, help="offer frames at this rate (0: back to back)"
    )
    args = parser.parse_args()

    frames = [letterbox(f) for _, f in iter_frames(args.clip, fps=args.fps, max_side=640)]
    audio = load_audio(args.clip)
    t_load = time.perf_counter()
    threads = args.threads or max(1, (os.cpu_count() or 1) - 1)
    torch.set_num_threads(threads)  # what `omni-emotion serve` does: the fast path keeps a core
    pipeline = EmotionPipeline.create(
        engine=args.engine, device=args.device, asr_threads=threads, face_backend=args.face_backend
    )
    pipeline.load_now()  # as `omni-emotion serve` and `live`: nothing loads beside the frames
    models = load_live_models(pipeline)
    print(
        f"clip {args.clip.name}: {len(frames)} frames 640x480, {audio.size / SAMPLE_RATE:.1f} s audio; "
        f"engine {pipeline.engine_name}; {threads} analysis thread(s) on {os.cpu_count()} cores; "
        f"models loaded in {time.perf_counter() - t_load:.1f} s"
    )
    session = LiveSession(models, LiveConfig(background_nice=args.nice), background=not args.no_slow)
    session.process_frame(frames[0])  # warm-up outside the timing
    hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.busy)]

    chunk = SAMPLE_RATE // 10
    fed = 0
    latencies: list[float] = []
    updates = {}
    start = time.perf_counter()
    i = 0
    while (elapsed := time.perf_counter() - start) < args.seconds:
        while fed < elapsed * SAMPLE_RATE:  # the microphone delivers in real time
            offset = fed % max(audio.size, 1)
            session.add_audio(
                audio[offset : offset + chunk] if audio.size else np.zeros(chunk, np.float32), SAMPLE_RATE
            )
            fed += chunk
        if args.camera_fps:  # the next frame arrives on the camera's clock, not when we are ready for it
            due = start + i / args.camera_fps
            if due > time.perf_counter():
                time.sleep(due - time.perf_counter())
        t0 = time.perf_counter()
        result = session.process_frame(frames[i % len(frames)])
        latest = session.latest
        labels = latest.analysis.labels if latest is not None and latest.analysis is not None else []
        draw_overlay(frames[i % len(frames)], result.faces, labels)
        latencies.append((time.perf_counter() - t0) * 1000.0)
        if latest is not None:
            updates[latest.seq] = latest
        i += 1
    wall = time.perf_counter() - start
    for hog in hogs:
        hog.kill()
        hog.wait()
    detections = getattr(session, "detections", len(latencies))  # main before issue 25 detected every frame
    session.close()

    lat = np.array(latencies)
    print(
        f"fast path: {len(lat)} frames in {wall:.1f} s = {len(lat) / wall:.1f} frames/s; per frame "
        f"p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, max {lat.max():.1f} ms; "
        f"detector on {detections / max(len(lat), 1):.0%} of frames; {args.busy} busy process(es); "
        f"load average {os.getloadavg()[0]:.1f}; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    if args.no_slow:
        return
    done = sorted(updates.values(), key=lambda u: u.seq)
    ok = [u for u in done if u.analysis is not None]
    if not done:
        print("labels: no background analysis finished")
        return
    lags = np.array([u.lag_s for u in done])
    gaps = np.diff([u.ready_at for u in done])
    print(
        f"labels: {len(done)} refreshes ({len(done) - len(ok)} failed); lag mean {lags.mean():.2f} s, "
        f"max {lags.max():.2f} s; refresh interval mean {gaps.mean() if gaps.size else float('nan'):.2f} s; "
        f"first labels {done[0].ready_at:.1f} s after the stream started"
    )
    if ok:
        print(f"last labels: {ok[-1].analysis.labels}; transcript: {ok[-1].analysis.transcript!r}")
    for err in {u.error for u in done if u.error}:
        print(f"error: {err}")


if __name__ == "__main__":
    main()
