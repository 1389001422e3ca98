"""The floor beside every score: the best constant answer, i.e. the label set that, given to every sample,
scores highest against this ground truth.

A constant prediction P has the same mapped set P_g under each grouping g, so its per-sample sums collapse to
per-group tallies of the ground truth: with n_g scored samples, c[x] samples whose truth holds group x and
w[x] = sum over those samples of 1 / |T_s|,

    precision_g = sum_{x in P_g} c[x] / (|P_g| n_g),    recall_g = sum_{x in P_g} w[x] / n_g.

So the tallies are built once and each candidate set scores in O(12 |P|): a greedy search over the most
frequent ground-truth labels takes milliseconds. The floor is chosen *with* the ground truth, so it is an
optimistic bar: a system that does not beat it has learnt nothing a constant guess does not know.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from omni_emotion.errors import ConfigError
from omni_emotion.evaluation.metrics import NO_GROUP_REASON, EvalResult, GroupingScore, map_labels
from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS, WheelTables

__all__ = [
    "OBJECTIVES",
    "Floor",
    "Objective",
    "best_constant",
    "candidate_labels",
    "floor_of",
    "score_constant",
    "truth_tallies",
]

# MER-FG maximises the same level-1 F-scores as L1-avg (see ``metrics``); it is named for what people look for
Objective = Literal["M-avg", "L1-avg", "MER-FG"]
OBJECTIVES: tuple[str, ...] = get_args(Objective)


@dataclass(frozen=True)
class Tally:
    """One grouping's ground truth as per-group tallies (see the module docstring): n, c[x], w[x]."""

    n: int
    count: Mapping[str, int]
    weight: Mapping[str, float]


@dataclass(frozen=True)
class Floor:
    """The best constant label set found, its scores (as ``score_dataset`` gives them) and the objective."""

    labels: tuple[str, ...]
    result: EvalResult
    objective: str

    def summary(self) -> dict[str, Any]:
        """``labels`` plus the keys of ``EvalResult.summary()`` (fractions in [0, 1])."""
        return {"labels": list(self.labels), "objective": self.objective, **self.result.summary()}


def truth_tallies(
    truth: Mapping[str, Sequence[str]], tables: WheelTables
) -> tuple[dict[str, Tally], dict[str, str]]:
    """Per-grouping tallies of ``truth`` and the samples skipped because their truth maps to nothing."""
    mapped = {name: [map_labels(labels, tables, g) for g in GROUPINGS] for name, labels in truth.items()}
    skipped = {name: NO_GROUP_REASON for name, sets in mapped.items() if not any(sets)}
    tallies = {}
    for column, grouping in enumerate(GROUPINGS):
        sets = [s[column] for s in mapped.values() if s[column]]
        count: Counter[str] = Counter()
        weight: dict[str, float] = {}
        for groups in sets:
            for group in groups:
                count[group] += 1
                weight[group] = weight.get(group, 0.0) + 1.0 / len(groups)
        tallies[grouping] = Tally(len(sets), count, weight)
    return tallies, skipped


def _grouping_score(tally: Tally, groups: frozenset[str]) -> GroupingScore:
    if not tally.n:
        return GroupingScore(0.0, 0.0, 0)
    if not groups:  # the constant maps to nothing here: every sample scores 0 and 0
        return GroupingScore(0.0, 0.0, tally.n)
    hits = sum(tally.count.get(x, 0) for x in groups)
    recall = sum(tally.weight.get(x, 0.0) for x in sorted(groups))  # sorted: same sum whatever the hash seed
    return GroupingScore(hits / (len(groups) * tally.n), recall / tally.n, tally.n)


def _groupings(
    tallies: Mapping[str, Tally], labels: Sequence[str], tables: WheelTables
) -> dict[str, GroupingScore]:
    return {g: _grouping_score(tallies[g], map_labels(labels, tables, g)) for g in GROUPINGS}


def _objective(groupings: Mapping[str, GroupingScore], objective: str) -> float:
    names = GROUPINGS if objective == "M-avg" else L1_GROUPINGS
    return sum(groupings[g].f_score for g in names) / len(names)


def score_constant(
    truth: Mapping[str, Sequence[str]], labels: Sequence[str], tables: WheelTables
) -> EvalResult:
    """The scores of predicting ``labels`` for every sample of ``truth`` (equal to ``score_dataset``'s)."""
    tallies, skipped = truth_tallies(truth, tables)
    return EvalResult(_groupings(tallies, labels, tables), len(truth) - len(skipped), len(skipped), skipped)


def candidate_labels(truth: Mapping[str, Sequence[str]], tables: WheelTables, top_k: int) -> list[str]:
    """The ``top_k`` most frequent ground-truth labels (samples holding each, ties alphabetical) that map to
    some group; of labels mapping identically under all 12 groupings only the most frequent is kept."""
    frequency = Counter(label for labels in truth.values() for label in set(labels))
    seen: set[tuple[frozenset[str], ...]] = set()
    out = []
    for label, _ in sorted(frequency.items(), key=lambda item: (-item[1], item[0])):
        key = tuple(map_labels([label], tables, g) for g in GROUPINGS)
        if any(key) and key not in seen:
            seen.add(key)
            out.append(label)
        if len(out) == top_k:
            break
    return out


def best_constant(
    truth: Mapping[str, Sequence[str]],
    tables: WheelTables,
    *,
    objective: Objective = "M-avg",
    top_k: int = 20,
    max_labels: int = 8,
) -> Floor:
    """Greedy forward selection of a constant label set over ``candidate_labels(truth, tables, top_k)``.

    Each step adds the candidate that raises ``objective`` most; the search stops when none raises it or at
    ``max_labels`` labels. Greedy is not guaranteed optimal, so the floor is a lower bound on the best
    constant answer (on OV-MERD, 40 or 80 candidates find the same set as 20).
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"The floor objective {objective!r} is not one of {', '.join(OBJECTIVES)}.")
    if top_k < 1 or max_labels < 1:
        raise ConfigError(
            f"The floor search needs top_k and max_labels of at least 1 (got {top_k} and {max_labels})."
        )
    tallies, skipped = truth_tallies(truth, tables)
    candidates = candidate_labels(truth, tables, top_k)
    chosen: list[str] = []
    best = _groupings(tallies, chosen, tables)
    while len(chosen) < max_labels:
        trials = [(c, _groupings(tallies, [*chosen, c], tables)) for c in candidates if c not in chosen]
        if not trials:
            break
        label, groupings = max(trials, key=lambda trial: _objective(trial[1], objective))
        if _objective(groupings, objective) <= _objective(best, objective):
            break
        chosen.append(label)
        best = groupings
    result = EvalResult(best, len(truth) - len(skipped), len(skipped), skipped)
    return Floor(tuple(chosen), result, objective)


def floor_of(
    result: EvalResult,
    truth: Mapping[str, Sequence[str]],
    tables: WheelTables,
    objective: Objective = "M-avg",
) -> Floor:
    """The floor over the samples ``result`` scored, so a score and its floor share their samples."""
    scored = {name: labels for name, labels in truth.items() if name not in result.skipped}
    return best_constant(scored, tables, objective=objective)
