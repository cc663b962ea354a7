"""``calibrate reliability``: every coefficient by criterion, round and pair, and of decisions."""

from __future__ import annotations

import argparse

import numpy as np

from calibrate.cli._inputs import load_inputs, pseudonymizer_from, select_ratings
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_kind,
    add_pseudonymize,
    add_ratings_file,
    add_rubric,
    add_seed,
    add_sheet,
    add_wide,
)
from calibrate.cli._output import Outcome, frame_text
from calibrate.io import read_ratings_without_rubric


def _configure(p: argparse.ArgumentParser) -> None:
    add_ratings_file(p)
    add_rubric(
        p,
        required=False,
        help="rubric YAML the scores are checked against; gives the levels and the pass rule "
        "(decision rows). Without it, give --level: a file with only submission_id, "
        "reviewer_id and score is then one criterion named 'score'",
    )
    p.add_argument(
        "--level",
        choices=("nominal", "ordinal", "interval", "ratio"),
        help="level of measurement of the scores (default with --rubric: ordinal)",
    )
    p.add_argument(
        "--by",
        default="criterion",
        metavar="KEYS",
        help="breakdowns, comma-separated: criterion, round, pair (reviewer pairs, Cohen's kappa) "
        "or overall (default: criterion)",
    )
    p.add_argument(
        "--coefficients",
        metavar="NAMES",
        help="comma-separated coefficients (default: all that fit the level): krippendorff_alpha, "
        "cohen_kappa, fleiss_kappa, conger_kappa, gwet_ac1, gwet_ac2, brennan_prediger, icc, "
        "percent_agreement",
    )
    add_kind(
        p, default="all", help="which ratings (default: all; a unit is a submission within a round)"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        metavar="N",
        help="bootstrap resamples of submissions per row (default 0: analytic intervals)",
    )
    p.add_argument(
        "--method",
        choices=("bca", "percentile"),
        default="bca",
        help="bootstrap interval (default bca)",
    )
    add_seed(p, default=None, help="random seed for the bootstrap")
    p.add_argument(
        "--confidence-level",
        type=float,
        default=0.95,
        metavar="P",
        help="confidence level of the intervals (default 0.95)",
    )
    p.add_argument(
        "--min-pair-units",
        type=int,
        default=10,
        metavar="N",
        help="submissions two reviewers must share for a pair row (default 10)",
    )
    p.add_argument(
        "--no-decision",
        action="store_true",
        help="leave out the pass / not yet decision rows",
    )
    add_wide(
        p,
        help="RATINGS is a form export: a row per reviewer and submission, a column per criterion (needs --rubric)",
    )
    add_sheet(p)
    add_pseudonymize(p)


def _split(text: str | None) -> list[str]:
    return [] if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _check_args(args: argparse.Namespace) -> None:
    from calibrate.reliability import BREAKDOWNS, COEFFICIENTS

    if args.rubric is None and args.level is None:
        raise UsageError(
            "give --rubric RUBRIC (the scale and pass rule) or --level "
            "nominal|ordinal|interval|ratio (scores taken as they are)"
        )
    if args.wide and args.rubric is None:
        raise UsageError("--wide needs --rubric: the criterion columns are the rubric's")
    bad = [b for b in _split(args.by) if b not in (*BREAKDOWNS, "overall")]
    if bad:
        raise UsageError(
            f"--by takes criterion, round, pair or overall (comma-separated); got {', '.join(bad)}"
        )
    bad = [c for c in _split(args.coefficients) if c not in COEFFICIENTS]
    if bad:
        raise UsageError(
            f"--coefficients must be among {', '.join(COEFFICIENTS)}; got {', '.join(bad)}"
        )
    if args.bootstrap < 0 or args.bootstrap == 1:
        raise UsageError(f"--bootstrap must be 0 or at least 2 resamples; got {args.bootstrap}")
    if not 0 < args.confidence_level < 1:
        raise UsageError(
            f"--confidence-level must be between 0 and 1 (exclusive); got {args.confidence_level}"
        )
    if args.min_pair_units < 1:
        raise UsageError(f"--min-pair-units must be at least 1; got {args.min_pair_units}")


@command(
    "reliability",
    "Inter-rater reliability per criterion, round and reviewer pair, and of the pass decision, "
    "with intervals (analytic or bootstrap) and interpretation bands.",
    _configure,
)
def _reliability(args: argparse.Namespace) -> Outcome:
    from calibrate.reliability import reliability_table

    _check_args(args)
    if args.rubric is not None:
        args.key = None
        _, table, _ = load_inputs(args)
        decision = not args.no_decision
    else:
        table = read_ratings_without_rubric(args.ratings, sheet=args.sheet)
        decision = False
    hider = pseudonymizer_from(args)
    if hider is not None:
        table = hider.table(table)
    table = select_ratings(table, kind=args.kind)
    by = tuple(b for b in _split(args.by) if b != "overall")
    rows = reliability_table(
        table,
        level=args.level,
        by=by,
        coefficients=_split(args.coefficients) or None,
        decision=decision,
        bootstrap=args.bootstrap,
        method=args.method,
        confidence_level=args.confidence_level,
        min_pair_units=args.min_pair_units,
        rng=args.seed,
    )
    payload = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]
    shown = [
        c
        for c in (
            "criterion_id",
            "round_id",
            "reviewer_a",
            "reviewer_b",
            "coefficient",
            "level",
            "estimate",
            "ci_low",
            "ci_high",
            "n_units",
            "band",
        )
        if c in rows.columns
    ]
    how = (
        f"{args.bootstrap} bootstrap resamples of submissions ({args.method})"
        if args.bootstrap
        else "analytic intervals (ICC: F)"
    )
    notes = rows.loc[rows["note"].astype(bool), ["coefficient", "level", "criterion_id", "note"]]
    text = "\n\n".join(
        [
            f"Reliability of {len(table)} ratings by {', '.join(by) or 'overall'}; "
            f"{args.confidence_level:.0%} {how}.",
            frame_text(rows[shown], max_rows=200),
            "Bands: " + "; ".join(sorted({str(s) for s in rows["band_source"].dropna()})),
        ]
        + (["Notes:\n" + frame_text(notes, max_rows=60)] if len(notes) else [])
    )
    return Outcome(payload, text)
