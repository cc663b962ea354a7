"""Per-rating rationales (the comments an export brings with its scores): stored with the
import, never overwritten, withdrawn and brought back with it (schema version 4).

A rationale is kept under the rating's own key (rubric, round, submission, reviewer,
criterion). The rules are the scores' rules: the same text again is already present; a
different text for a stored one is refused, or with ``supersede`` made current while the
stored one moves to ``rationale_history``. A blank cell says nothing, so it never
replaces a stored rationale.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import numpy as np

from calibrate._problems import Problem, shown_value
from calibrate.store._base import CHUNK_ROWS, insert_rows
from calibrate.store._connection import now_iso

__all__ = ["RATIONALE_DDL", "restore_rationales", "store_rationales", "withdraw_rationales"]

_KEY = ("rubric_pk", "round_pk", "submission_pk", "reviewer_pk", "criterion_pk")
#: The staging table of one import's rationales (created with the connection).
RATIONALE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS _incoming_rationales (pos INTEGER PRIMARY KEY, "
    "round_pk INTEGER, submission_pk INTEGER, reviewer_pk INTEGER, criterion_pk INTEGER, "
    "rationale TEXT)"
)
_JOIN = (
    "FROM temp._incoming_rationales AS i JOIN rating_rationales AS x ON x.rubric_pk = :rubric "
    "AND x.round_pk = i.round_pk AND x.submission_pk = i.submission_pk "
    "AND x.reviewer_pk = i.reviewer_pk AND x.criterion_pk = i.criterion_pk "
    "WHERE x.rationale != i.rationale"
)
_MAX_CONFLICTS = 1000


def store_rationales(
    c: sqlite3.Connection,
    texts: np.ndarray,
    keys: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    import_pk: int,
    reason: str | None,
    describe: Callable[[int], tuple[str, int | None]],
    source: str | None,
) -> tuple[int, int, list[Problem]]:
    """Store the non-blank ``texts`` (one per prepared row) under ``keys`` (rubric_pk and
    the per-row round, submission, reviewer and criterion pks), inside the caller's
    transaction. ``describe(i)`` names prepared row ``i`` in a problem (the text, and
    its file row or None). Returns (added,
    superseded, problems): a stored rationale with another text is a problem naming
    the file row unless ``reason`` (superseding) is given."""
    rubric_pk, round_pk, sub_pk, rev_pk, crit_pk = keys
    text = np.asarray(texts, dtype=object)
    has = np.flatnonzero([isinstance(t, str) and t.strip() != "" for t in text])
    c.execute("DELETE FROM temp._incoming_rationales")
    if not len(has):
        return 0, 0, []
    for lo in range(0, len(has), CHUNK_ROWS):
        idx = has[lo : lo + CHUNK_ROWS]
        insert_rows(
            c,
            "INSERT INTO temp._incoming_rationales VALUES",
            "(?, ?, ?, ?, ?, ?)",
            "",
            [
                idx.tolist(),
                round_pk[idx].tolist(),
                sub_pk[idx].tolist(),
                rev_pk[idx].tolist(),
                crit_pk[idx].tolist(),
                text[idx].tolist(),
            ],
        )
    arg = {"rubric": rubric_pk}
    changed = c.execute(
        f"SELECT i.pos, x.rationale, x.import_pk {_JOIN} ORDER BY i.pos LIMIT {_MAX_CONFLICTS + 1}",
        arg,
    ).fetchall()
    problems: list[Problem] = []
    superseded = 0
    if changed and reason is None:
        for i, stored, imp in changed[:_MAX_CONFLICTS]:
            where, file_row = describe(i)
            problems.append(
                Problem(
                    f"{where} has the rationale {shown_value(stored)!r} stored "
                    f"(import #{imp}); this table has another: {shown_value(text[i])!r}",
                    file=source,
                    row=file_row,
                    column="rationale",
                    value=shown_value(text[i]),
                )
            )
        if len(changed) > _MAX_CONFLICTS:
            total = c.execute(f"SELECT count(*) {_JOIN}", arg).fetchone()[0]
            problems.append(
                Problem(f"... and {total - _MAX_CONFLICTS} more changed rationales", file=source)
            )
        return 0, 0, problems
    if changed:
        c.execute(
            f"INSERT INTO rationale_history ({', '.join(_KEY)}, rationale, import_pk, "
            "superseded_at, superseded_by, reason) "
            f"SELECT {', '.join('x.' + k for k in _KEY)}, x.rationale, x.import_pk, :at, :by, :why {_JOIN}",
            {**arg, "at": now_iso(), "by": import_pk, "why": reason},
        )
        before = c.total_changes
        c.execute(
            "UPDATE rating_rationales AS x SET rationale = i.rationale, import_pk = :by "
            "FROM temp._incoming_rationales AS i WHERE x.rubric_pk = :rubric "
            "AND x.round_pk = i.round_pk AND x.submission_pk = i.submission_pk "
            "AND x.reviewer_pk = i.reviewer_pk AND x.criterion_pk = i.criterion_pk "
            "AND x.rationale != i.rationale",
            {**arg, "by": import_pk},
        )
        superseded = c.total_changes - before
    before = c.total_changes
    c.execute(
        f"INSERT INTO rating_rationales ({', '.join(_KEY)}, rationale, import_pk) "
        "SELECT :rubric, round_pk, submission_pk, reviewer_pk, criterion_pk, rationale, :by "
        "FROM temp._incoming_rationales WHERE true ON CONFLICT DO NOTHING",
        {**arg, "by": import_pk},
    )
    added = c.total_changes - before
    c.execute("DELETE FROM temp._incoming_rationales")
    return added, superseded, problems


def withdraw_rationales(c: sqlite3.Connection, import_pk: int, retraction: int, reason: str) -> int:
    """Move the rationales ``import_pk`` brought (still current) to the history,
    superseded by ``retraction``; returns how many."""
    keys = ", ".join(_KEY)
    c.execute(
        f"INSERT INTO rationale_history ({keys}, rationale, import_pk, superseded_at, superseded_by, reason) "
        f"SELECT {keys}, rationale, import_pk, ?, ?, ? FROM rating_rationales WHERE import_pk = ?",
        (now_iso(), retraction, reason, import_pk),
    )
    before = c.total_changes
    c.execute("DELETE FROM rating_rationales WHERE import_pk = ?", (import_pk,))
    return c.total_changes - before


def restore_rationales(c: sqlite3.Connection, import_pk: int) -> int:
    """Make current again the rationales ``import_pk`` had superseded, where nothing took
    their key since and their own import was not withdrawn; returns how many."""
    keys = ", ".join(_KEY)
    free = " AND ".join(f"x.{k} = h.{k}" for k in _KEY)
    before = c.total_changes
    c.execute(
        f"INSERT INTO rating_rationales ({keys}, rationale, import_pk) "
        f"SELECT {', '.join('h.' + k for k in _KEY)}, h.rationale, h.import_pk FROM rationale_history h "
        "WHERE h.superseded_by = ? AND h.import_pk NOT IN "
        "(SELECT retracts FROM imports WHERE what = 'retract' AND retracts IS NOT NULL) "
        f"AND NOT EXISTS (SELECT 1 FROM rating_rationales x WHERE {free})",
        (import_pk,),
    )
    return c.total_changes - before
