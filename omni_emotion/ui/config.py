"""Settings of the web app, and the rule that keeps the Evaluate tab inside the directories a user allowed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from omni_emotion.errors import ConfigError, EvaluationDataError, printable
from omni_emotion.live import LiveConfig

__all__ = ["UIConfig", "list_allowed_files", "resolve_allowed"]

MAX_PATH_BYTES = 4096  # PATH_MAX on Linux: a longer path names no file


@dataclass(frozen=True)
class UIConfig:
    """How the app behaves. Paths are resolved to absolute ones.

    data_dirs:          the only directories the Evaluate tab may read (ground truth, clips, predictions,
                        grouping tables). Nothing outside them is listed or opened.
    examples:           clips offered on the Analyze tab besides uploads.
    max_upload_mb:      uploads above this are refused by the server before they reach a handler.
    queue_size:         requests waiting for the one model instance beyond this are turned away.
    live_sessions:      live streams served at the same time (each gets its own fast path).
    stream_every_s:     how often the browser sends a webcam frame (Gradio drops frames while busy).
    live_time_limit_s:  a live stream ends after this many seconds (the user presses record again).
    """

    data_dirs: tuple[Path, ...] = ()
    examples: tuple[Path, ...] = ()
    max_upload_mb: float = 500.0
    queue_size: int = 16
    live_sessions: int = 2
    stream_every_s: float = (
        0.07  # ~14 frames/s offered; the fast path's p50 is under 15 ms a frame on 2 cores
    )
    live_time_limit_s: int = 900
    live: LiveConfig = field(default_factory=LiveConfig)
    title: str = "omni-emotion"

    def __post_init__(self) -> None:
        dirs = tuple(Path(d).expanduser().resolve() for d in self.data_dirs)
        for d in dirs:
            if not d.is_dir():
                raise ConfigError(f"data directory {d} does not exist or is not a directory.")
        object.__setattr__(self, "data_dirs", dirs)
        examples = tuple(Path(p).expanduser().resolve() for p in self.examples)
        for p in examples:
            if not p.is_file():
                raise ConfigError(f"example clip {p} does not exist.")
        object.__setattr__(self, "examples", examples)
        if not self.max_upload_mb > 0:
            raise ConfigError(f"max_upload_mb must be positive, got {self.max_upload_mb}")
        if self.queue_size < 1 or self.live_sessions < 1:
            raise ConfigError(
                f"queue_size and live_sessions must be >= 1, got {self.queue_size}, {self.live_sessions}"
            )
        if not 0.02 <= self.stream_every_s <= 2.0:
            raise ConfigError(f"stream_every_s must be in [0.02, 2.0] seconds, got {self.stream_every_s}")
        if self.live_time_limit_s < 10:
            raise ConfigError(f"live_time_limit_s must be >= 10, got {self.live_time_limit_s}")


def resolve_allowed(
    path: str | os.PathLike, data_dirs: tuple[Path, ...], *, kind: str = "path", want_dir: bool = False
) -> Path:
    """Resolve a user-given path (absolute, or relative to a data directory) and refuse anything outside
    ``data_dirs`` (symlinks and ``..`` included) or missing."""
    text = str(path).strip()
    if not text:
        raise EvaluationDataError(f"Choose a {kind}.")
    if not data_dirs:
        raise EvaluationDataError("No data directory is configured: start the app with --data-dir DIR.")
    if "\0" in text:
        raise EvaluationDataError(f"The {kind} path holds a NUL byte, which no file name can hold.")
    size = len(text.encode("utf-8", "surrogateescape"))
    if size > MAX_PATH_BYTES:
        raise EvaluationDataError(
            f"The {kind} path is {size} bytes long, above the {MAX_PATH_BYTES}-byte limit for a path."
        )
    raw = Path(text).expanduser()
    candidates = [raw] if raw.is_absolute() else [d / raw for d in data_dirs]
    for candidate in candidates:
        try:
            resolved = candidate.resolve()
            if not any(resolved == d or resolved.is_relative_to(d) for d in data_dirs):
                continue
            if resolved.exists() and resolved.is_dir() == want_dir:
                return resolved
        except (OSError, ValueError):  # a name part over 255 bytes, a loop of links: not a usable path
            continue
    allowed = ", ".join(str(d) for d in data_dirs)
    what = "directory" if want_dir else "file"
    raise EvaluationDataError(
        f"The {kind} {printable(text)} is not an existing {what} inside the allowed"
        f" data directories ({allowed})."
    )


def list_allowed_files(data_dirs: tuple[Path, ...], suffixes: tuple[str, ...], limit: int = 500) -> list[str]:
    """Files below ``data_dirs`` with one of ``suffixes`` (lower case), sorted, at most ``limit``."""
    found: list[str] = []
    for d in data_dirs:
        for root, dirs, files in os.walk(d):
            dirs.sort()
            for name in sorted(files):
                if name.lower().endswith(suffixes):
                    found.append(str(Path(root) / name))
                    if len(found) >= limit:
                        return found
    return found
