"""Typed errors a user can cause. Each carries one sentence meant for people, not a traceback.

The CLI prints ``str(error)`` and exits 2; the UI turns these into ``gr.Error``. Anything that is not an
``OmniEmotionError`` is a bug in omni-emotion and propagates normally.
"""

from __future__ import annotations

__all__ = [
    "ClipTooLongError",
    "ConfigError",
    "DeviceUnavailableError",
    "EmptyMediaError",
    "EvaluationDataError",
    "FrameTooLargeError",
    "JSONInputError",
    "LLMServerError",
    "MediaError",
    "MediaNotFoundError",
    "ModelNotFoundError",
    "OmniEmotionError",
    "UnsupportedMediaError",
    "check_pixels",
    "printable",
]


class OmniEmotionError(Exception):
    """Base class for every error a user can cause; ``str(err)`` is one clear sentence."""


class ConfigError(OmniEmotionError, ValueError):
    """An option or config value is not allowed."""


class MediaError(OmniEmotionError):
    """A media file or live buffer cannot be used."""


class MediaNotFoundError(MediaError, FileNotFoundError):
    """The path does not exist or is not a file."""


class UnsupportedMediaError(MediaError):
    """The file is not readable audio, video or image (corrupt, truncated, wrong type)."""


class EmptyMediaError(MediaError):
    """The file decodes but holds no frames and no audio."""


class ClipTooLongError(MediaError):
    """The clip is longer than the configured maximum duration."""


class FrameTooLargeError(MediaError):
    """The frame size is above the configured pixel limit."""


def check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    """FrameTooLargeError when a ``width`` x ``height`` picture is above ``max_pixels``: the one sentence
    every reader (files, live frames, desktop sources, folder jobs) gives, for the first frame or any
    later."""
    if width * height > max_pixels:
        raise FrameTooLargeError(
            f"{name} has a {width}x{height} frame ({width * height / 1e6:.1f} MP), above the"
            f" {max_pixels / 1e6:.1f} MP limit; send a smaller picture or downscale the video."
        )


class ModelNotFoundError(OmniEmotionError):
    """Model weights or the package that carries them are missing; the message names how to get them."""


class EvaluationDataError(OmniEmotionError):
    """Ground-truth, prediction or grouping-table files are missing or unusable."""


class JSONInputError(OmniEmotionError, ValueError):
    """A JSON text from a user's file is not JSON, nests too deeply or holds an absurdly long number."""


class DeviceUnavailableError(OmniEmotionError):
    """A camera, microphone or GPU that was asked for is not there."""


class LLMServerError(OmniEmotionError):
    """An OpenAI-compatible LLM server could not be reached or its answer is not a chat completion."""


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped as ``repr`` writes it (``\\x1b``, ``\\n``): a file
    name may hold terminal escape sequences, which must reach a terminal as text, not as commands."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
