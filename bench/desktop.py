"""Desktop window benchmark: the real `omni-emotion live` window on a looping file camera for N minutes.

    xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/python bench/desktop.py \\
        [--clip ../shared/testdata/media/face_noface.mov] [--minutes 5] [--engine clues] [--screenshot PATH]

Needs a display (xvfb-run gives a private one). The clip plays at its own frame rate with its own sound, as
`omni-emotion live --camera CLIP --loop` does; every minute prints frames shown, the window's frames per
second in that minute, label refreshes, their mean and maximum lag (newest analysed input -> labels on
screen) and the process's resident memory. ``--screenshot PATH`` saves the window once it shows a face box
and labels together (the README's picture).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_MEDIA

from omni_emotion.cli.options import load_live_pipeline
from omni_emotion.desktop import DesktopOptions, run_desktop
from omni_emotion.desktop.window import WindowConfig
from omni_emotion.live import LiveConfig


def rss_mb() -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text())[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=SHARED_MEDIA / "face_noface.mov")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--engine", default="clues", choices=("auto", "clues", "omni"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument(
        "--screenshot", type=Path, default=None, help="save the window here once it shows labels"
    )
    args = parser.parse_args()

    state: dict = {"window": None, "shot": args.screenshot is None}

    def on_frame(window) -> None:
        state["window"] = window
        if not state["shot"] and window.stats.updates and window.last_faces and window.canvas is not None:
            from PIL import Image

            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(window.canvas).save(args.screenshot, optimize=True)
            state["shot"] = True
            print(
                f"screenshot: {args.screenshot} ({args.screenshot.stat().st_size / 1024:.0f} KB)", flush=True
            )

    done = threading.Event()

    def report() -> None:
        while state["window"] is None and not done.wait(0.5):
            pass
        window = state["window"]
        if window is None:
            return
        print(f"window open, RSS {rss_mb():.0f} MB", flush=True)
        frames = lags = 0
        started = time.monotonic()
        minute = 0
        while not done.wait(max(0.0, started + 60 * (minute + 1) - time.monotonic())):
            minute += 1
            stats = window.stats
            new_lags = stats.lags_s[lags:]
            fps = (stats.frames - frames) / 60.0
            lag = f"{statistics.mean(new_lags):.2f} s mean, {max(new_lags):.2f} s max" if new_lags else "-"
            print(
                f"minute {minute}: frames {stats.frames} ({fps:.1f} fps), label refreshes {len(stats.lags_s)}"
                f" (+{len(new_lags)}), lag {lag}, RSS {rss_mb():.0f} MB",
                flush=True,
            )
            frames, lags = stats.frames, len(stats.lags_s)

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    options = DesktopOptions(
        camera=str(args.clip), loop=True, window=WindowConfig(duration_s=args.minutes * 60 + 15)
    )  # + start-up
    pipeline_args = argparse.Namespace(
        engine=args.engine, device=args.device, threads=args.threads, face_backend="auto", weights_dir=None
    )
    t0 = time.monotonic()
    code = run_desktop(options, LiveConfig(), lambda: load_live_pipeline(pipeline_args), on_frame=on_frame)
    done.set()
    reporter.join(5)
    window = state["window"]
    if window is not None:
        stats = window.stats
        intervals = [b - a for a, b in zip(stats.update_times, stats.update_times[1:])]
        print(
            f"exit {code} after {time.monotonic() - t0:.0f} s: {stats.frames} frames, {len(stats.lags_s)} label"
            f" refreshes, every {statistics.mean(intervals):.2f} s"
            if intervals
            else "",
            flush=True,
        )


if __name__ == "__main__":
    main()
