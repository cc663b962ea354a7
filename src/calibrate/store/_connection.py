"""Opening a SQLite file as a store, and writing to it while other processes do too.

Concurrency rests on four things. WAL journaling lets readers go on while one process
writes. Every write transaction starts with ``BEGIN IMMEDIATE``, which takes the write
lock up front: a transaction that started as a reader and later tries to write can fail
at once with "database is locked" however long the timeout (SQLite cannot let it wait
without risking deadlock), and an immediate one never does. The busy timeout makes
SQLite itself wait for the lock. Around that, a bounded retry with jittered
exponential backoff catches what the timeout does not (lock contention while opening,
switching to WAL, recovering a WAL left by a killed process), so "database is locked"
never reaches the user: they get :class:`StoreBusyError` only after all of it ran out.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from calibrate.store._errors import (
    NotAStoreError,
    StoreBusyError,
    StoreDamagedError,
    StoreError,
    StoreVersionError,
    restore_hint,
)
from calibrate.store._schema import APPLICATION_ID, SCHEMA_VERSION, migrate, schema_problems

__all__ = [
    "RETRIES",
    "is_busy",
    "is_damage",
    "io_hint",
    "is_sqlite_file",
    "now_iso",
    "open_connection",
    "quick_check",
    "retrying",
    "sqlite_failure",
    "tidy_after_read",
]

T = TypeVar("T")

#: How many times a transaction that met a locked store is tried again.
RETRIES = 8
#: First pause before a retry, in seconds; it doubles each time up to :data:`_MAX_PAUSE`.
_FIRST_PAUSE = 0.05
_MAX_PAUSE = 2.0
# Jitter keeps two waiting processes from retrying in lock-step. A private generator:
# the library never draws from a global random state.
_jitter = random.Random()

#: Per-connection settings.
#:
#: - synchronous=NORMAL is the recommended WAL setting: a committed import survives the
#:   process being killed (what the kit promises); only the last commits before a
#:   power cut could roll back, and the file stays consistent.
#: - Foreign keys are declared in the schema but not enforced (SQLite's default): every
#:   key the store writes comes from a lookup in the same transaction, and enforcing
#:   them made a 1M-row import 40% slower. Tests run ``PRAGMA foreign_key_check``.
_PRAGMAS = (
    "PRAGMA synchronous = NORMAL",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -65536",  # up to 64 MiB, so a big import does not spill mid-way
)


def now_iso() -> str:
    """The current time as ISO 8601 UTC text with microseconds (``...Z``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def is_busy(exc: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked / busy" (worth retrying)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def retrying(
    fn: Callable[[], T], *, path: str, timeout: float, what: str, retries: int = RETRIES
) -> T:
    """Call ``fn`` until it does not fail on a locked store, at most ``retries + 1`` times.

    ``fn`` must leave the store as it found it when it fails (a rolled-back
    transaction), so calling it again is safe.
    """
    pause = _FIRST_PAUSE
    started = time.monotonic()
    for attempt in range(retries + 1):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            if attempt == retries:
                break
            time.sleep(pause * (0.5 + _jitter.random()))
            pause = min(2 * pause, _MAX_PAUSE)
    waited = time.monotonic() - started
    tries = f"{retries + 1} attempt{'s' if retries else ''}"
    raise StoreBusyError(
        f"could not {what}: another process kept the store {path} locked for {waited:.1f} s "
        f"(busy timeout {timeout:g} s, {tries}). Nothing was written; "
        "try again when the other import or score entry has finished."
    ) from None


#: The first 16 bytes of every SQLite database file.
SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts as a SQLite database does (a damaged one too)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _not_writable(path: Path) -> str:
    """Why a store cannot be written where it is ("" if it can): SQLite needs to write
    the file and to create its ``-wal`` and ``-shm`` files in the folder."""
    folder = path.resolve().parent
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return f"its folder {folder} is not writable (SQLite writes its journal there)"
    return ""


def _read_only_uri(path: Path) -> str:
    """The SQLite URI that opens ``path`` for reading only.

    ``mode=ro`` always; ``immutable=1`` too when the file cannot change under us: the
    file or its folder is not writable (read-only media, a shared copy) and no write-ahead
    log is waiting beside it. SQLite then takes no locks and needs no ``-shm`` file, which
    it could not create there.
    """
    uri = path.resolve().as_uri() + "?mode=ro"
    wal = path.with_name(path.name + "-wal")
    writable = os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)
    wal_waiting = wal.exists() and wal.stat().st_size > 0
    if not writable and not wal_waiting:
        uri += "&immutable=1"
    return uri


def tidy_after_read(path: Path) -> None:
    """Remove the empty ``-wal`` and ``-shm`` files a read-only connection leaves beside
    a writable store (it may not delete them itself), the way SQLite does: a connection
    that may write is opened and closed, and SQLite deletes them only if no other
    connection has the store open. The store's bytes do not change (the log is empty).
    """
    wal = path.with_name(path.name + "-wal")
    try:
        if not wal.exists() or wal.stat().st_size:
            return
        if not (os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)):
            return
        conn = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        pass  # another process holds it: it tidies up when it closes


def open_connection(
    path: Path,
    *,
    create: bool,
    timeout: float,
    calibrate_version: str,
    read_only: bool = False,
) -> tuple[sqlite3.Connection, int]:
    """Open ``path`` as a store, creating or upgrading its schema; return it and its version.

    With ``read_only``, the file is opened with SQLite's ``mode=ro`` (and ``immutable=1``
    where it cannot change, see :func:`_read_only_uri`): nothing is created or written,
    so a store on read-only media can be read.

    Raises
    ------
    FileNotFoundError
        When the file does not exist and ``create`` is false, or its folder is missing.
    NotAStoreError
        When the file is not SQLite, is another program's SQLite database, or (read only)
        is empty.
    StoreDamagedError
        When the file is a SQLite database SQLite cannot read (truncated, overwritten) or
        the store's tables are missing or incomplete. The file is not changed.
    StoreVersionError
        When the store was written by a newer calibrate. The file is not changed.
    StoreBusyError
        When another process holds the store locked for too long.
    """
    shown = str(path)
    if path.is_dir():
        raise NotAStoreError(
            f"{shown} is a folder; a store is a single file (e.g. {path / 'calibrate.db'})"
        )
    if not path.exists():
        if not create or read_only:
            raise FileNotFoundError(f"no store at {shown} (import ratings first to create one)")
        if not path.parent.is_dir():
            raise FileNotFoundError(
                f"cannot create the store {shown}: the folder {path.parent} does not exist"
            )
    if not read_only:
        why = _not_writable(path)
        if why:
            raise StoreError(
                f"could not open {shown} for writing: {why}; nothing was written. "
                "Reading commands (summary, export, backup) still work on it; to write, "
                "copy the store to writable media"
            )
    if read_only and path.stat().st_size == 0:
        raise NotAStoreError(
            f"{shown} is an empty file (0 bytes), not a calibrate store yet; "
            "import ratings into it (calibrate import RATINGS --store ...) to make it one"
        )
    # isolation_level=None: the module never opens transactions behind our back; every
    # transaction here is explicit (BEGIN IMMEDIATE for writes, BEGIN for read snapshots).
    try:
        if read_only:
            conn = sqlite3.connect(
                _read_only_uri(path), timeout=timeout, isolation_level=None, uri=True
            )
        else:
            conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise sqlite_failure(exc, f"open {shown}", shown, writing=not read_only) from exc
    try:
        version = retrying(
            lambda: _check(conn, path, calibrate_version),
            path=shown,
            timeout=timeout,
            what=f"open {shown}",
        )
        if read_only:
            if version == 0:
                raise NotAStoreError(
                    f"{shown} is an empty SQLite database, not a calibrate store yet; "
                    "import ratings into it to make it one"
                )
        else:
            mode = retrying(
                lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0],
                path=shown,
                timeout=timeout,
                what=f"open {shown}",
            )
            del mode  # 'wal' except on file systems without shared memory; SQLite then keeps its rollback journal
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        if version < SCHEMA_VERSION:
            if read_only:  # an older store is upgraded by a connection that may write
                conn.close()
                upgraded, version = open_connection(
                    path, create=False, timeout=timeout, calibrate_version=calibrate_version
                )
                upgraded.close()
                return open_connection(
                    path,
                    create=False,
                    timeout=timeout,
                    calibrate_version=calibrate_version,
                    read_only=True,
                )
            version = retrying(
                lambda: _upgrade(conn, shown, calibrate_version),
                path=shown,
                timeout=timeout,
                what=f"set up {shown}",
            )
    except sqlite3.Error as exc:
        conn.close()
        raise sqlite_failure(exc, f"open {shown}", shown, writing=not read_only) from exc
    except BaseException:
        conn.close()
        raise
    return conn, version


#: SQLite's primary result codes for a file it cannot read as a database.
_DAMAGED_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def is_damage(exc: BaseException) -> bool:
    """Whether a SQLite error says the file is damaged (corrupt, or not a database)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _DAMAGED_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


def io_hint(exc: BaseException) -> str:
    """What a full disk or a failing write means for the person, or ""."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or (code & 0xFF) not in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
        return ""
    return (
        ". The disk is full, a file-size limit was reached, or the device failed a write: "
        "free some space (or check the device) and run the command again"
    )


def sqlite_failure(exc: sqlite3.Error, what: str, path: str, *, writing: bool = True) -> StoreError:
    """A :class:`StoreError` saying what could not be done and what SQLite reported;
    a :class:`StoreDamagedError` when SQLite says the file is damaged."""
    tail = "; nothing was written" if writing else ""
    if is_damage(exc):
        err = StoreDamagedError(path, [f"SQLite reported {str(exc)!r}"], doing=what)
        err.args = (
            f"could not {what}: SQLite reported {str(exc)!r} for the store {path}{tail}. "
            f"The file is damaged: {restore_hint(path)}",
        )
        return err
    tail += io_hint(exc)
    if (
        writing
        and getattr(exc, "sqlite_errorcode", None) is not None
        and (exc.sqlite_errorcode & 0xFF)
        in (
            sqlite3.SQLITE_READONLY,
            sqlite3.SQLITE_CANTOPEN,
            sqlite3.SQLITE_PERM,
        )
    ):
        tail += (
            ". The store (or its folder) cannot be written here: reading commands "
            "(summary, export) still work; write on a copy on writable media"
        )
    return StoreError(f"could not {what}: SQLite reported {str(exc)!r} for the store {path}{tail}")


def _check(conn: sqlite3.Connection, path: Path, calibrate_version: str) -> int:
    """Refuse files that are not stores, damaged stores and stores too new; return the
    schema version."""
    shown = str(path)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
    except sqlite3.DatabaseError as exc:  # "file is not a database", damaged files
        if is_busy(exc):
            raise
        if is_damage(exc) and is_sqlite_file(path):  # truncated, overwritten
            raise StoreDamagedError(shown, [f"SQLite reported {str(exc)!r}"]) from None
        if isinstance(exc, sqlite3.OperationalError):  # cannot open, no permission, I/O
            raise sqlite_failure(exc, f"open {shown}", shown, writing=False) from None
        what = (
            "it is not a SQLite database" if "not a database" in str(exc) else f"SQLite says: {exc}"
        )
        raise NotAStoreError(
            f"{shown} is not a calibrate store: {what}. A store is the file calibrate creates with --store."
        ) from None
    if app_id != APPLICATION_ID and (app_id != 0 or tables):
        listed = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "")
        raise NotAStoreError(
            f"{shown} is a SQLite database but not a calibrate store "
            f"(application_id {app_id:#x}{'; tables: ' + listed if tables else ''}); "
            "give --store a new file name or an existing calibrate store"
        )
    if app_id == APPLICATION_ID and "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and str(row[0]).isdigit():
            version = max(version, int(row[0]))
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            shown, version, tuple(range(1, SCHEMA_VERSION + 1)), calibrate_version
        )
    if app_id == APPLICATION_ID or version:
        problems = schema_problems(conn, int(version))
        if problems:
            raise StoreDamagedError(shown, problems)
    return int(version)


def _upgrade(conn: sqlite3.Connection, shown: str, calibrate_version: str) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created or upgraded the store since we looked.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                shown, version, tuple(range(1, SCHEMA_VERSION + 1)), calibrate_version
            )
        if version < SCHEMA_VERSION:
            migrate(conn, version, calibrate_version, now_iso())
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def quick_check(conn: sqlite3.Connection, path: str, *, doing: str | None = None) -> None:
    """Run ``PRAGMA quick_check`` (SQLite's check of every page and row, without the
    index cross-checks of ``integrity_check``); raise :class:`StoreDamagedError` with
    what it found unless it says "ok".

    About 0.4 s on a store of a million ratings (24 MB).
    """
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(20)")]
    except sqlite3.DatabaseError as exc:
        if is_busy(exc) or not is_damage(exc):
            raise
        rows = [f"SQLite reported {str(exc)!r}"]
    if rows != ["ok"]:
        raise StoreDamagedError(path, [f"PRAGMA quick_check: {r}" for r in rows], doing=doing)
