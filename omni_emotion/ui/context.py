"""What every tab shares: the pipeline (one model instance), the app settings and the live models."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from omni_emotion.errors import OmniEmotionError
from omni_emotion.live import LiveModels
from omni_emotion.types import Analysis, Perception
from omni_emotion.ui.config import UIConfig

__all__ = ["UIContext", "user_error", "user_errors"]

logger = logging.getLogger("omni_emotion.ui")


def user_error(message: str) -> gr.Error:
    """The page's error for something the user caused: one log line on the server, no traceback."""
    logger.warning("user error: %s", message)
    return gr.Error(message, print_exception=False)


def user_errors(fn: Callable) -> Callable:
    """Show an OmniEmotionError's sentence in the page (gr.Error) instead of a generic failure; the server
    console gets one line for it, not a traceback (a user's mistake is not the app's fault)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OmniEmotionError as err:
            raise user_error(str(err)) from None

    return wrapper


@dataclass
class UIContext:
    """pipeline: the EmotionPipeline every tab goes through (its lock serialises all model work; requests
    wait for it in Gradio's bounded queue); live_models: the shared fast-path models."""

    pipeline: Any
    config: UIConfig
    live_models: LiveModels

    def analyze_path(
        self, path: str | Path, progress: Callable[[float, str], None] | None = None
    ) -> tuple[Analysis, Perception | None]:
        """Analyse a file, with the perception behind it (face thumbnails and the expression plot need it)."""
        return self.pipeline.analyze_file_with_perception(str(path), progress=progress)
