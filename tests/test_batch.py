"""Folder jobs (`analyze DIR --out`, `eval --videos --ray`): records, failures, resuming, Parquet, Ray.

A light stand-in pipeline reads each clip's labels from the file's bytes, so the job logic is tested in
milliseconds; the Ray tests start a real local Ray (this machine only, 2 actors) with the same stand-in.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from test_eval_wheels import write_tables

from omni_emotion.cli import main
from omni_emotion.errors import ConfigError, ModelNotFoundError, UnsupportedMediaError
from omni_emotion.evaluation.runner import predict_clips
from omni_emotion.jobs import RayConfig, run_clips
from omni_emotion.jobs.folder import analyze_eval_clips, analyze_folder
from omni_emotion.jobs.ray import AnalyzeStage, decode_row
from omni_emotion.types import Analysis

TESTS = Path(__file__).resolve().parent


class TextPipeline:
    """Labels are the file's text ("happy,calm"); a file reading "broken" is rejected like a bad clip."""

    def __init__(self):
        self.calls: list[str] = []

    def analyze_file(self, path, progress=None):
        self.calls.append(Path(path).name)
        text = Path(path).read_text().strip()
        if text == "broken":
            raise UnsupportedMediaError(f"The file {Path(path).name} is not readable audio, video or image.")
        labels = text.split(",")
        return Analysis(labels=labels, explanation=f"read {' and '.join(labels)}", engine="text")


class TextFactory:
    """Builds a TextPipeline; with ``marks``, each build leaves a file named after its process id."""

    def __init__(self, marks: Path | None = None):
        self.marks, self.built = marks, []

    def create(self) -> TextPipeline:
        if self.marks is not None:
            (self.marks / f"built-{os.getpid()}").touch()
        pipeline = TextPipeline()
        self.built.append(pipeline)
        return pipeline


def _clips(folder: Path, texts: dict[str, str]) -> Path:
    for name, text in texts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def _records(path: Path) -> dict[str, dict]:
    return {r["clip"]: r for r in map(json.loads, path.read_text().splitlines())}


CLIPS = {
    "a.mp4": "happy,calm",
    "sub/b.wav": "sad",
    "c.mov": "broken",
    "d.jpg": "angry",
    "notes.txt": "not media",
    ".hidden.mp4": "happy",
    ".cache/e.mp4": "happy",
}


def test_folder_job_writes_one_record_per_clip_and_records_failures(tmp_path):
    videos = _clips(tmp_path / "videos", CLIPS)
    factory = TextFactory()
    summary = analyze_folder(videos, tmp_path / "out.jsonl", factory)
    records = _records(tmp_path / "out.jsonl")
    assert sorted(records) == ["a.mp4", "c.mov", "d.jpg", "sub/b.wav"]  # media only, hidden entries left out
    assert records["a.mp4"]["labels"] == ["happy", "calm"] and records["a.mp4"]["engine"] == "text"
    assert set(Analysis.JSON_KEYS) <= set(records["sub/b.wav"])
    error = "The file c.mov is not readable audio, video or image."
    assert records["c.mov"] == {"clip": "c.mov", "error": error}
    assert (summary.analysed, summary.failed, summary.skipped) == (4, 1, 0)
    assert len(factory.built) == 1  # the pipeline loads once for the whole folder
    assert "analysed 4 clips" in summary.line() and "clips/s" in summary.line()


def test_an_interrupted_job_resumes_with_the_clips_not_yet_written(tmp_path):
    videos = _clips(tmp_path / "videos", {"a.mp4": "happy", "b.mp4": "sad"})
    out = tmp_path / "out.jsonl"
    analyze_folder(videos, out, TextFactory())
    # a run killed while writing its last record leaves half a line
    out.write_text(out.read_text() + '{"clip": "c.mp4", "lab')
    _clips(videos, {"c.mp4": "angry", "d.mp4": "broken"})
    factory = TextFactory()
    summary = analyze_folder(videos, out, factory)
    assert sorted(factory.built[0].calls) == ["c.mp4", "d.mp4"]
    assert (summary.analysed, summary.failed, summary.skipped) == (2, 1, 2)
    lines = out.read_text().splitlines()
    assert lines[2] == '{"clip": "c.mp4", "lab'  # kept as it was, and no longer swallows the next record
    records = {}
    for line in lines[:2] + lines[3:]:
        records[json.loads(line)["clip"]] = json.loads(line)
    assert sorted(records) == ["a.mp4", "b.mp4", "c.mp4", "d.mp4"] and records["c.mp4"]["labels"] == ["angry"]
    factory = TextFactory()
    # nothing left to do: no model loads
    assert analyze_folder(videos, out, factory).analysed == 0 and factory.built == []


def test_parquet_output_is_a_folder_of_parts_and_resumes(tmp_path):
    import pyarrow.parquet as pq

    videos = _clips(tmp_path / "videos", {"a.mp4": "happy,calm", "b.mp4": "broken"})
    out = tmp_path / "out.parquet"
    analyze_folder(videos, out, TextFactory(), fmt="parquet")
    _clips(videos, {"c.mp4": "sad"})
    factory = TextFactory()
    analyze_folder(videos, out, factory, fmt="parquet")
    assert factory.built[0].calls == ["c.mp4"]
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    rows = {r["clip"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["a.mp4"]["labels"] == ["happy", "calm"] and rows["a.mp4"]["error"] is None
    assert json.loads(rows["a.mp4"]["analysis"])["explanation"] == "read happy and calm"
    assert rows["b.mp4"]["labels"] is None and "not readable" in rows["b.mp4"]["error"]


def test_the_ray_stage_builds_its_pipeline_once_and_serves_every_batch(tmp_path):
    videos = _clips(tmp_path, {"a.mp4": "happy", "b.mp4": "broken", "c.mp4": "sad"})
    factory = TextFactory()
    stage = AnalyzeStage(factory)
    first = stage({"key": ["a", "b"], "path": [str(videos / "a.mp4"), str(videos / "b.mp4")]})
    second = stage({"key": ["c"], "path": [str(videos / "c.mp4")]})
    assert len(factory.built) == 1
    results = [decode_row(text) for text in first["result"] + second["result"]]
    assert [r.key for r in results] == ["a", "b", "c"] and results[2].analysis["labels"] == ["sad"]
    assert results[1].analysis is None and "not readable" in results[1].error


class MissingWeights:
    def create(self):
        raise ModelNotFoundError("No omni model under weights/; run `omni-emotion weights init`.")


def test_a_pipeline_that_cannot_load_on_an_actor_stops_the_job_with_its_own_error(tmp_path):
    stage = AnalyzeStage(MissingWeights())
    rows = stage({"key": ["a", "b"], "path": [str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")]})["result"]
    assert len(rows) == 2
    with pytest.raises(ModelNotFoundError, match=r"^No omni model under weights/"):
        decode_row(rows[0])


def _error_line(capsys, *args) -> tuple[int, str]:
    code = main([*map(str, args)])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def test_folder_options_are_checked_with_one_sentence(tmp_path, capsys):
    videos = _clips(tmp_path / "videos", {"a.mp4": "happy"})
    code, line = _error_line(capsys, "analyze", videos)
    assert code == 2 and "--out results.jsonl" in line
    code, line = _error_line(capsys, "analyze", videos / "a.mp4", "--out", tmp_path / "x.jsonl")
    assert code == 2 and "is not one" in line
    code, line = _error_line(
        capsys, "analyze", videos, "--out", tmp_path / "x.jsonl", "--ray", "--actors", "0"
    )
    assert code == 2 and "--actors must be at least 1" in line
    (tmp_path / "file.parquet").write_text("x")
    with pytest.raises(ConfigError, match="writes a folder"):
        analyze_folder(videos, tmp_path / "file.parquet", TextFactory(), fmt="parquet")


def test_without_ray_the_ray_option_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where the extra is not installed
    videos = _clips(tmp_path / "videos", {"a.mp4": "happy"})
    code, line = _error_line(capsys, "analyze", videos, "--out", tmp_path / "x.jsonl", "--ray")
    assert code == 2 and line.startswith("omni-emotion: error: --ray needs Ray") and "[scale]" in line
    gt = tmp_path / "gt.csv"
    gt.write_text("name,openset\na,[happy]\n")
    wheels = write_tables(tmp_path / "wheels")
    code, line = _error_line(
        capsys,
        "eval",
        "--gt",
        gt,
        "--videos",
        videos,
        "--wheels",
        wheels,
        "--ray",
        "--cache",
        tmp_path / "c.jsonl",
    )
    assert code == 2 and "--ray needs Ray" in line


@pytest.fixture()
def ray_workers_import_tests(monkeypatch):
    """Ray workers unpickle the stand-in pipeline by module name: let them import it from tests/."""
    pytest.importorskip("ray")
    paths = [str(TESTS), os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))


def test_ray_gives_the_same_results_as_one_process_with_one_pipeline_per_actor(
    tmp_path, ray_workers_import_tests
):
    texts = {f"clip{i}.mp4": ("broken" if i == 3 else f"happy,label{i}") for i in range(8)}
    videos = _clips(tmp_path / "videos", texts)
    marks = tmp_path / "marks"
    marks.mkdir()
    analyze_folder(videos, tmp_path / "seq.jsonl", TextFactory())
    summary = analyze_folder(videos, tmp_path / "ray.jsonl", TextFactory(marks), ray=RayConfig(actors=2))
    assert _records(tmp_path / "ray.jsonl") == _records(tmp_path / "seq.jsonl")
    assert (summary.analysed, summary.failed) == (8, 1)
    assert len(list(marks.iterdir())) == 2  # two actors, each built its pipeline once, for 8 clips

    # eval --videos: Ray fills the runner's cache; predict_clips then analyses nothing more
    names = [*(Path(n).stem for n in texts), "absent", "../escape"]
    sequential = predict_clips(names, videos, TextPipeline(), tmp_path / "seq-cache.jsonl")
    analyze_eval_clips(names, videos, tmp_path / "ray-cache.jsonl", TextFactory(), RayConfig(actors=2))
    after_ray = TextPipeline()
    on_ray = predict_clips(names, videos, after_ray, tmp_path / "ray-cache.jsonl")
    assert after_ray.calls == []
    assert on_ray.labels == sequential.labels and on_ray.problems == sequential.problems
    assert "absent" in on_ray.problems and "../escape" in on_ray.problems


def test_sequential_results_come_in_job_order(tmp_path):
    videos = _clips(tmp_path, {"x.mp4": "a", "y.mp4": "b"})
    jobs = [("y", videos / "y.mp4"), ("x", videos / "x.mp4")]
    assert [r.key for r in run_clips(jobs, TextFactory())] == ["y", "x"]
