"""The Store class: one SQLite file of rubrics, rounds, ratings, answer keys and imports.

:class:`Store` is composed of its parts, one module each: rubrics (``_rubrics``), rounds
and their assignments (``_rounds``), ratings entered live and read back (``_ratings``),
imports (``_imports``), answer keys (``_keys``) and the ratings' history
(``_history``: superseded values, retracted imports) and submission and reviewer
attributes (``_attributes``), on the shared transactions and id
tables of ``_base``.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from calibrate._checks import check_instance
from calibrate._version import __version__
from calibrate.store._attributes import AttributesMixin, AttributesReport
from calibrate.store._backup import partial_path, write_backup
from calibrate.store._base import DEFAULT_PATH, Progress
from calibrate.store._connection import open_connection, tidy_after_read
from calibrate.store._errors import NotAStoreError, snapshot_path
from calibrate.store._history import HistoryMixin
from calibrate.store._imports import ImportReport, file_sha256
from calibrate.store._keys import KeysMixin
from calibrate.store._ratings import RatingsMixin
from calibrate.store._rationales import RATIONALE_DDL
from calibrate.store._schema import NO_ROUND_PK
from calibrate.store._sessions import Invitation, NewLink, SessionsMixin

__all__ = [
    "DEFAULT_PATH",
    "AttributesReport",
    "Invitation",
    "NewLink",
    "ImportReport",
    "Progress",
    "Store",
    "file_sha256",
    "restore_store",
    "snapshot_path",
]


class Store(SessionsMixin, RatingsMixin, KeysMixin, HistoryMixin, AttributesMixin):
    """An embedded SQLite store of rubrics, ratings, answer keys and rounds.

    One file holds everything (``calibrate.db`` in the working folder unless told
    otherwise). Open it with :meth:`open` as a context manager so the file is closed
    when you are done. Several processes may read and write one store at once (a
    score-entry screen while a bulk import runs): writes wait for each other.

    Every import is a single transaction: a table with any row the store refuses, or a
    process killed half-way, leaves the store exactly as it was. Importing the same
    rows again adds nothing; a row stored with the same key but a different score is a
    :class:`~calibrate.store.ConflictError`, unless imported with ``supersede=True``:
    then the old value is kept in the history (:meth:`rating_history`), as are the
    ratings of an import withdrawn with :meth:`retract_import`. Every read
    (:meth:`ratings`, :meth:`summary`, :meth:`rounds`) sees current values only.

    Parameters
    ----------
    path : str or Path
        The store file. Created (with its folder's permissions) if missing.
    create : bool
        When false, a missing file is a ``FileNotFoundError`` instead of a new store.
    timeout : float
        Seconds SQLite waits for another process's write lock before each retry.
    read_only : bool
        Open the file for reading only (SQLite ``mode=ro``, and ``immutable=1`` when the
        file or its folder is not writable): nothing is created or written, so a store
        on read-only media can be read. Writes raise :class:`StoreError`. Every reading
        command opens the store this way.

    Raises
    ------
    NotAStoreError
        The file is not SQLite, is another program's SQLite database, or (read only)
        is empty.
    StoreDamagedError
        SQLite cannot read the file (truncated, overwritten) or the store's tables or
        columns are missing; the message names the snapshot to restore.
    StoreVersionError
        The file was written by a newer calibrate.

    Notes
    -----
    A ``Store`` is one SQLite connection; use it from one thread (each thread or
    process opens its own). The store needs a local file system: SQLite's WAL mode does
    not work on network shares.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from calibrate.rubric import load_rubric
    >>> from calibrate.ratings import RatingsTable, canonical_frame
    >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
    >>> frame = canonical_frame(["S1"] * 3, ["ana"] * 3, ["overview", "artifacts", "reflection"], [3, 2, 4], rubric)
    >>> table = RatingsTable(frame, rubric, source="scores.csv")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with Store.open(pathlib.Path(tmp) / "calibrate.db") as store:
    ...         first = store.import_ratings(table)
    ...         again = store.import_ratings(table)
    ...         back = store.ratings("evidence-4level")
    ...         totals = store.summary()["totals"]
    >>> print(first)
    scores.csv: 3 ratings for rubric evidence-4level v1.0: 3 new, 0 already in the store
    >>> again.added, again.already_present
    (0, 3)
    >>> back.frame["score"].tolist(), totals["ratings"], totals["imports"]
    ([3, 2, 4], 3, 2)
    """

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        create: bool = True,
        timeout: float = 10.0,
        read_only: bool = False,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError(
                f"timeout must be a number of seconds >= 0; got {type(timeout).__name__}"
            )
        if not timeout >= 0:  # (NaN too)
            raise ValueError(f"timeout must be a number of seconds >= 0; got {timeout!r}")
        check_instance("read_only", read_only, bool)
        self._path = Path(path)
        self._timeout = float(timeout)
        self._conn = None
        self._read_only = read_only
        self._tidy = read_only and not self._path.with_name(self._path.name + "-wal").exists()
        try:
            conn, version = open_connection(
                self._path,
                create=create,
                timeout=self._timeout,
                calibrate_version=__version__,
                read_only=read_only,
            )
        except BaseException:
            if self._tidy:
                tidy_after_read(self._path)
            raise
        self._conn = conn
        self._version = version
        for ddl in (
            "CREATE TEMP TABLE IF NOT EXISTS _names (pos INTEGER PRIMARY KEY, name TEXT NOT NULL)",
            "CREATE TEMP TABLE IF NOT EXISTS _pks (pk INTEGER PRIMARY KEY)",
            "CREATE TEMP TABLE IF NOT EXISTS _incoming (pos INTEGER PRIMARY KEY, round_pk INTEGER, "
            "submission_pk INTEGER, reviewer_pk INTEGER, criterion_pk INTEGER, score INTEGER)",
            RATIONALE_DDL,
        ):
            conn.execute(ddl)

    @classmethod
    def open(
        cls,
        path: str | Path = DEFAULT_PATH,
        *,
        create: bool = True,
        timeout: float = 10.0,
        read_only: bool = False,
    ) -> Store:
        """Open (or create) the store at ``path``; use it as a context manager.

        See :class:`Store` for the parameters and errors.
        """
        return cls(path, create=create, timeout=timeout, read_only=read_only)

    @property
    def path(self) -> Path:
        """The store file."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The store's schema version (this calibrate writes ``calibrate.store.SCHEMA_VERSION``)."""
        return self._version

    @property
    def read_only(self) -> bool:
        """Whether the store was opened for reading only."""
        return self._read_only

    @property
    def closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        """Close the file. Safe to call twice."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            if self._tidy:
                tidy_after_read(self._path)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"schema {self._version}"
        return f"Store({str(self._path)!r}, {state})"

    # ---- the whole store -----------------------------------------------------------
    def backup(self, target: str | Path | None = None, *, check: bool = True) -> Path:
        """Copy the store to ``target`` with SQLite's online backup API.

        The copy is one consistent moment of the store, taken while other processes go
        on reading and writing it, and written atomically (a ``.partial`` file renamed
        when complete). It is itself a store: open it, or put it back with
        :func:`restore_store`.

        Parameters
        ----------
        target : str or Path, optional
            The copy's file (replaced if it exists). Default: the snapshot beside the
            store, :func:`snapshot_path` (``calibrate.db`` -> ``calibrate.db.bak``),
            which writing commands refresh before each write.
        check : bool
            Run :meth:`check` first (unless this connection already did), so a damaged
            store is never copied over a good backup.

        Returns
        -------
        Path
            The copy.

        Raises
        ------
        StoreDamagedError
            The store failed the check; nothing was copied.
        StoreError
            The copy could not be written (a full disk, no permission); ``target`` is
            as it was and the store unchanged.

        References
        ----------
        SQLite, "Online Backup API": https://www.sqlite.org/backup.html
        """
        out = snapshot_path(self._path) if target is None else Path(target)
        if out.resolve() == self._path.resolve():
            raise ValueError(f"target must be another file than the store itself; got {out}")
        if check and not self._checked:
            self.check()
        return write_backup(self._c, out, source=str(self._path))

    def summary(self) -> dict[str, Any]:
        """Counts per rubric version and in total.

        Returns
        -------
        dict
            ``{"path", "schema_version", "rubrics": [...], "totals": {...}}``. Each rubric
            entry has rubric_id, version, title, reviewers, submissions, anchors (scored
            as anchor or seeded, or in the answer key), rounds, ratings and keys (key
            scores); totals count distinct reviewers, submissions and anchors over the
            whole store, and also rubrics and imports.
        """
        return self._read(self._summary)

    # ---- internals -------------------------------------------------------------------
    def _summary(self) -> dict[str, Any]:
        c = self._c
        per: dict[int, dict[str, Any]] = {}
        for pk, rid, ver, title in c.execute(
            "SELECT rubric_pk, rubric_id, version, title FROM rubrics ORDER BY rubric_id, rubric_pk"
        ):
            per[pk] = {
                "rubric_id": rid,
                "version": ver,
                "title": title,
                "reviewers": 0,
                "submissions": 0,
                "anchors": 0,
                "rounds": 0,
                "ratings": 0,
                "keys": 0,
            }
        queries = {
            (
                "ratings",
                "reviewers",
                "submissions",
            ): "SELECT rubric_pk, count(*), count(DISTINCT reviewer_pk), "
            "count(DISTINCT submission_pk) FROM ratings GROUP BY rubric_pk",
            ("keys",): "SELECT rubric_pk, count(*) FROM answer_keys GROUP BY rubric_pk",
            (
                "rounds",
            ): f"SELECT rubric_pk, count(*) FROM rounds WHERE round_pk != {NO_ROUND_PK} GROUP BY rubric_pk",
            (
                "anchors",
            ): "SELECT rubric_pk, count(*) FROM (SELECT rubric_pk, submission_pk FROM ratings "
            "WHERE kind IN ('anchor', 'seeded') UNION SELECT rubric_pk, submission_pk FROM answer_keys) GROUP BY rubric_pk",
        }
        for names, sql in queries.items():
            for pk, *values in c.execute(sql):
                per[pk].update(zip(names, values, strict=True))
        total = c.execute(
            "SELECT (SELECT count(*) FROM rubrics), (SELECT count(DISTINCT reviewer_pk) FROM ratings), "
            "(SELECT count(*) FROM (SELECT submission_pk FROM ratings UNION SELECT submission_pk FROM answer_keys)), "
            "(SELECT count(*) FROM (SELECT submission_pk FROM ratings WHERE kind IN ('anchor', 'seeded') "
            "UNION SELECT submission_pk FROM answer_keys)), "
            f"(SELECT count(*) FROM rounds WHERE round_pk != {NO_ROUND_PK}), (SELECT count(*) FROM ratings), "
            "(SELECT count(*) FROM answer_keys), (SELECT count(*) FROM imports)"
        ).fetchone()
        keys = [
            "rubrics",
            "reviewers",
            "submissions",
            "anchors",
            "rounds",
            "ratings",
            "keys",
            "imports",
        ]
        return {
            "path": str(self._path),
            "schema_version": self._version,
            "rubrics": list(per.values()),
            "totals": dict(zip(keys, (int(v) for v in total), strict=True)),
        }


def restore_store(path: str | Path, backup: str | Path | None = None) -> dict[str, Any]:
    """Put a backup of a store in its place (the store file is replaced, not merged).

    The backup is checked first (it must be a healthy calibrate store). It is copied
    beside the store and renamed onto it; the file it replaces (if any) is kept as
    ``<store>.before-restore`` (with its write-ahead log, if one was waiting, as
    ``<store>.before-restore-wal``), so a restore can itself be undone. Stop other
    programs using the store first.

    Parameters
    ----------
    path : str or Path
        The store to restore.
    backup : str or Path, optional
        The copy to restore (default: the snapshot :func:`snapshot_path`).

    Returns
    -------
    dict
        ``{"store", "restored_from", "previous", "totals"}``: the store, the backup, the
        kept former file (or None) and the restored store's totals (as in
        :meth:`Store.summary`).

    Raises
    ------
    FileNotFoundError
        There is no such backup.
    NotAStoreError, StoreDamagedError, StoreVersionError
        The backup is not a healthy store this calibrate reads; nothing was changed.
    """
    path = Path(path)
    src = snapshot_path(path) if backup is None else Path(backup)
    if not src.is_file():
        raise FileNotFoundError(
            f"no backup at {src} to restore the store {path} from "
            "(calibrate backup --store S --to FILE makes one; writing commands keep "
            f"{snapshot_path(path)})"
        )
    if path.is_dir():
        raise NotAStoreError(f"{path} is a folder; a store is a single file")
    if src.resolve() == path.resolve():
        raise ValueError(f"backup must be another file than the store itself; got {src}")
    with Store.open(src, create=False, read_only=True) as b:
        b.check()
        totals = b.summary()["totals"]
        staged = write_backup(b._c, partial_path(path).with_suffix(".restore"), source=str(src))
    previous = None
    if path.exists():
        previous = path.with_name(path.name + ".before-restore")
        os.replace(path, previous)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            os.replace(wal, previous.with_name(previous.name + "-wal"))
        path.with_name(path.name + "-shm").unlink(missing_ok=True)
    os.replace(staged, path)
    return {
        "store": str(path),
        "restored_from": str(src),
        "previous": None if previous is None else str(previous),
        "totals": totals,
    }
