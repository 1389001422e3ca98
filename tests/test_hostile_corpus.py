"""Every hostile input (tests/hostile.py) through `omni-emotion probe`, `omni-emotion analyze` and the web
app's /analyze: the outcome stated per input in EXPECTED (exit 0 with a result, or exit 2 with that
sentence), never a traceback, and the input unchanged. The folder-job cases (FOLDER_CASES) must be refused
with their sentence, every input byte kept.

analyze runs in-process with the clue engine loaded once for the module (the CLI would load it per call,
~10 s each); the web app runs around a fake pipeline that checks uploads as the real one does."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import pytest
from fake_app import fake_demo
from fixtures import FakePipeline
from gradio_client import handle_file
from hostile import CORPUS, FOLDER_CASES, folder_cases, hostile_corpus

from omni_emotion.cli import main as cli_main
from omni_emotion.errors import printable
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


_LIMIT = "above the 16.8 MP limit; send a smaller picture or downscale the video."
_UNREADABLE = (
    "{name} is not a readable audio, video or image file (invalid data found when processing input)."
)
# per input: the exit code, and for exit 2 the sentence ({name}: the file's name as the user gave it)
EXPECTED: dict[str, tuple[int, str | None]] = {
    "empty": (2, "{name} is an empty file (0 bytes)."),
    "text_as_mp4": (2, _UNREADABLE),
    "random_bytes": (2, _UNREADABLE),
    "truncated_mp4": (2, _UNREADABLE),
    "header_only_mp4": (2, _UNREADABLE),
    "broken_wav": (2, _UNREADABLE),
    "wav_named_mp4": (0, None),
    "mp4_named_jpg": (0, None),
    "garbled_mp4": (
        2,
        "{name} has a video stream that cannot be decoded (invalid data found when processing input).",
    ),
    "live_webm": (0, None),
    "raw_h264": (0, None),
    "png_bomb": (2, "{name} has a 16000x16000 frame (256.0 MP), " + _LIMIT),
    "growing_h264": (2, "{name} has a 4200x4100 frame (17.2 MP), " + _LIMIT),
    "growing_mjpeg": (2, "{name} has a 4200x4100 frame (17.2 MP), " + _LIMIT),
    "tiff_bomb": (2, "{name} has a 16000x16000 frame (256.0 MP), " + _LIMIT),
    "hdr_bomb": (2, "{name} has a 16000x16000 frame (256.0 MP), " + _LIMIT),
    "control_chars_name": (2, _UNREADABLE),
    "symlink_loop": (2, "{name} is a loop of symbolic links that never reaches a file."),
    "dangling_symlink": (2, "{name} is a symbolic link to nowhere.mp4, which does not exist."),
    "fifo": (2, "{name} is a named pipe (FIFO), not a regular media file."),
    "directory": (2, "{name} is a directory, not a media file."),
    "missing": (2, "{name} does not exist."),
}


# where `analyze` answers otherwise: a directory is a folder job there, which needs --out
ANALYZE_EXPECTED = {"directory": (2, "{path} is a folder: name a results file with --out results.jsonl.")}


def assert_expected(
    name: str,
    path: Path,
    code: int,
    out: str,
    err: str,
    expected: dict[str, tuple[int, str | None]] = EXPECTED,
) -> None:
    """The stated outcome: exit 0 with the JSON result, or exit 2 with exactly its sentence last on stderr
    (the name escaped as the terminal must show it); no traceback and no raw escape from a name."""
    want_code, sentence = expected[name]
    assert code == want_code and "Traceback" not in out + err, (code, err[-2000:])
    assert "\x1b]0;pwned" not in out + err  # the name's escape sequence (progress bars may move the cursor)
    if code == 0:
        assert isinstance(json.loads(out.strip().splitlines()[-1]), dict)  # --json: one object, last line
    else:
        last = err.strip().splitlines()[-1]
        want = sentence.format(name=printable(path.name), path=printable(str(path)))
        assert last == "omni-emotion: error: " + want, err


@functools.cache
def clue_pipeline():
    from omni_emotion.errors import ModelNotFoundError

    try:
        return _create(engine="clues")
    except ModelNotFoundError as err:
        pytest.skip(f"the clue engine's models are not installed: {err}")


def test_the_corpus_holds_every_named_input(corpus):
    assert set(corpus) == set(CORPUS) == set(EXPECTED)


@pytest.mark.parametrize("name", CORPUS)
def test_probe(corpus, capsys, name):
    path = corpus[name]
    before = fingerprint(path)
    assert_expected(name, path, *run_cli(["probe", str(path), "--json"], capsys))
    assert fingerprint(path) == before


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS)
def test_analyze(corpus, capsys, monkeypatch, name):
    path = corpus[name]
    before = fingerprint(path)
    # one model load for the module; analyze still decodes, checks and reports exactly as on the command line
    monkeypatch.setattr(EmotionPipeline, "create", staticmethod(lambda **_: clue_pipeline()))
    code, out, err = run_cli(["analyze", str(path), "--engine", "clues", "--json"], capsys)
    assert_expected(name, path, code, out, err, EXPECTED | ANALYZE_EXPECTED)
    assert fingerprint(path) == before


@pytest.fixture(scope="module")
def app():
    pipeline = FakePipeline(decode=True)
    with app_temp_dir() as folder:
        demo, client = fake_demo(pipeline)
        yield client, folder
        client.close()
        demo.close()


@pytest.mark.parametrize(
    "name",
    [n for n in CORPUS if n not in ("symlink_loop", "dangling_symlink", "fifo", "directory", "missing")],
)
def test_web_analyze(corpus, app, name):
    """Uploads are copies: the one-sentence error names the file the person sent, never the temp folder."""
    client, folder = app
    path = corpus[name]
    before = fingerprint(path)
    want_code, sentence = EXPECTED[name]
    try:
        result = client.predict(handle_file(str(path)), api_name="/analyze")
    except Exception as err:  # gradio_client raises AppError carrying the handler's gr.Error message
        message = str(err)
        assert want_code == 2, message
        assert type(err).__name__ == "AppError" and str(folder) not in message
        # the name as the upload kept it (browsers and Gradio may clean it); the rest word for word
        assert message.endswith(sentence.split("{name}", 1)[1]) and "\n" not in message, message
        assert name == "control_chars_name" or path.name in message
    else:
        assert want_code == 0 and result["labels"] == ["calm"]
    assert fingerprint(path) == before


FOLDER_SENTENCES = {
    "junk_results": "results.jsonl is not a results file (line 1 is not UTF-8 text), so nothing was written"
    " to it; name a new file or an earlier results file.",
    "out_is_input": "clip.wav is one of the input clips (or named like one inside the input folder); name a"
    " results file such as results.jsonl.",
    "out_links_to_input": "linked.jsonl is one of the input clips (or named like one inside the input"
    " folder); name a results file such as results.jsonl.",
}


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_folder_job_never_writes_into_its_inputs(tmp_path, capsys, case):
    folder, out = folder_cases(tmp_path)[case]
    before = {p: fingerprint(p) for p in [*folder.rglob("*"), out]}
    code, _, err = run_cli(["analyze", str(folder), "--out", str(out)], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith(FOLDER_SENTENCES[case]), err
    assert {p: fingerprint(p) for p in [*folder.rglob("*"), out]} == before
