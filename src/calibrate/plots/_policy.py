"""Policy plot: each simulated review policy's decision accuracy against its cost in reviews,
the efficient frontier joined and the recommended policy marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice
from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_policy_frontier"]

_NEEDED = ("policy", "accuracy", "reviews_per_submission", "mc_se")


def plot_policy_frontier(
    table: pd.DataFrame, *, ax: Axes | None = None, cost: Literal["reviews", "money"] = "reviews"
) -> Figure:
    """Accuracy (with +-2 Monte Carlo SE bars) against reviews per submission, one point per
    policy of a :func:`calibrate.policy.sweep`; the Pareto frontier (column ``pareto``) is
    joined, the recommended policy (column ``recommended``) ringed. ``cost="money"`` puts
    money per submission on the x axis (``cost_per_submission``, a sweep with ``costs``)
    and joins the money frontier (``pareto_cost``); policies changing the standard
    (``changes_standard``) are drawn as squares.

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.plots import plot_policy_frontier
    >>> t = pd.DataFrame({"policy": ["a", "b"], "accuracy": [0.9, 0.95],
    ...                   "reviews_per_submission": [2.0, 2.4], "mc_se": [0.002, 0.002],
    ...                   "pareto": [True, True], "recommended": [False, True]})
    >>> fig = plot_policy_frontier(t)
    >>> fig.axes[0].get_xlabel()
    'reviews per submission (cost)'
    >>> t["cost_per_submission"], t["pareto_cost"] = [50.0, 66.0], [True, True]
    >>> plot_policy_frontier(t, cost="money").axes[0].get_xlabel()
    'money per submission (cost)'
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"table must be a pandas DataFrame from sweep(); got {type(table).__name__}"
        )
    check_choice("cost", cost, ("reviews", "money"))
    xcol, front_col = (
        ("reviews_per_submission", "pareto")
        if cost == "reviews"
        else ("cost_per_submission", "pareto_cost")
    )
    needed = (*_NEEDED, xcol) if cost == "money" else _NEEDED
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(
            "table must come from calibrate.policy.sweep"
            + (" with costs" if cost == "money" else "")
            + f"; missing {', '.join(missing)}"
        )
    fig, ax, own = axes_for(ax, figsize=(7.0, 4.2))
    x = table[xcol].to_numpy(dtype=float)
    y = table["accuracy"].to_numpy(dtype=float)
    se = table["mc_se"].to_numpy(dtype=float)
    changed = (
        table["changes_standard"].to_numpy(dtype=bool)
        if "changes_standard" in table.columns
        else np.zeros(len(table), dtype=bool)
    )
    ax.errorbar(
        x[~changed],
        y[~changed],
        yerr=2 * se[~changed],
        fmt="o",
        color="#718096",
        ms=4,
        lw=1,
        label="policy (±2 MC SE)",
    )
    if changed.any():
        ax.errorbar(
            x[changed],
            y[changed],
            yerr=2 * se[changed],
            fmt="s",
            color="#b7791f",
            ms=5,
            lw=1,
            label="changes the standard (pass rule)",
        )
    if front_col in table.columns and table[front_col].any():
        front = table[table[front_col].astype(bool)].sort_values(xcol)
        ax.plot(
            front[xcol],
            front["accuracy"],
            "-o",
            color="#2b6cb0",
            ms=5,
            label="efficient frontier",
        )
    if "recommended" in table.columns and table["recommended"].any():
        pick = table[table["recommended"].astype(bool)].iloc[0]
        ax.plot(
            [pick[xcol]],
            [pick["accuracy"]],
            "o",
            ms=14,
            mfc="none",
            mec="#c53030",
            mew=2,
            label=f"recommended: {pick['policy']}",
        )
    ax.set_xlabel(f"{'reviews' if cost == 'reviews' else 'money'} per submission (cost)")
    ax.set_ylabel("decision accuracy")
    if np.isfinite(y).any():
        ax.set_ylim(max(0.0, np.nanmin(y - 3 * se) - 0.01), min(1.0, np.nanmax(y + 3 * se) + 0.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return finish(fig, own)
