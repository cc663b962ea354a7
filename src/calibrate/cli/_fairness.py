"""``calibrate fairness``: differential reviewer functioning by submission attributes."""

from __future__ import annotations

import argparse

from calibrate._problems import Problem, RatingsError
from calibrate.cli._inputs import load_attempt_frame, load_inputs, page_inputs, pseudonymizer_from
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_attempts_store, add_html, add_pseudonymize, ratings_args
from calibrate.cli._output import Outcome, frame_text


def _configure(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    p.add_argument(
        "--by",
        required=True,
        metavar="ATTRIBUTE[,ATTRIBUTE...]",
        help="column(s) of the ratings file holding each submission's group "
        "(district, school, cohort, ...); attempt: the attempt number of resubmissions "
        "(the file's attempt or resubmission_of column with educator_id, or --store)",
    )
    add_attempts_store(p)
    p.add_argument(
        "--min-ratings",
        type=int,
        default=20,
        help="fewest ratings a reviewer x group cell needs to be tested (default 20)",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="level of the Holm-adjusted tests and 1 - alpha intervals (default 0.05)",
    )
    add_html(p, help="also write the fairness page (group table, bias heat map) there")
    add_pseudonymize(p)


@command(
    "fairness",
    "Differential reviewer functioning: group pass rates and fair-average differences, "
    "reviewer x group bias (many-facet Rasch) with Holm-adjusted tests.",
    _configure,
)
def _fairness(args: argparse.Namespace) -> Outcome:
    from calibrate.fairness import fairness
    from calibrate.io import read_submission_attributes

    names = [n.strip() for n in args.by.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--by must name at least one attribute column; got {args.by!r}")
    if args.min_ratings < 1:
        raise UsageError(f"--min-ratings must be an integer >= 1; got {args.min_ratings}")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must be a number in (0, 1); got {args.alpha}")
    problems: list[Problem] = []
    table = key = attrs = None
    try:
        _, table, key = load_inputs(args)
    except RatingsError as exc:
        problems += exc.problems
    in_file = [n for n in names if n != "attempt"]
    try:
        attrs = read_submission_attributes(args.ratings, in_file)
        if "attempt" in names:
            attempt = load_attempt_frame(args)[["submission_id", "attempt"]]
            attrs = attrs.merge(attempt, on="submission_id", how="left")
    except RatingsError as exc:
        problems += exc.problems
    if problems or table is None or attrs is None:
        raise RatingsError(problems)
    result = fairness(
        table, by=names, attributes=attrs, key=key, min_ratings=args.min_ratings, alpha=args.alpha
    )
    hider = pseudonymizer_from(args)
    page_path = None
    if args.html:
        from calibrate.report import fairness_report

        page = fairness_report(result, pseudonymizer=hider).provenance(
            pseudonymised=hider is not None,
            inputs=page_inputs(args, hidden=hider is not None, rubric=table.rubric),
        )
        page_path = page.write(args.html)
    payload = result.to_dict()
    g, cells, flagged_cells = result.groups, result.reviewer_groups, result.flagged
    if hider is not None:
        cells = hider.frame(cells, {"reviewer_id": "R"})
        flagged_cells = hider.frame(flagged_cells, {"reviewer_id": "R"})
        payload["reviewer_groups"] = [
            {**row, "reviewer_id": rid}
            for row, rid in zip(payload["reviewer_groups"], cells["reviewer_id"], strict=True)
        ]
    group_cols = [
        "attribute",
        "group",
        "submissions",
        "pass_rate",
        "pass_low",
        "pass_high",
        "fair_average",
        "fair_difference",
        "fair_difference_low",
        "fair_difference_high",
    ] + [c for c in ("key_exact",) if c in g.columns]
    flagged = flagged_cells[
        [
            "reviewer_id",
            "attribute",
            "group",
            "n_ratings",
            "estimate",
            "estimate_points",
            "se",
            "p_adjusted",
        ]
    ]
    n_tested = int(cells["tested"].sum())
    text = "\n\n".join(
        [
            f"Groups by {', '.join(names)} ({len(table)} ratings; pass rate with Wilson "
            f"{1 - args.alpha:.0%} interval; fair_difference: the group's mean fair average "
            "minus the rest's, adjusted for who scored it):",
            frame_text(g[group_cols]),
            f"Reviewer x group bias (logits, positive = harsher on the group; estimate_points "
            f"in score points): {n_tested} cells tested, {len(cells) - n_tested} with fewer "
            f"than {args.min_ratings} ratings not tested; flagged at Holm-adjusted p < {args.alpha:g}:",
            frame_text(flagged),
            "A flag is evidence for a conversation with the reviewer, not a verdict.",
            *([f"HTML page: {page_path}"] if page_path else []),
        ]
    )
    note = [f"calibrate fairness: wrote {page_path}"] if page_path and args.format == "json" else []
    return Outcome(payload, text, stderr=note)
