"""Fairness plot: the reviewer x group bias terms as a heat map with their intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from calibrate.fairness import FairnessResult

__all__ = ["plot_fairness_bias"]

_MAX_ANNOTATED = 400  # cells; beyond this the heat map carries colour only


def plot_fairness_bias(
    result: FairnessResult, *, attribute: str | None = None, ax: Axes | None = None
) -> Figure:
    """Heat map of the reviewer x group bias terms of one attribute (logits; red = harsher
    on the group than the reviewer's own severity), each tested cell annotated with its
    estimate and interval (``*``: flagged), an untested one with its count of ratings.

    Parameters
    ----------
    result : FairnessResult
        From :func:`calibrate.fairness.fairness`.
    attribute : str, optional
        Which of ``result.attributes`` (default: the first).

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.fairness import fairness
    >>> from calibrate.plots import plot_fairness_bias
    >>> from calibrate.synth import SynthSpec, generate
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=120, n_reviewers=6, seed=2, n_groups=2))
    >>> result = fairness(program.ratings_table(), by="group", attributes=program.attributes)
    >>> fig = plot_fairness_bias(result)
    >>> fig.axes[0].get_xlabel()
    'group'
    """
    from calibrate.fairness import FairnessResult

    if not isinstance(result, FairnessResult):
        raise TypeError(
            f"result must be a calibrate.fairness.FairnessResult; got {type(result).__name__}"
        )
    if attribute is None:
        attribute = result.attributes[0]
    if attribute not in result.attributes:
        raise ValueError(f"attribute must be one of {list(result.attributes)}; got {attribute!r}")
    cells = result.reviewer_groups
    sub = cells[cells["attribute"] == attribute]
    reviewers = sorted(sub["reviewer_id"].unique())
    groups = sorted(sub["group"].unique())
    est = np.full((len(reviewers), len(groups)), np.nan)
    r_at = {r: i for i, r in enumerate(reviewers)}
    g_at = {g: j for j, g in enumerate(groups)}
    for row in sub.itertuples(index=False):
        est[r_at[row.reviewer_id], g_at[row.group]] = row.estimate
    lim = float(np.nanmax(np.abs(est))) if np.isfinite(est).any() else 1.0
    fig, ax, own = axes_for(
        ax, figsize=(min(2 + 0.9 * len(groups), 16), min(1.5 + 0.35 * len(reviewers), 30))
    )
    im = ax.imshow(est, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(groups)), groups, rotation=45, ha="right")
    ax.set_yticks(range(len(reviewers)), reviewers)
    ax.set_xlabel(attribute)
    ax.set_ylabel("reviewer")
    fig.colorbar(im, ax=ax, label="bias (logits, red = harsher on the group)")
    if est.size <= _MAX_ANNOTATED:
        for row in sub.itertuples(index=False):
            i, j = r_at[row.reviewer_id], g_at[row.group]
            if not row.tested:
                text = f"n={row.n_ratings}"
            else:
                text = f"{row.estimate:+.2f}\n[{row.low:+.2f}, {row.high:+.2f}]"
                text += " *" if row.flagged else ""
            ax.text(j, i, text, ha="center", va="center", fontsize=6)
    ax.set_title("Reviewer x group bias; * flagged; n = too few ratings to test")
    return finish(fig, own)
