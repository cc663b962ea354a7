"""The policy simulator against closed forms, within Monte Carlo error (4 standard errors)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from calibrate.policy import ConfusionReviewerModel, Policy, simulate
from calibrate.rubric import load_rubric, parse_rubric
from calibrate.synth import ReviewerModel

from ..conftest import ROOT

BINARY = parse_rubric("""
id: one-binary
title: One binary criterion
version: "1"
criteria:
  - id: met
    name: Met
    levels: [{score: 0, label: Not yet}, {score: 1, label: Met}]
pass_rule: {min_level: 1}
review_policy:
  reviewers: 2
  third_review: {decision_differs: true}
  resolution: majority
""")
N = 200_000


def binary_errors(p: float, n_reviewers: int = 10) -> ConfusionReviewerModel:
    return ConfusionReviewerModel(np.tile(np.array([[1 - p, p], [p, 1 - p]]), (n_reviewers, 1, 1)))


def within(x: float, expected: float, n: int = N) -> bool:
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
    return abs(x - expected) <= 4 * se + 1e-12


@pytest.mark.parametrize("p", [0.05, 0.1, 0.2], ids=["p=.05", "p=.10", "p=.20"])
@pytest.mark.parametrize("reviewers", [2, 3], ids=["2+third", "3-always"])
def test_majority_of_three_with_independent_errors(p, reviewers):
    population = np.array([[0], [1]])
    policy = Policy.from_rubric(BINARY, reviewers=reviewers)
    out = simulate(BINARY, policy, binary_errors(p), population, n=N, rng=7)
    accuracy = 1 - 3 * p**2 + 2 * p**3
    assert within(out.accuracy, accuracy), (out.accuracy, accuracy)
    assert within(out.consistency, accuracy**2 + (1 - accuracy) ** 2)
    if reviewers == 2:
        assert within(out.third_review_rate, 2 * p * (1 - p))
        assert out.reviews_per_submission == pytest.approx(2 + out.third_review_rate)
    else:
        assert out.third_review_rate == 0 and out.reviews_per_submission == 3
    assert out.mc_se == pytest.approx(math.sqrt(out.accuracy * (1 - out.accuracy) / N))


@pytest.mark.parametrize("resolution", ["majority", "average", "replace_farthest", "expert"])
def test_perfect_reviewers_are_always_right(resolution):
    rubric = load_rubric(ROOT / "rubrics" / "discussion-hybrid.yaml")
    truth = json.loads((ROOT / "data" / "synthetic" / "district" / "truth.json").read_text())
    population = np.array(list(truth["true_levels"].values()))
    out = simulate(
        rubric,
        Policy.from_rubric(rubric, resolution=resolution),
        ReviewerModel.perfect(8),
        population,
        n=20_000,
        rng=1,
    )
    assert (
        out.accuracy == 1
        and out.false_pass_rate == 0
        and out.false_not_yet_rate == 0
        and out.consistency == 1
    )
    # perfect reviewers agree, so only the band around the cut can call a third review
    assert out.third_review_rate == pytest.approx(
        np.mean(np.abs(population.sum(1) - 17) <= 1), abs=0.02
    )


def test_cut_at_the_scale_minimum_passes_everyone():
    rubric = load_rubric(ROOT / "rubrics" / "evidence-4level.yaml")
    policy = Policy.from_rubric(rubric, min_level=None, min_total=rubric.min_total)
    noisy = ReviewerModel(
        ("a", "b", "c"),
        np.array([1.0, -1.0, 0.5]),
        np.ones(3),
        np.zeros(3),
        np.zeros(3),
        np.zeros(3),
        np.full(3, 2**62),
    )
    rng = np.random.default_rng(0)
    population = rng.integers(1, 5, (500, 3))
    out = simulate(rubric, policy, noisy, population, n=5_000, rng=2)
    assert out.accuracy == 1 and out.false_not_yet_rate == 0 and out.third_review_rate == 0


def test_expert_adjudication_and_read_behind_only_help():
    p = 0.15
    base = simulate(
        BINARY, Policy.from_rubric(BINARY), binary_errors(p), np.array([[0], [1]]), n=N, rng=3
    )
    expert = simulate(
        BINARY,
        Policy.from_rubric(BINARY, resolution="expert"),
        binary_errors(p),
        np.array([[0], [1]]),
        n=N,
        rng=3,
    )
    # the expert is right on every disagreement: accuracy = P(both right)
    assert within(expert.accuracy, (1 - p) ** 2 + 2 * p * (1 - p))
    assert expert.accuracy > base.accuracy
    rb = simulate(
        BINARY,
        Policy.from_rubric(BINARY, read_behind=0.5),
        binary_errors(p),
        np.array([[0], [1]]),
        n=N,
        rng=3,
    )
    assert within(rb.accuracy, 0.5 + 0.5 * (1 - 3 * p**2 + 2 * p**3))
    assert rb.reviews_per_submission == pytest.approx(base.reviews_per_submission + 0.5, abs=0.01)


def test_same_seed_same_outcome_and_other_seeds_differ():
    args = (BINARY, Policy.from_rubric(BINARY), binary_errors(0.2), np.array([[0], [1]]))
    assert simulate(*args, n=5000, rng=11) == simulate(*args, n=5000, rng=11)
    assert simulate(*args, n=5000, rng=11).accuracy != simulate(*args, n=5000, rng=12).accuracy


def test_bad_inputs_are_named():
    with pytest.raises(
        ValueError, match=r"policy fields must be among \[.*'reviewers'.*\]; got \['reviewer'\]"
    ):
        Policy.from_rubric(BINARY, reviewer=3)
    with pytest.raises(ValueError, match=r"population must have shape \(N, 1\)"):
        simulate(BINARY, Policy.from_rubric(BINARY), binary_errors(0.1), np.array([0, 1]))
    with pytest.raises(ValueError, match="population scores must be levels of criterion 0"):
        simulate(BINARY, Policy.from_rubric(BINARY), binary_errors(0.1), np.array([[0], [2]]))
    with pytest.raises(
        ValueError, match="the reviewer model has 2 reviewers; the policy needs 3 distinct"
    ):
        simulate(
            BINARY,
            Policy.from_rubric(BINARY, reviewers=3),
            binary_errors(0.1, 2),
            np.array([[0], [1]]),
        )
    with pytest.raises(ValueError, match="can never be reached"):
        Policy.from_rubric(BINARY, min_level=None, min_total=5).apply_to(BINARY)


def test_three_reviewers_with_an_expert_adjudicating_disagreements():
    p = 0.1
    out = simulate(
        BINARY,
        Policy.from_rubric(BINARY, reviewers=3, resolution="expert"),
        binary_errors(p),
        np.array([[0], [1]]),
        n=N,
        rng=5,
    )
    unanimous = (1 - p) ** 3 + p**3
    assert within(
        out.third_review_rate, 1 - unanimous
    )  # the expert is called when the three disagree
    assert within(
        out.accuracy, (1 - p) ** 3 + (1 - unanimous)
    )  # unanimous and right, or adjudicated
    assert out.reviews_per_submission == pytest.approx(3 + out.third_review_rate)
