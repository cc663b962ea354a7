"""The fairness page: group table and a reviewer x group bias heat map with intervals."""

from __future__ import annotations

import numpy as np

from calibrate._checks import check_instance
from calibrate.fairness import FairnessResult
from calibrate.report._html import HtmlReport
from calibrate.report._pseudonym import Pseudonymizer

__all__ = ["fairness_report"]

_MAX_ANNOTATED = 400  # cells; beyond this the heat map carries colour only


def _heat_map(cells, attribute: str):
    import matplotlib.pyplot as plt

    sub = cells[cells["attribute"] == attribute]
    reviewers = sorted(sub["reviewer_id"].unique())
    groups = sorted(sub["group"].unique())
    est = np.full((len(reviewers), len(groups)), np.nan)
    r_at = {r: i for i, r in enumerate(reviewers)}
    g_at = {g: j for j, g in enumerate(groups)}
    for row in sub.itertuples(index=False):
        est[r_at[row.reviewer_id], g_at[row.group]] = row.estimate
    lim = float(np.nanmax(np.abs(est))) if np.isfinite(est).any() else 1.0
    fig, ax = plt.subplots(
        figsize=(min(2 + 0.9 * len(groups), 16), min(1.5 + 0.35 * len(reviewers), 30))
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
    fig.tight_layout()
    return fig


def fairness_report(
    result: FairnessResult,
    *,
    title: str = "Fairness to every group",
    pseudonymizer: Pseudonymizer | None = None,
) -> HtmlReport:
    """A :class:`~calibrate.fairness.FairnessResult` as one HTML page: the group table,
    a reviewer x group bias heat map per attribute (estimates with their intervals) and
    the flagged cells. Reviewer ids are pseudonymised with ``pseudonymizer``.

    References
    ----------
    Linacre, J. M. (1989). *Many-facet Rasch measurement*. MESA Press.
    """
    check_instance("result", result, FairnessResult, "a calibrate.fairness.FairnessResult")
    cells = result.reviewer_groups
    if pseudonymizer is not None:
        check_instance("pseudonymizer", pseudonymizer, Pseudonymizer)
        cells = pseudonymizer.frame(cells, {"reviewer_id": "R"})
    page = HtmlReport(title)
    page.paragraph(
        "Groups: pass rate with a Wilson interval; fair_difference is the group's mean fair "
        "average (every reviewer at average severity) minus the rest's, so it is adjusted "
        "for who scored the group. Reviewer x group bias: the many-facet Rasch interaction "
        "with the main facets anchored (FACETS' bias analysis), in logits (positive = "
        f"harsher); flagged at Holm-adjusted p < {result.alpha:g}. A flag is evidence for a "
        "conversation with the reviewer, not a verdict."
    )
    page.heading("Groups")
    page.table(result.groups, digits=3)
    for attribute in result.attributes:
        page.heading(f"Reviewer x {attribute} bias")
        page.figure(_heat_map(cells, attribute), alt=f"reviewer x {attribute} bias heat map")
    page.heading("Flagged cells")
    flagged = cells[cells["flagged"]]
    cols = ["reviewer_id", "attribute", "group", "n_ratings", "estimate", "low", "high"]
    cols += ["estimate_points", "p_adjusted"]
    if len(flagged):
        page.table(flagged[cols], digits=3)
    else:
        page.paragraph("No reviewer x group cell is flagged.")
    untested = cells[~cells["tested"]]
    if len(untested):
        page.heading("Not tested")
        page.table(untested[["reviewer_id", "attribute", "group", "n_ratings", "reason"]])
    return page
