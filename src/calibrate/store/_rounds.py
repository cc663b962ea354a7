"""The store's calibration rounds: open, closed, and the anchors and reviewers assigned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate.store._base import text_id
from calibrate.store._connection import now_iso
from calibrate.store._rubrics import RubricsMixin
from calibrate.store._schema import NO_ROUND_PK

__all__ = ["RoundsMixin"]


class RoundsMixin(RubricsMixin):
    """Rounds of a rubric (open or closed) and their assignments."""

    def _stored_round_pk(self, rubric_id: str, round_id: str, version: str | None) -> int:
        """The primary key of a stored round of a rubric (a ValueError naming it if none)."""
        rubric_pk = self._rubric_pk(rubric_id, version)
        row = self._c.execute(
            "SELECT round_pk FROM rounds WHERE rubric_pk = ? AND round_id = ?",
            (rubric_pk, round_id),
        ).fetchone()
        if row is None:
            raise ValueError(
                f"round_id must be a round of rubric {rubric_id!r} in the store; got {round_id!r}"
            )
        return int(row[0])

    def add_round(self, rubric_id: str, round_id: str, *, version: str | None = None) -> bool:
        """Create an open calibration round; return False if it already existed."""
        rnd = text_id(round_id, "round_id")

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
        rnd = text_id(round_id, "round_id")
        subs = np.array([text_id(a, "anchors") for a in anchors], dtype=object)
        revs = np.array([text_id(r, "reviewers") for r in reviewers], dtype=object)
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
            round_pk = self._stored_round_pk(rubric_id, round_id, version)
            anchors = [
                r[0]
                for r in self._c.execute(
                    "SELECT s.submission_id FROM round_anchors JOIN submissions s USING (submission_pk) WHERE round_pk = ? ORDER BY 1",
                    (round_pk,),
                )
            ]
            reviewers = [
                r[0]
                for r in self._c.execute(
                    "SELECT r.reviewer_id FROM round_reviewers JOIN reviewers r USING (reviewer_pk) WHERE round_pk = ? ORDER BY 1",
                    (round_pk,),
                )
            ]
            return {"anchors": anchors, "reviewers": reviewers}

        return self._read(read)

    def assign_anchors(
        self,
        rubric_id: str,
        round_id: str,
        assignment: Mapping[str, Sequence[str]],
        *,
        replace: bool = False,
        version: str | None = None,
    ) -> Literal["assigned", "unchanged", "replaced"]:
        """Store which anchors each reviewer of a round scores, in order (one transaction).

        ``assignment`` maps each reviewer id to its anchors in the order the reviewer sees
        them (an :class:`~calibrate.calibration.AnchorAssignment` is one). The round is
        created if needed; its anchors and reviewers (:meth:`round_assignment`) become
        exactly the assignment's, so the entry form and the dashboard read it as before.

        Returns ``"assigned"`` (the round had no per-reviewer assignment), ``"unchanged"``
        (the same assignment again: nothing is written) or ``"replaced"``.

        Raises
        ------
        ValueError
            An empty assignment, a reviewer with no anchors or an anchor twice, ids that
            are not text, a closed round, or a different assignment for a round that
            already has ratings without ``replace=True`` (its scores were given under the
            stored assignment; nothing is written).
        """
        rnd = text_id(round_id, "round_id")
        orders = _checked_orders(assignment)

        def write() -> Literal["assigned", "unchanged", "replaced"]:
            rubric_pk = self._rubric_pk(rubric_id, version)
            pks, status, _closed = self._intern_rounds(rubric_pk, np.array([rnd], dtype=object))
            round_pk = int(pks[0])
            stored = self._orders(round_pk)
            if stored == orders:
                return "unchanged"
            if status[0] == "closed":
                raise ValueError(
                    f"round {rnd!r} of rubric {rubric_id!r} is closed; reopen it "
                    "(Store.reopen_round) before assigning its anchors"
                )
            if stored:
                n = self._c.execute(
                    "SELECT count(*) FROM ratings WHERE rubric_pk = ? AND round_pk = ?",
                    (rubric_pk, round_pk),
                ).fetchone()[0]
                if n and not replace:
                    raise ValueError(
                        f"round {rnd!r} of rubric {rubric_id!r} already has another assignment "
                        f"and {n} ratings scored under it; give replace=True (--replace) to "
                        "replace it (the ratings stay); nothing was written"
                    )
            revs = np.array(list(orders), dtype=object)
            subs = np.array(sorted({a for v in orders.values() for a in v}), dtype=object)
            rev_pk = dict(
                zip(
                    revs,
                    self._intern("reviewers", "reviewer_pk", "reviewer_id", revs).tolist(),
                    strict=True,
                )
            )
            sub_pk = dict(
                zip(
                    subs,
                    self._intern("submissions", "submission_pk", "submission_id", subs).tolist(),
                    strict=True,
                )
            )
            for table in ("anchor_assignments", "round_anchors", "round_reviewers"):
                self._c.execute(f"DELETE FROM {table} WHERE round_pk = ?", (round_pk,))
            self._c.executemany(
                "INSERT INTO anchor_assignments VALUES (?, ?, ?, ?)",
                [
                    (round_pk, rev_pk[r], i, sub_pk[a])
                    for r, given in orders.items()
                    for i, a in enumerate(given)
                ],
            )
            self._c.executemany(
                "INSERT INTO round_anchors VALUES (?, ?)", [(round_pk, v) for v in sub_pk.values()]
            )
            self._c.executemany(
                "INSERT INTO round_reviewers VALUES (?, ?)",
                [(round_pk, v) for v in rev_pk.values()],
            )
            return "replaced" if stored else "assigned"

        return self._write(write, f"assign the anchors of round {rnd!r}")

    def anchor_assignment(
        self, rubric_id: str, round_id: str, *, version: str | None = None
    ) -> dict[str, list[str]]:
        """Each reviewer's anchors in a round, in order (reviewers sorted); empty if the
        round has no per-reviewer assignment (:meth:`assign_anchors`)."""

        def read() -> dict[str, list[str]]:
            round_pk = self._stored_round_pk(rubric_id, round_id, version)
            return {r: list(v) for r, v in self._orders(round_pk).items()}

        return self._read(read)

    # ---- internals ---------------------------------------------------------------
    def _orders(self, round_pk: int) -> dict[str, tuple[str, ...]]:
        orders: dict[str, list[str]] = {}
        for rev, sub in self._c.execute(
            "SELECT r.reviewer_id, s.submission_id FROM anchor_assignments x "
            "JOIN reviewers r USING (reviewer_pk) JOIN submissions s USING (submission_pk) "
            "WHERE x.round_pk = ? ORDER BY r.reviewer_id, x.position",
            (round_pk,),
        ):
            orders.setdefault(rev, []).append(sub)
        return {r: tuple(v) for r, v in orders.items()}

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


def _checked_orders(assignment: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The assignment as ``{reviewer: anchors in order}`` sorted by reviewer, every problem
    named at once."""
    if not isinstance(assignment, Mapping):
        raise TypeError(
            "assignment must map each reviewer id to its anchors in order; "
            f"got {type(assignment).__name__}"
        )
    if not assignment:
        raise ValueError("assignment must give at least one reviewer anchors; got none")
    problems, orders = [], {}
    for reviewer, given in assignment.items():
        rev = text_id(reviewer, "assignment reviewer ids")
        if isinstance(given, str) or not isinstance(given, Sequence):
            problems.append(f"reviewer {rev!r}: anchors must be a sequence of ids, got {given!r}")
            continue
        subs = tuple(text_id(a, "anchors") for a in given)
        if not subs:
            problems.append(f"reviewer {rev!r} has no anchors")
        twice = sorted({a for a in subs if subs.count(a) > 1})
        if twice:
            problems.append(f"reviewer {rev!r} is given {twice} more than once")
        orders[rev] = subs
    if problems:
        raise ValueError("assignment refused: " + "; ".join(problems))
    return dict(sorted(orders.items()))
