"""``calibrate decisions``: the program's decision roster under its review policy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from calibrate.cli._inputs import load_attempt_frame, pseudonymizer_from
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_attempts_store,
    add_pseudonymize,
    add_ratings_file,
    add_rubric,
    add_sheet,
)
from calibrate.cli._output import Outcome, frame_text

if TYPE_CHECKING:
    from calibrate.policy import Decisions


def _configure(p: argparse.ArgumentParser) -> None:
    add_ratings_file(p)
    add_rubric(p, help="rubric YAML (its pass rule and review policy decide, unless --policy)")
    add_sheet(p)
    p.add_argument(
        "--policy",
        metavar="FILE",
        help="YAML of policy fields changing the rubric's own policy "
        "(e.g. 'resolution: average', 'criterion_differs_by: 2')",
    )
    p.add_argument(
        "--out",
        metavar="ROSTER",
        help="also write the roster: .csv (one row per submission) or .xlsx "
        "(sheets 'decisions' and 'pending'); formula-like text neutralised",
    )
    p.add_argument(
        "--by",
        choices=["attempt"],
        help="also the decisions per attempt (resubmissions): pass / not yet / pending, the "
        "pass rate with its Wilson interval, and how often a resubmission had a reviewer "
        "of the previous attempt (educator_id and attempt or resubmission_of columns of "
        "RATINGS, or --store)",
    )
    add_attempts_store(p)
    add_pseudonymize(p)


@command(
    "decisions",
    "The program's decisions: per submission the reviewers and scores, the tiebreak and who "
    "resolved it, pass / not yet, criteria short and feedback; pending work listed.",
    _configure,
)
def _decisions(args: argparse.Namespace) -> Outcome:
    from calibrate.feedback import read_feedback
    from calibrate.policy import decide, read_policy
    from calibrate.rubric import load_rubric

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.casefold() not in (".csv", ".xlsx"):
        raise UsageError(f"--out must end in .csv or .xlsx; got {args.out!r}")
    rubric = load_rubric(args.rubric)
    policy = read_policy(args.policy, rubric) if args.policy else None
    table, rationales = read_feedback(args.ratings, rubric, sheet=args.sheet)
    attempts = load_attempt_frame(args) if args.by == "attempt" else None
    hider = pseudonymizer_from(args)
    if hider is not None:  # decide on pseudonyms: every output (JSON, roster) names no one
        rationales = np.asarray(
            hider.scrub(
                rationales,
                reviewers=table.frame["reviewer_id"].cat.categories,
                submissions=table.frame["submission_id"].cat.categories,
            ),
            dtype=object,
        )
        table = hider.table(table)
        if attempts is not None:
            attempts = attempts.assign(
                submission_id=[hider(str(v), "S") for v in attempts["submission_id"]]
            )
    result = decide(table, policy, rubric=rubric, feedback=rationales)
    per_attempt = None
    if attempts is not None:
        from calibrate.policy import attempt_summary

        per_attempt = attempt_summary(table, attempts, policy, rubric=rubric, decisions=result)
    if out is not None:
        _write_roster(result, out)
    s = result.summary()
    frame = result.to_frame()
    pending = frame[frame["pending"] != ""]
    text = "\n\n".join(
        [
            f"{s['submissions']} submissions: {s['pass']} pass, {s['not_yet']} not yet, "
            f"{s['pending']} pending; tiebreaks triggered {s['tiebreaks_triggered']}, "
            f"resolved {s['tiebreaks_resolved']}.",
            frame_text(
                frame[
                    [
                        "submission_id",
                        "decision",
                        "reviewers",
                        "tiebreak",
                        "resolved_by",
                        "pending",
                        "criteria_short",
                    ]
                ],
                max_rows=200,
            ),
            "Pending:",
            frame_text(pending[["submission_id", "reviewers", "pending"]], max_rows=200),
            *([f"roster: {out}"] if out is not None else []),
        ]
    )
    payload = result.to_dict()
    if per_attempt is not None:
        payload["attempts"] = [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in per_attempt.astype(object).to_dict(orient="records")
        ]
        text += (
            "\n\nPer attempt (pass rate = pass / decided, Wilson 95% interval; same_reviewer: "
            "resubmissions with a reviewer of the educator's previous attempt, of "
            "with_previous):\n\n" + frame_text(per_attempt)
        )
    note = (
        [f"calibrate decisions: wrote {out}"] if out is not None and args.format == "json" else []
    )
    return Outcome(payload, text, stderr=note)


def _write_roster(result: Decisions, out: Path) -> None:
    """The roster file, whole or not at all, formula-like text neutralised."""
    from calibrate._atomic import atomic_path
    from calibrate.io import export_table, neutralise_formulas

    frame = result.to_frame()
    if out.suffix.casefold() == ".csv":
        export_table(frame, out)
        return
    import pandas as pd

    pending = frame.loc[frame["pending"] != "", ["submission_id", "reviewers", "pending"]]
    pending = pending.rename(columns={"pending": "waits_for"})
    with atomic_path(out) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        neutralise_formulas(frame).to_excel(xl, sheet_name="decisions", index=False)
        neutralise_formulas(pending).to_excel(xl, sheet_name="pending", index=False)
