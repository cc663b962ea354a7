"""``calibrate feedback``: does every "not yet" carry feedback, and how much of it is pasted."""

from __future__ import annotations

import argparse

from calibrate.cli._inputs import pseudonymizer_from, select_ratings
from calibrate.cli._main import command
from calibrate.cli._options import (
    add_kind,
    add_pseudonymize,
    add_ratings_file,
    add_rubric,
    add_sheet,
)
from calibrate.cli._output import Outcome, UsageError, frame_text


def _configure(p: argparse.ArgumentParser) -> None:
    add_ratings_file(p)
    add_rubric(p)
    add_sheet(p)
    p.add_argument(
        "--near-copy",
        type=float,
        default=0.9,
        metavar="COSINE",
        help="a comment is a near-copy when the reviewer wrote one on another submission with TF-IDF cosine >= this (default 0.9)",
    )
    p.add_argument(
        "--blank-share",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="flag a reviewer when at least this share of their not-yet decisions has no feedback (default 0.5)",
    )
    p.add_argument(
        "--reused-share",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="flag a reviewer when at least this share of their comments are near-copies (default 0.5)",
    )
    p.add_argument(
        "--min-not-yet",
        type=int,
        default=5,
        metavar="N",
        help="fewer not-yet decisions are never flagged (default 5)",
    )
    p.add_argument(
        "--min-comments",
        type=int,
        default=5,
        metavar="N",
        help="fewer comments are never flagged for reuse (default 5)",
    )
    add_kind(p, default="all", help="which ratings to audit (default: all)")
    add_pseudonymize(p)


@command(
    "feedback",
    "Feedback audit: not-yet decisions without feedback, feedback length and rubric terms, pasted comments.",
    _configure,
)
def _feedback(args: argparse.Namespace) -> Outcome:
    from calibrate.feedback import feedback_audit, read_feedback
    from calibrate.rubric import load_rubric

    rubric = load_rubric(args.rubric)
    table, comments = read_feedback(args.ratings, rubric, sheet=args.sheet)
    if args.kind != "all" and table.frame["kind"].notna().any():
        # select keeps the rows' order: the comments follow the same mask
        comments = comments[(table.frame["kind"] == args.kind).to_numpy(dtype=bool)]
    table = select_ratings(table, kind=args.kind, purpose="audit")
    try:
        audit = feedback_audit(
            table,
            comments=comments,
            near_copy=args.near_copy,
            blank_share=args.blank_share,
            reused_share=args.reused_share,
            min_not_yet=args.min_not_yet,
            min_comments=args.min_comments,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    reviewers, criteria = audit.reviewers, audit.criteria
    hider = pseudonymizer_from(args)
    if hider is not None:
        reviewers = hider.frame(reviewers, {"reviewer_id": "R"})
    payload = {"ok": True, **audit.to_dict()}
    payload["reviewers"] = [
        {**row, "reviewer_id": rid}
        for row, rid in zip(payload["reviewers"], reviewers["reviewer_id"].astype(str), strict=True)
    ]
    shown = reviewers.assign(flags=reviewers["flags"].map(lambda f: "; ".join(f) or "-"))
    cols = [
        "reviewer_id",
        "n_not_yet",
        "not_yet_without_feedback",
        "n_comments",
        "mean_words",
        "names_terms_share",
        "reused_share",
        "flags",
    ]
    n_flag = int((reviewers["flags"].map(len) > 0).sum())
    text = "\n\n".join(
        [
            f"Feedback audit of {len(table)} ratings by {len(reviewers)} reviewers under {rubric.id}'s pass rule; "
            f"{int((comments != '').sum())} comments; {n_flag} reviewer(s) flagged.",
            frame_text(shown[cols]),
            "Per criterion:",
            frame_text(
                criteria[
                    [
                        "criterion_id",
                        "n_not_yet",
                        "not_yet_without_feedback",
                        "n_comments",
                        "mean_words",
                        "names_terms_share",
                        "reused_share",
                    ]
                ]
            ),
            "A flag is evidence for a conversation with the reviewer, not a verdict.",
        ]
    )
    return Outcome(payload, text)
