"""A quiet console: progress bars only at a terminal, none from the model libraries, times that say whether
they include loading, one line per user error, and the app's own flags in its hints."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from argparse import Namespace

import pytest

from omni_emotion.console import interactive
from omni_emotion.types import Analysis


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_only_to_a_terminal():
    assert interactive(_Tty()) and not interactive(io.StringIO())
    closed = io.StringIO()
    closed.close()
    assert not interactive(closed)


class _FakePipeline:
    def analyze_file(self, path, progress=None):
        for i in range(5):
            progress(i / 4, f"step {i}")
        return Analysis(labels=["calm"], explanation="calm", engine="fake", timings_ms={"total": 1200.0})


def _run_analyze(monkeypatch, tmp_path, stderr, json_out=False):
    from omni_emotion.cli import analyze as analyze_cli

    clip = tmp_path / "a.wav"
    import numpy as np
    from conftest import write_wav

    write_wav(clip, np.zeros(16000, np.float32), 16000)
    monkeypatch.setattr(analyze_cli, "pipeline_spec", lambda args: Namespace(create=_FakePipeline))
    monkeypatch.setattr(sys, "stderr", stderr)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    args = Namespace(clip=str(clip), out=None, ray=None, json=json_out)
    assert analyze_cli.run(args) == 0
    return out.getvalue()


def test_analyze_into_a_file_writes_no_bars_and_counts_loading(monkeypatch, tmp_path):
    log = io.StringIO()
    text = _run_analyze(monkeypatch, tmp_path, log)
    assert log.getvalue() == ""  # stderr is a file: no bar, no redraws
    line = next(line for line in text.splitlines() if line.startswith("time:"))
    assert " s cold (" in line and "loading the models" in line and "1.20 s analysing" in line
    tty = _Tty()
    _run_analyze(monkeypatch, tmp_path, tty)
    assert "%|" in tty.getvalue()  # a person at a terminal sees the bar


def test_analyze_json_carries_the_loading_time(monkeypatch, tmp_path):
    import json

    data = json.loads(_run_analyze(monkeypatch, tmp_path, io.StringIO(), json_out=True).splitlines()[-1])
    assert {"total", "load_models", "wall"} <= set(data["timings_ms"])
    assert data["timings_ms"]["wall"] >= data["timings_ms"]["load_models"]


def test_a_warm_time_says_so():
    from omni_emotion.cli.analyze import time_line

    assert time_line({"total": 2500.0}) == "2.50 s analysing, models already loaded (warm)"


def test_the_libraries_loading_bars_are_off():
    """In a fresh interpreter (the switch is process-wide): transformers' own tqdm, which draws its
    "Loading weights" bar, prints nothing once the CLI has quietened the libraries."""
    code = (
        "from omni_emotion.console import quiet_libraries; quiet_libraries()\n"
        "from transformers.utils.logging import tqdm, is_progress_bar_enabled\n"
        "assert not is_progress_bar_enabled()\n"
        "for _ in tqdm(range(3), desc='Loading weights'): pass\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Loading weights" not in done.stderr and "%|" not in done.stderr


def test_serve_names_its_own_share_flag():
    from omni_emotion.ui.serve import ready_line

    line = ready_line("http://127.0.0.1:7860/", None, "127.0.0.1")
    assert "--share" in line and "share=True" not in line and "this machine only" in line
    assert "https://x.gradio.live" in ready_line(
        "http://127.0.0.1:7860/", "https://x.gradio.live", "127.0.0.1"
    )


def test_a_user_error_is_one_log_line_and_no_traceback(caplog):
    import gradio as gr

    from omni_emotion.errors import EvaluationDataError
    from omni_emotion.ui.context import user_errors

    @user_errors
    def handler():
        raise EvaluationDataError("Choose a ground-truth CSV.")

    with caplog.at_level(logging.WARNING), pytest.raises(gr.Error) as raised:
        handler()
    assert raised.value.print_exception is False  # Gradio prints no traceback for it
    assert raised.value.__suppress_context__ and raised.value.__cause__ is None
    assert [r.getMessage() for r in caplog.records] == ["user error: Choose a ground-truth CSV."]
