"""The window loop in-process with stand-in models and a recording display: keys, saving, clean release, and
a live stream (an MPEG-TS pipe, as `ffmpeg ... -f mpegts pipe` feeds one) that disappears mid-run."""

from __future__ import annotations

import json
import os
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from omni_emotion.desktop.fonts import load_fonts
from omni_emotion.desktop.overlay import Painter
from omni_emotion.desktop.sources import MediaSource, PlaybackClock, parse_source
from omni_emotion.desktop.window import AudioGate, DesktopWindow, WindowConfig
from omni_emotion.errors import DeviceUnavailableError
from omni_emotion.live import LiveConfig, LiveSession
from tests.conftest import write_av
from tests.test_live import models


class RecordingDisplay:
    """Plays scripted keys, one per ``key()`` call once ``after`` frames were shown; records what it showed."""

    def __init__(self, keys=(), after: int = 3) -> None:
        self.keys, self.after = list(keys), after
        self.shown: list[np.ndarray] = []
        self.closed = False

    def show(self, canvas):
        self.shown.append(canvas)

    def key(self) -> str:
        return self.keys.pop(0) if self.keys and len(self.shown) >= self.after else ""

    def closed_by_user(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


class Closer:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def _window(source, clock, display, tmp_path, **config):
    session = LiveSession(models(), LiveConfig(refresh_s=0.2))
    gate = AudioGate(session)
    mic = Closer()
    window = DesktopWindow(
        session,
        source,
        clock,
        gate,
        Painter(load_fonts()),
        display,
        WindowConfig(save_dir=tmp_path, **config),
        closers=(mic,),
        engine="fake",
    )
    return window, session, mic


def test_keys_pause_mirror_save_and_quit_then_everything_is_released(tmp_path):
    clip = write_av(tmp_path / "c.mp4", seconds=1.0, fps=25, size=(320, 240))
    clock = PlaybackClock()
    source = MediaSource(parse_source(str(clip), devices_by_name=False), clock, on_audio=None, loop=True)
    display = RecordingDisplay(["m", "space"], after=3)
    window, session, mic = _window(source, clock, display, tmp_path, duration_s=30.0)

    seen_while_paused: list[tuple[bool, bool]] = []  # read here, asserted in the test's own thread below

    def later():  # resume, save once labels exist, quit
        deadline = time.monotonic() + 20
        while display.keys and time.monotonic() < deadline:  # m and space not served yet
            time.sleep(0.05)
        time.sleep(0.3)
        seen_while_paused.append((window.paused, clock.paused))
        display.keys += ["space"]
        deadline = time.monotonic() + 20
        while window.stats.updates == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        display.keys += ["s", "q"]

    helper = threading.Thread(target=later)
    helper.start()
    started = time.monotonic()
    assert window.run() == 0
    helper.join()
    assert seen_while_paused == [(True, True)]  # space paused both the window and the playback clock
    assert time.monotonic() - started < 25  # q quit, not the 30 s duration
    assert window.mirror and not window.paused and not clock.paused
    assert window.stats.updates >= 1 and window.stats.frames >= 3
    png = window.stats.saved[0]
    record = json.loads(png.with_suffix(".json").read_text())
    assert record["analysis"]["labels"] == ["happy", "excited"] and record["lag_s"] is not None
    from PIL import Image

    assert Image.open(png).size == (display.shown[-1].shape[1], display.shown[-1].shape[0])
    assert not source.alive and mic.closed and display.closed and not session.running
    assert session.buffered == (0, 0.0)


def test_a_file_camera_ends_the_window_at_its_end_without_loop(tmp_path):
    clip = write_av(tmp_path / "c.mp4", seconds=0.6, fps=25, size=(160, 120), tone_hz=None)
    clock = PlaybackClock()
    source = MediaSource(parse_source(str(clip), devices_by_name=False), clock)
    window, _, mic = _window(source, clock, RecordingDisplay(), tmp_path)
    assert window.run() == 0
    assert source.mailbox.ended and not source.alive and mic.closed


def _stream_into(fifo, seconds: float, fps: int = 15) -> None:
    """Write ``seconds`` of live MPEG-TS video into ``fifo`` in real time, then stop as a camera that is
    unplugged would: mid-stream, without an end marker."""
    import av

    with av.open(str(fifo), "w", format="mpegts") as out:
        stream = out.add_stream("mpeg2video", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        started = time.monotonic()
        for i in range(int(seconds * fps)):
            image = np.full((120, 160, 3), (i * 9) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
            time.sleep(max(0.0, started + (i + 1) / fps - time.monotonic()))


def test_a_stream_that_disappears_mid_run_is_one_sentence_not_a_frozen_window(tmp_path):
    fifo = tmp_path / "camera.ts"
    os.mkfifo(fifo)
    writer = threading.Thread(target=_stream_into, args=(fifo, 4.0), daemon=True)
    writer.start()
    clock = PlaybackClock()
    source = MediaSource(parse_source(str(fifo), devices_by_name=False), clock)
    assert source.live  # a pipe has no duration: it is a live camera, not a file
    window, session, mic = _window(source, clock, RecordingDisplay(), tmp_path, duration_s=60.0)
    started = time.monotonic()
    with pytest.raises(DeviceUnavailableError, match=r"^The stream .*camera.ts stopped delivering frames"):
        window.run()
    assert time.monotonic() - started < 30
    # the window showed the stream before it died; how many frames depends on the machine's load, not the code
    assert window.stats.frames >= 1
    assert not source.alive and mic.closed and not session.running
    writer.join(5)


def test_a_silent_live_source_counts_as_gone_after_stall_s(tmp_path):
    from omni_emotion.desktop.sources import _Reader

    class SilentCamera(_Reader):  # a camera that never delivers a frame
        live, describe = True, "camera at index 7"

        def _loop(self):
            self._stop.wait()

    camera = SilentCamera()
    window, _, _ = _window(camera, PlaybackClock(), RecordingDisplay(), tmp_path, stall_s=0.5)
    camera.mailbox.last_put -= 60  # opened a minute ago, while the models loaded: that is not a stall
    started = time.monotonic()
    with pytest.raises(
        DeviceUnavailableError, match=r"camera at index 7 stopped delivering frames for 0.5 s"
    ):
        window.run()
    assert time.monotonic() - started >= 0.5
    assert not camera.alive
