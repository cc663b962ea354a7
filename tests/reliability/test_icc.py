"""Intraclass correlations: published values, pingouin, an independent dense method III, REML
against statsmodels, simulation over many seeds, undefined cases and error messages.

Reference data are verbatim copies in ``tests/reliability/data/<folder>/`` (attribution in
each ``expected.json``: ``data_source``, ``license``, and ``source`` per value).
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibrate.reliability._icc import ICC_FORMS, icc, icc_all, icc_all_long, icc_long

DATA = Path(__file__).parent / "data"
SF_FORMS = ICC_FORMS[:6]
MW_NAME = dict(zip(SF_FORMS, ICC_FORMS[6:], strict=True))


@cache
def _expected(folder: str) -> dict[str, dict]:
    doc = json.loads((DATA / folder / "expected.json").read_text(encoding="utf-8"))
    return {e["id"]: e for e in doc["expected"]}


@cache
def _wide(folder: str) -> pd.DataFrame:
    return pd.read_csv(DATA / folder / "data_wide.csv").set_index("unit")


def _textbook(x: np.ndarray) -> dict[str, float]:
    """Shrout & Fleiss (1979) Table 2 mean squares and ICCs, written out for complete data."""
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_total = np.sum((x - grand) ** 2)
    bms = ss_rows / (n - 1)
    jms = ss_cols / (k - 1)
    wms = (ss_total - ss_rows) / (n * (k - 1))
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    return {
        "ICC(1,1)": (bms - wms) / (bms + (k - 1) * wms),
        "ICC(2,1)": (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n),
        "ICC(3,1)": (bms - ems) / (bms + (k - 1) * ems),
        "ICC(1,k)": (bms - wms) / bms,
        "ICC(2,k)": (bms - ems) / (bms + (jms - ems) / n),
        "ICC(3,k)": (bms - ems) / bms,
    }


def _random_complete(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(3, 40)), int(rng.integers(2, 8))
    unit = rng.normal(size=(n, 1)) * rng.uniform(0, 2)
    rater = rng.normal(size=(1, k)) * rng.uniform(0, 2)
    return 3 + unit + rater + rng.normal(size=(n, k))


def _sparse_design(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each unit scored by 2 or 3 distinct raters drawn at random from m."""
    per = rng.choice([2, 3], size=n)
    unit = np.repeat(np.arange(n), per)
    first = rng.integers(0, m, size=n)
    second = 1 + rng.integers(0, m - 1, size=n)
    third = 1 + rng.integers(0, m - 2, size=n)
    third = third + (third >= second)  # distinct offsets, so distinct raters
    offsets = np.stack([np.zeros(n, dtype=np.int64), second, third], axis=1)
    slot = np.concatenate([np.arange(p) for p in per])
    return unit, (first[unit] + offsets[unit, slot]) % m


def _to_wide(unit: np.ndarray, rater: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = np.full((unit.max() + 1, rater.max() + 1), np.nan)
    x[unit, rater] = y
    return x


# ---- published reference values ----------------------------------------------------------

# Shrout & Fleiss (1979) 6 targets x 4 judges; values as reproduced by R psych::ICC and
# pingouin's test suite (source field of each expected.json entry).
SF_IDS = {
    "icc_1": "ICC(1,1)",
    "icc_2": "ICC(2,1)",
    "icc_3": "ICC(3,1)",
    "icc_4": "ICC(1,k)",
    "icc_5": "ICC(2,k)",
    "icc_6": "ICC(3,k)",
}


@pytest.mark.parametrize("entry_id", list(SF_IDS), ids=list(SF_IDS.values()))
def test_shrout_fleiss_1979(entry_id: str) -> None:
    exp = _expected("shrout_fleiss1979_icc_6x4")[entry_id]
    form = SF_IDS[entry_id]
    assert f"= {form}" in exp["level_or_form"]  # the id-to-form map matches the JSON
    res = icc(_wide("shrout_fleiss1979_icc_6x4"), form=form)
    ref = exp["se_or_ci"]
    assert res.coefficient == "icc" and res.level == form
    assert res.estimate == pytest.approx(exp["value"], abs=exp["tolerance"])
    assert res.ci == pytest.approx(tuple(ref["ci95"]), abs=ref["ci_tolerance"])
    assert res.extra["F"] == pytest.approx(ref["F"], abs=ref["F_tolerance"])
    assert (res.extra["df1"], res.extra["df2"]) == (ref["df1"], ref["df2"])
    assert res.extra["p_value"] == pytest.approx(ref["p_value"], abs=ref["p_tolerance"])
    assert res.method == "F" and res.n_units == 6 and res.n_pairable == 24 and res.note == ""


def test_shrout_fleiss_1979_long_file_matches_wide() -> None:
    long = pd.read_csv(DATA / "shrout_fleiss1979_icc_6x4" / "data_long.csv")
    from_long = icc_all_long(long["unit"], long["rater"], long["value"])
    from_wide = icc_all(_wide("shrout_fleiss1979_icc_6x4"))
    pd.testing.assert_frame_equal(from_long, from_wide, rtol=1e-12)


def test_irr_anxiety_icc_a1() -> None:
    """R irr ``icc(anxiety, "twoway", "agreement")`` via pyirr's test suite (source in JSON).

    irr reports the F test of ICC(A,1) with df2 = v, McGraw & Wong's Satterthwaite df
    evaluated at the estimate. Here v is ``extra["df2_interval"]`` (it drives the interval,
    as in irr and pingouin) and the F test keeps the integer df2 = (n-1)(k-1), which is
    McGraw & Wong's test at rho0 = 0 (pingouin's and psych's convention).
    """
    exp = _expected("irr_anxiety_20x3")["icc_A1_twoway_agreement"]
    ref = exp["se_or_ci"]
    res = icc(_wide("irr_anxiety_20x3"), form="ICC(A,1)")
    assert res.estimate == pytest.approx(exp["value"], abs=exp["tolerance"])
    assert res.ci == pytest.approx(tuple(ref["ci95"]), abs=exp["tolerance"])
    assert res.extra["F"] == pytest.approx(ref["F"], abs=0.005)  # published to 2 dp
    assert res.extra["df1"] == ref["df1"]
    assert res.extra["df2_interval"] == pytest.approx(ref["df2"], abs=0.05)  # 1 dp
    p_irr = stats.f.sf(res.extra["F"], res.extra["df1"], res.extra["df2_interval"])
    assert p_irr == pytest.approx(ref["p_value"], abs=5e-5)  # 4 dp
    # Our own p-value: integer df2, the value pingouin gives (crosscheck recorded in the JSON).
    assert res.extra["df2"] == 38
    assert res.extra["p_value"] == pytest.approx(exp["crosscheck"]["computed"]["pval"], abs=5e-7)


# ---- pingouin and textbook formulas on complete data ------------------------------------


def _pingouin_table(x: np.ndarray) -> pd.DataFrame:
    pg = pytest.importorskip("pingouin")
    long = pd.DataFrame(x).rename_axis("unit").reset_index().melt(id_vars="unit", var_name="rater")
    saved = pg.options.get("round.column.CI95")
    pg.options["round.column.CI95"] = None  # pingouin rounds intervals to 2 dp by default
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecations raised inside pingouin
            table = pg.intraclass_corr(long, targets="unit", raters="rater", ratings="value")
    finally:
        pg.options["round.column.CI95"] = saved
    return table.set_index("Type")


@pytest.mark.parametrize("seed", range(12))
def test_matches_pingouin_on_complete_data(seed: int) -> None:
    x = _random_complete(seed)
    ref = _pingouin_table(x)
    ours = icc_all(x).set_index("mcgraw_wong")
    names = {"ICC(1)": "ICC(1,1)", "ICC(k)": "ICC(1,k)"}  # pingouin's labels for the one-way forms
    for mw, row in ours.iterrows():
        p = ref.loc[names.get(mw, mw)]
        assert row["estimate"] == pytest.approx(p["ICC"], abs=1e-9)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(p["CI95"]), abs=1e-9)
        assert row["F"] == pytest.approx(p["F"], rel=1e-9)
        assert (row["df1"], row["df2"]) == (p["df1"], p["df2"])
        assert row["p_value"] == pytest.approx(p["pval"], abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_sparse_path_equals_textbook_anova_on_complete_data(seed: int) -> None:
    x = _random_complete(100 + seed)
    expected = _textbook(x)
    rng = np.random.default_rng(seed)
    unit, rater = np.indices(x.shape)
    order = rng.permutation(x.size)  # long rows in any order
    long_args = (unit.ravel()[order], rater.ravel()[order], x.ravel()[order])
    frame = icc_all_long(*long_args).set_index("level")
    for form, value in expected.items():
        assert frame.loc[form, "estimate"] == pytest.approx(value, abs=1e-9)
        assert icc_long(*long_args, form=form).estimate == pytest.approx(value, abs=1e-9)
        assert icc(x, form=form).estimate == pytest.approx(value, abs=1e-9)
        assert frame.loc[form, "method"] == "F"
    assert frame.loc["ICC(2,k)", "k"] == x.shape[1]


@pytest.mark.parametrize("sf", SF_FORMS)
def test_both_spellings_give_the_same_result(sf: str) -> None:
    x = _random_complete(7)
    assert icc(x, form=sf) == icc(x, form=MW_NAME[sf])


def test_average_interval_is_spearman_brown_of_single() -> None:
    x = _random_complete(3)
    k = x.shape[1]
    for single, average in (
        ("ICC(1,1)", "ICC(1,k)"),
        ("ICC(2,1)", "ICC(2,k)"),
        ("ICC(3,1)", "ICC(3,k)"),
    ):
        lo, hi = icc(x, form=single).ci
        assert icc(x, form=average).ci == pytest.approx(
            (k * lo / (1 + (k - 1) * lo), k * hi / (1 + (k - 1) * hi)), abs=1e-12
        )


def test_confidence_level_is_used() -> None:
    x = _random_complete(4)
    wide, narrow = icc(x, confidence_level=0.99).ci, icc(x, confidence_level=0.8).ci
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


# ---- incomplete designs: an independent dense method III ---------------------------------


def _dense_method3(unit: np.ndarray, rater: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Henderson's method III with explicit projection matrices (small designs only)."""
    n_obs = y.size
    Zs = np.eye(unit.max() + 1)[unit]
    Zr = np.eye(rater.max() + 1)[rater]
    one = np.ones((n_obs, 1))

    def proj(*blocks: np.ndarray) -> np.ndarray:
        X = np.hstack(blocks)
        return X @ np.linalg.pinv(X)

    full, no_r, no_s = proj(one, Zs, Zr), proj(one, Zs), proj(one, Zr)
    quad = {"s": full - no_s, "r": full - no_r, "e": np.eye(n_obs) - full}
    # E[y'Ay] = tr(A) s2_e + tr(A Zs Zs') s2_s + tr(A Zr Zr') s2_r; solve the 3 x 3 system.
    lhs = np.array(
        [[np.trace(A), np.trace(A @ Zs @ Zs.T), np.trace(A @ Zr @ Zr.T)] for A in quad.values()]
    )
    rhs = np.array([y @ A @ y for A in quad.values()])
    var_e, var_s, var_r = np.linalg.solve(lhs, rhs)
    return {"var_unit": var_s, "var_rater": var_r, "var_residual": var_e}


@pytest.mark.parametrize("seed", range(5))
def test_sparse_method3_equals_dense_projections(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 30)), int(rng.integers(3, 9))
    unit, rater = _sparse_design(rng, n, m)
    y = rng.normal(size=n)[unit] + rng.normal(size=m)[rater] + rng.normal(size=unit.size)
    dense = _dense_method3(unit, rater, y)
    res = icc_long(unit, rater, y, form="ICC(2,1)")
    for name, value in dense.items():
        assert res.extra[name] == pytest.approx(value, abs=1e-9)
    assert res.method == "F-approximate" and "method III" in res.note


def test_disconnected_design_equals_dense_projections() -> None:
    # Two reviewer teams that never share a submission: two connected blocks.
    rng = np.random.default_rng(11)
    unit_a, rater_a = _sparse_design(rng, 12, 4)
    unit_b, rater_b = _sparse_design(rng, 9, 3)
    unit = np.concatenate([unit_a, unit_b + 12])
    rater = np.concatenate([rater_a, rater_b + 4])
    y = rng.normal(size=21)[unit] + rng.normal(size=7)[rater] + rng.normal(size=unit.size)
    dense = _dense_method3(unit, rater, y)
    res = icc_long(unit, rater, y, form="ICC(2,1)")
    for name, value in dense.items():
        assert res.extra[name] == pytest.approx(value, abs=1e-9)
    assert res.extra["df1"] == 21 - 2 and res.extra["df2"] == unit.size - 21 - 7 + 2


def test_oneway_unbalanced_matches_textbook() -> None:
    rng = np.random.default_rng(2)
    groups = [
        rng.normal(size=int(size)) + shift
        for size, shift in zip(rng.integers(1, 6, 15), rng.normal(size=15), strict=True)
    ]
    sizes = np.array([len(g) for g in groups])
    N, n = sizes.sum(), len(groups)
    allv = np.concatenate(groups)
    ssb = sum(len(g) * (g.mean() - allv.mean()) ** 2 for g in groups)
    ssw = sum(((g - g.mean()) ** 2).sum() for g in groups)
    msb, msw = ssb / (n - 1), ssw / (N - n)
    k0 = (N - (sizes**2).sum() / N) / (n - 1)
    var_s = (msb - msw) / k0
    unit = np.repeat(np.arange(n), sizes)
    res = icc_long(unit, np.arange(N), allv, form="ICC(1,1)")  # one-way ignores raters
    assert res.estimate == pytest.approx(var_s / (var_s + msw), abs=1e-12)
    k_h = n / np.sum(1 / sizes)
    avg = icc_long(unit, np.arange(N), allv, form="ICC(1,k)")
    assert avg.extra["k"] == pytest.approx(k_h)
    assert avg.estimate == pytest.approx(var_s / (var_s + msw / k_h), abs=1e-12)
    assert res.n_pairable == sizes[sizes >= 2].sum()


def test_missing_ratings_use_every_rating() -> None:
    x = _wide("shrout_fleiss1979_icc_6x4").to_numpy(dtype=float)
    x[0, 1] = np.nan
    res = icc(x, form="ICC(2,1)")
    assert res.n_units == 6 and res.extra["n_ratings"] == 23
    assert res.method == "F-approximate"
    dense = _dense_method3(*np.nonzero(~np.isnan(x)), x[~np.isnan(x)])
    assert res.extra["var_unit"] == pytest.approx(dense["var_unit"], abs=1e-9)


def test_layout_invariance() -> None:
    rng = np.random.default_rng(5)
    unit, rater = _sparse_design(rng, 25, 6)
    y = rng.integers(1, 5, size=unit.size).astype(float)
    base = icc_all(_to_wide(unit, rater, y))
    # Rows and columns permuted, an empty row and column added, labels instead of codes.
    x = _to_wide(unit, rater, y)[rng.permutation(25)][:, rng.permutation(6)]
    x = np.vstack([x, np.full((1, 6), np.nan)])
    x = np.hstack([x, np.full((26, 1), np.nan)])
    pd.testing.assert_frame_equal(icc_all(x), base, rtol=1e-10)
    labelled = icc_all_long([f"sub-{u}" for u in unit], [f"rev-{r}" for r in rater], y)
    pd.testing.assert_frame_equal(labelled, base, rtol=1e-10)
    sparse_codes = icc_all_long(unit * 7 + 3, rater * 5, y)  # unused codes are skipped
    pd.testing.assert_frame_equal(sparse_codes, base, rtol=1e-10)
    with_nan = icc_all_long(np.append(unit, 0), np.append(rater, 99), np.append(y, np.nan))
    pd.testing.assert_frame_equal(with_nan, base, rtol=1e-10)


def test_coded_ratings_and_ratings_table_inputs() -> None:
    from calibrate.reliability import CodedRatings

    x = _wide("shrout_fleiss1979_icc_6x4")
    base = icc_all(x)
    pd.testing.assert_frame_equal(icc_all(CodedRatings.from_array(x)), base)
    counts = CodedRatings.from_counts(
        CodedRatings.from_array(x).value_counts(), categories=np.arange(1, 11)
    )
    anonymous = icc_all(counts).set_index("level")
    assert anonymous.loc["ICC(1,1)", "estimate"] == pytest.approx(
        base.loc[0, "estimate"], abs=1e-12
    )
    assert math.isnan(anonymous.loc["ICC(2,1)", "estimate"])
    assert "reviewer identities are unknown" in anonymous.loc["ICC(2,1)", "note"]


def test_k_projects_average_forms() -> None:
    rng = np.random.default_rng(9)
    unit, rater = _sparse_design(rng, 40, 8)
    y = rng.normal(size=40)[unit] + rng.normal(size=unit.size)
    single = icc_long(unit, rater, y, form="ICC(2,1)")
    assert icc_long(unit, rater, y, form="ICC(2,k)", k=1).estimate == pytest.approx(single.estimate)
    rho, k = single.estimate, 5
    projected = icc_long(unit, rater, y, form="ICC(A,k)", k=k)
    assert projected.estimate == pytest.approx(k * rho / (1 + (k - 1) * rho))
    assert "k = 5" in projected.note


# ---- REML -------------------------------------------------------------------------------


def _small_unbalanced(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, m = 40, 8
    per = rng.choice([2, 3, 4], size=n)
    unit = np.repeat(np.arange(n), per)
    rater = np.concatenate([rng.choice(m, size=p, replace=False) for p in per])
    y = 2 + rng.normal(0, 1, n)[unit] + rng.normal(0, 0.6, m)[rater] + rng.normal(0, 0.8, unit.size)
    return unit, rater, y


@pytest.mark.parametrize("seed", [5, 6])
def test_reml_matches_statsmodels_mixedlm(seed: int) -> None:
    """statsmodels MixedLM REML, crossed via variance components (one group) and one-way.

    Tolerance: 1e-3 relative on the components; both optimisers stop near 1e-5.
    """
    smf = pytest.importorskip("statsmodels.formula.api")
    unit, rater, y = _small_unbalanced(seed)
    df = pd.DataFrame({"unit": unit, "rater": rater, "y": y, "one": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels convergence chatter
        crossed = smf.mixedlm(
            "y ~ 1", df, groups="one", vc_formula={"unit": "0 + C(unit)", "rater": "0 + C(rater)"}
        ).fit(reml=True, method=["lbfgs"])
        oneway = smf.mixedlm("y ~ 1", df, groups="unit").fit(reml=True, method=["lbfgs"])
    vc = dict(zip(crossed.model.exog_vc.names, crossed.vcomp, strict=True))
    res = icc_long(unit, rater, y, form="ICC(2,1)", estimator="reml")
    assert res.extra["var_unit"] == pytest.approx(vc["unit"], rel=1e-3)
    assert res.extra["var_rater"] == pytest.approx(vc["rater"], rel=1e-3)
    assert res.extra["var_residual"] == pytest.approx(crossed.scale, rel=1e-3)
    assert res.method == "none" and "REML" in res.note
    res1 = icc_long(unit, rater, y, form="ICC(1,1)", estimator="reml")
    assert res1.extra["var_unit"] == pytest.approx(float(oneway.cov_re.iloc[0, 0]), rel=1e-3)
    assert res1.extra["var_residual"] == pytest.approx(oneway.scale, rel=1e-3)
    # Method III and REML estimate the same ICC; on 40 submissions they differ by ~0.01.
    for form in ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)"):
        anova = icc_long(unit, rater, y, form=form).estimate
        assert icc_long(unit, rater, y, form=form, estimator="reml").estimate == pytest.approx(
            anova, abs=0.05
        )


def test_reml_equals_anova_on_complete_data() -> None:
    # Balanced data with positive ANOVA components: REML = ANOVA (Searle et al. 1992, 6.7).
    x = _random_complete(21)
    for form in ("ICC(1,1)", "ICC(2,1)", "ICC(3,k)"):
        anova, reml = icc(x, form=form), icc(x, form=form, estimator="reml")
        assert anova.extra["var_unit"] > 0 and anova.extra.get("var_rater", 1) > 0
        assert reml.estimate == pytest.approx(anova.estimate, abs=1e-5)


# ---- operating characteristics over many seeds -------------------------------------------

VAR_UNIT, VAR_RATER, VAR_RESID = 1.0, 0.3, 0.7


def _simulate(
    seed: int, n: int, m: int, oneway: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    unit, rater = _sparse_design(rng, n, m)
    # One-way: every rating by a different rater, so the rater effect is part of the error.
    rater_part = rng.normal(0, math.sqrt(VAR_RATER), unit.size if oneway else m)
    y = (
        3
        + rng.normal(0, math.sqrt(VAR_UNIT), n)[unit]
        + (rater_part if oneway else rater_part[rater])
        + rng.normal(0, math.sqrt(VAR_RESID), unit.size)
    )
    return unit, rater, y


def _within_mc_error(errors: np.ndarray, label: str) -> None:
    """Mean error within 4 Monte Carlo standard errors of zero (per column)."""
    mean = errors.mean(axis=0)
    mcse = errors.std(axis=0, ddof=1) / math.sqrt(len(errors))
    assert np.all(np.abs(mean) < 4 * mcse), f"{label}: mean error {mean}, MC s.e. {mcse}"


@pytest.mark.slow
def test_method3_components_unbiased_and_intervals_cover() -> None:
    """Sparse design like a review program (2-3 of m reviewers per submission), 1000 seeds.

    Method III components are unbiased given the design, so their mean error over seeds
    must be within 4 MC standard errors of 0. The approximate 95% intervals must cover the
    population ICC at 0.95 within 4 binomial MC standard errors (0.028).
    """
    reps, n, m = 1000, 300, 30
    errors, covered = [], []
    truth = {"ICC(2,1)": 0.5, "ICC(3,1)": VAR_UNIT / (VAR_UNIT + VAR_RESID)}
    for seed in range(reps):
        unit, rater, y = _simulate(seed, n, m)
        res = {form: icc_long(unit, rater, y, form=form) for form in truth}
        e = res["ICC(2,1)"].extra
        errors.append(
            [e["var_unit"] - VAR_UNIT, e["var_rater"] - VAR_RATER, e["var_residual"] - VAR_RESID]
        )
        covered.append([res[f].ci[0] <= truth[f] <= res[f].ci[1] for f in truth])
    _within_mc_error(np.array(errors), "two-way components")
    coverage = np.mean(covered, axis=0)
    assert np.all(np.abs(coverage - 0.95) < 4 * math.sqrt(0.95 * 0.05 / reps)), coverage


@pytest.mark.slow
def test_icc_recovered_on_sparse_designs() -> None:
    """Population ICCs recovered: mean error within 4 MC standard errors over 300 seeds.

    The ICC is a ratio of unbiased estimates, so it carries an O(1/n) bias; with 1000
    submissions it is below the Monte Carlo resolution (about 0.001).
    """
    reps, n, m = 300, 1000, 60
    errors = []
    for seed in range(reps):
        unit, rater, y = _simulate(10_000 + seed, n, m)
        frame = icc_all_long(unit, rater, y).set_index("level")
        k = frame.loc["ICC(2,k)", "k"]
        truth = {
            "ICC(2,1)": VAR_UNIT / (VAR_UNIT + VAR_RATER + VAR_RESID),
            "ICC(3,1)": VAR_UNIT / (VAR_UNIT + VAR_RESID),
            "ICC(2,k)": VAR_UNIT / (VAR_UNIT + (VAR_RATER + VAR_RESID) / k),
            "ICC(3,k)": VAR_UNIT / (VAR_UNIT + VAR_RESID / k),
        }
        errors.append([frame.loc[f, "estimate"] - t for f, t in truth.items()])
    _within_mc_error(np.array(errors), "two-way ICCs")


@pytest.mark.slow
def test_oneway_recovered_and_covers() -> None:
    reps, n = 600, 300
    truth = VAR_UNIT / (VAR_UNIT + VAR_RATER + VAR_RESID)
    errors, covered = [], []
    for seed in range(reps):
        unit, rater, y = _simulate(20_000 + seed, n, 30, oneway=True)
        res = icc_long(unit, rater, y, form="ICC(1,1)")
        errors.append(
            [
                res.extra["var_unit"] - VAR_UNIT,
                res.extra["var_residual"] - VAR_RATER - VAR_RESID,
                res.estimate - truth,
            ]
        )
        covered.append(res.ci[0] <= truth <= res.ci[1])
    _within_mc_error(np.array(errors), "one-way")
    assert abs(np.mean(covered) - 0.95) < 4 * math.sqrt(0.95 * 0.05 / reps)


# ---- undefined cases ----------------------------------------------------------------------

UNDEFINED = {
    "one rater": (np.array([[1.0], [2.0], [3.0]]), "no submission has two or more ratings"),
    "one unit": (np.array([[1.0, 2.0, 3.0]]), "only one submission"),
    "no variance": (np.full((4, 3), 2.0), "all ratings are equal"),
    "no ratings": (np.full((3, 3), np.nan), "there are no ratings"),
    "one rating per unit": (
        np.where(np.eye(3) > 0, [[1.0], [2.0], [3.0]], np.nan),
        "no submission has two",
    ),
}


@pytest.mark.parametrize("case", list(UNDEFINED))
@pytest.mark.parametrize("estimator", ["anova", "reml"])
def test_undefined_cases_say_why(case: str, estimator: str) -> None:
    data, words = UNDEFINED[case]
    for form in SF_FORMS:
        res = icc(data, form=form, estimator=estimator)
        assert math.isnan(res.estimate) and not res.defined
        assert words in res.note and res.note.startswith("ICC undefined")
        assert res.method == "none" and all(math.isnan(b) for b in res.ci)


def test_perfect_agreement_is_one() -> None:
    x = np.array([[1.0, 1, 1], [2, 2, 2], [4, 4, 4]])
    for form in SF_FORMS:
        res = icc(x, form=form)
        assert res.estimate == 1.0 and res.ci == (1.0, 1.0)
    reml = icc(x, estimator="reml")
    assert reml.estimate == 1.0 and "no residual variation" in reml.note


def test_consistency_undefined_when_only_reviewers_differ() -> None:
    x = np.array([[1.0, 2, 3], [1, 2, 3], [1, 2, 3]])
    res = icc(x, form="ICC(C,1)")
    assert math.isnan(res.estimate) and "not positive" in res.note
    agreement = icc(x, form="ICC(A,1)")
    assert agreement.estimate == 0.0 and "no interval" in agreement.note


# ---- option and input errors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"form": "ICC(2, 1)"}, ValueError, "form must be one of 'ICC(1,1)', 'ICC(2,1)'"),
        ({"form": "icc2"}, ValueError, "'ICC(C,k)'; got 'icc2'"),
        ({"form": 2}, ValueError, "got 2"),
        ({"estimator": "ml"}, ValueError, "estimator must be one of 'anova', 'reml'; got 'ml'"),
        ({"confidence_level": 95}, ValueError, "confidence_level must be between 0 and 1"),
        ({"k": 0.5}, ValueError, "k must be None or a number of ratings >= 1; got 0.5"),
        ({"k": "3"}, TypeError, "k must be None or a number"),
    ],
    ids=["form-space", "form-unknown", "form-int", "estimator", "confidence", "k-small", "k-str"],
)
def test_bad_options(options: dict, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        icc(np.ones((3, 2)), **options)
    assert words in str(info.value)


@pytest.mark.parametrize("f", [icc, icc_all], ids=["icc", "icc_all"])
def test_method_is_a_deprecated_alias_of_estimator(f) -> None:
    x = _wide("shrout_fleiss1979_icc_6x4")
    with pytest.warns(DeprecationWarning, match=r"pass estimator='reml' instead"):
        old = f(x, method="reml")
    new = f(x, estimator="reml")
    if not isinstance(new, pd.DataFrame):
        old, new = old.to_frame(), new.to_frame()
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(TypeError, match=r"estimator= only; got both estimator='anova'"):
        f(x, estimator="anova", method="reml")
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(ValueError, match="method must be one of 'anova', 'reml'; got 'ml'"),
    ):
        f(x, method="ml")


@pytest.mark.parametrize("f", [icc_long, icc_all_long], ids=["icc_long", "icc_all_long"])
def test_method_is_a_deprecated_alias_of_estimator_long(f) -> None:
    long = pd.read_csv(DATA / "shrout_fleiss1979_icc_6x4" / "data_long.csv")
    args = (long.iloc[:, 0], long.iloc[:, 1], long.iloc[:, 2])
    with pytest.warns(DeprecationWarning, match="estimator"):
        old = f(*args, method="reml")
    new = f(*args, estimator="reml")
    if not isinstance(new, pd.DataFrame):
        old, new = old.to_frame(), new.to_frame()
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(TypeError, match="got both"):
        f(*args, estimator="reml", method="anova")


def test_bootstrap_passes_the_estimator_to_icc() -> None:
    from calibrate.reliability import bootstrap

    x = _wide("shrout_fleiss1979_icc_6x4")
    res = bootstrap("icc", x, n_resamples=20, rng=1, method="percentile", estimator="reml")
    assert res.estimate == icc(x, estimator="reml").estimate
    assert res.method == "bootstrap-percentile"


def test_all_form_names_listed_in_error() -> None:
    with pytest.raises(ValueError) as info:
        icc(np.ones((3, 2)), form="ICC(4,1)")
    for name in ICC_FORMS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: icc_long([0, 0, 1, 1], [0, 0, 1, 0], [1, 2, 3, 4]),
            ValueError,
            "unit 0 with rater 0",
        ),
        (
            lambda: icc_long(["a", "b", "b"], ["x", "x", "x"], [1, 2, 3]),
            ValueError,
            "unit 'b' with rater 'x'",
        ),
        (lambda: icc_long([0, 0, 1], [0, 1], [1, 2, 3]), ValueError, "same length; got 3, 2 and 3"),
        (lambda: icc_long([0, 1], [0, 1], ["a", "b"]), TypeError, "scores must be numeric"),
        (lambda: icc_long([0, 1], [0, 1], [1.0, np.inf]), ValueError, "finite"),
        (
            lambda: icc_long([0.0, np.nan], [0, 1], [1, 2]),
            ValueError,
            "units must not contain missing",
        ),
        (lambda: icc([["a", "b"], ["c", "d"]]), TypeError, "numeric units x raters"),
        (lambda: icc(np.ones((2, 2, 2))), ValueError, "two-dimensional"),
        (lambda: icc(np.ones(4)), ValueError, "two-dimensional"),
    ],
    ids=[
        "duplicate",
        "duplicate-labels",
        "lengths",
        "text-scores",
        "inf",
        "nan-unit",
        "text-data",
        "3d",
        "1d",
    ],
)
def test_bad_data(call, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_sparse_solver_branch_for_many_reviewers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above _DENSE_RATERS reviewers the reviewer system is solved sparsely: same answers."""
    import calibrate.reliability._icc_anova as icc_anova
    import calibrate.reliability._icc_reml as icc_reml

    rng = np.random.default_rng(12)
    unit, rater = _sparse_design(rng, 60, 12)
    y = rng.normal(size=60)[unit] + rng.normal(size=12)[rater] + rng.normal(size=unit.size)
    dense = {m: icc_long(unit, rater, y, form="ICC(2,1)", estimator=m) for m in ("anova", "reml")}
    monkeypatch.setattr(icc_anova, "_DENSE_RATERS", 1)
    for estimator, expected in dense.items():
        got = icc_long(unit, rater, y, form="ICC(2,1)", estimator=estimator)
        assert got.estimate == pytest.approx(expected.estimate, abs=1e-9)
    # REML without the per-group reviewer matrices (designs with many distinct n_i).
    monkeypatch.setattr(icc_reml, "_REML_GROUP_ENTRIES", 0)
    got = icc_long(unit, rater, y, form="ICC(2,1)", estimator="reml")
    assert got.estimate == pytest.approx(dense["reml"].estimate, abs=1e-9)
