"""The history of the store's ratings: every version of a score, and retracting an import.

``ratings`` holds the current value of each (rubric, round, submission, reviewer,
criterion); a value an import superseded or a retraction withdrew lives on in
``rating_history`` with when, why and by which import (schema version 3).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from calibrate._checks import check_instance
from calibrate._problems import Problem
from calibrate.store._base import name_list
from calibrate.store._connection import now_iso
from calibrate.store._errors import ConflictError
from calibrate.store._imports import ImportsMixin
from calibrate.store._rationales import restore_rationales, withdraw_rationales
from calibrate.store._schema import NO_ROUND_PK

__all__ = ["HISTORY_COLUMNS", "HistoryMixin"]

#: The columns of :meth:`HistoryMixin.rating_history`, in order.
HISTORY_COLUMNS = (
    "round_id",
    "submission_id",
    "reviewer_id",
    "criterion_id",
    "score",
    "rated_at",
    "kind",
    "import_id",
    "superseded_at",
    "superseded_by",
    "reason",
)

_KEY = ("rubric_pk", "round_pk", "submission_pk", "reviewer_pk", "criterion_pk")
_VALUE = ("score", "rated_at", "kind", "import_pk")


class HistoryMixin(ImportsMixin):
    """Every version of the stored ratings, and withdrawing a whole import."""

    def rating_history(
        self,
        rubric_id: str,
        *,
        round_id: str | None = None,
        version: str | None = None,
    ) -> pd.DataFrame:
        """Every version of a rubric's stored ratings: the current ones and those
        superseded or withdrawn.

        Parameters
        ----------
        rubric_id : str
        round_id : str, optional
            Only this round.
        version : str, optional
            The rubric version (default: the one version with ratings, current or past).

        Returns
        -------
        DataFrame
            Columns :data:`HISTORY_COLUMNS`: the key, the score with its time (UTC),
            kind and import (``import_id`` empty: entered live), and when it stopped
            being current (``superseded_at``, ISO 8601 UTC), by which import or
            retraction (``superseded_by``, an id of :meth:`imports`) and why
            (``reason``); these three are empty for current values. Rows by key, then
            oldest version first, the current one last.
        """
        rounds = name_list(round_id, "round_id")

        def read() -> pd.DataFrame:
            table = "ratings"
            if (
                version is None
                and not self._c.execute(
                    "SELECT 1 FROM ratings r JOIN rubrics b USING (rubric_pk) WHERE b.rubric_id = ? LIMIT 1",
                    (rubric_id,),
                ).fetchone()
            ):
                table = "rating_history"
            rubric_pk = self._rubric_pk(rubric_id, version, table=table)
            cols = ", ".join(f"x.{c}" for c in (*_KEY, *_VALUE))
            versions = (
                f"SELECT {cols}, NULL AS superseded_at, NULL AS superseded_by, NULL AS reason, 1 AS cur "
                "FROM ratings x WHERE x.rubric_pk = :rubric "
                f"UNION ALL SELECT {cols}, x.superseded_at, x.superseded_by, x.reason, 0 "
                "FROM rating_history x WHERE x.rubric_pk = :rubric"
            )
            where = "" if rounds is None else " WHERE ro.round_id = :round"
            rows = self._c.execute(
                "SELECT ro.round_id, s.submission_id, r.reviewer_id, c.criterion_id, v.score, v.rated_at, "
                "v.kind, v.import_pk, v.superseded_at, v.superseded_by, v.reason "
                f"FROM ({versions}) v JOIN rounds ro USING (round_pk) JOIN submissions s USING (submission_pk) "
                "JOIN reviewers r USING (reviewer_pk) JOIN criteria c USING (criterion_pk)"
                f"{where} ORDER BY ro.round_id, s.submission_id, r.reviewer_id, c.position, v.cur, "
                "v.superseded_at, v.superseded_by",
                {"rubric": rubric_pk, "round": None if rounds is None else rounds[0]},
            ).fetchall()
            frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
            frame["rated_at"] = pd.to_datetime(frame["rated_at"], unit="ns", utc=True)
            for col in ("score", "import_id", "superseded_by"):
                frame[col] = frame[col].astype("Int64")
            return frame

        if rounds is not None and len(rounds) != 1:
            raise ValueError(f"round_id must name one round; got {rounds}")
        return self._read(read)

    def retract_import(self, import_id: int, *, reason: str) -> dict[str, Any]:
        """Withdraw every rating of an import (the wrong file was imported), in one
        transaction.

        The import's ratings that are still current move to the history, superseded by
        the retraction (itself recorded as an import, ``what = "retract"``, with the
        reason). Where the withdrawn import had superseded earlier values (of its rubric
        version, or the same ratings stored under another version), those become
        current again, unless something took their place since or their own import was
        retracted; values a later import superseded stay as they are. Nothing is deleted: :meth:`rating_history` shows
        every version.

        Parameters
        ----------
        import_id : int
            A ratings import (or a score-entry "edit") of :meth:`imports` (``import_id``).
        reason : str
            Why it is withdrawn (required).

        Returns
        -------
        dict
            ``{"import_id", "retracts", "rubric_id", "version", "withdrawn", "restored",
            "reason"}``: the retraction's own import id, the import withdrawn, its
            rubric, how many of its ratings stopped being current and how many earlier
            values became current again.

        Raises
        ------
        ValueError
            No such import, or it is an answer key or a retraction, or it was retracted
            already, or no reason.
        ConflictError
            Some of its current ratings are in a closed round (reopen it first); nothing
            is written.
        """
        if isinstance(import_id, bool) or not isinstance(import_id, int):
            raise TypeError(
                f"import_id must be an int (an import_id of Store.imports()); got {import_id!r}"
            )
        check_instance("reason", reason, str, "text (str)")
        why = reason.strip()
        if not why:
            raise ValueError(
                "reason must say why the import is withdrawn (it is kept with the history); got ''"
            )
        return self._write(lambda: self._retract(import_id, why), f"retract import #{import_id}")

    # ---- internals ---------------------------------------------------------------
    def _retract(self, import_pk: int, reason: str) -> dict[str, Any]:
        c = self._c
        row = c.execute(
            "SELECT i.what, i.rubric_pk, b.rubric_id, b.version, "
            "(SELECT max(x.import_pk) FROM imports x WHERE x.retracts = i.import_pk) "
            "FROM imports i LEFT JOIN rubrics b USING (rubric_pk) WHERE i.import_pk = ?",
            (import_pk,),
        ).fetchone()
        if row is None:
            known = [
                r[0] for r in c.execute("SELECT import_pk FROM imports WHERE what = 'ratings'")
            ]
            raise ValueError(
                f"import_id must be a ratings import of the store {self._path} "
                f"(calibrate imports lists them: {known[-20:] or 'none yet'}); got {import_pk}"
            )
        what, rubric_pk, rubric_id, version, retracted_by = row
        if what not in ("ratings", "edit"):
            kind = {"key": "an answer key", "attributes": "of attributes"}.get(what, "a retraction")
            raise ValueError(
                f"import #{import_pk} is {kind}; only a ratings import can be retracted"
            )
        if retracted_by is not None:
            raise ValueError(
                f"import #{import_pk} was retracted already (by import #{retracted_by}); nothing was written"
            )
        closed = c.execute(
            "SELECT ro.round_id, ro.closed_at, count(*) FROM ratings r JOIN rounds ro USING (round_pk) "
            "WHERE r.rubric_pk = ? AND r.import_pk = ? AND ro.status = 'closed' GROUP BY ro.round_pk",
            (rubric_pk, import_pk),
        ).fetchall()
        if closed:
            raise ConflictError(
                [
                    Problem(
                        f"round {rid!r} of rubric {rubric_id!r} was closed at {when}: import #{import_pk} "
                        f"has {n} current scores in it; reopen the round (store.reopen_round) to retract them"
                    )
                    for rid, when, n in closed
                ],
                store=str(self._path),
            )
        retraction = self._record_import(
            "retract", rubric_pk, None, None, 0, reason=reason, retracts=import_pk
        )
        withdrawn = self._withdraw(rubric_pk, import_pk, retraction, reason)
        withdraw_rationales(c, import_pk, retraction, reason)
        restore_rationales(c, import_pk)
        restore = self._to_restore(import_pk, rubric_id)
        keys, values = ", ".join(_KEY), ", ".join(_VALUE)
        c.executemany(
            f"INSERT INTO ratings ({keys}, {values}) VALUES ({', '.join('?' * (len(_KEY) + len(_VALUE)))})",
            restore,
        )
        c.execute(
            "UPDATE imports SET rows = ?, added = ?, already_present = 0, superseded = ? WHERE import_pk = ?",
            (withdrawn, len(restore), withdrawn, retraction),
        )
        return {
            "import_id": retraction,
            "retracts": import_pk,
            "rubric_id": rubric_id,
            "version": version,
            "withdrawn": withdrawn,
            "restored": len(restore),
            "reason": reason,
        }

    def _withdraw(self, rubric_pk: int, import_pk: int, retraction: int, reason: str) -> int:
        """Move the import's current ratings to the history, superseded by the retraction;
        returns how many."""
        c = self._c
        keys, values = ", ".join(_KEY), ", ".join(_VALUE)
        c.execute(
            f"INSERT INTO rating_history ({keys}, {values}, superseded_at, superseded_by, reason) "
            f"SELECT {keys}, {values}, ?, ?, ? FROM ratings WHERE rubric_pk = ? AND import_pk = ?",
            (now_iso(), retraction, reason, rubric_pk, import_pk),
        )
        before = c.total_changes
        c.execute(
            "DELETE FROM ratings WHERE rubric_pk = ? AND import_pk = ?", (rubric_pk, import_pk)
        )
        withdrawn = c.total_changes - before
        return withdrawn

    def _to_restore(self, import_pk: int, rubric_id: str) -> list[tuple]:
        """The history rows to make current again when ``import_pk`` is withdrawn."""
        # The earlier values this import superseded (in its own rubric version, or the
        # same rating under another version) come back where nothing took their place
        # since: their key is free now and no version of the rubric holds the rating
        # (same round, submission, reviewer, criterion id); and their own import was
        # not withdrawn.
        free = " AND ".join(f"r.{k} = h.{k}" for k in _KEY)
        return self._c.execute(
            f"SELECT {', '.join('h.' + k for k in (*_KEY, *_VALUE))} FROM rating_history h "
            "JOIN rounds rh ON rh.round_pk = h.round_pk JOIN criteria ch ON ch.criterion_pk = h.criterion_pk "
            "WHERE h.superseded_by = :imp AND (h.import_pk IS NULL OR h.import_pk NOT IN "
            "(SELECT retracts FROM imports WHERE what = 'retract')) "
            f"AND NOT EXISTS (SELECT 1 FROM ratings r WHERE {free}) "
            "AND NOT EXISTS (SELECT 1 FROM rubrics b JOIN criteria co ON co.rubric_pk = b.rubric_pk "
            "AND co.criterion_id = ch.criterion_id JOIN ratings r ON r.rubric_pk = b.rubric_pk "
            "AND r.round_pk = CASE WHEN h.round_pk = :none THEN :none ELSE (SELECT ro.round_pk FROM rounds ro "
            "WHERE ro.rubric_pk = b.rubric_pk AND ro.round_id = rh.round_id) END "
            "AND r.submission_pk = h.submission_pk AND r.reviewer_pk = h.reviewer_pk "
            "AND r.criterion_pk = co.criterion_pk WHERE b.rubric_id = :rid AND b.rubric_pk != h.rubric_pk)",
            {"imp": import_pk, "none": NO_ROUND_PK, "rid": rubric_id},
        ).fetchall()
