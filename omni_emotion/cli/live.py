"""`omni-emotion live`: the desktop window (a camera, video file or stream, plus a microphone or an audio
file; omni_emotion.desktop). The web app's command is `omni-emotion serve` (serve.py).

Heavy imports (gradio, the Tk window, sounddevice, models) happen inside the commands, so the rest of the
CLI stays fast. Missing camera, microphone or display is a DeviceUnavailableError: one sentence, exit 2.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from omni_emotion.cli.options import add_live_pipeline_arguments, load_live_pipeline

__all__ = ["live", "register"]

logger = logging.getLogger(__name__)


def live(args: argparse.Namespace) -> int:
    """Desktop live mode: the same LiveSession as the web app, drawn into a desktop window
    (omni_emotion.desktop)."""
    from omni_emotion.desktop import DesktopOptions, run_desktop
    from omni_emotion.desktop.window import WindowConfig
    from omni_emotion.live import LiveConfig

    config = LiveConfig(window_s=args.window)  # bad options fail before any device is opened
    window = WindowConfig(duration_s=args.duration, save_dir=Path(args.save_dir).expanduser())
    options = DesktopOptions(
        camera=args.camera,
        mic=args.mic,
        no_mic=args.no_mic,
        loop=args.loop,
        max_side=args.max_side,
        font=args.font,
        window=window,
    )
    return run_desktop(options, config, lambda: load_live_pipeline(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    p_live = subparsers.add_parser(
        "live", help="live camera/file/stream + microphone analysis in a desktop window"
    )
    add_live_pipeline_arguments(p_live)
    p_live.add_argument(
        "--camera",
        default="0",
        metavar="N|PATH|URL",
        help="OpenCV camera index, a video file or an RTSP/HTTP stream URL (default 0)",
    )
    p_live.add_argument(
        "--mic",
        default=None,
        metavar="DEVICE|PATH",
        help="sounddevice input (index or name, e.g. pulse) or an audio file played in real "
        "time; default: a file camera's own sound, else the system's default microphone",
    )
    p_live.add_argument("--no-mic", action="store_true", help="video only")
    p_live.add_argument(
        "--window", type=float, default=4.0, help="seconds analysed per label refresh (default 4)"
    )
    p_live.add_argument("--loop", action="store_true", help="replay file sources at their end")
    p_live.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="S",
        help="quit after S seconds (default 0: when you press q or a file ends)",
    )
    p_live.add_argument(
        "--max-side",
        type=int,
        default=640,
        metavar="PX",
        help="frames are scaled so the longer side is at most PX before analysis (default 640)",
    )
    p_live.add_argument(
        "--font",
        default=None,
        metavar="PATH",
        help="TrueType/OpenType font for the window's text (default: an installed Noto CJK font)",
    )
    p_live.add_argument(
        "--save-dir",
        default=".",
        metavar="DIR",
        help="where the s key saves the window (PNG) and the last analysis (JSON); default .",
    )
    p_live.set_defaults(func=live)
