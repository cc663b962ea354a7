"""Arguments and loading shared by the subcommands that read a ratings file."""

from __future__ import annotations

import argparse

from calibrate._problems import Problem, RatingsError
from calibrate.io import read_key, read_ratings, read_wide
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.report import Pseudonymizer, load_or_create_key
from calibrate.rubric import Rubric, load_rubric


def ratings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "ratings", metavar="RATINGS", help="ratings file (.csv, .tsv, .xlsx or .parquet)"
    )
    p.add_argument(
        "--rubric",
        required=True,
        metavar="RUBRIC",
        help="rubric YAML file the scores are checked against",
    )
    p.add_argument(
        "--key",
        metavar="KEY",
        help="answer key for the anchors (submission_id, criterion_id, key_score[, rationale])",
    )
    p.add_argument(
        "--wide",
        action="store_true",
        help="RATINGS is a form export: a row per reviewer and submission, a column per criterion",
    )
    p.add_argument("--sheet", help="Excel sheet name (default: the first sheet)")


def load_inputs(args: argparse.Namespace) -> tuple[Rubric, RatingsTable, AnswerKey | None]:
    """Rubric, ratings and key from the arguments; every problem of all three at once."""
    rubric = load_rubric(args.rubric)
    problems: list[Problem] = []
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
    return {
        **table.summary(),
        "key": None if key is None else {"anchors": len(key.anchors), "key_scores": len(key)},
    }


def add_pseudonymize(p: argparse.ArgumentParser) -> None:
    """``--pseudonymize`` and ``--pseudonym-key``: every report and export takes them."""
    p.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace reviewer and submission ids with stable keyed pseudonyms (R-XXXXXXXX, S-XXXXXXXX)",
    )
    p.add_argument(
        "--pseudonym-key",
        metavar="FILE",
        help="the program's secret key file (default: $CALIBRATE_PSEUDONYM_KEY, else .calibrate-pseudonym-key here, created on first use)",
    )


def pseudonymizer_from(args: argparse.Namespace) -> Pseudonymizer | None:
    if not getattr(args, "pseudonymize", False):
        return None
    return Pseudonymizer(load_or_create_key(args.pseudonym_key))
