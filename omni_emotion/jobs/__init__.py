"""Folder jobs: every clip of a folder through the pipeline, in this process or on Ray Data (``run``,
``ray``), one record per clip written resumably (``sinks``); ``folder`` puts them together for ``analyze DIR``
and ``eval --videos DIR``."""

from omni_emotion.jobs.ray import RayConfig, RayUnavailableError
from omni_emotion.jobs.run import ClipResult, PipelineSpec, analyze_one, list_media, run_clips
from omni_emotion.jobs.sinks import FORMATS, open_sink

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
