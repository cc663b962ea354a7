"""Bad options and bad input raise ValueError/TypeError naming the parameter, what is allowed and what was given."""

from __future__ import annotations

import re

import numpy as np
import pytest

from calibrate.reliability import (
    CodedRatings,
    alpha_from_counts,
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_table,
    conger_kappa,
    distance_matrix,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    krippendorff_alpha,
    percent_agreement,
)

X = np.array([[1, 1], [2, 3], [3, 3], [4, 4], [2, 2]], dtype=float)
ALL = [
    krippendorff_alpha,
    fleiss_kappa,
    conger_kappa,
    gwet_ac1,
    gwet_ac2,
    brennan_prediger,
    percent_agreement,
    cohen_kappa,
]
WEIGHTED = [fleiss_kappa, conger_kappa, gwet_ac2, brennan_prediger, cohen_kappa]
WEIGHT_NAMES = (
    "'identity', 'linear', 'quadratic', 'ordinal', 'radical', 'ratio', 'circular', 'bipolar'"
)


def _name(f: object) -> str:
    return getattr(f, "__name__", str(f))


@pytest.mark.parametrize("f", WEIGHTED, ids=_name)
def test_unknown_weights_name(f) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"weights must be one of {WEIGHT_NAMES}; got 'cubic'")
    ):
        f(X, weights="cubic")


@pytest.mark.parametrize("f", WEIGHTED, ids=_name)
def test_weights_matrix_of_the_wrong_shape(f) -> None:
    with pytest.raises(
        ValueError,
        match=r"weights as a matrix must be 4 x 4 .*category \[1\.0, 2\.0, 3\.0, 4\.0\].*got shape \(3, 3\)",
    ):
        f(X, weights=np.eye(3))


@pytest.mark.parametrize("f", WEIGHTED, ids=_name)
def test_weights_matrix_needs_ones_on_the_diagonal_and_values_in_0_1(f) -> None:
    with pytest.raises(
        ValueError,
        match=r"weights as a matrix must have ones on the diagonal.*got diagonal \[0\.5, 1\.0, 1\.0, 1\.0\]",
    ):
        f(X, weights=np.diag([0.5, 1, 1, 1]))
    with pytest.raises(
        ValueError, match=r"weights as a matrix must hold agreement weights between 0 and 1"
    ):
        f(X, weights=np.eye(4) * 2)


def test_unknown_alpha_level() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got 'ordnial'"
        ),
    ):
        krippendorff_alpha(X, level="ordnial")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got 'metric'"
        ),
    ):
        alpha_from_counts(np.array([[2, 0], [0, 2]]), level="metric")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got 'ordnial'"
        ),
    ):
        distance_matrix("ordnial", [1, 2])


def test_unknown_percent_agreement_level() -> None:
    with pytest.raises(
        ValueError, match=re.escape("level must be one of 'exact', 'within_one'; got 'adjacent'")
    ):
        percent_agreement(X, level="adjacent")


@pytest.mark.parametrize("f", ALL, ids=_name)
@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, float("nan")])
def test_confidence_level_out_of_range(f, bad: float) -> None:
    with pytest.raises(
        ValueError,
        match=rf"confidence_level must be between 0 and 1 \(exclusive\); got {re.escape(repr(bad))}",
    ):
        f(X, confidence_level=bad)


@pytest.mark.parametrize("f", ALL, ids=_name)
def test_confidence_level_not_a_number(f) -> None:
    with pytest.raises(
        TypeError,
        match=r"confidence_level must be a number between 0 and 1 \(exclusive\); got '95%'",
    ):
        f(X, confidence_level="95%")


@pytest.mark.parametrize("f", ALL, ids=_name)
def test_score_outside_categories(f) -> None:
    with pytest.raises(
        ValueError,
        match=re.escape("every score must be one of categories [1.0, 2.0, 3.0]; got [4.0]"),
    ):
        f(X, categories=[1, 2, 3])


@pytest.mark.parametrize("bad", [[3, 2, 1], [1, 1, 2]])
def test_categories_must_increase(bad: list[int]) -> None:
    with pytest.raises(ValueError, match=r"categories must be unique and increasing; got \["):
        fleiss_kappa(X, categories=bad)


def test_data_must_be_a_2d_numeric_array() -> None:
    with pytest.raises(
        ValueError, match=r"data must be a 2-D units x raters array; got an array of shape \(5,\)"
    ):
        fleiss_kappa(np.arange(5.0))
    with pytest.raises(TypeError, match="data must hold numeric scores"):
        fleiss_kappa([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="data must hold finite scores"):
        fleiss_kappa([[1.0, np.inf], [1.0, 2.0]])


def test_distance_must_be_a_valid_matrix_or_callable() -> None:
    with pytest.raises(
        ValueError,
        match=r"distance must give a 4 x 4 matrix for categories \[1\.0, 2\.0, 3\.0, 4\.0\]; got shape \(2, 2\)",
    ):
        krippendorff_alpha(X, distance=np.ones((2, 2)) - np.eye(2))
    with pytest.raises(
        ValueError,
        match=r"distance of a value to itself must be 0; got diagonal \[1\.0, 1\.0, 1\.0, 1\.0\]",
    ):
        krippendorff_alpha(X, distance=np.ones((4, 4)))
    with pytest.raises(ValueError, match="distance must be finite and non-negative"):
        krippendorff_alpha(X, distance=-(np.ones((4, 4)) - np.eye(4)))
    with pytest.raises(
        ValueError,
        match=r"distance must be None, a callable distance\(a, b\) or a q x q matrix; got 'interval'",
    ):
        krippendorff_alpha(X, distance="interval")
    with pytest.raises(
        ValueError, match=r"distance callable failed when called as distance\(a, b\)"
    ):
        krippendorff_alpha(X, distance=lambda a: a)


def test_cohen_needs_exactly_two_raters() -> None:
    three = np.column_stack([X, X[:, 0]])
    with pytest.raises(
        ValueError,
        match=r"cohen_kappa compares two raters; data has 3\..*cohen_kappa_table\(table\.pair_table\(a, b\)\)",
    ):
        cohen_kappa(three)


@pytest.mark.parametrize("f", [cohen_kappa, conger_kappa], ids=_name)
def test_rater_coefficients_refuse_anonymous_counts(f) -> None:
    counts = CodedRatings.from_counts(np.array([[2, 0], [1, 1], [0, 2]]))
    with pytest.raises(
        ValueError,
        match=rf"{f.__name__} needs to know which rater gave each rating; these ratings were built from anonymous counts",
    ):
        f(counts)


def test_contingency_table_must_be_square_counts() -> None:
    with pytest.raises(
        ValueError, match=r"table must be a square q x q table of counts; got shape \(2, 3\)"
    ):
        cohen_kappa_table(np.ones((2, 3)))
    with pytest.raises(ValueError, match="table must hold non-negative finite counts"):
        cohen_kappa_table(-np.ones((2, 2)))
    with pytest.raises(
        ValueError, match=r"categories must give one score per row of table \(2\); got 3"
    ):
        cohen_kappa_table(np.ones((2, 2)), categories=[1, 2, 3])


def test_codes_are_checked() -> None:
    with pytest.raises(
        ValueError,
        match=r"unit, rater and value must have the same length; got lengths \{'unit': 2, 'value': 3, 'rater': 2\}",
    ):
        CodedRatings.from_codes([0, 1], [0, 0], [0, 1, 1], categories=[1, 2])
    with pytest.raises(ValueError, match=r"unit codes must be non-negative; got -1"):
        CodedRatings.from_codes([-1, 1], [0, 0], [0, 1], categories=[1, 2])
    with pytest.raises(
        ValueError, match=r"value codes must index categories \(0\.\.1\); got a code 2"
    ):
        CodedRatings.from_codes([0, 1], [0, 0], [0, 2], categories=[1, 2])
    with pytest.raises(TypeError, match="rater must hold integer codes; got dtype float64"):
        CodedRatings.from_codes([0, 1], [0.0, 1.0], [0, 1], categories=[1, 2])
    with pytest.raises(
        ValueError,
        match=r"each \(unit, rater\) cell may hold one rating; 1 cells hold more than one",
    ):
        CodedRatings.from_codes([0, 0, 1], [0, 0, 1], [0, 1, 1], categories=[1, 2])
    with pytest.raises(ValueError, match=r"n_units must exceed the largest code \(1\); got 1"):
        CodedRatings.from_codes([0, 1], [0, 0], [0, 1], categories=[1, 2], n_units=1)


def test_counts_are_checked() -> None:
    with pytest.raises(ValueError, match="counts must hold non-negative whole numbers"):
        CodedRatings.from_counts(np.array([[1.5, 0.5]]))
    with pytest.raises(
        ValueError, match=r"categories must give one score per column of counts \(2\); got 3"
    ):
        CodedRatings.from_counts(np.array([[1, 1]]), categories=[1, 2, 3])


def test_ratio_weights_need_non_negative_scores() -> None:
    with pytest.raises(
        ValueError,
        match=r"ratio weights need non-negative scores; got categories \[-1\.0, 0\.0, 1\.0\]",
    ):
        gwet_ac2(np.array([[-1, 0], [1, 1]]), weights="ratio")
