"""The store's tables, its schema version and the migrations between versions.

The version lives in two places: ``PRAGMA user_version`` (read before anything else, so
a newer file is refused without touching it) and the ``meta`` table (for people who open
the file with another SQLite tool). ``PRAGMA application_id`` marks the file as a
calibrate store, so another program's SQLite database is never mistaken for an empty one.

To change the schema, append a step to :data:`MIGRATIONS` (never edit a released one):
step ``k`` takes a store from version ``k`` to ``k + 1``, and opening an older store runs
the missing steps in one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "NO_ROUND_PK",
    "SCHEMA_VERSION",
    "expected_tables",
    "migrate",
    "schema_problems",
]

#: ``PRAGMA application_id`` of a calibrate store: "CALB" in ASCII.
APPLICATION_ID = 0x43414C42

#: ``round_pk`` of ratings that belong to no round. The ratings key must be NOT NULL
#: (SQLite's UNIQUE lets NULLs repeat, so re-imports would duplicate them), so "no
#: round" is a real row of ``rounds`` with an empty round_id and status 'none'.
NO_ROUND_PK = 0

# Surrogate integer keys (``*_pk``) keep the big table narrow and its index small; the
# text ids people use live once each in the small tables. ``ratings`` and
# ``answer_keys`` are WITHOUT ROWID tables clustered on their natural key, so the key is
# both the uniqueness check (INSERT OR IGNORE makes re-imports add nothing) and the
# order a rubric's ratings are read in, with no second index to maintain on import.
# rubric_pk is repeated in ratings although criterion_pk implies it: it makes "all
# ratings of a rubric" one contiguous range of the clustered key.
_V1 = (
    """CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE rubrics (
        rubric_pk INTEGER PRIMARY KEY,
        rubric_id TEXT NOT NULL,
        version   TEXT NOT NULL,
        title     TEXT NOT NULL,
        yaml      TEXT NOT NULL,          -- calibrate.rubric.rubric_to_yaml of the rubric
        added_at  TEXT NOT NULL,          -- ISO 8601 UTC
        UNIQUE (rubric_id, version)
    )""",
    """CREATE TABLE criteria (
        criterion_pk INTEGER PRIMARY KEY,
        rubric_pk    INTEGER NOT NULL REFERENCES rubrics,
        criterion_id TEXT NOT NULL,
        position     INTEGER NOT NULL,    -- order in the rubric, from 0
        UNIQUE (rubric_pk, criterion_id)
    )""",
    """CREATE TABLE reviewers (
        reviewer_pk INTEGER PRIMARY KEY,
        reviewer_id TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE submissions (
        submission_pk INTEGER PRIMARY KEY,
        submission_id TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE rounds (
        round_pk   INTEGER PRIMARY KEY,
        rubric_pk  INTEGER REFERENCES rubrics,   -- NULL only for the 'no round' row
        round_id   TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('none', 'open', 'closed')),
        created_at TEXT NOT NULL,
        closed_at  TEXT,
        UNIQUE (rubric_pk, round_id)
    )""",
    """CREATE TABLE imports (
        import_pk         INTEGER PRIMARY KEY,
        what              TEXT NOT NULL CHECK (what IN ('ratings', 'key')),
        rubric_pk         INTEGER NOT NULL REFERENCES rubrics,
        source            TEXT,
        sha256            TEXT,
        rows              INTEGER NOT NULL,
        added             INTEGER NOT NULL,
        already_present   INTEGER NOT NULL,
        imported_at       TEXT NOT NULL,
        calibrate_version TEXT NOT NULL
    )""",
    """CREATE TABLE ratings (
        rubric_pk     INTEGER NOT NULL REFERENCES rubrics,
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        criterion_pk  INTEGER NOT NULL REFERENCES criteria,
        score         INTEGER NOT NULL,
        rated_at      INTEGER,            -- nanoseconds since 1970-01-01 UTC; NULL: unknown
        -- Spelled with OR: SQLite rebuilds an IN-list for every inserted row, which
        -- made this CHECK cost more than the rest of a bulk import together.
        kind          TEXT CHECK (kind = 'anchor' OR kind = 'live' OR kind = 'seeded'),
        import_pk     INTEGER REFERENCES imports,   -- NULL: entered one at a time
        PRIMARY KEY (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk)
    ) WITHOUT ROWID""",
    """CREATE TABLE answer_keys (
        rubric_pk     INTEGER NOT NULL REFERENCES rubrics,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        criterion_pk  INTEGER NOT NULL REFERENCES criteria,
        key_score     INTEGER NOT NULL,
        rationale     TEXT NOT NULL DEFAULT '',
        import_pk     INTEGER REFERENCES imports,
        PRIMARY KEY (rubric_pk, submission_pk, criterion_pk)
    ) WITHOUT ROWID""",
    # Reads by reviewer go through the ratings of one rubric (already a key range); no
    # secondary index on ratings, which would roughly double the cost of an import.
    f"""INSERT INTO rounds (round_pk, rubric_pk, round_id, status, created_at)
        VALUES ({NO_ROUND_PK}, NULL, '', 'none', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))""",
)

# Version 2: the rationale a reviewer writes with a score-entry form (one per reviewer,
# submission and round), entered live with its scores in one transaction; and the anchors
# and reviewers assigned to each calibration round.
_V2 = (
    """CREATE TABLE rationales (
        rubric_pk     INTEGER NOT NULL REFERENCES rubrics,
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        rationale     TEXT NOT NULL,
        entered_at    INTEGER NOT NULL,   -- ns since the epoch, UTC
        PRIMARY KEY (rubric_pk, round_pk, submission_pk, reviewer_pk)
    ) WITHOUT ROWID""",
    # Which anchors a calibration round uses and which reviewers take part.
    """CREATE TABLE round_anchors (
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        PRIMARY KEY (round_pk, submission_pk)
    ) WITHOUT ROWID""",
    """CREATE TABLE round_reviewers (
        round_pk    INTEGER NOT NULL REFERENCES rounds,
        reviewer_pk INTEGER NOT NULL REFERENCES reviewers,
        PRIMARY KEY (round_pk, reviewer_pk)
    ) WITHOUT ROWID""",
)

# Version 3: history, never overwritten. ``ratings`` keeps holding exactly the current
# value of each key, so every read (and the clustered key the bulk import writes in)
# is unchanged; a value that is superseded (a correction imported with --supersede) or
# withdrawn (``calibrate retract``) moves to ``rating_history`` with when, why and by
# which import. A separate table rather than a "current" flag in ``ratings`` with a
# partial index: the flag would widen the clustered key (a key then has several rows),
# and every read of ratings would have to filter on it; history is small and rarely read.
# ``imports`` is rebuilt to admit retractions, attribute imports and score-entry edits
# (what = 'retract', 'attributes' or 'edit': a CHECK SQLite cannot alter in place; an
# attribute import has no rubric)
# and to record an import's reason and how many values it superseded. Submission and
# reviewer attributes (district, cohort, role, ...: name and text value) are kept the same
# way: the current value in ``*_attributes``, a changed one in ``attribute_history``.
_V3 = (
    """CREATE TABLE imports_v3 (
        import_pk         INTEGER PRIMARY KEY,
        what              TEXT NOT NULL
                          CHECK (what IN ('ratings', 'key', 'retract', 'attributes', 'edit')),
        rubric_pk         INTEGER REFERENCES rubrics,   -- NULL only for attributes
        source            TEXT,
        sha256            TEXT,
        rows              INTEGER NOT NULL,
        added             INTEGER NOT NULL,
        already_present   INTEGER NOT NULL,
        imported_at       TEXT NOT NULL,
        calibrate_version TEXT NOT NULL,
        superseded        INTEGER NOT NULL DEFAULT 0,  -- stored values this import replaced
        reason            TEXT,                        -- of --supersede or of a retraction
        retracts          INTEGER REFERENCES imports   -- what = 'retract': the import withdrawn
    )""",
    """INSERT INTO imports_v3 (import_pk, what, rubric_pk, source, sha256, rows, added,
        already_present, imported_at, calibrate_version)
        SELECT import_pk, what, rubric_pk, source, sha256, rows, added, already_present,
        imported_at, calibrate_version FROM imports""",
    # (foreign keys are not enforced in a store, so the other tables' REFERENCES imports
    # point at the renamed table by name)
    "DROP TABLE imports",
    "ALTER TABLE imports_v3 RENAME TO imports",
    """CREATE TABLE rating_history (
        history_pk    INTEGER PRIMARY KEY,
        rubric_pk     INTEGER NOT NULL REFERENCES rubrics,
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        criterion_pk  INTEGER NOT NULL REFERENCES criteria,
        score         INTEGER NOT NULL,   -- the value as it was stored, with its
        rated_at      INTEGER,            -- time, kind and import
        kind          TEXT,
        import_pk     INTEGER REFERENCES imports,   -- NULL: entered live
        superseded_at TEXT NOT NULL,                 -- ISO 8601 UTC
        superseded_by INTEGER NOT NULL REFERENCES imports,  -- the import (or retraction)
        reason        TEXT NOT NULL
    )""",
    """CREATE INDEX rating_history_key ON rating_history
        (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk)""",
    "CREATE INDEX rating_history_by ON rating_history (superseded_by)",
    """CREATE TABLE submission_attributes (
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        name          TEXT NOT NULL,
        value         TEXT NOT NULL,
        import_pk     INTEGER NOT NULL REFERENCES imports,
        PRIMARY KEY (submission_pk, name)
    ) WITHOUT ROWID""",
    """CREATE TABLE reviewer_attributes (
        reviewer_pk INTEGER NOT NULL REFERENCES reviewers,
        name        TEXT NOT NULL,
        value       TEXT NOT NULL,
        import_pk   INTEGER NOT NULL REFERENCES imports,
        PRIMARY KEY (reviewer_pk, name)
    ) WITHOUT ROWID""",
    """CREATE TABLE attribute_history (
        history_pk    INTEGER PRIMARY KEY,
        what          TEXT NOT NULL CHECK (what = 'submission' OR what = 'reviewer'),
        id_pk         INTEGER NOT NULL,     -- submission_pk or reviewer_pk
        name          TEXT NOT NULL,
        value         TEXT NOT NULL,
        import_pk     INTEGER NOT NULL REFERENCES imports,
        superseded_at TEXT NOT NULL,
        superseded_by INTEGER NOT NULL REFERENCES imports,
        reason        TEXT NOT NULL
    )""",
)

# Version 4: the anchors each reviewer of a round scores, in the order they see them
# (``calibrate round assign``, :meth:`Store.assign_anchors`). ``round_anchors`` and
# ``round_reviewers`` keep listing the round's anchors and reviewers for their readers.
_V4 = (
    """CREATE TABLE anchor_assignments (
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        position      INTEGER NOT NULL,   -- in the reviewer's order, from 0
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        PRIMARY KEY (round_pk, reviewer_pk, position),
        UNIQUE (round_pk, reviewer_pk, submission_pk)
    ) WITHOUT ROWID""",
)

# Version 5: the comment a reviewer wrote with each score (an export's per-criterion
# comment, or its row-wide one repeated on each criterion), kept per rating with the
# import that brought it and never overwritten (a changed one is refused or, superseded,
# moved to ``rationale_history``). A table of its own keyed like ``ratings`` rather than
# a column of ``ratings``: most ratings carry no comment, and a text column would widen
# the clustered rows every analysis reads; ``rationales`` (V2) stays one text per
# score-entry form (reviewer, submission and round), a different grain.
_V5 = (
    """CREATE TABLE rating_rationales (
        rubric_pk     INTEGER NOT NULL REFERENCES rubrics,
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        criterion_pk  INTEGER NOT NULL REFERENCES criteria,
        rationale     TEXT NOT NULL,
        import_pk     INTEGER NOT NULL REFERENCES imports,
        PRIMARY KEY (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk)
    ) WITHOUT ROWID""",
    """CREATE TABLE rationale_history (
        history_pk    INTEGER PRIMARY KEY,
        rubric_pk     INTEGER NOT NULL REFERENCES rubrics,
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        criterion_pk  INTEGER NOT NULL REFERENCES criteria,
        rationale     TEXT NOT NULL,
        import_pk     INTEGER NOT NULL REFERENCES imports,
        superseded_at TEXT NOT NULL,
        superseded_by INTEGER NOT NULL REFERENCES imports,
        reason        TEXT NOT NULL
    )""",
    "CREATE INDEX rationale_history_by ON rationale_history (superseded_by)",
)

# Version 6: remote calibration sessions. A reviewer's personal link carries a random
# token; the store keeps only its SHA-256 (a stolen store file opens no session), with the
# round it belongs to, its reviewer (NULL: the lead's link), expiry and revocation. Every
# save through a link appends to ``audit_log``: who, when, from which address, what changed
# from what (one row per changed criterion; criterion_pk NULL for the rationale).
_V6 = (
    """CREATE TABLE invitations (
        invitation_pk INTEGER PRIMARY KEY,
        token_sha256  TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the link's token
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        reviewer_pk   INTEGER REFERENCES reviewers,   -- NULL: the lead's link
        created_at    TEXT NOT NULL,          -- ISO 8601 UTC
        expires_at    TEXT NOT NULL,
        revoked_at    TEXT
    )""",
    "CREATE INDEX invitations_round ON invitations (round_pk, reviewer_pk)",
    """CREATE TABLE audit_log (
        audit_pk      INTEGER PRIMARY KEY,
        at            TEXT NOT NULL,          -- ISO 8601 UTC
        round_pk      INTEGER NOT NULL REFERENCES rounds,
        reviewer_pk   INTEGER NOT NULL REFERENCES reviewers,
        submission_pk INTEGER NOT NULL REFERENCES submissions,
        criterion_pk  INTEGER REFERENCES criteria,   -- NULL: the rationale
        old_score     INTEGER,
        new_score     INTEGER,
        old_rationale TEXT,
        new_rationale TEXT,
        client        TEXT,                   -- the client address the save came from
        action        TEXT NOT NULL CHECK (action = 'entered' OR action = 'edited')
    )""",
)

#: ``MIGRATIONS[k]`` holds the statements taking a store from version ``k`` to ``k + 1``
#: (version 0 is an empty file).
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6)

#: The schema version this calibrate writes; it reads every version up to this one.
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, found: int, calibrate_version: str, now: str) -> None:
    """Bring a store from version ``found`` to :data:`SCHEMA_VERSION`.

    Runs inside the caller's write transaction, so a failed step leaves the file as it
    was. ``PRAGMA user_version`` is part of the database header and so of the transaction.
    """
    for step in range(found, SCHEMA_VERSION):
        for statement in MIGRATIONS[step]:
            conn.execute(statement)
    if found == 0:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("created_at", now), ("created_by", f"calibrate {calibrate_version}")],
        )
    else:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('upgraded_at', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (now,),
        )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(SCHEMA_VERSION),),
    )
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@functools.lru_cache(maxsize=8)
def expected_tables(version: int) -> dict[str, tuple[str, ...]]:
    """The tables of a store of schema ``version`` and their columns, in order."""
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        for step in range(version):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        return _tables(conn)


def _tables(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({_quoted(n)})")) for n in names}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schema_problems(conn: sqlite3.Connection, version: int) -> list[str]:
    """What is missing from (or does not belong in) a store of schema ``version``.

    Tables of its own a program adds are allowed; a missing table or column, or a
    table of a later schema version in an older store, is a problem.
    """
    if not 0 <= version <= SCHEMA_VERSION:
        return [f"schema version {version} is not one calibrate writes"]
    found = _tables(conn)
    problems = []
    for table, columns in expected_tables(version).items():
        if table not in found:
            problems.append(f"table {table!r} is missing")
            continue
        missing = [c for c in columns if c not in found[table]]
        if missing:
            problems.append(f"table {table!r} has no column {', '.join(map(repr, missing))}")
    later = sorted(set(expected_tables(SCHEMA_VERSION)) - set(expected_tables(version)))
    early = [t for t in later if t in found]
    if early:
        problems.append(
            f"it records schema version {version} but holds {', '.join(map(repr, early))} "
            "of a later version"
        )
    return problems
