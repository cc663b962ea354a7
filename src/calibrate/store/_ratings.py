"""The store's ratings: live score entry, form rationales, and reading ratings back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_instance
from calibrate._problems import Problem
from calibrate.ratings import (
    KINDS,
    RatingsTable,
    VersionedRatings,
    canonical_frame,
    combine_versions,
)
from calibrate.store._base import NAT, name_list, sorted_categorical, text_id
from calibrate.store._connection import now_iso
from calibrate.store._errors import ConflictError
from calibrate.store._imports import ImportsMixin, check_supersede
from calibrate.store._schema import NO_ROUND_PK

__all__ = ["RatingsMixin"]

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


class RatingsMixin(ImportsMixin):
    """Scores entered one by one, rationales, and reading ratings back."""

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
        supersede: bool = False,
        reason: str | None = None,
    ) -> None:
        """Store a reviewer's scores of one submission (and the form's rationale) in one
        transaction: all of them or, if any is refused, none.

        ``scores`` maps criterion ids to level scores. Errors are those of
        :meth:`add_rating`; a rationale already stored for this reviewer, submission and
        round is kept and a second one refused with the scores.

        With ``supersede`` (and a ``reason``) the form edits scores already stored, the
        way ``import_ratings(..., supersede=True)`` does: a changed score becomes current
        and the old one is kept in the history (:meth:`rating_history`), superseded by an
        import of what "edit" recorded for this form (one per call that changed a score;
        ``calibrate retract`` withdraws it like an import).
        """
        why = check_supersede(supersede, reason)
        if not isinstance(scores, Mapping):
            raise TypeError(
                f"scores must map criterion ids to level scores; got {type(scores).__name__}"
            )
        if not scores:
            raise ValueError("scores must map at least one criterion id to a level score; got none")
        check_instance("rationale", rationale, str, "text (str)")
        at = _timestamp_ns(rated_at)

        def write() -> None:
            edit: list[int] = []  # the "edit" import, recorded when a score is superseded
            if why is not None:
                edit.append(
                    self._record_import(
                        "edit", self._rubric_pk(rubric_id, version), "score entry", None, 0, why
                    )
                )
            keys = [
                self._insert_live_score(
                    rubric_id,
                    submission_id,
                    reviewer_id,
                    cid,
                    sc,
                    round_id,
                    kind,
                    at,
                    version,
                    edit=edit[0] if edit else None,
                    reason=why,
                )
                for cid, sc in scores.items()
            ]
            if edit:
                changed = self._c.execute(
                    "SELECT count(*) FROM rating_history WHERE superseded_by = ?", (edit[0],)
                ).fetchone()[0]
                if changed:
                    self._finish_import(edit[0], 0, len(scores) - changed, changed)
                    self._c.execute(
                        "UPDATE imports SET rows = ? WHERE import_pk = ?", (len(scores), edit[0])
                    )
                else:  # nothing changed: no edit to record
                    self._c.execute("DELETE FROM imports WHERE import_pk = ?", (edit[0],))
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
        """The stored rationales of a rubric: those entered with score-entry forms (one
        per reviewer, submission and round: ``criterion_id`` empty) and those imported
        with the ratings (a reviewer's comment with one score: the ``rationale`` column
        of a ratings table, e.g. an export's comment columns read through a profile).

        Returns
        -------
        DataFrame
            round_id ("" for no round), submission_id, reviewer_id, criterion_id,
            rationale, entered_at (UTC: when the form was entered or the import made)
            and import_id (empty for form rationales); form rationales first, by time,
            then imported ones by key. Only current rationales (a superseded one is in
            the store's ``rationale_history`` table).
        """

        def read() -> pd.DataFrame:
            rubric_pk = self._rubric_pk(rubric_id, version)
            args = (rubric_pk, round_id) if round_id is not None else (rubric_pk,)
            in_round = " AND ro.round_id = ?" if round_id is not None else ""
            rows = self._c.execute(
                "SELECT ro.round_id, s.submission_id, r.reviewer_id, '', x.rationale, x.entered_at, NULL "
                "FROM rationales x "
                "JOIN rounds ro USING (round_pk) JOIN submissions s USING (submission_pk) JOIN reviewers r USING (reviewer_pk) "
                "WHERE x.rubric_pk = ?" + in_round + " ORDER BY x.entered_at",
                args,
            ).fetchall()
            rows += self._c.execute(
                "SELECT ro.round_id, s.submission_id, r.reviewer_id, c.criterion_id, x.rationale, "
                "i.imported_at, x.import_pk FROM rating_rationales x "
                "JOIN rounds ro USING (round_pk) JOIN submissions s USING (submission_pk) "
                "JOIN reviewers r USING (reviewer_pk) JOIN criteria c USING (criterion_pk) "
                "JOIN imports i ON i.import_pk = x.import_pk "
                "WHERE x.rubric_pk = ?" + in_round + " ORDER BY ro.round_id, s.submission_id, "
                "r.reviewer_id, c.position",
                args,
            ).fetchall()
            frame = pd.DataFrame(
                rows,
                columns=[
                    "round_id",
                    "submission_id",
                    "reviewer_id",
                    "criterion_id",
                    "rationale",
                    "entered_at",
                    "import_id",
                ],
            )
            # form rationales keep ns since the epoch, imported ones the import's ISO time
            frame["entered_at"] = pd.DatetimeIndex(
                [
                    pd.Timestamp(v, unit="ns", tz="UTC") if isinstance(v, int) else pd.Timestamp(v)
                    for v in frame["entered_at"]
                ],
                dtype="datetime64[ns, UTC]",
            )
            frame["import_id"] = frame["import_id"].astype("Int64")
            return frame

        return self._read(read)

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
        rounds = name_list(round_id, "round_id")
        kinds = name_list(kind, "kind")
        if kinds is not None:
            unknown = [k for k in kinds if k not in KINDS]
            if unknown:
                raise ValueError(
                    f"kind must be one of {', '.join(map(repr, KINDS))}; got {unknown}"
                )
        return self._read(lambda: self._read_ratings(rubric_id, version, rounds, kinds))

    def ratings_across_versions(
        self,
        rubric_id: str,
        *,
        round_id: str | Sequence[str] | None = None,
        kind: Literal["anchor", "live", "seeded"] | Sequence[str] | None = None,
    ) -> VersionedRatings:
        """The ratings of every stored version of a rubric, under the newest one.

        Each stored version's ratings (:meth:`ratings` with its ``version``) are combined
        by :func:`calibrate.ratings.combine_versions` along the ``replaces`` chain of the
        stored rubrics: criteria carried over are renamed and rescored to the newest
        version and keep their ``rubric_version`` per row; the others stay in their
        version's table (``tables``) and are listed in ``dropped``. Versions with no
        ratings (under the selection) are left out, except the newest, which is always
        there to give the criteria.
        """
        rounds = name_list(round_id, "round_id")
        kinds = name_list(kind, "kind")

        def read() -> list[RatingsTable]:
            versions = [
                str(v)
                for (v,) in self._c.execute(
                    "SELECT version FROM rubrics WHERE rubric_id = ? ORDER BY rubric_pk",
                    (rubric_id,),
                ).fetchall()
            ]
            if not versions:
                self._rubric_pk(rubric_id, None)  # the error names the stored rubrics
            replaced = set()
            for v in versions:
                rep = self._rubric_at(self._rubric_pk(rubric_id, v)).replaces
                if rep is not None:
                    replaced.add(rep.version)
            # the newest: replaced by no other (several such: combine_versions says so)
            tips = {v for v in versions if v not in replaced}
            out = []
            for v in versions:
                try:
                    t = self._read_ratings(rubric_id, v, rounds, kinds)
                except ValueError:
                    if v in tips:
                        raise
                    continue  # e.g. a round of another version only
                if len(t) or v in tips:
                    out.append(t)
            return out

        return combine_versions(self._read(read))

    # ---- internals ---------------------------------------------------------------
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
        *,
        edit: int | None = None,
        reason: str | None = None,
    ) -> tuple[int, int, int, int]:
        """Insert one live score inside the caller's write transaction; returns the keys
        (rubric, round, submission, reviewer). With ``edit`` (an "edit" import), a score
        stored with another value is superseded instead of refused."""
        sub = text_id(submission_id, "submission_id")
        rev = text_id(reviewer_id, "reviewer_id")
        rnd = None if round_id is None else text_id(round_id, "round_id")
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
        if old is not None and edit is not None:
            if int(old[0]) != int(score):
                key = (rubric_pk, round_pk, sub_pk, rev_pk, crit_pk)
                c.execute(
                    "INSERT INTO rating_history (rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, "
                    "score, rated_at, kind, import_pk, superseded_at, superseded_by, reason) "
                    "SELECT rubric_pk, round_pk, submission_pk, reviewer_pk, criterion_pk, score, rated_at, kind, "
                    "import_pk, ?, ?, ? FROM ratings WHERE rubric_pk = ? AND round_pk = ? AND submission_pk = ? "
                    "AND reviewer_pk = ? AND criterion_pk = ?",
                    (now_iso(), edit, reason, *key),
                )
                c.execute(
                    "UPDATE ratings SET score = ?, rated_at = ?, kind = ?, import_pk = ? WHERE rubric_pk = ? "
                    "AND round_pk = ? AND submission_pk = ? AND reviewer_pk = ? AND criterion_pk = ?",
                    (int(score), at, kind, edit, *key),
                )
            return rubric_pk, round_pk, sub_pk, rev_pk
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
            f"SELECT round_pk, submission_pk, reviewer_pk, criterion_pk, score, ifnull(rated_at, {NAT}), {_KIND_CODE_SQL} "
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
        rnd, rnd_in = sorted_categorical(
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
