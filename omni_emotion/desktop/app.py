"""``omni-emotion live``: open the sources a user named, load the models, run the window, release everything.

Sources are opened (and fail with one sentence) before the models load, so a typo costs a second, not ten.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omni_emotion.desktop.sources import MediaSource, PlaybackClock, SourceSpec, open_camera, parse_source
from omni_emotion.desktop.window import WindowConfig
from omni_emotion.errors import ConfigError, DeviceUnavailableError

__all__ = ["DesktopOptions", "run_desktop"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DesktopOptions:
    """camera: an OpenCV index, a /dev/video path, a video file or a stream URL. mic: a sounddevice index
    or name, or an audio/video file played as if it were a microphone; None takes the file camera's own
    sound, or the default microphone for a real camera. loop: replay file sources. max_side: frames are
    scaled so the longer side is at most this (pixels) before analysis and display."""

    camera: str = "0"
    mic: str | None = None
    no_mic: bool = False
    loop: bool = False
    max_side: int = 640
    font: str | None = None
    window: WindowConfig = field(default_factory=WindowConfig)

    def __post_init__(self) -> None:
        if self.max_side < 64:
            raise ConfigError(f"--max-side must be >= 64 pixels, got {self.max_side}")


class _LateGate:
    """An audio sink created before the session exists (sources are opened first); drops until attached."""

    def __init__(self) -> None:
        self.target: Callable[[Any, int], None] | None = None

    def __call__(self, samples: Any, rate: int) -> None:
        if self.target is not None:
            self.target(samples, rate)


def _check_display() -> None:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise DeviceUnavailableError("No display to open the live window on (DISPLAY is not set).")


def _open_camera(spec: SourceSpec, clock: PlaybackClock, options: DesktopOptions, sink: _LateGate) -> Any:
    if spec.kind in ("index", "device"):
        return open_camera(spec)
    own_audio = options.mic is None and not options.no_mic
    return MediaSource(
        spec,
        clock,
        video=True,
        on_audio=sink if own_audio else None,
        max_side=options.max_side,
        loop=options.loop,
    )


def run_desktop(
    options: DesktopOptions,
    live_config: Any,
    load_pipeline: Callable[[], Any],
    on_frame: Callable[[Any], None] | None = None,
) -> int:
    """Open sources, load the pipeline with ``load_pipeline()``, run the window; returns the exit code.
    ``on_frame(window)`` is called after each frame shown (bench/desktop.py reads ``window.stats``)."""
    from omni_emotion.desktop.fonts import load_fonts
    from omni_emotion.desktop.microphone import check_microphone

    clock, sink = PlaybackClock(), _LateGate()
    opened: list[Any] = []
    try:
        camera = _open_camera(parse_source(options.camera, devices_by_name=False), clock, options, sink)
        opened.append(camera)
        mic_device: int | str | None = None
        use_mic_device = False
        if not options.no_mic:
            if options.mic is not None:
                mic = parse_source(options.mic, devices_by_name=True)
                if mic.kind in ("file", "url"):
                    opened.append(MediaSource(mic, clock, video=False, on_audio=sink, loop=options.loop))
                else:
                    mic_device, use_mic_device = (mic.index if mic.kind == "index" else mic.value), True
            elif not isinstance(camera, MediaSource):
                use_mic_device = True  # a real camera with the default microphone
            elif not camera.has_audio:
                logger.warning("%s has no audio track: video only (pass --mic to add sound).", options.camera)
            if use_mic_device:
                check_microphone(mic_device)
        _check_display()
        fonts = load_fonts(options.font)
        return _run(
            options,
            live_config,
            load_pipeline,
            camera,
            opened,
            clock,
            sink,
            fonts,
            mic_device if use_mic_device else False,
            on_frame,
        )
    finally:
        for source in opened:  # the window closes them when it ran; this covers failures before it
            source.close()


def _run(
    options: DesktopOptions,
    live_config: Any,
    load_pipeline: Callable[[], Any],
    camera: Any,
    opened: list[Any],
    clock: PlaybackClock,
    sink: _LateGate,
    fonts: Any,
    mic_device: Any,
    on_frame: Callable[[Any], None] | None,
) -> int:
    from omni_emotion.desktop.microphone import Microphone
    from omni_emotion.desktop.overlay import Painter
    from omni_emotion.desktop.window import AudioGate, DesktopWindow, TkDisplay
    from omni_emotion.live import LiveSession, load_live_models

    display = TkDisplay(options.window.title)  # at once: the models take seconds to load, the window does not
    try:
        pipeline = _load_showing_card(display, fonts, load_pipeline)
    except BaseException:
        display.close()
        raise
    if pipeline is None:  # closed while loading
        display.close()
        return 0
    session = LiveSession(load_live_models(pipeline), live_config)
    gate = AudioGate(session)
    sink.target = gate
    closers = list(opened[1:])
    try:
        if mic_device is not False:
            closers.append(Microphone(mic_device, gate))
    except BaseException:
        session.close()
        display.close()
        for closer in closers:
            closer.close()
        raise
    window = DesktopWindow(
        session,
        camera,
        clock,
        gate,
        Painter(fonts),
        display,
        options.window,
        closers=tuple(closers),
        engine=pipeline.engine_name,
        on_frame=on_frame,
    )
    try:
        return window.run()
    finally:
        print(window.stats.summary(), file=sys.stderr, flush=True)


def _load_showing_card(display: Any, fonts: Any, load_pipeline: Callable[[], Any]) -> Any:
    """Load the pipeline on a worker thread while the window shows a "loading models" card and answers
    its events; returns the pipeline, or None when the viewer quit first (the load then finishes unseen)."""
    import threading
    import time

    from omni_emotion.desktop.overlay import loading_card
    from omni_emotion.desktop.window import action_for_key

    result: dict[str, Any] = {}

    def load() -> None:
        try:
            result["pipeline"] = load_pipeline()
        except BaseException as err:  # handed to the main thread, which raises it
            result["error"] = err

    worker = threading.Thread(target=load, name="omni-emotion-load", daemon=True)
    started = time.monotonic()
    worker.start()
    while worker.is_alive():
        seconds = time.monotonic() - started
        message = f"Loading models ... {seconds:.0f} s (the first time takes longest)"
        display.show(loading_card(fonts, message))
        if action_for_key(display.key()) == "quit" or display.closed_by_user():
            return None
        worker.join(timeout=0.1)
    if "error" in result:
        raise result["error"]
    return result["pipeline"]
