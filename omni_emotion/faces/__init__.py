"""Faces: detect, track, pick the main person and align crops -> types.FaceTrack.

analyzer = load_face_analyzer()                       # auto: insightface pack on disk, else offline BlazeFace
analyzer.detect(frame_rgb)                            # live fast path: list[Detection]
analyzer.track(media.iter_frames(path, fps=5))        # list[FaceTrack], exactly one main when any
tracker = FaceTracker(); tracker.update(t, dets)      # frame-by-frame ids for a live stream
DETECTORS.register(DetectorEntry(...))                # a new backend: see faces/registry.py

The names load on first use: the CLI reads the detector registry at start-up without OpenCV or scipy.
"""

from __future__ import annotations

from omni_emotion.lazy import lazy_attributes

_HOMES = {
    "CROP_SIZE": "align",
    "align_face": "align",
    "crop_box": "align",
    "similarity_transform": "align",
    "FaceAnalyzer": "analyzer",
    "FaceConfig": "analyzer",
    "load_face_analyzer": "analyzer",
    "Detection": "detectors",
    "FaceDetector": "detectors",
    "find_insightface_pack": "detectors",
    "DETECTORS": "registry",
    "DetectorEntry": "registry",
    "load_detector": "registry",
    "SelectionConfig": "selection",
    "mouth_activity": "selection",
    "select_main": "selection",
    "speaking_score": "selection",
    "FaceTracker": "tracker",
    "TrackerConfig": "tracker",
}

__all__ = sorted(_HOMES)

__getattr__ = lazy_attributes(__name__, _HOMES)
