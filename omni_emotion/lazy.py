"""Things made on first use: package attributes that import their module then (PEP 562), so that importing one
light submodule (a CLI command, a registry) does not load a package's heavy neighbours (torch, scipy, OpenCV);
and ``Loader``, a model built once when it is first needed (or in the background, ahead of that need)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["Loader", "lazy_attributes"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def lazy_attributes(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps each public name to its submodule."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    return __getattr__


class Loader(Generic[T]):
    """A value built once, on first use, under a lock: threads that ask meanwhile wait for that one build.

    ``start()`` begins the build in a background thread, so that a model can load while other work runs; a
    build that fails there is retried by the next ``get()``, which then raises the error in its caller.
    """

    def __init__(self, build: Callable[[], T], name: str = "model") -> None:
        self._build = build
        self._name = name
        self._lock = threading.Lock()
        self._value: T | None = None
        self._done = False

    @property
    def loaded(self) -> bool:
        return self._done

    def get(self) -> T:
        if not self._done:
            with self._lock:
                if not self._done:
                    self._value = self._build()
                    self._done = True
        return self._value  # type: ignore[return-value]

    def start(self) -> None:
        """Build in a daemon thread now (a no-op once built); errors wait for ``get()``."""
        if self._done:
            return
        threading.Thread(
            target=self.build_quietly, name=f"omni-emotion-load-{self._name}", daemon=True
        ).start()

    def build_quietly(self) -> None:
        """Build in this thread now (a no-op once built); an error waits for ``get()``, which tries again."""
        try:
            self.get()
        except Exception:  # get() in the caller's thread raises it again, with its context
            log.debug("background load of %s failed; retried on first use", self._name, exc_info=True)
