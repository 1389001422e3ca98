"""A folder job never writes into its inputs: an ``--out`` that is one of the clips, or is named like a clip
inside the input folder, is refused; a results file that is not UTF-8 JSONL (a clip, any binary, other text)
is refused before anything is appended, for ``analyze DIR --out`` and for the eval runner's cache. Both are
one sentence and exit 2, and every byte of every file stays as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_wav

from omni_emotion.cli import main
from omni_emotion.errors import ConfigError
from omni_emotion.evaluation.runner import predict_clips


def digest(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def run(capsys, *args) -> tuple[int, str]:
    code = main([*map(str, args)])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


@pytest.fixture
def folder(tmp_path) -> Path:
    clips = tmp_path / "clips"
    clips.mkdir()
    # all-zero samples: the WAV's bytes after the header are valid UTF-8, which once let JSON be appended
    write_wav(clips / "a.wav", np.zeros(8000), 16_000)
    (clips / "notes.txt").write_text("not a clip\n")
    return clips


@pytest.mark.parametrize("out", ["a.wav", "new.mp4", "sub/../a.wav"])
def test_an_out_inside_the_inputs_named_like_a_clip_is_refused(folder, capsys, out):
    before = digest(folder)
    code, line = run(capsys, "analyze", folder, "--out", folder / out)
    assert code == 2 and "is one of the input clips (or named like one inside the input folder)" in line
    assert line.startswith("omni-emotion: error: ") and line.endswith(".")
    assert digest(folder) == before and not (folder / "new.mp4").exists()


def test_a_link_outside_the_folder_that_resolves_to_a_clip_is_refused(folder, tmp_path, capsys):
    link = tmp_path / "results.jsonl"
    link.symlink_to(folder / "a.wav")
    before = digest(folder)
    code, line = run(capsys, "analyze", folder, "--out", link)
    assert code == 2 and "is one of the input clips" in line and digest(folder) == before


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x00\xff\xfe binary\n", "line 1 is not UTF-8 text"),
        (b'{"clip": "a.wav", "labels": []}\nplain text, not JSON\n', "line 2 is not JSON"),
        (b"[1, 2]\n", "line 1 holds no JSON object"),
    ],
)
def test_a_results_file_that_is_not_jsonl_is_refused_untouched(folder, tmp_path, capsys, content, problem):
    out = tmp_path / "results.jsonl"
    out.write_bytes(content)
    code, line = run(capsys, "analyze", folder, "--out", out)
    assert code == 2 and f"results.jsonl is not a results file ({problem}), so nothing was written" in line
    assert out.read_bytes() == content


def test_an_unfinished_last_line_is_still_resumed(folder, tmp_path):
    """A run killed mid-write leaves a partial last line (even a cut UTF-8 character): that is not junk."""
    from omni_emotion.jobs.sinks import JsonlSink

    out = tmp_path / "results.jsonl"
    out.write_bytes(b'{"clip": "a.wav", "labels": ["calm"]}\n{"clip": "b.wav", "explanation": "caf\xc3')
    assert JsonlSink(out).done_keys() == {"a.wav"}


def test_the_eval_cache_is_refused_when_it_is_not_jsonl(folder, tmp_path):
    cache = tmp_path / "cache.jsonl"
    cache.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")

    class Never:
        def analyze_file(self, path, progress=None):
            raise AssertionError("nothing should be analysed")

    with pytest.raises(ConfigError, match=r"cache.jsonl is not a results file \(line 1 is not UTF-8 text\)"):
        predict_clips(["a"], folder, Never(), cache)
    assert cache.read_bytes() == b"\x89PNG\r\n\x1a\n\x00\x00"


def test_control_characters_in_names_are_escaped_in_cli_errors(tmp_path, capsys):
    name = "evil\x1b]0;pwned\x07\x1b[2J.mp4"  # sets the terminal title, then clears the screen
    path = tmp_path / name
    code = main(["probe", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "\x1b" not in err and "\x07" not in err
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J.mp4 does not exist." in err
    assert json.dumps(name)  # the name itself is untouched: only its printing is escaped
