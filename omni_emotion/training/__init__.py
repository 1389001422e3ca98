"""Training the Omni-Emotion model in the paper's three phases and an optional RL phase 4 (see README.md here).

The trainer loads on first use (``Trainer``, ...): the CLI imports ``omni_emotion.cli.train`` (and so this
package) at start-up and must not pull in torch before it can print a user error.
"""

from __future__ import annotations

import importlib
from typing import Any

from omni_emotion.training.config import PHASE_GROUPS, TrainConfig, phase_config
from omni_emotion.training.converters import convert
from omni_emotion.training.manifest import Sample, TrainingDataError, Turn, read_manifest, write_manifest

__all__ = [
    "PHASE_GROUPS",
    "Sample",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingDataError",
    "TrainingDivergedError",
    "Turn",
    "convert",
    "phase_config",
    "read_manifest",
    "write_manifest",
]

_TRAINER_NAMES = ("Trainer", "TrainingDivergedError", "TrainResult")


def __getattr__(name: str) -> Any:
    if name not in _TRAINER_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("omni_emotion.training.trainer"), name)
