"""Clips named in a list (a ground-truth CSV, a batch job): plain file names, looked up in one folder.

A name from a file someone else wrote must never lead outside the folder it names clips in: no paths, no
links that resolve elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from omni_emotion.errors import EvaluationDataError
from omni_emotion.media import MEDIA_SUFFIXES

__all__ = ["clip_name_problem", "find_clip"]

_MAX_NAME_BYTES = 200  # file names may have 255 bytes; this leaves room for the extension


def clip_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a clip, or None: a sample name is a plain file name, never a path."""
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        return "is a path, not a plain file name"
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        return f"is longer than {_MAX_NAME_BYTES} bytes"
    return None


def find_clip(folder: Path, name: str) -> Path | None:
    """The resolved ``folder/<name>.<ext>`` for the first known media extension present, else None.

    Raises EvaluationDataError when ``name`` is not a plain file name or the clip is a link that leads
    outside ``folder``: a ground-truth file must not make us read files elsewhere.
    """
    problem = clip_name_problem(name)
    if problem:
        raise EvaluationDataError(f"The sample name {name[:80]!r} {problem}, so no clip is looked up for it.")
    root = folder.resolve()
    for ext in MEDIA_SUFFIXES:
        for candidate in (folder / f"{name}{ext}", folder / f"{name}{ext.upper()}"):
            if candidate.is_file():
                target = candidate.resolve()
                if not target.is_relative_to(root):
                    raise EvaluationDataError(
                        f"The clip {candidate.name} links outside the clip folder {folder}."
                    )
                return target
    return None
