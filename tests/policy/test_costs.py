"""Policies with their real costs: an imperfect expert adjudicator (closed forms, a fitted
expert against a planted one), costs in money and the money frontier (a hand-made table),
and policies whose pass rule changes the standard."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from calibrate._problems import RubricError
from calibrate.cli import main
from calibrate.plots import plot_policy_frontier
from calibrate.policy import (
    ConfusionReviewerModel,
    ExpertModel,
    Policy,
    ProgramModel,
    ReviewCosts,
    add_costs,
    best_policy,
    expert_accuracy,
    fitted_experts,
    parse_costs,
    policy_grid,
    read_expert_model,
    simulate,
    sweep,
)
from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.rubric import load_rubric, parse_rubric
from calibrate.synth import ReviewerModel, SynthSpec, generate

from ..conftest import ROOT

BINARY = parse_rubric("""
id: one-binary
title: One binary criterion
version: "1"
criteria:
  - id: met
    name: Met
    levels: [{score: 0, label: Not yet}, {score: 1, label: Met}]
pass_rule: {min_level: 1}
review_policy:
  reviewers: 2
  third_review: {decision_differs: true}
  resolution: expert
""")
FOUR = parse_rubric("""
id: one-four
title: One four-level criterion
version: "1"
criteria:
  - id: plan
    name: Plan
    levels: [{score: 1, label: a}, {score: 2, label: b}, {score: 3, label: c}, {score: 4, label: d}]
pass_rule: {min_level: 3}
review_policy: {reviewers: 2, third_review: {decision_differs: true}}
""")
N = 200_000


def binary_errors(p: float, n_reviewers: int = 10) -> ConfusionReviewerModel:
    return ConfusionReviewerModel(np.tile(np.array([[1 - p, p], [p, 1 - p]]), (n_reviewers, 1, 1)))


def within(x: float, expected: float, n: int = N) -> bool:
    """Within 4 binomial standard errors of ``expected`` over ``n`` draws."""
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
    return abs(x - expected) <= 4 * se + 1e-12


# ---- an imperfect expert: closed forms ------------------------------------------------


@pytest.mark.parametrize("q", [0.7, 0.9], ids=["q=.7", "q=.9"])
def test_an_imperfect_expert_costs_the_predicted_accuracy(q):
    # two reviewers with independent error p; the expert adjudicates their disagreements
    # (probability 2p(1-p)) and is right with probability q: accuracy
    # (1-p)^2 + 2p(1-p) q, i.e. 2p(1-p)(1-q) below the perfect expert's
    p = 0.15
    args = (BINARY, Policy.from_rubric(BINARY), binary_errors(p), np.array([[0], [1]]))
    perfect = simulate(*args, n=N, rng=3)
    imperfect = simulate(*args, n=N, rng=3, expert=ExpertModel.given(q, BINARY))
    assert within(perfect.accuracy, (1 - p) ** 2 + 2 * p * (1 - p))
    assert within(imperfect.accuracy, (1 - p) ** 2 + 2 * p * (1 - p) * q)
    # the same reviews (common random numbers): the drop is exactly the adjudications the
    # expert gets wrong, a Bernoulli share
    drop = 2 * p * (1 - p) * (1 - q)
    assert within(perfect.accuracy - imperfect.accuracy, drop)
    assert within(imperfect.expert_reviews_per_submission, 2 * p * (1 - p))
    # three reviewers, the expert deciding when they are not unanimous
    three = simulate(
        BINARY,
        Policy.from_rubric(BINARY, reviewers=3),
        binary_errors(p),
        np.array([[0], [1]]),
        n=N,
        rng=5,
        expert=ExpertModel.given(q, BINARY),
    )
    split = 1 - (1 - p) ** 3 - p**3
    assert within(three.accuracy, (1 - p) ** 3 + split * q)


def test_an_expert_misses_one_level_away():
    # perfect reviewers, every decision read behind by the expert: a miss from level 2
    # or 3 goes either way (half of them cross the cut at 3), from 1 or 4 it stays on its
    # side; levels uniform: accuracy (1 + (q + (1-q)/2) * 2 + 1) / 4 = (3 + q) / 4
    q = 0.8
    population = np.array([[1], [2], [3], [4]])
    out = simulate(
        FOUR,
        Policy.from_rubric(FOUR, read_behind=1.0),
        ReviewerModel.perfect(4),
        population,
        n=N,
        rng=2,
        expert=ExpertModel.given(q, FOUR),
    )
    assert within(out.accuracy, (3 + q) / 4)
    assert out.expert_reviews_per_submission == 1 and out.reviews_per_submission == 3
    assert within(expert_accuracy(ExpertModel.given(q, FOUR).scorer, FOUR, population, n=N), q)


def test_given_expert_confusion_rows_and_bad_accuracy():
    m = ExpertModel.given(0.9, FOUR).scorer.confusion[0, 0]
    assert np.allclose(m.sum(axis=1), 1)
    assert m[0].tolist() == pytest.approx([0.9, 0.1, 0, 0])  # the only neighbour
    assert m[2].tolist() == pytest.approx([0, 0.05, 0.9, 0.05])
    with pytest.raises(ValueError, match="accuracy must be a number between 0 and 1; got 1.5"):
        ExpertModel.given(1.5, FOUR)


# ---- a fitted expert against a planted one ----------------------------------------------


def _program_with_expert(seed: int, expert: ReviewerModel):
    program = generate(
        "rubrics/evidence-4level.yaml",
        SynthSpec(n_submissions=300, n_reviewers=8, n_anchors=30, seed=seed),
    )
    rubric = program.rubric
    key = program.key
    wide = key.pivot(index="submission_id", columns="criterion_id", values="key_score")
    wide = wide[list(rubric.criterion_ids)]
    rounds = (
        program.ratings[program.ratings["kind"] == "anchor"]
        .groupby("submission_id", observed=True)["round_id"]
        .first()
    )
    idx = np.column_stack(
        [np.searchsorted(np.asarray(c.scores), wide[c.id].to_numpy()) for c in rubric.criteria]
    )
    rng = np.random.default_rng(100 + seed)
    got = expert.score(idx, np.zeros(len(idx), dtype=np.int64), [4, 4, 4], rng)
    rows = [
        {
            "submission_id": s,
            "reviewer_id": "E01",
            "criterion_id": c.id,
            "score": c.scores[got[i, j]],
            "round_id": rounds.get(s),
            "kind": "anchor" if s in rounds.index else "seeded",
        }
        for i, s in enumerate(wide.index)
        for j, c in enumerate(rubric.criteria)
    ]
    f = program.ratings.astype({"submission_id": str, "reviewer_id": str, "criterion_id": str})
    f = f.astype({"round_id": object, "kind": object})
    both = pd.concat([f.drop(columns="rated_at"), pd.DataFrame(rows)], ignore_index=True)
    frame = canonical_frame(
        both["submission_id"],
        both["reviewer_id"],
        both["criterion_id"],
        both["score"].to_numpy(),
        rubric,
        round_id=both["round_id"],
        kind=both["kind"],
    )
    return program, RatingsTable(frame, rubric), int(got.size)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fitted_expert_recovers_the_planted_experts_accuracy(seed):
    planted = ReviewerModel(
        ("E01",),
        np.array([0.15]),
        np.array([0.45]),
        np.zeros(1),
        np.zeros(1),
        np.zeros(1),
        np.full(1, np.iinfo(np.int64).max),
    )
    program, ratings, n_scores = _program_with_expert(seed, planted)
    key = program.answer_key()
    fit = ProgramModel().fit(ratings, key)
    expert, reviewers, shares = fitted_experts(fit, ["E01"], ratings, key)
    assert reviewers.n_reviewers == 8 and "E01" not in reviewers.reviewer_ids
    assert shares.sum() == pytest.approx(1)
    assert expert.description.startswith(f"fitted from {n_scores} expert scores on ")
    population = fit.population()
    truth = expert_accuracy(planted, program.rubric, population, n=N, rng=0)
    fitted = expert_accuracy(expert.scorer, program.rubric, population, n=N, rng=0)
    # the fit knows the expert from n_scores scores: its accuracy is off by sampling
    # error, a binomial SE over those scores (the Monte Carlo error of the two
    # accuracies, over 200,000 draws each, is ten times smaller)
    se = math.sqrt(truth * (1 - truth) / n_scores)
    assert abs(fitted - truth) <= 3 * se, (fitted, truth, se)


def test_fitted_experts_refuses_unknown_and_unkeyed_experts():
    program = generate(
        "rubrics/evidence-4level.yaml", SynthSpec(n_submissions=100, n_reviewers=5, seed=4)
    )
    f = program.ratings
    # R001 keeps its live reviews only: nothing to fit its key agreement on
    f = f[(f["reviewer_id"] != "R001") | (f["kind"] == "live")]
    ratings, key = RatingsTable(f, program.rubric), program.answer_key()
    fit = ProgramModel().fit(ratings, key)
    with pytest.raises(ValueError, match="experts not among the reviewers of the ratings: X9"):
        fitted_experts(fit, ["R002", "X9"], ratings, key)
    with pytest.raises(ValueError, match="every reviewer is an expert"):
        fitted_experts(fit, list(fit.reviewer_ids_), ratings, key)
    with pytest.raises(ValueError, match="experts without scores of keyed anchors .*: R001$"):
        fitted_experts(fit, ["R001", "R002"], ratings, key)


# ---- costs in money and the money frontier ----------------------------------------------


def _hand_table() -> pd.DataFrame:
    # A cheap; B as accurate as C with fewer reviews, but one in five is the expert's;
    # at reviewer 25 / expert 60: A 50, B 25*2 + 60*0.2 = 62, C 25*2.3 = 57.5
    return pd.DataFrame(
        {
            "policy": [0, 1, 2],
            "reviewers": [2, 2, 3],
            "resolution": ["majority", "expert", "majority"],
            "read_behind": [0.0, 0.0, 0.0],
            "min_total": [17.0, 17.0, 17.0],
            "min_level": [None, None, None],
            "accuracy": [0.90, 0.95, 0.95],
            "false_pass_rate": [0.05, 0.02, 0.02],
            "false_not_yet_rate": [0.05, 0.03, 0.03],
            "third_review_rate": [0.0, 0.2, 0.0],
            "reviews_per_submission": [2.0, 2.2, 2.3],
            "expert_reviews_per_submission": [0.0, 0.2, 0.0],
            "mc_se": [0.002, 0.002, 0.002],
            "changes_standard": [False, False, False],
            "standard_change": [None, None, None],
            "expert_model": ["given: accuracy 0.9"] * 3,
        }
    )


def test_the_money_frontier_differs_from_the_reviews_frontier():
    from calibrate.policy import pareto_front

    t = _hand_table()
    t["pareto"] = pareto_front(t)
    money = add_costs(t, ReviewCosts(reviewer=25, expert=60))
    assert money["cost_per_submission"].tolist() == pytest.approx([50, 62, 57.5])
    assert money["pareto"].tolist() == [True, True, False]
    assert money["pareto_cost"].tolist() == [True, False, True]
    cols = list(money.columns)
    assert cols.index("cost_per_submission") == cols.index("reviews_per_submission") + 1
    # the cheapest of the near-ties: in reviews without money, in money with it
    assert int(best_policy(t).policy["policy"]) == 1
    pick, why = best_policy(money)
    assert int(pick["policy"]) == 2 and "(57.50 per submission in money)" in why
    pick, why = best_policy(money, max_cost=55)
    assert int(pick["policy"]) == 0 and "cost per submission <= 55" in why
    assert best_policy(money, max_cost=10).policy is None
    with pytest.raises(ValueError, match="max_cost needs the money cost per submission"):
        best_policy(t, max_cost=55)
    # equal prices: money is reviews times the price, the frontiers agree
    same = add_costs(t, ReviewCosts(reviewer=30, expert=30))
    assert same["cost_per_submission"].tolist() == pytest.approx([60, 66, 69])
    assert same["pareto_cost"].tolist() == same["pareto"].tolist()


def test_a_sweep_prices_expert_reviews_from_the_simulation():
    p = 0.15
    policies = [Policy.from_rubric(BINARY, resolution=r) for r in ("majority", "expert")]
    table = sweep(
        BINARY,
        policies,
        binary_errors(p),
        np.array([[0], [1]]),
        n=50_000,
        rng=1,
        expert=ExpertModel.given(0.95, BINARY),
        costs=ReviewCosts(reviewer=25, expert=60),
    )
    maj, exp = table.iloc[0], table.iloc[1]
    assert maj["expert_reviews_per_submission"] == 0
    assert maj["cost_per_submission"] == pytest.approx(25 * maj["reviews_per_submission"])
    assert exp["expert_reviews_per_submission"] == pytest.approx(exp["third_review_rate"])
    assert exp["cost_per_submission"] == pytest.approx(50 + 60 * exp["third_review_rate"])
    assert set(table["expert_model"]) == {"given: accuracy 0.95"}
    _, why = best_policy(table)
    assert "expert model: given: accuracy 0.95" in why


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reviewer=25", "expert is missing"),
        ("reviewer=25,expert=sixty", "expert must be a number >= 0, got 'sixty'"),
        ("reviewer=-1,expert=60", "reviewer must be a number >= 0, got '-1'"),
        ("reviewer=25,expert=60,lead=80", "unknown cost 'lead' (reviewer, expert)"),
        ("reviewer=25,reviewer=30,expert=60", "reviewer is given twice"),
        ("25,60", "'25' is not NAME=COST; '60' is not NAME=COST"),
    ],
    ids=["missing", "not-a-number", "negative", "unknown", "twice", "no-names"],
)
def test_bad_costs_are_named(text, message):
    with pytest.raises(ValueError, match="costs are 'reviewer=COST,expert=COST'") as err:
        parse_costs(text)
    assert message in str(err.value)


def test_parse_costs_reads_spaces_and_decimals():
    assert parse_costs(" reviewer = 25.5 , expert=60 ") == ReviewCosts(25.5, 60.0)


# ---- standard changes -------------------------------------------------------------------


def test_a_pass_rule_other_than_the_rubrics_changes_the_standard():
    rubric = load_rubric(ROOT / "rubrics" / "discussion-hybrid.yaml")
    truth = json.loads((ROOT / "data" / "synthetic" / "district" / "truth.json").read_text())
    population = np.array(list(truth["true_levels"].values()))
    policies = policy_grid(rubric, {"min_total": [16, 17, 18], "resolution": ["majority"]})
    table = sweep(
        rubric, policies, ReviewerModel.from_truth(truth["reviewers"]), population, n=2000, rng=0
    )
    assert table["changes_standard"].tolist() == [True, False, True]
    assert table["standard_change"].iloc[0] == (
        "total >= 16 and every criterion >= 2 and student_evidence >= 3 instead of the "
        "rubric's total >= 17 and every criterion >= 2 and student_evidence >= 3"
    )
    assert pd.isna(table["standard_change"].iloc[1])  # null in JSON
    # the library's default expert is perfect, and said so
    assert table["expert_model"].iloc[0].startswith("assumed perfect")
    t = _hand_table()
    t.loc[1, ["changes_standard", "standard_change"]] = [True, "total >= 16 instead of 17"]
    _, why = best_policy(t)
    assert (
        "changes the standard (pass rule total >= 16 instead of 17), not only the review procedure"
        in why
    )
    t.loc[1, "changes_standard"] = False
    _, why_same = best_policy(t)
    assert "changes the standard" not in why_same


# ---- expert model files -----------------------------------------------------------------


def test_expert_model_file_mistakes_are_listed_at_once(tmp_path):
    bad = tmp_path / "expert.yaml"
    bad.write_text("accuracy: high\nseverity: 0.1\nskill: 3\n")
    with pytest.raises(RubricError) as err:
        read_expert_model(bad, FOUR)
    text = str(err.value)
    assert "unknown field 'skill'" in text and "accuracy must be a number; got 'high'" in text
    assert "expert.yaml" in text
    good = tmp_path / "good.yaml"
    good.write_text("accuracy: 0.85\n")
    assert read_expert_model(good, FOUR).description == "given in good.yaml: accuracy 0.85"


# ---- the command ------------------------------------------------------------------------

PILOT = [
    "policy",
    "--rubric",
    "rubrics/evidence-4level.yaml",
    "--ratings",
    "data/synthetic/pilot/ratings.csv",
    "--key",
    "data/synthetic/pilot/key.csv",
    "--n",
    "2000",
    "--format",
    "json",
]


def test_cli_expert_models_and_money(tmp_path, capsys):
    assert main([*PILOT, "--experts", "R002", "--cost", "reviewer=25,expert=60"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["expert_model"].startswith("fitted from ") for r in rows)
    assert "R002" in rows[0]["expert_model"]
    assert all(
        r["cost_per_submission"]
        == pytest.approx(
            25 * (r["reviews_per_submission"] - r["expert_reviews_per_submission"])
            + 60 * r["expert_reviews_per_submission"]
        )
        and isinstance(r["pareto_cost"], bool)
        and r["changes_standard"] is False
        for r in rows
    )
    truth = ["policy", "--rubric", "rubrics/discussion-hybrid.yaml", "--truth"]
    truth += ["data/synthetic/district/truth.json", "--n", "2000"]
    assert main([*truth, "--expert-accuracy", "0.95", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["expert_model"] for r in rows} == {"given: accuracy 0.95"}
    assert "cost_per_submission" not in rows[0]
    page = tmp_path / "policy.html"
    assert main([*truth, "--cost", "reviewer=25,expert=60", "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "expert adjudicator: assumed: as accurate as the best reviewer of the model" in out
    html = page.read_text()
    assert "Expert adjudicator (expert resolution, read-behind): assumed" in html
    assert "reviewer 25, expert 60 per review" in html and "cost_per_submission" in html


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cost", "reviewer=25"], "--cost: costs are 'reviewer=COST,expert=COST'"),
        (["--max-cost", "50"], "--max-cost needs --cost"),
        (["--experts", "X9"], "--experts: experts not among the reviewers of the ratings: X9"),
        (["--expert-accuracy", "1.2"], "--expert-accuracy must be between 0 and 1; got 1.2"),
    ],
    ids=["cost", "max-cost", "experts", "accuracy"],
)
def test_cli_cost_and_expert_usage_errors(extra, message, capsys):
    assert main([*PILOT, *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_experts_need_ratings(capsys):
    argv = ["policy", "--rubric", "rubrics/discussion-hybrid.yaml", "--truth"]
    argv += ["data/synthetic/district/truth.json", "--experts", "R001"]
    assert main(argv) == 2
    assert "--experts needs --ratings" in capsys.readouterr().err


def test_frontier_plot_in_money_needs_costs():
    t = _hand_table().assign(pareto=True, recommended=False)
    with pytest.raises(ValueError, match="with costs; missing cost_per_submission"):
        plot_policy_frontier(t, cost="money")
    with pytest.raises(ValueError, match="cost must be one of"):
        plot_policy_frontier(t, cost="dollars")  # type: ignore[arg-type]
    fig = plot_policy_frontier(add_costs(t, ReviewCosts(25, 60)), cost="money")
    assert fig.axes[0].get_xlabel() == "money per submission (cost)"


def test_cli_expert_file_standard_changes_and_the_page(tmp_path, capsys):
    grid, expert, page = tmp_path / "grid.yaml", tmp_path / "expert.yaml", tmp_path / "p.html"
    grid.write_text("min_total: [16, 17]\nresolution: [majority, expert]\n")
    expert.write_text("severity: 0.1\nnoise: 0.3\n")
    argv = ["policy", "--rubric", "rubrics/discussion-hybrid.yaml", "--truth"]
    argv += ["data/synthetic/district/truth.json", "--grid", str(grid), "--n", "2000"]
    argv += ["--expert-model", str(expert), "--cost", "reviewer=25,expert=60"]
    assert main([*argv, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    said = "given in expert.yaml: severity 0.1, noise 0.3, central tendency 0, halo 0"
    assert {r["expert_model"] for r in rows} == {said}
    assert [r["changes_standard"] for r in rows] == [True, True, False, False]
    assert rows[2]["standard_change"] is None
    assert main([*argv, "--html", str(page)]) == 0
    capsys.readouterr()
    html = page.read_text()
    assert "0 changes the standard (pass rule total &gt;= 16" in html
    assert "not only the review procedure" in html
    assert said in html and html.count("<img") == 2  # the reviews and the money frontiers
