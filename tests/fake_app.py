"""The web app around a fake pipeline and fake live models: a real Gradio server without loading models."""

from __future__ import annotations

from gradio_client import Client

from omni_emotion.live import LiveModels
from omni_emotion.media import check_media, load_clip
from omni_emotion.types import Analysis
from omni_emotion.ui import UIConfig, build_demo

__all__ = ["FakePipeline", "fake_demo"]


class FakePipeline:
    """Records the paths it is given; checks them the way the real pipeline's decoder would."""

    engine_name = "fake"

    def __init__(self):
        self.paths: list[str] = []
        self.clips = []

    def analyze_file(self, path, progress=None):
        self.paths.append(str(path))
        check_media(path)
        load_clip(path)  # every frame checked, as the real pipeline's decoding does
        return Analysis(labels=["calm"], explanation="fake", engine="fake")

    def analyze_file_with_perception(self, path, progress=None):
        return self.analyze_file(path, progress), None

    def analyze_clip(self, clip, progress=None, speaker=None, fresh_seconds=None):
        self.clips.append(clip)
        return Analysis(labels=["calm"], explanation="fake", engine="fake")


class NoFaces:
    def detect(self, frame):
        return []


class NoTracks:
    def update(self, t, detections):
        return []


def fake_demo(pipeline: FakePipeline):
    models = LiveModels(detector=NoFaces(), new_tracker=NoTracks, expressions=None,
                        analyze_clip=pipeline.analyze_clip)
    demo = build_demo(pipeline, UIConfig(), live_models=models)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    return demo, Client(demo.local_url, verbose=False)
