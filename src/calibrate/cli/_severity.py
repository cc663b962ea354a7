"""``calibrate severity``: reviewer severity (many-facet Rasch) and accuracy (Dawid-Skene)."""

from __future__ import annotations

import argparse

from calibrate.cli._inputs import load_inputs, pseudonymizer_from, select_ratings
from calibrate.cli._main import command
from calibrate.cli._options import add_kind, add_pseudonymize, ratings_args
from calibrate.cli._output import Outcome, frame_text


def _configure(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    p.add_argument(
        "--model",
        choices=("rating_scale", "partial_credit"),
        default="rating_scale",
        help="Rasch thresholds shared by the criteria (default) or per criterion",
    )
    add_kind(
        p,
        default="all",
        help="which ratings to model (default: all; severity is the same reviewer trait on anchors and live work)",
    )
    add_pseudonymize(p)


@command(
    "severity",
    "Reviewer severity with SEs and fit (many-facet Rasch) and accuracy against the key (Dawid-Skene).",
    _configure,
)
def _severity(args: argparse.Namespace) -> Outcome:
    from calibrate.severity import DawidSkene, ManyFacetRasch

    _, table, key = load_inputs(args)
    table = select_ratings(table, kind=args.kind)
    mfrm = ManyFacetRasch(model=args.model).fit(table)
    ds = DawidSkene().fit(table, key=key)
    acc = ds.reviewers_.groupby("reviewer_id", sort=True)[["accuracy", "mean_shift"]].mean()
    rows = mfrm.reviewers_.merge(acc, left_on="reviewer_id", right_index=True, how="left")
    bias = mfrm.bias_
    flagged = (
        bias.loc[bias["t"].abs() >= 2]
        .groupby("reviewer_id")["criterion_id"]
        .agg(lambda s: sorted(s.astype(str)))
    )
    rows["bias_criteria"] = (
        rows["reviewer_id"].map(flagged).apply(lambda v: v if isinstance(v, list) else [])
    )
    rows = rows.sort_values("severity", ascending=False).reset_index(drop=True)
    bias = bias.loc[bias["t"].abs() >= 2, ["reviewer_id", "criterion_id", "n", "bias", "se", "t"]]
    hider = pseudonymizer_from(
        args
    )  # fitted on the real ids (the key joins on them), shown under pseudonyms
    if hider is not None:
        rows = hider.frame(rows, {"reviewer_id": "R"})
        bias = hider.frame(bias, {"reviewer_id": "R"})
    payload = rows.to_dict(orient="records")
    sep = mfrm.separation_.loc["reviewers"]
    shown = rows[
        [
            "reviewer_id",
            "n",
            "severity",
            "se",
            "infit",
            "outfit",
            "observed_average",
            "fair_average",
            "accuracy",
        ]
    ]
    text = "\n\n".join(
        [
            f"Reviewer severity (many-facet Rasch, {args.model.replace('_', ' ')}; logits, positive = harsher), "
            f"{len(table)} ratings, {'converged' if mfrm.converged_ else 'NOT converged'} in {mfrm.n_iter_} sweeps. "
            f"Reviewer separation {sep['separation']:.2f}, reliability {sep['reliability']:.2f}.",
            frame_text(shown),
            "accuracy: P(score = true level) from Dawid-Skene"
            + (
                " with the key's anchors as known truth." if key is not None else " (no key given)."
            ),
            "Reviewer x criterion bias with |t| >= 2:\n"
            + (frame_text(bias) if len(bias) else "(none)"),
        ]
    )
    return Outcome(payload, text)
