"""One object per browser session, created once even when the session's first events arrive together.

A streaming page sends its first webcam frame and its first microphone chunk at the same moment, on two
events with their own concurrency ids, so both can start before either has written its gr.State: each would
see an empty state and start its own live session (the loser's worker thread and buffers then live on,
unreachable). Handlers ask this registry instead, keyed by Gradio's session hash.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["SessionRegistry"]

T = TypeVar("T")


class SessionRegistry(Generic[T]):
    """Atomic get-or-create of one ``T`` per session key; ``discard`` forgets it when the session ends.

    ``new`` runs under the registry's lock, so it must be quick (a LiveSession starts its worker lazily).
    """

    def __init__(self, new: Callable[[], T]) -> None:
        self._new = new
        self._lock = threading.Lock()
        self._items: dict[str, T] = {}

    def get(self, key: str | None) -> T:
        """The session's object, made on its first call. ``key`` None (a call without a session, e.g. a
        direct function call) gets a fresh object that nobody else can ask for again."""
        if key is None:
            return self._new()
        with self._lock:
            item = self._items.get(key)
            if item is None:
                item = self._items[key] = self._new()
            return item

    def discard(self, item: T) -> None:
        """Forget ``item`` (found by identity: Gradio's cleanup hands back the state value, not its key)."""
        with self._lock:
            for key in [k for k, v in self._items.items() if v is item]:
                del self._items[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
