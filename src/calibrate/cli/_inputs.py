"""Loading what the options name, the same way for every subcommand: files, then selection."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from calibrate._problems import Problem, RatingsError, RubricError
from calibrate.cli._output import UsageError
from calibrate.io import (
    ProfileRead,
    ProfileReadError,
    read_key,
    read_profile,
    read_ratings,
    read_wide,
)
from calibrate.ratings import AnswerKey, RatingsTable, VersionedRatings
from calibrate.rubric import Rubric, load_rubric

if TYPE_CHECKING:
    from calibrate.report import Pseudonymizer


def profile_of(args: argparse.Namespace) -> str | None:
    """The import profile the options name (``--wide`` is ``--profile wide``), or None
    for a plain long file. ``calibrate import``'s ``--round``, ``--kind`` and ``--timezone``
    read the file through a profile (``long`` when none is named)."""
    profile = getattr(args, "profile", None)
    if getattr(args, "wide", False):
        if profile not in (None, "wide"):
            raise UsageError(f"--wide is --profile wide; it cannot go with --profile {profile}")
        profile = "wide"
    importing = hasattr(args, "dry_run")  # other commands' --round and --kind select ratings
    if importing and profile is None and (args.round_id is not None or args.kind is not None):
        profile = "long"
    if importing and profile is None and args.timezone is not None:
        raise UsageError(
            "--timezone is for profiles with local times (--profile google-forms, "
            "microsoft-forms or a YAML file); the long format's times are ISO 8601"
        )
    return profile


def load_profile_inputs(
    args: argparse.Namespace, profile: str
) -> tuple[Rubric, ProfileRead, AnswerKey | None]:
    """Rubric, ratings read through ``profile`` and key; every problem at once."""
    rubric = load_rubric(args.rubric)
    problems: list[Problem] = []
    read = key = None
    mapped: ProfileReadError | None = None
    try:
        read = read_profile(
            args.ratings,
            rubric,
            profile,
            timezone=getattr(args, "timezone", None),
            round_id=getattr(args, "round_id", None),
            kind=getattr(args, "kind", None),
            sheet=args.sheet,
        )
    except ProfileReadError as exc:  # keeps what was mapped, for --dry-run to show
        problems += exc.problems
        mapped = exc
    except RatingsError as exc:
        problems += exc.problems
    except ValueError as exc:  # a profile name or zone that does not exist
        raise UsageError(str(exc)) from None
    if args.key:
        try:
            key = read_key(args.key, rubric, ratings=None if read is None else read.table)
        except RatingsError as exc:
            problems += exc.problems
    if problems or read is None:
        if mapped is None:
            raise RatingsError(problems)
        raise ProfileReadError(
            problems, mapping=mapped.mapping, unmapped=mapped.unmapped, timezone=mapped.timezone
        )
    return rubric, read, key


def load_versioned(args: argparse.Namespace) -> VersionedRatings:
    """The ratings of every rubric version in ``args.ratings`` under the newest
    (``--rubric``), the older versions' rubrics from ``--older-rubric``; every problem of
    the rubric files, then of the ratings, at once."""
    from calibrate.io import read_versioned_ratings

    rubrics: list[Rubric] = []
    problems: list[Problem] = []
    for path in [args.rubric, *getattr(args, "older_rubric", [])]:
        try:
            rubrics.append(load_rubric(path))
        except RubricError as exc:
            problems += exc.problems
    if problems:
        raise RubricError(problems)
    return read_versioned_ratings(args.ratings, rubrics, sheet=args.sheet)


def load_inputs(args: argparse.Namespace) -> tuple[Rubric, RatingsTable, AnswerKey | None]:
    """Rubric, ratings and key from the arguments; every problem of all three at once.

    With ``--older-rubric``, the file's ``rubric_version`` column names each row's version
    and the ratings are read under the newest (:func:`load_versioned`); the key is read
    against the newest rubric.
    """
    if getattr(args, "older_rubric", None):
        if getattr(args, "wide", False) or profile_of(args) is not None:
            raise UsageError("--older-rubric reads a long ratings file; drop --wide / --profile")
        versioned = load_versioned(args).ratings
        key = (
            read_key(args.key, versioned.rubric, ratings=versioned)
            if getattr(args, "key", None)
            else None
        )
        return versioned.rubric, versioned, key
    profile = profile_of(args)
    if profile is not None and not (profile == "wide" and not hasattr(args, "dry_run")):
        rubric, read, key = load_profile_inputs(args, profile)
        return rubric, read.table, key
    rubric = load_rubric(args.rubric)
    problems: list[Problem] = []
    table = key = None
    reader = read_wide if profile == "wide" else read_ratings
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


def pseudonymizer_from(args: argparse.Namespace) -> Pseudonymizer | None:
    if not getattr(args, "pseudonymize", False):
        return None
    from calibrate.report import Pseudonymizer, load_or_create_key  # only when asked: heavy

    return Pseudonymizer(load_or_create_key(args.pseudonym_key))


def check_round(table: RatingsTable, round_id: str | None) -> None:
    """``--round``, if given, must be a round of the ratings."""
    if round_id is not None and round_id not in table.rounds:
        raise UsageError(f"--round must be one of {table.rounds}; got {round_id!r}")


def load_attempts(args: argparse.Namespace) -> pd.Series:
    """Each submission's attempt number for ``--by attempt`` (:func:`load_attempt_frame`)."""
    from calibrate.io import submission_attempts

    return submission_attempts(load_attempt_frame(args))


def load_attempt_frame(args: argparse.Namespace) -> pd.DataFrame:
    """Each submission's educator and attempt for ``--by attempt``: from the ratings file's
    ``educator_id`` / ``attempt`` / ``resubmission_of`` columns (checked with what
    ``--store`` holds), else from the store's submission attributes.

    Raises
    ------
    RatingsError
        Attempts in the file that do not fit together, each naming the row.
    UsageError
        Neither the file nor a store gives attempts.
    """
    from calibrate.io import read_attempt_columns, resolve_attempts
    from calibrate.store import Store

    known = None
    store = getattr(args, "store", None)
    if store is not None:
        if not Path(store).is_file():
            raise UsageError(f"--store {store}: no such store")
        with Store.open(store, create=False, read_only=True) as s:
            known = s.attributes("submission")
    found = read_attempt_columns(args.ratings, sheet=getattr(args, "sheet", None))
    if found is not None:
        frame, rows = found
        resolved, problems = resolve_attempts(
            frame, rows=rows, source=str(args.ratings), known=known
        )
        if problems:
            raise RatingsError(problems)
        if known is not None and {"educator_id", "attempt"} <= set(known.columns):
            stored = known.loc[~known["submission_id"].isin(resolved["submission_id"])]
            resolved = pd.concat(
                [stored[["submission_id", "educator_id", "attempt"]], resolved], ignore_index=True
            )
        return resolved
    if known is not None and {"educator_id", "attempt"} <= set(known.columns):
        return known[["submission_id", "educator_id", "attempt"]].dropna(subset=["attempt"])
    raise UsageError(
        f"--by attempt needs each submission's attempt: educator_id and attempt (or "
        f"resubmission_of) columns in {args.ratings}, or --store PATH holding them"
    )


def select_ratings(
    table: RatingsTable, *, kind: str = "all", round_id: str | None = None, purpose: str = ""
) -> RatingsTable:
    """The ratings the selection options name, in one order for every command: ``--kind``
    (ignored for a file without kinds), then ``--round``; no rating left is a usage error.

    ``purpose`` finishes the sentence of that error ("no ratings of kind 'live' to audit").
    """
    if kind != "all" and table.frame["kind"].notna().any():
        table = table.select(kind=kind)
    if round_id is not None:
        check_round(table, round_id)
        table = table.select(round_id=round_id)
    if len(table) == 0:
        to = f" to {purpose}" if purpose else ""
        raise UsageError(f"no ratings of kind {kind!r}{to}; pass --kind all or another kind")
    return table


#: Options that say where inputs and outputs are, or how to pseudonymise: not "options" of
#: the analysis on a page's Inputs list (the files are listed on their own).
_NOT_OPTIONS = {
    "command",
    "ratings",
    "key",
    "rubric",
    "store",
    "html",
    "out",
    "format",
    "pseudonymize",
    "pseudonym_key",
    "handler",
    "truth",
}


def page_inputs(
    args: argparse.Namespace, *, hidden: bool, rubric: Rubric | None = None
) -> dict[str, object]:
    """What produced a command's HTML page, for its Inputs list: the files (``input 1``,
    ``input 2``, ... when pseudonymised: a file name can name a person), the rubric with
    its version, and the options as given."""
    out: dict[str, object] = {"command": f"calibrate {getattr(args, 'command', '')}".strip()}
    n = 0
    for name, what in (
        ("ratings", "ratings file"),
        ("key", "answer key"),
        ("truth", "truth file"),
        ("store", "store"),
    ):
        value = getattr(args, name, None)
        if value:
            n += 1
            out[what] = f"input {n}" if hidden else str(value)
    if rubric is not None:
        out["rubric"] = f"{rubric.id} version {rubric.version} ({rubric.title})"
    elif getattr(args, "rubric", None):
        out["rubric"] = str(args.rubric)
    options = {
        k: v
        for k, v in sorted(vars(args).items())
        if k not in _NOT_OPTIONS and not callable(v) and v not in (None, False, "")
    }
    out["options"] = (
        ", ".join(
            f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in options.items()
        )
        or "(defaults)"
    )
    return out
