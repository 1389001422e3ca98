"""The app in an in-process server with the REAL clue-engine pipeline, called through gradio_client (the API
scripts use): /analyze, concurrency on one model instance, bad uploads, the live twins, Evaluate, Status.

One pipeline is loaded per test process (``real_pipeline``, shared with test_browser.py) and one server per
module, so the models load once (~13 s on 2 CPU cores)."""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import write_av, write_wav
from gradio_client import Client, handle_file

from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.wheels import load_wheels
from omni_emotion.live import LiveConfig, load_live_models
from omni_emotion.types import Analysis
from omni_emotion.ui import UIConfig, build_demo, launch_kwargs

pytestmark = pytest.mark.slow


@functools.cache
def real_pipeline():
    """The clue-engine EmotionPipeline, loaded once per test process (skips when its models are missing)."""
    from omni_emotion.errors import ModelNotFoundError
    from omni_emotion.pipeline import EmotionPipeline

    try:
        return EmotionPipeline.create(engine="clues")
    except ModelNotFoundError as err:
        pytest.skip(f"the clue engine's models are not installed: {err}")


class CountingPipeline:
    """Wraps the real pipeline (composition, nothing patched) and records how many analyses overlap."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.engine_name = pipeline.engine_name
        self.perceiver, self.engine = pipeline.perceiver, pipeline.engine
        self._count_lock = threading.Lock()
        self.active = self.max_active = self.calls = 0

    def _counted(self, fn, *args, **kwargs):
        with self._count_lock:
            self.active += 1
            self.calls += 1
            self.max_active = max(self.max_active, self.active)
        try:
            return fn(*args, **kwargs)
        finally:
            with self._count_lock:
                self.active -= 1

    def analyze_file(self, path, progress=None):
        return self._counted(self.pipeline.analyze_file, path, progress)

    def analyze_file_with_perception(self, path, progress=None):
        return self._counted(self.pipeline.analyze_file_with_perception, path, progress)

    def analyze_clip(self, clip, progress=None, **kwargs):
        return self._counted(self.pipeline.analyze_clip, clip, progress, **kwargs)

    def __getattr__(self, name):  # the rest of the pipeline (device, weights folder, expression model) as is
        return getattr(self.pipeline, name)


@dataclass
class Server:
    demo: object
    client: Client
    pipeline: CountingPipeline
    config: UIConfig


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_dir):
    pipeline = CountingPipeline(real_pipeline())
    evaldata = tmp_path_factory.mktemp("evaldata")
    (evaldata / "gt.csv").write_text(
        "name,openset\nsample_a,\"['happy', 'relaxed']\"\nsample_b,\"['sad']\"\nsample_c,\"['angry']\"\n"
    )
    (evaldata / "clips").mkdir()
    write_av(evaldata / "clips" / "sample_a.mp4", seconds=0.5)
    write_av(evaldata / "clips" / "sample_b.mp4", seconds=0.5)
    config = UIConfig(
        data_dirs=(shared_dir / "data", evaldata),
        max_upload_mb=2,
        queue_size=8,
        live=LiveConfig(refresh_s=0.2),
    )
    demo = build_demo(pipeline, config, live_models=load_live_models(pipeline))
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", **launch_kwargs(config))
    client = Client(demo.local_url, verbose=False)
    yield Server(demo, client, pipeline, config)
    client.close()
    demo.close()


def test_live_models_share_the_pipeline_models(server):
    live = load_live_models(server.pipeline)
    assert live.detector is server.pipeline.perceiver.faces
    assert live.expressions is server.pipeline.engine.expressions
    assert type(live.new_tracker()).__name__ == "FaceTracker"


def test_analyze_returns_the_analysis_json(server, media_dir):
    client = server.client
    result = client.predict(handle_file(str(media_dir / "single_face.mp4")), api_name="/analyze")
    assert set(result) == set(Analysis.JSON_KEYS)
    assert (
        result["engine"] == "clues" and result["labels"] and all(isinstance(w, str) for w in result["labels"])
    )
    assert "face" in result["explanation"].lower() and result["clues"]["visual"]
    assert [f["main"] for f in result["faces"]].count(True) == 1 and result["timeline"]


def test_four_concurrent_analyses_all_succeed_one_at_a_time(server, media_dir):
    client, pipeline = server.client, server.pipeline
    pipeline.max_active, calls = 0, pipeline.calls
    path = str(media_dir / "single_face.jpg")
    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(client.predict, handle_file(path), api_name="/analyze") for _ in range(4)]
        results = [job.result(timeout=120) for job in jobs]
    assert all(r["labels"] and r["labels"] == results[0]["labels"] for r in results)  # deterministic engine
    assert pipeline.calls - calls == 4 and pipeline.max_active == 1


def test_corrupt_upload_gets_a_clear_error_and_the_server_keeps_serving(server, tmp_path, media_dir):
    client = server.client
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    before = bad.read_bytes()
    with pytest.raises(Exception, match=r"broken.mp4"):
        client.predict(handle_file(str(bad)), api_name="/analyze")
    assert bad.read_bytes() == before
    assert client.predict(handle_file(str(media_dir / "single_face.jpg")), api_name="/analyze")["labels"]


def test_oversized_upload_is_refused_and_the_server_keeps_serving(server, tmp_path, media_dir):
    client = server.client
    big = tmp_path / "big.wav"
    write_wav(big, np.zeros(16_000 * 80, np.float32), 16_000)  # 2.5 MB > the 2 MB limit
    with pytest.raises(Exception, match=r"(?i)exceed|too large|maximum"):
        client.predict(handle_file(str(big)), api_name="/analyze")
    assert client.predict(handle_file(str(media_dir / "single_face.jpg")), api_name="/analyze")["labels"]


def test_live_twins_annotate_frames_and_return_labels(server, tmp_path, media_dir):
    client = server.client
    client.reset_session()
    annotated, *_ = client.predict(handle_file(str(media_dir / "single_face.jpg")), api_name="/live_frame")
    assert annotated and str(annotated).endswith((".jpeg", ".jpg", ".png", ".webp"))
    wav = write_wav(tmp_path / "chunk.wav", 0.3 * np.sin(np.linspace(0, 2000, 16_000)), 16_000)
    client.predict(handle_file(str(wav)), api_name="/live_audio")
    result = client.predict(api_name="/live_labels")
    assert result["engine"] == "clues" and result["labels"] and result["explanation"]
    assert result["faces"], "the buffered webcam frame shows a face"


def test_live_labels_without_input_is_a_clear_error(server):
    client = server.client
    client.reset_session()
    with pytest.raises(Exception, match="Nothing buffered"):
        client.predict(api_name="/live_labels")


def test_evaluate_scores_a_baseline_near_its_published_m_avg(server, data_dir):
    client = server.client
    _, table, samples, files = client.predict(
        str(data_dir / "ovmerd" / "check-openset.csv"),
        "Predictions file (CSV or JSONL)",
        str(data_dir / "ovmerd" / "baselines" / "Otter" / "openset.csv"),
        "",
        str(data_dir / "emotion_wheel"),
        0,
        api_name="/evaluate",
    )
    rows = table["data"]
    ours = next(r for r in rows if r[0].endswith("(this run)"))
    assert ours[0] == "Otter/openset.csv (this run)"
    published = next(r for r in rows if r[0] == "Otter (published)")
    m_avg = table["headers"].index("M-avg")
    assert abs(float(ours[m_avg]) - float(published[m_avg])) < 1.5
    assert len(samples["data"]) == 332 and len(files) == 2


def test_evaluate_refuses_paths_outside_the_data_dirs(server, data_dir, tmp_path):
    client = server.client
    outside = tmp_path / "gt.csv"
    outside.write_text("name,openset\nx,[happy]\n")
    with pytest.raises(Exception, match="allowed data directories"):
        client.predict(
            str(outside),
            "Predictions file (CSV or JSONL)",
            str(outside),
            "",
            str(data_dir / "emotion_wheel"),
            0,
            api_name="/evaluate",
        )


def test_status_lists_engine_and_every_registered_model(server):
    from omni_emotion.weights import REGISTRY

    client = server.client
    head, table, report = client.predict(api_name="/status")
    assert report["engine"] == "clues" and "Engine:** clues" in head
    assert [w["model"] for w in report["weights"]] == [s.name for s in REGISTRY]
    # this server runs the clue engine, which cannot load without its models: the tab must see them
    clue_rows = [w for w in report["weights"] if w["engine"] == "clues"]
    assert clue_rows and all(w["present"] and w["location"] for w in clue_rows)
    # readiness of the engine in use comes first, then the optional files
    assert head.startswith("**Ready:** the `clues` engine in use has all ")
    assert head.index("**Ready:**") < head.index("Optional:") < head.index("**Engine:**")
    # each table row says present or missing as the report does, with the folder or the command to get it
    assert len(table["data"]) == len(REGISTRY)
    for w, row in zip(report["weights"], table["data"]):
        assert row[0] == w["model"] and row[3] == ("yes" if w["present"] else "missing")
        assert row[4] == (w["location"] if w["present"] else w["get"]) and row[4]


def test_evaluate_runs_the_engine_over_a_clip_folder(server, data_dir):
    client = server.client
    summary, table, samples, _ = client.predict(
        "gt.csv",
        "Run the engine on a clip folder",
        "",
        "clips",
        str(data_dir / "emotion_wheel"),
        0,
        api_name="/evaluate",
    )
    assert "omni-emotion (clues, this run)" in [r[0] for r in table["data"]]
    rows = {r[0]: r for r in samples["data"]}
    assert "no clip named sample_c" in rows["sample_c"][4]
    assert "Scored **2** samples, skipped **1**" in summary
    # the clips that exist were analysed by the engine: each row shows the labels the engine gives for that
    # clip and the sample's own F (the mean over the groupings its truth maps to), and says it was scored
    tables = load_wheels(data_dir / "emotion_wheel")
    clips, truth = (
        server.config.data_dirs[1] / "clips",
        {"sample_a": ["happy", "relaxed"], "sample_b": ["sad"]},
    )
    for name, labels in truth.items():
        direct = server.pipeline.pipeline.analyze_file(clips / f"{name}.mp4").labels
        alone = score_dataset({name: labels}, {name: direct}, tables).groupings.values()
        f_mean = sum(g.f_score for g in alone if g.n) / sum(1 for g in alone if g.n)
        assert rows[name][1:] == [", ".join(labels), ", ".join(direct), round(100 * f_mean, 1), "scored"]
