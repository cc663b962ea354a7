"""Many-facet Rasch model: recovery of known severities, an independent fit of the real
sirt essay ratings, the estimator contract and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.rubric import parse_rubric
from calibrate.severity import ManyFacetRasch
from calibrate.synth import SynthSpec, generate

from .conftest import DATA


@pytest.mark.parametrize("seed", [1, 2, 3, 4], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("model", ["rating_scale", "partial_credit"])
def test_recovers_true_severities(seed: int, model: str) -> None:
    program = generate(
        "rubrics/evidence-4level.yaml", SynthSpec(n_submissions=800, n_reviewers=20, seed=seed)
    )
    fit = ManyFacetRasch(model=model).fit(program.ratings_table())
    rv = fit.reviewers_
    true = np.array([program.truth["reviewers"][r]["severity"] for r in rv["reviewer_id"]])
    enough = rv["n"].to_numpy() >= 40
    assert enough.sum() >= 15
    assert fit.converged_
    assert np.corrcoef(rv["severity"][enough], true[enough])[0, 1] >= 0.95


def test_outputs_are_coherent(small_program) -> None:
    fit = ManyFacetRasch().fit(small_program.ratings_table())
    assert fit.severity_.mean() == pytest.approx(0.0, abs=1e-10)
    assert fit.difficulty_.mean() == pytest.approx(0.0, abs=1e-10)
    assert np.allclose(fit.thresholds_.sum(axis=1), 0.0)
    assert (fit.severity_se_ > 0).all()
    # mean squares have expectation 1: the reviewers' should sit near it
    assert 0.7 < fit.reviewers_["infit"].median() < 1.3
    assert 0.7 < fit.reviewers_["outfit"].median() < 1.3
    assert set(fit.separation_.index) == {"reviewers", "criteria", "submissions"}
    assert 0 <= fit.separation_.loc["reviewers", "reliability"] <= 1
    # fair averages remove severity: harsher reviewers have lower fair averages
    rv = fit.reviewers_
    assert np.corrcoef(rv["severity"], rv["fair_average"])[0, 1] < -0.95
    rub = small_program.rubric
    lo, hi = min(c.min_score for c in rub.criteria), max(c.max_score for c in rub.criteria)
    assert fit.submissions_["fair_average"].between(lo, hi).all()
    assert len(fit.bias_) == fit.bias_[["reviewer_id", "criterion_id"]].drop_duplicates().shape[0]
    assert np.isfinite(fit.bias_["bias"]).all() and (fit.bias_["se"] > 0).all()


def test_bias_term_finds_a_planted_interaction() -> None:
    program = generate(
        "rubrics/evidence-4level.yaml", SynthSpec(n_submissions=600, n_reviewers=10, seed=5)
    )
    f = program.ratings.copy()
    hit = (f["reviewer_id"] == "R001") & (f["criterion_id"] == "artifacts")
    f.loc[hit, "score"] = np.maximum(
        f.loc[hit, "score"] - 1, 1
    )  # R001 one level harsher on artifacts only
    fit = ManyFacetRasch().fit(RatingsTable(f, program.rubric))
    b = fit.bias_.set_index(["reviewer_id", "criterion_id"])
    assert b.loc[("R001", "artifacts"), "t"] > 3
    assert b["t"].abs().idxmax() == ("R001", "artifacts")


def test_sample_scores_is_a_generative_model(small_program) -> None:
    fit = ManyFacetRasch().fit(small_program.ratings_table())
    hard, soft = fit.severity_.idxmax(), fit.severity_.idxmin()
    true = np.full((2000, 3), 3)
    got_hard = fit.sample_scores(true, [hard] * 2000, rng=1)
    got_soft = fit.sample_scores(true, [soft] * 2000, rng=1)
    assert got_hard.shape == (2000, 3) and got_hard.dtype == np.int64
    assert set(np.unique(got_hard)) <= {1, 2, 3, 4}
    assert got_hard.mean() < got_soft.mean()
    assert np.array_equal(fit.sample_scores(true, [hard] * 2000, rng=1), got_hard)
    # plugs into the policy simulator as a reviewer model
    from calibrate.policy import Policy, simulate

    rub = small_program.rubric
    population = np.tile(np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]), (50, 1))
    out = simulate(rub, Policy.from_rubric(rub), fit, population, n=400, rng=2)
    assert 0 <= out.accuracy <= 1


# ---- the real essay ratings (sirt data.ratings1) ---------------------------------------
def _non_extreme(table: RatingsTable) -> RatingsTable:
    f = table.frame
    while True:
        g = f.groupby("submission_id", observed=True)["score"].agg(["sum", "size"])
        ext = g.index[(g["sum"] == 0) | (g["sum"] == 3 * g["size"])]
        if len(ext) == 0:
            return RatingsTable(f.reset_index(drop=True), table.rubric)
        f = f[~f["submission_id"].isin(ext)]


def _direct_rating_scale_fit(f: pd.DataFrame) -> tuple[pd.Series, pd.Series, np.ndarray, float]:
    """Independent route: the rating scale likelihood written out and maximised by L-BFGS
    over all parameters at once (sum-to-zero constraints by elimination)."""
    s, si = np.unique(f["submission_id"].astype(str), return_inverse=True)
    r, ri = np.unique(f["reviewer_id"].astype(str), return_inverse=True)
    c, ci = np.unique(f["criterion_id"].astype(str), return_inverse=True)
    x = f["score"].to_numpy()
    n_s, n_r, n_c, k = len(s), len(r), len(c), np.arange(4)

    def unpack(p):
        a = np.append(p[n_s : n_s + n_r - 1], -p[n_s : n_s + n_r - 1].sum())
        d = np.append(
            p[n_s + n_r - 1 : n_s + n_r + n_c - 2], -p[n_s + n_r - 1 : n_s + n_r + n_c - 2].sum()
        )
        t = np.append(p[n_s + n_r + n_c - 2 :], -p[n_s + n_r + n_c - 2 :].sum())
        return p[:n_s], a, d, t

    def nll(p):
        th, a, d, t = unpack(p)
        psi = (th[si] - a[ri] - d[ci])[:, None] * k - np.concatenate([[0], np.cumsum(t)])
        lse = logsumexp(psi, axis=1)
        prob = np.exp(psi - lse[:, None])
        resid = x - prob @ k
        ga, gd = -np.bincount(ri, resid, n_r), -np.bincount(ci, resid, n_c)
        surv = np.cumsum(prob[:, ::-1], axis=1)[:, ::-1][:, 1:]
        gt = -((x[:, None] >= np.arange(1, 4)) - surv).sum(axis=0)
        grad = np.concatenate(
            [np.bincount(si, resid, n_s), ga[:-1] - ga[-1], gd[:-1] - gd[-1], gt[:-1] - gt[-1]]
        )
        return -(psi[np.arange(len(x)), x] - lse).sum(), -grad

    res = minimize(
        nll,
        np.zeros(n_s + n_r + n_c),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 20000, "gtol": 1e-10, "ftol": 1e-15},
    )
    _, a, d, t = unpack(res.x)
    return pd.Series(a, index=r), pd.Series(d, index=c), t, -float(res.fun)


def test_sirt_ratings1_runs(sirt_table) -> None:
    fit = ManyFacetRasch().fit(sirt_table)
    assert fit.converged_
    assert list(fit.reviewers_["reviewer_id"]) == [
        "db01",
        "db02",
        "db03",
        "db07",
        "db08",
        "db31",
        "db54",
    ]
    assert fit.reviewers_["n"].sum() == 1370
    assert fit.submissions_["extreme"].sum() == 5  # 5 essays scored all 0 or all 3
    # db01 gives the lowest scores and is the harshest; db07 the highest
    assert fit.severity_.idxmax() == "db01"
    assert fit.reviewers_.set_index("reviewer_id")["observed_average"].idxmax() == "db07"
    assert fit.separation_.loc["reviewers", "reliability"] > 0.9


def test_sirt_ratings1_matches_a_direct_maximisation(sirt_table) -> None:
    table = _non_extreme(sirt_table)  # extreme essays have no finite MLE in a plain fit
    assert len(table) == 1340
    fit = ManyFacetRasch(tol=1e-9, max_iter=2000).fit(table)
    sev, diff, tau, ll = _direct_rating_scale_fit(table.frame)
    assert np.abs(fit.severity_.loc[sev.index] - sev).max() < 1e-5
    assert np.abs(fit.difficulty_.loc[diff.index] - diff).max() < 1e-5
    assert np.abs(fit.thresholds_.iloc[0].to_numpy() - tau).max() < 1e-5
    assert fit.log_likelihood_ == pytest.approx(ll, abs=1e-6)
    # and the full-data fit (with the extreme adjustment) orders the reviewers identically
    full = ManyFacetRasch().fit(sirt_table)
    assert np.corrcoef(full.severity_.loc[sev.index], sev)[0, 1] > 0.9999


def test_sirt_ratings1_dichotomised_agrees_with_conditional_ml() -> None:
    from statsmodels.discrete.conditional_models import ConditionalLogit

    d = pd.read_csv(DATA / "sirt_data_ratings1_long.csv")
    y = (d["value"] >= 2).astype(int)
    rub = parse_rubric(
        'id: binary\ntitle: b\nversion: "1"\nscale:\n  - {score: 0, label: low}\n  - {score: 1, label: high}\n'
        "criteria:\n"
        + "".join(f"  - {{id: k{i}, name: k{i}}}\n" for i in range(1, 6))
        + "pass_rule: {min_total: 3}\n"
    )
    table = RatingsTable(
        canonical_frame(d["unit"].astype(str), d["rater"], d["criterion"], y, rub), rub
    )
    fit = ManyFacetRasch().fit(table)
    x = pd.get_dummies(d[["rater", "criterion"]], drop_first=True).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels notes the groups without variation it drops
        cml = ConditionalLogit(y.to_numpy(), x.to_numpy(), groups=d["unit"].to_numpy()).fit(disp=0)
    b = pd.Series(cml.params, index=x.columns)
    raters = sorted(d["rater"].unique())
    sev_cml = np.concatenate([[0.0], -b[[f"rater_{r}" for r in raters[1:]]].to_numpy()])
    sev_cml -= sev_cml.mean()
    ours = fit.severity_.loc[raters].to_numpy()
    assert np.corrcoef(sev_cml, ours)[0, 1] > 0.999
    # JMLE spreads the measures a little more than CML (the L / (L - 1) bias)
    assert 1.0 < ours.std() / sev_cml.std() < 1.15


# ---- contract and errors -----------------------------------------------------------------
def test_estimator_contract(small_program) -> None:
    model = ManyFacetRasch(max_iter=50)
    assert not [k for k in vars(model) if k.endswith("_")]
    assert model.fit(small_program.ratings_table()) is model
    learned = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert {"severity_", "severity_se_", "reviewers_", "bias_", "n_iter_", "converged_"} <= set(
        learned
    )
    assert 1 <= model.n_iter_ <= 50


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"model": "partial"}, ["model", "'rating_scale'", "'partial_credit'", "'partial'"]),
        ({"max_iter": 0}, ["max_iter", ">= 1", "0"]),
        ({"tol": -1.0}, ["tol", "positive", "-1.0"]),
        ({"extreme_adjustment": 0.7}, ["extreme_adjustment", "0.5", "0.7"]),
    ],
    ids=["model", "max_iter", "tol", "extreme_adjustment"],
)
def test_bad_options_raise(kwargs, words, small_program) -> None:
    with pytest.raises(ValueError) as err:
        ManyFacetRasch(**kwargs).fit(small_program.ratings_table())
    for w in words:
        assert w in str(err.value)


def test_bad_inputs_raise(small_program) -> None:
    with pytest.raises(TypeError, match="RatingsTable"):
        ManyFacetRasch().fit(small_program.ratings)
    with pytest.raises(RuntimeError, match="not fitted"):
        ManyFacetRasch().sample_scores(np.ones((1, 3)), ["R001"])
    fit = ManyFacetRasch().fit(small_program.ratings_table())
    with pytest.raises(ValueError, match="not fitted on"):
        fit.sample_scores(np.ones((1, 3), dtype=int), ["nobody"])
    with pytest.raises(ValueError, match="not scores of"):
        fit.sample_scores(np.full((1, 3), 9), ["R001"])
    # a level nobody used cannot get a partial-credit threshold
    f = small_program.ratings.copy()
    f.loc[f["criterion_id"] == "overview", "score"] = f.loc[
        f["criterion_id"] == "overview", "score"
    ].clip(lower=2)
    with pytest.raises(ValueError, match=r"level score\(s\) \[1\] of criterion 'overview'"):
        ManyFacetRasch(model="partial_credit").fit(RatingsTable(f, small_program.rubric))


def test_severity_se_counts_only_the_ratings_that_entered_the_estimates() -> None:
    """Issue 14: the reviewer and criterion SEs once summed the information of extreme
    submissions' ratings, which the estimates leave out. Refitted without those
    submissions, the model must give the same estimates and the same SEs."""
    program = generate(
        "rubrics/evidence-4level.yaml",
        SynthSpec(n_submissions=200, n_reviewers=20, seed=5),
    )
    table = program.ratings_table()
    full = ManyFacetRasch(tol=1e-10, max_iter=2000).fit(table)
    extreme = full.submissions_.loc[full.submissions_["extreme"], "submission_id"]
    assert len(extreme) >= 3  # the design has extreme submissions to leave out
    kept = table.frame[~table.frame["submission_id"].isin(extreme)]
    refit = ManyFacetRasch(tol=1e-10, max_iter=2000).fit(
        RatingsTable(kept.reset_index(drop=True), table.rubric)
    )
    assert not refit.submissions_["extreme"].any()
    pd.testing.assert_series_equal(full.severity_, refit.severity_, rtol=0, atol=1e-7)
    pd.testing.assert_series_equal(full.severity_se_, refit.severity_se_, rtol=1e-7, atol=0)
    pd.testing.assert_series_equal(full.difficulty_se_, refit.difficulty_se_, rtol=1e-7, atol=0)
    # (before the fix, 6 of these 20 reviewers' SEs came out 0.1-0.5% too small here and
    # failed the check above)
