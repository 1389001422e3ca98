"""The Engine protocol every analysis engine follows (register one in engines/registry.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from omni_emotion.types import Analysis, Perception, ProgressFn

if TYPE_CHECKING:
    from omni_emotion.expressions import ExpressionModel

__all__ = ["Engine", "ProgressFn"]


@runtime_checkable
class Engine(Protocol):
    """An engine owns its models (loaded once) and analyses one perceived clip at a time.

    expressions: its facial-expression model when it has one (the live fast path and the Analyze tab's
    plot share it), else None.
    """

    name: str
    expressions: ExpressionModel | None

    def analyze(self, perception: Perception, progress: ProgressFn | None = None) -> Analysis:
        """Return labels (most salient first), an explanation and per-modality clues."""
        ...
