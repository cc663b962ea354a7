"""The embedded store: one SQLite file of rubrics, ratings, answer keys, rounds and imports.

Open it with ``with Store.open("calibrate.db") as store:``. Imports are single
transactions (all rows or none), re-importing a file adds nothing, and several processes
can write to one store at once.
"""

from calibrate.store._errors import (
    ConflictError,
    NotAStoreError,
    StoreBusyError,
    StoreError,
    StoreVersionError,
)
from calibrate.store._schema import SCHEMA_VERSION
from calibrate.store._store import DEFAULT_PATH, ImportReport, Progress, Store, file_sha256

__all__ = [
    "DEFAULT_PATH",
    "SCHEMA_VERSION",
    "ConflictError",
    "ImportReport",
    "NotAStoreError",
    "Progress",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreVersionError",
    "file_sha256",
]
