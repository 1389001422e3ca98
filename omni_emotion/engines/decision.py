"""Choose the label set that maximises the expected emotion-wheel score under a posterior over families.

The benchmark scores a label set by mapping words to groups under 12 groupings (word forms, synonyms, five
emotion wheels at two levels) and comparing sets: per grouping, precision = hits / |predicted groups| and
recall = hits / |true groups|, averaged over samples, then F = 2PR / (P + R); M-avg is the mean F of the 12
groupings (omni_emotion.evaluation.metrics). Here the truth is unknown: the engine holds a posterior ``q``
over emotion families, and a clip of family ``f`` is taken to be labelled with the family's word
(``DecisionTables.truth_words``). The answer is the label set S that maximises

    M-avg(S | q) = mean over groupings g of F(P_g, R_g),  P_g = E_q[precision_g(S)],  R_g = E_q[recall_g(S)],

the score S would get on a set of clips distributed as ``q`` (a family whose word has no group under g, such
as neutral, is not scored there, exactly as the metric skips such samples). It is found by greedy forward
selection, as the floor (evaluation/floor.py) is: with ``q`` the prior, the answer is the prior's best
constant answer, so an engine whose evidence says nothing cannot fall below that floor on data shaped like
its prior; a peaked ``q`` gives its family's word alone; a ``q`` split between two families names both.

Which words share a group under each grouping is a property of the benchmark's tables; the few words the
engine can answer with are resolved once by ``bench/fit_decision.py`` into a small committed file
(``data/decision.json``, with the tables' checksum), so the engine needs no benchmark files at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["DATA_DIR", "DecisionTables", "choose_labels", "expected_score", "load_decision_tables"]

DATA_DIR = Path(__file__).resolve().parent / "data"
DECISION_FILE = DATA_DIR / "decision.json"


@dataclass(frozen=True)
class DecisionTables:
    """groupings: names of the metric's groupings; groups: word -> its group under each grouping ("" = the
    word maps to nothing there); truth_words: family -> the word a clip of that family is labelled with;
    prior: family -> prior probability (sums to 1); source: where the numbers came from (checksums)."""

    groupings: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]]
    truth_words: Mapping[str, str]
    prior: Mapping[str, float]
    source: Mapping[str, str]

    def __post_init__(self) -> None:
        missing = [w for w in self.truth_words.values() if w not in self.groups]
        if missing:
            raise ValueError(f"truth words without groups: {missing}")
        bad = [w for w, g in self.groups.items() if len(g) != len(self.groupings)]
        if bad:
            raise ValueError(f"words whose groups do not match the {len(self.groupings)} groupings: {bad}")
        if set(self.prior) != set(self.truth_words):
            raise ValueError("the prior and the truth words must name the same families")

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self.truth_words)

    def word_family(self, word: str) -> str | None:
        """The family whose truth word is ``word``, if any."""
        return next((f for f, w in self.truth_words.items() if w == word), None)


@cache
def load_decision_tables(path: Path = DECISION_FILE) -> DecisionTables:
    """The committed tables (read once per process; the file is package data)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return DecisionTables(
        groupings=tuple(raw["groupings"]),
        groups={w: tuple(g) for w, g in raw["groups"].items()},
        truth_words=dict(raw["truth_words"]),
        prior=dict(raw["prior"]),
        source=dict(raw["source"]),
    )


def _f(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    total = p + r
    return np.where(total > 0, 2.0 * p * r / np.where(total > 0, total, 1.0), 0.0)


def _group_ids(
    words: Sequence[str], families: Sequence[str], tables: DecisionTables
) -> tuple[np.ndarray, np.ndarray]:
    """(C, G) group ids of the candidate words and (F, G) of the families' truth words; 0 = no group."""
    index: dict[str, int] = {"": 0}

    def ids(word: str) -> list[int]:
        return [index.setdefault(group, len(index)) if group else 0 for group in tables.groups[word]]

    candidates = np.array([ids(w) for w in words], dtype=np.int64).reshape(len(words), len(tables.groupings))
    truth = np.array([ids(tables.truth_words[f]) for f in families], dtype=np.int64)
    return candidates, truth


def _scores(q: np.ndarray, hits: np.ndarray, sizes: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Expected M-avg of N label sets: q (F,), hits (N, F, G) truth group predicted, sizes (N, G) predicted
    groups, scored (F, G) truth has a group. Groupings where q puts no mass on a scored family are left out."""
    mass = q @ scored  # (G,)
    hit_mass = np.einsum("f,nfg->ng", q, hits & scored)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(mass > 0, hit_mass / np.where(mass > 0, mass, 1.0), 0.0)
        precision = np.where(sizes > 0, recall / np.where(sizes > 0, sizes, 1), 0.0)
    f = _f(precision, recall)
    used = mass > 0
    return f[:, used].mean(axis=1) if used.any() else np.zeros(len(f))


def expected_score(labels: Sequence[str], posterior: Mapping[str, float], tables: DecisionTables) -> float:
    """Expected M-avg (a fraction) of answering ``labels`` when the clip's family follows ``posterior``."""
    q = np.array([max(0.0, float(posterior.get(f, 0.0))) for f in tables.families])
    words = [w for w in dict.fromkeys(labels) if w in tables.groups]
    if q.sum() <= 0:
        return 0.0
    candidates, truth = _group_ids(words, tables.families, tables)
    hits = (candidates[:, None, :] == truth[None, :, :]).any(axis=0) & (truth > 0)
    sizes = np.array([len(set(candidates[:, g]) - {0}) for g in range(truth.shape[1])])
    return float(_scores(q / q.sum(), hits[None], sizes[None], truth > 0)[0])


def choose_labels(
    posterior: Mapping[str, float],
    tables: DecisionTables,
    candidates: Sequence[str] | None = None,
    max_labels: int = 6,
) -> tuple[list[str], float]:
    """Greedy forward selection of the label set with the highest expected M-avg under ``posterior``.

    ``candidates``: words to choose from (default: every family's truth word); each step adds the word that
    raises the expected score most and stops when none does. Returns (labels best-first, expected score).
    An all-zero posterior, or one whose mass lies only on unscored families (neutral), returns ([], 0.0).
    """
    q = np.array([max(0.0, float(posterior.get(f, 0.0))) for f in tables.families])
    if q.sum() <= 0:
        return [], 0.0
    q = q / q.sum()
    pool = [
        w
        for w in dict.fromkeys(candidates if candidates is not None else tables.truth_words.values())
        if w in tables.groups
    ]
    if not pool:
        return [], 0.0
    ids, truth = _group_ids(pool, tables.families, tables)
    scored = truth > 0
    matches = (ids[:, None, :] == truth[None, :, :]) & scored[None]  # (C, F, G)
    hits = np.zeros(truth.shape, dtype=bool)
    in_set = np.zeros((len(pool), ids.shape[1]), dtype=bool)  # candidate c's group already predicted under g
    sizes = np.zeros(ids.shape[1], dtype=np.int64)
    chosen: list[int] = []
    best = 0.0
    while len(chosen) < min(max_labels, len(pool)):
        trial_hits = hits[None] | matches
        trial_sizes = sizes[None] + ((ids > 0) & ~in_set)
        scores = _scores(q, trial_hits, trial_sizes, scored)
        scores[chosen] = -np.inf
        c = int(np.argmax(scores))  # ties go to the earlier candidate: never a matter of hashing
        if scores[c] <= best + 1e-12:
            break
        chosen.append(c)
        best = float(scores[c])
        hits = trial_hits[c]
        sizes = trial_sizes[c]
        in_set |= (ids == ids[c][None]) & (ids > 0)
    return [pool[c] for c in chosen], best
