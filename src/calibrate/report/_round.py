"""The calibration-round report a lead takes into the discussion."""

from __future__ import annotations

import dataclasses

from calibrate.calibration import (
    QualificationRule,
    anchor_detail,
    discussion_ranking,
    group_lean,
    qualify,
    round_trends,
)
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.report._html import HtmlReport
from calibrate.report._pseudonym import Pseudonymizer

__all__ = ["round_report"]


def round_report(
    ratings: RatingsTable,
    key: AnswerKey,
    *,
    round_id: str | None = None,
    rule: QualificationRule | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    top_anchors: int = 3,
) -> HtmlReport:
    """Qualification, reasons, the group's lean, anchors to discuss and trends, as one
    HTML report. With ``pseudonymizer``, reviewer and submission ids are replaced.

    >>> from calibrate.io import read_program
    >>> p = read_program("data/synthetic/pilot")
    >>> report = round_report(p.ratings, p.key, round_id="R2")
    >>> "<h2>Who qualified</h2>" in report.render()
    True
    """
    from calibrate.plots import plot_reviewer_agreement, plot_round_trends

    result = qualify(ratings, key, round_id=round_id, rule=rule)
    ids = {"reviewer_id": "R", "submission_id": "S", "anchors_missed": "S"}

    def hide(frame):
        return pseudonymizer.frame(frame, ids) if pseudonymizer else frame

    reviewers = hide(result.reviewers)
    rep = HtmlReport(f"Calibration round {round_id or '(all anchor ratings)'}: {ratings.rubric.title}")
    n_q = int((result.reviewers["status"] == "qualified").sum())
    rep.paragraph(
        f"{n_q} of {len(result.reviewers)} reviewers qualified on {result.n_anchors} anchors. Standard: exact agreement with the key "
        f"of at least {result.rule.min_exact:.0%} and within-one agreement of at least {result.rule.min_adjacent:.0%} on every "
        f"criterion, and the pass / not-yet decision matching the key on at least {result.rule.min_decision:.0%} of anchors."
    )
    rep.bullets(result.warnings, css="warn")
    lean = group_lean(ratings, key, round_id=round_id)
    rep.paragraph(f"The group as a whole scored {lean['direction']}: mean score minus key {lean['mean_difference']:+.2f} points "
                  f"(95% interval {lean['ci_low']:+.2f} to {lean['ci_high']:+.2f}, over {lean['n_reviewers']} reviewers).")
    rep.heading("Who qualified")
    rep.figure(plot_reviewer_agreement(dataclasses.replace(result, reviewers=reviewers)), alt="agreement with the key per reviewer")
    rep.table(reviewers[["reviewer_id", "status", "exact_agreement", "adjacent_agreement", "decision_agreement", "mean_difference", "reasons"]])
    shaky = [f"{r.reviewer_id}: {w}" for r in reviewers.itertuples() for w in r.warnings]
    if shaky:
        rep.heading("Shaky calls")
        rep.paragraph("A standard inside a reviewer's 95% interval means more anchors are needed before the call is firm.", css="note")
        rep.bullets(shaky)
    rep.heading("Anchors to discuss")
    ranking = discussion_ranking(ratings, key, round_id=round_id)
    rep.paragraph("Ranked by how far reviewers strayed from the key (mean distance in levels), then by how much they disagreed "
                  "among themselves (spread).", css="note")
    rep.table(hide(ranking.head(15)))
    for sid in ranking["submission_id"].head(top_anchors):
        shown = pseudonymizer(sid, "S") if pseudonymizer else sid
        rep.paragraph(f"Anchor {shown}: how many reviewers gave each level, the key and its rationale.")
        rep.table(anchor_detail(ratings, key, sid, round_id=round_id))
    if len(ratings.rounds) > 1:
        rep.heading("Trends across rounds")
        trends = round_trends(ratings, key)
        rep.figure(plot_round_trends(trends), alt="exact agreement per round")
        rep.table(hide(trends[trends["reviewer_id"] == "(group)"]))
    return rep
