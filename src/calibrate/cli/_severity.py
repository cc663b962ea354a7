"""``calibrate severity``: reviewer severity (many-facet Rasch) and accuracy (Dawid-Skene)."""

from __future__ import annotations

import argparse

from calibrate.cli._inputs import load_inputs, page_inputs, pseudonymizer_from, select_ratings
from calibrate.cli._main import command
from calibrate.cli._options import (
    add_html,
    add_kind,
    add_older_rubric,
    add_pseudonymize,
    ratings_args,
)
from calibrate.cli._output import Outcome, frame_text


def _configure(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    add_older_rubric(p)
    p.add_argument(
        "--model",
        choices=("rating_scale", "partial_credit"),
        default="rating_scale",
        help="Rasch thresholds shared by the criteria (default) or per criterion",
    )
    p.add_argument(
        "--estimator",
        choices=("jml", "mml"),
        default="jml",
        help="Rasch by joint (default) or marginal maximum likelihood (MML: abilities "
        "integrated out under a normal population; consistent with few ratings per submission)",
    )
    add_kind(
        p,
        default="all",
        help="which ratings to model (default: all; severity is the same reviewer trait on anchors and live work)",
    )
    add_pseudonymize(p)
    add_html(
        p, help="also write the severity page (plain-words summary, plots, reviewer table) there"
    )


@command(
    "severity",
    "Reviewer severity with SEs and fit (many-facet Rasch) and accuracy against the key (Dawid-Skene).",
    _configure,
)
def _severity(args: argparse.Namespace) -> Outcome:
    from calibrate.severity import REVIEWER_TABLE_COLUMNS, severity_summary

    rubric, table, key = load_inputs(args)
    table = select_ratings(table, kind=args.kind)
    summary = severity_summary(table, key, model=args.model, estimator=args.estimator)
    rows, bias = summary.reviewers, summary.bias
    # fitted on the real ids (the key joins on them), shown under pseudonyms
    hider = pseudonymizer_from(args)
    if hider is not None:
        rows = hider.frame(rows, {"reviewer_id": "R"})
        bias = hider.frame(bias, {"reviewer_id": "R"})
    mfrm = summary.rasch
    sep = mfrm.separation_.loc["reviewers"]
    shown = rows[list(REVIEWER_TABLE_COLUMNS)]
    text = "\n\n".join(
        [
            f"Reviewer severity (many-facet Rasch, {args.model.replace('_', ' ')}, {args.estimator.upper()}; "
            "logits, positive = harsher), "
            f"{len(table)} ratings, {'converged' if mfrm.converged_ else 'NOT converged'} in {mfrm.n_iter_} sweeps. "
            f"Reviewer separation {sep['separation']:.2f}, reliability {sep['reliability']:.2f}.",
            frame_text(shown),
            "se: from the reviewer's own information (JML) or the marginal information (MML); "
            "se_joint: from the inverse of the joint information of all parameters.\n"
            "accuracy: P(score = true level) from Dawid-Skene"
            + (" with the key's anchors as known truth." if summary.keyed else " (no key given)."),
            f"Reviewer x criterion bias with |t| >= {summary.bias_t:g}:\n"
            + (frame_text(bias) if len(bias) else "(none)"),
        ]
    )
    if args.html:
        from calibrate.report import severity_report

        page = severity_report(summary, pseudonymizer=hider).provenance(
            pseudonymised=hider is not None,
            inputs=page_inputs(args, hidden=hider is not None, rubric=rubric),
        )
        text += f"\n\nHTML report: {page.write(args.html)}"
    return Outcome(rows.to_dict(orient="records"), text)
