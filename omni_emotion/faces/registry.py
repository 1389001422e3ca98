"""The face-detector registry: every detector a user can choose (``--face-backend``), by name.

    DETECTORS.register(DetectorEntry("mine", "what it is", load="mypkg.faces:load_mine"))

``load(device) -> FaceDetector`` (``detect(frame_rgb) -> list[Detection]``); ``is_available() -> bool`` says
whether ``auto`` may pick it here; ``auto`` takes the highest-ranked available entry. See
docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omni_emotion.errors import ConfigError
from omni_emotion.registry import Registry, load_ref

if TYPE_CHECKING:
    from omni_emotion.faces.detectors import FaceDetector

__all__ = ["DETECTORS", "DetectorEntry", "load_detector"]


@dataclass(frozen=True)
class DetectorEntry:
    name: str
    summary: str  # one line for --help and the Status tab
    load: str | Callable[[str], FaceDetector]
    is_available: str | Callable[[], bool]
    rank: int = 0

    def available(self) -> bool:
        try:
            return bool(load_ref(self.is_available)())
        except ImportError:
            return False

    def create(self, device: str) -> FaceDetector:
        return load_ref(self.load)(device)


DETECTORS: Registry[DetectorEntry] = Registry("face detector")
DETECTORS.register(
    DetectorEntry(
        "insightface",
        "SCRFD boxes, 5 landmarks, ArcFace identity, age and gender (buffalo_l pack, research use)",
        load="omni_emotion.faces.detectors:load_insightface",
        is_available="omni_emotion.faces.detectors:insightface_available",
        rank=10,
    )
)
DETECTORS.register(
    DetectorEntry(
        "yuface",
        "offline libfacedetection CNN (YuNet family) from the yuface wheel: boxes and 5 landmarks",
        load="omni_emotion.faces.detectors:load_yuface",
        is_available="omni_emotion.faces.detectors:yuface_available",
    )
)
DETECTORS.register(
    DetectorEntry(
        "blazeface",
        "MediaPipe BlazeFace full range (faces up to ~5 m) on LiteRT, any Python or platform: "
        "boxes, 6 keypoints, mouth opening",
        load="omni_emotion.faces.blazeface:load_blazeface",
        is_available="omni_emotion.faces.blazeface:blazeface_available",
        rank=5,
    )
)
DETECTORS.register(
    DetectorEntry(
        "blazeface-short",
        "MediaPipe BlazeFace short range (faces within ~2 m of a webcam) on LiteRT",
        load="omni_emotion.faces.blazeface:load_blazeface_short",
        is_available="omni_emotion.faces.blazeface:blazeface_available",
    )
)


def load_detector(backend: str = "auto", device: str = "cpu") -> FaceDetector:
    """The detector ``backend`` names (``auto``: insightface when its pack is on disk, else BlazeFace, else
    yuface).
    Raises ConfigError for an unknown backend or device, ModelNotFoundError naming what to install."""
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', got {device!r}")
    return DETECTORS.resolve(backend).create(device)
