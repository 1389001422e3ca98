"""run_evaluation, the one evaluation flow: a predictions file or a clip folder in, scores per grouping, per-sample
results, the floor and the published rows out; and the rows the CLI and the Evaluate tab format from it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fixtures import FakePipeline
from test_eval_runner import GT
from test_eval_wheels import write_tables

from omni_emotion.errors import ConfigError, EvaluationDataError
from omni_emotion.evaluation import EvalRequest, run_evaluation
from omni_emotion.evaluation.floor import best_constant, floor_of
from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.report import SCORE_COLUMNS, json_summary, score_rows, scores_document
from omni_emotion.evaluation.runner import evaluate, read_ground_truth, read_predictions
from omni_emotion.evaluation.session import default_clip_cache
from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS, load_wheels
from omni_emotion.mentions import RuleExtractor, parse_labels

PUBLISHED_HEADER = "model,GPT," + ",".join(GROUPINGS) + ",M-avg\n"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNI_EMOTION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OMNI_EMOTION_SHARED", str(tmp_path / "no-shared"))
    wheels = write_tables(tmp_path / "wheels")
    gt = tmp_path / "gt.csv"
    gt.write_text(GT)  # s1 [happy, angry], s2 [calm], s3 [glad]
    return tmp_path, wheels, gt


def _clips(folder: Path, names) -> Path:
    folder.mkdir()
    for name in names:
        (folder / f"{name}.mp4").write_bytes(b"x")
    return folder


def test_a_predictions_file_gives_scores_samples_and_the_floor(env):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text('name,openset\ns1,"[happy]"\ns2,[calm]\n')  # s3 has no prediction
    evaluation = run_evaluation(EvalRequest(gt=gt, pred=pred, wheels=wheels))
    result = evaluation.result
    s1, s2, s3 = result.samples
    assert (s1.name, s2.name, s3.name) == ("s1", "s2", "s3")
    assert s1.scores["M1"] == (1.0, 0.5) and s2.scores["M1"] == (1.0, 1.0)
    assert s3.skipped == "no prediction" and s3.pred is None and s3.f_mean is None
    assert (result.groupings["M1"].precision, result.groupings["M1"].recall) == (1.0, 0.75)
    tables = load_wheels(wheels)
    truth = {"s1": ["happy", "angry"], "s2": ["calm"]}  # the floor stands on the samples our score used
    assert evaluation.floor == best_constant(truth, tables)
    assert evaluation.mer_fg_floor == best_constant(truth, tables, objective="MER-FG")
    assert evaluation.tables == tables.name and len(tables.name) == len("tables ") + 12  # no known edition
    aimed = run_evaluation(EvalRequest(gt=gt, pred=pred, wheels=wheels, floor_objective="MER-FG"))
    assert aimed.mer_fg_floor is aimed.floor and aimed.floor == evaluation.mer_fg_floor
    assert evaluation.predictions == {"s1": ["happy"], "s2": ["calm"]}
    assert evaluation.predictions_csv is None and evaluation.cache is None and evaluation.published == {}


def test_free_text_goes_through_the_extractor_with_progress(env):
    tmp, wheels, gt = env
    pred = tmp / "reasons.jsonl"
    pred.write_text(json.dumps({"name": "s1", "reason": "In conclusion he is happy and angry."}) + "\n")
    seen = []

    def progress(items, desc):
        seen.append(desc)
        return items

    evaluation = run_evaluation(EvalRequest(gt=gt, pred=pred, wheels=wheels), progress=progress)
    assert evaluation.predictions == {"s1": ["happy", "angry"]} and seen == ["extracting labels"]
    made = []
    run_evaluation(
        EvalRequest(gt=gt, pred=pred, wheels=wheels),
        make_extractor=lambda t: made.append(t) or RuleExtractor(t),
    )
    assert len(made) == 1  # called once, with the loaded tables
    csv_pred = tmp / "pred.csv"
    csv_pred.write_text("name,openset\ns1,[happy]\n")
    run_evaluation(EvalRequest(gt=gt, pred=csv_pred, wheels=wheels), make_extractor=lambda t: made.append(t))
    assert len(made) == 1  # a labels CSV needs no extractor (an LLM one would load a model for nothing)


def test_a_clip_folder_is_analysed_up_to_the_limit_and_written_beside_the_cache(env):
    tmp, wheels, gt = env
    videos = _clips(tmp / "clips", ["s1", "s2", "s3"])
    pipeline = FakePipeline({"s1": ["happy", "angry"], "s2": ["sad"], "s3": ["glad"]})
    loads, seen = [], []
    request = EvalRequest(gt=gt, videos=videos, wheels=wheels, cache=tmp / "run.jsonl", limit=2)
    evaluation = run_evaluation(
        request,
        load_pipeline=lambda: loads.append(1) or pipeline,
        progress=lambda items, desc: seen.append(desc) or items,
    )
    assert pipeline.calls == ["s1", "s2"] and loads == [1] and seen == ["analysing clips"]
    assert [s.name for s in evaluation.result.samples] == ["s1", "s2"]  # s3 is past the limit: not reported
    assert evaluation.cache == tmp / "run.jsonl" and evaluation.predictions_csv == tmp / "run-predictions.csv"
    assert read_predictions(evaluation.predictions_csv).labels == {"s1": ["happy", "angry"], "s2": ["sad"]}
    assert evaluation.result.samples[0].f_mean == pytest.approx(1.0)
    assert evaluation.result.samples[1].scores["M1"] == (0.0, 0.0)
    # the cache makes a second run analyse nothing; an explicit CSV path is honoured
    again = FakePipeline({})
    request = EvalRequest(
        gt=gt,
        videos=videos,
        wheels=wheels,
        cache=tmp / "run.jsonl",
        limit=2,
        predictions_csv=tmp / "out" / "p.csv",
    )
    assert run_evaluation(request, load_pipeline=lambda: again).result == evaluation.result
    assert again.calls == [] and (tmp / "out" / "p.csv").is_file()


def test_a_missing_clip_folder_fails_before_the_models_load(env):
    tmp, wheels, gt = env

    def load_pipeline():
        raise AssertionError("the models must not load for a folder that does not exist")

    request = EvalRequest(gt=gt, videos=tmp / "absent", wheels=wheels, cache=tmp / "run.jsonl")
    with pytest.raises(EvaluationDataError, match="does not exist"):
        run_evaluation(request, load_pipeline=load_pipeline)


def test_prefill_fills_the_cache_before_the_sequential_pass(env):
    tmp, wheels, gt = env
    videos = _clips(tmp / "clips", ["s1", "s2", "s3"])
    calls = []

    def prefill(names, cache):  # what --ray does: analyse elsewhere, append the runner's records
        calls.append((list(names), cache))
        with open(cache, "w") as handle:
            for name in names:
                handle.write(
                    json.dumps({"name": name, "labels": ["calm"], "reason": "", "engine": "x"}) + "\n"
                )

    pipeline = FakePipeline({})
    request = EvalRequest(gt=gt, videos=videos, wheels=wheels, cache=tmp / "run.jsonl")
    evaluation = run_evaluation(request, load_pipeline=lambda: pipeline, prefill=prefill)
    assert calls == [(["s1", "s2", "s3"], tmp / "run.jsonl")] and pipeline.calls == []
    assert evaluation.predictions == {name: ["calm"] for name in ("s1", "s2", "s3")}


def test_requests_that_cannot_run_are_refused_with_one_sentence(env):
    tmp, _, gt = env
    for kwargs, words in [
        ({}, "exactly one"),
        ({"pred": gt, "videos": tmp}, "exactly one"),
        ({"videos": tmp}, "cache"),
        ({"pred": gt, "limit": 3}, "clip folder"),
        ({"videos": tmp, "cache": tmp / "c.jsonl", "limit": -1}, "0 or more"),
        ({"pred": gt, "floor_objective": "F1"}, "M-avg, L1-avg, MER-FG"),
    ]:
        with pytest.raises(ConfigError, match=words):
            EvalRequest(gt=gt, **kwargs)
    request = EvalRequest(gt=str(gt), pred=str(gt))
    assert request.gt == gt and isinstance(request.pred, Path)


def test_predictions_that_match_no_sample_are_an_error(env):
    tmp, wheels, gt = env
    pred = tmp / "other.csv"
    pred.write_text("name,openset\nnot_a_sample,[happy]\n")
    with pytest.raises(EvaluationDataError, match="no prediction matches"):
        run_evaluation(EvalRequest(gt=gt, pred=pred, wheels=wheels))


def test_published_rows_stand_only_beside_ovmerd_or_a_named_file(env, monkeypatch):
    tmp, wheels, gt = env
    shared = tmp / "shared" / "data" / "ovmerd"
    shared.mkdir(parents=True)
    (shared / "published_table4.csv").write_text(
        PUBLISHED_HEADER
        + "High,"
        + ",".join(["60.00"] * 14)
        + "\nLow,50.00,"
        + ",".join(f"{10 + i}.00" for i in range(len(GROUPINGS) + 1))
        + "\n"
    )
    monkeypatch.setenv("OMNI_EMOTION_SHARED", str(tmp / "shared"))
    pred = tmp / "pred.csv"
    pred.write_text(GT)
    assert run_evaluation(EvalRequest(gt=gt, pred=pred, wheels=wheels)).published == {}
    ovmerd = tmp / "check-openset.csv"
    ovmerd.write_text(GT)
    evaluation = run_evaluation(EvalRequest(gt=ovmerd, pred=pred, wheels=wheels))
    assert set(evaluation.published) == {"High", "Low"}
    named = run_evaluation(
        EvalRequest(gt=gt, pred=pred, wheels=wheels, published=shared / "published_table4.csv")
    )
    assert named.published == evaluation.published
    rows = score_rows(evaluation, "ours")
    assert [(r["model"], r["kind"]) for r in rows] == [
        ("ours", "ours"),
        (f"floor (best constant: {', '.join(evaluation.floor.labels)})", "floor"),
        ("Low", "published"),
        ("High", "published"),
    ]  # lowest M-avg first, as in OV-MER Table 4
    ours, low = rows[0], rows[2]
    assert set(ours) == {"model", "kind", *SCORE_COLUMNS} and ours["M-avg"] == pytest.approx(100.0)
    assert ours["Avg"] == pytest.approx(100 * evaluation.result.avg)
    low_l1 = [
        10.0 + 2 + 2 * i for i in range(len(L1_GROUPINGS))
    ]  # W1-L1 is the third grouping, then every other
    assert ours["MER-FG"] == pytest.approx(100 * evaluation.result.mer_fg.score)
    assert low["M1"] == 10.0 and low["M-avg"] == 22.0 and low["Avg"] is None and low["MER-FG"] is None
    assert low["L1-avg"] == pytest.approx(sum(low_l1) / len(low_l1))


def test_json_documents_of_the_cli_and_the_tab(env):
    tmp, wheels, gt = env
    pred = tmp / "pred.csv"
    pred.write_text('name,openset\ns1,"[happy]"\ns2,[calm]\nghost,[sad]\n')
    evaluation = run_evaluation(EvalRequest(gt=gt, pred=pred, wheels=wheels))
    summary = json_summary(evaluation)
    assert summary["skipped"] == {"prediction ghost": "name not in the ground truth", "s3": "no prediction"}
    assert summary["floor"]["labels"] == list(evaluation.floor.labels)
    assert set(summary) == {*evaluation.result.summary(), "tables", "skipped", "floor", "mer_fg_floor"}
    assert summary["mer_fg_floor"]["MER-FG"] == evaluation.mer_fg_floor.result.mer_fg.score
    assert summary["tables"] == evaluation.tables
    document = json.loads(json.dumps(scores_document(evaluation)))
    assert set(document) == {"summary", "tables", "floor", "mer_fg_floor", "skipped", "groupings", "samples"}
    assert [s["name"] for s in document["samples"]] == ["s1", "s2", "s3"]
    assert document["samples"][2] == {
        "name": "s3",
        "truth": ["glad"],
        "pred": None,
        "f_mean": None,
        "skipped": "no prediction",
    }


def test_the_default_clip_cache_is_one_run_per_ground_truth_folder_and_engine(env):
    tmp, _, gt = env
    a = default_clip_cache(gt, tmp / "clips", "clues")
    assert a == default_clip_cache(str(gt), str(tmp / "clips"), "clues")
    assert a.parent == tmp / "cache" / "eval-runs" and a.name.startswith("clips-clues-")
    assert (
        len(
            {
                a,
                default_clip_cache(gt, tmp / "clips", "omni"),
                default_clip_cache(gt, tmp / "other", "clues"),
                default_clip_cache(tmp / "gt2.csv", tmp / "clips", "clues"),
            }
        )
        == 4
    )


def _labels(path: Path) -> dict[str, list[str]]:
    """The CSV read plainly (not through the runner), as the parity test reads it."""
    with open(path, newline="") as handle:
        return {row["name"]: parse_labels(row["openset"]) for row in csv.DictReader(handle)}


def test_shared_baselines_score_as_the_metric_does_beside_their_published_rows(
    data_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("OMNI_EMOTION_CACHE", str(tmp_path))
    ovmerd, wheels = data_dir / "ovmerd", data_dir / "emotion_wheel"
    gt = ovmerd / "check-openset.csv"
    tables = load_wheels(wheels)
    truth = _labels(gt)
    folders = sorted((ovmerd / "baselines").iterdir())
    assert folders, "no baselines found"
    for folder in folders:
        evaluation = run_evaluation(EvalRequest(gt=gt, pred=folder / "openset.csv", wheels=wheels))
        again = score_dataset(truth, _labels(folder / "openset.csv"), tables)
        assert evaluation.result == again, folder.name
        assert len(evaluation.result.samples) == len(truth)
        scored = {name: labels for name, labels in truth.items() if name not in again.skipped}
        assert evaluation.floor == best_constant(scored, tables)
        published = evaluation.published[folder.name]  # beside OV-MERD's ground truth
        assert abs(100 * evaluation.result.m_avg - published["M-avg"]) <= 1.0, folder.name
    # free text: the flow gives what its parts give
    reasons = folders[0] / "reasons.jsonl"
    evaluation = run_evaluation(EvalRequest(gt=gt, pred=reasons, wheels=wheels))
    pred = read_predictions(reasons, RuleExtractor(tables))
    parts = evaluate(read_ground_truth(gt), pred, tables)
    assert evaluation.result == parts and evaluation.floor == floor_of(parts, truth, tables)
