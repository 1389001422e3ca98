"""Every hostile input (tests/hostile.py) through `omni-emotion probe`, `omni-emotion analyze` and the web
app's /analyze: exit code 0 or 2 (a result or one sentence), never a traceback, and the input unchanged.

analyze runs in-process with the clue engine loaded once for the module (the CLI would load it per call,
~10 s each); the web app runs around a fake pipeline that checks uploads as the real one does."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import pytest
from fake_app import FakePipeline, fake_demo
from gradio_client import handle_file
from hostile import CORPUS, hostile_corpus

from omni_emotion.cli import main as cli_main
from omni_emotion.pipeline import EmotionPipeline
from omni_emotion.ui.tempfiles import app_temp_dir

_create = EmotionPipeline.create  # the real one, kept before test_analyze replaces it


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return hostile_corpus(tmp_path_factory.mktemp("hostile"))


def fingerprint(path: Path) -> tuple:
    """What must not change: a regular file's bytes, a link's target, any other path's kind."""
    if path.is_symlink():
        return "link", os.readlink(path)
    if path.is_file():
        return "file", hashlib.sha256(path.read_bytes()).hexdigest()
    return "other", path.exists() and os.lstat(path).st_mode


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli_main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_result_or_one_sentence(code: int, out: str, err: str) -> None:
    """Exit 0 with the JSON result, or exit 2 with one sentence last on stderr; no traceback either way."""
    assert code in (0, 2) and "Traceback" not in out + err
    if code == 0:
        assert isinstance(json.loads(out.strip().splitlines()[-1]), dict)  # --json: one object, last line
    else:
        last = err.strip().splitlines()[-1]
        assert last.startswith("omni-emotion: error: ") and last.endswith("."), err


@functools.cache
def clue_pipeline():
    from omni_emotion.errors import ModelNotFoundError

    try:
        return _create(engine="clues")
    except ModelNotFoundError as err:
        pytest.skip(f"the clue engine's models are not installed: {err}")


def test_the_corpus_holds_every_named_input(corpus):
    assert set(corpus) == set(CORPUS)


@pytest.mark.parametrize("name", CORPUS)
def test_probe(corpus, capsys, name):
    path = corpus[name]
    before = fingerprint(path)
    assert_result_or_one_sentence(*run_cli(["probe", str(path), "--json"], capsys))
    assert fingerprint(path) == before


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS)
def test_analyze(corpus, capsys, monkeypatch, name):
    path = corpus[name]
    before = fingerprint(path)
    # one model load for the module; analyze still decodes, checks and reports exactly as on the command line
    monkeypatch.setattr(EmotionPipeline, "create", staticmethod(lambda **_: clue_pipeline()))
    code, out, err = run_cli(["analyze", str(path), "--engine", "clues", "--json"], capsys)
    assert_result_or_one_sentence(code, out, err)
    assert fingerprint(path) == before


@pytest.fixture(scope="module")
def app():
    pipeline = FakePipeline()
    with app_temp_dir() as folder:
        demo, client = fake_demo(pipeline)
        yield client, folder
        client.close()
        demo.close()


@pytest.mark.parametrize("name", [n for n in CORPUS if n not in ("symlink_loop", "dangling_symlink", "fifo",
                                                                  "directory", "missing")])
def test_web_analyze(corpus, app, name):
    """Uploads are copies: the one-sentence error names the file the person sent, never the temp folder."""
    client, folder = app
    path = corpus[name]
    before = fingerprint(path)
    try:
        result = client.predict(handle_file(str(path)), api_name="/analyze")
    except Exception as err:  # gradio_client raises AppError carrying the handler's gr.Error message
        message = str(err)
        assert type(err).__name__ == "AppError" and path.name in message and str(folder) not in message
        assert "\n" not in message and message.endswith(".")
    else:
        assert result["labels"] == ["calm"]
    assert fingerprint(path) == before
