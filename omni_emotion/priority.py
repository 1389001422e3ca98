"""Lower the scheduling priority of the calling thread, so background work yields the CPU to the live path.

On Linux a thread's nice value is its own (``setpriority`` on its thread id), and threads it starts later
inherit it: a live session's analysis worker lowers itself once, and the threads it starts (the listening
thread, OpenMP teams of the models it calls, models loaded from it) run at the same low priority. Raising
a priority needs privileges, so only lowering is offered. Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["lower_thread_priority"]


def lower_thread_priority(steps: int) -> bool:
    """Add ``steps`` (>= 0) to the calling thread's nice value; False where that is not possible."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not steps or not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + steps))
    except OSError:  # a sandbox that forbids it: the thread keeps its priority
        return False
    return True
