"""What an ``Evaluation`` looks like to people and scripts: the score rows the CLI prints as text and the
Evaluate tab shows as a dataframe, and the two JSON documents (``eval --json`` and the tab's download).

Rows are dicts of percent values, unrounded; each front end rounds as it displays them.
"""

from __future__ import annotations

from typing import Any

from omni_emotion.evaluation.floor import Floor
from omni_emotion.evaluation.metrics import EvalResult
from omni_emotion.evaluation.session import Evaluation
from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS

__all__ = ["SCORE_COLUMNS", "floor_name", "json_summary", "score_rows", "scores_document"]

SCORE_COLUMNS = (*GROUPINGS, "M-avg", "L1-avg", "MER-FG", "Avg")


def floor_name(floor: Floor) -> str:
    """The floor's row name: its labels."""
    return f"floor (best constant: {', '.join(floor.labels)})"


def _measured(model: str, kind: str, result: EvalResult) -> dict[str, Any]:
    scores = {g: 100 * result.groupings[g].f_score for g in GROUPINGS}
    return {
        "model": model,
        "kind": kind,
        **scores,
        "M-avg": 100 * result.m_avg,
        "L1-avg": 100 * result.l1_avg,
        "MER-FG": 100 * result.mer_fg.score,
        "Avg": 100 * result.avg,
    }


def _published(model: str, scores: dict[str, float]) -> dict[str, Any]:
    """A published row: the table gives F per grouping and M-avg; L1-avg is their mean over the L1 columns,
    MER-FG (scored on tables the published run may not have used) and Avg (which needs precision and recall)
    are not known (None)."""
    l1 = [scores[g] for g in L1_GROUPINGS if g in scores]
    l1_avg = sum(l1) / len(l1) if len(l1) == len(L1_GROUPINGS) else None
    return {
        "model": model,
        "kind": "published",
        **{g: scores.get(g) for g in GROUPINGS},
        "M-avg": scores.get("M-avg"),
        "L1-avg": l1_avg,
        "MER-FG": None,
        "Avg": None,
    }


def score_rows(evaluation: Evaluation, ours: str) -> list[dict[str, Any]]:
    """Our row (named ``ours``), the floor's, then the published baselines from the lowest M-avg up (like
    OV-MER Table 4). The floor row scores the floor's labels; MER-FG's own floor
    (``Evaluation.mer_fg_floor``) stands in the summaries. Each row: ``model``, ``kind`` ("ours", "floor" or
    "published") and one percent value per ``SCORE_COLUMNS`` (None where the source does not give it)."""
    rows = [
        _measured(ours, "ours", evaluation.result),
        _measured(floor_name(evaluation.floor), "floor", evaluation.floor.result),
    ]
    ranked = sorted(evaluation.published.items(), key=lambda item: item[1]["M-avg"])
    return rows + [_published(model, dict(scores)) for model, scores in ranked]


def json_summary(evaluation: Evaluation) -> dict[str, Any]:
    """The object ``omni-emotion eval --json`` prints: ``EvalResult.summary()`` plus ``tables`` (which
    grouping tables scored it), ``skipped`` (key -> reason), ``floor`` and ``mer_fg_floor``
    (``Floor.summary()``), fractions in [0, 1]."""
    result = evaluation.result
    return {
        **result.summary(),
        "tables": evaluation.tables,
        "skipped": dict(result.skipped),
        **_floor_documents(evaluation),
    }


def _floor_documents(evaluation: Evaluation) -> dict[str, Any]:
    mer_fg = evaluation.mer_fg_floor or evaluation.floor
    return {"floor": evaluation.floor.summary(), "mer_fg_floor": mer_fg.summary()}


def scores_document(evaluation: Evaluation) -> dict[str, Any]:
    """The Evaluate tab's ``scores.json``: summary, floor, skipped, per-grouping scores and per-sample
    results (fractions in [0, 1])."""
    result = evaluation.result
    return {
        "summary": result.summary(),
        "tables": evaluation.tables,
        **_floor_documents(evaluation),
        "skipped": dict(result.skipped),
        "groupings": {g: s.to_dict() for g, s in result.groupings.items()},
        "samples": [sample.to_dict() for sample in result.samples],
    }
