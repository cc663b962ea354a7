"""Severity plots: reviewers' severities with intervals, and reviewer x criterion bias."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from calibrate.severity import ManyFacetRasch

__all__ = ["plot_severity", "plot_severity_bias"]


def _check_fitted(model: object) -> None:
    from calibrate.severity import ManyFacetRasch

    if not isinstance(model, ManyFacetRasch):
        raise TypeError(
            f"model must be a fitted calibrate.severity.ManyFacetRasch; got {type(model).__name__}"
        )
    if not hasattr(model, "severity_"):
        raise ValueError("model is not fitted yet; call fit(ratings) first")


def _shown(ids: object, labels: Mapping[str, str] | None) -> list[str]:
    """Reviewer ids as drawn: their ``labels`` (e.g. pseudonyms) where given."""
    texts = [str(i) for i in ids]  # type: ignore[attr-defined]
    return texts if labels is None else [labels.get(t, t) for t in texts]


def plot_severity(
    model: ManyFacetRasch,
    *,
    confidence_level: float = 0.95,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Caterpillar plot: each reviewer's severity (logits) with its interval, harshest on
    top; reviewers whose infit or outfit mean square is outside 0.5-1.5 in orange.

    Parameters
    ----------
    model : ManyFacetRasch
        A fitted model.
    confidence_level : float
        Coverage of the normal interval ``severity ± z * se``.
    labels : mapping, optional
        Reviewer id -> the name drawn for it (e.g. its pseudonym); ids not in it as they are.

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> from calibrate.severity import ManyFacetRasch
    >>> from calibrate.plots import plot_severity
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=100, n_reviewers=6, seed=1))
    >>> fig = plot_severity(ManyFacetRasch().fit(program.ratings_table()))
    >>> len(fig.axes[0].get_yticks())
    6
    """
    from scipy.stats import norm

    _check_fitted(model)
    if not 0 < confidence_level < 1:
        raise ValueError(
            f"confidence_level must be between 0 and 1 (exclusive); got {confidence_level!r}"
        )
    r = model.reviewers_.sort_values("severity")
    z = norm.ppf(0.5 + confidence_level / 2)
    y = np.arange(len(r))
    misfit = ~(r["infit"].between(0.5, 1.5) & r["outfit"].between(0.5, 1.5))
    colour = np.where(misfit, "#dd6b20", "#2b6cb0")
    fig, ax, own = axes_for(ax, figsize=(6, 0.25 * len(r) + 1.5))
    ax.errorbar(r["severity"], y, xerr=z * r["se"], fmt="none", ecolor="#999", elinewidth=1)
    ax.scatter(r["severity"], y, c=colour, s=18, zorder=3)
    ax.axvline(0, color="#444", lw=0.8, ls="--")
    ax.set_yticks(y, _shown(r["reviewer_id"], labels), fontsize=7 if len(r) > 40 else 8)
    ax.set_xlabel(f"severity (logits; right = harsher), {confidence_level:.0%} intervals")
    ax.set_title(
        "Reviewer severity (many-facet Rasch); orange: fit mean square outside 0.5-1.5", fontsize=9
    )
    return finish(fig, own)


def plot_severity_bias(
    model: ManyFacetRasch,
    *,
    t_limit: float = 2.0,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Heat map of reviewer x criterion bias (logits; red = harsher than the reviewer's
    own severity on that criterion); cells with ``|t| >= t_limit`` are outlined. ``labels``
    maps reviewer ids to the names drawn (e.g. pseudonyms).

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> from calibrate.severity import ManyFacetRasch
    >>> from calibrate.plots import plot_severity_bias
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=100, n_reviewers=6, seed=1))
    >>> fig = plot_severity_bias(ManyFacetRasch().fit(program.ratings_table()))
    >>> fig.axes[0].get_xlabel()
    'criterion'
    """
    from matplotlib.patches import Rectangle

    _check_fitted(model)
    if not t_limit > 0:
        raise ValueError(f"t_limit must be positive; got {t_limit!r}")
    b = model.bias_
    bias = b.pivot(index="reviewer_id", columns="criterion_id", values="bias")
    t = b.pivot(index="reviewer_id", columns="criterion_id", values="t").reindex_like(bias)
    order = model.severity_.sort_values(ascending=False).index
    bias, t = bias.reindex(order), t.reindex(order)
    lim = float(np.nanmax(np.abs(bias.to_numpy()))) if bias.size else 1.0
    fig, ax, own = axes_for(ax, figsize=(0.9 * bias.shape[1] + 2.5, 0.25 * bias.shape[0] + 1.5))
    im = ax.imshow(bias.to_numpy(dtype=float), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for i, j in zip(*np.nonzero(np.abs(t.to_numpy(dtype=float)) >= t_limit), strict=True):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=1.5))
    ax.set_xticks(
        range(bias.shape[1]), [str(c) for c in bias.columns], rotation=30, ha="right", fontsize=8
    )
    ax.set_yticks(range(bias.shape[0]), _shown(bias.index, labels), fontsize=7)
    ax.set_xlabel("criterion")
    ax.set_ylabel("reviewer (harshest on top)")
    ax.set_title(f"Reviewer x criterion bias (logits); outlined: |t| >= {t_limit:g}", fontsize=9)
    fig.colorbar(im, ax=ax, label="bias (red = harsher)")
    return finish(fig, own)
