"""The OV-MER emotion-wheel metric as pure functions over label lists and a ``WheelTables``.

Per sample and grouping, labels are mapped to groups (unmapped labels dropped) and compared as sets:
Precision_S = |Y ∩ Ŷ| / |Ŷ| (the papers' Accuracy_S), Recall_S = |Y ∩ Ŷ| / |Y|. A sample whose ground truth
maps to nothing is skipped; an empty (mapped) prediction scores 0 and 0. Precision and recall are averaged
over the scored samples, then F_S = 2PR / (P + R) and Avg = (P + R) / 2. M-avg is the mean F_S of the 12
groupings, L1-avg the mean F_S of the five wheels at level 1. All scores are fractions in [0, 1].

MER-FG, the final score of MER2026 Track 2 (MERTools ``my_affectgpt/evaluation/wheel.py``,
``wheel_metric_calculation(level='level1')``), is the mean over the five wheels of the level-1 F1 of the
sample-mean precision and recall, the same per-sample rules (case 3: word form, synonym, wheel). On the same
tables it is therefore L1-avg; what makes the challenge's number is its revised ``format.csv``
(``emotion_wheel_mer2026``). ``mer_fg`` also gives the mean precision and recall the authors report with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS, WheelTables

__all__ = [
    "NO_GROUP_REASON",
    "EvalResult",
    "GroupingScore",
    "MerFg",
    "SampleResult",
    "average_scores",
    "f_score",
    "map_labels",
    "mer_fg",
    "score_dataset",
    "score_grouping",
    "score_sample",
    "set_scores",
]

NO_GROUP_REASON = "ground truth has no label in the grouping tables"


def map_labels(labels: Iterable[str], tables: WheelTables, grouping: str) -> frozenset[str]:
    """The groups that ``labels`` (lowercase) fall in under ``grouping``; unknown labels are dropped."""
    column = GROUPINGS.index(grouping)
    groups = (tables.groups.get(label) for label in labels)
    return frozenset(row[column] for row in groups if row and row[column])


def set_scores(
    truth: frozenset[str] | set[str], pred: frozenset[str] | set[str]
) -> tuple[float, float] | None:
    """(precision, recall) of one sample's mapped sets; None when ``truth`` is empty (sample skipped)."""
    if not truth:
        return None
    if not pred:
        return 0.0, 0.0
    hits = len(truth & pred)
    return hits / len(pred), hits / len(truth)


def f_score(precision: float, recall: float) -> float:
    """Harmonic mean; 0 when both are 0."""
    total = precision + recall
    return 2.0 * precision * recall / total if total > 0 else 0.0


@dataclass(frozen=True)
class GroupingScore:
    """Sample-averaged precision and recall under one grouping; ``n`` samples scored (0 -> all scores 0)."""

    precision: float
    recall: float
    n: int

    @property
    def f_score(self) -> float:
        return f_score(self.precision, self.recall)

    @property
    def avg(self) -> float:
        return (self.precision + self.recall) / 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f": self.f_score,
            "avg": self.avg,
            "n": self.n,
        }


def _pair_scores(
    truth: Sequence[str], pred: Sequence[str], tables: WheelTables, grouping: str
) -> tuple[float, float] | None:
    return set_scores(map_labels(truth, tables, grouping), map_labels(pred, tables, grouping))


def score_sample(
    truth: Sequence[str], pred: Sequence[str], tables: WheelTables
) -> dict[str, tuple[float, float] | None]:
    """One sample's (precision, recall) under each grouping; None where its truth maps to nothing."""
    return {g: _pair_scores(truth, pred, tables, g) for g in GROUPINGS}


def average_scores(scores: Iterable[tuple[float, float] | None]) -> GroupingScore:
    """Sample-averaged precision and recall of per-sample scores, leaving out None (skipped samples)."""
    sum_p = sum_r = 0.0
    n = 0
    for pair in scores:
        if pair is None:
            continue
        sum_p += pair[0]
        sum_r += pair[1]
        n += 1
    return GroupingScore(sum_p / n, sum_r / n, n) if n else GroupingScore(0.0, 0.0, 0)


def score_grouping(
    pairs: Iterable[tuple[Sequence[str], Sequence[str]]], tables: WheelTables, grouping: str
) -> GroupingScore:
    """Average (precision, recall) over (truth labels, predicted labels) pairs under one grouping."""
    return average_scores(_pair_scores(truth, pred, tables, grouping) for truth, pred in pairs)


@dataclass(frozen=True)
class MerFg:
    """MER2026's fine-grained score: mean over the five wheels of F1, precision and recall (fractions)."""

    score: float
    precision: float
    recall: float


def mer_fg(groupings: Mapping[str, GroupingScore]) -> MerFg:
    """The MER-FG score of per-grouping scores: the means over ``L1_GROUPINGS`` of F, precision and recall
    (the authors' ``np.mean([[f, p, r] per wheel], axis=0)``)."""
    scores = [groupings[g] for g in L1_GROUPINGS]
    return MerFg(
        sum(s.f_score for s in scores) / len(scores),
        sum(s.precision for s in scores) / len(scores),
        sum(s.recall for s in scores) / len(scores),
    )


@dataclass(frozen=True)
class SampleResult:
    """One ground-truth sample: its labels, the prediction (None: there was none) and either its
    (precision, recall) per grouping (None where its truth maps to nothing) or why it was skipped."""

    name: str
    truth: tuple[str, ...]
    pred: tuple[str, ...] | None
    scores: Mapping[str, tuple[float, float] | None] = field(default_factory=dict)
    skipped: str = ""

    @property
    def f_mean(self) -> float | None:
        """Mean F_S over the groupings that scored this sample; None when it was skipped."""
        fs = [f_score(*pair) for pair in self.scores.values() if pair is not None]
        return sum(fs) / len(fs) if fs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "truth": list(self.truth),
            "pred": None if self.pred is None else list(self.pred),
            "f_mean": self.f_mean,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class EvalResult:
    """Scores of a prediction set against ground truth under all 12 groupings.

    n_scored: samples scored under at least one grouping; n_skipped: samples or rows that could not be
    scored (``skipped`` gives name -> reason for each); ``samples``: one result per ground-truth sample, in
    ground-truth order (empty for a constant answer's scores, which come from tallies).
    """

    groupings: Mapping[str, GroupingScore]
    n_scored: int
    n_skipped: int
    skipped: Mapping[str, str] = field(default_factory=dict)
    samples: tuple[SampleResult, ...] = ()

    @property
    def m_avg(self) -> float:
        return sum(self.groupings[g].f_score for g in GROUPINGS) / len(GROUPINGS)

    @property
    def l1_avg(self) -> float:
        return sum(self.groupings[g].f_score for g in L1_GROUPINGS) / len(L1_GROUPINGS)

    @property
    def mer_fg(self) -> MerFg:
        return mer_fg(self.groupings)

    @property
    def precision(self) -> float:
        """Mean precision over the 12 groupings."""
        return sum(s.precision for s in self.groupings.values()) / len(self.groupings)

    @property
    def recall(self) -> float:
        """Mean recall over the 12 groupings."""
        return sum(s.recall for s in self.groupings.values()) / len(self.groupings)

    @property
    def avg(self) -> float:
        return (self.precision + self.recall) / 2.0

    def summary(self) -> dict[str, Any]:
        """The flat JSON object of ``omni-emotion eval --json`` (fractions in [0, 1])."""
        out: dict[str, Any] = {g: self.groupings[g].f_score for g in GROUPINGS}
        out.update(
            {
                "M-avg": self.m_avg,
                "L1-avg": self.l1_avg,
                "MER-FG": self.mer_fg.score,
                "MER-FG-precision": self.mer_fg.precision,
                "MER-FG-recall": self.mer_fg.recall,
                "precision": self.precision,
                "recall": self.recall,
                "avg": self.avg,
                "n_scored": self.n_scored,
                "n_skipped": self.n_skipped,
            }
        )
        return out


def score_dataset(
    truth: Mapping[str, Sequence[str]],
    pred: Mapping[str, Sequence[str]],
    tables: WheelTables,
    skipped: Mapping[str, str] | None = None,
) -> EvalResult:
    """Score predictions against ground truth (both name -> lowercase labels).

    Samples in ``truth`` without a prediction are skipped ("no prediction"), as are samples whose truth maps
    to nothing under every grouping. ``skipped`` carries reasons already found while reading the files
    (bad rows, unknown names) and is merged into the result.
    """
    reasons = dict(skipped or {})
    samples = []
    for name, labels in truth.items():
        predicted = pred.get(name)
        if name not in reasons and predicted is None:
            reasons[name] = "no prediction"
        if name in reasons:
            samples.append(SampleResult(name, tuple(labels), _opt_tuple(predicted), skipped=reasons[name]))
            continue
        scores = score_sample(labels, predicted, tables)
        if not any(pair is not None for pair in scores.values()):
            reasons[name] = NO_GROUP_REASON
            samples.append(SampleResult(name, tuple(labels), tuple(predicted), skipped=reasons[name]))
        else:
            samples.append(SampleResult(name, tuple(labels), tuple(predicted), scores))
    scored = [sample for sample in samples if not sample.skipped]
    groupings = {g: average_scores(sample.scores[g] for sample in scored) for g in GROUPINGS}
    return EvalResult(groupings, len(scored), len(reasons), reasons, tuple(samples))


def _opt_tuple(labels: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if labels is None else tuple(labels)
