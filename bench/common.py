"""What the bench scripts share: where the shared data lives and a repeat-and-take-the-median timer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from omni_emotion.paths import shared_dir

__all__ = ["SHARED_DATA", "SHARED_MEDIA", "median_time"]

SHARED = shared_dir()  # ../shared beside the checkout, or $OMNI_EMOTION_SHARED
SHARED_DATA = SHARED / "data"
SHARED_MEDIA = SHARED / "testdata" / "media"


def median_time(repeat: int, fn: Callable[[], object]) -> float:
    """Median wall time of ``repeat`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
