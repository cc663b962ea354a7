"""Random data against independent implementations: krippendorff, scikit-learn, statsmodels.

Agreement to 1e-9 on data with missing ratings, unequal numbers of ratings per unit and
unused categories, over several seeds.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from calibrate.reliability import (
    CodedRatings,
    agreement_weights,
    alpha_from_counts,
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_table,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    krippendorff_alpha,
    percent_agreement,
)

TOL = 1e-9
SEEDS = list(range(6))


def _ratings(
    seed: int, *, n_units: int = 40, n_raters: int = 5, q: int = 5, missing: float = 0.3
) -> np.ndarray:
    """Units x raters scores 1..q that agree more than chance, NaN where missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n_units)
    shift = rng.integers(-1, 2, (n_units, n_raters)) * (rng.random((n_units, n_raters)) < 0.4)
    x = (np.clip(truth[:, None] + shift, 0, q - 1) + 1).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


# ---- Krippendorff's alpha vs the krippendorff package --------------------------------
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorff(level: str, seed: int) -> None:
    x = _ratings(seed, n_units=30 + 7 * seed, n_raters=3 + seed % 4)
    ours = krippendorff_alpha(x, level=level).estimate
    theirs = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert abs(ours - theirs) <= TOL


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("level", ["ordinal", "interval"])
def test_alpha_with_many_levels_matches_krippendorff(level: str, seed: int) -> None:
    """Many levels take the np.unique path of the count compression."""
    x = _ratings(seed, n_units=60, n_raters=6, q=15, missing=0.2)
    ours = krippendorff_alpha(x, level=level)
    assert (
        abs(ours.estimate - krippendorff.alpha(reliability_data=x.T, level_of_measurement=level))
        <= TOL
    )
    assert abs(fleiss_kappa(x).estimate - fleiss_kappa(CodedRatings.from_array(x)).estimate) <= TOL


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_custom_distance_matches_krippendorff(seed: int) -> None:
    x = _ratings(seed)
    cats = np.unique(x[~np.isnan(x)])
    # Gwet's ordinal weights as a distance matrix, and a callable
    d = 1.0 - agreement_weights("ordinal", cats)
    theirs = krippendorff.alpha(
        reliability_data=x.T, level_of_measurement=lambda v1, v2, i1, i2, n_v, dtype: d[i1, i2]
    )
    assert abs(krippendorff_alpha(x, distance=d).estimate - theirs) <= TOL
    theirs_abs = krippendorff.alpha(
        reliability_data=x.T,
        level_of_measurement=lambda v1, v2, i1, i2, n_v, dtype: np.abs(v1 - v2),
    )
    assert (
        abs(krippendorff_alpha(x, distance=lambda a, b: np.abs(a - b)).estimate - theirs_abs) <= TOL
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_with_unit_weights_equals_alpha_of_resampled_units(seed: int) -> None:
    """A bootstrap resample of units as a weight vector gives alpha of the resampled data."""
    rng = np.random.default_rng(100 + seed)
    x = _ratings(seed)
    coded = CodedRatings.from_array(x)
    counts = coded.value_counts()
    draws = rng.integers(0, len(counts), size=(4, len(counts)))
    weights = np.stack([np.bincount(d, minlength=len(counts)) for d in draws])
    batch = alpha_from_counts(
        counts, level="ordinal", categories=coded.categories, unit_weights=weights
    )
    for b, d in enumerate(draws):
        theirs = krippendorff.alpha(
            value_counts=counts[d], value_domain=coded.categories, level_of_measurement="ordinal"
        )
        one = alpha_from_counts(
            counts, level="ordinal", categories=coded.categories, unit_weights=weights[b]
        )
        assert abs(batch[b] - theirs) <= TOL
        assert abs(one - theirs) <= TOL


# ---- Cohen's kappa vs scikit-learn and statsmodels -------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic"])
def test_cohen_matches_sklearn(weights: str, seed: int) -> None:
    x = _ratings(seed, n_units=25 + 10 * seed, n_raters=2, q=4, missing=0.0)
    labels = np.arange(1, 5)
    theirs = cohen_kappa_score(
        x[:, 0], x[:, 1], labels=labels, weights=None if weights == "identity" else weights
    )
    ours = cohen_kappa(x, weights=weights, categories=labels)
    assert abs(ours.estimate - theirs) <= TOL


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic"])
def test_cohen_se_matches_statsmodels(weights: str, seed: int) -> None:
    x = _ratings(seed, n_units=30 + 5 * seed, n_raters=2, q=4, missing=0.0).astype(int) - 1
    table = np.zeros((4, 4))
    np.add.at(table, (x[:, 0], x[:, 1]), 1)
    sm = cohens_kappa(table) if weights == "identity" else cohens_kappa(table, wt=weights)
    ours = cohen_kappa_table(table, weights=weights)
    assert abs(ours.estimate - sm.kappa) <= TOL
    assert abs(ours.se - sm.std_kappa) <= TOL
    if weights == "identity":  # statsmodels gives the H0 SE for unweighted kappa only
        assert abs(ours.extra["se_h0"] - sm.std_kappa0) <= TOL


# ---- Fleiss' kappa and Brennan-Prediger vs statsmodels (balanced data) -----------------
@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_matches_statsmodels_on_balanced_data(seed: int) -> None:
    x = _ratings(seed, n_units=20 + 5 * seed, n_raters=3 + seed % 4, missing=0.0)
    table = aggregate_raters(x.astype(int))[0]
    assert abs(fleiss_kappa(x).estimate - sm_fleiss_kappa(table, method="fleiss")) <= TOL


@pytest.mark.parametrize("seed", SEEDS)
def test_brennan_prediger_matches_statsmodels_randolph(seed: int) -> None:
    """Randolph's free-marginal kappa is Brennan-Prediger's coefficient."""
    x = _ratings(seed, n_units=20 + 5 * seed, n_raters=4, q=5, missing=0.0)
    table = aggregate_raters(x.astype(int), n_cat=6)[0][:, 1:]  # categories 1..5
    ours = brennan_prediger(x, categories=[1, 2, 3, 4, 5]).estimate
    assert abs(ours - sm_fleiss_kappa(table, method="randolph")) <= TOL


# ---- internal consistency --------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic", "ordinal"])
def test_conger_with_two_complete_raters_is_cohen(weights: str, seed: int) -> None:
    x = _ratings(seed, n_raters=2, missing=0.0)
    assert (
        abs(conger_kappa(x, weights=weights).estimate - cohen_kappa(x, weights=weights).estimate)
        <= TOL
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_codes_path_equals_array_path(seed: int) -> None:
    x = _ratings(seed)
    units, raters = np.nonzero(~np.isnan(x))
    codes, cats = np.unique(x[units, raters], return_inverse=True)[1], np.unique(x[units, raters])
    # shuffle the ratings: the long path must not depend on their order
    order = np.random.default_rng(seed).permutation(len(units))
    coded = CodedRatings.from_codes(units[order], raters[order], codes[order], categories=cats)
    for f in (
        krippendorff_alpha,
        fleiss_kappa,
        gwet_ac1,
        gwet_ac2,
        brennan_prediger,
        conger_kappa,
        percent_agreement,
    ):
        a, b = f(x), f(coded)
        assert abs(a.estimate - b.estimate) <= TOL, f.__name__
        assert abs(a.se - b.se) <= TOL, f.__name__
