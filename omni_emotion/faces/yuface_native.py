"""libfacedetection's C entry point, called with a result buffer this process owns.

The ``yuface`` wheel (2023.5.1) ships the library (``libfacedetection.so.v0.0.3``) and a pybind11 wrapper,
``yuface.yuface.detect``, that ``malloc``s a 0x9000-byte result buffer on every call and never frees it:
36 KB leaked per frame, about 2 GB an hour in a live session. The library itself allocates nothing that
outlives a call, so this module calls it directly through ctypes and hands it a fresh numpy buffer that is
freed like any array. Results are the wrapper's, row for row (tests/test_yuface_native.py checks both).

Result layout (libfacedetection's ``facedetect_cnn``): an int32 face count, then one row of 16 int16 per face:
confidence 0..100, x, y, w, h, five landmarks (x, y), one unused slot. At most 1024 faces fit the buffer.
"""

from __future__ import annotations

import ctypes
import importlib.util
import threading
from pathlib import Path

import numpy as np

__all__ = ["RESULT_BUFFER_BYTES", "ROW_SHORTS", "FaceDetectCNN", "parse_results", "yuface_package_dir"]

RESULT_BUFFER_BYTES = 0x9000  # the size libfacedetection's header asks for: 4 + 1024 rows x 32 bytes fit
ROW_SHORTS = 16
LIBRARY_NAME = "libfacedetection.so.v0.0.3"
# int* facedetect_cnn(unsigned char* result, unsigned char* bgr, int width, int height, int step), C++-mangled
ENTRY_POINT = "_Z14facedetect_cnnPhS_iii"
# The library is loaded once per process and keeps its filter tables in process globals, built on first use
# without a guard; so its guard is per process too. The wheel's wrapper held the GIL: calls never overlapped.
_LIBRARY_LOCK = threading.Lock()


def yuface_package_dir() -> Path | None:
    """The installed ``yuface`` package folder (found without importing its leaking extension), or None."""
    spec = importlib.util.find_spec("yuface")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def parse_results(buffer: np.ndarray) -> np.ndarray:
    """(N, 16) int16 rows, copied out of a filled result buffer ((RESULT_BUFFER_BYTES,) uint8)."""
    count = int(buffer[:4].view(np.int32)[0])
    max_rows = (buffer.size - 4) // (2 * ROW_SHORTS)
    if not 0 <= count <= max_rows:
        raise RuntimeError(f"libfacedetection reported {count} faces; a result buffer holds 0 to {max_rows}")
    return buffer[4 : 4 + count * 2 * ROW_SHORTS].view(np.int16).reshape(count, ROW_SHORTS).copy()


class FaceDetectCNN:
    """The library loaded from ``package_dir`` (the copy the wheel's extension links: one per process).

    ``detect_bgr`` releases the GIL while the network runs (ctypes does), so audio and HTTP threads go on;
    detections themselves run one at a time (``_LIBRARY_LOCK``).
    """

    def __init__(self, package_dir: Path) -> None:
        self._lib = ctypes.CDLL(str(package_dir / LIBRARY_NAME))
        fn = self._lib[ENTRY_POINT]
        fn.restype = ctypes.POINTER(ctypes.c_int)
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._fn = fn

    def detect_bgr(self, image_bgr: np.ndarray) -> np.ndarray:
        """Raw result rows, (N, 16) int16, for a (H, W, 3) uint8 BGR image (made C-contiguous here)."""
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"a face detector takes an (H, W, 3) image, got shape {image_bgr.shape}")
        image = np.ascontiguousarray(image_bgr, dtype=np.uint8)
        height, width = image.shape[:2]
        if height == 0 or width == 0:
            return np.zeros((0, ROW_SHORTS), dtype=np.int16)
        # one buffer per call: concurrent callers never share it, and numpy frees it
        buffer = np.zeros(RESULT_BUFFER_BYTES, dtype=np.uint8)
        with _LIBRARY_LOCK:
            out = self._fn(buffer.ctypes.data, image.ctypes.data, width, height, width * 3)
        if not out:
            raise RuntimeError("libfacedetection returned no result buffer")
        return parse_results(buffer)
