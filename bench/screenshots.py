"""Screenshots of the app as a person meets it: Analyze, Evaluate, Live and Status in headless Chromium, and the
desktop window under a private X server.

    PYTHONPATH=$PWD .venv/bin/python bench/screenshots.py [--out bench-artifacts/screenshots] [--no-desktop]

Needs Debian's chromium (and Playwright), xvfb-run for the desktop window, espeak-ng for the example clips.
The face in every picture is the app's own example clip: NASA's public-domain portrait of the astronaut
Eileen Collins (omni_emotion/ui/examples.py), speaking an espeak-ng sentence; it stands in for the webcam
and microphone on the Live tab and for the camera of the desktop window. The images are written to --out
(git-ignored) and not committed. Prints each file with what it shows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED_DATA
from live import letterbox

from omni_emotion.media import iter_frames, load_audio, resample_audio
from omni_emotion.paths import cache_root
from omni_emotion.ui.examples import make_examples

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FAKE_FPS = 10


def write_y4m(path: Path, frames: list[np.ndarray], fps: int) -> Path:
    """RGB frames (H, W even) -> YUV4MPEG2 4:2:0, Chromium's fake-camera format."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            handle.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def browser_shots(url: str, clip: Path, out: Path, folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    frames = [letterbox(f) for _, f in iter_frames(clip, fps=FAKE_FPS, max_side=640)]
    camera = write_y4m(folder / "camera.y4m", frames, FAKE_FPS)
    mic = write_wav(folder / "mic.wav", resample_audio(load_audio(clip), 16_000, 48_000), 48_000)
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--no-sandbox",
        "--disable-gpu",
        f"--use-file-for-fake-video-capture={camera}",
        f"--use-file-for-fake-audio-capture={mic}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        page = browser.new_context(
            viewport={"width": 1400, "height": 1000}, permissions=["camera", "microphone"]
        ).new_page()
        page.goto(url)
        page.get_by_text("Click to Access Webcam").click()
        page.locator("#live-webcam button.capture-button").click(timeout=15_000)
        page.locator("#live-mic").get_by_role("button", name="Record").click()
        page.locator("#live-labels .oe-chip").first.wait_for(timeout=60_000)
        page.wait_for_timeout(4000)
        shot(page, out / "live.png", "Live tab: fake webcam and microphone playing the example clip")

        page.get_by_role("tab", name="Analyze").click()
        page.locator("#analyze-examples img").first.click()
        page.locator("#analyze-button").click()
        page.locator("#analyze-labels .oe-chip").first.wait_for(timeout=180_000)
        page.wait_for_timeout(1500)
        shot(page, out / "analyze.png", "Analyze tab: the example face clip analysed")
        page.get_by_text("Figures and terms").click()
        page.wait_for_timeout(800)
        shot(page, out / "analyze_figures.png", "Analyze tab: the figures and terms opened")

        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#evaluate-button").click()
        page.locator("#evaluate-summary", has_text="Scored").wait_for(timeout=120_000)
        page.wait_for_timeout(800)
        shot(page, out / "evaluate.png", "Evaluate tab: the defaults, run untouched")

        page.get_by_role("tab", name="Status").click()
        page.locator("#status-head", has_text="Ready").wait_for(timeout=30_000)
        shot(page, out / "status.png", "Status tab")
        browser.close()


def shot(page, path: Path, what: str) -> None:
    page.screenshot(path=str(path), full_page=True)
    print(f"{path}: {what}", flush=True)


def desktop_shot(clip: Path, out: Path) -> None:
    """The real `omni-emotion live` window (bench/desktop.py) on the looping example clip, under xvfb-run."""
    command = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1280x720x24",
        sys.executable,
        str(REPO / "bench" / "desktop.py"),
        "--clip",
        str(clip),
        "--minutes",
        "0.75",
        "--screenshot",
        str(out / "desktop.png"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:], flush=True)
    print(f"{out / 'desktop.png'}: the desktop window with a face box and labels", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench-artifacts" / "screenshots")
    parser.add_argument("--no-desktop", action="store_true", help="skip the desktop window")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from omni_emotion.pipeline import EmotionPipeline
    from omni_emotion.ui import UIConfig, build_demo, launch_kwargs

    examples = make_examples(cache_root() / "examples")
    face = next(p for p in examples if p.stem.startswith("astronaut"))
    started = time.perf_counter()
    config = UIConfig(data_dirs=(SHARED_DATA,), examples=examples)
    demo = build_demo(EmotionPipeline.create(engine="clues"), config)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs(config))
    print(f"app up in {time.perf_counter() - started:.1f} s at {demo.local_url}", flush=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            browser_shots(demo.local_url, face, args.out, Path(folder))
    finally:
        demo.close()
    if not args.no_desktop:
        desktop_shot(face, args.out)


if __name__ == "__main__":
    main()
