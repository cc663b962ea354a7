"""Bulk import of a ratings table in one transaction, and the record of every import."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from calibrate._problems import Problem
from calibrate._version import __version__
from calibrate.ratings import KINDS, RatingsTable
from calibrate.store._base import (
    CHUNK_ROWS,
    NAT,
    Progress,
    check_progress,
    check_sha,
    insert_rows,
    new_pk,
)
from calibrate.store._connection import now_iso
from calibrate.store._errors import ConflictError
from calibrate.store._prepare import PreparedRatings, prepare_ratings
from calibrate.store._rationales import store_rationales
from calibrate.store._rounds import RoundsMixin
from calibrate.store._schema import NO_ROUND_PK

__all__ = [
    "ImportReport",
    "ImportsMixin",
    "check_rows",
    "SUPERSEDE_HINT",
    "check_supersede",
    "file_sha256",
    "row_of",
]

#: Conflicting rows spelled out in a :class:`ConflictError` (all are counted).
_MAX_CONFLICTS = 1000
#: How to go on after stored scores were refused as conflicts.
SUPERSEDE_HINT = (
    "to make the new values current and keep the stored ones in the store's history, "
    "import again with --supersede --reason TEXT (in Python: supersede=True, reason=...)"
)
#: The staged rows (``temp._incoming``) whose key is stored with another score; one
#: parameter, the rubric_pk.
_CONFLICT_JOIN = (
    "FROM temp._incoming AS i JOIN ratings AS r ON r.rubric_pk = ? AND r.round_pk = i.round_pk "
    "AND r.submission_pk = i.submission_pk AND r.reviewer_pk = i.reviewer_pk "
    "AND r.criterion_pk = i.criterion_pk WHERE r.score != i.score"
)
# -1 indexes the trailing None: kind code -1 means "not given".
_KIND_TEXT = np.array([*KINDS, None], dtype=object)


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
    superseded : int
        Stored values this import replaced (``supersede=True``); the old values are
        kept in the store's history (:meth:`Store.rating_history`).
    reason : str or None
        Why they were replaced, as recorded with the import.
    rationales : int
        Rationales (the table's ``rationale`` column: a reviewer's comment with a
        score) stored that the store did not have.
    rationales_superseded : int
        Stored rationales this import replaced (``supersede=True``; the old ones are
        kept in the history).
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
    superseded: int = 0
    reason: str | None = None
    rationales: int = 0
    rationales_superseded: int = 0

    def __str__(self) -> str:
        what = "ratings" if self.what == "ratings" else "key scores"
        src = f"{self.source}: " if self.source else ""
        replaced = (
            f", {self.superseded} superseded (the old values kept in the history: {self.reason})"
            if self.superseded
            else ""
        )
        notes = ""
        if self.rationales or self.rationales_superseded:
            notes = f"; {self.rationales} new rationales" + (
                f", {self.rationales_superseded} superseded" if self.rationales_superseded else ""
            )
        return (
            f"{src}{self.rows} {what} for rubric {self.rubric_id} v{self.rubric_version}: "
            f"{self.added} new, {self.already_present} already in the store{replaced}{notes}"
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


def check_rows(rows: object, n: int) -> np.ndarray | None:
    """``rows`` (the file row of each of ``n`` table rows) as an int64 array, checked."""
    if rows is None:
        return None
    what = (
        f"rows must be None or {n} file row numbers (>= 2, the header is row 1), one per table row"
    )
    try:
        out = np.asarray(rows)
    except (TypeError, ValueError):
        raise TypeError(f"{what}; got {type(rows).__name__}") from None
    if out.ndim != 1 or (out.size and out.dtype.kind not in "iu"):
        raise TypeError(f"{what}; got {type(rows).__name__} of {out.dtype}")
    if len(out) != n:
        raise ValueError(f"{what}; got {len(out)}")
    if out.size and out.min() < 1:
        raise ValueError(f"{what}; got {int(out.min())}")
    return out.astype(np.int64)


def check_supersede(supersede: object, reason: object) -> str | None:
    """The reason to record when ``supersede`` (checked), or None when not superseding."""
    if not isinstance(supersede, bool):
        raise TypeError(f"supersede must be True or False; got {type(supersede).__name__}")
    if reason is not None and not isinstance(reason, str):
        raise TypeError(f"reason must be text (str) or None; got {type(reason).__name__}")
    why = None if reason is None else reason.strip()
    if supersede and not why:
        raise ValueError(
            "supersede=True needs a reason: why the stored scores are replaced (kept in the "
            f"history with them); got {reason!r}"
        )
    if why and not supersede:
        raise ValueError(
            "reason is recorded only when superseding stored scores: pass supersede=True "
            f"with it, or no reason; got reason={reason!r} with supersede=False"
        )
    return why if supersede else None


def row_of(pos: int, file_rows: np.ndarray | None) -> tuple[int | None, str]:
    """The file row of table row ``pos`` (or None), and the prefix naming it when
    there is no file row ("table row 3: ")."""
    if file_rows is None:
        return None, f"table row {int(pos)}: "
    return int(file_rows[int(pos)]), ""


class ImportsMixin(RoundsMixin):
    """Bulk imports of ratings, and the ``imports`` record every import (ratings or key) adds to."""

    def import_ratings(
        self,
        table: RatingsTable,
        *,
        source: str | None = None,
        sha256: str | None = None,
        progress: Progress | None = None,
        rows: Sequence[int] | np.ndarray | None = None,
        supersede: bool = False,
        reason: str | None = None,
    ) -> ImportReport:
        """Add a ratings table to the store in one transaction.

        Rows already stored with the same (rubric, round, submission, reviewer,
        criterion) and score are counted as already present and left alone (their time
        and kind stay as first stored). The table's rubric is added if new. A row
        stored with another score (a correction) is refused, unless ``supersede``: then
        the new value becomes current and the old one moves to the store's history,
        with when, ``reason`` and this import's id (:meth:`Store.rating_history`).
        Importing the same corrections again supersedes nothing more.

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
        rows : sequence of int, optional
            The file row of each table row (header = row 1), named in conflict
            messages. Default: rows are named by their position in the table
            ("table row 0" is the first).
        supersede : bool
            Make the table's scores current where the store holds another score for
            the same key, keeping the old ones in the history. Needs ``reason``.
        reason : str, optional
            Why the stored scores are superseded (required with ``supersede``).

        Returns
        -------
        ImportReport

        Raises
        ------
        RatingsError
            A row the store cannot hold (empty id, criterion or score not in the rubric,
            the same key twice); nothing is written.
        ConflictError
            Rows stored earlier with the same key and a different score (unless
            ``supersede``), or new scores for a closed round, each named with the file
            row and both scores; nothing is written.
        StoreBusyError
            Another process kept the store locked for too long; nothing is written.
        """
        check_progress(progress)
        why = check_supersede(supersede, reason)
        file_rows = check_rows(rows, len(table))
        prepared = prepare_ratings(table)
        texts = None
        if "rationale" in table.frame.columns:
            text = table.frame["rationale"]
            texts = text.astype(object).where(text.notna(), "").to_numpy(dtype=object)
            texts = texts[prepared.pos]
        source = table.source if source is None else str(source)
        return self._write(
            lambda: self._import_ratings(
                prepared, source, check_sha(sha256), progress, file_rows, why, texts
            ),
            f"import {source or 'ratings'}",
        )

    def imports(self) -> pd.DataFrame:
        """Every import so far: import_id, what ("ratings", "key" or "retract"), rubric,
        source, sha256, rows, added, already_present, imported_at, calibrate_version,
        superseded, reason, retracts (the import a retraction withdrew) and
        retracted_by (the retraction that withdrew this import)."""
        rows = self._read(
            lambda: self._c.execute(
                "SELECT i.import_pk, i.what, b.rubric_id, b.version, i.source, i.sha256, i.rows, i.added, "
                "i.already_present, i.imported_at, i.calibrate_version, i.superseded, i.reason, i.retracts, "
                "(SELECT max(x.import_pk) FROM imports x WHERE x.retracts = i.import_pk) "
                "FROM imports i LEFT JOIN rubrics b USING (rubric_pk) ORDER BY i.import_pk"
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
            "superseded",
            "reason",
            "retracts",
            "retracted_by",
        ]
        frame = pd.DataFrame(rows, columns=cols)
        for col in ("retracts", "retracted_by"):
            frame[col] = frame[col].astype("Int64")
        return frame

    # ---- internals ---------------------------------------------------------------
    def _import_ratings(
        self,
        p: PreparedRatings,
        source: str | None,
        sha256: str | None,
        progress: Progress | None,
        file_rows: np.ndarray | None = None,
        reason: str | None = None,
        texts: np.ndarray | None = None,
    ) -> ImportReport:
        c = self._c
        n = len(p)
        rubric_pk, crit_pks, _ = self._ensure_rubric(p.rubric)
        # the prepared codes number the ids present, so they index the interned keys
        sub_pk = self._intern("submissions", "submission_pk", "submission_id", p.sub_names)[
            p.sub_codes
        ]
        rev_pk = self._intern("reviewers", "reviewer_pk", "reviewer_id", p.rev_names)[p.rev_codes]
        round_names = p.round_names
        round_pk_of, status, closed_at = self._intern_rounds(rubric_pk, round_names)
        # code -1 (no round) picks the trailing NO_ROUND_PK
        round_pk = np.append(round_pk_of, NO_ROUND_PK)[p.round_codes]
        crit_pk = crit_pks[p.crit]
        import_pk = self._record_import("ratings", rubric_pk, source, sha256, n, reason)

        before = c.total_changes
        head = "INSERT INTO ratings (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, score, rated_at, kind, import_pk) VALUES"
        row = f"({rubric_pk}, ?, ?, ?, ?, ?, ?, ?, {import_pk})"
        for lo in range(0, n, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, n)
            at = p.rated_ns[lo:hi].astype(object)
            at[p.rated_ns[lo:hi] == NAT] = None
            insert_rows(
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

        superseded = 0
        problems: list[Problem] = []
        if added < n:
            self._stage_incoming(p, round_pk, sub_pk, rev_pk, crit_pk)
            if reason is None:
                problems += self._rating_conflicts(p, rubric_pk, source, file_rows)
            else:
                superseded = self._supersede(
                    p, rubric_pk, round_pk, sub_pk, rev_pk, crit_pk, import_pk, reason
                )
        moved, refused = self._other_versions(
            p, rubric_pk, sub_pk, rev_pk, import_pk, reason, source
        )
        problems += refused
        new_texts = replaced_texts = 0
        if texts is not None:
            new_texts, replaced_texts, refused = store_rationales(
                c,
                texts,
                (rubric_pk, round_pk, sub_pk, rev_pk, crit_pk),
                import_pk=import_pk,
                reason=reason,
                describe=lambda i: self._describe_row(p, i, file_rows),
                source=source,
            )
            problems += refused
        c.execute("DELETE FROM temp._incoming")  # (on a conflict, the rollback empties it)
        if problems:
            raise ConflictError(problems, store=str(self._path), hint=SUPERSEDE_HINT)
        closed = [
            (str(round_names[i]), closed_at[i]) for i, s in enumerate(status) if s == "closed"
        ]
        if closed:
            self._refuse_closed_rounds(
                rubric_pk, import_pk, p.rubric.id, closed, round_pk_of, status
            )
        self._finish_import(import_pk, added, n - added - superseded, superseded + moved)
        return ImportReport(
            rows=n,
            added=added,
            already_present=n - added - superseded,
            rubric_id=p.rubric.id,
            source=source,
            rubric_version=p.rubric.version,
            what="ratings",
            sha256=sha256,
            import_id=import_pk,
            superseded=superseded + moved,
            reason=reason,
            rationales=new_texts,
            rationales_superseded=replaced_texts,
        )

    def _record_import(
        self,
        what: str,
        rubric_pk: int | None,
        source: str | None,
        sha256: str | None,
        rows: int,
        reason: str | None = None,
        retracts: int | None = None,
    ) -> int:
        return new_pk(
            self._c.execute(
                "INSERT INTO imports (what, rubric_pk, source, sha256, rows, added, already_present, imported_at, "
                "calibrate_version, reason, retracts) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?)",
                (what, rubric_pk, source, sha256, rows, now_iso(), __version__, reason, retracts),
            )
        )

    def _finish_import(
        self, import_pk: int, added: int, already_present: int, superseded: int = 0
    ) -> None:
        self._c.execute(
            "UPDATE imports SET added = ?, already_present = ?, superseded = ? WHERE import_pk = ?",
            (added, already_present, superseded, import_pk),
        )

    def _stage_incoming(
        self,
        p: PreparedRatings,
        round_pk: np.ndarray,
        sub_pk: np.ndarray,
        rev_pk: np.ndarray,
        crit_pk: np.ndarray,
    ) -> None:
        """The table's keys and scores in ``temp._incoming``, to join with the stored ones."""
        self._c.execute("DELETE FROM temp._incoming")
        pos = np.arange(len(p), dtype=np.int64)
        _stage_rows(self._c, pos, round_pk, sub_pk, rev_pk, crit_pk, p.score)

    def _supersede(
        self,
        p: PreparedRatings,
        rubric_pk: int,
        round_pk: np.ndarray,
        sub_pk: np.ndarray,
        rev_pk: np.ndarray,
        crit_pk: np.ndarray,
        import_pk: int,
        reason: str,
    ) -> int:
        """Move the stored values the staged table changes to the history and make the
        table's values current; returns how many."""
        c = self._c
        pos = [
            r[0] for r in c.execute(f"SELECT i.pos {_CONFLICT_JOIN} ORDER BY i.pos", (rubric_pk,))
        ]
        if pos:
            self._keep_superseded(rubric_pk, import_pk, reason)
            self._make_current(p, pos, rubric_pk, round_pk, sub_pk, rev_pk, crit_pk, import_pk)
        return len(pos)

    def _keep_superseded(self, rubric_pk: int, import_pk: int, reason: str) -> None:
        """Copy the stored values the staged table changes into the history."""
        self._c.execute(
            "INSERT INTO rating_history (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, score, "
            "rated_at, kind, import_pk, superseded_at, superseded_by, reason) "
            "SELECT r.rubric_pk, r.round_pk, r.submission_pk, r.reviewer_pk, r.criterion_pk, r.score, r.rated_at, "
            f"r.kind, r.import_pk, ?, ?, ? {_CONFLICT_JOIN}",
            (now_iso(), import_pk, reason, rubric_pk),
        )

    def _make_current(
        self,
        p: PreparedRatings,
        pos: list[int],
        rubric_pk: int,
        round_pk: np.ndarray,
        sub_pk: np.ndarray,
        rev_pk: np.ndarray,
        crit_pk: np.ndarray,
        import_pk: int,
    ) -> None:
        """Overwrite the stored values at table rows ``pos`` with the table's (kept first)."""
        at = np.asarray(p.rated_ns)[pos].astype(object)
        at[np.asarray(p.rated_ns)[pos] == NAT] = None
        self._c.executemany(
            "UPDATE ratings SET score = ?, rated_at = ?, kind = ?, import_pk = ? WHERE rubric_pk = ? "
            "AND round_pk = ? AND submission_pk = ? AND reviewer_pk = ? AND criterion_pk = ?",
            zip(
                p.score[pos].tolist(),
                at.tolist(),
                _KIND_TEXT[p.kind_codes[pos]].tolist(),
                [import_pk] * len(pos),
                [rubric_pk] * len(pos),
                round_pk[pos].tolist(),
                sub_pk[pos].tolist(),
                rev_pk[pos].tolist(),
                crit_pk[pos].tolist(),
                strict=True,
            ),
        )

    def _rating_conflicts(
        self,
        p: PreparedRatings,
        rubric_pk: int,
        source: str | None,
        file_rows: np.ndarray | None = None,
    ) -> list[Problem]:
        """Problems naming the staged rows whose key is stored with another score."""
        c = self._c
        join = _CONFLICT_JOIN.replace(
            " WHERE ", " LEFT JOIN imports AS m ON m.import_pk = r.import_pk WHERE "
        )
        rows = c.execute(
            f"SELECT i.pos, r.score, r.import_pk, m.source {join} ORDER BY i.pos LIMIT {_MAX_CONFLICTS}",
            (rubric_pk,),
        ).fetchall()
        if not rows:
            return []
        total = (
            len(rows)
            if len(rows) < _MAX_CONFLICTS
            else c.execute(f"SELECT count(*) {join}", (rubric_pk,)).fetchone()[0]
        )
        problems = []
        for i, stored, imp, imp_source in rows:
            origin = (
                "entered live"
                if imp is None
                else f"import #{imp}" + (f" of {imp_source}" if imp_source else "")
            )
            where, file_row = self._describe_row(p, i, file_rows)
            problems.append(
                Problem(
                    f"{where} is stored with score {stored} ({origin}); this table has {int(p.score[i])}",
                    file=source,
                    row=file_row,
                    column="score",
                    value=str(int(p.score[i])),
                )
            )
        if total > len(rows):
            problems.append(
                Problem(f"... and {total - len(rows)} more conflicting rows", file=source)
            )
        return problems

    @staticmethod
    def _describe_row(
        p: PreparedRatings, i: int, file_rows: np.ndarray | None
    ) -> tuple[str, int | None]:
        """Prepared row ``i`` named by its key (and, without file rows, its table row),
        and its file row."""
        rc = p.round_codes[i]
        where = (f"round {str(p.round_names[rc])!r}, " if rc >= 0 else "") + (
            f"submission {str(p.sub_names[p.sub_codes[i]])!r}, reviewer "
            f"{str(p.rev_names[p.rev_codes[i]])!r}, criterion {p.rubric.criterion_ids[p.crit[i]]!r}"
        )
        file_row, at = row_of(p.pos[i], file_rows)
        return at + where, file_row

    def _other_versions(
        self,
        p: PreparedRatings,
        rubric_pk: int,
        sub_pk: np.ndarray,
        rev_pk: np.ndarray,
        import_pk: int,
        reason: str | None,
        source: str | None,
    ) -> tuple[int, list[Problem]]:
        """The table's ratings already stored under another version of its rubric (the
        same round, submission, reviewer and criterion id): problems naming the count and
        the version, or with ``reason`` (superseding) those ratings moved to the history.
        Returns (how many were moved, problems)."""
        c = self._c
        others = [
            (pk, version)
            for pk, version in c.execute(
                "SELECT rubric_pk, version FROM rubrics WHERE rubric_id = ? AND rubric_pk != ? "
                "ORDER BY rubric_pk",
                (p.rubric.id, rubric_pk),
            ).fetchall()
            if c.execute(
                "SELECT EXISTS (SELECT 1 FROM ratings WHERE rubric_pk = ?)", (pk,)
            ).fetchone()[0]
        ]
        moved, problems = 0, []
        crit_ids = np.asarray(p.rubric.criterion_ids, dtype=object)
        for other_pk, version in others:
            # this table's keys in the other version's numbering (rounds and criteria by id)
            rounds = dict(
                c.execute("SELECT round_id, round_pk FROM rounds WHERE rubric_pk = ?", (other_pk,))
            )
            round_of = np.array(
                [rounds.get(str(r), -1) for r in p.round_names] + [NO_ROUND_PK], dtype=np.int64
            )[p.round_codes]
            crits = dict(
                c.execute(
                    "SELECT criterion_id, criterion_pk FROM criteria WHERE rubric_pk = ?",
                    (other_pk,),
                )
            )
            crit_of = np.array([crits.get(str(k), -1) for k in crit_ids], dtype=np.int64)[p.crit]
            keep = (round_of >= 0) & (crit_of >= 0)
            if not keep.any():
                continue
            idx = np.flatnonzero(keep)
            c.execute("DELETE FROM temp._incoming")
            _stage_rows(c, idx, round_of[idx], sub_pk[idx], rev_pk[idx], crit_of[idx], p.score[idx])
            join = _CONFLICT_JOIN.removesuffix(" WHERE r.score != i.score")
            n = c.execute(f"SELECT count(*) {join}", (other_pk,)).fetchone()[0]
            if not n:
                continue
            if reason is None:
                problems.append(
                    Problem(
                        f"{n} of these ratings are already stored under version {version!r} of rubric "
                        f"{p.rubric.id!r} (this table is version {p.rubric.version!r}); importing them "
                        "again would count them twice",
                        file=source,
                    )
                )
                continue
            closed = c.execute(
                f"SELECT DISTINCT ro.round_id {join} JOIN rounds ro ON ro.round_pk = r.round_pk "
                "WHERE ro.status = 'closed'",
                (other_pk,),
            ).fetchall()
            if closed:
                problems.append(
                    Problem(
                        f"rounds {[r[0] for r in closed]} of rubric {p.rubric.id!r} v{version} are closed; "
                        "reopen them (store.reopen_round) to supersede their ratings",
                        file=source,
                    )
                )
                continue
            c.execute(
                "INSERT INTO rating_history (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, score, "
                "rated_at, kind, import_pk, superseded_at, superseded_by, reason) "
                "SELECT r.rubric_pk, r.round_pk, r.submission_pk, r.reviewer_pk, r.criterion_pk, r.score, "
                f"r.rated_at, r.kind, r.import_pk, ?, ?, ? {join}",
                (now_iso(), import_pk, reason, other_pk),
            )
            c.execute(
                "DELETE FROM ratings WHERE rubric_pk = ? AND (round_pk, submission_pk, reviewer_pk, criterion_pk) "
                "IN (SELECT round_pk, submission_pk, reviewer_pk, criterion_pk FROM temp._incoming)",
                (other_pk,),
            )
            moved += n
        return moved, problems

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


def _stage_rows(
    c: sqlite3.Connection,
    pos: np.ndarray,
    round_pk: np.ndarray,
    sub_pk: np.ndarray,
    rev_pk: np.ndarray,
    crit_pk: np.ndarray,
    score: np.ndarray,
) -> None:
    """Rows (table position, key, score) into ``temp._incoming``, in chunks."""
    for lo in range(0, len(pos), CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, len(pos))
        insert_rows(
            c,
            "INSERT INTO temp._incoming VALUES",
            "(?, ?, ?, ?, ?, ?)",
            "",
            [
                pos[lo:hi].tolist(),
                round_pk[lo:hi].tolist(),
                sub_pk[lo:hi].tolist(),
                rev_pk[lo:hi].tolist(),
                crit_pk[lo:hi].tolist(),
                score[lo:hi].tolist(),
            ],
        )
