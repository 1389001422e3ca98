"""omni-emotion: open-vocabulary multimodal emotion understanding (face, voice, words)."""

from omni_emotion.errors import OmniEmotionError
from omni_emotion.types import Analysis, Clip, Clues, FaceTrack, Perception, Prosody, Transcript

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "Clip",
    "Clues",
    "FaceTrack",
    "OmniEmotionError",
    "Perception",
    "Prosody",
    "Transcript",
    "__version__",
]
