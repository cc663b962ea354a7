"""The store's plumbing shared by all its parts: transactions, id interning and SQL helpers."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from calibrate.store._connection import is_busy, quick_check, retrying, sqlite_failure
from calibrate.store._errors import StoreError

__all__ = [
    "CHUNK_ROWS",
    "DEFAULT_PATH",
    "NAT",
    "Progress",
    "StoreBase",
    "aligned",
    "check_progress",
    "check_sha",
    "insert_rows",
    "name_list",
    "new_pk",
    "sorted_categorical",
    "text_id",
]

T = TypeVar("T")

#: Where the store lives when no path is given: ``calibrate.db`` in the working folder.
DEFAULT_PATH = "calibrate.db"
#: ``progress(rows_done, rows_total)``, called between chunks of an import.
Progress = Callable[[int, int], None]
#: Rows written between two calls of the progress callback.
CHUNK_ROWS = 50_000
#: Rows per INSERT statement: 128 rows of at most 7 parameters stay under 999, the
#: parameter limit of SQLite builds older than 3.32.
ROWS_PER_STATEMENT = 128
NAT = np.iinfo(np.int64).min


class StoreBase:
    """One SQLite connection with the store's transactions and id tables.

    :class:`~calibrate.store.Store` opens the connection and sets these attributes; the
    parts of the store (rubrics, rounds, ratings, imports, keys) build on this class.
    """

    _path: Path
    _timeout: float
    _conn: sqlite3.Connection | None
    _version: int
    _read_only: bool = False
    #: Whether this connection has checked the store (quick_check) before writing.
    _checked: bool = False
    #: Whether a :meth:`transaction` is open (writes join it).
    _outer: bool = False

    # ---- transactions ------------------------------------------------------------
    @property
    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"the store {self._path} is closed; open it again with Store.open")
        return self._conn

    def _write(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn`` in one write transaction, retried if the store is locked.

        Inside :meth:`transaction`, ``fn`` joins the transaction already open. The first
        write of a connection checks the store first (``PRAGMA quick_check``).
        """
        c = self._c
        if self._read_only:
            raise StoreError(
                f"could not {what}: the store {self._path} was opened read only "
                "(Store.open(..., read_only=True)); nothing was written"
            )
        if self._outer:
            try:
                return fn()
            except sqlite3.Error as exc:
                raise sqlite_failure(exc, what, str(self._path)) from exc

        def attempt() -> T:
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
                    if not self._checked:
                        quick_check(c, str(self._path), doing=what)
                        self._checked = True
                    result = fn()
                    c.execute("COMMIT")
                except BaseException:
                    if c.in_transaction:
                        c.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                if is_busy(exc):
                    raise  # retried
                raise sqlite_failure(exc, what, str(self._path)) from exc
            return result

        return retrying(attempt, path=str(self._path), timeout=self._timeout, what=what)

    @contextlib.contextmanager
    def transaction(self, what: str = "write to the store") -> Iterator[None]:
        """Make every write inside the ``with`` block one transaction: all of them are
        committed when the block ends, none if anything in it raises (or the process
        is killed before the end).

        The write lock is taken at the start (waiting, then retrying, as every write
        does) and held to the end; the store is checked first (``PRAGMA quick_check``)
        unless this connection already checked it. A nested ``transaction`` joins the
        outer one.

        Parameters
        ----------
        what : str
            What the block does, for error messages ("could not import x.csv: ...").

        Raises
        ------
        StoreDamagedError
            The store failed the check; nothing was written.
        StoreBusyError
            Another process kept the store locked for too long; nothing was written.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from calibrate.rubric import load_rubric
        >>> from calibrate.store import Store
        >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     with Store.open(pathlib.Path(tmp) / "calibrate.db") as store:
        ...         try:
        ...             with store.transaction("set up round R1"):
        ...                 _ = store.add_rubric(rubric)
        ...                 _ = store.add_round("evidence-4level", "R1")
        ...                 raise KeyboardInterrupt  # anything going wrong
        ...         except KeyboardInterrupt:
        ...             pass
        ...         store.rubrics().empty
        True

        References
        ----------
        SQLite, "Transaction": https://www.sqlite.org/lang_transaction.html
        """
        c = self._c
        if self._outer:
            yield
            return
        if self._read_only:
            raise StoreError(
                f"could not {what}: the store {self._path} was opened read only; nothing was written"
            )
        path = str(self._path)

        def begin() -> None:
            try:
                c.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                if is_busy(exc):
                    raise
                raise sqlite_failure(exc, what, path) from exc

        retrying(begin, path=path, timeout=self._timeout, what=what)
        self._outer = True
        try:
            if not self._checked:
                quick_check(c, path, doing=what)
                self._checked = True
            yield
            try:
                c.execute("COMMIT")
            except sqlite3.Error as exc:
                raise sqlite_failure(exc, what, path) from exc
        except BaseException:
            if c.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    c.execute("ROLLBACK")
            raise
        finally:
            self._outer = False

    def check(self) -> None:
        """Check the store: SQLite's ``PRAGMA quick_check`` of every page and row (the
        tables and columns were checked on opening). Writing commands call it before
        writing; about 0.4 s per million ratings.

        Raises
        ------
        StoreDamagedError
            Naming the file, what SQLite found and the snapshot to restore.

        References
        ----------
        SQLite, "PRAGMA quick_check": https://www.sqlite.org/pragma.html#pragma_quick_check
        """
        path = str(self._path)

        def run() -> None:
            quick_check(self._c, path, doing="check the store")

        self._read(run)
        self._checked = True

    def _read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on one consistent snapshot (a concurrent import is all or nothing);
        inside :meth:`transaction`, on the transaction's own view."""
        c = self._c
        if self._outer:
            try:
                return fn()
            except sqlite3.Error as exc:
                raise sqlite_failure(exc, "read the store", str(self._path)) from exc

        def attempt() -> T:
            try:
                c.execute("BEGIN")
                try:
                    result = fn()
                except BaseException:
                    if c.in_transaction:  # (a failed read may have ended it already)
                        with contextlib.suppress(sqlite3.Error):
                            c.execute("ROLLBACK")
                    raise
                if c.in_transaction:
                    c.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                if is_busy(exc):
                    raise  # retried
                raise sqlite_failure(exc, "read the store", str(self._path), writing=False) from exc

        return retrying(attempt, path=str(self._path), timeout=self._timeout, what="read the store")

    # ---- ids ---------------------------------------------------------------------
    def _stage_names(self, names: np.ndarray) -> None:
        c = self._c
        c.execute("DELETE FROM temp._names")
        c.executemany(
            "INSERT INTO temp._names (pos, name) VALUES (?, ?)", enumerate(names.tolist())
        )

    def _intern(self, table: str, pk_col: str, id_col: str, names: np.ndarray) -> np.ndarray:
        """The integer keys of ``names`` in ``table``, adding the new ones (set-based)."""
        c = self._c
        self._stage_names(names)
        c.execute(
            f"INSERT OR IGNORE INTO {table} ({id_col}) SELECT name FROM temp._names ORDER BY pos"
        )
        return aligned(
            len(names),
            c.execute(
                f"SELECT n.pos, t.{pk_col} FROM temp._names AS n JOIN {table} AS t ON t.{id_col} = n.name"
            ),
        )

    def _names_of(self, table: str, pk_col: str, id_col: str, pks: np.ndarray) -> np.ndarray:
        """Text ids of sorted unique ``pks``, aligned with them."""
        c = self._c
        c.execute("DELETE FROM temp._pks")
        c.executemany("INSERT INTO temp._pks (pk) VALUES (?)", ((v,) for v in pks.tolist()))
        rows = c.execute(
            f"SELECT t.{id_col} FROM temp._pks AS k JOIN {table} AS t ON t.{pk_col} = k.pk ORDER BY k.pk"
        ).fetchall()
        return np.array([r[0] for r in rows], dtype=object)

    def _categorical(
        self, table: str, pk_col: str, id_col: str, pks: np.ndarray
    ) -> tuple[pd.Categorical, np.ndarray]:
        """Categorical of the ids behind ``pks`` with sorted categories, and its codes."""
        uniq, inverse = np.unique(pks, return_inverse=True)
        return sorted_categorical(self._names_of(table, pk_col, id_col, uniq), inverse)


# ---- helpers --------------------------------------------------------------------------
def check_progress(progress: object) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress must be None or a callable progress(rows_done, rows_total); got {progress!r}"
        )


def check_sha(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    text = str(sha256).strip().lower()
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise ValueError(
            f"sha256 must be 64 hex digits (see calibrate.store.file_sha256); got {sha256!r}"
        )
    return text


def text_id(value: object, name: str) -> str:
    """``value`` stripped, if it is text with something in it (a TypeError if not text)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be non-empty text; got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must be non-empty text; got {value!r}")
    return value.strip()


def name_list(value: str | Sequence[str] | None, name: str) -> list[str] | None:
    if value is None:
        return None
    what = f"{name} must be text or a non-empty list of text; got {value!r}"
    try:
        values = [value] if isinstance(value, str) else list(value)
    except TypeError:  # not iterable
        raise TypeError(what) from None
    if not all(isinstance(v, str) for v in values):
        raise TypeError(what)
    if not values:
        raise ValueError(what)
    return values


def insert_rows(
    c: sqlite3.Connection, head: str, row: str, tail: str, columns: list[list[Any]]
) -> None:
    """``head`` + ``row`` for each row of ``columns`` + ``tail``, in multi-row statements.

    One statement inserting :data:`ROWS_PER_STATEMENT` rows runs the per-statement
    work (reset, step, Python call overhead) once for all of them: twice as fast as
    ``executemany`` over single-row statements on a big import.
    """
    n, width = len(columns[0]), len(columns)
    if not n:
        return
    flat = list(itertools.chain.from_iterable(zip(*columns, strict=True)))
    k = ROWS_PER_STATEMENT
    full = n // k * k
    if full:
        step = k * width
        c.executemany(
            f"{head} {', '.join([row] * k)} {tail}",
            (flat[i : i + step] for i in range(0, full * width, step)),
        )
    if n > full:
        c.execute(f"{head} {', '.join([row] * (n - full))} {tail}", flat[full * width :])


def new_pk(cursor: sqlite3.Cursor) -> int:
    """The integer key SQLite gave the row an INSERT just added."""
    if cursor.lastrowid is None:  # cannot happen after a successful INSERT; checked for the type
        raise RuntimeError("SQLite reported no key for an inserted row")
    return int(cursor.lastrowid)


def aligned(n: int, rows: Iterable[tuple[int, int]]) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    pairs = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64).reshape(-1, 2)
    out[pairs[:, 0]] = pairs[:, 1]
    return out


def sorted_categorical(names: np.ndarray, codes: np.ndarray) -> tuple[pd.Categorical, np.ndarray]:
    """``names[codes]`` as a Categorical with sorted categories, and its codes."""
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    new_codes = rank[codes] if len(names) else np.zeros(0, dtype=np.int64)
    cat = pd.Categorical.from_codes(new_codes, categories=pd.Index(names[order], dtype=object))
    return cat, new_codes
