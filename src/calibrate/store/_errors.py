"""What can go wrong opening or writing a store, each with its own exception class.

The command line catches ``ValueError`` and ``RuntimeError`` and prints the message, so
every message here is written for the person at the keyboard: what was found, what
this calibrate can do, and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from calibrate._problems import DataProblemError, Problem

__all__ = [
    "ConflictError",
    "NotAStoreError",
    "StoreBusyError",
    "StoreDamagedError",
    "StoreError",
    "StoreVersionError",
    "restore_hint",
    "snapshot_path",
]


class NotAStoreError(ValueError):
    """The file is not a calibrate store: not SQLite at all, or another program's database."""


class StoreError(RuntimeError):
    """The store file could not be read or written (a full disk, no permission, an I/O
    error). The message says what SQLite reported; a write that failed wrote nothing."""


def snapshot_path(path: str | Path) -> Path:
    """Where calibrate keeps the snapshot of a store taken before each write command:
    beside it, with ``.bak`` added to its name (``calibrate.db`` -> ``calibrate.db.bak``)."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


def restore_hint(path: str | Path) -> str:
    """What to do with a damaged store: restore the snapshot if there is one."""
    bak = snapshot_path(path)
    if bak.is_file():
        return (
            f"restore it from a backup: the snapshot calibrate took before its last write is "
            f"{bak} (calibrate backup --restore --store {path}); then run that write again"
        )
    return (
        f"restore it from a backup (calibrate backup --restore --store {path} --from BACKUP); "
        f"there is no snapshot at {bak}"
    )


class StoreDamagedError(StoreError):
    """The store file is damaged: SQLite finds its pages or the store's tables broken
    (a truncated copy, bytes overwritten, a table dropped by another tool).

    Nothing was written. The message names the file, what was found and what to do:
    restore the snapshot calibrate keeps beside the store (``<store>.bak``, see
    :func:`snapshot_path`) with ``calibrate backup --restore``.

    Attributes
    ----------
    path : str
        The store file.
    problems : tuple of str
        What was found (SQLite's ``PRAGMA quick_check`` lines, missing tables or columns).
    """

    def __init__(self, path: str | Path, problems: Iterable[str], *, doing: str | None = None):
        self.path = str(path)
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[:5])
        if len(self.problems) > 5:
            shown += f"; ... and {len(self.problems) - 5} more"
        head = f"could not {doing}: " if doing else ""
        super().__init__(
            f"{head}the store {self.path} is damaged ({shown}); nothing was written. "
            f"The file is damaged: {restore_hint(self.path)}"
        )


class StoreVersionError(StoreError):
    """The store was written by a newer calibrate, whose schema this one cannot read.

    Attributes
    ----------
    path : str
        The store file.
    found : int
        The store's schema version.
    readable : tuple of int
        The schema versions this calibrate reads (older ones are upgraded on open).
    """

    def __init__(self, path: str, found: int, readable: tuple[int, ...], calibrate_version: str):
        self.path = path
        self.found = found
        self.readable = readable
        lo, hi = min(readable), max(readable)
        reads = f"version {lo}" if lo == hi else f"versions {lo} to {hi}"
        super().__init__(
            f"{path} is a store of schema version {found}, written by a newer calibrate; "
            f"this calibrate ({calibrate_version}) reads store schema {reads}. "
            "Upgrade calibrate (pip install --upgrade calibrate) to open it; the file was not changed."
        )


class StoreBusyError(StoreError):
    """Another process kept the store locked for longer than this one would wait.

    Nothing was written. Raised only after the busy timeout and a bounded number of
    retries with backoff have all run out.
    """


class ConflictError(DataProblemError):
    """Data that contradicts what the store already holds; nothing was written.

    ``.problems`` names every conflicting row: a score stored for the same (rubric,
    round, submission, reviewer, criterion) with a different value, a key score that
    differs, a second entry of a live score, a rubric whose content changed under the
    same id and version, or new scores for a closed round.
    """

    kind = "store"

    def __init__(
        self, problems: Iterable[Problem], *, store: str | None = None, hint: str | None = None
    ):
        self.store = store
        #: How to go on (e.g. ``--supersede``), or None.
        self.hint = hint
        super().__init__(problems)

    def _summary(self) -> str:
        n = len(self.problems)
        where = f" in {self.store}" if self.store else ""
        head = (
            f"{n} conflict{'s' if n != 1 else ''} with what is already{where}; nothing was written:"
        )
        shown = [f"  - {p}" for p in self.problems[:50]]
        if n > 50:
            shown.append(f"  ... and {n - 50} more (all are in the error's .problems)")
        tail = [f"({self.hint})"] if getattr(self, "hint", None) else []
        return "\n".join([head, *shown, *tail])
