"""Where omni-emotion keeps things on disk: the one module that locates the package's checkout.

- ``weights_dir()``: model weights. ``$OMNI_EMOTION_WEIGHTS``, else ``weights/`` of the repository when the
  package runs from a checkout (the README's set-up), else ``weights/`` under the cache.
- ``cache_root()``: the joined ASR model, grouping tables, eval runs, training features.
- ``shared_dir()``: the team's read-only data folder beside a checkout (``$OMNI_EMOTION_SHARED`` overrides).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGE_DIR", "cache_root", "checkout_root", "shared_dir", "weights_dir"]

PACKAGE_DIR = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository folder when the package runs from a source checkout, else None (a wheel install)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None


def cache_root() -> Path:
    """$OMNI_EMOTION_CACHE, else $XDG_CACHE_HOME/omni-emotion, else ~/.cache/omni-emotion."""
    if os.environ.get("OMNI_EMOTION_CACHE"):
        return Path(os.environ["OMNI_EMOTION_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "omni-emotion"


def weights_dir() -> Path:
    """The default weights folder (see the module docstring): the ``--weights-dir`` default of the commands."""
    if os.environ.get("OMNI_EMOTION_WEIGHTS"):
        return Path(os.environ["OMNI_EMOTION_WEIGHTS"]).expanduser()
    root = checkout_root()
    return root / "weights" if root is not None else cache_root() / "weights"


def shared_dir() -> Path:
    """$OMNI_EMOTION_SHARED, else ``shared/`` beside the checkout (it may not exist)."""
    if os.environ.get("OMNI_EMOTION_SHARED"):
        return Path(os.environ["OMNI_EMOTION_SHARED"])
    root = checkout_root() or PACKAGE_DIR.parent
    return root.parent / "shared"
