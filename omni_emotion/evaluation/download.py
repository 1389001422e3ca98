"""Fetch the OV-MER grouping tables from the benchmark authors' public repository (needs a network).

The files are published in ``zeroQiaoba/MERTools`` (``MER2025/MER2025_Track23/emotion_wheel/``) and, as
the same blobs, in ``zeroQiaoba/AffectGPT``. They are research data under the authors' terms; omni-emotion
downloads them to the user's cache and never ships them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from omni_emotion.errors import EvaluationDataError
from omni_emotion.evaluation.wheels import WHEEL_FILES, default_wheels_dir, parse_wheels

__all__ = ["WHEELS_URL", "download_wheels"]

WHEELS_URL = (
    "https://raw.githubusercontent.com/zeroQiaoba/MERTools/master/MER2025/MER2025_Track23/emotion_wheel/"
)
MAX_FILE_BYTES = 20 * 1024 * 1024  # the real files are < 200 kB; refuse anything absurd


def _fetch(url: str, target: Path, timeout: float) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
            data = response.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise EvaluationDataError(f"{url} is larger than {MAX_FILE_BYTES} bytes; refusing it.")
            out.write(data)
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise EvaluationDataError(
            f"Could not download {url} ({reason}); with no network, copy the 'emotion_wheel' folder of the "
            "OV-MER benchmark (MERTools or AffectGPT on GitHub) by hand and pass --wheels DIR."
        ) from err


def download_wheels(
    dest: str | os.PathLike[str] | None = None, *, base_url: str = WHEELS_URL, timeout: float = 10.0
) -> Path:
    """Download the seven table files into ``dest`` (default ``~/.cache/omni-emotion/emotion_wheel``).

    Files are fetched into a temporary folder and parsed before they replace anything, so a failed or partial
    download never leaves broken tables behind. Returns the folder. Raises EvaluationDataError when offline.
    """
    target = Path(dest) if dest else default_wheels_dir()
    base = base_url if base_url.endswith("/") else base_url + "/"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".wheels-") as tmp:
        staging = Path(tmp)
        for name in WHEEL_FILES:
            _fetch(base + name, staging / name, timeout)
        parse_wheels(staging)  # raises EvaluationDataError if what arrived is not the tables
        target.mkdir(parents=True, exist_ok=True)
        for name in WHEEL_FILES:
            shutil.move(str(staging / name), str(target / name))
    return target
