"""Steady live answers: what the live views show changes only when the new answer holds.

A live session re-analyses the last few seconds about once a second, and each window can answer a little
differently (angry,annoyed -> angry -> angry,happy,relieved ...). Two rules keep the shown answer steady:

- **labels** (``SteadyLabels``): a vote over the last ``history`` windows. A label is shown when at least
  ``quorum`` of them gave it, and the shown set changes at most once every ``min_dwell_s`` seconds. The first
  answer is shown at once, so a viewer is not kept waiting.
- **per-frame expressions** (``SteadyExpressions``): per track, an exponential moving average of the
  expression probabilities with a half-life in seconds (so it does not depend on the frame rate), and the
  named expression changes only when another class leads the shown one by ``margin``.

Both are pure state machines fed with times: the live tab and the desktop window keep one of each per viewer
and draw the chips in the video and beside it from the same ``SteadyLabels.shown``. bench/label_steadiness.py
measures the label changes per minute with and without them.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.live import EXPRESSIONS, LiveFace

__all__ = ["SteadinessConfig", "SteadyExpressions", "SteadyLabels", "changes_per_minute", "vote"]


@dataclass(frozen=True)
class SteadinessConfig:
    """history: windows voted over; quorum: how many of them must give a label; min_dwell_s: shown labels
    stay at least this long; half_life_s: per-track expression smoothing (0 = none); margin: lead in
    probability another expression needs over the shown one to replace it."""

    history: int = 3
    quorum: int = 2
    min_dwell_s: float = 4.0
    half_life_s: float = 0.8
    margin: float = 0.15

    def __post_init__(self) -> None:
        if not 1 <= self.quorum <= self.history:
            raise ConfigError(
                f"SteadinessConfig needs 1 <= quorum <= history, got {self.quorum}, {self.history}"
            )
        if self.min_dwell_s < 0 or self.half_life_s < 0 or not 0 <= self.margin < 1:
            raise ConfigError(
                "SteadinessConfig needs min_dwell_s >= 0, half_life_s >= 0 and "
                f"0 <= margin < 1, got {self.min_dwell_s}, {self.half_life_s}, {self.margin}"
            )


def vote(windows: Sequence[Sequence[str]], quorum: int) -> tuple[str, ...]:
    """Labels given by at least ``quorum`` of ``windows`` (each most salient first), ordered by how many
    windows gave them, then by their mean rank, then by how recently."""
    count: dict[str, int] = {}
    ranks: dict[str, float] = {}
    last: dict[str, int] = {}
    for w, labels in enumerate(windows):
        for rank, label in enumerate(dict.fromkeys(labels)):
            count[label] = count.get(label, 0) + 1
            ranks[label] = ranks.get(label, 0.0) + rank
            last[label] = w
    held = [label for label in count if count[label] >= quorum]
    return tuple(sorted(held, key=lambda lab: (-count[lab], ranks[lab] / count[lab], -last[lab])))


class SteadyLabels:
    """The labels a live view shows, fed with each finished analysis (``offer``)."""

    def __init__(self, config: SteadinessConfig = SteadinessConfig()) -> None:
        self.config = config
        self._windows: deque[tuple[str, ...]] = deque(maxlen=config.history)
        self._seen: int | None = None
        self._changed_at = -math.inf
        self.shown: tuple[str, ...] = ()
        self.changes = 0  # how often the shown labels changed after the first answer

    def offer(self, seq: int, labels: Sequence[str], t: float) -> tuple[str, ...]:
        """One analysis (``seq`` numbers it: offering the same one again changes nothing) finished at session
        time ``t``; returns the labels to show now."""
        if seq == self._seen:
            return self.shown
        self._seen = seq
        self._windows.append(tuple(labels))
        if not self.shown:  # the first answer (or the first after nothing was shown) is shown at once
            self._show(tuple(labels), t, first=True)
            return self.shown
        held = vote(self._windows, self.config.quorum)
        if held and set(held) != set(self.shown) and t - self._changed_at >= self.config.min_dwell_s:
            self._show(held, t)
        return self.shown

    def _show(self, labels: tuple[str, ...], t: float, first: bool = False) -> None:
        if labels:
            self.changes += 0 if first else 1
            self.shown, self._changed_at = labels, t


class SteadyExpressions:
    """Per-track expression smoothing for the overlay: ``smooth(t, faces)`` returns the faces with their
    probabilities averaged over time and a named expression that only changes when another clearly leads."""

    def __init__(self, config: SteadinessConfig = SteadinessConfig()) -> None:
        self.config = config
        self._state: dict[int, tuple[float, np.ndarray, int]] = {}  # track -> (t, probabilities, shown class)

    def smooth(self, t: float, faces: Sequence[LiveFace]) -> tuple[LiveFace, ...]:
        out = []
        alive = {face.track_id for face in faces}
        for gone in set(self._state) - alive:  # a track that left is forgotten with its id
            del self._state[gone]
        for face in faces:
            if len(face.probabilities) != len(EXPRESSIONS):
                out.append(face)
                continue
            probs = np.asarray(face.probabilities, dtype=np.float64)
            previous = self._state.get(face.track_id)
            if previous is None:
                shown = int(np.argmax(probs))
            else:
                last_t, last_p, shown = previous
                half_life = self.config.half_life_s
                keep = 0.5 ** (max(0.0, t - last_t) / half_life) if half_life else 0.0
                probs = keep * last_p + (1.0 - keep) * probs
                best = int(np.argmax(probs))
                if probs[best] - probs[shown] >= self.config.margin:
                    shown = best
            self._state[face.track_id] = (t, probs, shown)
            out.append(
                replace(face, expression=EXPRESSIONS[shown], probabilities=tuple(float(v) for v in probs))
            )
        return tuple(out)


def changes_per_minute(
    sequence: Sequence[tuple[float, Sequence[str]]], config: SteadinessConfig | None
) -> float:
    """How often the shown labels change per minute over ``sequence`` ((session time, labels) per analysis,
    in time order): raw (``config`` None: every different answer is shown) or through ``SteadyLabels``."""
    if len(sequence) < 2:
        return 0.0
    minutes = (sequence[-1][0] - sequence[0][0]) / 60.0
    if config is None:
        changes = sum(set(a) != set(b) for (_, a), (_, b) in itertools.pairwise(sequence) if a and b)
    else:
        steady = SteadyLabels(config)
        for seq, (t, labels) in enumerate(sequence):
            steady.offer(seq, labels, t)
        changes = steady.changes
    return changes / minutes if minutes > 0 else 0.0
