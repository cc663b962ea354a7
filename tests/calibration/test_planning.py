"""The qualification planner (``calibration.qualification_plan``) checked by simulation:
reviewers of true agreement ``p`` score ``N`` anchors under the planner's reviewer model,
the REAL qualification code (``calibration.qualify``) decides who qualifies, and the
realised rate matches the prediction within 3 Monte Carlo standard errors (both sides'
errors combined). The exact method is checked against scipy's binomial tail where the rule
reduces to "at least k of N exact on every criterion", and against the simulation method.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibrate.calibration import QualificationRule, qualification_plan, qualify, score_anchors
from calibrate.cli import main
from calibrate.ratings import AnswerKey, RatingsTable, canonical_frame


def _round_of(rubric, key_lv, lv):
    """A ratings table and key where reviewer r scored its own anchors ``key_lv[r]``
    (shape (R, N, C) level indices) as ``lv[r]``."""
    R, N, C = key_lv.shape
    crit = list(rubric.criterion_ids)
    table = [np.asarray(c.scores) for c in rubric.criteria]
    subs = np.array([f"A{r:04d}-{a:03d}" for r in range(R) for a in range(N)])
    rev = np.repeat([f"R{r:04d}" for r in range(R)], N)
    sub_col = np.repeat(subs, C)
    crit_col = np.tile(crit, R * N)
    score = np.stack([table[j][lv[..., j]] for j in range(C)], -1).ravel()
    key_score = np.stack([table[j][key_lv[..., j]] for j in range(C)], -1).ravel()
    n = len(sub_col)
    frame = canonical_frame(
        sub_col,
        np.repeat(rev, C),
        crit_col,
        score,
        rubric,
        kind=["anchor"] * n,
        round_id=["R1"] * n,
    )
    key = pd.DataFrame(
        {
            "submission_id": pd.Categorical(sub_col),
            "criterion_id": pd.Categorical(crit_col, categories=crit),
            "key_score": key_score.astype(np.int64),
            "rationale": [""] * n,
        }
    )
    return RatingsTable(frame, rubric), AnswerKey(key, rubric)


def _realised(rubric, rule, p, n, R, far_share, seed):
    rng = np.random.default_rng(seed)
    K = np.array([len(c.levels) for c in rubric.criteria])
    key_lv = np.floor(rng.random((R, n, len(K))) * K).astype(np.int64)
    lv = score_anchors(key_lv, p, K, rng, far_share=far_share)
    ratings, key = _round_of(rubric, key_lv, lv)
    status = qualify(ratings, key, round_id="R1", rule=rule).reviewers["status"]
    assert len(status) == R
    return float((status == "qualified").mean())


CASES = [
    ("evidence-4level", QualificationRule(), 0.85, 12, 0.1),
    ("evidence-4level", QualificationRule(), 0.95, 12, 0.1),
    ("evidence-4level", QualificationRule(), 0.75, 20, 0.1),
    ("evidence-4level", QualificationRule(min_adjacent=0.9, min_decision=0.8), 0.8, 10, 0.3),
    ("discussion-hybrid", QualificationRule(), 0.9, 8, 0.0),
    ("met-not-yet", QualificationRule(min_exact=0.8), 0.85, 15, 0.1),
]


@pytest.mark.parametrize(
    ("rubric_id", "rule", "p", "n", "far"),
    CASES,
    ids=[
        "4level-p85-n12",
        "4level-p95-n12",
        "4level-p75-n20",
        "loose-p80-n10",
        "hybrid-p90-n8",
        "binary-p85-n15",
    ],
)
def test_predicted_rate_matches_qualify_on_simulated_rounds(rubric_id, rule, p, n, far):
    from calibrate.rubric import load_rubric

    rubric = load_rubric(f"rubrics/{rubric_id}.yaml")
    R = 500
    plan = qualification_plan(
        rubric, n, rule=rule, grid=np.array([p]), far_share=far, n_sim=10_000, max_anchors=1, rng=1
    )
    predicted, se_pred = float(plan.curve["p_qualified"][0]), float(plan.curve["se"][0])
    realised = _realised(rubric, rule, p, n, R, far, seed=round(1000 * p) * 100 + n)
    se = math.sqrt(predicted * (1 - predicted) / R + se_pred**2)
    assert 0.02 < predicted < 0.98  # an informative case, not a certainty
    assert abs(realised - predicted) <= 3 * se, (realised, predicted, se)


def test_exact_equals_binomial_tail(evidence_rubric):
    """Only the exact standard (70%) binds: P = P(Bin(N, p) >= ceil(0.7 N)) ** 3."""
    rule = QualificationRule(min_exact=0.7, min_adjacent=0.0, min_decision=0.0)
    for n in (5, 10, 13, 30):
        plan = qualification_plan(evidence_rubric, n, rule=rule, max_anchors=1)
        assert plan.method == "exact"
        k = math.ceil(0.7 * n - 1e-12)
        ref = stats.binom.sf(k - 1, n, plan.curve["p"]) ** 3
        np.testing.assert_allclose(plan.curve["p_qualified"], ref, rtol=1e-10, atol=1e-14)


def test_exact_agrees_with_simulation(evidence_rubric):
    rule = QualificationRule(min_decision=0.0)
    grid = np.array([0.7, 0.85, 0.95])
    exact = qualification_plan(evidence_rubric, 12, rule=rule, grid=grid, max_anchors=1)
    sim = qualification_plan(
        evidence_rubric,
        12,
        rule=rule,
        grid=grid,
        max_anchors=1,
        method="simulation",
        n_sim=20_000,
        rng=3,
    )
    diff = np.abs(exact.curve["p_qualified"] - sim.curve["p_qualified"])
    assert (diff <= 3 * np.maximum(sim.curve["se"], 1e-3)).all()


def test_score_anchors_follows_the_model():
    rng = np.random.default_rng(5)
    K = np.array([4, 3, 2])
    key = np.floor(rng.random((200_000, 3)) * K).astype(np.int64)
    lv = score_anchors(key, 0.7, K, rng, far_share=0.2)
    steps = np.abs(lv - key)
    assert ((lv >= 0) & (lv < K)).all()
    se = math.sqrt(0.21 / 200_000)
    np.testing.assert_allclose((steps == 0).mean(axis=0), 0.7, atol=4 * se)
    # four levels: a fifth of misses two away; three levels: only from the ends (2/3 of keys)
    np.testing.assert_allclose((steps == 2)[:, 0].mean(), 0.3 * 0.2, atol=0.003)
    np.testing.assert_allclose((steps == 2)[:, 1].mean(), 0.3 * 0.2 * 2 / 3, atol=0.003)
    assert (steps[:, 2] <= 1).all()


def test_anchors_needed_meets_the_targets(evidence_rubric):
    plan = qualification_plan(
        evidence_rubric, 10, rule=QualificationRule(min_decision=0.0), max_anchors=80
    )
    t = plan.needed_table
    assert plan.anchors_needed == int(t["n_anchors"].iloc[-1]) and t["meets"].iloc[-1]
    assert not t["meets"].iloc[:-1].any()
    last = t.iloc[-1]
    assert last["false_pass"] <= 0.05 and last["false_fail"] <= 0.05


def test_plan_cli(capsys):
    args = ["plan", "qualification", "--rubric", "rubrics/evidence-4level.yaml", "--anchors", "12"]
    assert main([*args, "--seed", "0", "--n-sim", "1000", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_anchors"] == 12 and doc["method"] == "simulation"
    assert {"false_pass", "false_fail", "anchors_needed", "curve"} <= set(doc)
    assert [round(r["p"], 3) for r in doc["curve"]][:2] == [0.5, 0.525]
    assert main([*args, "--min-decision", "0", "--weak", "0.7", "--good", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "exact" in out and "P(qualified)" in out
    rule = "min_exact=0.8,min_adjacent=0.9,min_decision=0"
    assert main([*args, "--rule", rule, "--max-anchors", "1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rule"]["min_exact"] == 0.8 and doc["rule"]["min_adjacent"] == 0.9
    assert doc["method"] == "exact"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--anchors", "0"], "--anchors must be an integer >= 1"),
        (["--anchors", "10", "--weak", "0.95"], "weak must be below good"),
        (["--anchors", "10", "--min-exact", "1.5"], "bad qualification rule"),
        (
            ["--anchors", "10", "--max-false-pass", "-1"],
            "max_false_pass must be a number in [0, 1]",
        ),
        (["--anchors", "10", "--rule", "exactness=0.7"], "--rule takes FIELD=VALUE pairs"),
        (["--anchors", "10", "--rule", "min_exact=high"], "--rule min_exact must be a number"),
        (
            ["--anchors", "10", "--rule", "min_exact=0.8", "--min-exact", "0.7"],
            "min_exact is set twice",
        ),
    ],
    ids=["anchors", "weak-good", "rule", "target", "rule-field", "rule-value", "rule-twice"],
)
def test_plan_cli_errors(capsys, extra, message):
    args = ["plan", "qualification", "--rubric", "rubrics/evidence-4level.yaml", *extra]
    assert main([*args, "--format", "json"]) == 2
    assert message in json.loads(capsys.readouterr().out)["error"]


def test_plan_argument_errors(evidence_rubric):
    with pytest.raises(ValueError, match="method='exact' needs a rule without the decision"):
        qualification_plan(evidence_rubric, 10, method="exact")
    with pytest.raises(TypeError, match="rubric must be"):
        qualification_plan("rubric", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method must be"):
        qualification_plan(evidence_rubric, 10, method="guess")  # type: ignore[arg-type]


def test_curve_plot_and_html_page(tmp_path, capsys, evidence_rubric):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from calibrate.plots import plot_qualification_curve

    plan = qualification_plan(evidence_rubric, 10, n_sim=500, max_anchors=3, rng=0)
    fig, (left, right) = plt.subplots(1, 2)
    try:
        assert plot_qualification_curve(plan, ax=right) is fig
        assert right.has_data() and not left.has_data()
    finally:
        plt.close(fig)
    own = plot_qualification_curve(plan)
    assert isinstance(own, Figure)
    plt.close(own)
    page = tmp_path / "plan.html"
    args = ["plan", "qualification", "--rubric", "rubrics/evidence-4level.yaml", "--anchors"]
    assert main([*args, "10", "--n-sim", "500", "--max-anchors", "3", "--html", str(page)]) == 0
    text = page.read_text()
    assert "data:image/png;base64," in text and "Errors of the rule" in text
    assert f"HTML page: {page}" in capsys.readouterr().out
