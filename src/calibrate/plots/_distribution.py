"""How scores spread over the levels of each criterion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from calibrate.plots._axes import finish, panels_for
from calibrate.ratings import RatingsTable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_score_distribution"]


def plot_score_distribution(
    table: RatingsTable, *, by: str | None = "kind", ax: Axes | Sequence[Axes] | None = None
) -> Figure:
    """Bar chart of the share of scores at each level, one panel per criterion.

    Parameters
    ----------
    table : the ratings.
    by : a column to split the bars by (``kind``, ``round_id``) or None.
    ax : where to draw: one Axes per criterion (a single Axes for a one-criterion
        rubric), in rubric order; default: a new figure of up to three panels a row.

    Returns
    -------
    matplotlib Figure
    """
    crits = table.rubric.criteria
    ncol = min(3, len(crits))
    nrow = int(np.ceil(len(crits) / ncol))
    fig, axes, own = panels_for(
        ax, len(crits), nrows=nrow, ncols=ncol, figsize=(4 * ncol, 2.8 * nrow), sharey=True
    )
    if own:
        for extra in axes[len(crits) :]:
            extra.set_visible(False)
    f = table.frame
    groups = [None] if by is None else [g for g in f[by].dropna().unique().tolist()]
    if by is not None and not groups:
        groups = [None]
    width = 0.8 / len(groups)
    for a, crit in zip(axes, crits, strict=False):
        sub = f[f["criterion_id"] == crit.id]
        x = np.arange(len(crit.levels))
        for gi, g in enumerate(groups):
            part = sub if g is None else sub[sub[by] == g]
            counts = np.array([(part["score"] == s).sum() for s in crit.scores], dtype=float)
            share = counts / counts.sum() if counts.sum() else counts
            a.bar(
                x + (gi - (len(groups) - 1) / 2) * width,
                share,
                width,
                label=str(g) if g is not None else None,
            )
        a.set_xticks(x, [f"{lv.score}\n{lv.label}" for lv in crit.levels], fontsize=8)
        a.set_title(crit.name, fontsize=10)
        a.set_ylim(0, 1)
    axes[0].set_ylabel("share of scores")
    if groups != [None]:
        axes[0].legend(title=by, fontsize=8)
    return finish(fig, own)
