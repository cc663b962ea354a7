"""``calibrate import``, ``summary``, ``export`` and ``backup``: into, about, out of and a copy of the store."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._problems import Problem
from calibrate.cli._inputs import load_inputs, load_profile_inputs, profile_of, pseudonymizer_from
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_no_backup,
    add_pseudonymize,
    add_round,
    add_rubric_id,
    add_store,
    import_profile_args,
    ratings_args,
)
from calibrate.cli._output import Outcome, frame_text
from calibrate.io import export_table
from calibrate.store import ConflictError, Progress, Store, file_sha256, restore_store

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
    import_profile_args(p)
    add_store(p)
    add_no_backup(p)


def file_rows(path: str | Path, n: int) -> np.ndarray:
    """The file row (header = row 1) of each of the ``n`` rows read from ``path``, as
    the readers count them: a text file's blank lines are skipped, other files'
    rows are 2..n+1."""
    simple = np.arange(2, n + 2, dtype=np.int64)
    path = Path(path)
    if path.suffix.casefold() not in (".csv", ".tsv", ".txt"):
        return simple
    data = path.read_bytes()
    lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    if lines == n + 1 and b"\r" not in data.replace(b"\r\n", b""):
        return simple
    text = data.decode("utf-8-sig", errors="replace").splitlines()
    kept = np.array([i + 1 for i, ln in enumerate(text) if ln.strip()], dtype=np.int64)
    return kept[1 : n + 1] if len(kept) == n + 1 else simple


def prepare_write(store: Store, *, existed: bool, backup: bool) -> str | None:
    """Before a write command writes: check the store (a damaged one is refused) and
    refresh the snapshot beside it (:func:`calibrate.store.snapshot_path`). Returns the
    snapshot's path, or None when there was nothing to keep (a new store) or ``backup``
    is false."""
    store.check()
    if not (backup and existed):
        return None
    return str(store.backup(check=False))


@command(
    "import",
    "Validate a ratings file (and key) and import it into the store in one transaction.",
    _import_args,
)
def _import(args: argparse.Namespace) -> Outcome:
    profile = profile_of(args)
    if args.dry_run:
        from calibrate.cli._profile import dry_run

        return dry_run(args, profile or "long")
    read = None
    if profile is None:
        rubric, table, key = load_inputs(args)  # nothing is written unless every row is valid
    else:
        rubric, read, key = load_profile_inputs(args, profile)
        table = read.table
    if read is not None and read.rows is not None:
        rows = read.rows
    elif profile == "wide":
        rows = None  # a sheet row holds several ratings: conflicts name table rows
    else:
        rows = file_rows(args.ratings, len(table))
    reports = []
    attributes = None
    path = Path(args.store)
    existed = path.is_file() and path.stat().st_size > 0
    with Store.open(path) as store:
        snapshot = prepare_write(store, existed=existed, backup=not args.no_backup)
        # the rubric, the ratings and the key: one transaction, all of it or none
        with store.transaction(f"import {args.ratings}"):
            store.add_rubric(rubric)
            conflicts: list[Problem] = []  # of the ratings and of the key: all listed at once
            with progress_bar(len(table), "importing") as progress:
                try:
                    reports.append(
                        store.import_ratings(
                            table,
                            source=str(args.ratings),
                            sha256=file_sha256(args.ratings),
                            progress=progress,
                            rows=rows,
                        )
                    )
                except ConflictError as exc:
                    conflicts += exc.problems
            if read is not None:
                from calibrate.cli._profile import hand_over_attributes

                attributes = hand_over_attributes(store, read, source=str(args.ratings))
            if key is not None:
                try:
                    reports.append(
                        store.import_key(
                            key,
                            source=str(args.key),
                            sha256=file_sha256(args.key),
                            rows=file_rows(args.key, len(key)),
                        )
                    )
                except ConflictError as exc:
                    conflicts += exc.problems
            if conflicts:  # raised inside the transaction: it rolls back, nothing is written
                raise ConflictError(conflicts, store=str(path))
    payload = {
        "ok": True,
        "store": str(args.store),
        "imports": [r.to_dict() for r in reports],
        "snapshot": snapshot,
    }
    text = "\n".join(str(r) for r in reports) + f"\nstore: {args.store}"
    if snapshot:
        text += f" (its state before this import: {snapshot})"
    if read is not None:
        from calibrate.cli._profile import profile_summary

        more, lines = profile_summary(read, attributes)
        payload.update(more)
        text += "\n" + "\n".join(lines)
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
    if not Path(args.store).exists():
        raise FileNotFoundError(f"no store at {args.store} (create one with calibrate import)")
    with Store.open(args.store, create=False, read_only=True) as store:
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
    if not Path(args.store).exists():
        raise FileNotFoundError(f"no store at {args.store}")
    if Path(args.out).suffix.casefold() not in (".csv", ".xlsx"):
        raise UsageError(f"OUT must end in .csv or .xlsx; got {args.out!r}")
    with Store.open(args.store, create=False, read_only=True) as store:
        table = (
            store.answer_key(args.rubric_id)
            if args.what == "key"
            else store.ratings(args.rubric_id, round_id=args.round_id)
        )
    path = export_table(table, args.out, pseudonymizer=pseudonymizer_from(args))
    return Outcome(
        {"ok": True, "out": str(path), "rows": len(table)}, f"wrote {len(table)} rows to {path}"
    )


def _backup_args(p: argparse.ArgumentParser) -> None:
    add_store(p)
    p.add_argument(
        "--to",
        metavar="PATH",
        help="the copy to write (default: <store>.<UTC time>.bak beside the store)",
    )
    p.add_argument(
        "--restore",
        action="store_true",
        help="put a backup in the store's place instead (the replaced file is kept as <store>.before-restore)",
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="with --restore: the backup to restore (default: the snapshot <store>.bak)",
    )


@command(
    "backup",
    "Copy the store with SQLite's online backup API (or --restore a backup in its place).",
    _backup_args,
)
def _backup(args: argparse.Namespace) -> Outcome:
    path = Path(args.store)
    if args.restore:
        if args.to:
            raise UsageError("--to is for making a backup; with --restore, name it with --from")
        done = restore_store(path, args.source)
        text = f"restored {done['store']} from {done['restored_from']}: " + ", ".join(
            f"{v} {k}" for k, v in done["totals"].items()
        )
        if done["previous"]:
            text += f"\nthe file it replaced is kept as {done['previous']}"
        return Outcome({"ok": True, **done}, text)
    if args.source:
        raise UsageError("--from names the backup to restore: use it with --restore")
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(args.to) if args.to else path.with_name(f"{path.name}.{stamp}.bak")
    started = time.perf_counter()
    with Store.open(path, create=False, read_only=True) as store:
        out = store.backup(target)  # checked first: a damaged store is not copied
        totals = store.summary()["totals"]
    seconds = time.perf_counter() - started
    size = out.stat().st_size
    payload = {
        "ok": True,
        "store": str(path),
        "backup": str(out),
        "bytes": size,
        "seconds": round(seconds, 3),
        "totals": totals,
    }
    text = (
        f"backed up {path} to {out} ({size:,} bytes, {totals['ratings']} ratings) in {seconds:.2f} s"
        f"\nrestore it with: calibrate backup --restore --store {path} --from {out}"
    )
    return Outcome(payload, text)
