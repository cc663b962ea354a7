"""The subcommands. Each handler returns an :class:`Outcome`; parsing lives in ``_main``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from calibrate._problems import DataProblemError, RatingsError
from calibrate.cli._main import UsageError, add_store, command
from calibrate.cli._output import Outcome, frame_text
from calibrate.io import read_key, read_ratings, read_wide
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.rubric import Rubric, load_rubric


# ---- shared argument groups -------------------------------------------------------
def _ratings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("ratings", metavar="RATINGS", help="ratings file (.csv, .tsv, .xlsx or .parquet)")
    p.add_argument("--rubric", required=True, metavar="RUBRIC", help="rubric YAML file the scores are checked against")
    p.add_argument("--key", metavar="KEY", help="answer key for the anchors (submission_id, criterion_id, key_score[, rationale])")
    p.add_argument("--wide", action="store_true", help="RATINGS is a form export: a row per reviewer and submission, a column per criterion")
    p.add_argument("--sheet", help="Excel sheet name (default: the first sheet)")


def load_inputs(args: argparse.Namespace) -> tuple[Rubric, RatingsTable, AnswerKey | None]:
    """Rubric, ratings and key from the arguments; every problem of all three at once."""
    rubric = load_rubric(args.rubric)
    problems = []
    table = key = None
    reader = read_wide if getattr(args, "wide", False) else read_ratings
    try:
        table = reader(args.ratings, rubric, sheet=args.sheet)
    except RatingsError as exc:
        problems += exc.problems
    if args.key:
        try:
            key = read_key(args.key, rubric, ratings=table)
        except RatingsError as exc:
            problems += exc.problems
    if problems or table is None:
        raise RatingsError(problems)
    return rubric, table, key


def describe(table: RatingsTable, key: AnswerKey | None) -> dict[str, object]:
    return {**table.summary(), "key": None if key is None else {"anchors": len(key.anchors), "key_scores": len(key)}}


# ---- validate ---------------------------------------------------------------------
@command("validate", "Check a ratings file (and answer key) against a rubric; list every problem.", _ratings_args)
def _validate(args: argparse.Namespace) -> Outcome:
    _, table, key = load_inputs(args)
    info = {"ok": True, "file": str(args.ratings), **describe(table, key)}
    crit = pd.DataFrame(info["criteria"])
    text = (
        f"OK: {args.ratings} has {info['ratings']} valid ratings of {info['submissions']} submissions "
        f"by {info['reviewers']} reviewers on rubric {table.rubric.id} v{table.rubric.version}"
        + (f"; key: {len(key.anchors)} anchors" if key is not None else "")
        + "\n\n" + frame_text(crit)
    )
    return Outcome(info, text)


def _synth_placeholder(p: argparse.ArgumentParser) -> None:  # replaced when synth lands
    del p


__all__ = ["describe", "load_inputs", "DataProblemError", "Path", "UsageError", "add_store"]
