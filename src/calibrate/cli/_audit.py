"""``calibrate audit``: a rubric audit -- G-study, D-study, level use, criterion structure."""

from __future__ import annotations

import argparse

import pandas as pd

from calibrate.cli._inputs import load_inputs, page_inputs, pseudonymizer_from, select_ratings
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_html,
    add_kind,
    add_pseudonymize,
    add_round,
    add_seed,
    ratings_args,
)
from calibrate.cli._output import Outcome, frame_text


def _configure(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    add_kind(
        p,
        default="live",
        help="which ratings to audit (default: live; a file without a kind column is used whole)",
    )
    add_round(p, help="audit one calibration round only", metavar="ROUND")
    p.add_argument(
        "--target", type=float, default=0.80, help="the Phi a decision should reach (default 0.80)"
    )
    p.add_argument(
        "--reviewers",
        type=int,
        default=2,
        metavar="N",
        help="reviewers per submission planned (default 2)",
    )
    p.add_argument(
        "--max-reviewers",
        type=int,
        default=8,
        metavar="N",
        help="D-study projects 1..N reviewers (default 8)",
    )
    p.add_argument(
        "--design",
        choices=("crossed", "nested"),
        default="crossed",
        help="G-study design: p x r x c with missing cells (default) or (r:p) x c",
    )
    p.add_argument(
        "--criteria",
        choices=("random", "fixed"),
        default="random",
        help="criteria in the D-study: random (default; projects other numbers of criteria) or fixed",
    )
    p.add_argument(
        "--n-boot",
        type=int,
        default=200,
        metavar="B",
        help="parametric-bootstrap replicates for intervals (default 200; 0 = none)",
    )
    add_seed(p, default=None, help="random seed for the bootstrap")
    add_html(p, help="also write the self-contained HTML report here")
    add_pseudonymize(p)


@command(
    "audit",
    "Audit a rubric: variance components, reviewers needed for a target reliability, level use, criterion structure.",
    _configure,
)
def _audit(args: argparse.Namespace) -> Outcome:
    from calibrate.audit import rubric_audit

    if not 0 < args.target < 1:
        raise UsageError(f"--target must be between 0 and 1 (exclusive); got {args.target}")
    for name, value, low in (
        ("--reviewers", args.reviewers, 1),
        ("--max-reviewers", args.max_reviewers, 1),
        ("--n-boot", args.n_boot, 0),
    ):
        if value < low:
            raise UsageError(f"{name} must be at least {low}; got {value}")
    _, table, _ = load_inputs(args)
    hider = pseudonymizer_from(args)
    if hider is not None:
        table = hider.table(table)
    table = select_ratings(table, kind=args.kind, round_id=args.round_id, purpose="audit")
    audit = rubric_audit(
        table,
        target=args.target,
        n_reviewers=args.reviewers,
        max_reviewers=args.max_reviewers,
        design=args.design,
        criteria=args.criteria,
        n_resamples=args.n_boot,
        rng=args.seed,
    )
    # a file name can name a person (Jane_Doe_R001_scores.csv): pseudonymised output names none
    payload = {"file": "input 1" if hider is not None else str(args.ratings), **audit.to_dict()}
    if args.html:
        from calibrate.report import audit_report

        page = audit_report(audit).provenance(
            pseudonymised=hider is not None,
            inputs=page_inputs(args, hidden=hider is not None, rubric=table.rubric),
        )
        payload["html"] = str(page.write(args.html))
    comp = audit.gstudy.to_frame()[["facet", "variance", "share", "se"]]
    ds = audit.dstudy.to_frame()[
        [
            "n_reviewers",
            "n_criteria",
            "g_relative",
            "g_absolute",
            "g_absolute_low",
            "g_absolute_high",
        ]
    ]
    crit = audit.criteria[["criterion_id", "phi_1", "phi_planned", "reviewers_needed", "n_flags"]]
    flags = audit.flags()
    text = "\n\n".join(
        [
            audit.recommendation,
            f"Variance components ({audit.gstudy.design}, {audit.gstudy.n_ratings} ratings):\n"
            + frame_text(comp),
            "D-study:\n" + frame_text(ds),
            "Per criterion:\n" + frame_text(crit),
            "Flags:\n"
            + (
                frame_text(
                    pd.DataFrame({"criterion": flags["criterion_id"], "reason": flags["reason"]})
                )
                if len(flags)
                else "(none)"
            ),
        ]
        + ([f"HTML report: {payload['html']}"] if args.html else [])
    )
    return Outcome(payload, text)
