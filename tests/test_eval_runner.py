"""Dataset runner and the `omni-emotion eval` command: input formats, bad rows, engine runs, download."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch
from fixtures import FakePipeline
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eval_wheels import write_tables

from omni_emotion.cli import eval as eval_cli
from omni_emotion.cli import main
from omni_emotion.errors import ConfigError, EvaluationDataError
from omni_emotion.evaluation.csvcells import neutralise_cell, restore_cell
from omni_emotion.evaluation.download import download_wheels
from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.runner import (
    evaluate,
    find_clip,
    is_free_text,
    predict_clips,
    read_ground_truth,
    read_predictions,
    read_published,
    write_predictions_csv,
)
from omni_emotion.evaluation.wheels import GROUPINGS, WHEEL_FILES, load_wheels
from omni_emotion.mentions import LLMExtractor

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
    from omni_emotion.mentions import RuleExtractor

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


def test_llm_extractor_runs_the_omni_model_on_each_reason(env, capsys, monkeypatch):
    from omni_emotion.engines.omni import OmniEngine

    prompts: list[str] = []
    generate_text = OmniEngine.generate_text

    def recording(self, prompt, max_new_tokens=None):
        prompts.append(prompt)
        return generate_text(self, prompt, max_new_tokens)

    monkeypatch.setattr(OmniEngine, "generate_text", recording)
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
    code, out, _ = _eval(capsys, *base, "--extractor", "llm", "--weights-dir", weights, "--device", "cpu")
    summary = json.loads(out.splitlines()[-1])
    # the random model's replies name no emotion: every sample is scored, and scores 0 (the rules scored 1)
    assert code == 0 and summary["n_scored"] == 3 and summary["M1"] == 0.0
    # the model, not the rules, read each reason: one generation per reason, with that reason in its prompt
    assert len(prompts) == len(lines)
    assert all(any(line["reason"] in prompt for prompt in prompts) for line in lines)


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


def test_published_baselines_stand_only_beside_ovmerd_scores(env, capsys, monkeypatch):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text(GT)
    shared = tmp / "shared"
    (shared / "data" / "ovmerd").mkdir(parents=True)
    header = "model,GPT," + ",".join(GROUPINGS) + ",M-avg\n"
    (shared / "data" / "ovmerd" / "published_table4.csv").write_text(
        header + "Base," + ",".join(["50.00"] * 14) + "\n"
    )
    monkeypatch.setenv("OMNI_EMOTION_SHARED", str(shared))
    _, other, _ = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels)
    assert "published" not in other and "Base" not in other  # a dev set was never scored by them
    ovmerd = tmp / "check-openset.csv"
    ovmerd.write_text(GT)
    _, beside, _ = _eval(capsys, "--gt", ovmerd, "--pred", pred, "--wheels", wheels)
    assert "published (OV-MER Table 4)" in beside and "\nBase " in beside


def test_predictions_matching_no_sample_exit_2(env, tmp_path, capsys):
    _, wheels, gt = env
    pred = tmp_path / "other.csv"
    pred.write_text("name,openset\nnot_a_sample,[happy]\n")
    code, _, err = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels)
    assert code == 2 and "no prediction matches" in err and err.count("\n") == 1


def test_floor_stands_beside_the_score_in_the_table_and_the_json(env, capsys):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text('name,openset\ns1,"[happy]"\ns2,[calm]\n')  # s3 has no prediction
    code, out, _ = _eval(capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--json")
    summary = json.loads(out.strip().splitlines()[-1])
    floor, fg_floor = summary.pop("floor"), summary.pop("mer_fg_floor")
    assert summary.pop("tables") == load_wheels(wheels, cache_dir=tmp / "tables").name
    assert code == 0 and set(summary) - {"skipped"} <= set(floor) and floor["objective"] == "M-avg"
    assert fg_floor["objective"] == "MER-FG" and fg_floor["MER-FG"] >= floor["MER-FG"]
    # over the samples our score used (s3 had no prediction), and scored like any prediction
    truth = {"s1": ["happy", "angry"], "s2": ["calm"]}
    tables = load_wheels(wheels, cache_dir=tmp / "tables")
    again = score_dataset(truth, {name: floor["labels"] for name in truth}, tables)
    assert floor["n_scored"] == 2 and floor["M-avg"] == pytest.approx(again.m_avg)
    assert floor["L1-avg"] == pytest.approx(again.l1_avg)
    code, out, _ = _eval(
        capsys, "--gt", gt, "--pred", pred, "--wheels", wheels, "--floor-objective", "L1-avg"
    )
    rows = out.splitlines()
    assert rows[1].startswith("ours: pred") and rows[2].startswith("floor (best constant: ")
    assert "chosen WITH this ground truth" in out and "maximising L1-avg" in out
    assert any(line.startswith("floor  L1-avg ") for line in rows)
    fg = next(line for line in rows if line.startswith("MER-FG "))
    ours = score_dataset(truth, {"s1": ["happy"], "s2": ["calm"]}, tables)
    assert fg.split()[1] == f"{100 * ours.mer_fg.score:.2f}"
    assert rows[rows.index(fg) - 1].startswith("L1-avg ")  # beside L1-avg
    assert any(line.startswith("floor  MER-FG ") for line in rows)
    assert "grouping tables: tables " in out and "emotion_wheel_mer2026" in out


def test_engine_run_is_resumable_and_skips_bad_clips(env, tmp_path):
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
    with pytest.raises(EvaluationDataError, match=r"Could not download .*--wheels"):
        download_wheels(tmp_path / "dl2", base_url="http://127.0.0.1:9/", timeout=2)
    assert not (tmp_path / "dl2").exists() or not any((tmp_path / "dl2").iterdir())
    broken = tmp_path / "mirror"
    shutil.copytree(wheels, broken)
    (broken / "wheel1.xlsx").write_bytes(b"<html>rate limited</html>")
    with pytest.raises(EvaluationDataError, match=r"wheel1.xlsx"):
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


def _clip_env(tmp_path):
    """A clip folder with s1, a secret clip beside it, and links from inside to outside and to inside."""
    videos, outside = tmp_path / "clips", tmp_path / "outside"
    videos.mkdir()
    outside.mkdir()
    (videos / "s1.mp4").write_bytes(b"x")
    (outside / "secret.mp4").write_bytes(b"x")
    (videos / "leak.mp4").symlink_to(outside / "secret.mp4")
    (videos / "alias.mp4").symlink_to(videos / "s1.mp4")
    return videos, outside


def test_names_that_are_paths_or_links_out_are_refused_not_analysed(tmp_path):
    videos, outside = _clip_env(tmp_path)
    names = ["s1", "../outside/secret", str(outside / "secret"), "..", "a\\..\\b", "leak", "alias", "x" * 300]
    pipeline = FakePipeline({"s1": ["happy"], "alias": ["calm"], "secret": ["sad"]})
    got = predict_clips(names, videos, pipeline, tmp_path / "run.jsonl")
    assert got.labels == {"s1": ["happy"], "alias": ["happy"]}  # alias resolves to s1.mp4, inside the folder
    assert sorted(pipeline.calls) == ["s1", "s1"]
    for name in ("../outside/secret", str(outside / "secret"), "..", "a\\..\\b"):
        assert got.problems[name] == "refused: the name is a path, not a plain file name"
    assert "links outside the clip folder" in got.problems["leak"]
    assert got.problems["x" * 300] == "refused: the name is longer than 200 bytes"
    with pytest.raises(EvaluationDataError, match="not a plain file name"):
        find_clip(videos, "../outside/secret")


def test_eval_videos_skips_names_that_are_paths_with_a_reason(env, tmp_path, capsys):
    _, wheels, _ = env
    videos, outside = _clip_env(tmp_path)
    gt = tmp_path / "gt-paths.csv"
    gt.write_text(
        f"name,openset\ns1,[happy]\n../outside/secret,[sad]\n{outside / 'secret'},[sad]\nleak,[sad]\n"
    )
    parser = __import__("omni_emotion.cli", fromlist=["build_parser"]).build_parser()
    args = parser.parse_args(
        [
            "eval",
            "--gt",
            str(gt),
            "--videos",
            str(videos),
            "--wheels",
            str(wheels),
            "--cache",
            str(tmp_path / "run.jsonl"),
            "--json",
        ]
    )
    pipeline = FakePipeline({"s1": ["happy"], "secret": ["sad"]})
    assert eval_cli.run(args, pipeline=pipeline) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert pipeline.calls == ["s1"] and summary["n_scored"] == 1 and summary["n_skipped"] == 3
    assert summary["skipped"]["../outside/secret"].startswith("refused: the name is a path")
    assert "links outside" in summary["skipped"]["leak"]


FORMULAS = ["=cmd|' /C calc'!A0", '+HYPERLINK("http://x","y")', "@SUM(1+1)", "-2+3", "\tx", "\rx"]


def test_written_csv_cells_cannot_run_as_formulas_and_read_back(tmp_path):
    names = [*FORMULAS, "'=already quoted", "''@twice", "'tis", "plain", "a=b"]
    path = write_predictions_csv(tmp_path / "p.csv", {name: ["happy"] for name in names})
    with open(path, newline="", encoding="utf-8") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert all(cell.startswith("'") for cell in cells[: len(FORMULAS) + 2])
    assert cells[len(FORMULAS) :] == ["''=already quoted", "'''@twice", "'tis", "plain", "a=b"]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert list(read_predictions(path).labels) == names  # the quote keeps even "\tx" whole


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_neutralise_then_restore_is_the_identity(cell):
    safe = neutralise_cell(cell)
    assert restore_cell(safe) == cell
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))


names_st = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1).filter(
    lambda name: name == name.strip() and name != ""
)


@settings(max_examples=100, deadline=None)
@given(st.lists(names_st, min_size=1, max_size=5, unique=True))
def test_predictions_csv_round_trip_for_any_names(tmp_path_factory, names):
    path = write_predictions_csv(tmp_path_factory.mktemp("rt") / "p.csv", {n: ["calm"] for n in names})
    assert read_predictions(path).labels == {n: ["calm"] for n in names}


def test_eval_videos_out_csv_is_neutralised(env, tmp_path, capsys):
    _, wheels, _ = env
    videos = tmp_path / "clips"
    videos.mkdir()
    names = ["@SUM(1+1)", "=HYPERLINK(1)", "-x"]
    for name in names:
        (videos / f"{name}.mp4").write_bytes(b"x")
    gt = tmp_path / "gt-formulas.csv"
    write_predictions_csv(gt, {name: ["happy"] for name in names})  # our own writer, so names read back
    out_csv = tmp_path / "preds.csv"
    parser = __import__("omni_emotion.cli", fromlist=["build_parser"]).build_parser()
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
            "--cache",
            str(tmp_path / "run.jsonl"),
            "--json",
        ]
    )
    assert eval_cli.run(args, pipeline=FakePipeline({n: ["happy"] for n in names})) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n_scored"] == 3
    rows = out_csv.read_text().splitlines()[1:]
    assert rows == ["'@SUM(1+1),[happy]", "'=HYPERLINK(1),[happy]", "'-x,[happy]"]


def test_hostile_jsonl_lines_are_skipped_with_reasons(tmp_path):
    pred = tmp_path / "pred.jsonl"
    lines = [
        "[" * 100_000,
        '{"a": ' * 100_000,
        '{"name": "deep", "labels": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"name": ' + "9" * 5000 + ', "labels": ["happy"]}',
        '{"name": "big", "labels": [' + "1" * 5000 + "]}",
        '{"name": "nested", "labels": [["happy"]]}',
        '{"name": ["s1"], "labels": ["happy"]}',
        '{"name": "s1", "labels": ["happy"]}',
    ]
    pred.write_text("\n".join(lines) + "\n")
    got = read_predictions(pred)
    assert got.labels == {"s1": ["happy"]}
    reasons = {
        key: why.split(" levels")[0].split(" of ")[0] if why.startswith("JSON") else why
        for key, why in got.problems.items()
    }
    assert reasons == {
        "prediction line 1": "JSON nested 100000",
        # lines past the row-length limit are skipped before they are parsed
        "prediction line 2": "a line longer than 131,072 characters",
        "prediction line 3": "a line longer than 131,072 characters",
        "prediction line 4": "JSON holds a number",
        "prediction line 5": "JSON holds a number",
        "nested": "labels are not a list of strings (prediction line 6)",
        "prediction line 7": "line without a name",
    }
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(lines[0] + "\n" + lines[3] + "\n")
    with pytest.raises(EvaluationDataError, match="no usable lines"):
        read_predictions(only_bad)


def test_hostile_cache_lines_are_ignored_or_refused(tmp_path):
    """A record cut or bloated inside is skipped; a line that is no record at all means the file is not a
    cache, which is refused (one sentence, the file untouched) rather than appended to."""
    videos = tmp_path / "clips"
    videos.mkdir()
    (videos / "s1.mp4").write_bytes(b"x")
    cache = tmp_path / "run.jsonl"
    lines = ['{"name": ' + "9" * 5000 + "}", '{"name": "s2", "labels": [[1]]}']
    cache.write_text("\n".join(lines) + "\n")
    pipeline = FakePipeline({"s1": ["happy"]})
    got = predict_clips(["s1", "s2"], videos, pipeline, cache)
    assert got.labels == {"s1": ["happy"]} and got.problems["s2"] == "the cached result has no list of labels"
    cache.write_text("[" * 100_000 + "\n")
    with pytest.raises(ConfigError, match=r"run.jsonl is not a results file \(line 1 is not JSON\)"):
        predict_clips(["s1"], videos, pipeline, cache)
    assert cache.read_text() == "[" * 100_000 + "\n"
