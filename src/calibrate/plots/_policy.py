"""Policy plot: each simulated review policy's decision accuracy against its cost in reviews,
the efficient frontier joined and the recommended policy marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_policy_frontier"]

_NEEDED = ("policy", "accuracy", "reviews_per_submission", "mc_se")


def plot_policy_frontier(table: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Accuracy (with +-2 Monte Carlo SE bars) against reviews per submission, one point per
    policy of a :func:`calibrate.policy.sweep`; the Pareto frontier (column ``pareto``) is
    joined, the recommended policy (column ``recommended``) ringed.

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.plots import plot_policy_frontier
    >>> t = pd.DataFrame({"policy": ["a", "b"], "accuracy": [0.9, 0.95],
    ...                   "reviews_per_submission": [2.0, 2.4], "mc_se": [0.002, 0.002],
    ...                   "pareto": [True, True], "recommended": [False, True]})
    >>> fig = plot_policy_frontier(t)
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"table must be a pandas DataFrame from sweep(); got {type(table).__name__}"
        )
    missing = [c for c in _NEEDED if c not in table.columns]
    if missing:
        raise ValueError(
            f"table must come from calibrate.policy.sweep; missing {', '.join(missing)}"
        )
    fig, ax, own = axes_for(ax, figsize=(7.0, 4.2))
    x = table["reviews_per_submission"].to_numpy(dtype=float)
    y = table["accuracy"].to_numpy(dtype=float)
    se = table["mc_se"].to_numpy(dtype=float)
    ax.errorbar(x, y, yerr=2 * se, fmt="o", color="#718096", ms=4, lw=1, label="policy (±2 MC SE)")
    if "pareto" in table.columns and table["pareto"].any():
        front = table[table["pareto"].astype(bool)].sort_values("reviews_per_submission")
        ax.plot(
            front["reviews_per_submission"],
            front["accuracy"],
            "-o",
            color="#2b6cb0",
            ms=5,
            label="efficient frontier",
        )
    if "recommended" in table.columns and table["recommended"].any():
        pick = table[table["recommended"].astype(bool)].iloc[0]
        ax.plot(
            [pick["reviews_per_submission"]],
            [pick["accuracy"]],
            "o",
            ms=14,
            mfc="none",
            mec="#c53030",
            mew=2,
            label=f"recommended: {pick['policy']}",
        )
    ax.set_xlabel("reviews per submission (cost)")
    ax.set_ylabel("decision accuracy")
    if np.isfinite(y).any():
        ax.set_ylim(max(0.0, np.nanmin(y - 3 * se) - 0.01), min(1.0, np.nanmax(y + 3 * se) + 0.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return finish(fig, own)
