"""``Loader``: one build however many threads ask, background start, errors raised in the caller."""

from __future__ import annotations

import threading
import time

import pytest

from omni_emotion.lazy import Loader


def test_builds_once_for_many_threads():
    builds = []

    def build():
        builds.append(1)
        time.sleep(0.05)
        return object()

    loader = Loader(build)
    assert not loader.loaded and not builds  # nothing is built before it is needed
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(loader.get())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len({id(v) for v in seen}) == 1 and loader.loaded


def test_start_builds_in_the_background():
    started = threading.Event()
    release = threading.Event()

    def build():
        started.set()
        release.wait(5)
        return 42

    loader = Loader(build)
    loader.start()
    assert started.wait(5) and not loader.loaded
    release.set()
    assert loader.get() == 42


def test_a_failed_background_build_raises_in_get_and_can_succeed_later():
    attempts = []

    def build():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("model missing")
        return "ok"

    loader = Loader(build)
    loader.start()
    for _ in range(100):
        if attempts:
            break
        time.sleep(0.01)
    with pytest.raises(RuntimeError, match="model missing"):
        loader.get()
    assert loader.get() == "ok" and len(attempts) == 3
