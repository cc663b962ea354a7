"""``calibrate import``, ``summary``, ``imports``, ``export``, ``retract`` and ``backup``: into,
about, out of, withdrawing from and a copy of the store."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._problems import Problem, RatingsError
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
from calibrate.io import (
    ATTEMPT_COLUMNS,
    export_table,
    header_may_name,
    iso_utc,
    ratings_to_records,
    read_attempt_columns,
    read_submission_attributes,
    resolve_attempts,
)
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.store import (
    AttributesReport,
    ConflictError,
    ImportReport,
    Progress,
    Store,
    file_sha256,
    restore_store,
)

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
    p.add_argument(
        "--supersede",
        action="store_true",
        help="where the store holds another score for a row's key, make the file's score current "
        "and keep the stored one in the history (needs --reason); default: such rows are refused",
    )
    p.add_argument(
        "--reason",
        metavar="TEXT",
        help="with --supersede: why the stored scores are replaced (kept with them)",
    )
    p.add_argument(
        "--submissions",
        metavar="FILE",
        help="submission attributes to store: a submission_id column and one column per attribute",
    )
    p.add_argument(
        "--reviewers",
        metavar="FILE",
        help="reviewer attributes to store: a reviewer_id column and one column per attribute",
    )


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
    if args.supersede and not (args.reason or "").strip():
        raise UsageError("--supersede needs --reason TEXT: why the stored scores are replaced")
    if args.reason is not None and not args.supersede:
        raise UsageError("--reason is recorded with --supersede; add --supersede or drop --reason")
    profile = profile_of(args)
    if args.dry_run:
        from calibrate.cli._profile import dry_run

        return dry_run(args, profile or "long")
    problems: list[Problem] = []
    read = None
    try:
        if profile is None:
            rubric, table, key = load_inputs(args)  # nothing is written unless all is valid
            table = _with_comment_column(args, rubric, table)
        else:
            rubric, read, key = load_profile_inputs(args, profile)
            table = read.table
    except RatingsError as exc:
        problems += exc.problems
    files: dict[str, pd.DataFrame] = {}
    for facet, file in (("submission", args.submissions), ("reviewer", args.reviewers)):
        if file is not None:
            try:
                files[facet] = read_submission_attributes(file, id_column=f"{facet}_id")
            except RatingsError as exc:
                problems += exc.problems
    attempts = None
    if not problems:
        try:
            attempts = _attempts_of(args, profile, read, table)
        except RatingsError as exc:
            problems += exc.problems
    if problems:
        raise RatingsError(problems)
    attributes = _attributes_to_store(read, files, args)
    if attempts is not None:
        attributes["submission"] = _with_attempts(attributes.get("submission"), attempts)
    if read is not None and read.rows is not None:
        rows = read.rows
    elif profile == "wide":
        rows = None  # a sheet row holds several ratings: conflicts name table rows
    else:
        rows = file_rows(args.ratings, len(table))
    reports: list[ImportReport | AttributesReport] = []
    path = Path(args.store)
    existed = path.is_file() and path.stat().st_size > 0
    with Store.open(path) as store:
        snapshot = prepare_write(store, existed=existed, backup=not args.no_backup)
        # the rubric, the ratings and the key: one transaction, all of it or none
        with store.transaction(f"import {args.ratings}"):
            store.add_rubric(rubric)
            conflicts: list[Problem] = []  # of the ratings and of the key: all listed at once
            hint = None
            with progress_bar(len(table), "importing") as progress:
                try:
                    reports.append(
                        store.import_ratings(
                            table,
                            source=str(args.ratings),
                            sha256=file_sha256(args.ratings),
                            progress=progress,
                            rows=rows,
                            supersede=args.supersede,
                            reason=args.reason,
                        )
                    )
                except ConflictError as exc:
                    conflicts += exc.problems
                    hint = exc.hint
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
            if attributes:
                sources = [str(f) for f in (args.submissions, args.reviewers) if f is not None]
                if attempts is not None or (
                    read is not None and any(_has_values(read, f) for f in attributes)
                ):
                    sources.insert(0, str(args.ratings))
                try:
                    reports.append(
                        store.import_attributes(
                            **attributes,
                            source=", ".join(sources),
                            sha256=file_sha256(sources[0]) if len(sources) == 1 else None,
                            supersede=args.supersede,
                            reason=args.reason,
                        )
                    )
                except ConflictError as exc:
                    conflicts += exc.problems
                    hint = exc.hint
            if conflicts:  # raised inside the transaction: it rolls back, nothing is written
                raise ConflictError(conflicts, store=str(path), hint=hint)
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
        from calibrate.cli._profile import attribute_info, profile_summary

        more, lines = profile_summary(read, attribute_info(read, stored=bool(attributes)))
        payload.update(more)
        text += "\n" + "\n".join(lines)
    return Outcome(payload, text)


def _with_comment_column(
    args: argparse.Namespace, rubric: Any, table: RatingsTable
) -> RatingsTable:
    """A long file's comment column (``rationale``, ``comment``, ``comments`` or
    ``feedback``, as ``calibrate decisions`` reads it) as the table's rationales, to store."""
    from calibrate.feedback import COMMENT_COLUMNS, read_feedback

    if not header_may_name(args.ratings, COMMENT_COLUMNS):
        return table
    _, texts = read_feedback(args.ratings, rubric, sheet=args.sheet)
    if not any(texts):
        return table
    return RatingsTable(table.frame.assign(rationale=texts), table.rubric, table.source)


def _attempts_of(
    args: argparse.Namespace, profile: str | None, read: Any, table: RatingsTable
) -> pd.DataFrame | None:
    """The educator and attempt of each submission the import brings (``educator_id``,
    ``attempt`` or ``resubmission_of`` columns of a long file, or a profile's columns),
    resolved and checked with those already stored; None when the file has none.

    Raises
    ------
    RatingsError
        Attempts that do not fit together, each naming the file row.
    """
    if profile in (None, "long"):
        found = read_attempt_columns(args.ratings, sheet=args.sheet)
        if found is None:
            return None
        frame, rows = found
    elif profile == "wide" or read is None:
        return None
    else:
        attrs = read.submission_attributes
        have = [c for c in ATTEMPT_COLUMNS if c in attrs.columns]
        if not have:
            return None
        frame = attrs[["submission_id", *have]]
        subs = table.frame["submission_id"].astype(str).to_numpy()
        first = pd.Series(read.rows).groupby(subs).min() if read.rows is not None else None
        rows = {} if first is None else {str(k): int(v) for k, v in first.items()}
    known = None
    path = Path(args.store)
    if path.is_file() and path.stat().st_size > 0:
        with Store.open(path, create=False, read_only=True) as store:
            known = store.attributes("submission")
    resolved, problems = resolve_attempts(frame, rows=rows, source=str(args.ratings), known=known)
    if problems:
        raise RatingsError(problems)
    return resolved


def _with_attempts(frame: pd.DataFrame | None, attempts: pd.DataFrame) -> pd.DataFrame:
    """Submission attributes with the resolved ``educator_id`` and ``attempt`` in place of
    the file's attempt columns (``resubmission_of`` becomes the attempt number)."""
    if frame is None:
        return attempts
    rest = frame.drop(columns=[c for c in ATTEMPT_COLUMNS if c in frame.columns])
    if len(rest.columns) == 1:
        return attempts
    return rest.merge(attempts, on="submission_id", how="outer")


def _has_values(read: Any, facet: str) -> bool:
    """Whether an import profile read attributes of ``facet`` from the ratings file."""
    frame = getattr(read, f"{facet}_attributes")
    return frame is not None and len(frame.columns) > 1 and len(frame) > 0


def _attributes_to_store(
    read: Any, files: dict[str, pd.DataFrame], args: argparse.Namespace
) -> dict[str, pd.DataFrame]:
    """The attribute frames one import stores, by facet: those an import profile read from
    the ratings file's columns and those of ``--submissions`` / ``--reviewers``, joined on
    the id (an attribute given by both is a usage error, naming it)."""
    out: dict[str, pd.DataFrame] = {}
    for facet in ("submission", "reviewer"):
        frames = []
        if read is not None and _has_values(read, facet):
            frames.append(getattr(read, f"{facet}_attributes"))
        if facet in files:
            frames.append(files[facet])
        if not frames:
            continue
        if len(frames) == 2:
            both = (set(frames[0].columns) & set(frames[1].columns)) - {f"{facet}_id"}
            if both:
                flag = "--submissions" if facet == "submission" else "--reviewers"
                raise UsageError(
                    f"{facet} attribute(s) {', '.join(sorted(both))} come both from columns of "
                    f"{args.ratings} and from {flag} {getattr(args, facet + 's')}: give each once"
                )
            frames = [frames[0].merge(frames[1], on=f"{facet}_id", how="outer")]
        out[facet] = frames[0]
    return out


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
    add_rubric_id(
        p,
        help="the stored rubric whose ratings to export (required, except with --attributes)",
        required=False,
    )
    add_round(p, help="only this round")
    p.add_argument(
        "--what",
        choices=("ratings", "key"),
        default="ratings",
        help="ratings (default) or the answer key",
    )
    p.add_argument(
        "--version",
        metavar="V",
        help="only the rows scored under this rubric version (default: every version; with "
        "several, a rubric_version column says which)",
    )
    p.add_argument(
        "--history",
        action="store_true",
        help="every version of each rating (superseded and retracted ones too), with "
        "superseded_at, superseded_by (an import id) and reason; empty for current values",
    )
    p.add_argument(
        "--attributes",
        choices=("submission", "reviewer"),
        help="the stored submission or reviewer attributes instead (one row per id; "
        "with --history, every version of each value)",
    )
    p.add_argument(
        "--audit",
        action="store_true",
        help="the audit log of saves made through personal links (calibrate session): at, "
        "reviewer_id, submission_id, criterion_id, old/new score and rationale, client, action",
    )
    add_pseudonymize(p)


#: Attribute names that hold a person's name or address (matched in the snake-cased name).
_PERSONAL = ("name", "email", "e_mail", "mail", "phone")


def _personal(
    store: Store, hider: Any, table: Any, args: argparse.Namespace
) -> tuple[dict[str, str], Any]:
    """For a pseudonymised export: the names and e-mail addresses the store holds as
    reviewer or submission (educator) attributes, each -> its owner's pseudonym, so that
    free text naming a person names their pseudonym; and, when the export is of the
    attributes themselves, those columns replaced by the owner's pseudonym."""
    names: dict[str, str] = {}
    facets: tuple[tuple[Literal["reviewer", "submission"], str], ...] = (
        ("reviewer", "R"),
        ("submission", "S"),
    )
    for facet, prefix in facets:
        frame = store.attributes(facet)
        id_column = f"{facet}_id"
        personal = [
            c
            for c in frame.columns
            if c != id_column and any(p in str(c).casefold() for p in _PERSONAL)
        ]
        for c in personal:
            for owner, value in zip(frame[id_column], frame[c], strict=True):
                if isinstance(value, str) and value.strip():
                    names[value.strip()] = hider(str(owner), prefix)
        if args.attributes == facet and args.history:  # long: id, name, value, ...
            table = table.copy()
            mine = (
                table["name"]
                .astype(str)
                .str.casefold()
                .map(lambda n: any(p in n for p in _PERSONAL))
            )
            table.loc[mine, "value"] = [hider(str(o), prefix) for o in table.loc[mine, id_column]]
        elif args.attributes == facet and personal:
            table = table.copy()
            for c in personal:
                table[c] = [
                    hider(str(o), prefix) if isinstance(v, str) and v.strip() else v
                    for o, v in zip(table[id_column], table[c], strict=True)
                ]
    return names, table


def _versions(store: Store, rubric_id: str, version: str | None) -> list[str]:
    """The stored versions of a rubric to export: ``version`` if given (checked), else
    every stored version, oldest first."""
    if version is not None:
        store.rubric(rubric_id, version)  # names the stored versions if there is no such one
        return [str(version)]
    stored = store.rubrics()
    versions = stored.loc[stored["rubric_id"] == rubric_id, "version"].astype(str).tolist()
    if not versions:
        store.rubric(rubric_id)  # the error names the stored rubrics
    return versions


def _exported(store: Store, args: argparse.Namespace) -> pd.DataFrame | RatingsTable | AnswerKey:
    """The rows ``export`` writes: one version's table, or under several stored versions
    every version's rows with a ``rubric_version`` column (a rubric revised between
    cohorts keeps each rating under the version it was scored under)."""
    parts = []
    versions = _versions(store, args.rubric_id, args.version)
    refused: ValueError | None = None
    for v in versions:
        try:
            part = (
                store.answer_key(args.rubric_id, version=v)
                if args.what == "key"
                else store.ratings(args.rubric_id, round_id=args.round_id, version=v)
            )
        except ValueError as exc:  # e.g. --round names a round of another version only
            if len(versions) == 1:
                raise
            refused = refused or exc
            continue
        if len(part) or args.version is not None:
            parts.append((v, part))
    if not parts and refused is not None:
        raise refused
    if len(parts) == 1:
        return parts[0][1]
    if not parts:  # nothing under any version: the (empty) table of the newest
        v = _versions(store, args.rubric_id, None)[-1]
        return (
            store.answer_key(args.rubric_id, version=v)
            if args.what == "key"
            else store.ratings(args.rubric_id, round_id=args.round_id, version=v)
        )
    return pd.concat(
        [ratings_to_records(t).assign(rubric_version=v) for v, t in parts], ignore_index=True
    )


def _with_rationales(
    store: Store, table: pd.DataFrame | RatingsTable, args: argparse.Namespace
) -> pd.DataFrame | RatingsTable:
    """The exported ratings with a ``rationale`` column: each rating's stored comment
    (blank where none), when the store holds any for the rubric; else the table as it is."""
    keys = ["round_id", "submission_id", "reviewer_id", "criterion_id"]
    records = ratings_to_records(table) if isinstance(table, RatingsTable) else table
    by_version = "rubric_version" in records.columns
    parts = []
    for v in _versions(store, args.rubric_id, args.version):
        notes = store.rationales(args.rubric_id, version=v)
        notes = notes[notes["criterion_id"] != ""]  # per rating (not score-entry forms)
        if args.round_id is not None:
            notes = notes[notes["round_id"] == args.round_id]
        parts.append(notes[[*keys, "rationale"]].assign(rubric_version=v))
    notes = pd.concat(parts, ignore_index=True)
    if notes.empty:
        return table
    on = [*keys, "rubric_version"] if by_version else keys
    if not by_version:
        notes = notes.drop(columns="rubric_version")
    out = records.merge(notes, on=on, how="left", validate="one_to_one")
    out["rationale"] = out["rationale"].fillna("")
    return out


@command(
    "export",
    "Export a rubric's ratings (or answer key, or every version: --history) from the store to CSV or Excel.",
    _export_args,
)
def _export(args: argparse.Namespace) -> Outcome:
    if not Path(args.store).exists():
        raise FileNotFoundError(f"no store at {args.store}")
    if Path(args.out).suffix.casefold() not in (".csv", ".xlsx"):
        raise UsageError(f"OUT must end in .csv or .xlsx; got {args.out!r}")
    if args.history and args.what == "key":
        raise UsageError("--history is the history of ratings; the answer key has none (drop one)")
    if args.attributes and (args.what == "key" or args.round_id or args.rubric_id):
        raise UsageError("--attributes exports attributes: drop --what, --round and --rubric-id")
    if args.audit and (args.history or args.attributes or args.what == "key"):
        raise UsageError("--audit exports the audit log: drop --history, --attributes and --what")
    if not args.attributes and not args.audit and not args.rubric_id:
        raise UsageError("--rubric-id is required: the stored rubric whose ratings to export")
    hider = pseudonymizer_from(args)
    free_text_ids = None
    with Store.open(args.store, create=False, read_only=True) as store:
        if args.audit:
            table = store.audit_log(args.rubric_id, round_id=args.round_id)
        elif args.attributes:
            table = (
                store.attribute_history(args.attributes)
                if args.history
                else store.attributes(args.attributes)
            )
        elif args.history:
            history = store.rating_history(args.rubric_id, round_id=args.round_id)
            table = history.assign(rated_at=iso_utc(history["rated_at"]))
        else:
            table = _exported(store, args)
            if args.what != "key":
                table = _with_rationales(store, table, args)
        if hider is not None and args.what == "key":  # a key's rationales may name reviewers
            reviewers: set[str] = set()
            for v in _versions(store, args.rubric_id, args.version):
                rated = store.ratings(args.rubric_id, version=v).frame["reviewer_id"]
                reviewers.update(map(str, rated.cat.categories))
            free_text_ids = {"R": sorted(reviewers)}
        names: dict[str, str] = {}
        if hider is not None:
            names, table = _personal(store, hider, table, args)
    path = export_table(
        table,
        args.out,
        pseudonymizer=hider,
        free_text_ids=free_text_ids,
        free_text_names=names,
    )
    return Outcome(
        {"ok": True, "out": str(path), "rows": len(table)}, f"wrote {len(table)} rows to {path}"
    )


def _imports_args(p: argparse.ArgumentParser) -> None:
    add_store(p)


@command(
    "imports",
    "Every import into the store with its id (for calibrate retract), rows, and what it superseded.",
    _imports_args,
)
def _imports(args: argparse.Namespace) -> Outcome:
    if not Path(args.store).exists():
        raise FileNotFoundError(f"no store at {args.store} (create one with calibrate import)")
    with Store.open(args.store, create=False, read_only=True) as store:
        frame = store.imports()
    shown = frame.drop(columns=["sha256", "calibrate_version"])
    return Outcome(
        {"store": str(args.store), "imports": frame.to_dict("records")},
        frame_text(shown.astype(object).where(shown.notna(), "")),
    )


def _retract_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--import",
        dest="import_id",
        type=int,
        required=True,
        metavar="ID",
        help="the import to withdraw (its import_id in calibrate imports)",
    )
    p.add_argument(
        "--reason",
        required=True,
        metavar="TEXT",
        help="why it is withdrawn (kept with the history)",
    )
    add_store(p)
    add_no_backup(p)


@command(
    "retract",
    "Withdraw a whole ratings import (the wrong file); its values stay in the history.",
    _retract_args,
)
def _retract(args: argparse.Namespace) -> Outcome:
    path = Path(args.store)
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}")
    if not args.reason.strip():
        raise UsageError("--reason must say why the import is withdrawn; got ''")
    with Store.open(path, create=False) as store:
        snapshot = prepare_write(store, existed=True, backup=not args.no_backup)
        done = store.retract_import(args.import_id, reason=args.reason)
    text = (
        f"retracted import #{done['retracts']} (rubric {done['rubric_id']} v{done['version']}): "
        f"{done['withdrawn']} ratings withdrawn, {done['restored']} earlier values current again; "
        f"recorded as import #{done['import_id']} ({done['reason']})\nstore: {path}"
    )
    if snapshot:
        text += f" (its state before: {snapshot})"
    return Outcome({"ok": True, "store": str(path), **done, "snapshot": snapshot}, text)


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
