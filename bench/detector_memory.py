"""Memory and time per call of the offline face detector: the yuface wheel's Python wrapper against the
library's C entry point that YuFaceDetector calls (omni_emotion/faces/yuface_native.py). Prints figures.

    .venv/bin/python bench/detector_memory.py [--calls 1000] [--clip CLIP (default: the shared Wolfgang clip)]

Each path runs in its own fresh process on the same 640x360 frames (a real face when the shared clip is
there, noise otherwise), one OpenMP thread, after 50 warm-up calls; it prints RSS growth per call and the
median milliseconds per call.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_MEDIA

PATHS = ("wheel-wrapper", "c-entry-point")


def _rss_kb() -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text())[1])


def _frames(clip: Path) -> list[np.ndarray]:
    """BGR uint8 640x360 frames, C-contiguous."""
    if clip.exists():
        from omni_emotion.media import iter_frames

        frames = [f for _, f in iter_frames(clip, fps=2, max_side=640)][:8]
        return [np.ascontiguousarray(f[..., ::-1]) for f in frames]
    return [np.random.default_rng(i).integers(0, 256, (360, 640, 3), dtype=np.uint8) for i in range(8)]


def _measure(path: str, calls: int, clip: Path) -> dict:
    from omni_emotion.faces.detectors import YuFaceDetector

    frames = _frames(clip)
    detector = YuFaceDetector(threads=1)
    detector.detect(frames[0][..., ::-1])  # sets this thread's OpenMP team to one thread for both paths
    if path == "wheel-wrapper":
        from yuface.yuface import detect as call
    else:
        call = detector._cnn.detect_bgr
    for i in range(50):
        call(frames[i % len(frames)])
    before = _rss_kb()
    times = []
    for i in range(calls):
        start = time.perf_counter()
        call(frames[i % len(frames)])
        times.append(time.perf_counter() - start)
    grown = _rss_kb() - before
    return {
        "path": path,
        "calls": calls,
        "frame": "x".join(map(str, frames[0].shape[1::-1])),
        "kb_per_call": grown / calls,
        "rss_growth_mb": grown / 1024,
        "ms_per_call": 1000 * float(np.median(times)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--clip", type=Path, default=SHARED_MEDIA / "WolfgangLanger_Pexels.mp4")
    parser.add_argument("--one", choices=PATHS, help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_measure(args.one, args.calls, args.clip)))
        return
    for path in PATHS:
        command = [
            sys.executable,
            __file__,
            "--one",
            path,
            "--calls",
            str(args.calls),
            "--clip",
            str(args.clip),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['path']:14s} {r['frame']}: {r['calls']} calls, RSS +{r['rss_growth_mb']:.1f} MB "
            f"({r['kb_per_call']:.2f} KB/call), {r['ms_per_call']:.1f} ms/call (median)",
            flush=True,
        )


if __name__ == "__main__":
    main()
