"""lower_thread_priority: only the calling thread (and threads it starts later) become nicer."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from omni_emotion.priority import lower_thread_priority

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's"
)


def nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def test_the_calling_thread_and_its_children_get_nicer_and_the_others_do_not():
    main_before = nice_of(threading.get_native_id())
    seen = {}

    def worker():
        before = nice_of(threading.get_native_id())
        seen["changed"] = lower_thread_priority(3)
        seen["delta"] = nice_of(threading.get_native_id()) - before
        child = threading.Thread(target=lambda: seen.setdefault("child", nice_of(threading.get_native_id())))
        child.start()
        child.join()
        seen["worker"] = nice_of(threading.get_native_id())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if not seen["changed"]:
        pytest.skip("this sandbox refuses setpriority")
    assert seen["delta"] == min(3, 19 - main_before)
    assert seen["child"] == seen["worker"]
    assert nice_of(threading.get_native_id()) == main_before


def test_zero_steps_change_nothing_and_negative_steps_are_refused():
    assert lower_thread_priority(0) is False
    with pytest.raises(ValueError):
        lower_thread_priority(-1)
