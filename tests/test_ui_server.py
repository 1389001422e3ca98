"""The app in an in-process server, called through gradio_client (the API scripts use), with a small fake
pipeline passed in: /analyze, concurrency, bad uploads, the live twins, and the Evaluate endpoint."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import write_av, write_wav
from gradio_client import Client, handle_file

from omni_emotion.live import LiveConfig, LiveModels
from omni_emotion.media import load_clip
from omni_emotion.types import Analysis, Clues
from omni_emotion.ui import UIConfig, build_demo, launch_kwargs


@dataclass
class Det:
    box: np.ndarray
    score: float = 0.9


class FakeDetector:
    def detect(self, frame):
        h, w = frame.shape[:2]
        return [Det(np.array([w * 0.3, h * 0.2, w * 0.6, h * 0.7], np.float32))]


class FakeTracker:
    def update(self, t, detections):
        return [(1, d) for d in detections]


class FakeExpressions:
    def predict(self, crops):
        out = np.full((len(crops), 7), 0.01, np.float32)
        out[:, 3] = 0.94
        return out


class FakePipeline:
    """Decodes for real (so corrupt files fail the way they will), answers with fixed labels, and records
    how many analyses ran at the same time."""

    engine_name = "fake"
    device = "cpu"

    def __init__(self):
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.calls = 0

    def _answer(self, clip):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls += 1
        try:
            time.sleep(0.2)
            return Analysis(
                labels=["happy", "relaxed"],
                explanation=f"A smiling face over {clip.duration:.1f} s.",
                clues=Clues(visual="smiling", acoustic="" if not clip.has_audio else "a steady tone"),
                faces=[{"track_id": 1, "main": True}],
                engine="fake",
                evidence={"happy": ["smiling"]},
            )
        finally:
            with self.lock:
                self.active -= 1

    def analyze_file(self, path, progress=None):
        clip = load_clip(path, num_frames=2)
        if progress is not None:
            progress(0.5, "thinking")
        return self._answer(clip)

    def analyze_clip(self, clip, progress=None):
        return self._answer(clip)


@dataclass
class Server:
    demo: object
    client: Client
    pipeline: FakePipeline
    config: UIConfig


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_dir):
    pipeline = FakePipeline()
    models = LiveModels(FakeDetector(), FakeTracker, FakeExpressions(), pipeline.analyze_clip)
    evaldata = tmp_path_factory.mktemp("evaldata")
    (evaldata / "gt.csv").write_text("name,openset\nsample_a,\"['happy', 'relaxed']\"\n"
                                     "sample_b,\"['sad']\"\nsample_c,\"['angry']\"\n")
    (evaldata / "clips").mkdir()
    write_av(evaldata / "clips" / "sample_a.mp4", seconds=0.5)
    write_av(evaldata / "clips" / "sample_b.mp4", seconds=0.5)
    config = UIConfig(data_dirs=(shared_dir / "data", evaldata), max_upload_mb=2, queue_size=8,
                      live=LiveConfig(refresh_s=0.2))
    demo = build_demo(pipeline, config, live_models=models)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs(config))
    client = Client(demo.local_url, verbose=False)
    yield Server(demo, client, pipeline, config)
    client.close()
    demo.close()


def test_analyze_returns_the_analysis_json(server, media_dir):
    client = server.client
    result = client.predict(handle_file(str(media_dir / "single_face.mp4")), api_name="/analyze")
    assert set(result) == set(Analysis.JSON_KEYS)
    assert result["labels"] == ["happy", "relaxed"] and result["explanation"].startswith("A smiling face")


def test_four_concurrent_analyses_all_succeed_one_at_a_time(server, media_dir):
    client, pipeline = server.client, server.pipeline
    pipeline.max_active = 0
    path = str(media_dir / "single_face.jpg")
    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(client.predict, handle_file(path), api_name="/analyze") for _ in range(4)]
        results = [job.result(timeout=120) for job in jobs]
    assert all(r["labels"] == ["happy", "relaxed"] for r in results)
    assert pipeline.max_active == 1


def test_corrupt_upload_gets_a_clear_error_and_the_server_keeps_serving(server, tmp_path, media_dir):
    client = server.client
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    before = bad.read_bytes()
    with pytest.raises(Exception, match="broken.mp4"):
        client.predict(handle_file(str(bad)), api_name="/analyze")
    assert bad.read_bytes() == before
    assert client.predict(handle_file(str(media_dir / "single_face.jpg")), api_name="/analyze")["labels"]


def test_oversized_upload_is_refused_and_the_server_keeps_serving(server, tmp_path, media_dir):
    client = server.client
    big = tmp_path / "big.wav"
    write_wav(big, np.zeros(16_000 * 80, np.float32), 16_000)  # 2.5 MB > the 2 MB limit
    with pytest.raises(Exception, match="(?i)exceed|too large|maximum"):
        client.predict(handle_file(str(big)), api_name="/analyze")
    assert client.predict(handle_file(str(media_dir / "single_face.jpg")), api_name="/analyze")["labels"]


def test_live_twins_annotate_frames_and_return_labels(server, tmp_path, media_dir):
    client = server.client
    client.reset_session()
    annotated, *_ = client.predict(handle_file(str(media_dir / "single_face.jpg")),
                                                api_name="/live_frame")
    assert annotated and str(annotated).endswith((".jpeg", ".jpg", ".png", ".webp"))
    wav = write_wav(tmp_path / "chunk.wav", 0.3 * np.sin(np.linspace(0, 2000, 16_000)), 16_000)
    client.predict(handle_file(str(wav)), api_name="/live_audio")
    result = client.predict(api_name="/live_labels")
    assert result["labels"] == ["happy", "relaxed"]


def test_live_labels_without_input_is_a_clear_error(server):
    client = server.client
    client.reset_session()
    with pytest.raises(Exception, match="Nothing buffered"):
        client.predict(api_name="/live_labels")


def test_evaluate_scores_a_baseline_near_its_published_m_avg(server, data_dir):
    client = server.client
    _, table, samples, files = client.predict(
        str(data_dir / "ovmerd" / "check-openset.csv"), "Predictions file (CSV or JSONL)",
        str(data_dir / "ovmerd" / "baselines" / "Otter" / "openset.csv"), "", str(data_dir / "emotion_wheel"), 0,
        api_name="/evaluate",
    )
    rows = table["data"]
    ours = rows[0]
    assert ours[0] == "openset.csv"
    published = next(r for r in rows if r[0] == "Otter (published)")
    m_avg = table["headers"].index("M-avg")
    assert abs(float(ours[m_avg]) - float(published[m_avg])) < 1.5
    assert len(samples["data"]) == 332 and len(files) == 2


def test_evaluate_refuses_paths_outside_the_data_dirs(server, data_dir, tmp_path):
    client = server.client
    outside = tmp_path / "gt.csv"
    outside.write_text("name,openset\nx,[happy]\n")
    with pytest.raises(Exception, match="allowed data directories"):
        client.predict(str(outside), "Predictions file (CSV or JSONL)", str(outside), "",
                       str(data_dir / "emotion_wheel"), 0, api_name="/evaluate")


def test_status_lists_engine_and_every_registered_model(server):
    from omni_emotion.weights import REGISTRY

    client = server.client
    head, table, report = client.predict(api_name="/status")
    assert report["engine"] == "fake" and "Engine:** fake" in head
    assert [w["model"] for w in report["weights"]] == [s.name for s in REGISTRY]
    assert all(w["present"] or w["get"] for w in report["weights"])
    assert len(table["data"]) == len(REGISTRY)


def test_evaluate_runs_the_engine_over_a_clip_folder(server, data_dir):
    client = server.client
    summary, table, samples, _ = client.predict(
        "gt.csv", "Run the engine on a clip folder", "", "clips", str(data_dir / "emotion_wheel"), 0,
        api_name="/evaluate",
    )
    assert table["data"][0][0] == "omni-emotion (fake)"
    rows = {r[0]: r for r in samples["data"]}
    assert rows["sample_a"][2] == "happy, relaxed" and float(rows["sample_a"][3]) == 100.0
    assert float(rows["sample_b"][3]) == 0.0
    assert "no clip named sample_c" in rows["sample_c"][4]
    assert "Scored **2** samples, skipped **1**" in summary
