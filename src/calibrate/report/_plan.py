"""The qualification plan page: the rule's operating characteristic before a round."""

from __future__ import annotations

from calibrate._checks import check_instance
from calibrate.calibration import QualificationPlan
from calibrate.report._html import HtmlReport

__all__ = ["qualification_report"]


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
