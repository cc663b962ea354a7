"""The store: one SQLite file holding rubrics, reviewers, submissions, rounds, ratings,
answer keys and a record of every import."""

from __future__ import annotations

import functools
import hashlib
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from calibrate._version import __version__
from calibrate._problems import Problem
from calibrate.ratings import KINDS, AnswerKey, RatingsTable, canonical_frame
from calibrate.rubric import Rubric, parse_rubric, rubric_to_yaml
from calibrate.store._connection import is_busy, now_iso, open_connection, retrying, sqlite_failure
from calibrate.store._errors import ConflictError
from calibrate.store._prepare import PreparedKey, PreparedRatings, prepare_key, prepare_ratings
from calibrate.store._schema import NO_ROUND_PK

__all__ = ["DEFAULT_PATH", "ImportReport", "Progress", "Store", "file_sha256"]

T = TypeVar("T")

#: Where the store lives when no path is given: ``calibrate.db`` in the working folder.
DEFAULT_PATH = "calibrate.db"
#: ``progress(rows_done, rows_total)``, called between chunks of an import.
Progress = Callable[[int, int], None]
#: Rows written between two calls of the progress callback.
CHUNK_ROWS = 50_000
#: Rows per INSERT statement: 128 rows of at most 7 parameters stay under 999, the
#: parameter limit of SQLite builds older than 3.32.
_ROWS_PER_STATEMENT = 128
#: Conflicting rows spelled out in a :class:`ConflictError` (all are counted).
_MAX_CONFLICTS = 1000
_NAT = np.iinfo(np.int64).min
# -1 indexes the trailing None: kind code -1 means "not given".
_KIND_TEXT = np.array([*KINDS, None], dtype=object)
_ROW_DTYPE = np.dtype(
    [
        ("round", "i8"),
        ("sub", "i8"),
        ("rev", "i8"),
        ("crit", "i8"),
        ("score", "i8"),
        ("at", "i8"),
        ("kind", "i8"),
    ]
)
_KIND_CODE_SQL = (
    "CASE kind " + " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(KINDS)) + " ELSE -1 END"
)


@functools.lru_cache(maxsize=64)
def _parse_stored_rubric(text: str, source: str) -> Rubric:
    # A stored rubric never changes under its (id, version) and Rubric is frozen, so
    # parsing once per text is safe; dashboards read the rubric on every refresh.
    return parse_rubric(text, source=source)


@dataclass(frozen=True)
class ImportReport:
    """What one import did: how many rows it had, how many were new to the store.

    Attributes
    ----------
    rows : int
        Rows in the imported table.
    added : int
        Rows the store did not have before.
    already_present : int
        Rows the store already held with the same key and value (``rows - added``).
    rubric_id, rubric_version : str
        The rubric the rows were scored on.
    source : str or None
        The file the rows came from, as recorded in the store's ``imports`` table.
    what : {"ratings", "key"}
        Ratings or an answer key.
    sha256 : str or None
        Hex SHA-256 of the source file, when the caller gave it.
    import_id : int
        The import's number in the store's ``imports`` table.
    """

    rows: int
    added: int
    already_present: int
    rubric_id: str
    source: str | None
    rubric_version: str = ""
    what: Literal["ratings", "key"] = "ratings"
    sha256: str | None = None
    import_id: int = 0

    def __str__(self) -> str:
        what = "ratings" if self.what == "ratings" else "key scores"
        src = f"{self.source}: " if self.source else ""
        return (
            f"{src}{self.rows} {what} for rubric {self.rubric_id} v{self.rubric_version}: "
            f"{self.added} new, {self.already_present} already in the store"
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, for :meth:`Store.import_ratings`'s ``sha256``.

    >>> import hashlib, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "x.csv"
    ...     _ = p.write_bytes(b"abc")
    ...     file_sha256(p) == hashlib.sha256(b"abc").hexdigest()
    True
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Store:
    """An embedded SQLite store of rubrics, ratings, answer keys and rounds.

    One file holds everything (``calibrate.db`` in the working folder unless told
    otherwise). Open it with :meth:`open` as a context manager so the file is closed
    when you are done. Several processes may read and write one store at once (a
    score-entry screen while a bulk import runs): writes wait for each other.

    Every import is a single transaction: a table with any row the store refuses, or a
    process killed half-way, leaves the store exactly as it was. Importing the same
    rows again adds nothing; a row stored with the same key but a different score is a
    :class:`~calibrate.store.ConflictError`.

    Parameters
    ----------
    path : str or Path
        The store file. Created (with its folder's permissions) if missing.
    create : bool
        When false, a missing file is a ``FileNotFoundError`` instead of a new store.
    timeout : float
        Seconds SQLite waits for another process's write lock before each retry.

    Raises
    ------
    NotAStoreError
        The file is not SQLite, or is another program's SQLite database.
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
        self, path: str | Path = DEFAULT_PATH, *, create: bool = True, timeout: float = 10.0
    ) -> None:
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout < 0:
            raise ValueError(f"timeout must be a number of seconds >= 0; got {timeout!r}")
        self._path = Path(path)
        self._timeout = float(timeout)
        self._conn: sqlite3.Connection | None = None
        conn, version = open_connection(
            self._path, create=create, timeout=self._timeout, calibrate_version=__version__
        )
        self._conn = conn
        self._version = version
        for ddl in (
            "CREATE TEMP TABLE IF NOT EXISTS _names (pos INTEGER PRIMARY KEY, name TEXT NOT NULL)",
            "CREATE TEMP TABLE IF NOT EXISTS _pks (pk INTEGER PRIMARY KEY)",
            "CREATE TEMP TABLE IF NOT EXISTS _incoming (pos INTEGER PRIMARY KEY, round_pk INTEGER, "
            "submission_pk INTEGER, reviewer_pk INTEGER, criterion_pk INTEGER, score INTEGER)",
        ):
            conn.execute(ddl)

    @classmethod
    def open(
        cls, path: str | Path = DEFAULT_PATH, *, create: bool = True, timeout: float = 10.0
    ) -> Store:
        """Open (or create) the store at ``path``; use it as a context manager.

        See :class:`Store` for the parameters and errors.
        """
        return cls(path, create=create, timeout=timeout)

    # ---- life cycle --------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The store file."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The store's schema version (this calibrate writes ``calibrate.store.SCHEMA_VERSION``)."""
        return self._version

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

    # ---- rubrics -----------------------------------------------------------------
    def add_rubric(self, rubric: Rubric) -> bool:
        """Store a rubric; return True if it was new, False if already stored.

        Adding the same id, version and content again does nothing. Different content
        under a stored id and version is a :class:`ConflictError`: give the changed
        rubric a new ``version``.
        """
        if not isinstance(rubric, Rubric):
            raise TypeError(
                f"rubric must be a calibrate.rubric.Rubric; got {type(rubric).__name__}"
            )
        return self._write(lambda: self._ensure_rubric(rubric)[2], f"add rubric {rubric.id!r}")

    def rubric(self, rubric_id: str, version: str | None = None) -> Rubric:
        """The stored rubric ``rubric_id`` (the most recently added version if not given)."""

        def read() -> Rubric:
            pk = self._rubric_pk(rubric_id, version)
            return self._rubric_at(pk)

        return self._read(read)

    def rubrics(self) -> pd.DataFrame:
        """Every stored rubric version: rubric_id, version, title, criteria, added_at."""
        rows = self._read(
            lambda: self._c.execute(
                "SELECT r.rubric_id, r.version, r.title, "
                "(SELECT count(*) FROM criteria c WHERE c.rubric_pk = r.rubric_pk), r.added_at "
                "FROM rubrics r ORDER BY r.rubric_id, r.rubric_pk"
            ).fetchall()
        )
        return pd.DataFrame(rows, columns=["rubric_id", "version", "title", "criteria", "added_at"])

    # ---- imports -----------------------------------------------------------------
    def import_ratings(
        self,
        table: RatingsTable,
        *,
        source: str | None = None,
        sha256: str | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Add a ratings table to the store in one transaction.

        Rows already stored with the same (rubric, round, submission, reviewer,
        criterion) and score are counted as already present and left alone (their time
        and kind stay as first stored). The table's rubric is added if new.

        Parameters
        ----------
        table : RatingsTable
            Validated ratings (see :func:`calibrate.io.read_ratings`).
        source : str, optional
            The file the ratings came from, recorded with the import
            (default: ``table.source``).
        sha256 : str, optional
            Hex SHA-256 of that file (:func:`file_sha256`), recorded with the import.
        progress : callable, optional
            ``progress(rows_done, rows_total)``, called after each chunk of rows is
            written (e.g. to drive a progress bar). If it raises, nothing is written.

        Returns
        -------
        ImportReport

        Raises
        ------
        RatingsError
            A row the store cannot hold (empty id, criterion or score not in the rubric,
            the same key twice); nothing is written.
        ConflictError
            Rows stored earlier with the same key and a different score, or new scores
            for a closed round, each named; nothing is written.
        StoreBusyError
            Another process kept the store locked for too long; nothing is written.
        """
        _check_progress(progress)
        prepared = prepare_ratings(table)
        source = table.source if source is None else str(source)
        return self._write(
            lambda: self._import_ratings(prepared, source, _check_sha(sha256), progress),
            f"import {source or 'ratings'}",
        )

    def import_key(
        self,
        key: AnswerKey,
        *,
        source: str | None = None,
        sha256: str | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Add an answer key to the store in one transaction.

        A key score already stored with the same value is already present (its
        rationale stays as first stored); a different value is a :class:`ConflictError`.
        Parameters and errors are those of :meth:`import_ratings`.
        """
        _check_progress(progress)
        prepared = prepare_key(key)
        source = key.source if source is None else str(source)
        return self._write(
            lambda: self._import_key(prepared, source, _check_sha(sha256), progress),
            f"import {source or 'answer key'}",
        )

    def add_rating(
        self,
        rubric_id: str,
        submission_id: str,
        reviewer_id: str,
        criterion_id: str,
        score: int,
        *,
        round_id: str | None = None,
        kind: Literal["anchor", "live", "seeded"] | None = None,
        rated_at: Any = None,
        version: str | None = None,
    ) -> None:
        """Store one score in its own short transaction (live score entry).

        Parameters
        ----------
        rubric_id, submission_id, reviewer_id, criterion_id : str
            What was scored, by whom, on which criterion of which stored rubric.
        score : int
            A level score of the criterion.
        round_id : str, optional
            The calibration round (created, open, if new). None: no round.
        kind : {"anchor", "live", "seeded"}, optional
        rated_at : datetime, Timestamp or ISO 8601 text, optional
            When it was scored; default now. Times without a zone are taken as UTC.
        version : str, optional
            The rubric version (default: the most recently added).

        Raises
        ------
        ValueError
            An unknown rubric, criterion or kind, or a score that is not a level.
        ConflictError
            The reviewer already has a score for this submission, criterion and round
            (a score is entered once), or the round is closed.
        """
        self._write(
            lambda: self._insert_live_score(
                rubric_id,
                submission_id,
                reviewer_id,
                criterion_id,
                score,
                round_id,
                kind,
                rated_at,
                version,
            ),
            f"add a score for {submission_id!r}",
        )

    def enter_scores(
        self,
        rubric_id: str,
        submission_id: str,
        reviewer_id: str,
        scores: Mapping[str, int],
        *,
        round_id: str | None = None,
        kind: Literal["anchor", "live", "seeded"] | None = None,
        rationale: str = "",
        rated_at: Any = None,
        version: str | None = None,
    ) -> None:
        """Store a reviewer's scores of one submission (and the form's rationale) in one
        transaction: all of them or, if any is refused, none.

        ``scores`` maps criterion ids to level scores. Errors are those of
        :meth:`add_rating`; a rationale already stored for this reviewer, submission and
        round is kept and a second one refused with the scores.
        """
        if not scores:
            raise ValueError("scores must map at least one criterion id to a level score; got none")
        at = _timestamp_ns(rated_at)

        def write() -> None:
            keys = [
                self._insert_live_score(
                    rubric_id, submission_id, reviewer_id, cid, sc, round_id, kind, at, version
                )
                for cid, sc in scores.items()
            ]
            if rationale.strip():
                rubric_pk, round_pk, sub_pk, rev_pk = keys[0]
                self._c.execute(
                    "INSERT INTO rationales (rubric_pk, round_pk, submission_pk, reviewer_pk, rationale, entered_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (rubric_pk, round_pk, sub_pk, rev_pk, rationale.strip(), at),
                )

        self._write(write, f"enter scores for {submission_id!r}")

    def rationales(
        self, rubric_id: str, *, round_id: str | None = None, version: str | None = None
    ) -> pd.DataFrame:
        """Rationales entered with score-entry forms: round_id, submission_id, reviewer_id,
        rationale, entered_at."""

        def read() -> pd.DataFrame:
            rubric_pk = self._rubric_pk(rubric_id, version)
            rows = self._c.execute(
                "SELECT ro.round_id, s.submission_id, r.reviewer_id, x.rationale, x.entered_at FROM rationales x "
                "JOIN rounds ro USING (round_pk) JOIN submissions s USING (submission_pk) JOIN reviewers r USING (reviewer_pk) "
                "WHERE x.rubric_pk = ?"
                + (" AND ro.round_id = ?" if round_id is not None else "")
                + " ORDER BY x.entered_at",
                (rubric_pk, round_id) if round_id is not None else (rubric_pk,),
            ).fetchall()
            frame = pd.DataFrame(
                rows,
                columns=["round_id", "submission_id", "reviewer_id", "rationale", "entered_at"],
            )
            frame["entered_at"] = pd.to_datetime(frame["entered_at"], unit="ns", utc=True)
            return frame

        return self._read(read)

    def assign_round(
        self,
        rubric_id: str,
        round_id: str,
        *,
        anchors: Sequence[str],
        reviewers: Sequence[str],
        version: str | None = None,
    ) -> None:
        """Create the round if needed and assign its anchors and reviewers (added to any
        already assigned; assigning twice changes nothing)."""
        rnd = _text_id(round_id, "round_id")
        subs = np.array([_text_id(a, "anchors") for a in anchors], dtype=object)
        revs = np.array([_text_id(r, "reviewers") for r in reviewers], dtype=object)
        if not len(subs) or not len(revs):
            raise ValueError(
                "a round needs at least one anchor and one reviewer; got "
                f"{len(subs)} anchors and {len(revs)} reviewers"
            )

        def write() -> None:
            rubric_pk = self._rubric_pk(rubric_id, version)
            pks, _status, _closed = self._intern_rounds(rubric_pk, np.array([rnd], dtype=object))
            round_pk = int(pks[0])
            sub_pks = self._intern("submissions", "submission_pk", "submission_id", subs)
            rev_pks = self._intern("reviewers", "reviewer_pk", "reviewer_id", revs)
            self._c.executemany(
                "INSERT OR IGNORE INTO round_anchors VALUES (?, ?)",
                [(round_pk, int(x)) for x in sub_pks],
            )
            self._c.executemany(
                "INSERT OR IGNORE INTO round_reviewers VALUES (?, ?)",
                [(round_pk, int(x)) for x in rev_pks],
            )

        self._write(write, f"assign round {rnd!r}")

    def round_assignment(
        self, rubric_id: str, round_id: str, *, version: str | None = None
    ) -> dict[str, list[str]]:
        """The anchors and reviewers assigned to a round (sorted); empty lists if none."""

        def read() -> dict[str, list[str]]:
            rubric_pk = self._rubric_pk(rubric_id, version)
            row = self._c.execute(
                "SELECT round_pk FROM rounds WHERE rubric_pk = ? AND round_id = ?",
                (rubric_pk, round_id),
            ).fetchone()
            if row is None:
                raise ValueError(
                    f"round_id must be a round of rubric {rubric_id!r} in the store; got {round_id!r}"
                )
            anchors = [
                r[0]
                for r in self._c.execute(
                    "SELECT s.submission_id FROM round_anchors JOIN submissions s USING (submission_pk) WHERE round_pk = ? ORDER BY 1",
                    (row[0],),
                )
            ]
            reviewers = [
                r[0]
                for r in self._c.execute(
                    "SELECT r.reviewer_id FROM round_reviewers JOIN reviewers r USING (reviewer_pk) WHERE round_pk = ? ORDER BY 1",
                    (row[0],),
                )
            ]
            return {"anchors": anchors, "reviewers": reviewers}

        return self._read(read)

    def _insert_live_score(
        self,
        rubric_id: str,
        submission_id: str,
        reviewer_id: str,
        criterion_id: str,
        score: int,
        round_id: str | None,
        kind: str | None,
        rated_at: Any,
        version: str | None,
    ) -> tuple[int, int, int, int]:
        """Insert one live score inside the caller's write transaction; returns the keys
        (rubric, round, submission, reviewer)."""
        sub = _text_id(submission_id, "submission_id")
        rev = _text_id(reviewer_id, "reviewer_id")
        rnd = None if round_id is None else _text_id(round_id, "round_id")
        if kind is not None and kind not in KINDS:
            raise ValueError(
                f"kind must be one of {', '.join(map(repr, KINDS))} or None; got {kind!r}"
            )
        if isinstance(score, bool) or not isinstance(score, int | np.integer):
            raise TypeError(f"score must be an int (a level score); got {score!r}")
        at = (
            rated_at
            if isinstance(rated_at, int) and not isinstance(rated_at, bool)
            else _timestamp_ns(rated_at)
        )

        c = self._c
        rubric_pk = self._rubric_pk(rubric_id, version)
        rubric = self._rubric_at(rubric_pk)
        if criterion_id not in rubric.criterion_ids:
            raise ValueError(
                f"criterion_id must be one of {list(rubric.criterion_ids)} (rubric {rubric.id!r}); got {criterion_id!r}"
            )
        crit = rubric.criterion(criterion_id)
        if int(score) not in crit.scores:
            raise ValueError(
                f"score must be a level of criterion {crit.id!r}: one of {list(crit.scores)}; got {score!r}"
            )
        crit_pk = c.execute(
            "SELECT criterion_pk FROM criteria WHERE rubric_pk = ? AND criterion_id = ?",
            (rubric_pk, criterion_id),
        ).fetchone()[0]
        sub_pk = int(
            self._intern(
                "submissions", "submission_pk", "submission_id", np.array([sub], dtype=object)
            )[0]
        )
        rev_pk = int(
            self._intern("reviewers", "reviewer_pk", "reviewer_id", np.array([rev], dtype=object))[
                0
            ]
        )
        round_pk = NO_ROUND_PK
        if rnd is not None:
            pks, status, closed_at = self._intern_rounds(rubric_pk, np.array([rnd], dtype=object))
            if status[0] == "closed":
                raise ConflictError(
                    [
                        Problem(
                            f"round {rnd!r} of rubric {rubric.id!r} was closed at {closed_at[0]}; reopen it "
                            "(store.reopen_round) to add scores"
                        )
                    ],
                    store=str(self._path),
                )
            round_pk = int(pks[0])
        old = c.execute(
            "SELECT score, rated_at, import_pk FROM ratings WHERE rubric_pk = ? AND round_pk = ? "
            "AND submission_pk = ? AND reviewer_pk = ? AND criterion_pk = ?",
            (rubric_pk, round_pk, sub_pk, rev_pk, crit_pk),
        ).fetchone()
        if old is not None:
            when = "" if old[1] is None else f", scored {_iso_ns(old[1])}"
            via = "entered live" if old[2] is None else f"import #{old[2]}"
            in_round = f" in round {rnd!r}" if rnd is not None else ""
            raise ConflictError(
                [
                    Problem(
                        f"reviewer {rev!r} already has a score for submission {sub!r}, criterion {criterion_id!r}"
                        f"{in_round}: {old[0]} ({via}{when}); a score is entered once"
                    )
                ],
                store=str(self._path),
            )
        c.execute(
            "INSERT INTO ratings (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, score, rated_at, kind, import_pk) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (rubric_pk, round_pk, sub_pk, rev_pk, crit_pk, int(score), at, kind),
        )
        return rubric_pk, round_pk, sub_pk, rev_pk

    # ---- rounds ------------------------------------------------------------------
    def add_round(self, rubric_id: str, round_id: str, *, version: str | None = None) -> bool:
        """Create an open calibration round; return False if it already existed."""
        rnd = _text_id(round_id, "round_id")

        def write() -> bool:
            rubric_pk = self._rubric_pk(rubric_id, version)
            if self._c.execute(
                "SELECT 1 FROM rounds WHERE rubric_pk = ? AND round_id = ?", (rubric_pk, rnd)
            ).fetchone():
                return False
            self._intern_rounds(rubric_pk, np.array([rnd], dtype=object))
            return True

        return self._write(write, f"add round {rnd!r}")

    def close_round(self, rubric_id: str, round_id: str, *, version: str | None = None) -> None:
        """Close a round: later imports and score entry may not add scores to it."""
        self._set_round(rubric_id, round_id, version, "closed")

    def reopen_round(self, rubric_id: str, round_id: str, *, version: str | None = None) -> None:
        """Open a closed round again."""
        self._set_round(rubric_id, round_id, version, "open")

    def rounds(self, rubric_id: str | None = None) -> pd.DataFrame:
        """Calibration rounds: rubric_id, version, round_id, status, created_at, closed_at, ratings."""

        def read() -> list[tuple[Any, ...]]:
            where, args = (
                ("AND b.rubric_id = ?", (rubric_id,)) if rubric_id is not None else ("", ())
            )
            if rubric_id is not None:
                self._rubric_pk(
                    rubric_id, None
                )  # an unknown rubric is an error, not an empty table
            return self._c.execute(
                "SELECT b.rubric_id, b.version, r.round_id, r.status, r.created_at, r.closed_at, "
                "(SELECT count(*) FROM ratings x WHERE x.rubric_pk = r.rubric_pk AND x.round_pk = r.round_pk) "
                f"FROM rounds r JOIN rubrics b USING (rubric_pk) WHERE r.round_pk != {NO_ROUND_PK} {where} "
                "ORDER BY b.rubric_id, b.rubric_pk, r.created_at, r.round_id",
                args,
            ).fetchall()

        cols = ["rubric_id", "version", "round_id", "status", "created_at", "closed_at", "ratings"]
        return pd.DataFrame(self._read(read), columns=cols)

    # ---- reading -----------------------------------------------------------------
    def ratings(
        self,
        rubric_id: str,
        *,
        round_id: str | Sequence[str] | None = None,
        kind: Literal["anchor", "live", "seeded"] | Sequence[str] | None = None,
        version: str | None = None,
    ) -> RatingsTable:
        """The stored ratings of a rubric as a :class:`~calibrate.ratings.RatingsTable`.

        Parameters
        ----------
        rubric_id : str
        round_id : str or sequence of str, optional
            Only these rounds (each must exist). Default: all ratings.
        kind : str or sequence of str, optional
            Only these kinds ("anchor", "live", "seeded").
        version : str, optional
            The rubric version. Default: the version the rubric's ratings were stored
            under; an error names the versions if there are several.

        Returns
        -------
        RatingsTable
            Canonical dtypes, rows ordered by round (no round first), submission,
            reviewer and criterion (rubric order). Id categories are sorted.
        """
        rounds = _names(round_id, "round_id")
        kinds = _names(kind, "kind")
        if kinds is not None:
            unknown = [k for k in kinds if k not in KINDS]
            if unknown:
                raise ValueError(
                    f"kind must be one of {', '.join(map(repr, KINDS))}; got {unknown}"
                )
        return self._read(lambda: self._read_ratings(rubric_id, version, rounds, kinds))

    def answer_key(self, rubric_id: str, *, version: str | None = None) -> AnswerKey:
        """The stored answer key of a rubric (rows by submission, then criterion)."""
        return self._read(lambda: self._read_key(rubric_id, version))

    def imports(self) -> pd.DataFrame:
        """Every import so far: what, rubric, source, sha256, rows, added, already_present, time."""
        rows = self._read(
            lambda: self._c.execute(
                "SELECT i.import_pk, i.what, b.rubric_id, b.version, i.source, i.sha256, i.rows, i.added, "
                "i.already_present, i.imported_at, i.calibrate_version "
                "FROM imports i JOIN rubrics b USING (rubric_pk) ORDER BY i.import_pk"
            ).fetchall()
        )
        cols = [
            "import_id",
            "what",
            "rubric_id",
            "version",
            "source",
            "sha256",
            "rows",
            "added",
            "already_present",
            "imported_at",
            "calibrate_version",
        ]
        return pd.DataFrame(rows, columns=cols)

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

    # ---- internals: transactions --------------------------------------------------
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

    # ---- internals: rubrics ------------------------------------------------------
    def _ensure_rubric(self, rubric: Rubric) -> tuple[int, np.ndarray, bool]:
        """(rubric_pk, criterion_pk by rubric position, whether it was added)."""
        c = self._c
        text = rubric_to_yaml(rubric)
        row = c.execute(
            "SELECT rubric_pk, yaml FROM rubrics WHERE rubric_id = ? AND version = ?",
            (rubric.id, rubric.version),
        ).fetchone()
        added = row is None
        if added:
            pk = _new_pk(
                c.execute(
                    "INSERT INTO rubrics (rubric_id, version, title, yaml, added_at) VALUES (?, ?, ?, ?, ?)",
                    (rubric.id, rubric.version, rubric.title, text, now_iso()),
                )
            )
            c.executemany(
                "INSERT INTO criteria (rubric_pk, criterion_id, position) VALUES (?, ?, ?)",
                [(pk, cid, i) for i, cid in enumerate(rubric.criterion_ids)],
            )
        else:
            pk, stored_text = row
            if stored_text != text:
                stored = parse_rubric(
                    stored_text, source=f"{self._path} (rubric {rubric.id} v{rubric.version})"
                )
                differ = _rubric_differences(stored, rubric)
                if differ:
                    raise ConflictError(
                        [
                            Problem(
                                f"rubric {rubric.id!r} version {rubric.version!r} is already stored with different "
                                f"{', '.join(differ)}; a changed rubric needs a new version (the stored ratings were "
                                "scored on the stored one)",
                                field=differ[0],
                            )
                        ],
                        store=str(self._path),
                    )
        crit = dict(
            c.execute(
                "SELECT position, criterion_pk FROM criteria WHERE rubric_pk = ?", (pk,)
            ).fetchall()
        )
        return (
            int(pk),
            np.array([crit[i] for i in range(len(rubric.criteria))], dtype=np.int64),
            added,
        )

    def _rubric_pk(self, rubric_id: str, version: str | None, *, table: str | None = None) -> int:
        """The rubric_pk of ``rubric_id`` at ``version``.

        Without a version: with ``table``, the one version that has rows there (an error
        if several do; the newest if none); without, the most recently added version.
        """
        c = self._c
        rows = c.execute(
            "SELECT rubric_pk, version FROM rubrics WHERE rubric_id = ? ORDER BY rubric_pk",
            (rubric_id,),
        ).fetchall()
        if not rows:
            known = [
                r[0] for r in c.execute("SELECT DISTINCT rubric_id FROM rubrics ORDER BY rubric_id")
            ]
            listed = ", ".join(map(repr, known)) if known else "none yet"
            raise ValueError(
                f"rubric {rubric_id!r} is not in the store {self._path} (stored rubrics: {listed})"
            )
        if version is not None:
            for pk, v in rows:
                if v == str(version):
                    return int(pk)
            raise ValueError(
                f"rubric {rubric_id!r} has no version {version!r} in the store; stored versions: {[v for _, v in rows]}"
            )
        if table is not None and len(rows) > 1:
            used = [
                (pk, v)
                for pk, v in rows
                if c.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {table} WHERE rubric_pk = ?)", (pk,)
                ).fetchone()[0]
            ]
            if len(used) == 1:
                return int(used[0][0])
            if len(used) > 1:
                counts = [
                    f"{v} ({c.execute(f'SELECT count(*) FROM {table} WHERE rubric_pk = ?', (pk,)).fetchone()[0]} rows)"
                    for pk, v in used
                ]
                raise ValueError(
                    f"rubric {rubric_id!r} has {table.replace('_', ' ')} under several versions: {', '.join(counts)}; "
                    "name one with version=..."
                )
        return int(rows[-1][0])

    def _rubric_at(self, rubric_pk: int) -> Rubric:
        rubric_id, version, text = self._c.execute(
            "SELECT rubric_id, version, yaml FROM rubrics WHERE rubric_pk = ?", (rubric_pk,)
        ).fetchone()
        return _parse_stored_rubric(text, f"{self._path} (rubric {rubric_id} v{version})")

    # ---- internals: ids ----------------------------------------------------------
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
        return _aligned(
            len(names),
            c.execute(
                f"SELECT n.pos, t.{pk_col} FROM temp._names AS n JOIN {table} AS t ON t.{id_col} = n.name"
            ),
        )

    def _intern_rounds(
        self, rubric_pk: int, names: np.ndarray
    ) -> tuple[np.ndarray, list[str], list[str | None]]:
        """round_pk, status and closed_at of each round name, creating missing rounds (open)."""
        c = self._c
        self._stage_names(names)
        c.execute(
            "INSERT OR IGNORE INTO rounds (rubric_pk, round_id, status, created_at) "
            "SELECT ?, name, 'open', ? FROM temp._names ORDER BY pos",
            (rubric_pk, now_iso()),
        )
        rows = c.execute(
            "SELECT n.pos, r.round_pk, r.status, r.closed_at FROM temp._names AS n "
            "JOIN rounds AS r ON r.rubric_pk = ? AND r.round_id = n.name ORDER BY n.pos",
            (rubric_pk,),
        ).fetchall()
        return (
            np.array([r[1] for r in rows], dtype=np.int64),
            [r[2] for r in rows],
            [r[3] for r in rows],
        )

    def _set_round(self, rubric_id: str, round_id: str, version: str | None, status: str) -> None:
        def write() -> None:
            rubric_pk = self._rubric_pk(rubric_id, version)
            closed_at = now_iso() if status == "closed" else None
            n = self._c.execute(
                "UPDATE rounds SET status = ?, closed_at = ? WHERE rubric_pk = ? AND round_id = ?",
                (status, closed_at, rubric_pk, round_id),
            ).rowcount
            if n == 0:
                known = [
                    r[0]
                    for r in self._c.execute(
                        "SELECT round_id FROM rounds WHERE rubric_pk = ? ORDER BY round_id",
                        (rubric_pk,),
                    )
                ]
                raise ValueError(
                    f"round_id {round_id!r} is not a round of rubric {rubric_id!r}; its rounds: {known or 'none yet'}"
                )

        self._write(write, f"set round {round_id!r} {status}")

    # ---- internals: import ratings -------------------------------------------------
    def _import_ratings(
        self, p: PreparedRatings, source: str | None, sha256: str | None, progress: Progress | None
    ) -> ImportReport:
        c = self._c
        n = len(p)
        rubric_pk, crit_pks, _ = self._ensure_rubric(p.rubric)
        sub_pk = self._intern(
            "submissions", "submission_pk", "submission_id", _used(p.sub_names, p.sub_codes)
        )[_remap(p.sub_names, p.sub_codes)]
        rev_pk = self._intern(
            "reviewers", "reviewer_pk", "reviewer_id", _used(p.rev_names, p.rev_codes)
        )[_remap(p.rev_names, p.rev_codes)]
        round_names = _used(p.round_names, p.round_codes)
        round_pk_of, status, closed_at = self._intern_rounds(rubric_pk, round_names)
        # code -1 (no round) picks the trailing NO_ROUND_PK
        round_pk = np.append(round_pk_of, NO_ROUND_PK)[
            _remap(p.round_names, p.round_codes, missing=len(round_names))
        ]
        crit_pk = crit_pks[p.crit]
        import_pk = self._record_import("ratings", rubric_pk, source, sha256, n)

        before = c.total_changes
        head = "INSERT INTO ratings (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, score, rated_at, kind, import_pk) VALUES"
        row = f"({rubric_pk}, ?, ?, ?, ?, ?, ?, ?, {import_pk})"
        for lo in range(0, n, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, n)
            at = p.rated_ns[lo:hi].astype(object)
            at[p.rated_ns[lo:hi] == _NAT] = None
            _insert_rows(
                c,
                head,
                row,
                "ON CONFLICT DO NOTHING",
                [
                    round_pk[lo:hi].tolist(),
                    sub_pk[lo:hi].tolist(),
                    rev_pk[lo:hi].tolist(),
                    crit_pk[lo:hi].tolist(),
                    p.score[lo:hi].tolist(),
                    at.tolist(),
                    _KIND_TEXT[p.kind_codes[lo:hi]].tolist(),
                ],
            )
            if progress is not None:
                progress(hi, n)
        added = c.total_changes - before

        if added < n:
            self._refuse_rating_conflicts(p, rubric_pk, round_pk, sub_pk, rev_pk, crit_pk, source)
        closed = [
            (str(round_names[i]), closed_at[i]) for i, s in enumerate(status) if s == "closed"
        ]
        if closed:
            self._refuse_closed_rounds(
                rubric_pk, import_pk, p.rubric.id, closed, round_pk_of, status
            )
        self._finish_import(import_pk, added, n)
        return ImportReport(
            rows=n,
            added=added,
            already_present=n - added,
            rubric_id=p.rubric.id,
            source=source,
            rubric_version=p.rubric.version,
            what="ratings",
            sha256=sha256,
            import_id=import_pk,
        )

    def _record_import(
        self, what: str, rubric_pk: int, source: str | None, sha256: str | None, rows: int
    ) -> int:
        return _new_pk(
            self._c.execute(
                "INSERT INTO imports (what, rubric_pk, source, sha256, rows, added, already_present, imported_at, calibrate_version) "
                "VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?)",
                (what, rubric_pk, source, sha256, rows, now_iso(), __version__),
            )
        )

    def _finish_import(self, import_pk: int, added: int, rows: int) -> None:
        self._c.execute(
            "UPDATE imports SET added = ?, already_present = ? WHERE import_pk = ?",
            (added, rows - added, import_pk),
        )

    def _refuse_rating_conflicts(
        self,
        p: PreparedRatings,
        rubric_pk: int,
        round_pk: np.ndarray,
        sub_pk: np.ndarray,
        rev_pk: np.ndarray,
        crit_pk: np.ndarray,
        source: str | None,
    ) -> None:
        """Raise ConflictError naming rows whose key is stored with another score."""
        c = self._c
        c.execute("DELETE FROM temp._incoming")
        for lo in range(0, len(p), CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, len(p))
            _insert_rows(
                c,
                "INSERT INTO temp._incoming VALUES",
                "(?, ?, ?, ?, ?, ?)",
                "",
                [
                    list(range(lo, hi)),
                    round_pk[lo:hi].tolist(),
                    sub_pk[lo:hi].tolist(),
                    rev_pk[lo:hi].tolist(),
                    crit_pk[lo:hi].tolist(),
                    p.score[lo:hi].tolist(),
                ],
            )
        join = (
            "FROM temp._incoming AS i JOIN ratings AS r ON r.rubric_pk = ? AND r.round_pk = i.round_pk "
            "AND r.submission_pk = i.submission_pk AND r.reviewer_pk = i.reviewer_pk AND r.criterion_pk = i.criterion_pk "
            "LEFT JOIN imports AS m ON m.import_pk = r.import_pk WHERE r.score != i.score"
        )
        rows = c.execute(
            f"SELECT i.pos, r.score, r.import_pk, m.source {join} ORDER BY i.pos LIMIT {_MAX_CONFLICTS}",
            (rubric_pk,),
        ).fetchall()
        if not rows:
            c.execute("DELETE FROM temp._incoming")  # (on a conflict, the rollback empties it)
            return
        total = (
            len(rows)
            if len(rows) < _MAX_CONFLICTS
            else c.execute(f"SELECT count(*) {join}", (rubric_pk,)).fetchone()[0]
        )
        crit_ids = p.rubric.criterion_ids
        problems = []
        for i, stored, imp, imp_source in rows:
            rc = p.round_codes[i]
            where = (f"round {str(p.round_names[rc])!r}, " if rc >= 0 else "") + (
                f"submission {str(p.sub_names[p.sub_codes[i]])!r}, reviewer {str(p.rev_names[p.rev_codes[i]])!r}, "
                f"criterion {crit_ids[p.crit[i]]!r}"
            )
            origin = (
                "entered live"
                if imp is None
                else f"import #{imp}" + (f" of {imp_source}" if imp_source else "")
            )
            problems.append(
                Problem(
                    f"table row {int(p.pos[i])}: {where} is stored with score {stored} ({origin}); this table has {int(p.score[i])}",
                    file=source,
                    column="score",
                    value=str(int(p.score[i])),
                )
            )
        if total > len(rows):
            problems.append(
                Problem(f"... and {total - len(rows)} more conflicting rows", file=source)
            )
        raise ConflictError(problems, store=str(self._path))

    def _refuse_closed_rounds(
        self,
        rubric_pk: int,
        import_pk: int,
        rubric_id: str,
        closed: list[tuple[str, str | None]],
        round_pk_of: np.ndarray,
        status: list[str],
    ) -> None:
        problems = []
        closed_pks = [int(pk) for pk, s in zip(round_pk_of, status, strict=True) if s == "closed"]
        for (name, when), pk in zip(closed, closed_pks, strict=True):
            new = self._c.execute(
                "SELECT count(*) FROM ratings WHERE rubric_pk = ? AND round_pk = ? AND import_pk = ?",
                (rubric_pk, pk, import_pk),
            ).fetchone()[0]
            if new:
                problems.append(
                    Problem(
                        f"round {name!r} of rubric {rubric_id!r} was closed at {when}: the table has {new} new scores for it; "
                        "reopen the round (store.reopen_round) to add them"
                    )
                )
        if problems:
            raise ConflictError(problems, store=str(self._path))

    # ---- internals: import key ---------------------------------------------------
    def _import_key(
        self, p: PreparedKey, source: str | None, sha256: str | None, progress: Progress | None
    ) -> ImportReport:
        c = self._c
        n = len(p)
        rubric_pk, crit_pks, _ = self._ensure_rubric(p.rubric)
        sub_pk = self._intern(
            "submissions", "submission_pk", "submission_id", _used(p.sub_names, p.sub_codes)
        )[_remap(p.sub_names, p.sub_codes)]
        crit_pk = crit_pks[p.crit]
        import_pk = self._record_import("key", rubric_pk, source, sha256, n)
        before = c.total_changes
        head = "INSERT INTO answer_keys (rubric_pk, submission_pk, criterion_pk, key_score, rationale, import_pk) VALUES"
        row = f"({rubric_pk}, ?, ?, ?, ?, {import_pk})"
        for lo in range(0, n, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, n)
            _insert_rows(
                c,
                head,
                row,
                "ON CONFLICT DO NOTHING",
                [
                    sub_pk[lo:hi].tolist(),
                    crit_pk[lo:hi].tolist(),
                    p.score[lo:hi].tolist(),
                    p.rationale[lo:hi].tolist(),
                ],
            )
            if progress is not None:
                progress(hi, n)
        added = c.total_changes - before
        if added < n:
            stored = dict(
                ((s, k), (v, imp))
                for s, k, v, imp in c.execute(
                    "SELECT submission_pk, criterion_pk, key_score, import_pk FROM answer_keys WHERE rubric_pk = ?",
                    (rubric_pk,),
                )
            )
            problems = []
            for i in range(n):
                v, imp = stored[(int(sub_pk[i]), int(crit_pk[i]))]
                if v != p.score[i]:
                    problems.append(
                        Problem(
                            f"table row {int(p.pos[i])}: the key for submission {str(p.sub_names[p.sub_codes[i]])!r}, criterion "
                            f"{p.rubric.criterion_ids[p.crit[i]]!r} is stored with score {v} (import #{imp}); this key has {int(p.score[i])}",
                            file=source,
                            column="key_score",
                            value=str(int(p.score[i])),
                        )
                    )
            if problems:
                raise ConflictError(problems, store=str(self._path))
        self._finish_import(import_pk, added, n)
        return ImportReport(
            rows=n,
            added=added,
            already_present=n - added,
            rubric_id=p.rubric.id,
            source=source,
            rubric_version=p.rubric.version,
            what="key",
            sha256=sha256,
            import_id=import_pk,
        )

    # ---- internals: reading --------------------------------------------------------
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
        return _sorted_categorical(self._names_of(table, pk_col, id_col, uniq), inverse)

    def _read_ratings(
        self, rubric_id: str, version: str | None, rounds: list[str] | None, kinds: list[str] | None
    ) -> RatingsTable:
        c = self._c
        rubric_pk = self._rubric_pk(rubric_id, version, table="ratings")
        rubric = self._rubric_at(rubric_pk)
        round_name = dict(
            c.execute(
                "SELECT round_pk, round_id FROM rounds WHERE rubric_pk = ?", (rubric_pk,)
            ).fetchall()
        )
        where: list[str] = ["rubric_pk = ?"]
        args: list[object] = [rubric_pk]
        if rounds is not None:
            pk_of = {v: k for k, v in round_name.items()}
            unknown = [r for r in rounds if r not in pk_of]
            if unknown:
                raise ValueError(
                    f"round_id must name rounds of rubric {rubric_id!r} ({sorted(pk_of) or 'none yet'}); got {unknown}"
                )
            where.append(f"round_pk IN ({', '.join('?' * len(rounds))})")
            args += [pk_of[r] for r in rounds]
        if kinds is not None:
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            args += kinds
        cur = c.execute(
            f"SELECT round_pk, submission_pk, reviewer_pk, criterion_pk, score, ifnull(rated_at, {_NAT}), {_KIND_CODE_SQL} "
            f"FROM ratings WHERE {' AND '.join(where)}",
            args,
        )
        data = np.fromiter(cur, dtype=_ROW_DTYPE)
        position = dict(
            c.execute(
                "SELECT criterion_pk, position FROM criteria WHERE rubric_pk = ?", (rubric_pk,)
            ).fetchall()
        )
        crit_lookup = np.full(max(position, default=0) + 1, -1, dtype=np.int64)
        crit_lookup[list(position)] = list(position.values())
        crit = crit_lookup[data["crit"]]
        sub, sub_codes = self._categorical(
            "submissions", "submission_pk", "submission_id", data["sub"]
        )
        rev, rev_codes = self._categorical("reviewers", "reviewer_pk", "reviewer_id", data["rev"])
        has_round = data["round"] != NO_ROUND_PK
        uniq, inverse = np.unique(data["round"][has_round], return_inverse=True)
        rnd, rnd_in = _sorted_categorical(
            np.array([round_name[int(k)] for k in uniq], dtype=object), inverse
        )
        round_codes = np.full(len(data), -1, dtype=np.int64)
        round_codes[has_round] = rnd_in
        order = np.lexsort((crit, rev_codes, sub_codes, round_codes))
        frame = canonical_frame(
            pd.Categorical.from_codes(sub_codes[order], dtype=sub.dtype),
            pd.Categorical.from_codes(rev_codes[order], dtype=rev.dtype),
            pd.Categorical.from_codes(crit[order], categories=list(rubric.criterion_ids)),
            data["score"][order],
            rubric,
            rated_at=pd.Series(
                pd.DatetimeIndex(data["at"][order].view("datetime64[ns]"), tz="UTC")
            ),
            round_id=pd.Categorical.from_codes(round_codes[order], dtype=rnd.dtype)
            if has_round.any()
            else None,
            kind=pd.Categorical.from_codes(data["kind"][order], categories=list(KINDS)),
        )
        return RatingsTable(frame, rubric, str(self._path))

    def _read_key(self, rubric_id: str, version: str | None) -> AnswerKey:
        c = self._c
        rubric_pk = self._rubric_pk(rubric_id, version, table="answer_keys")
        rubric = self._rubric_at(rubric_pk)
        rows = c.execute(
            "SELECT k.submission_pk, c.position, k.key_score, k.rationale FROM answer_keys AS k "
            "JOIN criteria AS c USING (criterion_pk) WHERE k.rubric_pk = ?",
            (rubric_pk,),
        ).fetchall()
        sub_pk = np.array([r[0] for r in rows], dtype=np.int64)
        crit = np.array([r[1] for r in rows], dtype=np.int64)
        score = np.array([r[2] for r in rows], dtype=np.int64)
        rationale = np.array([r[3] for r in rows], dtype=object)
        sub, sub_codes = self._categorical("submissions", "submission_pk", "submission_id", sub_pk)
        order = np.lexsort((crit, sub_codes))
        frame = pd.DataFrame(
            {
                "submission_id": pd.Categorical.from_codes(sub_codes[order], dtype=sub.dtype),
                "criterion_id": pd.Categorical.from_codes(
                    crit[order], categories=list(rubric.criterion_ids)
                ),
                "key_score": score[order],
                "rationale": rationale[order],
            }
        )
        return AnswerKey(frame, rubric, str(self._path))

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


# ---- module helpers -------------------------------------------------------------------
def _check_progress(progress: object) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress must be None or a callable progress(rows_done, rows_total); got {progress!r}"
        )


def _check_sha(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    text = str(sha256).strip().lower()
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise ValueError(
            f"sha256 must be 64 hex digits (see calibrate.store.file_sha256); got {sha256!r}"
        )
    return text


def _text_id(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be non-empty text; got {value!r}")
    return value.strip()


def _names(value: str | Sequence[str] | None, name: str) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    if not values or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{name} must be text or a non-empty list of text; got {value!r}")
    return values


def _timestamp_ns(value: Any) -> int | None:
    """Nanoseconds since 1970 UTC of ``value`` (now if None); naive times are UTC."""
    if value is None:
        ts = pd.Timestamp.now(tz="UTC")
    else:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ValueError(
                f"rated_at must be a date-time or ISO 8601 text (e.g. 2026-09-14T10:32:00Z); got {value!r}"
            ) from None
        if ts is pd.NaT:
            return None
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _iso_ns(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").isoformat().replace("+00:00", "Z")


def _used(names: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The names some row uses (a table may carry unused categories)."""
    present = np.zeros(len(names), dtype=bool)
    present[codes[codes >= 0]] = True
    return names[present]


def _remap(names: np.ndarray, codes: np.ndarray, missing: int = -1) -> np.ndarray:
    """Codes into ``_used(names, codes)``; ``missing`` where code is -1."""
    present = np.zeros(len(names), dtype=bool)
    present[codes[codes >= 0]] = True
    new = np.cumsum(present) - 1
    return np.where(codes >= 0, new[np.maximum(codes, 0)] if len(names) else missing, missing)


def _insert_rows(
    c: sqlite3.Connection, head: str, row: str, tail: str, columns: list[list[Any]]
) -> None:
    """``head`` + ``row`` for each row of ``columns`` + ``tail``, in multi-row statements.

    One statement inserting :data:`_ROWS_PER_STATEMENT` rows runs the per-statement
    work (reset, step, Python call overhead) once for all of them: twice as fast as
    ``executemany`` over single-row statements on a big import.
    """
    n, width = len(columns[0]), len(columns)
    if not n:
        return
    flat = list(itertools.chain.from_iterable(zip(*columns, strict=True)))
    k = _ROWS_PER_STATEMENT
    full = n // k * k
    if full:
        step = k * width
        c.executemany(
            f"{head} {', '.join([row] * k)} {tail}",
            (flat[i : i + step] for i in range(0, full * width, step)),
        )
    if n > full:
        c.execute(f"{head} {', '.join([row] * (n - full))} {tail}", flat[full * width :])


def _new_pk(cursor: sqlite3.Cursor) -> int:
    """The integer key SQLite gave the row an INSERT just added."""
    if cursor.lastrowid is None:  # cannot happen after a successful INSERT; checked for the type
        raise RuntimeError("SQLite reported no key for an inserted row")
    return int(cursor.lastrowid)


def _aligned(n: int, rows: Iterable[tuple[int, int]]) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    pairs = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64).reshape(-1, 2)
    out[pairs[:, 0]] = pairs[:, 1]
    return out


def _sorted_categorical(names: np.ndarray, codes: np.ndarray) -> tuple[pd.Categorical, np.ndarray]:
    """``names[codes]`` as a Categorical with sorted categories, and its codes."""
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    new_codes = rank[codes] if len(names) else np.zeros(0, dtype=np.int64)
    cat = pd.Categorical.from_codes(new_codes, categories=pd.Index(names[order], dtype=object))
    return cat, new_codes


def _rubric_differences(a: Rubric, b: Rubric) -> list[str]:
    """Top-level fields in which two rubrics differ (``scale`` only feeds the levels)."""
    da, db = a.model_dump(exclude={"scale"}), b.model_dump(exclude={"scale"})
    return [k for k in da if da[k] != db.get(k)]
