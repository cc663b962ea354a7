"""Tuning: the cut on anchors (ROC) and how sensitive the chosen policy is to the model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from calibrate.io import read_program
from calibrate.policy import (
    ConfusionReviewerModel,
    choice_sensitivity,
    policy_grid,
    population_from_truth,
    tune_cut,
)
from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.rubric import parse_rubric, rubric_to_yaml
from calibrate.synth import ReviewerModel

from ..conftest import ROOT


def test_cut_tuned_on_perfect_reviewers_separates_the_key(evidence_rubric):
    compensatory = parse_rubric(
        rubric_to_yaml(evidence_rubric)
        .replace("min_level: 3", "min_level: null")
        .replace("min_total: null", "min_total: 9")
    )
    key = read_program(ROOT / "data" / "synthetic" / "pilot").key
    key = type(key)(key.frame, compensatory)
    wide = key.wide()
    rows = [
        (a, r, c, int(wide.loc[a, c]))
        for a in wide.index
        for r in ("R1", "R2")
        for c in compensatory.criterion_ids
    ]
    sub, rev, crit, score = zip(*rows, strict=True)
    table = RatingsTable(
        canonical_frame(sub, rev, crit, score, compensatory, kind=["anchor"] * len(rows)),
        compensatory,
    )
    cuts, why = tune_cut(table, key)
    totals = wide.sum(axis=1)
    passing = totals >= 9
    best = cuts.loc[cuts["youden_j"].idxmax()]
    assert best["youden_j"] == 1 and "AUC 1.000" in why
    assert totals[~passing].max() < best["cut"] <= totals[passing].min()


def test_cut_needs_anchors_on_both_sides(evidence_rubric):
    p = read_program(ROOT / "data" / "synthetic" / "pilot")
    frame = p.key.frame.assign(key_score=4)
    with pytest.raises(ValueError, match="all on one side of the pass line"):
        tune_cut(p.ratings, type(p.key)(frame, p.rubric))


def test_choice_sensitivity_reports_every_scenario():
    p = read_program(ROOT / "data" / "synthetic" / "district")
    truth = json.loads((ROOT / "data" / "synthetic" / "district" / "truth.json").read_text())
    grid = policy_grid(p.rubric, {"reviewers": [2, 3], "resolution": ["majority", "average"]})
    out = choice_sensitivity(
        p.rubric,
        grid,
        ReviewerModel.from_truth(truth["reviewers"]),
        population_from_truth(truth),
        n=2000,
        max_false_pass=0.05,
    )
    assert (
        len(out) == 6
        and out.iloc[0]["scenario"] == "as estimated"
        and bool(out.iloc[0]["same_as_baseline"])
    )
    assert isinstance(out, pd.DataFrame) and out["baseline_accuracy"].between(0, 1).all()
    # a more lenient group passes more undeserving submissions under the same policy
    lenient = out.set_index("scenario").loc[
        "group 0.25 level more lenient", "baseline_false_pass_rate"
    ]
    harsher = out.set_index("scenario").loc["group 0.25 level harsher", "baseline_false_pass_rate"]
    assert lenient > harsher
    with pytest.raises(
        TypeError,
        match="reviewers must be a calibrate.synth.ReviewerModel to perturb; got ConfusionReviewerModel",
    ):
        choice_sensitivity(
            p.rubric,
            grid,
            ConfusionReviewerModel(np.tile(np.eye(4), (3, 1, 1))),
            population_from_truth(truth),
            n=100,
        )


def test_tuning_helpers_return_named_results():
    """best_policy and tune_cut return result objects with named fields, which still
    unpack in the old order."""
    from calibrate.policy import CutChoice, PolicyChoice, best_policy

    table = pd.DataFrame(
        {
            "policy": [0, 1],
            "reviewers": [2, 3],
            "resolution": ["average", "majority"],
            "accuracy": [0.90, 0.95],
            "mc_se": [0.001, 0.001],
            "false_pass_rate": [0.05, 0.01],
            "false_not_yet_rate": [0.05, 0.04],
            "third_review_rate": [0.1, 0.0],
            "reviews_per_submission": [2.1, 3.0],
        }
    )
    choice = best_policy(table, max_false_pass=0.02)
    assert isinstance(choice, PolicyChoice) and choice.found
    assert int(choice.policy["policy"]) == 1 and choice.why.startswith("policy 1 ")
    pick, why = choice
    assert pick is choice.policy and why == choice.why
    none = best_policy(table, max_false_pass=0.001)
    assert not none.found and none.policy is None and "no policy" in none.why
    p = read_program(ROOT / "data" / "synthetic" / "pilot")
    cut = tune_cut(p.ratings, p.key)
    assert isinstance(cut, CutChoice) and "AUC" in cut.why and len(cut.table)
