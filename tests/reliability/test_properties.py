"""Properties every coefficient shares, checked on generated data (hypothesis).

Order of units and labels of raters never matter; relabelling nominal categories does
not matter to nominal coefficients; perfect agreement gives 1; estimates stay in their
bounds; an undefined coefficient always says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.reliability import (
    ReliabilityResult,
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    krippendorff_alpha,
    percent_agreement,
)

CATS = [1, 2, 3, 4]
Coefficient = Callable[[np.ndarray], ReliabilityResult]

#: Every multi-rater coefficient and form, with the rubric's four levels as categories.
MULTI: dict[str, Coefficient] = {
    "alpha_nominal": lambda x: krippendorff_alpha(x, level="nominal", categories=CATS),
    "alpha_ordinal": lambda x: krippendorff_alpha(x, level="ordinal", categories=CATS),
    "alpha_interval": lambda x: krippendorff_alpha(x, level="interval", categories=CATS),
    "alpha_ratio": lambda x: krippendorff_alpha(x, level="ratio", categories=CATS),
    "fleiss": lambda x: fleiss_kappa(x, categories=CATS),
    "fleiss_quadratic": lambda x: fleiss_kappa(x, weights="quadratic", categories=CATS),
    "conger": lambda x: conger_kappa(x, categories=CATS),
    "conger_linear": lambda x: conger_kappa(x, weights="linear", categories=CATS),
    "ac1": lambda x: gwet_ac1(x, categories=CATS),
    "ac2_quadratic": lambda x: gwet_ac2(x, weights="quadratic", categories=CATS),
    "ac2_ordinal": lambda x: gwet_ac2(x, weights="ordinal", categories=CATS),
    "bp": lambda x: brennan_prediger(x, categories=CATS),
    "bp_linear": lambda x: brennan_prediger(x, weights="linear", categories=CATS),
    "percent_exact": lambda x: percent_agreement(x, categories=CATS),
    "percent_within_one": lambda x: percent_agreement(x, level="within_one", categories=CATS),
}
#: Those that only ask whether two scores are equal.
NOMINAL = ("alpha_nominal", "fleiss", "conger", "ac1", "bp", "percent_exact")
PAIR: dict[str, Coefficient] = {
    "cohen": lambda x: cohen_kappa(x, categories=CATS),
    "cohen_linear": lambda x: cohen_kappa(x, weights="linear", categories=CATS),
    "cohen_quadratic": lambda x: cohen_kappa(x, weights="quadratic", categories=CATS),
}

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def ratings(
    draw: st.DrawFn, *, raters: tuple[int, int] = (2, 5), missing: bool = True
) -> np.ndarray:
    """Units x raters scores 1..4 with NaN for missing ratings."""
    n_units = draw(st.integers(2, 12))
    n_raters = draw(st.integers(*raters))
    cell = st.one_of(st.none(), st.integers(1, 4)) if missing else st.integers(1, 4)
    cells = draw(st.lists(cell, min_size=n_units * n_raters, max_size=n_units * n_raters))
    return np.array([np.nan if c is None else c for c in cells], dtype=float).reshape(
        n_units, n_raters
    )


def _same(a: ReliabilityResult, b: ReliabilityResult, name: str) -> None:
    for field in ("estimate", "se"):
        x, y = getattr(a, field), getattr(b, field)
        assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-9, (
            f"{name}.{field}: {x} != {y}"
        )
    assert a.note == b.note, name


@SETTINGS
@given(x=ratings(), data=st.data())
def test_unit_order_does_not_matter(x: np.ndarray, data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(len(x))))
    for name, f in MULTI.items():
        _same(f(x), f(x[list(order)]), name)


@SETTINGS
@given(x=ratings(), data=st.data())
def test_rater_labels_do_not_matter(x: np.ndarray, data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(x.shape[1])))
    for name, f in MULTI.items():
        _same(f(x), f(x[:, list(order)]), name)


@SETTINGS
@given(x=ratings(raters=(2, 2)))
def test_cohen_is_symmetric_in_the_two_raters(x: np.ndarray) -> None:
    for name, f in PAIR.items():
        _same(f(x), f(x[:, ::-1]), name)


@SETTINGS
@given(x=ratings(), relabel=st.permutations(CATS))
def test_nominal_coefficients_ignore_category_labels(x: np.ndarray, relabel: list[int]) -> None:
    mapping = dict(zip(CATS, relabel, strict=True))
    y = np.vectorize(lambda v: mapping.get(v, np.nan), otypes=[float])(x)
    for name in NOMINAL:
        _same(MULTI[name](x), MULTI[name](y), name)
    pairs = x[:, :2]
    _same(PAIR["cohen"](pairs), PAIR["cohen"](y[:, :2]), "cohen")


@st.composite
def perfect_agreement(draw: st.DrawFn) -> np.ndarray:
    """Every rater of a unit gives its one true score; two pairable units differ."""
    n_units = draw(st.integers(2, 10))
    n_raters = draw(st.integers(2, 5))
    truth = draw(st.lists(st.integers(1, 4), min_size=n_units, max_size=n_units))
    rated = draw(st.lists(st.booleans(), min_size=n_units * n_raters, max_size=n_units * n_raters))
    x = np.where(
        np.array(rated).reshape(n_units, n_raters), np.array(truth, dtype=float)[:, None], np.nan
    )
    # the first two units are fully rated, with different scores: there is variation
    x[0, :], x[1, :] = 1.0, 3.0
    return x


@SETTINGS
@given(x=perfect_agreement())
def test_perfect_agreement_gives_one(x: np.ndarray) -> None:
    for name, f in {**MULTI, **{k: (lambda x, g=g: g(x[:, :2])) for k, g in PAIR.items()}}.items():
        res = f(x)
        assert abs(res.estimate - 1.0) <= 1e-12, f"{name}: {res.estimate} ({res.note})"


@SETTINGS
@given(x=ratings())
def test_estimates_stay_in_bounds_and_undefined_says_why(x: np.ndarray) -> None:
    results = {name: f(x) for name, f in MULTI.items()} | {
        name: f(x[:, :2]) for name, f in PAIR.items()
    }
    for name, res in results.items():
        if math.isnan(res.estimate):
            assert res.note, f"{name} is undefined without a note"
            continue
        assert res.estimate <= 1.0 + 1e-12, name
        assert math.isnan(res.se) or res.se >= 0.0, name
        lo, hi = res.ci
        if not math.isnan(lo):
            # the upper bound is capped at 1, the lower one left alone (R irrCAC)
            assert lo - 1e-12 <= res.estimate <= hi + 1e-12 and hi <= 1.0, name
    for name in ("percent_exact", "percent_within_one"):
        res = results[name]
        assert math.isnan(res.estimate) or 0.0 <= res.estimate <= 1.0
        assert math.isnan(res.ci[0]) or 0.0 <= res.ci[0], name
    assert math.isnan(results["cohen"].estimate) or results["cohen"].estimate >= -1.0 - 1e-12
    # within-one agreement is never below exact agreement
    if not math.isnan(results["percent_exact"].estimate):
        assert results["percent_within_one"].estimate >= results["percent_exact"].estimate - 1e-12
