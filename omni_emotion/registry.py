"""A name -> entry mapping for one extension point (engines, face detectors).

Each entry names itself, says whether it can run here (``available``) and how much ``auto`` prefers it
(``rank``, higher first). Adding a backend is one module that defines its entry plus one ``register`` call
in the point's registry module; every CLI choice list, the Status tab and ``auto`` read the registry.
See docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from omni_emotion.errors import ConfigError

__all__ = ["AUTO", "Entry", "Registry", "load_ref"]

AUTO = "auto"


class Entry(Protocol):
    # read-only members: entries are frozen dataclasses
    @property
    def name(self) -> str: ...

    @property
    def rank(self) -> int: ...  # auto tries higher ranks first

    # each registry passes its own context (engines: the weights folder; face detectors: none)
    @property
    def available(self) -> Callable[..., bool]: ...


def load_ref(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """``ref`` itself, or the object a ``"package.module:attribute"`` string names, imported now: entries
    name their factories by string so that listing choices (CLI start-up) imports no model code."""
    if callable(ref):
        return ref
    module, _, attribute = ref.partition(":")
    target: Any = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


E = TypeVar("E", bound=Entry)


class Registry(Generic[E]):
    """Entries of one kind, in registration order. ``what`` names the kind in error sentences."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, E] = {}

    def register(self, entry: E) -> E:
        if entry.name == AUTO or not entry.name:
            raise ConfigError(f"A {self.what} cannot be called {entry.name!r}.")
        if entry.name in self._entries:
            raise ConfigError(f"A {self.what} named {entry.name!r} is already registered.")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    @contextlib.contextmanager
    def registered(self, entry: E) -> Iterator[E]:
        """``register`` for the duration of a ``with`` block (tests, plug-ins tried for one run)."""
        self.register(entry)
        try:
            yield entry
        finally:
            self.unregister(entry.name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def choices(self) -> tuple[str, ...]:
        """What a user may pass: ``auto`` then every registered name."""
        return (AUTO, *self._entries)

    def entries(self) -> tuple[E, ...]:
        """Every entry in the order ``auto`` tries them (highest rank first, then registration order)."""
        return tuple(sorted(self._entries.values(), key=lambda e: -e.rank))

    def get(self, name: str) -> E:
        try:
            return self._entries[name]
        except KeyError:
            choices = ", ".join(self.choices())
            raise ConfigError(f"Unknown {self.what} {name!r}; choose one of {choices}.") from None

    def resolve(self, name: str, *context: Any) -> E:
        """The entry ``name`` stands for: itself, or for ``auto`` the highest-ranked entry available with
        ``context`` (passed to ``available``)."""
        if name != AUTO:
            return self.get(name)
        for entry in self.entries():
            if entry.available(*context):
                return entry
        raise ConfigError(f"No {self.what} can run here; registered: {', '.join(self._entries) or 'none'}.")
