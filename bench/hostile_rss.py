"""Peak resident memory of the CLI and the web app on the hostile inputs of issue 26, one figure per case.

    .venv/bin/python bench/hostile_rss.py [--cases growing_h264,tiff_bomb] [--no-web] [--rows 600000]

Writes the inputs into a temporary folder (full size: a raw H.264 that grows from 320x240 to 16384x8192 with
16 reference frames, an MJPEG AVI from 64x64 to 12000x12000, 16000x16000 PNG/TIFF/HDR bombs, a junk results
file, an --out that is an input clip, a 600,000-row ground truth), then:
- CLI: each case in a fresh `omni-emotion` process (analyze with the clue engine, or eval), whose own peak
  (VmHWM) it prints on exit;
- web app: the real app (clue engine) in a child process; each upload goes to /analyze or /live_frame (the
  bombs three at once), the child's peak is reset before each case (/proc/PID/clear_refs) and read after.
Prints one line per case and the whole as JSON; exit 1 when a case is above --limit-mb or its outcome is not
the one expected (exit 2 and the case's sentence).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the hostile corpus's makers

from common import SHARED_DATA  # noqa: E402

# case -> the words its refusal must contain
SENTENCES = {
    "growing_h264": "has a 16384x8192 frame (134.2 MP), above the 16.8 MP limit",
    "growing_mjpeg": "has a 12000x12000 frame (144.0 MP), above the 16.8 MP limit",
    "png_bomb": "has a 16000x16000 frame (256.0 MP), above the 16.8 MP limit",
    "tiff_bomb": "has a 16000x16000 frame (256.0 MP), above the 16.8 MP limit",
    "hdr_bomb": "has a 16000x16000 frame (256.0 MP), above the 16.8 MP limit",
    "junk_results": "is not a results file (line 1 is not UTF-8 text)",
    "out_is_input": "is one of the input clips",
    "eval_rows": "rows, the most one evaluation reads",
}
MEDIA = ("growing_h264", "growing_mjpeg", "png_bomb", "tiff_bomb", "hdr_bomb")
PICTURES = ("png_bomb", "tiff_bomb", "hdr_bomb")


def make_inputs(folder: Path, rows: int) -> dict[str, list[str]]:
    """Write every case's input; returns the omni-emotion arguments per case."""
    import numpy as np
    from conftest import write_wav
    from hostile import growing_h264, growing_mjpeg_avi, hdr_bomb, png_bomb, tiff_bomb

    paths = {
        "growing_h264": growing_h264(
            folder / "grows.h264", small=(320, 240), large=(16384, 8192), frames=2, refs=16
        ),
        "growing_mjpeg": growing_mjpeg_avi(
            folder / "grows.avi", small=(64, 64), large=(12000, 12000), frames=1
        ),
        "png_bomb": png_bomb(folder / "bomb.png"),
        "tiff_bomb": tiff_bomb(folder / "bomb.tiff"),
        "hdr_bomb": hdr_bomb(folder / "bomb.hdr"),
    }
    args = {name: ["analyze", str(path), "--engine", "clues", "--json"] for name, path in paths.items()}
    clips = folder / "clips"
    clips.mkdir()
    wav = write_wav(clips / "clip.wav", np.zeros(8000), 16_000)
    junk = folder / "results.jsonl"
    junk.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    args["junk_results"] = ["analyze", str(clips), "--out", str(junk)]
    args["out_is_input"] = ["analyze", str(clips), "--out", str(wav)]
    wheels = SHARED_DATA / "emotion_wheel"
    if wheels.is_dir():
        gt, pred = folder / "gt.csv", folder / "pred.csv"
        words = ["happy", "sad", "angry", "worried", "relaxed", "surprised", "disappointed", "joyful"]
        for target, shift in ((gt, 0), (pred, 3)):
            with open(target, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["name", "openset"])
                for i in range(rows):
                    writer.writerow([f"s{i:07d}", str([words[(i + shift) % 8], words[(i * 7 + shift) % 8]])])
        args["eval_rows"] = ["eval", "--gt", str(gt), "--pred", str(pred), "--wheels", str(wheels)]
    return {"paths": {k: str(v) for k, v in paths.items()}, "args": args}


_CHILD = """
import re, sys
from omni_emotion.cli import main
code = main(sys.argv[1:])
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())[1]) // 1024
print(f"PEAK_MB {peak}", file=sys.stderr)
sys.exit(code)
"""


def cli_case(name: str, argv: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True, env=env, timeout=900
    )
    peak = int(re.search(r"PEAK_MB (\d+)", done.stderr)[1]) if "PEAK_MB" in done.stderr else None
    lines = [line for line in done.stderr.splitlines() if line.startswith("omni-emotion: error:")]
    return {
        "case": name,
        "front": "cli",
        "exit": done.returncode,
        "peak_mb": peak,
        "seconds": round(time.monotonic() - t0, 1),
        "sentence": lines[-1] if lines else done.stderr[-300:],
    }


_SERVER = """
import sys
from omni_emotion.heap import limit_arenas
from omni_emotion.live import load_live_models
from omni_emotion.pipeline import EmotionPipeline
from omni_emotion.ui import UIConfig, build_demo, launch_kwargs
limit_arenas(2)
pipeline = EmotionPipeline.create(engine="clues")
config = UIConfig()
demo = build_demo(pipeline, config, live_models=load_live_models(pipeline))
demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs(config))
print("URL", demo.local_url, flush=True)
sys.stdin.read()
"""


def _status_mb(pid: int, key: str) -> int:
    return int(re.search(rf"{key}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())[1]) // 1024


def web_cases(paths: dict[str, str]) -> list[dict]:
    from gradio_client import Client, handle_file

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Gradio logs each refusal's traceback on stderr; the sentences come back to the client
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    rows = []
    try:
        line = ""
        while not line.startswith("URL"):
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("the app did not start")
        url = line.split()[1]
        print(f"web app at {url}, RSS {_status_mb(server.pid, 'VmRSS')} MB after start", flush=True)
        calls = [(name, "/analyze", 1) for name in MEDIA if name in paths]
        calls += [(name, "/live_frame", 3) for name in PICTURES if name in paths]
        for name, api, copies in calls:
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # the peak starts again from now
            t0 = time.monotonic()

            def call(_: int, api=api, name=name) -> str:
                client = Client(url, verbose=False, download_files=False)
                try:
                    client.predict(handle_file(paths[name]), api_name=api)
                    return "no error"
                except Exception as err:  # the refusal comes back as the handler's one sentence
                    return str(err)
                finally:
                    client.close()

            with ThreadPoolExecutor(copies) as pool:
                messages = list(pool.map(call, range(copies)))
            time.sleep(1.0)
            rows.append(
                {
                    "case": name,
                    "front": f"web {api}" + (f" x{copies}" if copies > 1 else ""),
                    "peak_mb": _status_mb(server.pid, "VmHWM"),
                    "rss_after_mb": _status_mb(server.pid, "VmRSS"),
                    "seconds": round(time.monotonic() - t0, 1),
                    "sentence": messages[0],
                    "exit": 2 if all(SENTENCES[name] in m for m in messages) else 0,
                }
            )
    finally:
        server.stdin.close()
        server.terminate()
        server.wait(timeout=30)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(SENTENCES), help="comma-separated case names")
    parser.add_argument("--rows", type=int, default=600_000, help="rows of the eval case's ground truth")
    parser.add_argument("--no-web", action="store_true", help="the CLI only")
    parser.add_argument("--limit-mb", type=int, default=1536, help="a peak above this fails (default 1.5 GB)")
    args = parser.parse_args()
    wanted = args.cases.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        inputs = make_inputs(Path(tmp), args.rows)
        print(f"inputs written in {time.monotonic() - t0:.0f} s; load {os.getloadavg()[0]:.1f}", flush=True)
        for name, argv in inputs["args"].items():
            if name in wanted:
                rows.append(cli_case(name, argv))
                print(json.dumps(rows[-1]), flush=True)
        if not args.no_web:
            for row in web_cases({k: v for k, v in inputs["paths"].items() if k in wanted}):
                rows.append(row)
                print(json.dumps(row), flush=True)
    bad = [
        r
        for r in rows
        if r["exit"] != 2 or SENTENCES[r["case"]] not in r["sentence"] or (r["peak_mb"] or 0) > args.limit_mb
    ]
    print(
        f"{len(rows)} cases, highest peak {max((r['peak_mb'] or 0) for r in rows)} MB, "
        f"{len(bad)} not as expected; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(json.dumps({"rows": rows, "failed": [r["case"] for r in bad]}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
