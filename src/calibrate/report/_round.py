"""The calibration-round report a lead takes into the discussion."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.calibration import (
    QualificationRule,
    RoundResult,
    anchor_detail,
    anchors_needed,
    discussion_ranking,
    group_lean,
    qualify,
    round_trends,
)
from calibrate.feedback import comment_texts
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.report._html import HtmlReport
from calibrate.report._pseudonym import Pseudonymizer

__all__ = ["round_report", "shaky_calls"]


def shaky_calls(result: RoundResult) -> pd.DataFrame:
    """One row per (reviewer, criterion, standard) whose standard lies inside the
    reviewer's interval: rate, interval, standard and the anchors that would settle it."""
    rule = result.rule
    rows = []
    for r in result.criteria[result.criteria["criterion_id"] != "overall"].itertuples():
        for measure, rate, lo, hi, std in (
            ("exact", r.exact, r.exact_low, r.exact_high, rule.min_exact),
            ("within one", r.adjacent, r.adjacent_low, r.adjacent_high, rule.min_adjacent),
        ):
            if lo <= std <= hi and rate != std:
                rows.append(
                    {
                        "reviewer_id": r.reviewer_id,
                        "criterion_id": r.criterion_id,
                        "measure": measure,
                        "rate": rate,
                        "n": r.n,
                        "low": lo,
                        "high": hi,
                        "standard": std,
                        "anchors_needed": anchors_needed(
                            rate, std, confidence_level=rule.confidence_level
                        ),
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "reviewer_id",
            "criterion_id",
            "measure",
            "rate",
            "n",
            "low",
            "high",
            "standard",
            "anchors_needed",
        ],
    )


def round_report(
    ratings: RatingsTable,
    key: AnswerKey,
    *,
    round_id: str | None = None,
    rule: QualificationRule | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    top_anchors: int = 3,
    rationales: Sequence[str | None] | np.ndarray | pd.Series | None = None,
) -> HtmlReport:
    """Qualification, reasons, the group's lean, anchors to discuss and trends, as one
    HTML report. With ``pseudonymizer``, reviewer and submission ids are replaced, also
    where the key's or the reviewers' rationales write them (and e-mail addresses there are
    removed). ``rationales`` (one text per row of ``ratings``, e.g. from
    :func:`calibrate.feedback.read_feedback`) puts what each reviewer wrote beside the
    key's rationale for every anchor discussed.

    >>> from calibrate.io import read_program
    >>> p = read_program("data/synthetic/pilot")
    >>> report = round_report(p.ratings, p.key, round_id="R2")
    >>> "<h2>Who qualified</h2>" in report.render()
    True
    """
    from calibrate.plots import plot_reviewer_agreement, plot_round_trends

    result = qualify(ratings, key, round_id=round_id, rule=rule)
    ids = {"reviewer_id": "R", "submission_id": "S", "anchors_missed": "S"}
    texts = None if rationales is None else comment_texts(rationales, len(ratings))
    everyone = {
        "reviewers": ratings.frame["reviewer_id"].cat.categories,
        "submissions": ratings.frame["submission_id"].cat.categories.union(
            key.frame["submission_id"].astype(str).unique()
        ),
    }

    def hide(frame):
        if pseudonymizer is None:
            return frame
        frame = pseudonymizer.frame(frame, ids)
        if "rationale" in frame.columns:
            frame["rationale"] = pseudonymizer.scrub(frame["rationale"], **everyone)
        return frame

    reviewers = hide(result.reviewers)
    rep = HtmlReport(
        f"Calibration round {round_id or '(all anchor ratings)'}: {ratings.rubric.title}"
    )
    n_q = int((result.reviewers["status"] == "qualified").sum())
    rep.paragraph(
        f"{n_q} of {len(result.reviewers)} reviewers qualified on {result.n_anchors} anchors. Standard: exact agreement with the key "
        f"of at least {result.rule.min_exact:.0%} and within-one agreement of at least {result.rule.min_adjacent:.0%} on every "
        f"criterion, and the pass / not-yet decision matching the key on at least {result.rule.min_decision:.0%} of anchors."
    )
    rep.bullets(result.warnings, css="warn")
    lean = group_lean(ratings, key, round_id=round_id)
    rep.paragraph(
        f"The group as a whole scored {lean['direction']}: mean score minus key {lean['mean_difference']:+.2f} points "
        f"(95% interval {lean['ci_low']:+.2f} to {lean['ci_high']:+.2f}, over {lean['n_reviewers']} reviewers)."
    )
    rep.heading("Who qualified")
    rep.figure(
        plot_reviewer_agreement(dataclasses.replace(result, reviewers=reviewers)),
        alt="agreement with the key per reviewer",
    )
    rep.paragraph(
        f"Rates over all criteria with {result.rule.confidence_level:.0%} Wilson intervals; "
        "'short on' names the standards missed; the reasons and shaky calls open under 'why'.",
        css="note",
    )
    who = result
    if pseudonymizer is not None:
        who = dataclasses.replace(result, reviewers=reviewers, criteria=hide(result.criteria))
    rep.kit_html(who.reviewer_table_html())
    shaky = shaky_calls(result)
    if not shaky.empty:
        rep.heading("Shaky calls")
        rep.paragraph(
            f"Where a standard lies inside a reviewer's {result.rule.confidence_level:.0%} interval, the call could go either way; "
            "'anchors needed' is how many anchors would settle it at the observed rate.",
            css="note",
        )
        rep.table(hide(shaky))
    rep.heading("Anchors to discuss")
    ranking = discussion_ranking(ratings, key, round_id=round_id)
    rep.paragraph(
        "Ranked by how far reviewers strayed from the key (mean distance in levels), then by how much they disagreed "
        "among themselves (spread).",
        css="note",
    )
    rep.table(hide(ranking.head(15)))
    for sid in ranking["submission_id"].head(top_anchors):
        shown = pseudonymizer(sid, "S") if pseudonymizer else sid
        rep.paragraph(
            f"Anchor {shown}: how many reviewers gave each level, the key and its rationale."
        )
        rep.table(hide(anchor_detail(ratings, key, sid, round_id=round_id)))
        if texts is not None:
            wrote = _reviewer_rationales(ratings, texts, sid, round_id)
            if len(wrote):
                rep.paragraph(f"What the reviewers wrote on anchor {shown}:", css="note")
                rep.table(hide(wrote))
    if len(ratings.rounds) > 1:
        rep.heading("Trends across rounds")
        trends = round_trends(ratings, key)
        rep.figure(plot_round_trends(trends), alt="exact agreement per round")
        # the group's row is no reviewer: it keeps its name under pseudonyms
        group = trends[trends["reviewer_id"] == "(group)"].copy()
        group["reviewer_id"] = "all reviewers"
        rep.table(group)
    return rep


def _reviewer_rationales(
    ratings: RatingsTable, texts: np.ndarray, submission_id: str, round_id: str | None
) -> pd.DataFrame:
    """Each non-empty rationale reviewers wrote on one anchor (in the round), by criterion
    in rubric order, then reviewer."""
    f = ratings.frame
    mask = (f["submission_id"].astype(str) == submission_id).to_numpy() & (texts != "")
    if round_id is not None:
        mask &= (f["round_id"].astype(str) == round_id).to_numpy()
    rows = f.loc[mask, ["criterion_id", "reviewer_id", "score"]].assign(rationale=texts[mask])
    rows["reviewer_id"] = rows["reviewer_id"].astype(str)
    return rows.sort_values(["criterion_id", "reviewer_id"]).reset_index(drop=True)
