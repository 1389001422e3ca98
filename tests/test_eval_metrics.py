"""EW metric: hand-computed set scores, skipping rules, and properties over random label sets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.evaluation.metrics import (
    f_score,
    map_labels,
    mer_fg,
    score_dataset,
    score_grouping,
    set_scores,
)
from omni_emotion.evaluation.wheels import GROUPINGS, WheelTables
from omni_emotion.mentions import parse_labels


def _tables(words_to_group: dict[str, str]) -> WheelTables:
    """Every grouping maps a word to the same group (enough to test the set arithmetic)."""
    return WheelTables({w: (g,) * len(GROUPINGS) for w, g in words_to_group.items()})


TABLES = _tables(
    {
        "happy": "happy",
        "happiness": "happy",
        "joyful": "joy",
        "angry": "anger",
        "mad": "anger",
        "sad": "sad",
        "calm": "calm",
        "fear": "fear",
    }
)


def test_parse_labels_accepts_list_like_strings():
    assert parse_labels("['Happy', ' Sad ']") == ["happy", "sad"]
    assert parse_labels("[angry, Mad]") == ["angry", "mad"]
    assert parse_labels("calm, fear") == ["calm", "fear"]
    assert parse_labels(["A ", "b"]) == ["a", "b"]
    assert parse_labels("") == [] and parse_labels("[]") == [] and parse_labels(None) == []


def test_set_scores_hand_computed():
    assert set_scores({"a", "b"}, {"a", "c", "d"}) == (1 / 3, 1 / 2)
    assert set_scores({"a"}, {"a"}) == (1.0, 1.0)
    assert set_scores({"a"}, set()) == (0.0, 0.0)  # empty prediction
    assert set_scores(set(), {"a"}) is None  # nothing to compare against: skipped
    assert f_score(0.5, 0.25) == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert f_score(0.0, 0.0) == 0.0


def test_labels_map_through_groups_and_unknown_labels_drop():
    assert map_labels(["happiness", "happy", "xyz"], TABLES, "M1") == frozenset({"happy"})


def test_score_grouping_averages_per_sample_then_takes_f():
    pairs = [
        (["happy", "angry"], ["happiness", "sad"]),  # P 1/2, R 1/2
        (["sad"], ["sad"]),  # P 1, R 1
        (["fear"], []),  # P 0, R 0
        (["unknown"], ["happy"]),  # truth maps to nothing: skipped
    ]
    score = score_grouping(pairs, TABLES, "M1")
    assert score.n == 3
    assert score.precision == pytest.approx((0.5 + 1 + 0) / 3)
    assert score.recall == pytest.approx((0.5 + 1 + 0) / 3)
    assert score.f_score == pytest.approx(0.5)
    assert score.avg == pytest.approx(0.5)


def _wheel_row(l1: tuple[str, str, str, str, str]) -> tuple[str, ...]:
    """A grouping row whose five level-1 groups are ``l1`` (M1, M2 and level 2 set to a fixed "x")."""
    return ("x", "x", *(group for k in range(5) for group in (l1[k], "x")))


def test_mer_fg_is_the_mean_over_wheels_of_level1_f_hand_computed():
    tables = WheelTables(
        {
            "happy": _wheel_row(("pos",) * 5),
            "calm": _wheel_row(("pos", "pos", "peace", "peace", "peace")),
            "angry": _wheel_row(("neg",) * 5),
            "lonely": _wheel_row(("sad", "sad", "sad", "sad", "")),  # not on wheel 5
        }
    )
    truth = {"s1": ["happy", "angry"], "s2": ["lonely"], "s3": ["angry"]}
    pred = {"s1": ["calm"], "s2": ["angry", "lonely", "unknown"], "s3": ["nothing known"]}
    # wheels 1-2: s1 P 1 R 1/2; s2 P 1/2 R 1; s3 P 0 R 0 (prediction maps to nothing) -> P 1/2, R 1/2, F 1/2
    # wheels 3-4: s1 P 0 R 0 (calm is "peace"); s2 P 1/2 R 1; s3 0 0 -> P 1/6, R 1/3, F 2/9
    # wheel 5: s2's truth maps to nothing there (skipped on that wheel only); s1, s3 0 0 -> F 0
    result = score_dataset(truth, pred, tables)
    fg = result.mer_fg
    assert fg.score == pytest.approx((2 * 0.5 + 2 * 2 / 9 + 0) / 5)
    assert fg.precision == pytest.approx((2 * 0.5 + 2 / 6) / 5)
    assert fg.recall == pytest.approx((2 * 0.5 + 2 / 3) / 5)
    assert result.groupings["W5-L1"].n == 2 and result.n_scored == 3
    assert fg == mer_fg(result.groupings) and result.summary()["MER-FG"] == pytest.approx(fg.score)
    assert fg.score == pytest.approx(result.l1_avg)  # same tables: the same number as L1-avg


def test_score_dataset_reports_skips_and_summaries():
    truth = {"s1": ["happy", "angry"], "s2": ["calm"], "s3": ["nothing known"], "s4": ["sad"]}
    pred = {"s1": ["joyful", "mad"], "s2": ["calm", "fear"], "s3": ["happy"]}
    result = score_dataset(truth, pred, TABLES, skipped={"bad line 9": "not valid JSON"})
    assert result.n_scored == 2
    assert result.skipped == {
        "bad line 9": "not valid JSON",
        "s3": "ground truth has no label in the grouping tables",
        "s4": "no prediction",
    }
    # s1: P 1/2 R 1/2; s2: P 1/2 R 1 -> P 0.5, R 0.75 in every grouping
    m1 = result.groupings["M1"]
    assert (m1.precision, m1.recall) == pytest.approx((0.5, 0.75))
    summary = result.summary()
    assert set(summary) == {
        *GROUPINGS,
        "M-avg",
        "L1-avg",
        "MER-FG",
        "MER-FG-precision",
        "MER-FG-recall",
        "precision",
        "recall",
        "avg",
        "n_scored",
        "n_skipped",
    }
    assert summary["M-avg"] == pytest.approx(0.6) and summary["L1-avg"] == pytest.approx(0.6)
    assert summary["avg"] == pytest.approx(0.625) and summary["n_skipped"] == 3


VOCAB = sorted(TABLES.groups)
label_lists = st.lists(st.sampled_from(VOCAB + ["unknown", "other"]), max_size=6)


@settings(max_examples=200, deadline=None)
@given(truth=label_lists, pred=label_lists, seed=st.randoms())
def test_scores_are_bounded_and_ignore_order_and_duplicates(truth, pred, seed):
    scores = set_scores(map_labels(truth, TABLES, "M1"), map_labels(pred, TABLES, "M1"))
    shuffled = list(pred) + list(pred)
    seed.shuffle(shuffled)
    again = set_scores(map_labels(truth, TABLES, "M1"), map_labels(shuffled, TABLES, "M1"))
    assert scores == again
    if scores is not None:
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert 0.0 <= f_score(*scores) <= 1.0


@settings(max_examples=100, deadline=None)
@given(
    samples=st.lists(
        label_lists.filter(lambda ls: any(label in TABLES.groups for label in ls)), min_size=1, max_size=8
    )
)
def test_perfect_prediction_scores_one(samples):
    truth = {f"s{i}": labels for i, labels in enumerate(samples)}
    result = score_dataset(truth, dict(truth), TABLES)
    assert result.n_scored == len(samples)
    assert result.m_avg == pytest.approx(1.0) and result.precision == pytest.approx(1.0)


@settings(max_examples=150, deadline=None)
@given(
    truth=st.dictionaries(st.sampled_from("abcdefgh"), label_lists, max_size=8),
    pred=st.dictionaries(st.sampled_from("abcdefghij"), label_lists, max_size=10),
)
def test_per_sample_results_average_to_the_grouping_scores(truth, pred):
    result = score_dataset(truth, pred, TABLES)
    assert [s.name for s in result.samples] == list(truth)  # one per ground-truth sample, in its order
    scored = [s for s in result.samples if not s.skipped]
    assert len(scored) == result.n_scored
    for sample in result.samples:
        assert sample.skipped == result.skipped.get(sample.name, "")
        assert sample.pred == (tuple(pred[sample.name]) if sample.name in pred else None)
        assert (sample.f_mean is None) == bool(sample.skipped)
        if sample.f_mean is not None:
            assert 0.0 <= sample.f_mean <= 1.0
    for grouping in GROUPINGS:
        pairs = [s.scores[grouping] for s in scored if s.scores[grouping] is not None]
        score = result.groupings[grouping]
        assert score.n == len(pairs)
        if pairs:
            assert score.precision == pytest.approx(sum(p for p, _ in pairs) / len(pairs))
            assert score.recall == pytest.approx(sum(r for _, r in pairs) / len(pairs))


def test_a_sample_keeps_its_scores_per_grouping_and_their_mean_f():
    result = score_dataset(
        {"s1": ["happy", "angry"], "s2": ["xyz"]}, {"s1": ["happiness"], "s2": ["sad"]}, TABLES
    )
    s1, s2 = result.samples
    assert s1.scores == {g: (1.0, 0.5) for g in GROUPINGS} and s1.f_mean == pytest.approx(2 / 3)
    assert s2.skipped == "ground truth has no label in the grouping tables" and s2.scores == {}
    assert s1.to_dict() == {
        "name": "s1",
        "truth": ["happy", "angry"],
        "pred": ["happiness"],
        "f_mean": pytest.approx(2 / 3),
        "skipped": "",
    }
