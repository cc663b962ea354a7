"""The plan pages: the qualification rule's operating characteristic before a round, and
the seeding share the drift monitor needs."""

from __future__ import annotations

from calibrate._checks import check_instance
from calibrate.calibration import QualificationPlan
from calibrate.drift import SeedingPlan
from calibrate.report._html import HtmlReport

__all__ = ["qualification_report", "seeding_report"]


def qualification_report(
    plan: QualificationPlan, *, title: str = "Qualification plan"
) -> HtmlReport:
    """A :class:`~calibrate.calibration.QualificationPlan` as one HTML page: the curve of
    P(qualified) against the true agreement, the weak and good reviewers' error rates,
    the anchors needed and the numbers tried."""
    from calibrate.plots import plot_qualification_curve

    check_instance("plan", plan, QualificationPlan)
    rule = plan.rule
    rep = HtmlReport(title)
    rep.paragraph(
        f"Rubric {plan.rubric_id}, {plan.n_anchors} anchors; rule: exact >= {rule.min_exact:.0%}, "
        f"within one >= {rule.min_adjacent:.0%} per criterion, decision >= {rule.min_decision:.0%}. "
        f"Model: a score equals the key with probability p, {plan.far_share:.0%} of misses two "
        f"levels away; anchors' key levels uniform. Method: {plan.method}"
        + (f" ({plan.n_sim} simulated reviewers per p)." if plan.method == "simulation" else ".")
    )
    rep.figure(plot_qualification_curve(plan), alt="P(qualified) against true agreement")
    rep.heading("Errors of the rule")
    rep.bullets(
        [
            f"a weak reviewer (p = {plan.weak:g}) is qualified with probability {plan.false_pass:.3f}",
            f"a good reviewer (p = {plan.good:g}) fails with probability {plan.false_fail:.3f}",
            f"anchors needed for at most {plan.max_false_pass:.0%} / {plan.max_false_fail:.0%}: "
            + (str(plan.anchors_needed) if plan.anchors_needed is not None else "none found"),
        ]
    )
    rep.heading("The curve")
    rep.table(plan.curve, digits=4)
    rep.heading("Numbers of anchors tried")
    rep.table(plan.needed_table, digits=4)
    return rep


def seeding_report(plan: SeedingPlan, *, title: str = "Seeding plan") -> HtmlReport:
    """A :class:`~calibrate.drift.SeedingPlan` as one HTML page: the curve of the chance
    of flagging a drifter within K reviews (and of a false alarm) against the seeding
    share, the share needed and the table."""
    from calibrate.plots import plot_seeding_curve

    check_instance("plan", plan, SeedingPlan)
    doc = plan.to_dict()
    rep = HtmlReport(title)
    rep.paragraph(
        f"Rubric {plan.rubric_id}: reviewers drifting by {plan.shift:g} levels, flagged within "
        f"{plan.within} reviews of the onset, by the drift monitor designed for a false-alarm "
        f"rate of {plan.false_alarm_rate:g} over each reviewer's record of {plan.horizon} "
        f"reviews; {plan.n_sim} drifters and {plan.n_sim} steady reviewers simulated per share."
    )
    rep.figure(plot_seeding_curve(plan), alt="chance of a flag against the seeding share")
    rep.heading("Share needed")
    rep.paragraph(
        f"At least {plan.share_needed:g} of each reviewer's reviews seeded flags "
        f"{plan.power:.0%} of drifters within {plan.within} reviews."
        if plan.share_needed is not None
        else f"No share tried flags {plan.power:.0%} of drifters within {plan.within} reviews."
    )
    rep.heading("Model")
    rep.bullets([f"{k}: {v}" for k, v in doc["model"].items()])
    rep.heading("The curve")
    rep.table(plan.curve, digits=4)
    return rep
