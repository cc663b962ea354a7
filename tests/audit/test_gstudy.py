"""G-study and D-study: recovery of known components, an independent dense check of the
unbalanced estimator, D-study formulas, and errors for bad options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.audit import d_study, g_study, g_study_frame

TRUE = {
    "submission": 0.5,
    "reviewer": 0.1,
    "criterion": 0.15,
    "submission x reviewer": 0.1,
    "submission x criterion": 0.1,
    "reviewer x criterion": 0.05,
    "submission x reviewer x criterion": 0.4,
}
FACETS = ["reviewer", "criterion"]


def simulate(
    seed: int, n_p: int = 80, m: int = 25, n_c: int = 4, nested: bool = False
) -> pd.DataFrame:
    """Draw from the random-effects model on a sparse design: each submission is scored by
    2 or 3 of ``m`` reviewers on every criterion (reviewers unique per submission if nested)."""
    rng = np.random.default_rng(seed)
    per = rng.choice([2, 3], size=n_p)
    sub = np.repeat(np.arange(n_p), per)
    if nested:
        rev = np.arange(sub.size)
        m = sub.size
    else:
        rev = np.concatenate([rng.choice(m, k, replace=False) for k in per])
    sub, rev = np.repeat(sub, n_c), np.repeat(rev, n_c)
    crit = np.tile(np.arange(n_c), sub.size // n_c)

    def draw(name: str, n: int) -> np.ndarray:
        return rng.normal(0, np.sqrt(TRUE[name]), n)

    y = (
        draw("submission", n_p)[sub]
        + draw("reviewer", m)[rev]
        + draw("criterion", n_c)[crit]
        + draw("submission x reviewer", n_p * m)[sub * m + rev]
        + draw("submission x criterion", n_p * n_c)[sub * n_c + crit]
        + draw("reviewer x criterion", m * n_c)[rev * n_c + crit]
        + draw("submission x reviewer x criterion", sub.size)
    )
    return pd.DataFrame({"submission": sub, "reviewer": rev, "criterion": crit, "score": y})


def test_recovers_known_components_without_bias():
    """Over 400 seeds the mean estimate of every component is within 3.5 Monte Carlo
    standard errors of the truth (7 components: a family-wise false-alarm rate < 0.4%)."""
    seeds = 400
    est = np.array(
        [
            g_study_frame(
                simulate(s), score="score", target="submission", facets=FACETS, n_resamples=0
            ).variance
            for s in range(seeds)
        ]
    )
    names = g_study_frame(
        simulate(0), score="score", target="submission", facets=FACETS, n_resamples=0
    ).names
    truth = np.array([TRUE[n] for n in names])
    mc_error = est.std(axis=0, ddof=1) / np.sqrt(seeds)
    z = (est.mean(axis=0) - truth) / mc_error
    assert np.all(np.abs(z) < 3.5), dict(zip(names, z.round(2), strict=True))


def test_bootstrap_standard_errors_match_the_spread_of_estimates():
    """The parametric-bootstrap SE (mean over 30 fits) is within 25% of the empirical SD
    of the estimates over 300 seeds, for every component."""
    fits = [
        g_study_frame(
            simulate(s), score="score", target="submission", facets=FACETS, n_resamples=0
        ).variance
        for s in range(300)
    ]
    sd = np.std(fits, axis=0, ddof=1)
    se = np.mean(
        [
            g_study_frame(
                simulate(10_000 + s),
                score="score",
                target="submission",
                facets=FACETS,
                n_resamples=100,
                rng=s,
            ).se
            for s in range(30)
        ],
        axis=0,
    )
    assert np.all(np.abs(se / sd - 1) < 0.25), (se / sd).round(2)


def test_nested_design_recovers_pooled_components():
    """(r:p) x c: reviewer:submission = reviewer + submission x reviewer, and the residual
    absorbs reviewer x criterion."""
    seeds = 200
    est = np.array(
        [
            g_study_frame(
                simulate(s, nested=True),
                score="score",
                target="submission",
                facets=FACETS,
                nested={"reviewer": "submission"},
                n_resamples=0,
            ).variance
            for s in range(seeds)
        ]
    )
    names = g_study_frame(
        simulate(0, nested=True),
        score="score",
        target="submission",
        facets=FACETS,
        nested={"reviewer": "submission"},
        n_resamples=0,
    ).names
    truth = {
        "submission": TRUE["submission"],
        "criterion": TRUE["criterion"],
        "submission x criterion": TRUE["submission x criterion"],
        "reviewer:submission": TRUE["reviewer"] + TRUE["submission x reviewer"],
        "criterion x reviewer:submission": TRUE["reviewer x criterion"]
        + TRUE["submission x reviewer x criterion"],
    }
    z = (est.mean(axis=0) - np.array([truth[n] for n in names])) / (
        est.std(axis=0, ddof=1) / np.sqrt(seeds)
    )
    assert np.all(np.abs(z) < 3.5), dict(zip(names, z.round(2), strict=True))


def test_unbalanced_estimates_equal_a_dense_brute_force_computation():
    """Method 1 from first principles: E[y'Ay] = tr(A V) with dense matrices."""
    frame = simulate(7, n_p=12, m=6, n_c=3)
    frame = frame.drop(index=frame.index[::7]).reset_index(drop=True)  # missing cells too
    res = g_study_frame(frame, score="score", target="submission", facets=FACETS, n_resamples=0)
    y = frame["score"].to_numpy()
    n = y.size
    Z, A = {}, {}
    for name, cols in zip(res.names, res.effects, strict=True):
        key = frame[list(cols)].astype(str).agg("|".join, axis=1)
        codes, uniq = pd.factorize(key)
        M = np.zeros((n, len(uniq)))
        M[np.arange(n), codes] = 1
        Z[name], A[name] = M, M @ np.diag(1 / M.sum(axis=0)) @ M.T
    J = np.ones((n, n)) / n
    K = np.array([[np.trace((A[a] - J) @ Z[b] @ Z[b].T) for b in res.names] for a in res.names])
    T = np.array([y @ (A[a] - J) @ y for a in res.names])
    np.testing.assert_allclose(res.variance, np.linalg.solve(K, T), rtol=1e-9, atol=1e-12)


def test_d_study_formulas():
    res = g_study_frame(
        simulate(3), score="score", target="submission", facets=FACETS, n_resamples=50, rng=0
    )
    v = {n: max(x, 0.0) for n, x in zip(res.names, res.variance, strict=True)}
    crossed = res.coefficients({"reviewer": 3, "criterion": 4})
    rel = (
        v["submission x reviewer"] / 3
        + v["submission x criterion"] / 4
        + v["submission x reviewer x criterion"] / 12
    )
    ab = rel + v["reviewer"] / 3 + v["criterion"] / 4 + v["reviewer x criterion"] / 12
    p = v["submission"]
    assert crossed == pytest.approx((p / (p + rel), p / (p + ab)))
    other = simulate(3).rename(columns={"reviewer": "rater"})
    other_res = g_study_frame(
        other, score="score", target="submission", facets=["rater", "criterion"], n_resamples=0
    )
    with pytest.raises(ValueError, match="pass sizes="):
        d_study(other_res)
    with pytest.raises(ValueError, match="sizes must name facets among"):
        d_study(other_res, sizes={"reviewer": 2})
    table = d_study(res, sizes={"reviewer": [1, 2, 3], "criterion": 4}).to_frame()
    assert table["n_reviewers"].tolist() == [1, 2, 3]
    assert table["g_absolute"].is_monotonic_increasing
    assert (table["g_absolute_low"] <= table["g_absolute"]).all()
    assert (table["g_absolute"] <= table["g_absolute_high"]).all()


@pytest.fixture(scope="module")
def live():
    from calibrate.io import read_program

    return read_program("data/synthetic/district").ratings.select(kind="live")


def test_ratings_table_crossed_and_nested(live):
    crossed = g_study(live, n_resamples=20, rng=1)
    nested = g_study(live, design="nested", n_resamples=0)
    assert crossed.design == "p x r x c" and nested.design == "(r:p) x c"
    assert crossed.n_levels["criterion"] == 6
    assert 2 <= crossed.sample_sizes["reviewer"] <= 3
    frame = crossed.to_frame()
    assert frame["share"].sum() == pytest.approx(1.0)
    # Phi does not depend on whether the D-study's reviewers are crossed or nested;
    # E rho^2 is lower when they are nested (their severity becomes relative error).
    a = crossed.d_study(n_reviewers=[2], reviewers="nested").to_frame().iloc[0]
    b = crossed.d_study(n_reviewers=[2], reviewers="crossed").to_frame().iloc[0]
    assert a["g_absolute"] == pytest.approx(b["g_absolute"])
    assert a["g_relative"] <= b["g_relative"] + 1e-12
    ds = crossed.d_study(n_reviewers=range(1, 9))
    need = ds.needed(target=0.5)
    assert need is None or 1 <= need <= 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"design": "nestd"}, "design must be one of 'crossed', 'nested'; got 'nestd'"),
        ({"n_resamples": -1}, "n_resamples must be a non-negative integer; got -1"),
        ({"confidence_level": 1.5}, "confidence_level must be between 0 and 1"),
    ],
    ids=["design", "n_resamples", "confidence_level"],
)
def test_bad_options(live, kwargs, message):
    with pytest.raises(ValueError, match=message):
        g_study(live, **kwargs)


def test_bad_inputs(live):
    with pytest.raises(TypeError, match="ratings must be a RatingsTable"):
        g_study(pd.DataFrame())
    res = g_study(live, n_resamples=0)
    with pytest.raises(ValueError, match="reviewers must be one of"):
        d_study(res, reviewers="both")
    with pytest.raises(ValueError, match="n_reviewers must be a number >= 1"):
        d_study(res, n_reviewers=[0, 1])
    with pytest.raises(ValueError, match="name must be one of"):
        res.component("rater")
    frame = simulate(1)
    with pytest.raises(ValueError, match="column 'rater'"):
        g_study_frame(frame, score="score", target="submission", facets=["rater"])
    twice = pd.concat([frame, frame])
    with pytest.raises(ValueError, match="at most once"):
        g_study_frame(twice, score="score", target="submission", facets=FACETS)


def test_confounded_design_is_explained():
    # every reviewer scores one submission: reviewer and submission x reviewer are one
    frame = simulate(2, nested=True)
    with pytest.raises(ValueError, match="design='nested'"):
        g_study_frame(frame, score="score", target="submission", facets=FACETS)


def test_old_keywords_are_deprecated_aliases(live):
    new = g_study(live, n_resamples=5, rng=3)
    with pytest.warns(DeprecationWarning, match="n_boot= is deprecated; use n_resamples="):
        old = g_study(live, n_boot=5, rng=3)
    assert old.variance == new.variance and old.se == new.se
    assert old.n_resamples == old.n_boot == 5 and old.estimator == old.method == "henderson1"
    with pytest.warns(DeprecationWarning, match="method= is deprecated; use estimator="):
        g_study(live, n_resamples=0, method="henderson1")
    with pytest.raises(TypeError, match="got both n_resamples= and its deprecated alias n_boot="):
        g_study(live, n_resamples=5, n_boot=5)
    with pytest.raises(ValueError, match="estimator must be one of 'henderson1'; got 'reml'"):
        g_study(live, n_resamples=0, estimator="reml")
    ds = d_study(new, n_reviewers=[1, 2])
    assert ds.n_resamples == ds.n_boot == 5
    with pytest.warns(DeprecationWarning, match="n_boot= is deprecated"):
        frame = g_study_frame(
            simulate(1), score="score", target="submission", facets=FACETS, n_boot=0
        )
    assert frame.n_resamples == 0
