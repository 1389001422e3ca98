"""Where the web app keeps what people send it (clips, webcam frames, microphone chunks) and what it makes
for them (annotated frames, result files), and how long.

Faces and voices are personal: everything lives in ONE private folder (mode 0700) that the app owns, not in
the shared ``/tmp/gradio``. Gradio writes its uploads and outputs there because ``GRADIO_TEMP_DIR`` points
there while the app runs (the setting Gradio reads when a Blocks and its server are made). Files are deleted
``FILE_TTL_S`` after they were written (Gradio's ``delete_cache``, checked every ``SWEEP_EVERY_S``), per-call
folders on the next call after the same age, and the whole folder when the app stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DELETE_CACHE", "FILE_TTL_S", "SWEEP_EVERY_S", "app_temp_dir", "call_dir"]

FILE_TTL_S = 600  # s: long enough to press Analyze on an upload a while later, short enough not to keep faces
SWEEP_EVERY_S = 60  # s
DELETE_CACHE = (SWEEP_EVERY_S, FILE_TTL_S)  # gr.Blocks(delete_cache=...): (how often, older than), seconds

_ENV = "GRADIO_TEMP_DIR"
_CALL_PREFIX = "omni-emotion-call-"  # distinct: outside the app folder the system temp folder is shared


@contextmanager
def app_temp_dir(parent: str | os.PathLike | None = None) -> Iterator[Path]:
    """A new private folder that Gradio uses for uploads and outputs while the block runs; removed with
    everything in it on exit. Build and launch the app inside the block."""
    folder = Path(tempfile.mkdtemp(prefix="omni-emotion-", dir=parent))
    previous = os.environ.get(_ENV)
    os.environ[_ENV] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(_ENV, None)
        else:
            os.environ[_ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)


def call_dir(prefix: str) -> Path:
    """A new folder for one request's files (e.g. one Evaluate run's CSVs) inside the app's folder (the
    system temp folder outside ``app_temp_dir``). Gradio serves files returned from it without copying
    them; call folders older than ``FILE_TTL_S`` are removed here, and all of them when the app stops."""
    root = Path(os.environ.get(_ENV) or tempfile.gettempdir())
    _remove_old_calls(root)
    return Path(tempfile.mkdtemp(prefix=f"{_CALL_PREFIX}{prefix}", dir=root))


def _remove_old_calls(root: Path) -> None:
    cutoff = time.time() - FILE_TTL_S
    for folder in root.glob(f"{_CALL_PREFIX}*"):
        try:
            old = folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff
        except FileNotFoundError:  # another request removed it first
            continue
        if old:
            shutil.rmtree(folder, ignore_errors=True)
