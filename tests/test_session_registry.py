"""One live session per browser session, even when its first webcam frame and first audio chunk arrive
together (two events with their own concurrency ids, both starting before either stored its gr.State)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from conftest import write_wav
from fake_app import NoFaces, NoTracks
from fixtures import FakePipeline
from gradio_client import Client, handle_file

from omni_emotion.live import LiveModels, LiveSession
from omni_emotion.ui import UIConfig, build_demo, live_tab
from omni_emotion.ui.session_registry import SessionRegistry
from omni_emotion.ui.tempfiles import app_temp_dir

RACERS = 8
OVERLAP_WAIT_S = 2.0  # how long the first creation waits for a second one to start beside it


class Overlapping:
    """A factory whose first call waits until a second call starts (or OVERLAP_WAIT_S pass): without a lock
    around get-or-create, the other racers reach it during that wait, every run, whatever the scheduling."""

    def __init__(self, new=object):
        self.new = new
        self.calls = 0
        self.lock = threading.Lock()
        self.second = threading.Event()

    def __call__(self):
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.second.wait(OVERLAP_WAIT_S)
        else:
            self.second.set()
        return self.new()


def test_concurrent_first_calls_of_one_session_get_one_object():
    factory = Overlapping()
    registry = SessionRegistry(factory)
    start = threading.Barrier(RACERS)

    def first_event(_):
        start.wait()
        return registry.get("session-a")

    with ThreadPoolExecutor(RACERS) as pool:
        got = list(pool.map(first_event, range(RACERS)))
    assert factory.calls == 1 and all(item is got[0] for item in got)
    assert registry.get("session-b") is not got[0] and len(registry) == 2


def test_discard_forgets_the_object_and_a_later_call_makes_a_new_one():
    registry = SessionRegistry(object)
    first = registry.get("s")
    registry.discard(first)
    assert len(registry) == 0 and registry.get("s") is not first
    registry.discard(first)  # already gone: nothing happens
    assert registry.get(None) is not registry.get(None)  # no session key: nothing to share


def test_first_frame_and_first_audio_chunk_share_one_live_session(tmp_path, monkeypatch):
    """Through the real server: the tracker factory (called when a LiveSession is made) holds the first
    creation until a second starts, so two sessions would be made if the two first events raced."""
    made = []

    class CountedSession(LiveSession):
        def __init__(self, *args, **kwargs):
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(live_tab, "LiveSession", CountedSession)
    pipeline = FakePipeline(decode=True)
    models = LiveModels(
        detector=NoFaces(),
        new_tracker=Overlapping(NoTracks),
        expressions=None,
        analyze_clip=pipeline.analyze_clip,
    )
    frame = tmp_path / "frame.png"
    cv2.imwrite(str(frame), np.full((48, 64, 3), 90, np.uint8))
    chunk = write_wav(tmp_path / "chunk.wav", 0.3 * np.sin(np.linspace(0, 2000, 16_000)), 16_000)
    with app_temp_dir():
        demo = build_demo(pipeline, UIConfig(), live_models=models)
        demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
        client = Client(demo.local_url, verbose=False)
        try:
            jobs = [
                client.submit(handle_file(str(frame)), api_name="/live_frame"),
                client.submit(handle_file(str(chunk)), api_name="/live_audio"),
            ]
            for job in jobs:
                job.result(timeout=60)
        finally:
            client.close()
            demo.close()
            for session in made:
                session.close(wait=False)
    assert len(made) == 1
