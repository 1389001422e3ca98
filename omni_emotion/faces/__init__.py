"""Faces: detect, track, pick the main person and align crops -> types.FaceTrack.

analyzer = load_face_analyzer()                       # insightface pack if on disk, else offline yuface
analyzer.detect(frame_rgb)                            # live fast path: list[Detection]
analyzer.track(media.iter_frames(path, fps=5))        # list[FaceTrack], exactly one main when any
tracker = FaceTracker(); tracker.update(t, dets)      # frame-by-frame ids for a live stream
"""

from omni_emotion.faces.align import CROP_SIZE, align_face, crop_box, similarity_transform
from omni_emotion.faces.analyzer import FaceAnalyzer, FaceConfig, load_face_analyzer
from omni_emotion.faces.detectors import Detection, FaceDetector, find_insightface_pack
from omni_emotion.faces.selection import SelectionConfig, mouth_activity, select_main, speaking_score
from omni_emotion.faces.tracker import FaceTracker, TrackerConfig

__all__ = [
    "CROP_SIZE",
    "Detection",
    "FaceAnalyzer",
    "FaceConfig",
    "FaceDetector",
    "FaceTracker",
    "SelectionConfig",
    "TrackerConfig",
    "align_face",
    "crop_box",
    "find_insightface_pack",
    "load_face_analyzer",
    "mouth_activity",
    "select_main",
    "similarity_transform",
    "speaking_score",
]
