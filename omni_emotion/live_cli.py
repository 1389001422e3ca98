"""`omni-emotion live` (the desktop window: a camera, video file or stream, plus a microphone or an audio
file; omni_emotion.desktop) and `omni-emotion serve` (the web app, the same as `python app.py`).

Heavy imports (gradio, the Tk window, sounddevice, models) happen inside the commands, so the rest of the
CLI stays fast. Missing camera, microphone or display is a DeviceUnavailableError: one sentence, exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from pathlib import Path
from typing import Any

from omni_emotion.errors import ConfigError

__all__ = ["add_serve_arguments", "live", "register", "serve"]

logger = logging.getLogger(__name__)

ENGINES = ("auto", "clues", "omni")


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
    from omni_emotion.ui.tempfiles import app_temp_dir

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


def live(args: argparse.Namespace) -> int:
    """Desktop live mode: the same LiveSession as the web app, drawn into a desktop window
    (omni_emotion.desktop)."""
    from omni_emotion.desktop import DesktopOptions, run_desktop
    from omni_emotion.desktop.window import WindowConfig
    from omni_emotion.live import LiveConfig

    config = LiveConfig(window_s=args.window)  # bad options fail before any device is opened
    window = WindowConfig(duration_s=args.duration, save_dir=Path(args.save_dir).expanduser())
    options = DesktopOptions(camera=args.camera, mic=args.mic, no_mic=args.no_mic, loop=args.loop,
                             max_side=args.max_side, font=args.font, device=args.device, window=window)
    return run_desktop(options, config, lambda: _load_pipeline(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    p_live = subparsers.add_parser("live", help="live camera/file/stream + microphone analysis in a desktop window")
    _add_engine_arguments(p_live)
    p_live.add_argument("--camera", default="0", metavar="N|PATH|URL",
                        help="OpenCV camera index, a video file or an RTSP/HTTP stream URL (default 0)")
    p_live.add_argument("--mic", default=None, metavar="DEVICE|PATH",
                        help="sounddevice input (index or name, e.g. pulse) or an audio file played in real "
                             "time; default: a file camera's own sound, else the system's default microphone")
    p_live.add_argument("--no-mic", action="store_true", help="video only")
    p_live.add_argument("--window", type=float, default=4.0, help="seconds analysed per label refresh (default 4)")
    p_live.add_argument("--loop", action="store_true", help="replay file sources at their end")
    p_live.add_argument("--duration", type=float, default=0.0, metavar="S",
                        help="quit after S seconds (default 0: when you press q or a file ends)")
    p_live.add_argument("--max-side", type=int, default=640, metavar="PX",
                        help="frames are scaled so the longer side is at most PX before analysis (default 640)")
    p_live.add_argument("--font", default=None, metavar="PATH",
                        help="TrueType/OpenType font for the window's text (default: an installed Noto CJK font)")
    p_live.add_argument("--save-dir", default=".", metavar="DIR",
                        help="where the s key saves the window (PNG) and the last analysis (JSON); default .")
    p_live.set_defaults(func=live)
    p_serve = subparsers.add_parser("serve", help="the web app (Live, Analyze, Evaluate, Status); same as app.py")
    add_serve_arguments(p_serve)
    p_serve.set_defaults(func=serve)
