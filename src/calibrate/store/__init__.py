"""The embedded store: one SQLite file of rubrics, ratings, answer keys, rounds and imports.

Open it with ``with Store.open("calibrate.db") as store:``. Imports are single
transactions (all rows or none; ``store.transaction()`` makes several writes one),
re-importing a file adds nothing, and several processes can write to one store at once.
The store is checked (``PRAGMA quick_check``, its tables and columns) before it is
written; reading commands open it read only (``Store.open(..., read_only=True)``), so a
store on read-only media can be read. ``store.backup()`` copies it with SQLite's online
backup API; writing commands keep a snapshot beside it (:func:`snapshot_path`), which
:func:`restore_store` puts back.
"""

from calibrate.store._errors import (
    ConflictError,
    NotAStoreError,
    StoreBusyError,
    StoreDamagedError,
    StoreError,
    StoreVersionError,
    snapshot_path,
)
from calibrate.store._schema import SCHEMA_VERSION
from calibrate.store._store import (
    DEFAULT_PATH,
    AttributesReport,
    ImportReport,
    Invitation,
    NewLink,
    Progress,
    Store,
    file_sha256,
    restore_store,
)

__all__ = [
    "DEFAULT_PATH",
    "SCHEMA_VERSION",
    "AttributesReport",
    "ConflictError",
    "ImportReport",
    "Invitation",
    "NewLink",
    "NotAStoreError",
    "Progress",
    "Store",
    "StoreBusyError",
    "StoreDamagedError",
    "StoreError",
    "StoreVersionError",
    "file_sha256",
    "restore_store",
    "snapshot_path",
]
