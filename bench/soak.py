"""Soak test: one live session through the web app's HTTP API for N minutes, /analyze and /evaluate alongside.

    .venv/bin/python bench/soak.py [--minutes 10] [--size-every 120] [--clip ../shared/testdata/media/face_noface.mov]

The real app (clue engine) is served in this process from its private temp folder, as `omni-emotion serve`
builds it. One tab plays the browser over the REST API: webcam frames offered at 15 frames/s to /live_frame
(frames that fall due while a call is served are dropped, as Gradio's webcam stream drops them), a 0.5 s
microphone chunk to /live_audio every 0.5 s, and the frame size switching between 640x480 and 480x640 (a
phone rotated) every ``--size-every`` seconds. A gradio_client calls /analyze, /analyze with a stream whose
picture grows past the pixel limit partway (refused with the limit's sentence, counted as "growing refused")
and /evaluate in turn, one every 30 s. Every minute it prints frames served, label refreshes (finished live
analyses), live worker restarts (workers after the first: 0 expected), resident memory and the files in the
app's temp folder; the last line is the same as JSON. Exit code 1 when a worker restarted or a frame failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import cv2
import httpx
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the hostile corpus's makers

from common import SHARED_DATA, SHARED_MEDIA
from gradio_client import Client, handle_file
from hostile import growing_h264

from omni_emotion.heap import limit_arenas
from omni_emotion.live import load_live_models
from omni_emotion.media import iter_frames, load_audio
from omni_emotion.pipeline import EmotionPipeline
from omni_emotion.types import SAMPLE_RATE
from omni_emotion.ui import UIConfig, build_demo, launch_kwargs
from omni_emotion.ui.tempfiles import app_temp_dir

FRAME_FPS = 15.0
AUDIO_CHUNK_S = 0.5
SIDE_CALL_EVERY_S = 30.0
SIZES = ((640, 480), (480, 640))  # (width, height): landscape, then the phone rotated


class CountingPipeline:
    """The real pipeline, counting live analyses and the worker threads that ran them (composition)."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.live_analyses = 0
        self.live_workers: set[int] = set()

    def __getattr__(self, name):
        # everything not counted here is the pipeline's own, whatever a refactor adds or moves
        return getattr(self.pipeline, name)

    def analyze_clip(self, clip, *args, **kwargs):
        thread = threading.current_thread()
        if thread.name == "omni-emotion-live":
            if thread.ident not in self.live_workers:
                print(f"live worker {thread.ident} started its first analysis", flush=True)
            self.live_workers.add(thread.ident)
            self.live_analyses += 1
        return self.pipeline.analyze_clip(clip, *args, **kwargs)


def rss_mb() -> float:
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text())[1]) / 1024


def write_inputs(clip: Path, folder: Path) -> tuple[dict[tuple[int, int], list[Path]], list[Path]]:
    """JPEG frames of the clip at each size (letterboxed) and 0.5 s WAV chunks of its audio."""
    import wave

    frames = [f for _, f in iter_frames(clip, fps=5, max_side=640)][:50]
    images: dict[tuple[int, int], list[Path]] = {}
    for width, height in SIZES:
        images[(width, height)] = []
        for i, frame in enumerate(frames):
            scale = min(width / frame.shape[1], height / frame.shape[0])
            w, h = int(frame.shape[1] * scale), int(frame.shape[0] * scale)
            canvas = np.zeros((height, width, 3), np.uint8)
            top, left = (height - h) // 2, (width - w) // 2
            canvas[top : top + h, left : left + w] = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            path = folder / f"frame_{width}x{height}_{i:03d}.jpg"
            cv2.imwrite(str(path), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
            images[(width, height)].append(path)
    audio = load_audio(clip)
    step = int(AUDIO_CHUNK_S * SAMPLE_RATE)
    chunks = []
    for i, start in enumerate(range(0, max(audio.size - step, 1), step)):
        path = folder / f"chunk_{i:03d}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes((np.clip(audio[start : start + step], -1, 1) * 32767).astype("<i2").tobytes())
        chunks.append(path)
    return images, chunks


class Stats:
    def __init__(self):
        self.offered = self.served = self.failed = self.chunks = 0
        self.frame_ms: list[float] = []
        self.size: tuple[int, int] | None = None
        self.size_changes = 0
        self.side_calls: dict[str, int] = {"analyze": 0, "grows": 0, "evaluate": 0, "failed": 0}
        self.errors: list[str] = []


class RestSession:
    """One browser tab over Gradio's REST API (upload, ``/call/<api>``, its event stream); the app keeps the
    tab's state under ``session_hash``. gradio_client adds about 250 ms a call on 2 cores, too slow for frames."""

    def __init__(self, url: str, session_hash: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=120)
        self.session_hash = session_hash

    def send(self, api_name: str, path: Path) -> None:
        """Upload ``path``, call ``api_name`` with it and wait for the result; RuntimeError when it fails."""
        with open(path, "rb") as data:
            uploaded = self.http.post("gradio_api/upload", files={"files": (path.name, data)})
        uploaded.raise_for_status()
        file = {"path": uploaded.json()[0], "meta": {"_type": "gradio.FileData"}}
        call = self.http.post(
            f"gradio_api/call/{api_name}", json={"data": [file], "session_hash": self.session_hash}
        )
        call.raise_for_status()
        events = self.http.get(f"gradio_api/call/{api_name}/{call.json()['event_id']}").text
        if "event: complete" not in events:
            raise RuntimeError(f"{api_name}: {events.strip()[-200:]}")


def live_session(
    tab: RestSession, images, chunks, stats: Stats, stop: threading.Event, start: float, size_every_s: float
) -> None:
    """Frames to /live_frame at 15 frames/s and a 0.5 s chunk to /live_audio every 0.5 s, one call at a time
    (two event streams of one session would take each other's messages); frames that fall due while a call
    is being served are dropped and counted, as Gradio's webcam stream drops them."""
    due_frame = due_chunk = start
    i = 0
    while not stop.is_set():
        now = time.monotonic()
        if now >= due_chunk:
            _send(tab, "live_audio", chunks[stats.chunks % len(chunks)], stats)
            stats.chunks += 1
            due_chunk += AUDIO_CHUNK_S
        elif now >= due_frame:
            ticks = 1 + int((now - due_frame) * FRAME_FPS)  # this frame plus those that fell due while busy
            stats.offered += ticks
            due_frame += ticks / FRAME_FPS
            size = SIZES[int((now - start) // size_every_s) % len(SIZES)]
            stats.size_changes += int(size != stats.size and stats.size is not None)
            stats.size = size
            sent = time.monotonic()
            if _send(tab, "live_frame", images[size][i % len(images[size])], stats):
                stats.served += 1
                stats.frame_ms.append((time.monotonic() - sent) * 1000)
            else:
                stats.failed += 1
            i += 1
        else:
            time.sleep(min(due_frame, due_chunk) - now)


def _send(tab: RestSession, api_name: str, path: Path, stats: Stats) -> bool:
    try:
        tab.send(api_name, path)
        return True
    except Exception as err:  # a refused or failed call is counted and reported; the session goes on
        stats.errors.append(f"{api_name}: {str(err)[:200]}")
        return False


def side_calls(url: str, clip: Path, growing: Path, stats: Stats, stop: threading.Event) -> None:
    """/analyze, /analyze of a stream whose picture grows past the pixel limit partway (it must be refused
    with the limit's sentence) and /evaluate in turn, one every 30 s, from another user's session."""
    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    ovmerd, wheels = SHARED_DATA / "ovmerd", SHARED_DATA / "emotion_wheel"
    turn = 0
    while not stop.wait(SIDE_CALL_EVERY_S if turn else 5.0):
        kind = ("analyze", "grows", "evaluate")[turn % 3]
        try:
            if kind == "analyze":
                client.predict(handle_file(str(clip)), api_name="/analyze")
            elif kind == "grows":
                try:
                    client.predict(handle_file(str(growing)), api_name="/analyze")
                    raise RuntimeError("a stream growing past the pixel limit was analysed")
                except Exception as err:
                    if "MP limit" not in str(err):
                        raise
            else:
                client.predict(
                    str(ovmerd / "check-openset.csv"),
                    "Predictions file (CSV or JSONL)",
                    str(ovmerd / "baselines" / "Otter" / "openset.csv"),
                    "",
                    str(wheels),
                    0,
                    api_name="/evaluate",
                )
            stats.side_calls[kind] += 1
        except Exception as err:
            stats.side_calls["failed"] += 1
            stats.errors.append(f"{kind}: {str(err)[:200]}")
        turn += 1
    client.close()


def report(minute: float, stats: Stats, pipeline: CountingPipeline, folder: Path) -> dict:
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    row = {
        "minute": round(minute, 1),
        "frames_offered": stats.offered,
        "frames_served": stats.served,
        "frames_failed": stats.failed,
        "size_changes": stats.size_changes,
        "audio_chunks": stats.chunks,
        "label_refreshes": pipeline.live_analyses,
        "worker_restarts": max(0, len(pipeline.live_workers) - 1),
        "analyze_calls": stats.side_calls["analyze"],
        "growing_refused": stats.side_calls["grows"],
        "evaluate_calls": stats.side_calls["evaluate"],
        "side_call_failures": stats.side_calls["failed"],
        "frame_ms_p50": round(float(np.median(stats.frame_ms))) if stats.frame_ms else None,
        "rss_mb": round(rss_mb()),
        "temp_files": files,
    }
    print(
        f"[{row['minute']:5.1f} min] frames served {row['frames_served']}/{row['frames_offered']} offered "
        f"({row['frames_failed']} failed, p50 {row['frame_ms_p50']} ms, {row['size_changes']} size changes), "
        f"label refreshes {row['label_refreshes']}, worker restarts "
        f"{row['worker_restarts']}, analyze {row['analyze_calls']} (+{row['growing_refused']} growing refused), "
        f"evaluate {row['evaluate_calls']} "
        f"({row['side_call_failures']} failed), RSS {row['rss_mb']} MB, temp files {row['temp_files']}",
        flush=True,
    )
    return row


def _wait_for_live_workers() -> None:
    """Live workers stop on their own once input stops (idle_stop_s); exiting before that would shut the
    interpreter down under an analysis that is still running."""
    for thread in threading.enumerate():
        if thread.name == "omni-emotion-live":
            thread.join(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="how long the live session runs (default 10)"
    )
    parser.add_argument(
        "--size-every", type=float, default=120.0, help="seconds between frame size changes (default 120)"
    )
    parser.add_argument(
        "--clip",
        type=Path,
        default=SHARED_MEDIA / "face_noface.mov",
        help="stands in for the webcam and microphone, and is the /analyze upload",
    )
    args = parser.parse_args()

    limit_arenas(os.cpu_count() or 1)  # as `omni-emotion serve`
    threads = max(1, (os.cpu_count() or 1) - 1)
    torch.set_num_threads(threads)  # as `omni-emotion serve`: the per-frame path keeps a core
    pipeline = CountingPipeline(EmotionPipeline.create(engine="clues", asr_threads=threads))
    config = UIConfig(data_dirs=(SHARED_DATA,))
    with tempfile.TemporaryDirectory() as inputs, app_temp_dir() as folder:
        images, chunks = write_inputs(args.clip, Path(inputs))
        # 64x48, then 4800x3600 (17.3 MP) from its sixth frame: named .mp4, as an upload may be
        growing = growing_h264(Path(inputs) / "grows.mp4")
        demo = build_demo(pipeline, config, live_models=load_live_models(pipeline))
        demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs(config))
        print(
            f"serving {demo.local_url} from {folder}; {args.minutes:g} min; RSS {rss_mb():.0f} MB", flush=True
        )
        stats, stop = Stats(), threading.Event()
        tab = RestSession(demo.local_url, uuid.uuid4().hex)
        start = time.monotonic()
        live = (tab, images, chunks, stats, stop, start, args.size_every)
        threads = [
            threading.Thread(target=live_session, args=live),
            threading.Thread(target=side_calls, args=(demo.local_url, args.clip, growing, stats, stop)),
        ]
        for thread in threads:
            thread.start()
        row = {}
        try:
            for minute in range(1, int(np.ceil(args.minutes)) + 1):
                stop.wait(max(0.0, start + min(minute, args.minutes) * 60 - time.monotonic()))
                row = report((time.monotonic() - start) / 60, stats, pipeline, folder)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            demo.close()
            _wait_for_live_workers()
    for error in sorted(set(stats.errors))[:10]:
        print(f"error: {error}")
    print(json.dumps(row | {"temp_folder_removed": not folder.exists()}))
    return 0 if row.get("worker_restarts") == 0 and not stats.failed else 1


if __name__ == "__main__":
    sys.exit(main())
