"""Beyond one machine: folder jobs here or on Ray Data (``jobs``), written resumably (``sinks``)."""

from omni_emotion.scale.jobs import (
    ClipResult,
    PipelineSpec,
    RayConfig,
    RayUnavailableError,
    analyze_one,
    list_media,
    run_clips,
)
from omni_emotion.scale.sinks import FORMATS, open_sink

__all__ = [
    "FORMATS",
    "ClipResult",
    "PipelineSpec",
    "RayConfig",
    "RayUnavailableError",
    "analyze_one",
    "list_media",
    "open_sink",
    "run_clips",
]
