"""Livingston-Lewis and Rudner accuracy and consistency of a ratings table's pass decision:
what :func:`reliability_table` reports as the ``livingston_lewis`` and ``rudner`` rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from calibrate.reliability._classification import (
    ClassificationResult,
    _undefined,
    livingston_lewis,
    rudner,
)
from calibrate.reliability._decisions import DECISION, _check_rubric, _review_scores
from calibrate.reliability._icc import icc

if TYPE_CHECKING:
    from calibrate.ratings import RatingsTable
    from calibrate.rubric import Rubric

__all__ = ["CLASSIFICATION_COLUMNS", "classification_rows", "review_totals"]

#: Columns the classification rows add to :func:`reliability_table`'s frame.
CLASSIFICATION_COLUMNS: tuple[str, ...] = (
    "accuracy",
    "consistency",
    "kappa",
    "false_pass",
    "false_fail",
    "pass_rate",
    "cut",
    "reliability_used",
    "effective_length",
    "true_model",
)


def review_totals(
    ratings: RatingsTable, rubric: Rubric | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every complete review's total score, with its unit and reviewer codes.

    A unit is a submission in a round (``ratings.codes.unit``); reviews with a criterion
    unscored are left out. Returns ``(unit, reviewer, total)``.
    """
    rubric = _check_rubric(ratings, rubric)
    scores, first = _review_scores(ratings, rubric)
    complete = ~np.isnan(scores).any(axis=1)
    rows = first[complete]
    codes = ratings.codes
    return codes.unit[rows], codes.reviewer[rows], scores[complete].sum(axis=1)


def _total_reliability(unit: np.ndarray, reviewer: np.ndarray, total: np.ndarray) -> float:
    """ICC(2,1) of the review totals: the reliability of one reviewer's total (absolute
    agreement, so reviewer severity counts as error), from the kit's :func:`icc`."""
    _, u = np.unique(unit, return_inverse=True)
    _, r = np.unique(reviewer, return_inverse=True)
    matrix = np.full((u.max(initial=-1) + 1, r.max(initial=-1) + 1), np.nan)
    matrix[u, r] = total
    return float(icc(matrix, form="ICC(2,1)").estimate)


def _ll(ratings: RatingsTable, rubric: Rubric) -> ClassificationResult:
    cut = rubric.pass_rule.min_total
    lo, hi = float(rubric.min_total), float(rubric.max_total)
    if cut is None:
        return _undefined(
            "livingston_lewis",
            math.nan,
            0,
            f"needs a total-score cut (pass_rule.min_total); the rule is {rubric.pass_rule.kind}",
        )
    unit, reviewer, total = review_totals(ratings, rubric)
    if len(total) < 2 or np.ptp(total) == 0:
        return _undefined(
            "livingston_lewis", cut, len(total), "needs two review totals that differ"
        )
    rho = _total_reliability(unit, reviewer, total)
    if not 0 < rho < 1:
        return _undefined(
            "livingston_lewis",
            cut,
            len(total),
            f"the reliability of the review totals (ICC(2,1)) is {rho:.4g}; it must be in (0, 1)",
            reliability=rho,
        )
    return livingston_lewis(total, cut=cut, min_score=lo, max_score=hi, reliability=rho)


def _rudner(ratings: RatingsTable, rubric: Rubric) -> ClassificationResult:
    from calibrate.severity import ManyFacetRasch

    cut = rubric.pass_rule.min_total
    if cut is None:
        return _undefined(
            "rudner",
            math.nan,
            0,
            "needs a total-score cut (pass_rule.min_total) to place on the logit scale; the "
            f"rule is {rubric.pass_rule.kind}",
        )
    model = ManyFacetRasch().fit(ratings)
    s = model.submissions_
    used = [c for c in model.criterion_ids_ if c in rubric.criterion_ids]
    if len(used) != len(rubric.criteria):
        return _undefined(
            "rudner", math.nan, len(s), "some of the rubric's criteria have no ratings"
        )

    def gap(theta: float) -> float:
        return float(model.expected_scores(theta).sum()) - cut

    lo, hi = -40.0, 40.0
    if not gap(lo) < 0 < gap(hi):
        return _undefined(
            "rudner", math.nan, len(s), f"the total cut {cut:g} is not inside the scores' range"
        )
    from scipy import optimize  # not at import: calibrate reliability starts fast

    theta_cut = float(optimize.brentq(gap, lo, hi, xtol=1e-12))
    return rudner(s["ability"].to_numpy(), s["se"].to_numpy(), cut=theta_cut)


def classification_rows(
    ratings: RatingsTable,
    rubric: Rubric | None,
    methods: set[str],
    keys: dict[str, Any],
    confidence_level: float,
) -> list[dict[str, Any]]:
    """One row per method asked for, shaped as :func:`reliability_table`'s decision rows."""
    rub = _check_rubric(ratings, rubric)
    out = []
    for name, fn, caveat in (
        ("livingston_lewis", _ll, "one review's total against the total cut; reliability: "
         "ICC(2,1) of the review totals; beta true scores, binomial error"),
        ("rudner", _rudner, "the many-facet Rasch measure of each submission (all its "
         "ratings, JML) and its SE against the cut's logit (expected total at average "
         "severity = the total cut); normal error"),
    ):  # fmt: skip
        if name not in methods:
            continue
        r = fn(ratings, rub)
        notes = [caveat]
        if rub.pass_rule.kind == "hybrid" and math.isfinite(r.cut):
            notes.append("the rule's level minimums are not modelled, only its total cut")
        if r.note:
            notes.append(r.note)
        p = r.parameters
        out.append(
            {
                "coefficient": name,
                "level": "nominal",
                **keys,
                "criterion_id": DECISION,
                "estimate": r.consistency,
                "se": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "ci_method": "none",
                "confidence_level": confidence_level,
                "n_units": r.n_units,
                "n_pairable": 0,
                "band": None,
                "band_source": None,
                "note": "; ".join(notes),
                "weights": None,
                "form": None,
                "form_mcgraw_wong": None,
                "F": None,
                "df1": None,
                "df2": None,
                "p": None,
                "p_value": math.nan,
                "accuracy": r.accuracy,
                "consistency": r.consistency,
                "kappa": r.kappa,
                "false_pass": r.false_pass,
                "false_fail": r.false_fail,
                "pass_rate": r.pass_rate,
                "cut": r.cut,
                "reliability_used": r.reliability,
                "effective_length": r.effective_length,
                "true_model": p.get("true_model"),
            }
        )
    return out
