"""`omni-emotion live` (desktop: local webcam + microphone, an OpenCV window) and `omni-emotion serve` (the
web app, the same as `python app.py`).

Heavy imports (gradio, OpenCV windows, sounddevice, models) happen inside the commands, so the rest of the
CLI stays fast. Missing camera, microphone or display is a DeviceUnavailableError: one sentence, exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_emotion.errors import ConfigError, DeviceUnavailableError

if TYPE_CHECKING:  # live.py pulls in the models; import it only when a command runs
    from omni_emotion.live import LiveConfig

__all__ = ["add_serve_arguments", "check_microphone", "live", "open_camera", "register", "serve"]

logger = logging.getLogger(__name__)

ENGINES = ("auto", "clues", "omni")
WINDOW = "omni-emotion live (q or Esc quits)"
MIC_RATE = 16_000  # Hz: what the pipeline wants, so no resampling is needed


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto: omni when its weights and a CUDA GPU are present, else clues (default)")
    parser.add_argument("--device", default="cpu", help="torch device for the models (default cpu)")
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help="CPU threads for the analysis models (default: all cores but one, at least 1, "
                             "so the live per-frame path keeps a core)")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    _add_engine_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    parser.add_argument("--data-dir", action="append", default=[], metavar="DIR",
                        help="a directory the Evaluate tab may read (repeatable); nothing else is readable there")
    parser.add_argument("--examples", metavar="DIR", default=None,
                        help="a folder of example clips offered on the Analyze tab (default: spoken examples "
                             "the app makes once with espeak-ng)")
    parser.add_argument("--max-upload-mb", type=float, default=500.0, help="largest upload accepted (default 500)")


def _example_clips(folder: str | None) -> tuple[Path, ...]:
    from omni_emotion.ui.config import VIDEO_SUFFIXES

    if not folder:
        from omni_emotion.ui.examples import make_examples
        from omni_emotion.weights import cache_root

        return make_examples(cache_root() / "examples")
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ConfigError(f"The examples folder {path} does not exist.")
    return tuple(sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()))[:20]


def _load_pipeline(args: argparse.Namespace) -> Any:
    """The pipeline for a live-capable process. torch's thread count is process-wide, so it is decided here
    (not in library code): the analysis models (torch and the speech recogniser) get ``--threads``, by
    default all cores but one, so the background analysis cannot starve the per-frame path (the face
    detector already runs its own single OpenMP thread)."""
    import torch

    from omni_emotion.pipeline import EmotionPipeline

    if args.threads < 0:
        raise ConfigError(f"--threads must be >= 0, got {args.threads}")
    threads = args.threads or max(1, (os.cpu_count() or 1) - 1)
    torch.set_num_threads(threads)
    logger.info("analysis models use %d CPU thread(s)", threads)
    return EmotionPipeline.create(engine=args.engine, device=args.device, asr_threads=threads)


def serve(args: argparse.Namespace) -> int:
    """Build the pipeline once, build the app around it and serve it until interrupted."""
    from omni_emotion.ui import UIConfig, build_demo, launch_kwargs
    from omni_emotion.heap import limit_arenas
    from omni_emotion.ui.tempfiles import app_temp_dir

    limit_arenas(os.cpu_count() or 1)  # before the server's threads: fewer arenas keep less freed memory
    config = UIConfig(data_dirs=tuple(args.data_dir), examples=_example_clips(args.examples),
                      max_upload_mb=args.max_upload_mb)
    pipeline = _load_pipeline(args)
    # `kill` stops the app like Ctrl+C, so the uploads folder is removed either way
    signal.signal(signal.SIGTERM, _interrupt)
    with app_temp_dir():
        demo = build_demo(pipeline, config)
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_kwargs(config))
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def open_camera(index: int) -> Any:
    """An opened cv2.VideoCapture that delivered one frame, or DeviceUnavailableError."""
    import cv2

    # OpenCV logs each backend it tries; the one sentence below says what matters to the user.
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        capture = cv2.VideoCapture(index)
    finally:
        cv2.utils.logging.setLogLevel(previous)
    if not capture.isOpened():
        capture.release()
        raise DeviceUnavailableError(f"No camera at index {index}: connect one or pass --camera N.")
    ok, _ = capture.read()
    if not ok:
        capture.release()
        raise DeviceUnavailableError(f"The camera at index {index} opened but delivered no frame.")
    return capture


def check_microphone(device: int | str | None) -> None:
    """Raise DeviceUnavailableError unless sounddevice sees an input device."""
    try:
        import sounddevice as sd
    except OSError as err:  # sounddevice loads the PortAudio library at import time
        raise DeviceUnavailableError(
            "The PortAudio library is missing: install it (Debian: apt-get install libportaudio2)."
        ) from err
    try:
        sd.query_devices(device, kind="input")
    except (ValueError, sd.PortAudioError) as err:
        raise DeviceUnavailableError(
            "No microphone found: connect one, pick it with --mic N, or run with --no-mic."
        ) from err


def _mic_device(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def _check_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DeviceUnavailableError("No display to open the live window on (DISPLAY is not set).")


def live(args: argparse.Namespace) -> int:
    """Desktop live mode: the same LiveSession as the web app, drawn into an OpenCV window."""
    from omni_emotion.live import LiveConfig

    config = LiveConfig(window_s=args.window)  # bad options fail before any device is opened
    capture = open_camera(args.camera)
    try:
        if not args.no_mic:
            check_microphone(_mic_device(args.mic))
        _check_display()
        return _run_window(args, capture, config)
    finally:
        capture.release()


def _run_window(args: argparse.Namespace, capture: Any, config: LiveConfig) -> int:
    import cv2

    from omni_emotion.live import LiveSession, load_live_models
    from omni_emotion.ui.draw import draw_overlay

    pipeline = _load_pipeline(args)
    session = LiveSession(load_live_models(pipeline, device=args.device), config)
    stream = None
    if not args.no_mic:
        import sounddevice as sd

        def on_audio(indata, frames, time_info, status) -> None:  # PortAudio's thread
            session.add_audio(indata[:, 0].copy(), MIC_RATE)

        stream = sd.InputStream(device=_mic_device(args.mic), channels=1, samplerate=MIC_RATE, dtype="float32", callback=on_audio)
        stream.start()
    cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                raise DeviceUnavailableError(f"The camera at index {args.camera} stopped delivering frames.")
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            result = session.process_frame(rgb)
            update = session.latest
            labels = update.analysis.labels if update is not None and update.analysis is not None else []
            status = f"{1000.0 / max(result.elapsed_ms, 1e-3):.0f} fps max"
            if update is not None:
                status += f" | labels {update.lag_s:.1f} s behind"
                if update.analysis is not None and update.analysis.transcript:
                    status += f' | "{update.analysis.transcript[-60:]}"'
            shown = draw_overlay(rgb, result.faces, labels, status)
            cv2.imshow(WINDOW, cv2.cvtColor(shown, cv2.COLOR_RGB2BGR))
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                return 0
    finally:
        if stream is not None:
            stream.stop()
            stream.close()
        session.close()
        cv2.destroyAllWindows()


def register(subparsers: argparse._SubParsersAction) -> None:
    p_live = subparsers.add_parser("live", help="live webcam + microphone analysis in a desktop window")
    _add_engine_arguments(p_live)
    p_live.add_argument("--camera", type=int, default=0, help="OpenCV camera index (default 0)")
    p_live.add_argument("--mic", default=None, help="sounddevice input device (index or name; default: system default)")
    p_live.add_argument("--no-mic", action="store_true", help="video only")
    p_live.add_argument("--window", type=float, default=4.0, help="seconds analysed per label refresh (default 4)")
    p_live.set_defaults(func=live)
    p_serve = subparsers.add_parser("serve", help="the web app (Live, Analyze, Evaluate, Status); same as app.py")
    add_serve_arguments(p_serve)
    p_serve.set_defaults(func=serve)
