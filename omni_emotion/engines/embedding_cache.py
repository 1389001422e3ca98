"""Sentence embeddings of fixed texts kept on disk, so a process does not re-encode them at every start.

The text models embed a few hundred fixed sentences (the lexicon's "I feel <word>.") before they can read
anything: 0.3-1 s of CPU on two cores, and more on a busy machine. The vectors depend only on the texts and
the model, so the first process stores them under ``cache_root()`` and later ones read them back (the very
same float32 values, so nothing downstream changes). The file name is a hash of the texts and of what
identifies the model (its package and library versions); a changed model or lexicon gets a new file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from omni_emotion.paths import cache_root

__all__ = ["cached_embeddings", "embeddings_key"]

log = logging.getLogger(__name__)


def embeddings_key(model_id: Sequence[str], texts: Sequence[str]) -> str:
    """A file-name-safe hash of what the vectors depend on: the model's identity and the texts, in order."""
    digest = hashlib.sha256()
    for part in (*model_id, "\x00", *texts):
        digest.update(part.encode("utf-8") + b"\x1f")
    return digest.hexdigest()[:32]


def cached_embeddings(
    model_id: Sequence[str],
    texts: Sequence[str],
    encode: Callable[[list[str]], np.ndarray],
    folder: Path | None = None,
) -> np.ndarray:
    """(N, D) float32 embeddings of ``texts``: read from the cache, else ``encode(texts)`` stored there.

    A cache that cannot be read or written only costs the encoding (logged), never an error.
    """
    path = (folder or cache_root() / "embeddings") / f"{embeddings_key(model_id, texts)}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.ndim == 2 and vectors.shape[0] == len(texts) and vectors.dtype == np.float32:
            return vectors
        log.info("ignoring %s: shape %s does not fit %d texts", path, vectors.shape, len(texts))
    except (OSError, ValueError):
        pass  # not cached yet (or unreadable): encode below
    vectors = np.ascontiguousarray(encode(list(texts)), dtype=np.float32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as out:
            np.save(out, vectors, allow_pickle=False)
        os.replace(tmp, path)  # readers see a whole file or none
    except OSError as err:
        log.info("could not cache embeddings in %s: %s", path, err)
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
    return vectors
