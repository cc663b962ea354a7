"""The fairness page: group table and a reviewer x group bias heat map with intervals."""

from __future__ import annotations

import dataclasses

from calibrate._checks import check_instance
from calibrate.fairness import FairnessResult
from calibrate.report._html import HtmlReport
from calibrate.report._pseudonym import Pseudonymizer

__all__ = ["fairness_report"]


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
    from calibrate.plots import plot_fairness_bias

    check_instance("result", result, FairnessResult, "a calibrate.fairness.FairnessResult")
    cells = result.reviewer_groups
    if pseudonymizer is not None:
        check_instance("pseudonymizer", pseudonymizer, Pseudonymizer)
        cells = pseudonymizer.frame(cells, {"reviewer_id": "R"})
    shown = dataclasses.replace(result, reviewer_groups=cells)
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
        fig = plot_fairness_bias(shown, attribute=attribute)
        page.figure(fig, alt=f"reviewer x {attribute} bias heat map")
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
