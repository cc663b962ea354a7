"""``calibrate policy``: simulate pass rules and tiebreak policies, recommend one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from calibrate.cli._inputs import page_inputs
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_html, add_key, add_rubric, add_seed
from calibrate.cli._output import Outcome, frame_text
from calibrate.io import read_key, read_ratings
from calibrate.policy import (
    ExpertModel,
    ProgramModel,
    ReviewCosts,
    ReviewerScorer,
    best_policy,
    best_reviewer_expert,
    fitted_experts,
    parse_costs,
    policy_grid,
    population_from_truth,
    read_expert_model,
    read_grid,
    sweep,
)
from calibrate.rubric import load_rubric
from calibrate.synth import ReviewerModel

#: Without --grid: the rubric's own policy with two or three reviewers and each resolution.
DEFAULT_GRID: dict[str, list[Any]] = {
    "reviewers": [2, 3],
    "resolution": ["majority", "average", "replace_farthest", "expert"],
}


def _policy_args(p: argparse.ArgumentParser) -> None:
    add_rubric(p, help="rubric YAML (its pass rule and review policy are the starting point)")
    p.add_argument(
        "--truth",
        metavar="TRUTH",
        help="a synthetic program's truth.json: its reviewers and true levels",
    )
    p.add_argument(
        "--ratings",
        metavar="RATINGS",
        help="a program's ratings with anchor scores (with --key): reviewers, workload shares "
        "and the population are fitted on them",
    )
    add_key(p, help="answer key of the anchors (with --ratings)")
    p.add_argument(
        "--grid",
        metavar="GRID",
        help="YAML mapping policy fields to lists of values (default: reviewers 2/3 x each resolution)",
    )
    p.add_argument(
        "--n", type=int, default=20_000, help="submissions simulated per policy (default 20000)"
    )
    add_seed(p, default=0, help="random seed (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="policies simulated in parallel (default 1)")
    # without an expert option: an expert as accurate as the model's best reviewer, said so
    p.add_argument(
        "--max-false-pass", type=float, help="constraint for the recommendation, e.g. 0.02"
    )
    p.add_argument("--max-false-not-yet", type=float, help="constraint for the recommendation")
    p.add_argument(
        "--max-third-review", type=float, help="constraint for the recommendation, e.g. 0.15"
    )
    p.add_argument("--max-reviews", type=float, help="constraint: reviews per submission")
    p.add_argument("--max-cost", type=float, help="constraint: money per submission (needs --cost)")
    p.add_argument(
        "--cost",
        metavar="reviewer=C,expert=C",
        help="money per review, e.g. reviewer=25,expert=60 (one unit of your choosing; the "
        "expert's price applies to adjudications and read-behind): adds cost_per_submission "
        "and the money frontier pareto_cost",
    )
    expert = p.add_mutually_exclusive_group()
    expert.add_argument(
        "--experts",
        metavar="ID,...",
        help="with --ratings: these reviewers are the expert adjudicators; their model is "
        "fitted on their scores of keyed anchors (they are left out of the reviewer pool)",
    )
    expert.add_argument(
        "--expert-accuracy",
        type=float,
        metavar="P",
        help="the expert gives the true level with probability P, else a level one away",
    )
    expert.add_argument(
        "--expert-model",
        metavar="YAML",
        help="expert model file: 'accuracy: P', or severity, noise (central_tendency, halo)",
    )
    add_html(
        p, help="also write the policy page (frontier plot, recommendation, every policy) there"
    )


@command(
    "policy",
    "Simulate pass rules and tiebreak policies: accuracy against review cost; recommend one.",
    _policy_args,
)
def _policy(args: argparse.Namespace) -> Outcome:
    if bool(args.truth) == bool(args.ratings):
        raise UsageError("give either --truth TRUTH or --ratings RATINGS --key KEY")
    if args.ratings and not args.key:
        raise UsageError(
            "--ratings needs --key (the reviewer model is estimated from anchor scores against the key)"
        )
    if args.n < 2:
        raise UsageError(f"--n must be at least 2; got {args.n}")
    if args.experts and not args.ratings:
        raise UsageError(
            "--experts needs --ratings and --key (the experts' model is fitted on their anchor scores)"
        )
    if args.expert_accuracy is not None and not 0 <= args.expert_accuracy <= 1:
        raise UsageError(f"--expert-accuracy must be between 0 and 1; got {args.expert_accuracy:g}")
    costs: ReviewCosts | None = None
    if args.cost is not None:
        try:
            costs = parse_costs(args.cost)
        except ValueError as exc:
            raise UsageError(f"--cost: {exc}") from None
    if args.max_cost is not None and costs is None:
        raise UsageError("--max-cost needs --cost reviewer=C,expert=C (money per review)")
    rubric = load_rubric(args.rubric)
    model: ReviewerScorer
    shares: np.ndarray | None = None
    expert: ExpertModel | None = None
    if args.truth:
        truth = json.loads(Path(args.truth).read_text(encoding="utf-8"))
        model, population, source = (
            ReviewerModel.from_truth(truth["reviewers"]),
            population_from_truth(truth),
            f"the truth in {args.truth}",
        )
    else:
        ratings = read_ratings(args.ratings, rubric)
        key = read_key(args.key, rubric, ratings=ratings)
        try:
            fit = ProgramModel().fit(ratings, key)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        model, population, shares = fit.reviewers_, fit.population(), fit.shares_
        if args.experts:
            try:
                expert, model, shares = fitted_experts(
                    fit, [e.strip() for e in args.experts.split(",") if e.strip()], ratings, key
                )
            except ValueError as exc:
                raise UsageError(f"--experts: {exc}") from None
        weights = fit.mixture_weights_
        kind = "population" if weights is None else f"population as {len(weights)} latent classes"
        source = (
            f"a model fitted on the ratings in {args.ratings} (maximum likelihood: "
            f"severity, noise, central tendency, halo, workload shares, {kind})"
        )
    if args.expert_accuracy is not None:
        expert = ExpertModel.given(args.expert_accuracy, rubric)
    elif args.expert_model:
        expert = read_expert_model(args.expert_model, rubric)
    elif expert is None and isinstance(model, ReviewerModel):
        expert = best_reviewer_expert(model, rubric, population, rng=args.seed)
    try:
        policies = policy_grid(rubric, read_grid(args.grid) if args.grid else DEFAULT_GRID)
        table = sweep(
            rubric,
            policies,
            model,
            population,
            n=args.n,
            rng=args.seed,
            n_jobs=args.jobs,
            shares=shares,
            expert=expert,
            costs=costs,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    choice = best_policy(
        table,
        max_false_pass=args.max_false_pass,
        max_false_not_yet=args.max_false_not_yet,
        max_third_review=args.max_third_review,
        max_reviews=args.max_reviews,
        max_cost=args.max_cost,
    )
    pick, why = choice.policy, choice.why
    table["recommended"] = False if pick is None else table["policy"] == pick["policy"]
    rows = table.to_dict("records")
    shown = table[
        [
            "policy",
            "min_total",
            "min_level",
            "reviewers",
            "resolution",
            "accuracy",
            "false_pass_rate",
            "false_not_yet_rate",
            "third_review_rate",
            "reviews_per_submission",
            *(["cost_per_submission"] if costs else []),
            "mc_se",
            "pareto",
            *(["pareto_cost"] if costs else []),
            "changes_standard",
            "recommended",
        ]
    ]
    text = (
        f"{len(rows)} policies, {args.n} simulated submissions each, reviewers from {source}\n"
        f"expert adjudicator: {table['expert_model'].iloc[0]}"
        + (f"\ncosts: {costs} (cost_per_submission in that unit)" if costs else "")
        + f"\n\n{frame_text(shown, max_rows=500)}\n\nrecommended: {why}"
    )
    if args.html:
        from calibrate.report import policy_report

        page = policy_report(
            table, why=why, source=source, costs=None if costs is None else str(costs)
        ).provenance(
            pseudonymised=False, inputs=page_inputs(args, hidden=False, rubric=rubric), ids=False
        )
        text += f"\n\nHTML report: {page.write(args.html)}"
    return Outcome(rows, text)
