"""Input shapes (RatingsTable, DataFrame, counts, codes) and data that leave a coefficient undefined."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.reliability import (
    CodedRatings,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    krippendorff_alpha,
    percent_agreement,
)
from calibrate.reliability._data import compress_counts

MULTI = [
    krippendorff_alpha,
    fleiss_kappa,
    conger_kappa,
    gwet_ac1,
    gwet_ac2,
    brennan_prediger,
    percent_agreement,
]


def _table(rubric, rows: list[tuple[str, str, str, int]]) -> RatingsTable:
    sub, rev, crit, score = zip(*rows, strict=True)
    return RatingsTable(canonical_frame(sub, rev, crit, score, rubric), rubric)


ROWS = [
    ("s1", "ana", "overview", 3), ("s1", "ben", "overview", 3),
    ("s2", "ana", "overview", 2), ("s2", "cy", "overview", 3), ("s2", "ben", "overview", 2),
    ("s3", "ben", "overview", 1), ("s3", "cy", "overview", 1),
    ("s4", "ana", "overview", 3), ("s4", "cy", "overview", 2),
    ("s5", "cy", "overview", 3),
    ("s6", "ana", "overview", 1), ("s6", "ben", "overview", 2),
]  # fmt: skip


def test_ratings_table_adapter_equals_the_matrix_path(evidence_rubric) -> None:
    table = _table(evidence_rubric, ROWS)
    coded = CodedRatings.from_ratings_table(table)
    # the rubric's levels are the categories, the unused 4 included
    assert coded.categories.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert (coded.n_units, coded.n_raters, coded.n_ratings) == (6, 3, 12)
    wide = table.to_matrix().T  # submissions x reviewers
    for f in MULTI:
        a, b = f(table), f(wide.to_numpy(), categories=[1, 2, 3, 4])
        assert a.estimate == pytest.approx(b.estimate, abs=1e-12), f.__name__
        assert a.se == pytest.approx(b.se, abs=1e-12, nan_ok=True), f.__name__


def test_ratings_table_with_several_criteria_needs_one(evidence_rubric) -> None:
    rows = [*ROWS, ("s1", "ana", "reflection", 2), ("s1", "ben", "reflection", 2)]
    table = _table(evidence_rubric, rows)
    with pytest.raises(
        ValueError, match=r"the table has 2 criteria; name one with criterion=\.\.\."
    ):
        krippendorff_alpha(table)
    one = CodedRatings.from_ratings_table(table, criterion="overview")
    assert krippendorff_alpha(one).estimate == pytest.approx(
        krippendorff_alpha(_table(evidence_rubric, ROWS)).estimate
    )
    assert krippendorff_alpha(table.select(criterion="overview")).estimate == pytest.approx(
        krippendorff_alpha(one).estimate
    )
    with pytest.raises(
        ValueError,
        match=r"criterion must be one of \['overview', 'artifacts', 'reflection'\]; got 'overveiw'",
    ):
        CodedRatings.from_ratings_table(table, criterion="overveiw")


def test_ratings_table_with_a_cell_scored_twice(evidence_rubric) -> None:
    table = _table(evidence_rubric, [*ROWS, ("s1", "ana", "overview", 4)])
    with pytest.raises(
        ValueError,
        match=r"1 \(reviewer, submission\) cells have more than one score .*table\.select\(round_id=\.\.\.\)",
    ):
        fleiss_kappa(table)


def test_dataframe_keeps_labels_and_drops_unrated_units() -> None:
    frame = pd.DataFrame(
        {"ana": [1, np.nan, 3, 2], "ben": [1, np.nan, 3, 3]}, index=["s1", "s2", "s3", "s4"]
    )
    coded = CodedRatings.from_array(frame)
    assert coded.unit_labels.tolist() == ["s1", "s3", "s4"]
    assert coded.rater_labels.tolist() == ["ana", "ben"]
    assert cohen_kappa(frame).n_units == 3


def test_counts_give_the_same_count_based_coefficients() -> None:
    x = np.array([[1, 1, 2], [2, 2, 2], [3, 3, 3], [4, 3, 4], [1, 1, np.nan], [2, np.nan, np.nan]])
    counts = np.stack([(x == c).sum(axis=1) for c in (1, 2, 3, 4)], axis=1)
    from_counts = CodedRatings.from_counts(counts, categories=[1, 2, 3, 4])
    for f in (
        krippendorff_alpha,
        fleiss_kappa,
        gwet_ac1,
        gwet_ac2,
        brennan_prediger,
        percent_agreement,
    ):
        assert f(from_counts).estimate == pytest.approx(f(x).estimate, abs=1e-12), f.__name__
        assert f(from_counts).se == pytest.approx(f(x).se, abs=1e-12), f.__name__


@pytest.mark.parametrize("q", [4, 30])  # small keys use bincount, large ones np.unique
def test_compress_counts_keeps_every_unit(q: int) -> None:
    rng = np.random.default_rng(q)
    counts = rng.integers(0, 3, size=(500, q))
    counts[::7] = 0  # unrated units are dropped
    rows, mult = compress_counts(counts)
    assert len(np.unique(rows, axis=0)) == len(rows)
    expanded = np.repeat(rows, mult.astype(int), axis=0)
    kept = counts[counts.sum(axis=1) > 0]
    assert sorted(map(tuple, expanded.astype(int))) == sorted(map(tuple, kept))


def test_results_are_frames_and_html() -> None:
    res = krippendorff_alpha(np.array([[1, 1], [2, 2], [3, 2]]))
    frame = res.to_frame()
    assert (
        frame.loc[0, "coefficient"] == "krippendorff_alpha" and frame.loc[0, "level"] == "ordinal"
    )
    assert "krippendorff_alpha" in res._repr_html_()


# ---- undefined coefficients say why ------------------------------------------------------
def _undefined(res, *words: str) -> None:
    assert math.isnan(res.estimate), res
    assert res.note and all(w in res.note for w in words), res.note
    assert not res.defined


@pytest.mark.parametrize("f", MULTI[:-1], ids=lambda f: f.__name__)
def test_nothing_pairable(f) -> None:
    x = np.array([[1, np.nan], [np.nan, 2], [3, np.nan]])
    _undefined(f(x, categories=[1, 2, 3]), "no unit has two or more ratings")


def test_percent_agreement_with_nothing_pairable() -> None:
    _undefined(
        percent_agreement(np.array([[1, np.nan], [np.nan, 2]])), "no unit has two or more ratings"
    )


def test_no_variation() -> None:
    x = np.full((5, 3), 3.0)
    _undefined(krippendorff_alpha(x), "no variation", "alpha is undefined")
    _undefined(fleiss_kappa(x, categories=[1, 2, 3, 4]), "chance agreement is 1", "no variation")
    _undefined(conger_kappa(x, categories=[1, 2, 3, 4]), "chance agreement is 1", "no variation")
    _undefined(
        cohen_kappa(x[:, :2], categories=[1, 2, 3, 4]), "chance agreement is 1", "no variation"
    )
    # with one possible category Gwet's and Brennan-Prediger's chance agreement is undefined ...
    _undefined(gwet_ac1(x), "only one category", "categories=")
    _undefined(brennan_prediger(x), "only one category", "categories=")
    # ... with the rubric's levels they are defined: full agreement is 1
    assert gwet_ac1(x, categories=[1, 2, 3, 4]).estimate == 1.0
    assert brennan_prediger(x, categories=[1, 2, 3, 4]).estimate == 1.0
    assert percent_agreement(x).estimate == 1.0


def test_one_rater() -> None:
    x = np.array([[1, np.nan], [2, np.nan], [3, np.nan]])
    _undefined(conger_kappa(x), "needs at least two raters")
    _undefined(cohen_kappa(x), "no unit in common")
    one_column = CodedRatings.from_codes([0, 1, 2], [0, 0, 0], [0, 1, 2], categories=[1, 2, 3])
    _undefined(conger_kappa(one_column), "needs at least two raters; the data have 1")


def test_one_unit_has_no_standard_error() -> None:
    res = fleiss_kappa(np.array([[1, 2, 2]]), categories=[1, 2])
    assert math.isfinite(res.estimate) and math.isnan(res.se)
    assert "standard error needs at least two units" in res.note
    assert res.method == "none" and all(math.isnan(c) for c in res.ci)
