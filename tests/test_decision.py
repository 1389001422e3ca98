"""The expected-score decision rule (engines/decision.py) and the posterior it reads (engines/posterior.py).

The rule's expected M-avg is checked against the real metric (evaluation/metrics.py) on a virtual data set
whose family frequencies are the posterior, so the two can never drift apart."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.engines.decision import DECISION_FILE, choose_labels, expected_score, load_decision_tables
from omni_emotion.engines.posterior import Evidence, combine, shift
from omni_emotion.evaluation.floor import best_constant
from omni_emotion.evaluation.metrics import score_dataset
from omni_emotion.evaluation.wheels import WheelTables

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TABLES = load_decision_tables()
FAMILIES = TABLES.families
SCORED = [f for f in FAMILIES if f != "neutral"]
# the metric's own tables, restricted to the words the engine can say
WHEELS = WheelTables({w: tuple(g) for w, g in TABLES.groups.items()})

posteriors = st.lists(st.integers(0, 20), min_size=len(FAMILIES), max_size=len(FAMILIES)).filter(
    lambda counts: sum(c for f, c in zip(FAMILIES, counts) if f != "neutral") > 0
)


def virtual_truth(counts: list[int]) -> dict[str, list[str]]:
    """A data set with ``counts[i]`` clips labelled with family i's word."""
    return {f"{f}{k}": [TABLES.truth_words[f]] for f, n in zip(FAMILIES, counts) for k in range(n)}


@settings(max_examples=60, deadline=None)
@given(posteriors, st.lists(st.sampled_from(sorted(TABLES.groups)), min_size=1, max_size=4))
def test_expected_score_is_the_metric_on_a_data_set_shaped_like_the_posterior(counts, labels):
    truth = virtual_truth(counts)
    result = score_dataset(truth, {name: labels for name in truth}, WHEELS)
    posterior = dict(zip(FAMILIES, counts))
    expected = expected_score(labels, posterior, TABLES)
    # the metric averages F over all 12 groupings (0 where nothing was scored); the rule over those scored
    scored = [g for g, s in result.groupings.items() if s.n]
    assert expected == pytest.approx(sum(result.groupings[g].f_score for g in scored) / len(scored), abs=1e-9)


def test_an_uninformative_posterior_gives_the_priors_best_constant_answer():
    """Evidence that favours nothing leaves the prior, and the prior's answer is its floor: the best constant
    answer on a data set with the prior's label frequencies (found by the floor's own search)."""
    flat = Evidence("voice", {f: 1.0 for f in FAMILIES}, 1.0)
    posterior = combine(TABLES.prior, [flat])
    assert posterior == pytest.approx(dict(TABLES.prior))
    labels, _ = choose_labels(posterior, TABLES)
    counts = [round(10_000 * TABLES.prior[f]) for f in FAMILIES]
    floor = best_constant(virtual_truth(counts), WHEELS, top_k=len(FAMILIES))
    assert labels == list(floor.labels)
    assert len(labels) >= 2  # the prior is uncertain, so it hedges


def test_a_peaked_posterior_narrows_the_answer_to_its_family():
    sizes = []
    for strength in (0.0, 0.5, 0.8, 0.95, 1.0):
        posterior = {f: (1 - strength) * TABLES.prior[f] + strength * (f == "sadness") for f in FAMILIES}
        labels, _ = choose_labels(posterior, TABLES)
        sizes.append(len(labels))
        assert "sad" in labels or strength == 0.0
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1


def test_a_posterior_split_between_two_families_names_both():
    labels, score = choose_labels({"anger": 0.5, "joy": 0.5}, TABLES)
    assert sorted(labels) == ["angry", "happy"] and score == pytest.approx(2 / 3)


@settings(max_examples=80, deadline=None)
@given(posteriors, st.integers(1, 6))
def test_the_chosen_set_beats_every_single_word_and_never_exceeds_its_limits(counts, max_labels):
    posterior = dict(zip(FAMILIES, counts))
    labels, score = choose_labels(posterior, TABLES, max_labels=max_labels)
    assert 1 <= len(labels) <= max_labels and len(set(labels)) == len(labels)
    assert set(labels) <= set(TABLES.truth_words.values())
    assert score == pytest.approx(expected_score(labels, posterior, TABLES))
    for word in TABLES.truth_words.values():
        assert score >= expected_score([word], posterior, TABLES) - 1e-12


@given(st.sampled_from(SCORED))
def test_certainty_gives_the_familys_word_alone(family):
    labels, score = choose_labels({family: 1.0}, TABLES)
    assert labels == [TABLES.truth_words[family]] and score == pytest.approx(1.0)


def test_only_unscored_mass_gives_no_labels():
    assert choose_labels({"neutral": 1.0}, TABLES) == ([], 0.0)
    assert choose_labels({}, TABLES) == ([], 0.0)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FAMILIES), st.floats(1.0, 50.0), st.floats(0.0, 1.0))
def test_evidence_for_a_family_never_lowers_its_posterior(family, ratio, weight):
    before = combine(TABLES.prior, [])
    after = combine(TABLES.prior, [Evidence("face", {family: ratio}, weight)])
    assert after[family] >= before[family] - 1e-12
    assert sum(after.values()) == pytest.approx(1.0)
    moved = shift(TABLES.prior, after, Evidence("face", {family: ratio}, weight))
    assert moved[family] >= 0.0


def test_a_zero_weight_or_a_ratio_of_one_changes_nothing():
    assert combine(TABLES.prior, [Evidence("voice", {"anger": 30.0}, 0.0)]) == pytest.approx(
        dict(TABLES.prior)
    )
    assert combine(TABLES.prior, [Evidence("voice", {}, 1.0)]) == pytest.approx(dict(TABLES.prior))


def test_the_prior_comes_from_mer2023_train_and_names_every_family():
    assert set(TABLES.prior) == set(TABLES.truth_words)
    assert sum(TABLES.prior.values()) == pytest.approx(1.0, abs=1e-5)
    assert "mer2023" in json.dumps(TABLES.source).lower() or "train.csv" in TABLES.source["prior"]
    # the rarest of MER2023's six classes (surprise) sets the share of the families it has no class for
    assert TABLES.prior["boredom"] == TABLES.prior["surprise"] < TABLES.prior["sadness"]


@pytest.mark.skipif(
    not (SHARED_DATA / "emotion_wheel").is_dir(), reason="needs ../shared/data (the wheels, MER2023)"
)
def test_fit_decision_reproduces_the_committed_file_exactly(tmp_path):
    out = tmp_path / "decision.json"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fit_decision.py"), "--out", str(out)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    assert out.read_bytes() == DECISION_FILE.read_bytes()


def test_exact_fractions_agree_with_floats():
    """A hand-checked case: 2/3 anger, 1/3 joy; answering 'angry' alone gives P = R = 2/3 under every
    grouping where the two words differ, and 1 where they share a group (never on these words)."""
    posterior = {"anger": Fraction(2, 3), "joy": Fraction(1, 3)}
    score = expected_score(["angry"], {k: float(v) for k, v in posterior.items()}, TABLES)
    shared = sum(a == b and a != "" for a, b in zip(TABLES.groups["angry"], TABLES.groups["happy"]))
    assert shared == 0 and score == pytest.approx(2 / 3)
