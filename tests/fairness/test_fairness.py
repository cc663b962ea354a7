"""fairness(): reviewer x group bias against direct GLM fits, Wilson and Holm against
statsmodels, group tables, input checks and the attributes reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from calibrate._problems import RatingsError
from calibrate.fairness import fairness, holm, wilson_interval
from calibrate.io import read_submission_attributes
from calibrate.rubric import load_rubric

from ._simulate import planted_program

EVIDENCE = load_rubric("rubrics/evidence-4level.yaml")
BINARY = load_rubric("rubrics/met-not-yet.yaml")


def _anchored_offsets(result, table):
    """eta = ability - difficulty - severity per rating, from the fitted model's public
    attributes (the main facets the bias terms are anchored at)."""
    m, f = result.model, table.frame
    return (
        m.ability_.loc[f["submission_id"].astype(str)].to_numpy()
        - m.difficulty_.loc[f["criterion_id"].astype(str)].to_numpy()
        - m.severity_.loc[f["reviewer_id"].astype(str)].to_numpy()
    )


def _tested(result, attrs, table):
    cells = result.reviewer_groups
    cells = cells[cells["tested"] & ~cells["extreme"]].reset_index(drop=True)
    f = table.frame
    group = attrs.set_index("submission_id")["district"].loc[f["submission_id"].astype(str)]
    label = f["reviewer_id"].astype(str).to_numpy() + "|" + group.to_numpy()
    names = (cells["reviewer_id"] + "|" + cells["group"]).tolist()
    return cells, label, names


def test_binary_bias_equals_binomial_glm_with_offset():
    # Reference: statsmodels GLM (Binomial, logit) with the anchored main facets as offset
    # and one indicator per reviewer x group cell: the dichotomous Rasch model with the
    # interaction as fixed effects. Estimates and SEs agree to 1e-6.
    table, attrs = planted_program(BINARY, seed=4, n_submissions=200, n_reviewers=5)
    result = fairness(table, by="district", attributes=attrs, min_ratings=1)
    cells, label, names = _tested(result, attrs, table)
    eta = _anchored_offsets(result, table)
    keep = np.isin(label, names)
    exog = -(label[keep][:, None] == np.array(names)[None, :]).astype(float)
    y = table.frame["score"].to_numpy()[keep].astype(float)
    glm = sm.GLM(y, exog, family=sm.families.Binomial(), offset=eta[keep]).fit(tol=1e-13)
    np.testing.assert_allclose(cells["estimate"], glm.params, atol=1e-6)
    np.testing.assert_allclose(cells["se"], glm.bse, atol=1e-6)


def test_polytomous_bias_equals_poisson_glm_of_the_multinomial():
    # Reference: the rating scale model with anchored main facets and a cell interaction,
    # fitted as the equivalent Poisson log-linear model (Baker 1994, the multinomial-
    # Poisson transformation): one row per rating x level, a free intercept per rating,
    # offset k * eta - cumtau_k, and -k per cell indicator. statsmodels GLM, 1e-6.
    table, attrs = planted_program(EVIDENCE, seed=5, n_submissions=60, n_reviewers=4)
    result = fairness(table, by="district", attributes=attrs, min_ratings=1)
    cells, label, names = _tested(result, attrs, table)
    eta = _anchored_offsets(result, table)
    keep = np.flatnonzero(np.isin(label, names))
    tau = result.model.thresholds_.to_numpy()[0]
    cumtau = np.concatenate([[0.0], np.cumsum(tau)])
    k = len(cumtau)
    level = table.codes.level[keep]
    n = len(keep)
    kk = np.tile(np.arange(k), n)
    rows = np.repeat(np.arange(n), k)
    y = (kk == np.repeat(level, k)).astype(float)
    offset = kk * np.repeat(eta[keep], k) - cumtau[kk]
    cell_of = (label[keep][:, None] == np.array(names)[None, :]).astype(float)
    exog = np.hstack([np.eye(n)[rows], -kk[:, None] * cell_of[rows]])
    glm = sm.GLM(y, exog, family=sm.families.Poisson(), offset=offset).fit(tol=1e-13)
    np.testing.assert_allclose(cells["estimate"], glm.params[n:], atol=1e-6)
    np.testing.assert_allclose(cells["se"], glm.bse[n:], atol=1e-6)


def test_wilson_interval_matches_statsmodels():
    k, n = np.array([0, 3, 17, 40, 50]), np.array([10, 10, 81, 50, 50])
    for a in (0.05, 0.1):
        lo, hi = wilson_interval(k, n, a)
        ref = proportion_confint(k, n, alpha=a, method="wilson")
        np.testing.assert_allclose(lo, ref[0], atol=1e-12)
        np.testing.assert_allclose(hi, ref[1], atol=1e-12)


def test_holm_matches_statsmodels():
    p = np.random.default_rng(1).uniform(0, 0.2, size=30) ** 2
    ref = multipletests(p, method="holm")[1]
    np.testing.assert_allclose(holm(p), ref, atol=1e-14)
    with_nan = np.concatenate([p, [np.nan]])
    np.testing.assert_allclose(holm(with_nan)[:-1], ref, atol=1e-14)
    assert np.isnan(holm(with_nan)[-1])


def test_groups_table_and_json_contract():
    table, attrs = planted_program(EVIDENCE, seed=2, n_submissions=120, n_reviewers=5)
    result = fairness(table, by="district", attributes=attrs, min_ratings=40)
    g = result.groups
    assert g["submissions"].sum() == 120
    # pass rule on the mean score per criterion
    w = table.frame.groupby(["submission_id", "criterion_id"], observed=True)["score"].mean()
    w = w.unstack()[list(EVIDENCE.criterion_ids)]
    passed = pd.Series(EVIDENCE.decide(w.to_numpy()), index=w.index.astype(str))
    dist = attrs.set_index("submission_id")["district"]
    for _, row in g.iterrows():
        ids = dist.index[dist == row["group"]]
        assert row["n_passed"] == passed.loc[ids].sum()
        assert row["pass_rate"] == pytest.approx(passed.loc[ids].mean(), abs=1e-12)
    cells = result.reviewer_groups
    small = cells[~cells["tested"]]
    assert (small["n_ratings"] < 40).all() and small["estimate"].isna().all()
    assert small["reason"].str.contains("min_ratings=40").all()
    assert cells["n_ratings"].sum() == len(table)
    d = result.to_dict()
    assert set(d) == {"groups", "reviewer_groups"}
    need = {
        "reviewer_id",
        "group",
        "attribute",
        "estimate",
        "se",
        "p_adjusted",
        "flagged",
        "n_ratings",
    }
    assert need <= set(d["reviewer_groups"][0])


def test_key_agreement_per_group():
    table, attrs = planted_program(EVIDENCE, seed=3, n_submissions=60, n_reviewers=4)
    from calibrate.ratings import AnswerKey

    f = table.frame
    first = f.drop_duplicates(["submission_id", "criterion_id"])
    key = AnswerKey(
        pd.DataFrame(
            {
                "submission_id": first["submission_id"].astype(str).to_numpy(),
                "criterion_id": first["criterion_id"].astype(str).to_numpy(),
                "key_score": first["score"].to_numpy(),
                "rationale": "",
            }
        ),
        EVIDENCE,
    )
    result = fairness(table, by="district", attributes=attrs, key=key)
    merged = f.merge(key.frame, on=["submission_id", "criterion_id"])
    merged["district"] = (
        attrs.set_index("submission_id")["district"]
        .loc[merged["submission_id"].astype(str)]
        .to_numpy()
    )
    exact = (merged["score"] == merged["key_score"]).groupby(merged["district"]).mean()
    np.testing.assert_allclose(result.groups.set_index("group")["key_exact"], exact, atol=1e-12)


def test_bad_options_name_the_argument():
    table, attrs = planted_program(EVIDENCE, seed=1, n_submissions=40, n_reviewers=4)
    with pytest.raises(ValueError, match="no column"):
        fairness(table, by="school", attributes=attrs)
    with pytest.raises(ValueError, match="min_ratings"):
        fairness(table, by="district", attributes=attrs, min_ratings=0)
    with pytest.raises(ValueError, match="alpha"):
        fairness(table, by="district", attributes=attrs, alpha=1.0)
    with pytest.raises(TypeError, match="ratings"):
        fairness(table.frame, by="district", attributes=attrs)


def test_read_attributes_refuses_two_values(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(
        "submission_id,reviewer_id,criterion_id,score,District\n"
        "S1,R1,a,3,north\nS1,R2,a,2,north\nS2,R1,a,1,\nS2,R2,a,1,east\n"
    )
    got = read_submission_attributes(f, ["district"])
    assert got.to_dict("list") == {"submission_id": ["S1", "S2"], "district": ["north", "east"]}
    with pytest.raises(RatingsError) as exc:
        read_submission_attributes(f, ["district", "school"])
    assert "school" in str(exc.value)
    f.write_text(
        "submission_id,reviewer_id,criterion_id,score,District\n"
        "S1,R1,a,3,north\nS1,R2,a,2,south\nS2,R1,a,1,east\nS2,R2,a,1,west\n"
    )
    with pytest.raises(RatingsError) as exc:
        read_submission_attributes(f, "district")
    problems = exc.value.problems
    assert [(p.row, p.column, p.value) for p in problems] == [
        (3, "District", "south"),
        (5, "District", "west"),
    ]
    assert str(f) in str(exc.value)
