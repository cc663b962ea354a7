"""The policy page: every simulated review policy's decision accuracy against its cost, the
efficient frontier, the recommendation and what it means in plain words."""

from __future__ import annotations

import pandas as pd

from calibrate._checks import check_instance
from calibrate.report._html import HtmlReport

__all__ = ["policy_report"]

_SHOWN = [
    "policy",
    "min_total",
    "min_level",
    "reviewers",
    "resolution",
    "accuracy",
    "mc_se",
    "false_pass_rate",
    "false_not_yet_rate",
    "third_review_rate",
    "reviews_per_submission",
    "cost_per_submission",
    "pareto",
    "pareto_cost",
    "changes_standard",
    "recommended",
]


def policy_report(
    table: pd.DataFrame,
    *,
    why: str,
    source: str,
    title: str = "Review policies",
    costs: str | None = None,
) -> HtmlReport:
    """A :func:`~calibrate.policy.sweep` and its :func:`~calibrate.policy.best_policy` as one
    HTML page: the recommendation (``why``) and where the reviewer model came from
    (``source``), the expert model (column ``expert_model``), the frontier plot (and the
    money frontier when the table has ``cost_per_submission``; ``costs`` says the prices),
    the policies on the frontier in plain words, the policies that change the standard
    (``changes_standard``), and every policy's accuracy (with its Monte Carlo SE), error
    rates and cost.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"policy": ["a", "b"], "accuracy": [0.9, 0.95], "mc_se": [0.002, 0.002],
    ...                   "false_pass_rate": [0.05, 0.02], "false_not_yet_rate": [0.05, 0.03],
    ...                   "third_review_rate": [0.0, 0.2], "reviews_per_submission": [2.0, 2.2],
    ...                   "pareto": [True, True], "recommended": [False, True]})
    >>> "<h2>The frontier</h2>" in policy_report(t, why="b: most accurate", source="a test").render()
    True
    """
    from calibrate.plots import plot_policy_frontier

    check_instance("table", table, pd.DataFrame)
    page = HtmlReport(title)
    page.paragraph(f"Recommended: {why}")
    page.paragraph(
        f"{len(table)} policies simulated; reviewers and submissions from {source}.", css="note"
    )
    if "expert_model" in table.columns and len(table):
        page.paragraph(
            f"Expert adjudicator (expert resolution, read-behind): {table['expert_model'].iloc[0]}.",
            css="note",
        )
    money = "cost_per_submission" in table.columns
    if money:
        page.paragraph(
            "Money per submission from "
            + (costs or "the prices given")
            + "; a review by the expert is priced apart from a reviewer's.",
            css="note",
        )
    page.heading("In plain words")
    lines = [
        "Accuracy is the share of submissions whose final decision (pass / not yet) equals "
        "their true status; a false pass passes work below the standard, a false not-yet "
        "holds back work that meets it. Cost is reviews per submission, third reviews included.",
        "A policy on the frontier is the most accurate one for its cost: any other policy is "
        "either less accurate at the same cost or dearer at the same accuracy. Differences "
        "smaller than two Monte Carlo SEs are noise of the simulation.",
    ]
    if "pareto" in table.columns:
        front = table[table["pareto"].astype(bool)].sort_values("reviews_per_submission")
        lines += [
            f"{r.policy}: accuracy {r.accuracy:.3f} at {r.reviews_per_submission:.2f} reviews per "
            f"submission (false pass {r.false_pass_rate:.3f}, false not-yet {r.false_not_yet_rate:.3f})"
            for r in front.itertuples()
        ]
    if money and "pareto_cost" in table.columns:
        front = table[table["pareto_cost"].astype(bool)].sort_values("cost_per_submission")
        lines += [
            f"{r.policy}: accuracy {r.accuracy:.3f} at {r.cost_per_submission:.2f} per submission "
            "in money (on the money frontier"
            + ("" if r.pareto else ", not the reviews frontier: expert reviews are dearer")
            + ")"
            for r in front.itertuples()
        ]
    if "changes_standard" in table.columns:
        changed = table[table["changes_standard"].astype(bool)]
        lines += [
            f"{r.policy} changes the standard (pass rule {r.standard_change}), not only the "
            "review procedure: it moves what passes, which is the rubric's decision to make"
            for r in changed.itertuples()
        ]
    page.bullets(lines)
    page.heading("The frontier")
    page.figure(plot_policy_frontier(table), alt="accuracy against reviews per submission")
    if money:
        page.figure(
            plot_policy_frontier(table, cost="money"), alt="accuracy against money per submission"
        )
    page.heading("Every policy")
    page.table(table[[c for c in _SHOWN if c in table.columns]], digits=4)
    return page
