"""``calibrate round``: qualify each reviewer of a calibration round against the key."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from calibrate.calibration import QualificationRule, RoundResult, qualify
from calibrate.cli._inputs import check_round, load_inputs, page_inputs, pseudonymizer_from
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_html, add_pseudonymize, add_round, ratings_args
from calibrate.cli._output import Outcome, frame_text
from calibrate.report import round_report

if TYPE_CHECKING:
    import pandas as pd

    from calibrate.ratings import AnswerKey, RatingsTable
    from calibrate.report import Pseudonymizer


def _round_args(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    add_round(p, help="the round to qualify (default: the last round in the ratings)")
    defaults = QualificationRule()
    p.add_argument(
        "--min-exact",
        type=float,
        default=defaults.min_exact,
        help=f"exact agreement per criterion (default {defaults.min_exact})",
    )
    p.add_argument(
        "--min-adjacent",
        type=float,
        default=defaults.min_adjacent,
        help=f"within-one agreement per criterion (default {defaults.min_adjacent})",
    )
    add_html(p, help="also write the round report (one self-contained HTML file) here")
    p.add_argument(
        "--details",
        action="store_true",
        help="with --format json: one document with every number the round report shows "
        "(reviewers, per-criterion rates with intervals, the group's lean, shaky calls, the "
        "anchors to discuss and their level counts, trends) instead of the list of reviewer rows",
    )
    add_pseudonymize(p)
    p.add_argument(
        "--min-decision",
        type=float,
        default=defaults.min_decision,
        help=f"pass / not-yet decision agreement (default {defaults.min_decision})",
    )


@command(
    "round",
    "Qualify each reviewer of a calibration round: agreement with the key, status and reasons. "
    "(`calibrate round assign ...` assigns a round's anchors: see `calibrate assign`.)",
    _round_args,
)
def _round(args: argparse.Namespace) -> Outcome:
    if not args.key:
        raise UsageError("a calibration round needs the answer key: --key KEY")
    try:
        rule = QualificationRule(
            min_exact=args.min_exact, min_adjacent=args.min_adjacent, min_decision=args.min_decision
        )
    except ValueError as exc:
        raise UsageError(f"bad qualification rule: {exc}") from None
    rubric, ratings, key = load_inputs(args)
    if key is None:  # --key was given, so load_inputs read one; this keeps the types honest
        raise UsageError("a calibration round needs the answer key: --key KEY")
    round_id = ratings.latest_round if args.round_id is None else args.round_id
    check_round(ratings, round_id)
    result = qualify(ratings, key, round_id=round_id, rule=rule)
    raw = result
    hider = pseudonymizer_from(args)
    if hider is not None:
        result = dataclasses.replace(
            result,
            reviewers=hider.frame(result.reviewers, {"reviewer_id": "R", "anchors_missed": "S"}),
        )
    # the round's warnings (anchor coverage, too few anchors) bear on every reviewer's
    # qualification: JSON carries them in each row's ``warnings`` (the rows are the contract)
    rows = [
        {**r, "warnings": [*list(r["warnings"]), *result.warnings]}  # type: ignore[call-overload]
        for r in result.to_records()
    ]
    if args.html:
        rationales = None
        if not getattr(args, "wide", False):  # what the reviewers wrote, beside the key's
            from calibrate.feedback import read_feedback

            rationales = read_feedback(args.ratings, rubric, sheet=args.sheet)[1]
        page = round_report(
            ratings, key, round_id=round_id, rule=rule, pseudonymizer=hider, rationales=rationales
        ).provenance(
            pseudonymised=hider is not None,
            inputs=page_inputs(args, hidden=hider is not None, rubric=rubric),
        )
        page.write(args.html)
    n_q = sum(r["status"] == "qualified" for r in rows)
    table = result.reviewers[
        [
            "reviewer_id",
            "status",
            "exact_agreement",
            "adjacent_agreement",
            "decision_agreement",
            "mean_difference",
        ]
    ]
    lines = [
        f"Round {round_id or '(all anchor ratings)'}: {n_q} of {len(rows)} reviewers qualified on {result.n_anchors} anchors",
        "",
        frame_text(table, max_rows=500),
        "",
    ]
    for r, reasons in zip(rows, result.reviewers["reasons"], strict=True):
        if r["status"] != "qualified":
            lines.append(f"{r['reviewer_id']} recalibrate: " + "; ".join(reasons))
    if args.html:
        lines.append(f"\nreport: {args.html}")
    payload: object = rows
    if args.details:
        payload = _details(ratings, key, raw, rows, round_id, hider)
    return Outcome(payload, "\n".join(lines), stderr=[f"warning: {w}" for w in result.warnings])


def _details(
    ratings: RatingsTable,
    key: AnswerKey,
    result: RoundResult,
    rows: list[dict[str, object]],
    round_id: str | None,
    hider: Pseudonymizer | None,
) -> dict[str, object]:
    """Every number of the round report as one JSON-ready document (``--details``)."""
    from calibrate.calibration import anchor_detail, discussion_ranking, group_lean, round_trends
    from calibrate.report import shaky_calls

    ids = {"reviewer_id": "R", "submission_id": "S", "anchors_missed": "S"}

    def hide(frame: pd.DataFrame) -> pd.DataFrame:
        return frame if hider is None else hider.frame(frame, ids)

    def records(frame: pd.DataFrame) -> list[dict[str, object]]:
        return frame.to_dict(orient="records")

    ranking = discussion_ranking(ratings, key, round_id=round_id).head(15)
    everyone = {
        "reviewers": ratings.frame["reviewer_id"].cat.categories,
        "submissions": ratings.frame["submission_id"].cat.categories.union(
            key.frame["submission_id"].astype(str).unique()
        ),
    }
    details = []
    for sid in ranking["submission_id"].head(3):
        detail = anchor_detail(ratings, key, sid, round_id=round_id)
        if hider is not None:
            detail = detail.assign(rationale=hider.scrub(detail["rationale"], **everyone))
        details.append(
            {"submission_id": hider(sid, "S") if hider else sid, "criteria": records(detail)}
        )
    doc: dict[str, object] = {
        "round_id": round_id,
        "rule": result.rule.model_dump(),
        "n_anchors": result.n_anchors,
        "warnings": list(result.warnings),
        "reviewers": rows,
        "criteria": records(hide(result.criteria)),
        "group_lean": group_lean(ratings, key, round_id=round_id),
        "shaky_calls": records(hide(shaky_calls(result))),
        "anchors_to_discuss": records(hide(ranking)),
        "anchor_details": details,
    }
    if len(ratings.rounds) > 1:
        trends = round_trends(ratings, key)
        group = trends[trends["reviewer_id"] == "(group)"].assign(reviewer_id="all reviewers")
        doc["trends"] = records(group)
    return doc
