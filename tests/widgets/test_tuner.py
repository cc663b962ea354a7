"""The policy tuner driven from pytest: move controls, read the outcome."""

from __future__ import annotations

import json

import pytest

from calibrate.policy import Policy, evaluate, population_from_truth
from calibrate.rubric import load_rubric
from calibrate.synth import ReviewerModel
from calibrate.widgets import PolicyTuner

from ..conftest import ROOT


@pytest.fixture(scope="module")
def tuner():
    import matplotlib

    matplotlib.use("Agg")
    rubric = load_rubric(ROOT / "rubrics" / "discussion-hybrid.yaml")
    truth = json.loads((ROOT / "data" / "synthetic" / "district" / "truth.json").read_text())
    return PolicyTuner(
        rubric,
        ReviewerModel.from_truth(truth["reviewers"]),
        population_from_truth(truth),
        n=5000,
        rng=3,
    )


def test_moves_reevaluate_on_the_same_draws(tuner):
    start = dict(tuner.current)
    assert start["reviewers"] == 2 and start["min_total"] == 17
    tuner.min_total.value = 19
    moved = dict(tuner.current)
    assert moved["min_total"] == 19
    # the outcome is exactly the policy's evaluation on the tuner's draws
    expected = evaluate(
        tuner.rubric, Policy.from_rubric(tuner.rubric, min_total=19), tuner.draws
    ).accuracy
    assert moved["accuracy"] == expected
    assert "decision accuracy" in tuner.outcome.value
    tuner.min_total.value = 17
    assert tuner.current["accuracy"] == start["accuracy"]  # same draws: back to the same number


def test_three_reviewers_and_expert(tuner):
    tuner.reviewers.value = 3
    assert tuner.current["third_review_rate"] == 0 or tuner.current["resolution"] == "expert"
    assert tuner.current["reviews_per_submission"] >= 3
    tuner.reviewers.value = 2


def test_an_unusable_policy_says_why(tuner):
    tuner.use_total.value = False
    assert (
        "Not a usable policy" in tuner.outcome.value
        and "needs a compensatory cut" in tuner.outcome.value
    )
    tuner.use_total.value = True
    assert "decision accuracy" in tuner.outcome.value


def test_frontier_is_shown(tuner):
    assert len(tuner.frontier) == 9 and tuner.frontier["pareto"].any()
