"""Training the Omni-Emotion model in the paper's three phases (see README.md in this folder)."""

from omni_emotion.training.config import PHASE_GROUPS, TrainConfig, phase_config
from omni_emotion.training.converters import convert
from omni_emotion.training.manifest import Sample, TrainingDataError, Turn, read_manifest, write_manifest
from omni_emotion.training.trainer import Trainer, TrainingDivergedError, TrainResult

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
