"""The store's plumbing shared by all its parts: transactions, id interning and SQL helpers."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from calibrate.store._connection import is_busy, retrying, sqlite_failure

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

    # ---- transactions ------------------------------------------------------------
    @property
    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"the store {self._path} is closed; open it again with Store.open")
        return self._conn

    def _write(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn`` in one write transaction, retried if the store is locked."""
        c = self._c

        def attempt() -> T:
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
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

    def _read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on one consistent snapshot (a concurrent import is all or nothing)."""
        c = self._c

        def attempt() -> T:
            try:
                c.execute("BEGIN")
                try:
                    return fn()
                finally:
                    if c.in_transaction:
                        c.execute("COMMIT")
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
