"""Turn public annotation files into training manifests (see manifest.py for the format).

- OV-label CSV ``name,openset`` (OV-MERD / MER2024 ``check-openset.csv``; ``openset`` a list-like string
  such as ``"['excited', 'joyful']"``; ``labels`` or ``label`` are read as that column too, as by
  ``omni-emotion eval --gt``) -> task ``ov_labels``, answer ``"excited, joyful"``, and the labels themselves
  on the sample (``labels``: what phase 4 rewards against).
- EMER-style description CSV ``name,reason`` (also JSONL with those keys) -> task ``describe``.
- Classification CSV ``name,label`` -> task ``classify``; the question lists the candidate labels (all labels
  of the file, sorted, unless given).

``name`` is a file in the media folder, with or without its extension. Audio-only files (wav, flac, ...) go
to the ``audio`` key, anything else to ``video``. Where a row also has the clip's transcript (a column or key
``transcript``, ``subtitle`` or ``english``: MER's subtitle files name it so), the question is preceded by it
exactly as the omni engine asks (``templates.instruction(..., transcript=...)``).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from omni_emotion.media import AUDIO_SUFFIXES, MEDIA_SUFFIXES
from omni_emotion.mentions import parse_labels
from omni_emotion.training.manifest import Sample, TrainingDataError, Turn
from omni_emotion.training.templates import instruction, labels_answer

__all__ = ["FORMATS", "convert", "find_media", "from_labels", "from_openset", "from_reasons"]

FORMATS = ("openset", "reason", "label")
# columns (or JSONL keys) read as the clip's transcript, first found wins
TRANSCRIPT_COLUMNS = ("transcript", "subtitle", "english")


def find_media(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it exists, else ``folder/name.EXT`` for the first known extension (video first)."""
    direct = folder / name
    if direct.is_file():
        return direct
    for ext in MEDIA_SUFFIXES:
        candidate = folder / f"{name}{ext}"
        if candidate.is_file():
            return candidate
    return None


def _transcript(row: dict) -> str:
    return next(
        (row[c].strip() for c in TRANSCRIPT_COLUMNS if isinstance(row.get(c), str) and row[c].strip()), ""
    )


def _rows(
    path: Path, columns: tuple[str, str], aliases: tuple[str, ...] = ()
) -> Iterator[tuple[int, str, str, str]]:
    """(line, name, value, transcript) from a CSV with a header, or from JSONL objects with those keys; a CSV
    without the value column may name it by one of ``aliases``; transcript "" where the row has none."""
    if not path.is_file():
        raise TrainingDataError(f"the annotation file {path} does not exist.")
    key, value = columns
    # utf-8-sig: spreadsheet exports often start with a byte-order mark, which would hide the first column
    with path.open(encoding="utf-8-sig", newline="") as f:
        if path.suffix.lower() in (".jsonl", ".json"):
            for n, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as err:
                    raise TrainingDataError(f"{path.name}, line {n}: not valid JSON ({err.msg}).") from err
                if (
                    not isinstance(obj, dict)
                    or not isinstance(obj.get(key), str)
                    or not isinstance(obj.get(value), str)
                ):
                    raise TrainingDataError(
                        f"{path.name}, line {n}: expected string keys '{key}' and '{value}'."
                    )
                yield n, obj[key], obj[value], _transcript(obj)
            return
        reader = csv.DictReader(f)
        reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
        if value not in reader.fieldnames:
            value = next((a for a in aliases if a in reader.fieldnames), value)
            columns = (key, value)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise TrainingDataError(
                f"{path.name} has no '{missing[0]}' column (found: {', '.join(reader.fieldnames or []) or 'nothing'})."
            )
        for row in reader:
            yield reader.line_num, (row[key] or "").strip(), row[value] or "", _transcript(row)


def _sample(
    path: Path, line: int, name: str, media: Path, task: str, prompt: str, answer: str, check: bool
) -> Sample:
    where = f"{path.name}, line {line}"
    if not name:
        raise TrainingDataError(f"{where}: the name is empty.")
    if not answer.strip():
        raise TrainingDataError(f"{where}: the annotation of {name!r} is empty.")
    found = find_media(media, name)
    if found is None:
        if check:
            raise TrainingDataError(f"{where}: no media file for {name!r} in {media}.")
        found = media / name
    kind = "audio" if found.suffix.lower() in AUDIO_SUFFIXES else "video"
    return Sample(
        id=name,
        conversation=(Turn("user", prompt), Turn("assistant", answer.strip())),
        task=task,
        line=line,
        **{kind: found.resolve()},
    )


def from_openset(
    path: str | os.PathLike, media: str | os.PathLike, *, check_files: bool = True
) -> list[Sample]:
    """OV-label CSV ``name,openset`` -> ``ov_labels`` samples; rows with no label are an error."""
    p, folder = Path(path), Path(media)
    out = []
    for line, name, value, said in _rows(p, ("name", "openset"), aliases=("labels", "label")):
        labels = list(dict.fromkeys(parse_labels(value)))  # duplicates add nothing to a set-based score
        prompt = instruction("ov_labels", name, transcript=said)
        sample = _sample(p, line, name, folder, "ov_labels", prompt, labels_answer(labels), check_files)
        out.append(dataclasses.replace(sample, labels=tuple(labels)))
    return out


def from_reasons(
    path: str | os.PathLike, media: str | os.PathLike, *, check_files: bool = True
) -> list[Sample]:
    """EMER-style ``name,reason`` (CSV or JSONL) -> ``describe`` samples."""
    p, folder = Path(path), Path(media)
    return [
        _sample(
            p,
            line,
            name,
            folder,
            "describe",
            instruction("describe", name, transcript=said),
            reason,
            check_files,
        )
        for line, name, reason, said in _rows(p, ("name", "reason"))
    ]


def from_labels(
    path: str | os.PathLike,
    media: str | os.PathLike,
    *,
    candidates: Sequence[str] | None = None,
    check_files: bool = True,
) -> list[Sample]:
    """Classification CSV ``name,label`` -> ``classify`` samples asking to pick one of ``candidates``."""
    p, folder = Path(path), Path(media)
    rows = [
        (line, name, label.strip().lower(), said) for line, name, label, said in _rows(p, ("name", "label"))
    ]
    options = (
        [c.strip().lower() for c in candidates]
        if candidates
        else sorted({label for _, _, label, _ in rows if label})
    )
    known = set(options)
    out = []
    for line, name, label, said in rows:
        if label and label not in known:
            raise TrainingDataError(f"{p.name}, line {line}: label {label!r} is not one of the candidates.")
        prompt = instruction("classify", name, candidates=options, transcript=said)
        out.append(_sample(p, line, name, folder, "classify", prompt, label, check_files))
    return out


def convert(kind: str, path: str | os.PathLike, media: str | os.PathLike, **kwargs) -> list[Sample]:
    """Dispatch on ``kind`` in FORMATS ("openset", "reason", "label")."""
    readers = {"openset": from_openset, "reason": from_reasons, "label": from_labels}
    if kind not in readers:
        raise TrainingDataError(f"unknown annotation format {kind!r}; use one of {', '.join(FORMATS)}.")
    return readers[kind](path, media, **kwargs)
