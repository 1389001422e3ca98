"""What the bench scripts share: where the shared data lives and a repeat-and-take-the-median timer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["SHARED_DATA", "SHARED_MEDIA", "median_time"]

SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the repository
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
