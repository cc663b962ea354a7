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
    ProgramModel,
    ReviewerScorer,
    best_policy,
    policy_grid,
    population_from_truth,
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
    p.add_argument(
        "--max-false-pass", type=float, help="constraint for the recommendation, e.g. 0.02"
    )
    p.add_argument("--max-false-not-yet", type=float, help="constraint for the recommendation")
    p.add_argument(
        "--max-third-review", type=float, help="constraint for the recommendation, e.g. 0.15"
    )
    p.add_argument("--max-reviews", type=float, help="constraint: reviews per submission")
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
    rubric = load_rubric(args.rubric)
    model: ReviewerScorer
    shares: np.ndarray | None = None
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
        weights = fit.mixture_weights_
        kind = "population" if weights is None else f"population as {len(weights)} latent classes"
        source = (
            f"a model fitted on the ratings in {args.ratings} (maximum likelihood: "
            f"severity, noise, central tendency, halo, workload shares, {kind})"
        )
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
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    choice = best_policy(
        table,
        max_false_pass=args.max_false_pass,
        max_false_not_yet=args.max_false_not_yet,
        max_third_review=args.max_third_review,
        max_reviews=args.max_reviews,
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
            "mc_se",
            "pareto",
            "recommended",
        ]
    ]
    text = f"{len(rows)} policies, {args.n} simulated submissions each, reviewers from {source}\n\n{frame_text(shown, max_rows=500)}\n\nrecommended: {why}"
    if args.html:
        from calibrate.report import policy_report

        page = policy_report(table, why=why, source=source).provenance(
            pseudonymised=False, inputs=page_inputs(args, hidden=False, rubric=rubric), ids=False
        )
        text += f"\n\nHTML report: {page.write(args.html)}"
    return Outcome(rows, text)
