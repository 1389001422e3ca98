"""LiveSession: fast path, bounded buffers, background analysis that never blocks frames, freeing on stop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from omni_emotion.errors import ConfigError, FrameTooLargeError, MediaError
from omni_emotion.live import EXPRESSIONS, LiveConfig, LiveModels, LiveSession
from omni_emotion.media import pcm_to_float
from omni_emotion.types import Analysis


@dataclass
class Det:
    box: np.ndarray
    score: float = 0.9


class FakeDetector:
    def __init__(self, boxes=((10, 20, 60, 80),)):
        self.boxes = [np.array(b, dtype=np.float32) for b in boxes]

    def detect(self, frame):
        return [Det(b) for b in self.boxes]


class FakeTracker:
    def update(self, t, detections):
        return [(i + 1, d) for i, d in enumerate(detections)]


class FakeExpressions:
    def __init__(self, cls: int = 3):
        self.cls = cls
        self.calls = []

    def predict(self, crops):
        self.calls.append([c.shape for c in crops])
        out = np.full((len(crops), 7), 0.01, np.float32)
        out[:, self.cls] = 0.94
        return out


class FakeAnalyzer:
    """Records each clip; with a ``clock``, each analysis takes ``takes_s`` on it."""

    def __init__(
        self,
        gate: threading.Event | None = None,
        error: Exception | None = None,
        clock: Clock | None = None,
        takes_s: float = 0.0,
    ):
        self.clips = []
        self.calls = []  # (speaker memory, fresh seconds) of each call
        self.results = []  # the Analysis returned by each call, a new object each time
        self.gate = gate
        self.error = error
        self.clock = clock
        self.takes_s = takes_s

    def __call__(self, clip, speaker=None, fresh_seconds=None):
        self.clips.append(clip)
        self.calls.append((speaker, fresh_seconds))
        if self.gate is not None:
            self.gate.wait(10)
        if self.clock is not None:
            self.clock.t += self.takes_s
        if self.error is not None:
            raise self.error
        self.results.append(Analysis(labels=["happy", "excited"], explanation="smiling", engine="fake"))
        return self.results[-1]


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def models(analyzer=None, detector=None, expressions="default"):
    return LiveModels(
        detector=detector or FakeDetector(),
        new_tracker=FakeTracker,
        expressions=FakeExpressions() if expressions == "default" else expressions,
        analyze_clip=analyzer or FakeAnalyzer(),
    )


def frame(h=120, w=160, value=90):
    return np.full((h, w, 3), value, np.uint8)


def test_fast_path_returns_tracked_faces_with_expression_and_leaves_frame_alone():
    session = LiveSession(models(), background=False)
    img = frame()
    before = img.copy()
    out = session.process_frame(img)
    assert np.array_equal(img, before)
    assert len(out.faces) == 1
    face = out.faces[0]
    assert face.track_id == 1 and face.expression == "happy"
    assert face.box == (10.0, 20.0, 60.0, 80.0)
    assert len(face.probabilities) == len(EXPRESSIONS)
    assert out.elapsed_ms >= 0


def test_expression_smoothing_follows_a_changed_expression_gradually():
    expr = FakeExpressions(cls=3)
    clock = Clock()
    session = LiveSession(
        models(expressions=expr), LiveConfig(smoothing=0.5, expression_hz=5.0), clock=clock, background=False
    )
    session.process_frame(frame())
    expr.cls = 4  # sad
    clock.t += 0.2
    first = session.process_frame(frame()).faces[0]
    assert first.probabilities[3] == pytest.approx(first.probabilities[4])  # halfway between
    for _ in range(3):
        clock.t += 0.2
        last = session.process_frame(frame()).faces[0]
    assert last.expression == "sad"


def test_expressions_are_refreshed_on_their_schedule_not_every_frame():
    expr = FakeExpressions(cls=3)
    clock = Clock()
    session = LiveSession(
        models(expressions=expr), LiveConfig(expression_hz=5.0), clock=clock, background=False
    )
    for _ in range(50):  # 2 s at 25 frames/s
        face = session.process_frame(frame()).faces[0]
        clock.t += 0.04
        assert face.expression == "happy"  # every frame still carries the face's expression
    assert len(expr.calls) == 10


def test_no_expression_model_gives_empty_expression():
    session = LiveSession(models(expressions=None), background=False)
    face = session.process_frame(frame()).faces[0]
    assert face.expression == "" and face.probabilities == ()


def test_frame_buffer_is_bounded_and_sampled_at_buffer_fps():
    clock = Clock()
    config = LiveConfig(window_s=2.0, buffer_fps=5.0)
    session = LiveSession(models(), config, clock=clock, background=False)
    for _ in range(300):  # 10 s at 30 fps
        session.process_frame(frame())
        clock.t += 1 / 30
    frames, _ = session.buffered
    assert frames == config.max_buffered_frames == 11


def test_audio_buffer_is_bounded_and_aligned_with_frames():
    clock = Clock()
    analyzer = FakeAnalyzer(clock=clock, takes_s=0.25)
    session = LiveSession(
        models(analyzer), LiveConfig(window_s=2.0, buffer_fps=10.0), clock=clock, background=False
    )
    for _ in range(60):  # 6 s of 48 kHz int16 chunks every 0.1 s, a frame with each
        clock.t += 0.1
        session.add_audio(np.full(4800, 16384, np.int16), 48_000)
        session.process_frame(frame())
    _, audio_s = session.buffered
    assert audio_s <= 2.0 + 0.1
    update = session.analyze_now()
    clip = analyzer.clips[-1]
    assert clip.has_video and clip.has_audio
    assert clip.timestamps[0] == 0.0 and clip.timestamps[-1] == pytest.approx(1.9, abs=0.11)
    # audio covers the frames' span (resampled to 16 kHz), not the whole ring
    assert clip.audio_seconds == pytest.approx(clip.timestamps[-1], abs=0.15)
    assert np.allclose(clip.audio[100:-100], 0.5, atol=0.02)
    # the update publishes what the analyser returned for this very window, timed on the session clock:
    # the window ends at the newest input (6 s in), and its labels exist once the analysis (0.25 s) is done
    assert update is session.latest and update.analysis is analyzer.results[-1] and update.error == ""
    assert update.window_end == pytest.approx(6.0) and session.now() == pytest.approx(6.25)
    # it spans the clip: from its first frame to its newest input (here the audio), within window_s
    assert update.window_start + clip.timestamps[-1] <= update.window_end <= update.window_start + 2.0
    assert update.lag_s == pytest.approx(0.25)


def test_unsigned_microphone_audio_is_centred_like_a_file():
    """8-bit PCM sits about 128: the session reads its silence as 0.0 and its extremes as about -1 and +1, as
    decoding a file does (one normaliser, ``media.pcm_to_float``)."""
    clock = Clock()
    analyzer = FakeAnalyzer()
    session = LiveSession(models(analyzer), LiveConfig(min_audio_s=0.5), clock=clock, background=False)
    clock.t += 1.0
    session.add_audio(np.full(16_000, 128, np.uint8), 16_000)
    assert session.analyze_now() is not None
    assert np.abs(analyzer.clips[-1].audio).max() < 1e-6
    loud = np.tile(np.array([0, 255], np.uint8), 8_000)
    assert np.allclose(pcm_to_float(loud)[:2], [-1.0, 127 / 128])


def test_audio_only_session_is_analysed_once_long_enough():
    clock = Clock()
    analyzer = FakeAnalyzer()
    session = LiveSession(models(analyzer), LiveConfig(min_audio_s=0.5), clock=clock, background=False)
    session.add_audio(np.zeros((1600, 2), np.float32), 16_000)  # 0.1 s stereo
    assert session.analyze_now() is None
    clock.t += 1.0
    session.add_audio(np.zeros(16_000, np.float32), 16_000)
    assert session.analyze_now() is not None
    assert not analyzer.clips[-1].has_video and analyzer.clips[-1].audio_seconds >= 1.0


def test_windows_read_the_voice_against_the_sessions_memory_of_the_speaker():
    clock = Clock()
    analyzer = FakeAnalyzer()
    session = LiveSession(
        models(analyzer), LiveConfig(window_s=4.0, min_audio_s=0.5), clock=clock, background=False
    )
    for _ in range(3):  # three overlapping 4 s windows, one second apart
        clock.t += 1.0
        session.add_audio(np.zeros(16_000, np.float32), 16_000)
        session.analyze_now()
    (first, fresh1), (second, fresh2), (third, fresh3) = analyzer.calls
    assert first is second is third  # one memory per session, carried from window to window
    assert fresh1 == pytest.approx(4.0)  # all of the first window is new (SpeakerVoice caps it at its speech)
    assert fresh2 == pytest.approx(1.0) and fresh3 == pytest.approx(1.0)  # overlaps count only the new second
    other = LiveSession(models(analyzer), clock=clock, background=False)
    other.add_audio(np.zeros(16_000, np.float32), 16_000)
    other.analyze_now()
    assert analyzer.calls[-1][0] is not first  # each session (each person) has its own


def test_user_error_in_analysis_is_published_not_raised():
    session = LiveSession(models(FakeAnalyzer(error=MediaError("the buffer is odd."))), background=False)
    session.process_frame(frame())
    update = session.analyze_now()
    assert update.analysis is None and update.error == "the buffer is odd."


def test_background_analysis_never_blocks_the_fast_path_and_publishes_labels():
    gate = threading.Event()
    analyzer = FakeAnalyzer(gate=gate)
    session = LiveSession(models(analyzer), LiveConfig(refresh_s=0.05, idle_stop_s=5.0))
    try:
        session.process_frame(frame())
        deadline = time.monotonic() + 5
        while not analyzer.clips and time.monotonic() < deadline:
            time.sleep(0.01)
        assert analyzer.clips, "the worker did not start an analysis"
        # the analysis is stuck on the gate; frames still go through
        for _ in range(5):
            assert len(session.process_frame(frame()).faces) == 1
        assert session.latest is None
        gate.set()
        while session.latest is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert session.latest.analysis.labels == ["happy", "excited"]
    finally:
        gate.set()
        session.close()


def test_stream_stop_frees_buffers_and_stops_worker():
    session = LiveSession(models(), LiveConfig(refresh_s=0.05, idle_stop_s=0.2))
    session.process_frame(frame())
    session.add_audio(np.zeros(4800, np.int16), 48_000)
    assert session.running and session.buffered[0] == 1
    deadline = time.monotonic() + 5
    while session.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not session.running
    assert session.buffered == (0, 0.0)
    session.process_frame(frame())  # a new frame restarts the session
    assert session.running
    session.close()
    assert not session.running and session.buffered == (0, 0.0)


def test_bad_frames_and_configs_are_rejected():
    session = LiveSession(models(), background=False)
    with pytest.raises(ValueError):
        session.process_frame(np.zeros((10, 10), np.uint8))
    with pytest.raises(ConfigError, match="refresh_s"):
        LiveConfig(refresh_s=0)
    with pytest.raises(ConfigError, match="smoothing"):
        LiveConfig(smoothing=1.0)


def test_close_without_waiting_frees_at_once_and_the_worker_ends_after_its_analysis():
    gate = threading.Event()
    analyzer = FakeAnalyzer(gate=gate)
    session = LiveSession(models(analyzer), LiveConfig(refresh_s=0.05, idle_stop_s=5.0))
    session.process_frame(frame())
    deadline = time.monotonic() + 5
    while not analyzer.clips and time.monotonic() < deadline:
        time.sleep(0.01)
    session.close(wait=False)  # returns although the analysis is stuck on the gate
    assert session.buffered == (0, 0.0) and session.running
    gate.set()
    while session.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not session.running


EXIT_SCRIPT = """
import threading, time
import numpy as np, torch
from omni_emotion.live import LiveConfig, LiveModels, LiveSession
from omni_emotion.types import Analysis

norm = torch.nn.BatchNorm2d(64).eval()

def slow_torch_analysis(clip):
    x = torch.randn(8, 64, 64, 64)
    for _ in range(200):  # long enough that the process ends while this runs
        norm(x)
    return Analysis(labels=["calm"], explanation="")

class Detector:
    def detect(self, frame):
        return []

class Tracker:
    def update(self, t, detections):
        return []

models = LiveModels(Detector(), Tracker, None, slow_torch_analysis)
session = LiveSession(models, LiveConfig(refresh_s=0.05, idle_stop_s=0.5))
for _ in range(5):
    session.process_frame(np.zeros((48, 64, 3), np.uint8))
    time.sleep(0.02)
time.sleep(0.3)  # the worker is inside the torch loop now; the script ends without closing the session
"""


def test_process_exits_cleanly_while_a_live_analysis_runs(tmp_path):
    """A background analysis still running when the interpreter exits must not abort the process."""
    import subprocess
    import sys

    script = tmp_path / "exit_during_analysis.py"
    script.write_text(EXIT_SCRIPT)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_change_of_frame_size_starts_a_new_window():
    """Three 640x480 frames then three 320x240 (a rotated phone, a resized window): the analysis sees only
    the new size instead of failing to stack mixed sizes."""
    clock = Clock()
    analyzer = FakeAnalyzer()
    session = LiveSession(models(analyzer), LiveConfig(buffer_fps=10.0), clock=clock, background=False)
    for h, w in [(480, 640)] * 3 + [(240, 320)] * 3:
        session.process_frame(frame(h, w))
        clock.t += 0.2
        update = session.analyze_now()
        assert update.error == "" and update.analysis is not None
    assert analyzer.clips[-1].frames.shape == (3, 240, 320, 3)


def test_the_worker_survives_a_change_of_frame_size():
    """The background worker analyses the new size and keeps running. The wait is for a condition, with a
    deadline far above the worst case on a busy machine, so the test does not depend on timing."""
    analyzer = FakeAnalyzer()
    session = LiveSession(models(analyzer), LiveConfig(refresh_s=0.05, idle_stop_s=300.0, buffer_fps=50.0))
    try:
        for h, w in [(480, 640)] * 3 + [(240, 320)] * 3:
            session.process_frame(frame(h, w))
            time.sleep(0.03)
        worker = session._worker
        deadline = time.monotonic() + 120
        while (
            not (
                analyzer.clips
                and analyzer.clips[-1].frames.shape[1:3] == (240, 320)
                and session.latest is not None
            )
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        assert analyzer.clips[-1].frames.shape[1:3] == (240, 320)
        assert session.latest is not None and session.latest.error == ""
        assert session.running and session._worker is worker
    finally:
        session.close()


def test_a_frame_above_the_pixel_limit_is_refused_before_any_model_runs():
    detector = FakeDetector()
    detector.detect = lambda f: pytest.fail("the detector ran on a refused frame")
    session = LiveSession(models(detector=detector), background=False)
    with pytest.raises(FrameTooLargeError, match="9000x9000"):
        session.process_frame(np.zeros((9000, 9000, 3), np.uint8))  # calloc'd: no 243 MB actually touched
    assert session.buffered == (0, 0.0)
