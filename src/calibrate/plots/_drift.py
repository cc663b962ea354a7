"""Drift plots: a reviewer's control chart (CUSUM and EWMA), and the group's drift."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from calibrate.plots._axes import axes_for, finish, panels_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from calibrate.drift import DriftMonitor, SeedingPlan

__all__ = ["plot_control_chart", "plot_group_drift", "plot_seeding_curve"]

_SOURCE_COLOUR = {"key": "#2b6cb0", "co_reviewers": "#718096", "model": "#805ad5"}


def _check_fitted(monitor: object) -> DriftMonitor:
    from calibrate.drift import DriftMonitor

    if not isinstance(monitor, DriftMonitor):
        raise TypeError(
            f"monitor must be a fitted calibrate.drift.DriftMonitor; got {type(monitor).__name__}"
        )
    if not hasattr(monitor, "flags_"):
        raise ValueError("monitor is not fitted yet; call fit(ratings) first")
    return monitor


def plot_control_chart(
    monitor: DriftMonitor,
    reviewer_id: str,
    *,
    ewma: bool = True,
    residuals: bool = True,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """A reviewer's control chart: the two-sided CUSUM with its decision limit, the onset
    and signal of a flag, and optionally the EWMA and the raw residuals.

    The CUSUM's lower side is drawn below zero (``-C-``): a path reaching the upper line
    means scores higher than the reference (more lenient), the lower line harsher. Points
    are coloured by reference (blue: key, grey: co-reviewers).

    Parameters
    ----------
    monitor : DriftMonitor
        A fitted monitor.
    reviewer_id : str
        A reviewer the monitor checked.
    ewma : bool
        Add the EWMA panel with its limits.
    residuals : bool
        Add a panel of each scoring's mean residual (score points).
    ax : Axes or sequence of Axes
        Draw the panels there (one Axes per panel: CUSUM, then EWMA and residuals as
        asked); default: a new figure with the panels stacked.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.drift import DriftMonitor
    >>> from calibrate.plots import plot_control_chart
    >>> program = read_program("data/synthetic/district")
    >>> monitor = DriftMonitor(rng=0).fit(program.ratings, program.key)
    >>> fig = plot_control_chart(monitor, "R007")
    >>> len(fig.axes)
    3
    """

    monitor = _check_fitted(monitor)
    chart = monitor.chart(reviewer_id)
    row = monitor.checked_.loc[monitor.checked_["reviewer_id"] == reviewer_id].iloc[0]
    flag = monitor.flags_.loc[monitor.flags_["reviewer_id"] == reviewer_id]
    n_panels = 1 + int(ewma) + int(residuals)
    fig, ax_list, own = panels_for(
        ax, n_panels, nrows=n_panels, ncols=1, figsize=(8, 2.2 * n_panels + 0.6), sharex=True
    )
    t = chart["rated_at"]
    colour = [_SOURCE_COLOUR.get(str(s), "#444") for s in chart["source"]]
    h = float(row["cusum_limit"])
    ax = ax_list[0]
    # a step without a score (each reference's first) leaves the statistics where they were
    upper, lower = chart["cusum_upper"].ffill(), chart["cusum_lower"].ffill()
    ax.plot(t, upper, color="#c05621", lw=1.2, label="CUSUM upper (lenient)")
    ax.plot(t, -lower, color="#2c7a7b", lw=1.2, label="CUSUM lower (harsh)")
    ax.scatter(t, chart["cusum_upper"], c=colour, s=8, zorder=3)
    ax.scatter(t, -chart["cusum_lower"], c=colour, s=8, zorder=3)
    if math.isfinite(h):
        ax.axhline(h, color="#c53030", ls="--", lw=0.9)
        ax.axhline(-h, color="#c53030", ls="--", lw=0.9)
    ax.axhline(0, color="#444", lw=0.6)
    ax.set_ylabel("CUSUM (SD units)")
    ax.legend(fontsize=7, loc="upper left")
    panel = 1
    if ewma:
        axe = ax_list[panel]
        panel += 1
        lam = float(monitor.settings_["lam"])
        lim = float(row["ewma_limit"]) * math.sqrt(lam / (2 - lam))
        axe.plot(t, chart["ewma"].ffill(), color="#2b6cb0", lw=1.1)
        if math.isfinite(lim):
            axe.axhline(lim, color="#c53030", ls="--", lw=0.9)
            axe.axhline(-lim, color="#c53030", ls="--", lw=0.9)
        axe.axhline(0, color="#444", lw=0.6)
        axe.set_ylabel(f"EWMA (lambda={lam:g})")
    if residuals:
        axr = ax_list[panel]
        axr.scatter(t, chart["residual"], c=colour, s=10)
        axr.axhline(0, color="#444", lw=0.6)
        axr.set_ylabel("mean residual\n(score points)")
    title = f"Reviewer {reviewer_id}: " + (
        "not flagged"
        if flag.empty
        else (
            f"{flag['direction'].iloc[0].replace('_', ' ')} by {flag['magnitude'].iloc[0]:.2f} "
            f"score points from {flag['onset'].iloc[0]:%Y-%m-%d} ({flag['chart'].iloc[0]} signal "
            f"{flag['signal_at'].iloc[0]:%Y-%m-%d}; false-alarm rate "
            f"{flag['false_alarm_rate'].iloc[0]:.0%})"
        )
    )
    if not flag.empty:
        for a in ax_list:
            a.axvline(flag["onset"].iloc[0], color="#d69e2e", lw=1.2, ls=":")
            a.axvline(flag["signal_at"].iloc[0], color="#c53030", lw=1.0, ls=":")
    ax_list[0].set_title(title, fontsize=9)
    ax_list[-1].set_xlabel("rated at (orange dotted: estimated onset; red dotted: signal)")
    return finish(fig, own, dates=ax_list)


def plot_group_drift(monitor: DriftMonitor, *, ax: Axes | None = None) -> Figure:
    """The group's change against the key per time window (mean over reviewers of their
    window mean residual minus their own overall mean, with a 95% interval), and the
    estimated onset when the group drifted.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.drift import DriftMonitor
    >>> from calibrate.plots import plot_group_drift
    >>> program = read_program("data/synthetic/district")
    >>> fig = plot_group_drift(DriftMonitor(rng=0).fit(program.ratings, program.key))
    >>> len(fig.axes)
    1
    """

    monitor = _check_fitted(monitor)
    g = monitor.group_
    fig, ax, own = axes_for(ax, figsize=(7, 3.2))
    w = g.windows
    if len(w):
        mid = w["start"] + (w["end"] - w["start"]) / 2
        err = np.vstack([w["change"] - w["low"], w["high"] - w["change"]])
        ax.errorbar(mid, w["change"], yerr=np.nan_to_num(err), fmt="o", color="#2b6cb0", capsize=3)
    ax.axhline(0, color="#444", lw=0.7)
    if g.tested and g.onset is not None:
        ax.axvline(g.onset, color="#c53030" if g.drifted else "#a0aec0", ls=":", lw=1.2)
    ax.set_ylabel("group change vs key\n(score points; up = more lenient)")
    ax.set_title(g.reason if len(g.reason) < 110 else g.reason[:107] + "...", fontsize=8)
    return finish(fig, own, dates=[ax])


def plot_seeding_curve(plan: SeedingPlan, *, ax: Axes | None = None) -> Figure:
    """The seeding plan (:func:`calibrate.drift.seeding_plan`): the probability that the
    drift monitor flags a drifter within K reviews against the share of seeded anchors,
    with a band of two Monte Carlo standard errors, the steady reviewers' false-alarm
    rate beside it, the wanted power and the share needed."""
    from calibrate.drift import SeedingPlan

    if not isinstance(plan, SeedingPlan):
        raise TypeError(f"plan must be a calibrate.drift.SeedingPlan; got {type(plan).__name__}")
    c = plan.curve
    fig, ax, own = axes_for(ax, figsize=(6.5, 4))
    for col, colour, label in (
        ("p_detect", "#2b6cb0", f"flagged within {plan.within} reviews of the onset"),
        ("false_alarm", "#c53030", "steady reviewer flagged over the record"),
    ):
        ax.plot(c["share"], c[col], "o-", color=colour, lw=2, ms=3, label=label)
        lo = (c[col] - 2 * c[f"{col}_se"]).clip(0, 1)
        hi = (c[col] + 2 * c[f"{col}_se"]).clip(0, 1)
        ax.fill_between(c["share"], lo, hi, color=colour, alpha=0.2, lw=0)
    ax.axhline(plan.power, color="#444", ls=":", lw=1)
    ax.axhline(plan.false_alarm_rate, color="#c53030", ls=":", lw=1)
    if plan.share_needed is not None:
        ax.axvline(plan.share_needed, color="#dd6b20", ls="--", lw=1)
        ax.annotate(
            f"share needed {plan.share_needed:g}",
            (plan.share_needed, plan.power),
            xytext=(5, -12),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("share of a reviewer's reviews that are seeded anchors")
    ax.set_ylabel("probability")
    ax.set_title(
        f"Drift of {plan.shift:g} levels; false-alarm design {plan.false_alarm_rate:g}",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="center right")
    return finish(fig, own)
