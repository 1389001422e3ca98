"""The group reward is the EW metric of `omni-emotion eval`: same numbers on the same labels, per grouping."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eval_wheels import write_tables

from omni_emotion.cli import main
from omni_emotion.evaluation import (
    GROUPINGS,
    REWARD_GROUPINGS,
    WheelTables,
    group_scores,
    load_wheels,
    score_dataset,
)
from omni_emotion.training.rl_config import REWARD_GROUPINGS as CONFIG_GROUPINGS

WORDS = ["happy", "glad", "joyful", "angry", "mad", "sad", "calm", "fear", "bored", "tense"]
GROUPS = ["a", "b", "c", "d", ""]  # "" = no group under that grouping


@st.composite
def tables(draw) -> WheelTables:
    """Random tables: every word gets its own group (or none) under each of the 12 groupings."""
    rows = {
        w: tuple(draw(st.sampled_from(GROUPS)) for _ in GROUPINGS)
        for w in draw(st.sets(st.sampled_from(WORDS), min_size=1))
    }
    return WheelTables(rows)


labels = st.lists(st.sampled_from(WORDS + ["unknown"]), max_size=5)


def _eval(truth, pred, t: WheelTables, grouping: str) -> float:
    summary = score_dataset({"x": truth}, {"x": pred}, t).summary()
    return summary[grouping]


@settings(max_examples=300, deadline=None)
@given(
    t=tables(),
    truth=labels,
    candidates=st.lists(labels, min_size=1, max_size=8),
    grouping=st.sampled_from(REWARD_GROUPINGS),
)
def test_group_scores_equal_score_dataset_on_each_answer(t, truth, candidates, grouping):
    got = group_scores(truth, candidates, t, grouping)
    want = [_eval(truth, c, t, grouping) for c in candidates]
    assert got.shape == (len(candidates),)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert ((got >= 0) & (got <= 1)).all()


@settings(max_examples=100, deadline=None)
@given(t=tables(), truth=labels, candidate=labels, seed=st.randoms())
def test_group_scores_ignore_order_duplicates_and_group_company(t, truth, candidate, seed):
    shuffled = candidate * 2
    seed.shuffle(shuffled)
    alone = group_scores(truth, [candidate], t)[0]
    # a candidate's score does not depend on the other answers of its group
    together = group_scores(truth, [["sad"], shuffled, [], candidate], t)
    assert together[1] == pytest.approx(alone) and together[3] == pytest.approx(alone)


def test_truth_is_a_perfect_answer_and_unknown_groupings_are_refused():
    t = WheelTables({"happy": ("h",) * 12, "sad": ("s",) * 12})
    assert group_scores(["happy"], [["happy"], ["sad"], ["happy", "sad"], []], t).tolist() == [
        1.0,
        0.0,
        pytest.approx(2 / 3),
        0.0,
    ]
    assert group_scores(["nothing"], [["happy"]], t).tolist() == [
        0.0
    ]  # truth maps nowhere: eval skips it, scores 0
    assert set(CONFIG_GROUPINGS) == set(REWARD_GROUPINGS)
    with pytest.raises(ValueError, match="M-avg, L1-avg"):
        group_scores(["happy"], [["happy"]], t, "W9-L1")


PAIRS = [
    (["happy", "angry"], ["joyful", "mad", "bored"]),
    (["calm"], ["content"]),
    (["let down", "angry"], ["furious"]),
    (["glad"], ["boredom", "happiness"]),
    (["angry"], []),
]


def test_reward_equals_the_eval_command_on_published_format_tables(tmp_path, capsys):
    """The authors' seven-file layout, read by load_wheels, scored by `omni-emotion eval --json`."""
    wheels = write_tables(tmp_path / "wheels")
    t = load_wheels(wheels, cache_dir=tmp_path / "cache")
    for i, (truth, pred) in enumerate(PAIRS):
        for name, rows in (("gt", truth), ("pred", pred)):
            with open(tmp_path / f"{name}{i}.csv", "w", newline="") as f:
                csv.writer(f).writerows([["name", "openset"], ["clip", str(rows)]])
        capsys.readouterr()
        code = main(
            [
                "eval",
                "--gt",
                str(tmp_path / f"gt{i}.csv"),
                "--pred",
                str(tmp_path / f"pred{i}.csv"),
                "--wheels",
                str(wheels),
                "--json",
            ]
        )
        assert code == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        for grouping in ("M-avg", "L1-avg", "M1", "W2-L2"):
            assert group_scores(truth, [pred], t, grouping)[0] == pytest.approx(
                summary[grouping], abs=1e-12
            ), (i, grouping)
