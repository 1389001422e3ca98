"""`omni-emotion live`: the desktop live window (local webcam + microphone). The web app's command,
`omni-emotion serve`, lives with the app in ui/cli.py.

Heavy imports (gradio, OpenCV windows, sounddevice, models) happen inside the commands, so the rest of the
CLI stays fast. Missing camera, microphone or display is a DeviceUnavailableError: one sentence, exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from omni_emotion.errors import DeviceUnavailableError
from omni_emotion.pipeline_options import add_live_pipeline_arguments, load_live_pipeline

if TYPE_CHECKING:  # live.py pulls in the models; import it only when a command runs
    from omni_emotion.live import LiveConfig

__all__ = ["check_microphone", "live", "open_camera", "register"]

logger = logging.getLogger(__name__)

WINDOW = "omni-emotion live (q or Esc quits)"
MIC_RATE = 16_000  # Hz: what the pipeline wants, so no resampling is needed


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

    pipeline = load_live_pipeline(args)
    session = LiveSession(load_live_models(pipeline), config)
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
    add_live_pipeline_arguments(p_live)
    p_live.add_argument("--camera", type=int, default=0, help="OpenCV camera index (default 0)")
    p_live.add_argument("--mic", default=None, help="sounddevice input device (index or name; default: system default)")
    p_live.add_argument("--no-mic", action="store_true", help="video only")
    p_live.add_argument("--window", type=float, default=4.0, help="seconds analysed per label refresh (default 4)")
    p_live.set_defaults(func=live)
