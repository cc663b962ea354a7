"""``calibrate drift``: reviewers whose scoring drifts over time, and drift of the group."""

from __future__ import annotations

import argparse
from typing import Any, Literal

import pandas as pd

from calibrate.cli._inputs import load_inputs, page_inputs, pseudonymizer_from
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_html,
    add_older_rubric,
    add_pseudonymize,
    add_seed,
    ratings_args,
)
from calibrate.cli._output import Outcome, frame_text


def _configure(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    add_older_rubric(p)
    p.add_argument(
        "--false-alarm-rate",
        type=float,
        default=0.05,
        metavar="P",
        help="probability that a steady reviewer is flagged within the horizon (default 0.05)",
    )
    p.add_argument(
        "--horizon",
        type=int,
        default=None,
        metavar="N",
        help="ratings over which the false-alarm rate holds (default: each reviewer's whole record)",
    )
    p.add_argument(
        "--arl",
        type=float,
        default=None,
        metavar="N",
        help="instead: the charts' in-control average run length, in ratings",
    )
    p.add_argument(
        "--k",
        type=float,
        default=0.35,
        help="CUSUM reference value in SD units (default 0.35)",
    )
    p.add_argument(
        "--charts",
        choices=("cusum", "ewma", "both"),
        default="cusum",
        help="charts that raise a flag (default cusum; the EWMA is always shown beside it)",
    )
    p.add_argument(
        "--live-reference",
        choices=("co_reviewers", "model"),
        default="co_reviewers",
        help="reference for live work the key does not cover (default: the co-reviewers' mean)",
    )
    p.add_argument(
        "--windows",
        type=int,
        default=4,
        metavar="N",
        help="equal time windows for severity per window and its test (default 4)",
    )
    p.add_argument(
        "--evidence",
        type=int,
        default=50,
        metavar="N",
        help="evidence rows per flag in the JSON output (default 50; 0 = all)",
    )
    add_seed(p, default=0, help="seed of the group permutation test")
    add_html(
        p,
        help="also write the self-contained HTML report (flags, group drift, control charts) here",
    )
    add_pseudonymize(p)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")


@command(
    "drift",
    "Reviewer drift over time: CUSUM/EWMA flags with onset, direction, size and evidence; group drift.",
    _configure,
)
def _drift(args: argparse.Namespace) -> Outcome:
    from calibrate.drift import DriftMonitor

    if not 0 < args.false_alarm_rate < 1:
        raise UsageError(
            f"--false-alarm-rate must be between 0 and 1 (exclusive); got {args.false_alarm_rate}"
        )
    for name, value, low in (("--windows", args.windows, 1), ("--evidence", args.evidence, 0)):
        if value < low:
            raise UsageError(f"{name} must be at least {low}; got {value}")
    if args.horizon is not None and args.horizon < 1:
        raise UsageError(f"--horizon must be at least 1 rating; got {args.horizon}")
    if args.arl is not None and args.arl <= 1:
        raise UsageError(f"--arl must be greater than 1; got {args.arl}")
    if not 0 <= args.k <= 5:
        raise UsageError(f"--k must be between 0 and 5; got {args.k}")
    _, table, key = load_inputs(args)
    charts: tuple[Literal["cusum", "ewma"], ...] = (
        ("cusum", "ewma") if args.charts == "both" else (args.charts,)
    )
    hider = pseudonymizer_from(args)
    if hider is not None:  # fit on pseudonyms: the JSON, the table and the page name no one
        from calibrate.ratings import AnswerKey

        table = hider.table(table)
        if key is not None:
            key = AnswerKey(hider.frame(key.frame, {"submission_id": "S"}), key.rubric)
    monitor = DriftMonitor(
        k=args.k,
        false_alarm_rate=None if args.arl is not None else args.false_alarm_rate,
        horizon=args.horizon,
        arl=args.arl,
        charts=charts,
        live_reference=args.live_reference,
        n_windows=args.windows,
        rng=args.seed,
    ).fit(table, key)
    report = monitor.report()
    flags, checked, tests = report.flags, report.checked, report.window_tests
    doc = report.to_dict()
    doc["flags"] = []
    for rec in _rows(flags):
        ev = report.evidence.get(str(rec["reviewer_id"]), pd.DataFrame())
        shown = ev if args.evidence == 0 else ev.head(args.evidence)
        rec["evidence"] = _rows(shown)
        rec["evidence_rows"] = len(ev)
        doc["flags"].append(rec)
    doc["reviewers_checked"] = _rows(checked)
    doc["window_tests"] = _rows(tests)
    doc["settings"]["pseudonymized"] = hider is not None
    if args.html:
        from calibrate.report import drift_report

        page = drift_report(monitor).provenance(
            pseudonymised=hider is not None,
            inputs=page_inputs(args, hidden=hider is not None, rubric=table.rubric),
        )
        doc["html"] = str(page.write(args.html))

    shown_flags = report.flag_summary(brief=True)
    short = checked.loc[checked["status"] != "checked", ["reviewer_id", "reason"]]
    changed = tests.loc[tests["changed"], ["reviewer_id", "source", "change", "p_holm"]]
    horizon = (
        f"within {args.horizon} ratings"
        if args.horizon is not None
        else "over each reviewer's whole record"
    )
    design = (
        f"in-control ARL {args.arl:g} ratings"
        if args.arl is not None
        else f"false-alarm rate {args.false_alarm_rate:g} {horizon}"
    )
    text = "\n\n".join(
        [
            f"Drift: {len(flags)} of {report.n_checked} reviewers checked flagged "
            f"({', '.join(charts)}; {design}; k = {monitor.k_:g}). "
            "more_lenient = higher scores than the reference; magnitude in score points.",
            frame_text(shown_flags),
            "Group: " + report.group.reason,
            "Severity changed across time windows (Holm-adjusted):\n"
            + (frame_text(changed) if len(changed) else "(none)"),
            "Not checked:\n" + (frame_text(short) if len(short) else "(none)"),
            *([f"HTML report: {doc['html']}"] if args.html else []),
        ]
    )
    return Outcome(doc, text)
