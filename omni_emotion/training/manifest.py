"""The training manifest: one JSON object per line, one sample per object.

A line looks like::

    {"id": "sample_00000007", "video": "clips/sample_00000007.mp4", "task": "ov_labels",
     "conversation": [{"role": "user", "content": "Which emotions does this person show?"},
                      {"role": "assistant", "content": "excited, joyful, happy"}]}

Keys (anything else is an error, so a misspelt key never passes silently):

- ``conversation`` (required): two turns, ``{"role": "user", "content": str}`` (the instruction) then
  ``{"role": "assistant", "content": str}`` (the answer the model learns; the instruction is never a target).
  The processor inserts the media block before the instruction's text, so contents are plain text.
- ``video`` (optional): a video or still image; its frames, face crops and (unless ``audio`` is given) its
  sound feed the model.
- ``audio`` (optional): a separate audio file (phase 1's speech and sound data, or to override the video's
  track). At least one of ``video`` and ``audio`` is required.
- ``labels`` (optional): the clip's open-vocabulary emotion labels (OV-MERD's ``openset``), a list of words,
  e.g. ``["excited", "joyful"]``. Phase 4 scores its sampled answers against them with the EW metric and
  needs them on every sample; phases 1 to 3 ignore them (they learn the assistant turn).
- ``id`` (optional, default ``line-N``): a name for logs and the feature cache; ``task`` (optional): a free tag
  such as ``transcribe``, ``caption``, ``classify``, ``describe`` or ``ov_labels``, reported in statistics.

Relative paths are relative to the manifest's folder. Errors name the file and line in one sentence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from omni_emotion.errors import OmniEmotionError

__all__ = ["Sample", "TrainingDataError", "Turn", "read_manifest", "sample_to_dict", "write_manifest"]

ROLES = ("user", "assistant")
KEYS = frozenset({"id", "video", "audio", "task", "conversation", "labels"})


class TrainingDataError(OmniEmotionError, ValueError):
    """A manifest or annotation file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


@dataclass(frozen=True)
class Sample:
    """One training example. ``video``/``audio`` are absolute paths (or None); ``line`` is 1-based
    (0 = built in code)."""

    id: str
    conversation: tuple[Turn, ...]
    video: Path | None = None
    audio: Path | None = None
    task: str = ""
    line: int = 0
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _conversation_problem(self.conversation)
        if problem:
            raise TrainingDataError(f"sample {self.id!r}: {problem}.")
        if self.video is None and self.audio is None:
            raise TrainingDataError(f"sample {self.id!r} has neither a video nor an audio file.")

    @property
    def prompt(self) -> str:
        """The user turn (the instruction)."""
        return self.conversation[0].content

    @property
    def answer(self) -> str:
        """The assistant turn (the target)."""
        return self.conversation[1].content


def _conversation_problem(turns: tuple[Turn, ...]) -> str:
    if len(turns) != 2:
        return f"the conversation has {len(turns)} turns; a sample is one user turn then one assistant turn"
    for i, turn in enumerate(turns):
        want = ROLES[i % 2]
        if turn.role != want:
            return f"turn {i + 1} has role {turn.role!r} where {want!r} is expected"
        if not turn.content.strip():
            return f"turn {i + 1} ({turn.role}) is empty"
    return ""


def _parse_line(obj: object, where: str, folder: Path, check_files: bool) -> tuple[dict, list[Turn]]:
    if not isinstance(obj, dict):
        raise TrainingDataError(f"{where}: expected a JSON object, got {type(obj).__name__}.")
    unknown = sorted(set(obj) - KEYS)
    if unknown:
        raise TrainingDataError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(KEYS))}).")
    raw = obj.get("conversation")
    if not isinstance(raw, list):
        raise TrainingDataError(f"{where}: 'conversation' must be a list of {{role, content}} turns.")
    turns = []
    for i, t in enumerate(raw):
        if (
            not isinstance(t, dict)
            or not isinstance(t.get("role"), str)
            or not isinstance(t.get("content"), str)
        ):
            raise TrainingDataError(
                f'{where}: conversation turn {i + 1} must be {{"role": str, "content": str}}.'
            )
        turns.append(Turn(t["role"], t["content"]))
    paths = {}
    for key in ("video", "audio"):
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise TrainingDataError(f"{where}: '{key}' must be a non-empty path string.")
        p = Path(value).expanduser()
        p = Path(os.path.normpath(p if p.is_absolute() else folder / p))
        if check_files and not p.is_file():
            raise TrainingDataError(f"{where}: the {key} file {p} does not exist.")
        paths[key] = p
    for key in ("id", "task"):
        if key in obj and not isinstance(obj[key], str):
            raise TrainingDataError(f"{where}: '{key}' must be a string.")
    labels = obj.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip() for x in labels):
        raise TrainingDataError(f"{where}: 'labels' must be a list of non-empty strings.")
    return paths, turns


def read_manifest(path: str | os.PathLike, *, check_files: bool = True) -> list[Sample]:
    """Read and validate a JSONL manifest; blank lines are skipped. Raises TrainingDataError (file + line)."""
    p = Path(path)
    if not p.is_file():
        raise TrainingDataError(f"the manifest {p} does not exist.")
    folder = p.resolve().parent
    samples: list[Sample] = []
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise TrainingDataError(f"the manifest {p} is not UTF-8 text (byte {err.start}).") from err
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{p.name}, line {n}"
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise TrainingDataError(f"{where}: not valid JSON ({err.msg} at column {err.colno}).") from err
        paths, turns = _parse_line(obj, where, folder, check_files)
        problem = _conversation_problem(tuple(turns))
        if problem:
            raise TrainingDataError(f"{where}: {problem}.")
        if not paths:
            raise TrainingDataError(f"{where}: a sample needs a 'video' or an 'audio' path.")
        samples.append(
            Sample(
                id=obj.get("id") or f"line-{n}",
                conversation=tuple(turns),
                video=paths.get("video"),
                audio=paths.get("audio"),
                task=obj.get("task", ""),
                line=n,
                labels=tuple(x.strip().lower() for x in obj.get("labels", [])),
            )
        )
    if not samples:
        raise TrainingDataError(f"the manifest {p} holds no samples.")
    return samples


def _relative(path: Path, folder: Path) -> str:
    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows
        return str(path)


def sample_to_dict(sample: Sample, folder: Path | None = None) -> dict:
    """The manifest line of ``sample``; paths are written relative to ``folder`` when given."""
    out: dict = {"id": sample.id}
    for key in ("video", "audio"):
        value = getattr(sample, key)
        if value is not None:
            out[key] = _relative(Path(value), folder) if folder is not None else str(value)
    if sample.task:
        out["task"] = sample.task
    if sample.labels:
        out["labels"] = list(sample.labels)
    out["conversation"] = [{"role": t.role, "content": t.content} for t in sample.conversation]
    return out


def write_manifest(samples: Iterable[Sample], path: str | os.PathLike) -> int:
    """Write ``samples`` as JSONL (paths relative to the manifest's folder); returns the number written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    folder = p.resolve().parent
    count = 0
    with p.open("w", encoding="utf-8") as f:
        for sample in samples:
            f.write(json.dumps(sample_to_dict(sample, folder), ensure_ascii=False) + "\n")
            count += 1
    return count
