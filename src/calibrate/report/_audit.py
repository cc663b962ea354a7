"""The rubric-audit page: per criterion its reliability and flags, the G- and D-study, level
use and criterion structure, with their plots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from calibrate._checks import check_instance
from calibrate.audit import RubricAudit
from calibrate.report._html import HtmlReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["audit_figures", "audit_report"]


def audit_figures(audit: RubricAudit) -> dict[str, Figure]:
    """The audit's plots by name: ``variance_components``, ``d_study``, ``level_use`` and
    ``criterion_correlations`` (matplotlib Figures)."""
    from calibrate.plots import (
        plot_criterion_correlations,
        plot_d_study,
        plot_level_use,
        plot_variance_components,
    )

    check_instance("audit", audit, RubricAudit)
    return {
        "variance_components": plot_variance_components(audit.gstudy),
        "d_study": plot_d_study(audit.dstudy, target=audit.target),
        "level_use": plot_level_use(audit.level_use),
        "criterion_correlations": plot_criterion_correlations(audit.structure),
    }


def audit_report(audit: RubricAudit, *, title: str = "Rubric audit") -> HtmlReport:
    """A :func:`~calibrate.audit.rubric_audit` as one HTML report (plots embedded, text
    escaped): the recommendation, per-criterion reliability and flags, the G- and D-study,
    level use and criterion structure. Write it with ``.write(path)``.

    >>> from calibrate.io import read_program
    >>> from calibrate.audit import rubric_audit
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> page = audit_report(rubric_audit(live, n_resamples=20, rng=0))
    >>> "<h2>How many reviewers (D-study)</h2>" in page.render()
    True
    """
    figs = audit_figures(audit)
    rep = HtmlReport(title)
    rep.paragraph(audit.recommendation)
    rep.heading("Per criterion")
    rep.paragraph(
        f"Phi of one review (with its {audit.gstudy.confidence_level:.0%} interval), Phi with "
        f"{audit.n_reviewers} reviewers, and the reviewers needed for Phi >= {audit.target:.2f}."
    )
    shown = audit.criteria.drop(columns=["reliability_reason"])
    rep.table(shown, digits=3)
    flags = audit.flags()
    rep.heading("Flags")
    rep.bullets(
        [f"{r.criterion_id or 'rubric'}: {r.reason}" for r in flags.itertuples()] or ["no flags"]
    )
    rep.heading("Where score variance comes from (G-study)")
    rep.paragraph(
        f"Design {audit.gstudy.design}, {audit.gstudy.n_ratings} ratings; Henderson's method 1 "
        f"(Brennan's analogous ANOVA); intervals from {audit.gstudy.n_resamples} parametric-bootstrap replicates."
    )
    rep.table(audit.gstudy.to_frame(), digits=4)
    rep.figure(figs["variance_components"], alt="variance components")
    if audit.gstudy.note:
        rep.paragraph(audit.gstudy.note, css="note")
    rep.heading("How many reviewers (D-study)")
    rep.table(audit.dstudy.to_frame(), digits=3)
    rep.figure(figs["d_study"], alt="D-study")
    rep.heading("Level use")
    rep.figure(figs["level_use"], alt="level use")
    rep.table(audit.level_use.interchangeable.drop(columns=["reviewer_ids"]), digits=2)
    rep.heading("Criterion structure")
    rep.paragraph(f"Cronbach's alpha over scorings: {audit.structure.alpha:.3f}.")
    rep.table(audit.structure.item_total, digits=3)
    rep.figure(figs["criterion_correlations"], alt="criterion correlations")
    return rep
