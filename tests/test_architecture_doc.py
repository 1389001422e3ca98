"""docs/architecture.md agrees with the code: the Analysis JSON's keys, the command table (commands and the
pipeline options each takes) and the list of every module (once each)."""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path

from omni_emotion.cli import build_parser
from omni_emotion.types import Analysis, Clues

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PIPELINE_OPTIONS = ("--engine", "--face-backend", "--device", "--weights-dir")


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option of a command, its sub-actions' (``weights init``) included."""
    found = {s for a in parser._actions for s in a.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= _option_strings(child)
    return found


def test_the_json_keys_named_in_the_doc_are_the_analysis_keys():
    section = _section(DOC, "The JSON contract")
    sentence = section[
        section.index("is the public output:") : section.index("`omni-emotion analyze --json`")
    ]
    named = re.findall(r"`([a-z_]+)`", sentence)
    assert named == list(Analysis.JSON_KEYS)
    assert list(Analysis(labels=["calm"], explanation="", clues=Clues()).to_dict()) == list(
        Analysis.JSON_KEYS
    )


def test_the_readme_json_example_has_exactly_the_analysis_keys():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("```json\n") + 8 :]
    example = block[: block.index("```")].replace("…", "0").replace("[0]", "[]")
    keys = re.findall(r'(?:^|[{,]\s*)"([a-z_]+)":', example, re.M)
    top = [k for k in keys if k in Analysis.JSON_KEYS]
    assert sorted(set(top)) == sorted(Analysis.JSON_KEYS), json.dumps(keys)


def _command_table() -> dict[str, str]:
    rows = re.findall(r"^\| `([a-z]+)` \| [^|]+ \| ([^|]+) \|$", _section(DOC, "Commands"), re.M)
    assert rows, "no command rows under '## Commands'"
    return {name: options.strip() for name, options in rows}


def test_the_command_table_lists_exactly_the_cli_commands():
    assert sorted(_command_table()) == sorted(_subparsers())


def test_each_command_takes_the_pipeline_options_the_table_says():
    subparsers = _subparsers()
    for name, claim in _command_table().items():
        taken = [o for o in PIPELINE_OPTIONS if o in _option_strings(subparsers[name])]
        if claim == "all":
            expected = list(PIPELINE_OPTIONS)
        elif claim == "none":
            expected = []
        else:
            expected = re.findall(r"`(--[a-z-]+)`", claim)
        assert taken == expected, f"{name}: the doc says {claim!r}, the parser has {taken}"


def _package_modules() -> list[str]:
    """Every .py file of the packages pyproject.toml installs, as a path from the repository root."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    roots = {p.rstrip("*") for p in patterns["include"]}
    found = []
    for root in sorted(roots):
        if (ROOT / root / "__init__.py").is_file():
            found += [p.relative_to(ROOT).as_posix() for p in (ROOT / root).rglob("*.py")]
    return sorted(found)


def _documented_modules() -> list[str]:
    block = DOC[DOC.index("```modules\n") + len("```modules\n") :]
    block = block[: block.index("```")]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def test_the_doc_lists_every_module_exactly_once():
    documented, actual = _documented_modules(), _package_modules()
    twice = sorted({m for m in documented if documented.count(m) > 1})
    missing = sorted(set(actual) - set(documented))
    gone = sorted(set(documented) - set(actual))
    assert not (twice or missing or gone), (
        "docs/architecture.md's ```modules block and the code differ; add a line (path, then what it does) for "
        f"each of {missing}, remove {gone}, and list {twice} once"
    )
