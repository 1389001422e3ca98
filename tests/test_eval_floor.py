"""The floor (best constant answer): a hand-computed search, equality with the normal metric, optimality over
single labels, and the figure on the shared OV-MERD ground truth."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eval_metrics import TABLES

from omni_emotion.errors import ConfigError
from omni_emotion.evaluation.floor import best_constant, candidate_labels, floor_of, score_constant
from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.runner import read_ground_truth
from omni_emotion.evaluation.wheels import GROUPINGS, WheelTables, load_wheels


def test_hand_computed_floor():
    truth = {"s1": ["happy"], "s2": ["happy", "sad"], "s3": ["angry"], "s4": ["unknown"]}
    # {happy}:            P (1 + 1 + 0) / 3 = 2/3, R (1 + 1/2 + 0) / 3 = 1/2      -> F 4/7
    # {happy, angry}:     P (1/2 + 1/2 + 1/2) / 3 = 1/2, R (1 + 1/2 + 1) / 3 = 5/6 -> F 5/8 (best pair)
    # {happy, sad}:       P 1/2, R 2/3 -> F 4/7;  {happy, angry, sad}: P 4/9, R 1 -> F 8/13 < 5/8: stop
    floor = best_constant(truth, TABLES)
    assert floor.labels == ("happy", "angry")
    assert floor.result.m_avg == pytest.approx(5 / 8) and floor.result.l1_avg == pytest.approx(5 / 8)
    assert (floor.result.precision, floor.result.recall) == pytest.approx((1 / 2, 5 / 6))
    assert floor.result.n_scored == 3 and dict(floor.result.skipped) == {
        "s4": "ground truth has no label in the grouping tables"
    }
    assert best_constant(truth, TABLES, max_labels=1).labels == ("happy",)
    summary = floor.summary()
    assert summary["labels"] == ["happy", "angry"] and summary["M-avg"] == pytest.approx(5 / 8)


def test_candidates_are_frequent_mapped_labels_without_twins():
    truth = {"a": ["happy", "xyz"], "b": ["happiness", "xyz", "sad"], "c": ["happiness", "xyz"]}
    # xyz maps to nothing; happiness and happy map alike, the more frequent one stays
    assert candidate_labels(truth, TABLES, top_k=5) == ["happiness", "sad"]
    assert candidate_labels(truth, TABLES, top_k=1) == ["happiness"]


def test_floor_is_computed_over_the_samples_the_score_used():
    truth = {"s1": ["happy"], "s2": ["sad"], "s3": ["sad"]}
    result = score_dataset(truth, {"s1": ["happy"]}, TABLES)  # s2, s3: no prediction
    floor = floor_of(result, truth, TABLES)
    assert floor.labels == ("happy",) and floor.result.n_scored == 1 and floor.result.m_avg == 1.0


def test_bad_search_settings_are_config_errors():
    with pytest.raises(ConfigError, match="M-avg, L1-avg"):
        best_constant({"s": ["happy"]}, TABLES, objective="F1")
    with pytest.raises(ConfigError, match="at least 1"):
        best_constant({"s": ["happy"]}, TABLES, max_labels=0)


WORDS = ["w0", "w1", "w2", "w3", "w4", "w5"]
# Tables where each grouping groups the words differently, and some words have no group in some groupings.
tables_st = st.fixed_dictionaries(
    {w: st.tuples(*[st.sampled_from(["", "g0", "g1", "g2"])] * len(GROUPINGS)) for w in WORDS}
).map(WheelTables)
truth_st = st.dictionaries(
    st.sampled_from([f"s{i}" for i in range(12)]),
    st.lists(st.sampled_from(WORDS + ["unknown"]), min_size=1, max_size=4),
    min_size=1,
)


def _same_scores(got, want):
    assert (got.n_scored, got.n_skipped) == (want.n_scored, want.n_skipped)
    assert dict(got.skipped) == dict(want.skipped)
    for g in GROUPINGS:
        a, b = got.groupings[g], want.groupings[g]
        assert (a.precision, a.recall, a.n) == (pytest.approx(b.precision), pytest.approx(b.recall), b.n)


@settings(max_examples=150, deadline=None)
@given(tables=tables_st, truth=truth_st, labels=st.lists(st.sampled_from(WORDS + ["unknown"]), max_size=4))
def test_constant_scores_equal_the_metric(tables, truth, labels):
    want = score_dataset(truth, {name: labels for name in truth}, tables)
    _same_scores(score_constant(truth, labels, tables), want)


@settings(max_examples=150, deadline=None)
@given(tables=tables_st, truth=truth_st, objective=st.sampled_from(["M-avg", "L1-avg", "MER-FG"]))
def test_floor_equals_the_metric_and_beats_every_single_label(tables, truth, objective):
    floor = best_constant(truth, tables, objective=objective)
    _same_scores(floor.result, score_dataset(truth, {n: list(floor.labels) for n in truth}, tables))
    value = (lambda r: r.m_avg) if objective == "M-avg" else (lambda r: r.mer_fg.score)
    for label in {label for labels in truth.values() for label in labels}:
        single = score_dataset(truth, {n: [label] for n in truth}, tables)
        assert value(floor.result) >= value(single) - 1e-12


def test_floor_on_ovmerd_beats_the_known_five_label_guess(data_dir):
    tables = load_wheels(data_dir / "emotion_wheel")
    truth = read_ground_truth(data_dir / "ovmerd" / "check-openset.csv").labels
    known = score_dataset(truth, {n: ["sad", "worried", "nervous", "angry", "happy"] for n in truth}, tables)
    floor = best_constant(truth, tables)
    assert known.m_avg == pytest.approx(0.378, abs=5e-4)
    assert floor.result.m_avg >= known.m_avg and 1 <= len(floor.labels) <= 8
