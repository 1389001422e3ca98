"""The Evaluate tab's request without a server: the floor beside the scores, clip names that are paths, and a
download CSV that spreadsheets cannot run."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from fixtures import FakePipeline
from test_eval_wheels import write_tables

from omni_emotion.ui.config import UIConfig
from omni_emotion.ui.evaluate_tab import METRIC_COLUMNS, SOURCES, evaluate_request, prediction_files


class FakeProgress:
    def __call__(self, fraction, desc=""):
        pass

    def tqdm(self, iterable, desc=""):
        return iterable


def _rows(table) -> list[list]:
    """The shown rows of the tab's table (a pandas Styler)."""
    return table.data.values.tolist()


def _by_kind(rows: list[list]) -> tuple[list, list]:
    """(this run's row, the floor's row)."""
    ours = next(r for r in rows if r[0].endswith("(this run)"))
    floor = next(r for r in rows if r[0].startswith("floor ("))
    return ours, floor


def _ctx(data: Path, pipeline=None):
    return SimpleNamespace(config=UIConfig(data_dirs=(data,)), pipeline=pipeline, live_models=None)


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNI_EMOTION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OMNI_EMOTION_SHARED", str(tmp_path / "no-shared"))  # no published rows
    data = tmp_path / "data"
    write_tables(data / "wheels")
    (data / "clips").mkdir()
    return data


def test_floor_row_and_sentence_stand_beside_the_scores(data):
    (data / "gt.csv").write_text("name,openset\ns1,\"['happy', 'angry']\"\ns2,[calm]\ns3,[happy]\n")
    (data / "pred.csv").write_text("name,openset\ns1,[happy]\ns2,[calm]\ns3,[angry]\n")
    summary, table, _, files = evaluate_request(
        _ctx(data), "gt.csv", SOURCES[0], "pred.csv", "", "wheels", 0, FakeProgress()
    )
    ours, floor = _by_kind(_rows(table))
    assert len(ours) == len(floor) == len(METRIC_COLUMNS)
    assert ours[0] == "data/pred.csv (this run)" and floor[0].startswith("floor (best constant: ")
    assert "chosen **with** this ground truth" in summary and "L1-avg" in summary
    scores = json.loads(Path(files[1]).read_text())
    shown = floor[0].removeprefix("floor (best constant: ").rstrip(")")
    assert scores["floor"]["labels"] == shown.split(", ")
    assert round(100 * scores["floor"]["M-avg"], 2) == floor[METRIC_COLUMNS.index("M-avg")]
    assert round(100 * scores["floor"]["L1-avg"], 2) == floor[METRIC_COLUMNS.index("L1-avg")]
    fg = round(100 * scores["summary"]["MER-FG"], 2)
    assert ours[METRIC_COLUMNS.index("MER-FG")] == fg and f"MER-FG **{fg:.2f}**" in summary
    assert f"floor {100 * scores['mer_fg_floor']['MER-FG']:.2f}" in summary and scores["tables"] in summary


def test_clip_folder_mode_refuses_names_that_lead_outside(data, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.mp4").write_bytes(b"x")
    (data / "clips" / "s1.mp4").write_bytes(b"x")
    (data / "gt.csv").write_text(
        f"name,openset\ns1,[happy]\n../../outside/secret,[sad]\n{tmp_path / 'outside' / 'secret'},[sad]\n"
    )
    pipeline = FakePipeline({"s1": ["happy"], "secret": ["sad"]})
    ctx = _ctx(data, pipeline)
    summary, _, samples, _ = evaluate_request(
        ctx, "gt.csv", SOURCES[1], "", "clips", "wheels", 0, FakeProgress()
    )
    assert pipeline.calls == ["s1"] and "Scored **1** samples, skipped **2**" in summary
    status = {row[0]: row[4] for row in samples}
    assert status["../../outside/secret"].startswith("refused: the name is a path")
    assert status[str(tmp_path / "outside" / "secret")].startswith("refused: the name is a path")


def test_download_csv_cannot_run_as_a_formula(data):
    names = ["=cmd|' /C calc'!A0", '+HYPERLINK("http://x")', "@SUM(1+1)"]
    with open(data / "gt.csv", "w", newline="") as handle:  # written raw, as a hostile file would be
        csv.writer(handle).writerows([["name", "openset"], *([name, "[happy]"] for name in names)])
    (data / "pred.csv").write_bytes((data / "gt.csv").read_bytes())
    _, _, _, files = evaluate_request(
        _ctx(data), "gt.csv", SOURCES[0], "pred.csv", "", "wheels", 0, FakeProgress()
    )
    with open(files[0], newline="", encoding="utf-8") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert cells == ["'" + name for name in names]


def test_result_files_live_in_the_apps_private_folder(data, tmp_path):
    from omni_emotion.ui.tempfiles import app_temp_dir

    (data / "gt.csv").write_text("name,openset\ns1,[happy]\n")
    (data / "pred.csv").write_text("name,openset\ns1,[happy]\n")
    with app_temp_dir(tmp_path) as folder:
        _, _, _, files = evaluate_request(
            _ctx(data), "gt.csv", SOURCES[0], "pred.csv", "", "wheels", 0, FakeProgress()
        )
        assert all(Path(f).resolve().is_relative_to(folder.resolve()) for f in files)
    assert not any(Path(f).exists() for f in files)  # gone with the app's folder


def test_the_tab_and_the_cli_show_the_same_rows(data, monkeypatch):
    from omni_emotion.cli.eval import format_table
    from omni_emotion.evaluation.session import EvalRequest, run_evaluation
    from omni_emotion.evaluation.wheels import GROUPINGS

    shared = data.parent / "shared" / "data" / "ovmerd"
    shared.mkdir(parents=True)
    (shared / "published_table4.csv").write_text(
        "model,GPT," + ",".join(GROUPINGS) + ",M-avg\n"
        "Base,50.00," + ",".join(f"{40 + i}.25" for i in range(13)) + "\n"
    )
    monkeypatch.setenv("OMNI_EMOTION_SHARED", str(data.parent / "shared"))
    (data / "check-openset.csv").write_text(
        "name,openset\ns1,\"['happy', 'angry']\"\ns2,[calm]\ns3,[happy]\n"
    )
    (data / "pred.csv").write_text("name,openset\ns1,[happy]\ns2,[calm]\ns3,[angry]\n")
    _, table, samples, _ = evaluate_request(
        _ctx(data), "check-openset.csv", SOURCES[0], "pred.csv", "", "wheels", 0, FakeProgress()
    )
    rows = _rows(table)
    order = [
        next(r for r in rows if r[0].endswith("(this run)")),
        next(r for r in rows if r[0].startswith("floor")),
        next(r for r in rows if r[0].endswith("(published)")),
    ]
    assert [r[METRIC_COLUMNS.index("M-avg")] for r in rows] == sorted(
        (r[METRIC_COLUMNS.index("M-avg")] for r in rows), reverse=True
    )
    rows = order
    evaluation = run_evaluation(
        EvalRequest(gt=data / "check-openset.csv", pred=data / "pred.csv", wheels=data / "wheels")
    )
    text = format_table(evaluation, "pred.csv").splitlines()
    shown = [text[1], text[2], text[4]]  # ours, floor, then the published row under its separator line
    assert [r[0] for r in rows] == ["data/pred.csv (this run)", shown[1].split("  ")[0], "Base (published)"]
    for row, line in zip(rows, shown):
        cells = line.split()[-len(GROUPINGS) - 1 :]
        shown_values = [row[METRIC_COLUMNS.index(g)] for g in (*GROUPINGS, "M-avg")]
        assert [f"{v:.2f}" for v in shown_values] == cells  # the 12 groupings and M-avg
    assert rows[2][METRIC_COLUMNS.index("Avg")] == "" and rows[2][METRIC_COLUMNS.index("L1-avg")] == 46.25
    assert [r[0] for r in samples] == ["s1", "s2", "s3"] and [r[4] for r in samples] == ["scored"] * 3


def test_a_request_leaves_only_its_two_downloads_and_a_failed_one_nothing(data, tmp_path):
    """The clip-folder journal holds every explanation and transcript: it goes when the request ends."""
    from omni_emotion.errors import EvaluationDataError
    from omni_emotion.ui.tempfiles import app_temp_dir

    (data / "clips" / "s1.mp4").write_bytes(b"x")
    (data / "gt.csv").write_text("name,openset\ns1,[happy]\n")
    (data / "pred.csv").write_text("name,openset\nsomeone-else,[happy]\n")
    ctx = _ctx(data, FakePipeline({"s1": ["happy"]}))
    with app_temp_dir(tmp_path) as folder:
        _, _, _, files = evaluate_request(ctx, "gt.csv", SOURCES[1], "", "clips", "wheels", 0, FakeProgress())
        assert sorted(p for p in folder.rglob("*") if p.is_file()) == sorted(Path(f) for f in files)
        for f in files:
            Path(f).unlink()  # as Gradio's sweep does FILE_TTL_S later
        with pytest.raises(EvaluationDataError):
            evaluate_request(ctx, "gt.csv", SOURCES[0], "pred.csv", "", "wheels", 0, FakeProgress())
        left = [p for p in folder.rglob("*") if p.is_file() or p.name.startswith("omni-emotion-call-eval-")]
        assert left == [Path(files[0]).parent]  # the first call's folder, emptied; the failed call's is gone


def test_the_summaries_lead_the_table_and_this_run_and_the_floor_stand_out(data):
    (data / "gt.csv").write_text("name,openset\ns1,\"['happy', 'angry']\"\ns2,[calm]\ns3,[happy]\n")
    (data / "pred.csv").write_text("name,openset\ns1,[happy]\ns2,[calm]\ns3,[angry]\n")
    _, table, _, _ = evaluate_request(
        _ctx(data), "gt.csv", SOURCES[0], "pred.csv", "", "wheels", 0, FakeProgress()
    )
    assert list(table.data.columns[:5]) == ["model", "M-avg", "L1-avg", "MER-FG", "Avg"]
    import gradio as gr

    shown = gr.Dataframe(interactive=False).postprocess(table)  # what the page receives
    styles = {row[0]: set(style) for row, style in zip(shown.data, shown.metadata["styling"])}
    ours, floor = _by_kind(_rows(table))
    assert all("#dcfce7" in s for s in styles[ours[0]]) and all("#fef3c7" in s for s in styles[floor[0]])


def test_predictions_list_offers_prediction_files_only(tmp_path):
    data = tmp_path / "data"
    (data / "ovmerd" / "baselines" / "Otter").mkdir(parents=True)
    (data / "wheel").mkdir()
    (data / "dev").mkdir()
    (data / "text").mkdir()
    files = {
        "ovmerd/baselines/Otter/openset.csv": "name,openset\ns1,[happy]\n",
        "ovmerd/baselines/Otter/reasons.jsonl": '{"name": "s1", "reason": "she smiles"}\n',
        "ovmerd/check-openset.csv": "name,openset\ns1,[happy]\n",
        "ovmerd/published_table4.csv": "model,GPT,M1\nA,1,2\n",
        "wheel/format.csv": "name,format\nhappy,happy\n",
        "dev/gt.csv": "name,openset\ns1,[happy]\n",
        "text/train.csv": "name,chinese,english,emotion\ns1,x,y,happy\n",
    }
    for name, text in files.items():
        (data / name).write_text(text)
    offered = [str(Path(p).relative_to(data)) for p in prediction_files((data,))]
    assert offered == ["ovmerd/baselines/Otter/openset.csv", "ovmerd/baselines/Otter/reasons.jsonl"]
