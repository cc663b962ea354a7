"""R values for weighted percent agreement (irrCAC), Light's kappa (irr) and the sequential
two-way ANOVA table (stats ``anova(lm())``).

Each number below was computed in R 4.2.2 by the R code written beside it; the scripts
and their printed output are kept in ``tests/reliability/r/``. The suite never runs
R. Data: verbatim copies in ``tests/reliability/data/<folder>/`` (attribution in each
``expected.json``).
"""

from __future__ import annotations

import itertools
import math
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate.reliability import (
    COEFFICIENTS,
    WEIGHT_NAMES,
    CodedRatings,
    anova_table,
    bootstrap,
    cohen_kappa,
    cohen_kappa_table,
    interpretation_band,
    light_kappa,
    percent_agreement,
)
from calibrate.reliability._data import as_coded
from calibrate.reliability._light import pair_tables

DATA = Path(__file__).parent / "data"


@cache
def _wide(folder: str) -> pd.DataFrame:
    return pd.read_csv(DATA / folder / "data_wide.csv").set_index("unit")


# ---- weighted percent agreement: R irrCAC pa.coeff.raw on cac.raw4raters ----------------
# r/pa_coeff_raw.R, with round() made the identity so SE and interval come unrounded:
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
# (r/pa_coeff_raw_irrCAC1.0.out).
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


# ---- Light's kappa: R irr kappam.light ----------------------------------------------------
# r/kappam_light.R (irr 0.84.1):
#
#   k <- kappam.light(diagnoses)          # also anxiety, diagnoses[, 1:3], anxiety[, 1:2]
#   sprintf("%.17g", c(k$value, k$statistic, k$p.value))
#
# (estimate, z, p); irr's z is NaN where its variance formula is negative (anxiety,
# diagnoses[, 1:3]: "In sqrt(varkappa): NaNs produced").
LIGHT_IRR = {
    "diagnoses": (0.45941214443459544, 2.3053987373278066, 0.021144252157206278),
    "anxiety": (-0.017478874869776589, math.nan, math.nan),
    "diagnoses_first3": (0.55537858296094045, math.nan, math.nan),
    "anxiety_first2": (0.11949685534591195, 1.0523933817899471, 0.29261910385402401),
}
#   for (i in 1:5) for (j in (i + 1):6) kappa2(diagnoses[, c(i, j)])$value
LIGHT_DIAGNOSES_PAIRS = [
    0.65116279069767435, 0.3838254172015404, 0.25834363411619282, 0.18819188191881916,
    0.080882352941176461, 0.63114754098360648, 0.43925233644859812, 0.36339522546419101,
    0.17105263157894735, 0.72602739726027399, 0.64017991004497754, 0.33333333333333331,
    0.85691573926868048, 0.51923076923076916, 0.64824120603015079,
]  # fmt: skip


def _light_data(name: str) -> pd.DataFrame:
    folder = "fleiss1971_diagnoses_30x6" if name.startswith("diagnoses") else "irr_anxiety_20x3"
    data = _wide(folder)
    if name.endswith("first3"):
        return data.iloc[:, :3]
    if name.endswith("first2"):
        return data.iloc[:, :2]
    return data


@pytest.mark.parametrize("name", list(LIGHT_IRR))
def test_light_kappa_matches_irr(name: str) -> None:
    est, z, p = LIGHT_IRR[name]
    res = light_kappa(_light_data(name))
    assert res.coefficient == "light_kappa" and res.level == "identity"
    assert res.estimate == pytest.approx(est, abs=1e-12)
    if math.isnan(z):
        assert "z" not in res.extra and math.isnan(res.p_value)
        assert "not positive" in res.note
    else:
        assert res.extra["z"] == pytest.approx(z, abs=1e-12)
        assert res.p_value == pytest.approx(p, abs=1e-12)
        assert res.extra["p_value_two_sided"] == res.p_value
    assert math.isnan(res.se) and res.ci == (math.nan, math.nan) or math.isnan(res.ci[0])


def test_light_kappa_is_the_mean_of_the_pairs_cohen_kappas() -> None:
    data = _light_data("diagnoses")
    a, b, tables = pair_tables(as_coded(data, None))
    assert len(tables) == 15 and list(zip(a, b, strict=True))[:3] == [(0, 1), (0, 2), (0, 3)]
    for (i, j), t, r_value in zip(
        itertools.combinations(range(6), 2), tables, LIGHT_DIAGNOSES_PAIRS, strict=True
    ):
        direct = cohen_kappa(data.iloc[:, [i, j]])
        assert cohen_kappa_table(t, categories=[1, 2, 3, 4, 5]).estimate == direct.estimate
        assert direct.estimate == pytest.approx(r_value, abs=1e-12)
    res = light_kappa(data)
    assert res.extra["kappa_min"] == pytest.approx(min(LIGHT_DIAGNOSES_PAIRS), abs=1e-12)
    assert res.extra["n_pairs"] == 15 and res.n_units == 30


# Incomplete anxiety (r/kappam_light.R): cells (2,1) (5,2) (9,3) (14,1) (17,2) (20,3)
# deleted and a rater4 who scored unit 1 (3) and unit 2 (4) only. Each pair on the units
# both rated, irr's kappa2 (which drops the pair's incomplete rows):
#   pair   shared  kappa
#   1-2    16      0.097435897435897437
#   1-3    16     -0.170731707317073184
#   1-4     1      (not counted: fewer than 2 shared units)
#   2-3    16      0.090047393364928910
#   2-4     2      0.333333333333333315
#   3-4     2      0
#   mean(kappa over the 5 counted pairs) = 0.070016983363417301
LIGHT_INCOMPLETE = 0.070016983363417301


def _anxiety_incomplete() -> np.ndarray:
    x = _wide("irr_anxiety_20x3").to_numpy(dtype=float)
    x[[1, 4, 8, 13, 16, 19], [0, 1, 2, 0, 1, 2]] = np.nan
    x = np.column_stack([x, np.full(20, np.nan)])
    x[0, 3], x[1, 3] = 3, 4
    return x


def test_light_kappa_on_incomplete_data_counts_pairs_sharing_two_units() -> None:
    x = _anxiety_incomplete()
    res = light_kappa(x)
    assert res.estimate == pytest.approx(LIGHT_INCOMPLETE, abs=1e-12)
    assert res.extra["n_pairs"] == 5 and res.extra["n_pairs_too_few_units"] == 1
    assert "z" not in res.extra and "complete" in res.note and math.isnan(res.p_value)
    # min_shared=3 also drops the two pairs of rater4 sharing exactly 2 units
    strict = light_kappa(x, min_shared=3)
    assert strict.extra["n_pairs"] == 3 and strict.extra["n_pairs_too_few_units"] == 3
    assert strict.estimate == pytest.approx(
        np.mean([0.097435897435897437, -0.170731707317073184, 0.090047393364928910]), abs=1e-12
    )
    with pytest.raises(ValueError, match="min_shared must be at least 2"):
        light_kappa(x, min_shared=1)
    with pytest.raises(TypeError, match="min_shared must be a whole number"):
        light_kappa(x, min_shared=2.0)


def test_light_kappa_undefined_pairs_and_nothing_to_average() -> None:
    # raters 0-1 put every unit in one category (chance agreement 1): not counted
    x = np.array([[1, 1, 1], [1, 1, 2], [1, 1, 3], [1, 1, 1.0]])
    res = light_kappa(x)
    assert res.extra["n_pairs_undefined"] == 1 and res.extra["n_pairs"] == 2
    assert res.estimate == 0.0  # the pairs with rater 2 agree as often as chance
    assert "z" not in res.extra and "every pair" in res.note
    res = light_kappa(np.ones((4, 3)), categories=[1, 2])
    assert res.extra["n_pairs_undefined"] == 3 and math.isnan(res.estimate)
    assert "nothing to average" in res.note and res.n_units == 0
    one_shared = np.array([[1, 2, np.nan], [np.nan, 2, 3], [3, np.nan, 3.0]])
    res = light_kappa(one_shared)
    assert math.isnan(res.estimate) and res.extra["n_pairs_too_few_units"] == 3
    with pytest.raises(ValueError, match="light_kappa"):
        light_kappa(CodedRatings.from_counts([[2, 0], [1, 1]]))


@pytest.mark.parametrize("seed", range(5))
def test_light_kappa_on_sparse_designs_equals_brute_force(seed: int) -> None:
    """Many reviewers, few shared units: the pair tables from pairs of ratings equal the
    pair-by-pair Cohen's kappa of every pair sharing >= 2 units (weighted too)."""
    rng = np.random.default_rng(seed)
    n_units, n_raters = 60, 25
    x = np.full((n_units, n_raters), np.nan)
    for i in range(n_units):
        who = rng.choice(n_raters, size=rng.integers(2, 5), replace=False)
        x[i, who] = np.clip(np.round(rng.normal(2.5, 1, size=len(who)) + i % 3 - 1), 1, 4)
    cats = [1, 2, 3, 4]
    for weights in ("identity", "quadratic"):
        kappas, too_few = [], 0
        for i, j in itertools.combinations(range(n_raters), 2):
            both = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            if both.sum() == 0:
                continue
            if both.sum() < 2:
                too_few += 1
                continue
            k = cohen_kappa(x[both][:, [i, j]], weights=weights, categories=cats).estimate
            if not math.isnan(k):
                kappas.append(k)
        res = light_kappa(x, weights=weights, categories=cats)
        assert res.estimate == pytest.approx(np.mean(kappas), abs=1e-12)
        assert res.extra["n_pairs"] == len(kappas)
        assert res.extra["n_pairs_too_few_units"] == too_few


def test_light_kappa_scales_to_hundreds_of_reviewers() -> None:
    rng = np.random.default_rng(7)
    n_units, n_raters = 20_000, 400
    unit = np.repeat(np.arange(n_units), 3)
    rater = np.concatenate([rng.choice(n_raters, 3, replace=False) for _ in range(n_units)])
    value = np.clip(
        np.repeat(rng.integers(0, 4, n_units), 3) + rng.integers(-1, 2, unit.size), 0, 3
    )
    coded = CodedRatings.from_codes(unit, rater, value, categories=[1, 2, 3, 4])
    t0 = time.perf_counter()
    res = light_kappa(coded)
    elapsed = time.perf_counter() - t0
    assert res.defined and res.extra["n_pairs"] > 10_000
    assert elapsed < 5.0, elapsed  # ~0.1 s here: never the 400 x 400 pair loop


def test_light_kappa_is_registered() -> None:
    data = _light_data("diagnoses")
    assert COEFFICIENTS["light_kappa"] is light_kappa
    res = bootstrap("light_kappa", data, n_resamples=100, rng=2)
    assert res.estimate == light_kappa(data).estimate and res.method == "bootstrap-bca"
    assert res.p_value == light_kappa(data).p_value
    assert res.ci[0] < res.estimate < res.ci[1]
    assert str(interpretation_band("light_kappa", 0.5)[0]).startswith("moderate")


# ---- the sequential ANOVA table: R stats anova(lm(score ~ factor(sub) + factor(rev))) ----
# r/anova_lm.R:
#
#   long <- data.frame(sub = as.vector(row(x)), rev = as.vector(col(x)), score = as.vector(x))
#   a <- anova(lm(score ~ factor(sub) + factor(rev), data = long[!is.na(long$score), ]))
#   sprintf("%d %.17g %.17g %.17g %.17g", a$Df, a$`Sum Sq`, a$`Mean Sq`, a$`F value`, a$`Pr(>F)`)
#
# rows submission, reviewer, residuals: (df, sum_sq, mean_sq, F, p).
ANOVA_R = {
    # x = anxiety
    "anxiety": [
        (19, 50.266666666666659, 2.6456140350877191, 1.8267716535433058, 0.056201273547497876),
        (2, 9.6333333333333258, 4.8166666666666629, 3.3258631132646834, 0.046661803806935534),
        (38, 55.033333333333367, 1.4482456140350886, math.nan, math.nan),
    ],
    # x[cbind(c(2, 5, 9, 14, 17, 20, 3), c(1, 2, 3, 1, 2, 3, 3))] <- NA
    "anxiety_unbalanced": [
        (19, 49.694968553459113, 2.6155246607083744, 1.9140933599186767, 0.052577790587850531),
        (2, 8.4731924019607749, 4.2365962009803875, 3.1004259981846198, 0.059229288294523459),
        (31, 42.360140931372584, 1.3664561590765349, math.nan, math.nan),
    ],
    # y <- matrix(NA, 20, 6); y[1:10, 1:3] <- anxiety[1:10, ]; y[11:20, 4:6] <- anxiety[11:20, ] + 1
    # y[cbind(c(2, 7, 12, 15, 19), c(1, 3, 4, 6, 5))] <- NA   (two blocks: reviewer df 6 - 2)
    "disconnected": [
        (19, 31.727272727272744, 1.6698564593301444, 1.1256031995201961, 0.37499762663947067),
        (4, 9.0108359133126772, 2.2527089783281693, 1.5184876636709401, 0.22103985558008143),
        (31, 45.989164086687268, 1.4835214221512021, math.nan, math.nan),
    ],
}  # fmt: skip


def _anova_data(name: str) -> np.ndarray:
    x = _wide("irr_anxiety_20x3").to_numpy(dtype=float)
    if name == "anxiety_unbalanced":
        x[[1, 4, 8, 13, 16, 19, 2], [0, 1, 2, 0, 1, 2, 2]] = np.nan
    if name == "disconnected":
        y = np.full((20, 6), np.nan)
        y[:10, :3] = x[:10]
        y[10:, 3:] = x[10:] + 1
        y[[1, 6, 11, 14, 18], [0, 2, 3, 5, 4]] = np.nan
        return y
    return x


@pytest.mark.parametrize("name", list(ANOVA_R))
def test_anova_table_matches_r(name: str) -> None:
    x = _anova_data(name)
    table = anova_table(x)
    assert list(table.index) == ["submission", "reviewer", "residuals"]
    assert table.index.name == "term" and list(table.columns) == [
        "df",
        "sum_sq",
        "mean_sq",
        "F",
        "p",
    ]
    assert table["df"].dtype == np.int64
    expected = pd.DataFrame(ANOVA_R[name], index=table.index, columns=table.columns)
    assert table["df"].tolist() == expected["df"].tolist()
    for col in ("sum_sq", "mean_sq", "F", "p"):
        np.testing.assert_allclose(table[col], expected[col], rtol=0, atol=1e-9, equal_nan=True)
    # long arrays (labels, shuffled) and CodedRatings give the same table
    rng = np.random.default_rng(0)
    unit, rater = np.nonzero(~np.isnan(x))
    order = rng.permutation(len(unit))
    long = anova_table(
        units=np.array([f"s{u}" for u in unit])[order],
        raters=np.array([f"r{r}" for r in rater])[order],
        scores=x[unit, rater][order],
    )
    pd.testing.assert_frame_equal(long, table, check_exact=False, rtol=1e-12, atol=1e-12)
    coded = CodedRatings.from_array(x)
    pd.testing.assert_frame_equal(anova_table(coded), table, check_exact=False, atol=1e-12)


def test_anova_table_agrees_with_icc_mean_squares() -> None:
    from calibrate.reliability import icc

    x = _anova_data("anxiety")  # complete: Shrout & Fleiss' BMS, JMS and EMS
    table = anova_table(x)
    res = icc(x, form="ICC(3,1)")
    assert table.loc["submission", "mean_sq"] == pytest.approx(res.extra["ms_unit"], abs=1e-12)
    assert table.loc["residuals", "mean_sq"] == pytest.approx(res.extra["ms_residual"], abs=1e-12)
    assert table.loc["submission", "F"] == pytest.approx(res.extra["F"], abs=1e-12)


def test_anova_table_says_why_it_cannot_fit() -> None:
    with pytest.raises(ValueError, match="all ratings are equal"):
        anova_table(np.ones((4, 3)))
    with pytest.raises(ValueError, match="no residual degrees of freedom"):
        anova_table(np.array([[1, 2], [3, np.nan], [np.nan, 4.0]]))
    with pytest.raises(ValueError, match="reviewer identities are unknown"):
        anova_table(CodedRatings.from_counts([[2, 1], [1, 2], [0, 3]]))
    with pytest.raises(TypeError, match="not both"):
        anova_table(np.ones((2, 2)), units=[0], raters=[0], scores=[1])
    with pytest.raises(TypeError, match="all of units=, raters=, scores="):
        anova_table(units=[0, 1], raters=[0, 1])


def test_light_kappa_in_the_reliability_table_only_by_name() -> None:
    from calibrate.io import read_program
    from calibrate.reliability import reliability_table

    live = read_program(Path(__file__).parents[2] / "data/synthetic/pilot").ratings.select(
        kind="live"
    )
    assert "light_kappa" not in set(reliability_table(live, decision=False)["coefficient"])
    table = reliability_table(live, coefficients="light_kappa")
    assert set(table["coefficient"]) == {"light_kappa"}
    crit = table.iloc[0]["criterion_id"]
    row = table.iloc[0]
    direct = light_kappa(live.select(criterion=crit), weights="quadratic")
    assert row["level"] == "quadratic" and row["estimate"] == pytest.approx(
        direct.estimate, abs=1e-12
    )
    assert table.iloc[-1]["criterion_id"] == "decision" and table.iloc[-1]["level"] == "identity"
