"""``calibrate validate``: check a ratings file (and key) against a rubric."""

from __future__ import annotations

import argparse

import pandas as pd

from calibrate.cli._inputs import describe, load_inputs
from calibrate.cli._main import command
from calibrate.cli._options import ratings_args
from calibrate.cli._output import Outcome, frame_text


@command(
    "validate",
    "Check a ratings file (and answer key) against a rubric; list every problem.",
    ratings_args,
)
def _validate(args: argparse.Namespace) -> Outcome:
    _, table, key = load_inputs(args)
    info = {"ok": True, "file": str(args.ratings), **describe(table, key)}
    crit = pd.DataFrame(info["criteria"])
    text = (
        f"OK: {args.ratings} has {info['ratings']} valid ratings of {info['submissions']} submissions "
        f"by {info['reviewers']} reviewers on rubric {table.rubric.id} v{table.rubric.version}"
        + (f"; key: {len(key.anchors)} anchors" if key is not None else "")
        + "\n\n"
        + frame_text(crit)
    )
    return Outcome(info, text)
