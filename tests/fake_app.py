"""The web app around a fake pipeline (``fixtures.FakePipeline(decode=True)``) and fake live models: a real
Gradio server without loading models."""

from __future__ import annotations

from fixtures import FakePipeline
from gradio_client import Client

from omni_emotion.live import LiveModels
from omni_emotion.ui import UIConfig, build_demo

__all__ = ["NoFaces", "NoTracks", "fake_demo"]


class NoFaces:
    def detect(self, frame):
        return []


class NoTracks:
    def update(self, t, detections):
        return []


def fake_demo(pipeline: FakePipeline):
    models = LiveModels(
        detector=NoFaces(), new_tracker=NoTracks, expressions=None, analyze_clip=pipeline.analyze_clip
    )
    demo = build_demo(pipeline, UIConfig(), live_models=models)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    return demo, Client(demo.local_url, verbose=False)
