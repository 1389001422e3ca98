"""What the command line prints besides its answer: progress bars only for a person at a terminal, no
progress bars from the libraries that load the models."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["interactive", "quiet_libraries"]


def interactive(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (default stderr) is a terminal: progress bars go there, never into a log file,
    where their carriage returns pile up into one long line."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def quiet_libraries() -> None:
    """Switch off the model libraries' own progress bars ("Loading weights", download bars) through the
    switches they provide for it: huggingface_hub's, which transformers reads when it is imported, and
    transformers' own when it is imported already. Their warnings still reach the log."""
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
    transformers_logging = sys.modules.get("transformers.utils.logging")
    if transformers_logging is not None:
        transformers_logging.disable_progress_bar()
