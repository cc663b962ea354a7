"""Calibration-round plots: each reviewer against the standard, and trends over rounds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from calibrate.calibration import QualificationPlan, RoundResult

__all__ = ["plot_qualification_curve", "plot_reviewer_agreement", "plot_round_trends"]


def plot_reviewer_agreement(result: RoundResult, *, ax: Axes | None = None) -> Figure:
    """Exact and within-one agreement with the key per reviewer (overall), the rule's
    standards as lines, recalibrate reviewers in orange."""

    r = result.reviewers.sort_values("exact_agreement")
    y = np.arange(len(r))
    fig, ax, own = axes_for(ax, figsize=(7, 0.28 * len(r) + 1.4))
    colour = np.where(r["status"] == "qualified", "#2b6cb0", "#dd6b20")
    ax.barh(y + 0.2, r["exact_agreement"], 0.4, color=colour)
    ax.barh(y - 0.2, r["adjacent_agreement"], 0.4, color=colour, alpha=0.45)
    ax.axvline(result.rule.min_exact, color="#444", ls="--", lw=1)
    ax.axvline(result.rule.min_adjacent, color="#444", ls=":", lw=1)
    ax.set_yticks(y, r["reviewer_id"].astype(str), fontsize=8)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("agreement with the key (all criteria)")
    ax.set_title(
        f"Round {result.round_id or 'all'}: blue qualified, orange recalibrate; lines = standards",
        fontsize=10,
    )
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color="#555", label="exact"),
            Patch(color="#555", alpha=0.45, label="within one level"),
        ],
        loc="lower right",
        fontsize=8,
    )
    return finish(fig, own)


def plot_round_trends(
    trends: pd.DataFrame, *, measure: str = "exact", ax: Axes | None = None
) -> Figure:
    """Each reviewer's agreement per round (grey) and the group's (black)."""

    if measure not in ("exact", "adjacent", "mean_difference"):
        raise ValueError(
            f"measure must be one of 'exact', 'adjacent', 'mean_difference'; got {measure!r}"
        )
    rounds = sorted(trends["round_id"].unique())
    x = {r: i for i, r in enumerate(rounds)}
    fig, ax, own = axes_for(ax, figsize=(6, 3.5))
    for rid, g in trends.groupby("reviewer_id"):
        xs = g["round_id"].map(x)
        if rid == "(group)":
            ax.plot(xs, g[measure], color="black", lw=2.5, marker="o", label="group", zorder=3)
        else:
            ax.plot(xs, g[measure], color="#999", lw=0.8, alpha=0.7)
    ax.set_xticks(range(len(rounds)), rounds)
    ax.set_xlabel("round")
    ax.set_ylabel(
        {
            "exact": "exact agreement",
            "adjacent": "within-one agreement",
            "mean_difference": "mean score - key",
        }[measure]
    )
    ax.legend(fontsize=8)
    return finish(fig, own)


def plot_qualification_curve(plan: QualificationPlan, *, ax: Axes | None = None) -> Figure:
    """The qualification rule's operating characteristic: P(qualified) against the true
    agreement p (a band of two Monte Carlo standard errors when simulated), the weak and
    good reviewers marked with the chance of qualifying / failing them."""

    c = plan.curve
    fig, ax, own = axes_for(ax, figsize=(6.5, 4))
    ax.plot(c["p"], c["p_qualified"], color="#2b6cb0", lw=2)
    if (c["se"] > 0).any():
        lo = (c["p_qualified"] - 2 * c["se"]).clip(0, 1)
        hi = (c["p_qualified"] + 2 * c["se"]).clip(0, 1)
        ax.fill_between(c["p"], lo, hi, color="#2b6cb0", alpha=0.2, lw=0)
    for p, y, text in (
        (plan.weak, plan.false_pass, f"weak p={plan.weak:g}: qualified {plan.false_pass:.1%}"),
        (plan.good, 1 - plan.false_fail, f"good p={plan.good:g}: failed {plan.false_fail:.1%}"),
    ):
        ax.axvline(p, color="#444", ls=":", lw=1)
        ax.plot([p], [y], "o", color="#dd6b20")
        ax.annotate(text, (p, y), xytext=(5, 5), textcoords="offset points", fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("true agreement p of a reviewer's score with the key")
    ax.set_ylabel("P(qualified)")
    ax.set_title(f"Qualification on {plan.n_anchors} anchors ({plan.method})", fontsize=10)
    return finish(fig, own)
