"""Dataset runner and the `omni-emotion eval` command: input formats, bad rows, engine runs, download."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from test_eval_wheels import write_tables

from omni_emotion.cli import main
from omni_emotion.errors import EvaluationDataError, UnsupportedMediaError
from omni_emotion.evaluation import cli as eval_cli
from omni_emotion.evaluation.download import download_wheels
from omni_emotion.evaluation.extract import LLMExtractor
from omni_emotion.evaluation.runner import (
    evaluate,
    is_free_text,
    predict_clips,
    read_ground_truth,
    read_predictions,
    read_published,
    write_predictions_csv,
)
from omni_emotion.evaluation.wheels import GROUPINGS, WHEEL_FILES, load_wheels

GT = "name,openset\ns1,\"['happy', 'angry']\"\ns2,\"['calm']\"\ns3,\"['glad']\"\n"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNI_EMOTION_CACHE", str(tmp_path / "cache"))
    wheels = write_tables(tmp_path / "wheels")
    gt = tmp_path / "gt.csv"
    gt.write_text(GT)
    return tmp_path, wheels, gt


def _eval(capsys, *args):
    code = main(["eval", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_predictions_json_output(env, capsys):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text('name,openset\ns1,"[happiness, furious]"\ns2,[]\ns3,"[\'glad\']"\n')
    code, out, _ = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--json")
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    # s1: happiness->happy (furious not in format.csv): P 1, R 1/2; s2: empty -> 0, 0; s3: P 1, R 1.
    assert summary["M1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert summary["n_scored"] == 3 and summary["n_skipped"] == 0
    assert {*GROUPINGS, "M-avg", "L1-avg", "precision", "recall", "avg"} <= set(summary)


def test_bad_rows_are_reported_and_skipped_not_fatal(env, capsys):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text("name,openset\ns1,[happy]\ns1,[angry]\ns2,\n,[calm]\nghost,[calm]\n")
    code, out, _ = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--json")
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and summary["n_scored"] == 1
    reasons = summary["skipped"]
    assert "duplicate" in reasons["prediction line 3"]
    assert "empty label string" in reasons["s2"]
    assert reasons["prediction line 5"] == "row without a name"
    assert reasons["prediction ghost"] == "name not in the ground truth"
    assert reasons["s3"] == "no prediction"
    assert summary["n_skipped"] == len(reasons) == 5


def test_jsonl_free_text_is_extracted_first(env):
    tmp, wheels, gt = env
    pred = tmp / "reasons.jsonl"
    lines = [
        {"name": "s1", "reason": "He is not calm. In conclusion he is happy and angry."},
        {"name": "s2", "labels": ["calm"]},
        {"name": "s3", "reason": "   "},
    ]
    pred.write_text("\n".join(map(json.dumps, lines)) + "\n{broken\n")
    tables = load_wheels(wheels)
    from omni_emotion.evaluation.extract import RuleExtractor

    got = read_predictions(pred, extractor=RuleExtractor(tables))
    assert got.labels == {"s1": ["happy", "angry"], "s2": ["calm"]}
    assert set(got.problems) == {"s3", "prediction line 4"}
    result = evaluate(read_ground_truth(gt), got, tables)
    assert result.n_scored == 2 and result.groupings["M1"].precision == pytest.approx(1.0)


def test_reading_free_text_reports_progress_over_its_lines(env):
    tmp, _, _ = env
    pred = tmp / "reasons.ndjson"
    pred.write_text('{"name": "s1", "reason": "x"}\n{"name": "s2", "reason": "y"}\n')
    seen = []

    def progress(lines):
        for item in lines:
            seen.append(item[0])
            yield item

    got = read_predictions(pred, extractor=LLMExtractor(lambda p: "[calm]"), progress=progress)
    assert got.labels == {"s1": ["calm"], "s2": ["calm"]} and seen == [1, 2]
    assert is_free_text(pred) and is_free_text("a.JSONL") and not is_free_text("a.csv")


def _one_sentence(err):
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_llm_extractor_without_weights_or_gpu_exits_2_with_one_sentence(env, capsys, monkeypatch):
    tmp, wheels, gt = env
    pred = tmp / "reasons.jsonl"
    pred.write_text('{"name": "s1", "reason": "In conclusion he is happy."}\n')
    empty = tmp / "weights"
    empty.mkdir()
    base = ("--gt", gt, "--pred", pred, "--wheels", wheels, "--extractor", "llm")
    code, out, err = _eval(capsys, *base, "--weights-dir", empty)
    assert code == 2 and out == "" and _one_sentence(err) and "weights init" in err
    # weights but no CUDA GPU: the default device for --extractor llm is cuda
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    weights = _tiny_omni(tmp / "tiny")
    capsys.readouterr()  # saving shows a progress bar
    code, _, err = _eval(capsys, *base, "--weights-dir", weights)
    assert code == 2 and _one_sentence(err) and "CUDA" in err
    csv_pred = tmp / "pred.csv"
    csv_pred.write_text("name,openset\ns1,[happy]\n")
    code, _, err = _eval(capsys, "--gt", gt, "--pred", csv_pred, "--wheels", wheels, "--extractor", "llm")
    assert code == 2 and _one_sentence(err) and "JSONL" in err


def _tiny_omni(folder: Path) -> Path:
    """A saved tiny random Omni-Emotion model with its tokenizer (what `weights init` writes, at toy size)."""
    from omni_emotion.model import OmniEmotionForConditionalGeneration
    from omni_emotion.model.presets import preset_config, tiny_tokenizer

    torch.manual_seed(0)
    OmniEmotionForConditionalGeneration(preset_config("tiny")).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder


def test_llm_extractor_runs_the_omni_model_on_each_reason(env, capsys):
    tmp, wheels, gt = env
    pred = tmp / "reasons.jsonl"
    lines = [
        {"name": "s1", "reason": "He is not calm. In conclusion he is happy and angry."},
        {"name": "s2", "reason": "She is calm."},
        {"name": "s3", "reason": "He is glad."},
    ]
    pred.write_text("".join(json.dumps(line) + "\n" for line in lines))
    weights = _tiny_omni(tmp / "tiny")
    base = ("--gt", gt, "--pred", pred, "--wheels", wheels, "--json")
    code, out, _ = _eval(capsys, *base)
    assert code == 0 and json.loads(out.splitlines()[-1])["M1"] == pytest.approx(1.0)  # rules: all right
    code, out, err = _eval(capsys, *base, "--extractor", "llm", "--weights-dir", weights, "--device", "cpu")
    summary = json.loads(out.splitlines()[-1])
    # the random model's replies name no emotion: every sample is scored, and scores 0
    assert code == 0 and summary["n_scored"] == 3 and summary["M1"] == 0.0
    assert "extracting labels" in err


def test_unusable_files_exit_2_with_one_sentence(env, capsys):
    tmp, wheels, gt = env
    bad = tmp / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    code, _, err = _eval(capsys, "--gt", gt, "--pred", bad, "--wheels", wheels)
    assert code == 2 and "needs a 'name' column" in err and "Traceback" not in err
    code, _, err = _eval(capsys, "--gt", tmp / "missing.csv", "--pred", bad, "--wheels", wheels)
    assert code == 2 and "does not exist" in err
    code, _, err = _eval(capsys, "--gt", gt, "--wheels", wheels)
    assert code == 2 and "--pred" in err
    binary = tmp / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = _eval(capsys, "--gt", gt, "--pred", binary, "--wheels", wheels)
    assert code == 2 and "bin.jsonl" in err


def test_readable_table_shows_published_baselines(env, capsys, monkeypatch):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text(GT)
    published = tmp / "published.csv"
    header = "model,GPT," + ",".join(GROUPINGS) + ",M-avg\n"
    published.write_text(header + "Base," + ",".join(["50.00"] * 14) + "\n")
    code, out, _ = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--published", published)
    assert code == 0
    ours, base = [line for line in out.splitlines() if line.startswith(("ours", "Base"))]
    assert ours.split()[-1] == "100.00" and base.split()[-1] == "50.00"
    # the default file may be absent (no ../shared); a file the user names must exist and hold scores
    monkeypatch.setenv("OMNI_EMOTION_SHARED", str(tmp / "no-shared"))
    assert read_published() == {}
    with pytest.raises(EvaluationDataError, match="does not exist"):
        read_published(tmp / "absent.csv")
    with pytest.raises(EvaluationDataError, match="no row"):
        read_published(gt)
    code, _, err = _eval(
        capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--published", tmp / "absent.csv"
    )
    assert code == 2 and "does not exist" in err


def test_predictions_matching_no_sample_exit_2(env, tmp_path, capsys):
    _, wheels, gt = env
    pred = tmp_path / "other.csv"
    pred.write_text("name,openset\nnot_a_sample,[happy]\n")
    code, _, err = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels)
    assert code == 2 and "no prediction matches" in err and err.count("\n") == 1


@dataclass
class FakeAnalysis:
    labels: list[str]
    explanation: str = "because"
    engine: str = "fake"


@dataclass
class FakePipeline:
    """Stands in for EmotionPipeline: labels per file stem; stems in `broken` raise a media error."""

    labels: dict[str, list[str]]
    broken: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def analyze_file(self, path, progress=None):
        stem = Path(path).stem
        self.calls.append(stem)
        if stem in self.broken:
            raise UnsupportedMediaError(f"{Path(path).name} is not a readable video.")
        return FakeAnalysis(self.labels[stem])


def test_engine_run_is_resumable_and_skips_bad_clips(env, tmp_path):
    _, wheels, gt = env
    videos = tmp_path / "clips"
    videos.mkdir()
    for name in ("s1.mp4", "s2.wav"):
        (videos / name).write_bytes(b"x")
    (videos / "s3.MKV").write_bytes(b"x")
    cache = tmp_path / "run.jsonl"
    pipeline = FakePipeline({"s1": ["happy"], "s2": ["calm"]}, broken={"s3"})
    got = predict_clips(["s1", "s2", "s3", "s4"], videos, pipeline, cache)
    assert got.labels == {"s1": ["happy"], "s2": ["calm"]}
    assert "not a readable video" in got.problems["s3"] and "no clip named s4" in got.problems["s4"]
    assert pipeline.calls == ["s1", "s2", "s3"]
    # A second run reads everything from the cache; a partial last line (killed run) is ignored.
    with open(cache, "a") as handle:
        handle.write('{"name": "s5", "lab')
    again = FakePipeline({}, broken=set())
    assert predict_clips(["s1", "s2", "s3", "s4"], videos, again, cache).labels == got.labels
    assert again.calls == []
    # a clip that was missing is not cached as a failure: once it is there, the next run analyses it
    (videos / "s4.mp4").write_bytes(b"x")
    later = FakePipeline({"s4": ["sad"]})
    assert predict_clips(["s1", "s2", "s3", "s4"], videos, later, cache).labels["s4"] == ["sad"]
    assert later.calls == ["s4"]


def test_eval_command_with_injected_pipeline_writes_predictions_csv(env, tmp_path, capsys):
    _, wheels, gt = env
    videos = tmp_path / "clips"
    videos.mkdir()
    for name in ("s1", "s2", "s3"):
        (videos / f"{name}.mp4").write_bytes(b"x")
    pipeline = FakePipeline({"s1": ["happy", "angry"], "s2": ["calm"], "s3": ["sad"]})
    parser = __import__("omni_emotion.cli", fromlist=["build_parser"]).build_parser()
    out_csv = tmp_path / "preds.csv"
    args = parser.parse_args(
        [
            "eval",
            "--gt",
            str(gt),
            "--videos",
            str(videos),
            "--wheels",
            str(wheels),
            "--out",
            str(out_csv),
            "--json",
        ]
    )
    assert eval_cli.run(args, pipeline=pipeline) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n_scored"] == 3 and summary["M1"] == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))
    assert out_csv.read_text().splitlines() == [
        "name,openset",
        's1,"[happy, angry]"',
        "s2,[calm]",
        "s3,[sad]",
    ]
    assert read_predictions(out_csv).labels["s1"] == ["happy", "angry"]


def test_write_predictions_round_trip(tmp_path):
    path = write_predictions_csv(tmp_path / "p.csv", {"a": ["x y", "z"], "b": []})
    got = read_predictions(path)
    assert got.labels == {"a": ["x y", "z"], "b": []}  # "[]" is an empty prediction, scored 0, not skipped


def test_download_from_a_mirror_and_offline_failure(env, tmp_path):
    _, wheels, _ = env
    dest = download_wheels(tmp_path / "dl", base_url=wheels.as_uri())
    assert sorted(p.name for p in dest.iterdir()) == sorted(WHEEL_FILES)
    with pytest.raises(EvaluationDataError, match="Could not download .*--wheels"):
        download_wheels(tmp_path / "dl2", base_url="http://127.0.0.1:9/", timeout=2)
    assert not (tmp_path / "dl2").exists() or not any((tmp_path / "dl2").iterdir())
    broken = tmp_path / "mirror"
    shutil.copytree(wheels, broken)
    (broken / "wheel1.xlsx").write_bytes(b"<html>rate limited</html>")
    with pytest.raises(EvaluationDataError, match="wheel1.xlsx"):
        download_wheels(tmp_path / "dl3", base_url=broken.as_uri())


def test_otter_table_from_the_issue(data_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("OMNI_EMOTION_CACHE", str(tmp_path))
    ov = data_dir / "ovmerd"
    code, out, _ = _eval(
        capsys,
        "--gt",
        ov / "check-openset.csv",
        "--pred",
        ov / "baselines" / "Otter" / "openset.csv",
        "--wheels",
        data_dir / "emotion_wheel",
    )
    assert code == 0
    assert out.splitlines()[1].startswith("ours: Otter") and "published" in out
