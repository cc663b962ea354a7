"""R values for weighted percent agreement (irrCAC), Light's kappa (irr) and the sequential
two-way ANOVA table (stats ``anova(lm())``).

Each number below was computed in R 4.2.2 by the R code written beside it; the scripts
and their printed output are kept in ``tests/reliability/data/r/``. The suite never runs
R. Data: verbatim copies in ``tests/reliability/data/<folder>/`` (attribution in each
``expected.json``).
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate.reliability import WEIGHT_NAMES, bootstrap, percent_agreement

DATA = Path(__file__).parent / "data"


@cache
def _wide(folder: str) -> pd.DataFrame:
    return pd.read_csv(DATA / folder / "data_wide.csv").set_index("unit")


# ---- weighted percent agreement: R irrCAC pa.coeff.raw on cac.raw4raters ----------------
# data/r/pa_coeff_raw.R, with round() made the identity so SE and interval come unrounded:
#
#   pa <- pa.coeff.raw
#   environment(pa) <- list2env(list(round = function(x, digits = 0) x),
#                               parent = asNamespace("irrCAC"))
#   e <- pa(cac.raw4raters, weights = w)$est     # w: "unweighted", "linear", ..., custom
#   sprintf("%.17g", c(e$coeff.val, e$coeff.se, <conf.int bounds>, e$p.value))
#
# (estimate, se, ci_low, ci_high, p_value), irrCAC 1.4 (github.com/kgwet/irrCAC @7fb7509).
# irrCAC 1.0 (CRAN, github.com/cran/irrCAC) gives the same estimate, se and interval and
# the two-sided p-value 2 * (1 - pt(|pa/se|, n - 1)), exactly twice these
# (data/r/pa_coeff_raw_irrCAC1.0.out).
PA_IRRCAC = {
    "identity": (0.81818181818181823, 0.12560895994686497, 0.54171836136422302, 1, 2.1726863119964079e-05),
    "linear": (0.93939393939393945, 0.093679102641101547, 0.73320762467017397, 1, 3.595388130550603e-07),
    "quadratic": (0.97537878787878785, 0.090616278319546523, 0.77593370403473205, 1, 1.7631882842650271e-07),
    "ordinal": (0.96818181818181825, 0.090857423334068224, 0.76820597773937005, 1, 1.9520356975277764e-07),
    "radical": (0.89726910657337067, 0.10155194140956865, 0.67375479055241405, 1, 1.254837308950485e-06),
    "ratio": (0.95411487322201616, 0.092108410585135428, 0.75138562840450596, 1, 2.5966184713510643e-07),
    "circular": (0.90245918028407668, 0.10368043410038373, 0.67426008343727295, 1, 1.451620351589078e-06),
    "bipolar": (0.96836219336219331, 0.090774615192781447, 0.76856861240985197, 1, 1.9304985399148933e-07),
    "custom": (0.88636363636363635, 0.10244475889519149, 0.66088424230615395, 1, 1.5387454441739834e-06),
}  # fmt: skip
# irrCAC 1.0's two-sided p-values (the other columns are identical).
PA_IRRCAC_1_0_P = {
    "identity": 4.3453726239928159e-05,
    "quadratic": 3.5263765685300541e-07,
    "custom": 3.0774908883479668e-06,
}
# The custom matrix of the R script (rows: first rating's category 1..5).
CUSTOM = np.array(
    [
        [1, 0.75, 0.5, 0.25, 0],
        [0, 1, 0.75, 0.5, 0.25],
        [0.25, 0, 1, 0.75, 0.5],
        [0.5, 0.25, 0, 1, 0.75],
        [0.75, 0.5, 0.25, 0, 1],
    ]
)
# Estimates, SEs and bounds to 1e-12; the interval's bounds went through R's 15-digit
# paste0. R's p-value 1 - pt(t, df) loses ~1e-16 to cancellation: 1e-12 absolute.
TOL = 1e-12


@pytest.mark.parametrize("name", list(PA_IRRCAC))
def test_weighted_percent_agreement_matches_irrcac(name: str) -> None:
    est, se, lo, hi, p = PA_IRRCAC[name]
    weights = CUSTOM if name == "custom" else name
    res = percent_agreement(_wide("irrcac_raw4raters"), weights=weights)
    assert res.level == name
    assert res.estimate == pytest.approx(est, abs=TOL)
    assert res.se == pytest.approx(se, abs=TOL)
    assert res.ci[0] == pytest.approx(lo, abs=TOL)
    assert res.ci[1] == pytest.approx(hi, abs=TOL)
    assert res.p_value == pytest.approx(p, abs=TOL)
    assert res.extra["p_value_one_sided"] == res.p_value
    assert res.to_dict()["p_value"] == res.p_value
    assert res.extra["p_o"] == res.estimate and res.extra["p_e"] == 0.0
    if name in PA_IRRCAC_1_0_P:
        assert 2.0 * res.p_value == pytest.approx(PA_IRRCAC_1_0_P[name], abs=TOL)


def test_weighted_percent_agreement_covers_every_weight_name() -> None:
    assert set(WEIGHT_NAMES) <= set(PA_IRRCAC)


def test_level_still_works_and_identity_weights_are_exact() -> None:
    data = _wide("irrcac_raw4raters")
    exact = percent_agreement(data)
    ident = percent_agreement(data, weights="identity")
    assert exact.level == "exact" and ident.level == "identity"
    assert (exact.estimate, exact.se, exact.ci, exact.p_value) == (
        ident.estimate,
        ident.se,
        ident.ci,
        ident.p_value,
    )
    # within one level = a 0/1 band matrix given as custom weights
    pos = np.arange(5)
    band = (np.abs(pos[:, None] - pos[None, :]) <= 1).astype(float)
    within = percent_agreement(data, level="within_one")
    custom = percent_agreement(data, weights=band)
    assert within.level == "within_one" and custom.level == "custom"
    assert within.estimate == pytest.approx(custom.estimate, abs=1e-15)
    assert within.se == pytest.approx(custom.se, abs=1e-15)


def test_level_and_weights_are_alternatives() -> None:
    with pytest.raises(ValueError, match="level= or weights=, not both"):
        percent_agreement(_wide("irrcac_raw4raters"), level="within_one", weights="linear")
    with pytest.raises(ValueError, match="weights must be one of"):
        percent_agreement(_wide("irrcac_raw4raters"), weights="cubic")


def test_weighted_percent_agreement_bootstraps_with_its_weights() -> None:
    from calibrate.reliability._bootstrap import _class_engine
    from calibrate.reliability._data import as_coded

    data = _wide("irrcac_raw4raters")
    coded = as_coded(data, None)
    for weights in ("quadratic", CUSTOM):
        direct = percent_agreement(data, weights=weights)
        # the class engine computes the weighted agreement from its summed features ...
        engine = _class_engine("percent_agreement", coded, {"weights": weights})
        full = engine.from_sums((engine.mult @ engine.features)[None, :])[0]
        assert full == pytest.approx(direct.estimate, abs=1e-15)
        # ... and its leave-one-unit-out values are the direct ones without that unit
        jack, _ = engine.jackknife()
        rows, _ = coded.compressed_counts()
        counts = coded.value_counts()
        for k, row in enumerate(rows):
            drop = int(np.flatnonzero((counts == row).all(axis=1))[0])
            rest = data.iloc[[i for i in range(len(data)) if i != drop]]
            expected = percent_agreement(rest, weights=weights, categories=[1, 2, 3, 4, 5])
            assert jack[k] == pytest.approx(expected.estimate, abs=1e-12)
        res = bootstrap("percent_agreement", data, weights=weights, n_resamples=200, rng=3)
        assert res.estimate == direct.estimate and res.p_value == direct.p_value
        assert res.extra["se_analytic"] == direct.se
        assert np.all((res.bootstrap_estimates >= 0) & (res.bootstrap_estimates <= 1))


def test_p_value_field_unifies_the_family() -> None:
    from calibrate.reliability import (
        brennan_prediger,
        conger_kappa,
        fleiss_kappa,
        gwet_ac1,
        gwet_ac2,
        krippendorff_alpha,
    )

    data = _wide("irrcac_raw4raters")
    for f in (brennan_prediger, conger_kappa, fleiss_kappa, gwet_ac1, gwet_ac2, krippendorff_alpha):
        res = f(data)
        assert res.p_value == res.extra["p_value_one_sided"], f.__name__
    assert math.isnan(percent_agreement(np.array([[1.0, np.nan]])).p_value)
