"""The desktop live window: frames from a source through a LiveSession (the same fast and slow paths as
the browser's Live tab) into a Tk window, with the keys a viewer expects.

Keys: q or Esc quits, space pauses (a file stops; a camera's frames and the microphone are ignored), s saves
the window as PNG and the last analysis as JSON, m mirrors the picture, the arrow keys scroll the history.
Closing the window quits too; the terminal then gets one line on the run (``WindowStats.summary``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from omni_emotion.desktop.overlay import Painter, PanelEntry, PanelView
from omni_emotion.desktop.sources import Mailbox, PlaybackClock
from omni_emotion.errors import ConfigError, DeviceUnavailableError, OmniEmotionError
from omni_emotion.label_steadiness import SteadyExpressions, SteadyLabels
from omni_emotion.live import LiveSession, LiveUpdate

__all__ = ["AudioGate", "DesktopWindow", "TkDisplay", "WindowConfig", "WindowStats", "action_for_key"]

SCROLL_ROWS = 3  # history rows one arrow key press scrolls

logger = logging.getLogger(__name__)

KEY_ACTIONS = {
    "q": "quit",
    "escape": "quit",
    "space": "pause",
    "s": "save",
    "m": "mirror",
    "up": "scroll_up",
    "down": "scroll_down",
}


def action_for_key(keysym: str) -> str:
    """The action of a Tk keysym ("q", "Escape", "space", ...; case-insensitive), or "" for other keys."""
    return KEY_ACTIONS.get(keysym.lower(), "")


@dataclass(frozen=True)
class WindowConfig:
    """title: the window's title. duration_s: quit after this many seconds (0 = when the viewer quits or a
    file ends). loop: restart a file camera at its end. history: analyses listed in the panel. save_dir:
    where s writes. stall_s: a live camera silent this long has gone."""

    title: str = "omni-emotion live"
    duration_s: float = 0.0
    history: int = 4
    save_dir: Path = Path(".")
    stall_s: float = 5.0
    frame_wait_s: float = 0.02  # how long one loop turn waits for a frame before serving the keyboard
    # After each frame the loop rests rest_ratio x that frame's processing time, and at least until 1/max_fps
    # has passed. Why: the face detector holds Python's interpreter lock while it runs, so frames analysed
    # back to back starve the background analysis thread (measured: the first labels took 8.3 s instead
    # of 2.6 s on a loaded 2-core machine).
    rest_ratio: float = 0.5
    max_fps: float = (
        30.0  # a webcam's rate: the window shows each frame it offers while a frame takes under 22 ms
    )

    def __post_init__(self) -> None:
        if self.duration_s < 0:
            raise ConfigError(f"--duration must be >= 0 seconds, got {self.duration_s}")
        if self.history < 1:
            raise ConfigError(f"WindowConfig.history must be >= 1, got {self.history}")
        if not self.stall_s > 0:
            raise ConfigError(f"WindowConfig.stall_s must be positive, got {self.stall_s}")
        if self.rest_ratio < 0 or not self.max_fps > 0:
            raise ConfigError(
                f"WindowConfig needs rest_ratio >= 0 and max_fps > 0, got {self.rest_ratio}, {self.max_fps}"
            )


class AudioGate:
    """The audio sink every source feeds: the session, unless the window is paused."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self.open = threading.Event()
        self.open.set()

    def __call__(self, samples: np.ndarray, rate: int) -> None:
        if self.open.is_set():
            self.session.add_audio(samples, rate)


@dataclass
class WindowStats:
    """What the run measured; read by bench/desktop.py while the window runs."""

    frames: int = 0  # frames analysed and shown
    fps: float = 0.0  # shown frames per second, smoothed: the status line's recent rate
    updates: int = 0  # finished background analyses seen
    lags_s: list[float] = field(default_factory=list)  # each update's label lag
    update_times: list[float] = field(default_factory=list)  # when each update was first seen (session s)
    saved: list[Path] = field(default_factory=list)
    labels_seen: list[str] = field(default_factory=list)  # every label shown, in the order first shown
    seconds: float = 0.0  # how long the window ran

    def summary(self) -> str:
        """One line for the terminal on exit: frames, frame rate, label lag, labels seen."""
        mean = sum(self.lags_s) / len(self.lags_s) if self.lags_s else 0.0
        lag = (
            f"labels {mean:.1f} s behind on average (max {max(self.lags_s):.1f} s)"
            if self.lags_s
            else "no analysis finished"
        )
        seen = ", ".join(self.labels_seen) if self.labels_seen else "none"
        # the run's average: the smoothed rate follows the last frames and read 24.7 where 18.3 were shown a second
        average = self.frames / self.seconds if self.seconds > 0 else 0.0
        return (
            f"omni-emotion live: {self.frames} frames in {self.seconds:.1f} s ({average:.1f} frames/s); "
            f"{self.updates} analyses, {lag}; labels seen: {seen}"
        )


class TkDisplay:
    """A Tk window showing RGB canvases, with the keys pressed in it.

    Tk rather than OpenCV's highgui: the opencv-python wheel's Qt and PyAV's wheel bundle libxcb helpers
    under the same file names, and once PyAV is loaded (the CLI loads it first) the Qt window hangs in
    ``namedWindow``. Tk draws through the system's libX11. Call it from one thread only."""

    def __init__(self, title: str) -> None:
        try:
            import tkinter as tk

            from PIL import ImageTk
        except ImportError as err:
            raise DeviceUnavailableError(
                "Tk is missing, which the live window needs: install it (Debian: apt-get install libtk8.6 python3-tk)."
            ) from err
        try:
            self._root = tk.Tk(className="omni-emotion")
        except tk.TclError as err:
            raise DeviceUnavailableError(f"Could not open the live window: {err}.") from err
        self._image_tk = ImageTk
        self._root.title(title)
        self._label = tk.Label(self._root, borderwidth=0, highlightthickness=0, background="black")
        self._label.pack()
        self._photo: Any = None
        self._keys: deque[str] = deque(maxlen=16)
        self._closed = False
        self._root.bind("<Key>", lambda event: self._keys.append(event.keysym))
        self._root.protocol("WM_DELETE_WINDOW", self._on_close)

    def _on_close(self) -> None:
        self._closed = True

    def show(self, canvas_rgb: np.ndarray) -> None:
        from PIL import Image

        image = Image.fromarray(canvas_rgb)
        if self._photo is None or (self._photo.width(), self._photo.height()) != image.size:
            self._photo = self._image_tk.PhotoImage(image)
            self._label.configure(image=self._photo)
        else:
            self._photo.paste(image)

    def key(self) -> str:
        """Serve the window's events; the oldest key pressed since the last call (a Tk keysym), or ""."""
        if not self._closed:
            self._root.update()
        return self._keys.popleft() if self._keys else ""

    def closed_by_user(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._root is not None:
            self._root.destroy()
            self._root = None
            self._closed = True


class DesktopWindow:
    """Runs the loop. ``camera`` is a started-on-run reader (``.mailbox``, ``.live``, ``.start()``,
    ``.close()``); ``closers`` are released on quit (the microphone or audio-file source)."""

    def __init__(
        self,
        session: LiveSession,
        camera: Any,
        clock: PlaybackClock,
        gate: AudioGate,
        painter: Painter,
        display: Any,
        config: WindowConfig = WindowConfig(),
        closers: tuple[Any, ...] = (),
        engine: str = "",
        on_frame: Callable[[DesktopWindow], None] | None = None,
    ) -> None:
        self.session, self.camera, self.clock, self.gate = session, camera, clock, gate
        self.painter, self.display, self.config, self.closers = painter, display, config, closers
        self.engine, self.on_frame = engine, on_frame
        self.stats = WindowStats()
        self.mirror = False
        self._entries: deque[PanelEntry] = deque(maxlen=config.history)
        self._seen_seq = 0
        self._view = PanelView()
        self._last_update: LiveUpdate | None = None
        self._last: tuple[np.ndarray, tuple] | None = None  # the frame shown and its faces (for repaints)
        self._canvas: np.ndarray | None = None
        self._last_t = 0.0  # session time of the previous frame shown
        self._rest_until = 0.0  # monotonic time before which no new frame is taken
        # the chips and the boxes change only when the new answer holds (omni_emotion.label_steadiness)
        self.steady_labels = SteadyLabels()
        self.steady_expressions = SteadyExpressions()

    @property
    def canvas(self) -> np.ndarray | None:
        """The window's content as last shown, (H, W, 3) uint8 RGB."""
        return self._canvas

    @property
    def last_faces(self) -> tuple:
        return self._last[1] if self._last is not None else ()

    @property
    def paused(self) -> bool:
        return not self.gate.open.is_set()

    def run(self) -> int:
        """Show the window until the viewer quits, the duration passes or a file ends (0), or raise
        DeviceUnavailableError when the camera goes away. Always releases every source."""
        started = time.monotonic()
        try:
            self.camera.start()
            for closer in self.closers:
                starter = getattr(closer, "start", None)
                if starter is not None:
                    starter()
            while True:
                if self.config.duration_s and time.monotonic() - started >= self.config.duration_s:
                    return 0
                action = action_for_key(self.display.key())
                if action == "quit" or self.display.closed_by_user():
                    return 0
                if action:
                    self._act(action)
                if not self._step(self.camera.mailbox):
                    return 0
        finally:
            self.stats.seconds = time.monotonic() - started
            self.close()

    def close(self) -> None:
        self.camera.close()
        for closer in self.closers:
            closer.close()
        self.session.close()
        self.display.close()

    # ---- one turn ----------------------------------------------------------------------------------------
    def _step(self, mailbox: Mailbox) -> bool:
        """Take the newest frame and show it; False when a file camera has ended."""
        rest = self._rest_until - time.monotonic()
        if rest > 0:  # leave the interpreter to the background analysis for a moment
            time.sleep(min(rest, self.config.frame_wait_s))
            return True
        frame = mailbox.take(self.config.frame_wait_s)
        if mailbox.error is not None and frame is None:
            if isinstance(mailbox.error, OmniEmotionError):
                raise mailbox.error
            raise RuntimeError(f"the {self.camera.describe} reader failed") from mailbox.error  # a bug
        if frame is None:
            if mailbox.ended:
                return False
            if (
                self.camera.live
                and not self.paused
                and time.monotonic() - mailbox.last_put > self.config.stall_s
            ):
                raise DeviceUnavailableError(
                    f"The {self.camera.describe} stopped delivering frames for {self.config.stall_s:g} s."
                )
            self._refresh_panel()
            return True
        if self.paused:
            return True  # a live camera keeps delivering while paused; those frames are not shown
        began = time.monotonic()
        result = self.session.process_frame(frame)
        self._count_frame(result.t)
        self._last = (frame, self.steady_expressions.smooth(result.t, result.faces))
        self._refresh_panel(force=True)
        if self.on_frame is not None:
            self.on_frame(self)
        took = time.monotonic() - began
        self._rest_until = began + max(1.0 / self.config.max_fps, took * (1.0 + self.config.rest_ratio))
        return True

    def _count_frame(self, t: float) -> None:
        stats = self.stats
        if stats.frames and t > self._last_t:
            inst = 1.0 / (t - self._last_t)
            stats.fps = inst if stats.fps == 0 else 0.9 * stats.fps + 0.1 * inst
        self._last_t = t
        stats.frames += 1

    def _refresh_panel(self, force: bool = False) -> None:
        """Follow the session's newest analysis; repaint when it or the frame changed."""
        update = self.session.latest
        changed = update is not None and update.seq != self._seen_seq
        if changed:
            self._seen_seq = update.seq
            self._last_update = update
            self.stats.updates += 1
            self.stats.lags_s.append(update.lag_s)
            self.stats.update_times.append(update.ready_at)
            analysis = update.analysis
            if analysis is None:
                self._entries.appendleft(PanelEntry(update.window_end, "", "", error=update.error))
            else:
                self._entries.appendleft(
                    PanelEntry(update.window_end, analysis.transcript, analysis.explanation)
                )
            labels = (
                self.steady_labels.offer(update.seq, analysis.labels, update.ready_at)
                if analysis is not None
                else self._view.labels
            )
            self.stats.labels_seen += [lab for lab in labels if lab not in self.stats.labels_seen]
            # a new analysis: scrolled back to the top
            self._view = PanelView(labels=labels, entries=tuple(self._entries))
        if (changed or force) and self._last is not None:
            self._paint()

    def _status(self) -> str:
        parts = [f"{self.stats.fps:.1f} fps"]
        if self._last_update is not None:
            parts.append(f"labels {self._last_update.lag_s:.1f} s behind")
        if self.engine:
            parts.append(self.engine)
        if self.mirror:
            parts.append("mirrored")
        if self.paused:
            parts.append("PAUSED")
        return " · ".join(parts)

    def _paint(self) -> None:
        frame, faces = self._last
        self._canvas = self.painter.paint(frame, faces, self._view, self._status(), mirror=self.mirror)
        self.display.show(self._canvas)

    # ---- keys --------------------------------------------------------------------------------------------
    def _act(self, action: str) -> None:
        if action == "pause":
            if self.paused:
                self.clock.resume()
                self.gate.open.set()
            else:
                self.clock.pause()
                self.gate.open.clear()
        elif action == "mirror":
            self.mirror = not self.mirror
        elif action in ("scroll_up", "scroll_down"):
            step = SCROLL_ROWS if action == "scroll_down" else -SCROLL_ROWS
            last = max(0, self.painter.history_rows(self._view) - 1)
            self._view = replace(self._view, scroll=min(last, max(0, self._view.scroll + step)))
        elif action == "save":
            self.save()
        if self._last is not None:
            self._paint()

    def save(self) -> tuple[Path, Path] | None:
        """Write the window as PNG and the last analysis as JSON into ``save_dir``; returns both paths."""
        from PIL import Image

        if self._canvas is None:
            return None
        folder = self.config.save_dir
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / time.strftime("omni-emotion-%Y%m%d-%H%M%S")
        n = 1
        while stem.with_suffix(".png").exists():
            n += 1
            stem = folder / (time.strftime("omni-emotion-%Y%m%d-%H%M%S") + f"-{n}")
        png, js = stem.with_suffix(".png"), stem.with_suffix(".json")
        Image.fromarray(self._canvas).save(png)
        update = self._last_update
        # shown_labels: the chips in the saved picture (steady labels), beside the last analysis's own
        record: dict[str, Any] = {
            "analysis": None,
            "error": "",
            "window_s": None,
            "lag_s": None,
            "shown_labels": list(self._view.labels),
        }
        if update is not None:
            record.update(
                analysis=update.analysis.to_dict() if update.analysis is not None else None,
                error=update.error,
                window_s=[round(update.window_start, 3), round(update.window_end, 3)],
                lag_s=round(update.lag_s, 3),
            )
        js.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        self.stats.saved.append(png)
        print(f"saved {png} and {js.name}", flush=True)
        return png, js
