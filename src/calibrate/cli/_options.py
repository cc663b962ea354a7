"""The options several subcommands share, each defined once: files, store, format, selection.

Each ``add_*`` adds one option (or one set, like :func:`ratings_args`) to a subcommand's
parser where the command calls it, so every ``--help`` lists the options in the order the
command gives them. (argparse's ``parents=`` would put every shared option before the
command's own.) Where commands word the help of a shared option for their own use, the
command passes its ``help``; the flag, destination, metavar, type and choices stay the
option's own.
"""

from __future__ import annotations

import argparse

#: The kinds of ratings a command can be restricted to (``all``: no restriction).
KIND_CHOICES = ("live", "seeded", "anchor", "all")

_WIDE_HELP = "RATINGS is a form export: a row per reviewer and submission, a column per criterion"


def add_format(p: argparse.ArgumentParser) -> None:
    """``--format table|json``: every subcommand has it (added last by the dispatcher)."""
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output: a readable table (default) or JSON on stdout",
    )


def add_store(p: argparse.ArgumentParser) -> None:
    """``--store PATH``: the SQLite store file."""
    p.add_argument(
        "--store",
        default="calibrate.db",
        metavar="PATH",
        help="the SQLite store file (default: calibrate.db in this folder)",
    )


def add_attempts_store(p: argparse.ArgumentParser) -> None:
    """``--store PATH`` for ``--by attempt``: where submissions' attempts are stored."""
    p.add_argument(
        "--store",
        default=None,
        metavar="PATH",
        help="with --by attempt: a store whose submission attributes hold educator_id and "
        "attempt (used with, or instead of, the ratings file's educator_id, attempt or "
        "resubmission_of columns)",
    )


def add_no_backup(p: argparse.ArgumentParser) -> None:
    """``--no-backup``: skip the snapshot a writing command takes before it writes."""
    p.add_argument(
        "--no-backup",
        action="store_true",
        help="do not refresh the snapshot <store>.bak before writing (it costs about 0.1 s per million ratings)",
    )


def add_rubric_id(p: argparse.ArgumentParser, *, help: str, required: bool = True) -> None:
    """``--rubric-id``: a rubric stored in the store (required unless told)."""
    p.add_argument("--rubric-id", required=required, help=help)


def add_ratings_file(p: argparse.ArgumentParser) -> None:
    """The ``RATINGS`` file, positional."""
    p.add_argument(
        "ratings", metavar="RATINGS", help="ratings file (.csv, .tsv, .xlsx or .parquet)"
    )


def add_rubric(
    p: argparse.ArgumentParser,
    *,
    required: bool = True,
    help: str = "rubric YAML file the scores are checked against",
) -> None:
    """``--rubric RUBRIC``: the rubric YAML file."""
    p.add_argument("--rubric", required=required, metavar="RUBRIC", help=help)


def add_key(
    p: argparse.ArgumentParser,
    *,
    help: str = "answer key for the anchors (submission_id, criterion_id, key_score[, rationale])",
) -> None:
    """``--key KEY``: the answer key file."""
    p.add_argument("--key", metavar="KEY", help=help)


def add_wide(p: argparse.ArgumentParser, *, help: str = _WIDE_HELP) -> None:
    """``--wide``: RATINGS is a form export (a column per criterion)."""
    p.add_argument("--wide", action="store_true", help=help)


def add_sheet(p: argparse.ArgumentParser) -> None:
    """``--sheet``: the Excel sheet to read."""
    p.add_argument("--sheet", help="Excel sheet name (default: the first sheet)")


def ratings_args(p: argparse.ArgumentParser) -> None:
    """RATINGS, ``--rubric``, ``--key``, ``--wide`` and ``--sheet``: what a command reading
    a ratings file against a rubric takes (see :func:`calibrate.cli._inputs.load_inputs`)."""
    add_ratings_file(p)
    add_rubric(p)
    add_key(p)
    add_wide(p)
    add_sheet(p)


def add_older_rubric(p: argparse.ArgumentParser, *, help: str | None = None) -> None:
    """``--older-rubric RUBRIC`` (repeatable): older versions of ``--rubric`` whose ratings
    the file's ``rubric_version`` column names (see :func:`calibrate.cli._inputs.load_versioned`)."""
    p.add_argument(
        "--older-rubric",
        action="append",
        default=[],
        metavar="RUBRIC",
        help=help
        or "an older version of --rubric (repeat for each) whose ratings the file's "
        "rubric_version column names (as calibrate export writes it): they are read under "
        "the newest version through its replaces (criteria carried over, renamed and "
        "rescored; the others are left out, with a note)",
    )


def add_pseudonymize(p: argparse.ArgumentParser) -> None:
    """``--pseudonymize`` and ``--pseudonym-key``: every report and export takes them."""
    p.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace reviewer and submission ids with stable keyed pseudonyms (R-XXXXXXXXXXXXXXXX, S-XXXXXXXXXXXXXXXX: 80 bits of HMAC-SHA256)",
    )
    p.add_argument(
        "--pseudonym-key",
        metavar="FILE",
        help="the program's secret key file (default: $CALIBRATE_PSEUDONYM_KEY, else .calibrate-pseudonym-key here, created on first use)",
    )


def add_kind(p: argparse.ArgumentParser, *, default: str, help: str) -> None:
    """``--kind``: only the ratings of one kind (see :func:`calibrate.cli._inputs.select_ratings`)."""
    p.add_argument("--kind", choices=KIND_CHOICES, default=default, help=help)


def add_round(
    p: argparse.ArgumentParser, *, help: str, metavar: str = "ID", required: bool = False
) -> None:
    """``--round``: one calibration round (``args.round_id``)."""
    p.add_argument("--round", dest="round_id", required=required, metavar=metavar, help=help)


def add_seed(p: argparse.ArgumentParser, *, default: int | None, help: str) -> None:
    """``--seed``: the random seed of the command's resampling or simulation."""
    p.add_argument("--seed", type=int, default=default, help=help)


def add_html(p: argparse.ArgumentParser, *, help: str) -> None:
    """``--html PATH``: also write the command's self-contained HTML page there."""
    p.add_argument("--html", metavar="PATH", help=help)


#: The kinds an imported rating can be given (``--kind`` of ``calibrate import``).
IMPORT_KINDS = ("live", "anchor", "seeded")


def add_profile(p: argparse.ArgumentParser) -> None:
    """``--profile NAME|PROFILE.yaml``: how RATINGS is laid out (an import profile)."""
    p.add_argument(
        "--profile",
        metavar="NAME|PROFILE.yaml",
        help="how RATINGS is laid out: long (the default), wide (= --wide), google-forms, "
        "microsoft-forms, or a profile YAML file (calibrate profile FILE writes one)",
    )


def import_profile_args(p: argparse.ArgumentParser) -> None:
    """``--profile``, ``--timezone``, ``--round``, ``--kind`` and ``--dry-run`` of ``calibrate import``."""
    add_profile(p)
    p.add_argument(
        "--timezone",
        metavar="TZ",
        help="IANA zone of times written without one, e.g. America/Chicago (default: the "
        "profile's, else this machine's); times are stored in UTC",
    )
    add_round(
        p,
        help="the round of every rating (fills blank cells of a round column; a different cell is a problem)",
    )
    p.add_argument(
        "--kind",
        choices=IMPORT_KINDS,
        help="the kind of every rating (fills blank cells of a kind column; a different cell is a problem)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show the column mapping, what would be added, conflicts, unmapped columns and "
        "the first problems; write nothing",
    )
