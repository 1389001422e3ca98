"""What a media file must be before ffmpeg sees it, and the limits decoding is held to: the one list of media
suffixes, ``MediaConfig``, and the checks of hostile paths (missing, links that loop, folders, pipes,
devices, empty files, images that declare more pixels than the limit)."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from omni_emotion.errors import (
    ClipTooLongError,
    ConfigError,
    EmptyMediaError,
    MediaNotFoundError,
    check_pixels,
)
from omni_emotion.image_header import declared_image_size

__all__ = ["AUDIO_SUFFIXES", "IMAGE_SUFFIXES", "MEDIA_SUFFIXES", "VIDEO_SUFFIXES", "MediaConfig"]

# File names people pick clips by (uploads, folders of clips); decoding itself goes by content, not by name.
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".flv", ".ts")  # .ts: MPEG-TS recordings
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".m4a", ".ogg", ".opus", ".aac")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MEDIA_SUFFIXES = (*VIDEO_SUFFIXES, *AUDIO_SUFFIXES, *IMAGE_SUFFIXES)  # video first: it carries the most


@dataclass(frozen=True)
class MediaConfig:
    """Limits that protect memory and time. max_pixels defaults to 4096x4096 (16.8 MP): 4K decodes, 8K is refused."""

    max_duration_s: float = 600.0
    max_pixels: int = 4096 * 4096

    def __post_init__(self) -> None:
        if not self.max_duration_s > 0:
            raise ConfigError(f"max_duration_s must be positive, got {self.max_duration_s}")
        if self.max_pixels <= 0:
            raise ConfigError(f"max_pixels must be positive, got {self.max_pixels}")


def _check_path(path: str | os.PathLike) -> Path:
    """The path once it is a non-empty regular file. Messages name the file, not its folder: uploads sit in
    the app's temporary folder, which means nothing to the person who sent them."""
    p = Path(path)
    try:
        info = p.stat()
    except OSError as err:
        raise MediaNotFoundError(_unreachable(p, err)) from err
    if stat.S_ISDIR(info.st_mode):
        raise MediaNotFoundError(f"{p.name or p} is a directory, not a media file.")
    if not stat.S_ISREG(info.st_mode):
        # reading a pipe or a device blocks or never ends; its size says nothing either
        raise MediaNotFoundError(f"{p.name} is a {_kind(info.st_mode)}, not a regular media file.")
    if info.st_size == 0:
        raise EmptyMediaError(f"{p.name} is an empty file (0 bytes).")
    return p


def _unreachable(p: Path, err: OSError) -> str:
    if err.errno == errno.ELOOP:
        return f"{p.name} is a loop of symbolic links that never reaches a file."
    if p.is_symlink():
        return f"{p.name} is a symbolic link to {os.readlink(p)}, which does not exist."
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"{p.name} cannot be read: permission denied."
    return f"{p.name} does not exist."


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"


def _checked_path(path: str | os.PathLike, config: MediaConfig) -> Path:
    """The checks that come before ffmpeg sees the file: it exists, is not empty, and an image's declared
    picture size is within the pixel limit (ffmpeg allocates the whole picture while probing it)."""
    p = _check_path(path)
    size = declared_image_size(p)
    if size is not None:
        _check_pixels(*size, config, p.name)
    return p


def _check_pixels(w: int, h: int, config: MediaConfig, name: str) -> None:
    check_pixels(name, w, h, config.max_pixels)


def _check_duration(seconds: float | None, config: MediaConfig, name: str) -> None:
    if seconds is not None and seconds > config.max_duration_s:
        raise ClipTooLongError(
            f"{name} lasts {seconds:.0f} s, longer than the {config.max_duration_s:.0f} s limit;"
            " trim it or raise MediaConfig.max_duration_s."
        )


def _check_decoded_time(seconds: float, config: MediaConfig, name: str) -> None:
    """The limit counted while decoding: files that declare no duration (or a wrong one) stop here."""
    if seconds > config.max_duration_s:
        raise ClipTooLongError(
            f"{name} runs past the {config.max_duration_s:.0f} s limit;"
            " trim it or raise MediaConfig.max_duration_s."
        )
