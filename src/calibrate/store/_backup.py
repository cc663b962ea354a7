"""Copies of a store made with SQLite's online backup API, written atomically."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from calibrate.store._connection import io_hint
from calibrate.store._errors import StoreError

__all__ = ["partial_path", "write_backup"]


def partial_path(target: Path) -> Path:
    """Where a copy is written before it is renamed to ``target`` (one per process, so
    two processes writing the same snapshot never mix their pages)."""
    return target.with_name(f"{target.name}.{os.getpid()}.partial")


def write_backup(conn: sqlite3.Connection, target: Path, *, source: str) -> Path:
    """Copy the database of ``conn`` to ``target`` in one step of SQLite's online backup.

    One step copies every page under one read transaction, so the copy is the store as
    one moment saw it, even while another process writes. The copy goes to a
    ``.partial`` file first and is renamed onto ``target`` only when complete: a copy
    that failed half-way (a full disk, the process killed) leaves ``target`` as it was.

    Raises
    ------
    FileNotFoundError
        The folder of ``target`` does not exist.
    StoreError
        The copy could not be written (SQLite's or the system's reason in the message);
        the store itself was not changed.

    References
    ----------
    SQLite, "Online Backup API": https://www.sqlite.org/backup.html
    """
    target = Path(target)
    if target.is_dir():
        raise StoreError(
            f"could not back up {source}: {target} is a folder; give the backup's file name"
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write the backup {target}: the folder {target.parent} does not exist"
        )
    partial = partial_path(target)
    try:
        partial.unlink(missing_ok=True)
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            conn.backup(dst)
        finally:
            dst.close()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        reason = f"SQLite reported {str(exc)!r}" if isinstance(exc, sqlite3.Error) else str(exc)
        raise StoreError(
            f"could not write the backup {target} of the store {source}: {reason}; "
            f"the store was not changed{io_hint(exc)}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            partial.with_name(partial.name + "-journal").unlink(missing_ok=True)
    return target
