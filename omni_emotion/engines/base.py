"""The Engine protocol every analysis engine follows."""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from omni_emotion.types import Analysis, Perception

__all__ = ["Engine", "ProgressFn"]

# progress(fraction in [0, 1], description) -- tqdm in the CLI, gr.Progress in the UI
ProgressFn = Callable[[float, str], None]


@runtime_checkable
class Engine(Protocol):
    """An engine owns its models (loaded once) and analyses one perceived clip at a time."""

    name: str

    def analyze(self, perception: Perception, progress: ProgressFn | None = None) -> Analysis:
        """Return labels (most salient first), an explanation and per-modality clues."""
        ...
