"""The offline face detector through libfacedetection's C entry point: bounded memory, the wheel's results."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from omni_emotion.faces.detectors import YuFaceDetector
from omni_emotion.faces.yuface_native import (
    RESULT_BUFFER_BYTES,
    ROW_SHORTS,
    parse_results,
    yuface_package_dir,
)
from omni_emotion.media import iter_frames

pytestmark = pytest.mark.skipif(yuface_package_dir() is None, reason="the yuface wheel is not installed")

CALLS = 1500
# The wheel's wrapper leaked 0x9000 bytes a call: 1500 calls grew RSS by 54 MB. Allocator noise stays ~1 MB.
GROWTH_LIMIT_MB = 12.0

_RSS_SCRIPT = textwrap.dedent(
    """
    import re, sys
    from pathlib import Path
    import numpy as np
    from omni_emotion.faces.detectors import YuFaceDetector

    def rss_mb():
        return int(re.search(r"VmRSS:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]) / 1024

    calls = int(sys.argv[1])
    frame = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    detector = YuFaceDetector()
    for _ in range(50):  # warm-up: filter tables, allocator arenas, OpenMP team
        detector.detect(frame)
    before = rss_mb()
    for _ in range(calls):
        detector.detect(frame)
    print(rss_mb() - before)
    """
)


def test_rss_stays_flat_over_many_detections():
    """In a fresh process, so nothing else this test session loaded moves the figure."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(CALLS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    growth_mb = float(out.stdout.strip().splitlines()[-1])
    assert growth_mb < GROWTH_LIMIT_MB, f"RSS grew {growth_mb:.1f} MB over {CALLS} detections"


def _buffer(rows: np.ndarray) -> np.ndarray:
    buffer = np.zeros(RESULT_BUFFER_BYTES, dtype=np.uint8)
    buffer[:4].view(np.int32)[0] = len(rows)
    flat = rows.astype(np.int16).ravel().view(np.uint8)
    buffer[4 : 4 + flat.size] = flat
    return buffer


def test_parse_results_reads_the_count_and_rows():
    rows = np.arange(3 * ROW_SHORTS, dtype=np.int16).reshape(3, ROW_SHORTS) - 5  # negatives at frame borders
    buffer = _buffer(rows)
    parsed = parse_results(buffer)
    np.testing.assert_array_equal(parsed, rows)
    buffer[:] = 0  # the rows are a copy, not a view of a buffer that is about to be freed
    np.testing.assert_array_equal(parsed, rows)
    assert parse_results(_buffer(np.zeros((0, ROW_SHORTS)))).shape == (0, ROW_SHORTS)


@pytest.mark.parametrize("count", [-1, (RESULT_BUFFER_BYTES - 4) // (2 * ROW_SHORTS) + 1])
def test_parse_results_refuses_a_count_the_buffer_cannot_hold(count):
    buffer = np.zeros(RESULT_BUFFER_BYTES, dtype=np.uint8)
    buffer[:4].view(np.int32)[0] = count
    with pytest.raises(RuntimeError, match="faces"):
        parse_results(buffer)


def test_same_rows_as_the_wheels_wrapper_on_real_faces(media_dir):
    from yuface.yuface import detect as wheel_detect  # leaks 36 KB a call: a few calls here only

    detector = YuFaceDetector()
    frames = [f for _, f in iter_frames(media_dir / "WolfgangLanger_Pexels.mp4", fps=1, max_side=640)][:6]
    frames.append(frames[0][::2, ::2])  # a strided view: made contiguous before the call
    found = 0
    for frame in frames:
        bgr = np.ascontiguousarray(frame[..., ::-1])
        ours = detector._cnn.detect_bgr(frame[..., ::-1])
        theirs = np.asarray(wheel_detect(bgr)).reshape(-1, ROW_SHORTS)
        # the last short of a row is padding the library never writes: the wrapper's malloc'd buffer leaves
        # whatever was in that memory there, so only the 15 defined values are compared
        np.testing.assert_array_equal(ours[:, :15], theirs[:, :15])
        found += len(ours)
    assert found >= len(frames)  # the clip shows a face in every frame: the comparison saw real rows


def test_odd_shapes():
    detector = YuFaceDetector()
    assert detector.detect(np.zeros((0, 64, 3), np.uint8)) == []
    with pytest.raises(ValueError, match="H, W, 3"):
        detector.detect(np.zeros((64, 64), np.uint8))
