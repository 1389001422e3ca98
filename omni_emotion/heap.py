"""Give the C heap's free memory back to the operating system (glibc's ``malloc_trim``).

glibc keeps memory that was freed inside the process for reuse, in one arena per thread that allocated it
(up to 8 per core). A live session allocates frame-sized buffers on Gradio's pool of worker threads and on
its own analysis thread, so resident memory climbs for many minutes while nothing is leaked: in a soak on
2 cores, ``malloc_trim`` gave back 20-94 MB at each minute. The live worker trims after each analysis, and
``serve`` caps the number of arenas before any thread starts.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["limit_arenas", "trim_heap"]

_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # another C library (musl, macOS, Windows)
        return None


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``int malloc_trim(size_t pad)``, or None."""
    fn = getattr(_glibc(), "malloc_trim", None)
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


def limit_arenas(count: int) -> bool:
    """Let glibc make at most ``count`` malloc arenas from now on (``mallopt(M_ARENA_MAX)``, the setting
    ``MALLOC_ARENA_MAX`` gives at start-up); call it before threads start. False where it is not glibc."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    fn = getattr(_glibc(), "mallopt", None)
    if fn is None:
        return False
    fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return fn(_M_ARENA_MAX, count) == 1


def trim_heap() -> bool:
    """Return free heap pages of every arena to the OS; True when some were returned, False when none
    were or the C library has no ``malloc_trim``."""
    fn = _malloc_trim()
    return bool(fn(0)) if fn is not None else False
