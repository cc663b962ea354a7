"""``calibrate import``, ``summary`` and ``export``: into, about and out of the embedded store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from calibrate.cli._inputs import load_inputs, pseudonymizer_from
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_pseudonymize,
    add_round,
    add_rubric_id,
    add_store,
    ratings_args,
)
from calibrate.cli._output import Outcome, frame_text
from calibrate.io import export_table
from calibrate.store import Progress, Store, file_sha256

#: Imports smaller than this show no progress bar.
_BAR_FROM = 200_000


@contextmanager
def progress_bar(total: int, desc: str) -> Iterator[Progress | None]:
    """A tqdm bar for long imports on a terminal; None (no bar) otherwise."""
    if total < _BAR_FROM or not sys.stderr.isatty():
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="rating", unit_scale=True, file=sys.stderr) as bar:
        yield lambda done, _total: bar.update(done - bar.n)


def _import_args(p: argparse.ArgumentParser) -> None:
    ratings_args(p)
    add_store(p)


@command(
    "import",
    "Validate a ratings file (and key) and import it into the store in one transaction.",
    _import_args,
)
def _import(args: argparse.Namespace) -> Outcome:
    rubric, table, key = load_inputs(args)  # nothing is written unless every row is valid
    reports = []
    with Store.open(args.store) as store:
        store.add_rubric(rubric)
        with progress_bar(len(table), "importing") as progress:
            reports.append(
                store.import_ratings(
                    table,
                    source=str(args.ratings),
                    sha256=file_sha256(args.ratings),
                    progress=progress,
                )
            )
        if key is not None:
            reports.append(
                store.import_key(key, source=str(args.key), sha256=file_sha256(args.key))
            )
    payload = {"ok": True, "store": str(args.store), "imports": [r.to_dict() for r in reports]}
    text = "\n".join(str(r) for r in reports) + f"\nstore: {args.store}"
    return Outcome(payload, text)


def _summary_args(p: argparse.ArgumentParser) -> None:
    add_store(p)


def summary_text(summary: dict) -> str:
    """The store summary as a table for people."""
    rubrics = pd.DataFrame(summary["rubrics"])
    totals = summary["totals"]
    lines = [
        f"store {summary['path']} (schema {summary['schema_version']}): "
        + ", ".join(f"{v} {k}" for k, v in totals.items()),
        "",
        frame_text(rubrics)
        if not rubrics.empty
        else "(no rubrics yet: calibrate import RATINGS --rubric R)",
    ]
    return "\n".join(lines)


@command(
    "summary",
    "Counts in the store: rubrics, reviewers, submissions, anchors, rounds, ratings.",
    _summary_args,
)
def _summary(args: argparse.Namespace) -> Outcome:
    if not Path(args.store).is_file():
        raise FileNotFoundError(f"no store at {args.store} (create one with calibrate import)")
    with Store.open(args.store, create=False) as store:
        summary = store.summary()
    return Outcome(summary, summary_text(summary))


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "out", metavar="OUT", help="file to write: .csv or .xlsx (formula-like text is neutralised)"
    )
    add_store(p)
    add_rubric_id(p, help="the stored rubric whose ratings to export")
    add_round(p, help="only this round")
    p.add_argument(
        "--what",
        choices=("ratings", "key"),
        default="ratings",
        help="ratings (default) or the answer key",
    )
    add_pseudonymize(p)


@command(
    "export",
    "Export a rubric's ratings (or answer key) from the store to CSV or Excel.",
    _export_args,
)
def _export(args: argparse.Namespace) -> Outcome:
    if not Path(args.store).is_file():
        raise FileNotFoundError(f"no store at {args.store}")
    if Path(args.out).suffix.casefold() not in (".csv", ".xlsx"):
        raise UsageError(f"OUT must end in .csv or .xlsx; got {args.out!r}")
    with Store.open(args.store, create=False) as store:
        table = (
            store.answer_key(args.rubric_id)
            if args.what == "key"
            else store.ratings(args.rubric_id, round_id=args.round_id)
        )
    path = export_table(table, args.out, pseudonymizer=pseudonymizer_from(args))
    return Outcome(
        {"ok": True, "out": str(path), "rows": len(table)}, f"wrote {len(table)} rows to {path}"
    )
