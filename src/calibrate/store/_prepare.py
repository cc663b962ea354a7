"""Turning a ratings table or answer key into sorted integer arrays, before any locking.

Everything here is plain numpy on the table in memory, so it runs before the store's
write lock is taken: the lock is held only for the SQL. The store re-checks what it
relies on (ids present, criteria and scores of the rubric, one row per key) even though
:mod:`calibrate.io` validated the table, because a table can also be built by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate._problems import Problem, RatingsError
from calibrate.ratings import KINDS, RATING_COLUMNS, AnswerKey, RatingsTable
from calibrate.rubric import Rubric

__all__ = ["PreparedKey", "PreparedRatings", "prepare_key", "prepare_ratings"]

#: At most this many problems of one sort are spelled out (the count is always given).
_MAX_PROBLEMS = 1000
_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class PreparedRatings:
    """A ratings table as arrays in key order (round, submission, reviewer, criterion).

    ``*_codes`` index into the matching ``*_names`` (``-1`` in ``round_codes``: no
    round; in ``kind_codes``: no kind). ``crit`` is the criterion's position in the
    rubric. ``pos`` is each row's position in the original frame.
    """

    rubric: Rubric
    pos: np.ndarray
    round_codes: np.ndarray
    sub_codes: np.ndarray
    rev_codes: np.ndarray
    crit: np.ndarray
    score: np.ndarray
    rated_ns: np.ndarray
    kind_codes: np.ndarray
    round_names: np.ndarray
    sub_names: np.ndarray
    rev_names: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)


@dataclass(frozen=True)
class PreparedKey:
    """An answer key as arrays in key order (submission, criterion)."""

    rubric: Rubric
    pos: np.ndarray
    sub_codes: np.ndarray
    crit: np.ndarray
    score: np.ndarray
    rationale: np.ndarray
    sub_names: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)


def prepare_ratings(table: RatingsTable) -> PreparedRatings:
    """Check a ratings table and return its rows as integer arrays in key order.

    Raises
    ------
    TypeError
        When ``table`` is not a :class:`~calibrate.ratings.RatingsTable`.
    RatingsError
        Listing every row the store cannot hold (empty ids, criteria or scores not in
        the rubric, two rows with the same key).
    """
    if not isinstance(table, RatingsTable):
        raise TypeError(
            f"table must be a calibrate.ratings.RatingsTable; got {type(table).__name__}"
        )
    frame, rubric, source = table.frame, table.rubric, table.source
    missing = [c for c in RATING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the ratings frame lacks columns {missing}; a RatingsTable has {list(RATING_COLUMNS)}"
        )
    problems: list[Problem] = []
    sub_codes, sub_names = _codes(frame["submission_id"])
    rev_codes, rev_names = _codes(frame["reviewer_id"])
    round_codes, round_names = _codes(frame["round_id"])
    problems += _empty_ids(sub_codes, sub_names, "submission_id", source)
    problems += _empty_ids(rev_codes, rev_names, "reviewer_id", source)
    # An empty round id means "no round" (as in the files), not a round named "".
    if len(round_names):
        round_codes = np.where((round_names == "")[np.maximum(round_codes, 0)], -1, round_codes)
    crit, p = _criteria(frame["criterion_id"], rubric, source)
    problems += p
    score = frame["score"].to_numpy()
    if not np.issubdtype(score.dtype, np.integer):
        raise ValueError(f"the score column must hold integers (int64); got dtype {score.dtype}")
    score = score.astype(np.int64, copy=False)
    problems += _bad_scores(crit, score, rubric, source, "score")
    kind_codes, p = _kinds(frame["kind"], source)
    problems += p
    rated_ns = _nanoseconds(frame["rated_at"])
    if problems:
        raise RatingsError(problems)

    order, keys = _key_order((round_codes, sub_codes, rev_codes, crit))
    problems = _duplicates(
        order, keys, source, "rating (same submission, reviewer, criterion and round)"
    )
    if problems:
        raise RatingsError(problems)
    return PreparedRatings(
        rubric=rubric,
        pos=order,
        round_codes=keys[0],
        sub_codes=keys[1],
        rev_codes=keys[2],
        crit=keys[3],
        score=score[order],
        rated_ns=rated_ns[order],
        kind_codes=kind_codes[order],
        round_names=round_names,
        sub_names=sub_names,
        rev_names=rev_names,
    )


def prepare_key(key: AnswerKey) -> PreparedKey:
    """Check an answer key and return its rows as arrays in key order.

    Raises
    ------
    TypeError
        When ``key`` is not a :class:`~calibrate.ratings.AnswerKey`.
    RatingsError
        Listing every row the store cannot hold.
    """
    if not isinstance(key, AnswerKey):
        raise TypeError(f"key must be a calibrate.ratings.AnswerKey; got {type(key).__name__}")
    frame, rubric, source = key.frame, key.rubric, key.source
    missing = [c for c in ("submission_id", "criterion_id", "key_score") if c not in frame.columns]
    if missing:
        raise ValueError(f"the answer-key frame lacks columns {missing}")
    sub_codes, sub_names = _codes(frame["submission_id"])
    problems = _empty_ids(sub_codes, sub_names, "submission_id", source)
    crit, p = _criteria(frame["criterion_id"], rubric, source)
    problems += p
    score = frame["key_score"].to_numpy()
    if not np.issubdtype(score.dtype, np.integer):
        raise ValueError(
            f"the key_score column must hold integers (int64); got dtype {score.dtype}"
        )
    score = score.astype(np.int64, copy=False)
    problems += _bad_scores(crit, score, rubric, source, "key_score")
    if problems:
        raise RatingsError(problems)
    if "rationale" in frame.columns:
        r = frame["rationale"]
        rationale = r.astype(object).where(r.notna(), "").to_numpy(dtype=object)
    else:
        rationale = np.full(len(frame), "", dtype=object)
    order, keys = _key_order((sub_codes, crit))
    problems = _duplicates(order, keys, source, "key score (same submission and criterion)")
    if problems:
        raise RatingsError(problems)
    return PreparedKey(
        rubric=rubric,
        pos=order,
        sub_codes=keys[0],
        crit=keys[1],
        score=score[order],
        rationale=rationale[order],
        sub_names=sub_names,
    )


# ---- helpers -----------------------------------------------------------------------
def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the text each code stands for."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy(dtype=np.int64)
        names = s.cat.categories
    else:
        codes, names = pd.factorize(s, use_na_sentinel=True)
        codes = codes.astype(np.int64, copy=False)
    return codes, np.array([str(v) for v in names], dtype=object)


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _capped(idx: np.ndarray, make: Callable[[int], Problem]) -> list[Problem]:
    out = [make(int(i)) for i in idx[:_MAX_PROBLEMS]]
    if len(idx) > _MAX_PROBLEMS:
        out.append(Problem(f"... and {len(idx) - _MAX_PROBLEMS} more rows like these"))
    return out


def _empty_ids(
    codes: np.ndarray, names: np.ndarray, column: str, source: str | None
) -> list[Problem]:
    blank = codes < 0
    if len(names):
        blank |= (names == "")[np.maximum(codes, 0)] & (codes >= 0)
    what = column.replace("_", " ")
    return _capped(
        _rows(blank),
        lambda i: Problem(f"table row {i}: {what} is empty", file=source, column=column),
    )


def _criteria(s: pd.Series, rubric: Rubric, source: str | None) -> tuple[np.ndarray, list[Problem]]:
    codes, names = _codes(s)
    position = {c: i for i, c in enumerate(rubric.criterion_ids)}
    lookup = np.array([position.get(n, -1) for n in names] + [-1], dtype=np.int64)
    crit = lookup[codes]  # code -1 picks the trailing -1
    bad = _rows(crit < 0)
    listed = ", ".join(rubric.criterion_ids)
    problems = _capped(
        bad,
        lambda i: Problem(
            f"table row {i}: not a criterion of rubric {rubric.id!r} (criteria: {listed})",
            file=source,
            column="criterion_id",
            value=None if codes[i] < 0 else str(names[codes[i]]),
        ),
    )
    return crit, problems


def _bad_scores(
    crit: np.ndarray, score: np.ndarray, rubric: Rubric, source: str | None, column: str
) -> list[Problem]:
    ok = np.zeros(len(score), dtype=bool)
    for i, c in enumerate(rubric.criteria):
        rows = crit == i
        ok[rows] = np.isin(score[rows], np.asarray(c.scores, dtype=np.int64))
    bad = _rows(~ok & (crit >= 0))
    return _capped(
        bad,
        lambda i: Problem(
            f"table row {i}: {int(score[i])} is not a level of criterion {rubric.criteria[crit[i]].id!r} "
            f"(levels {list(rubric.criteria[crit[i]].scores)})",
            file=source,
            column=column,
            value=str(int(score[i])),
        ),
    )


def _kinds(s: pd.Series, source: str | None) -> tuple[np.ndarray, list[Problem]]:
    codes, names = _codes(s)
    lookup = np.array([KINDS.index(n) if n in KINDS else -2 for n in names] + [-1], dtype=np.int64)
    kind = lookup[codes]
    bad = _rows(kind == -2)
    problems = _capped(
        bad,
        lambda i: Problem(
            f"table row {i}: kind must be one of {', '.join(KINDS)} (or missing)",
            file=source,
            column="kind",
            value=str(names[codes[i]]),
        ),
    )
    return kind, problems


def _nanoseconds(s: pd.Series) -> np.ndarray:
    """Times as int64 nanoseconds since 1970 UTC; NaT as int64's minimum."""
    if not isinstance(s.dtype, pd.DatetimeTZDtype) or str(s.dtype) != "datetime64[ns, UTC]":
        s = pd.to_datetime(s, utc=True).astype("datetime64[ns, UTC]")
    return s.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)


def _key_order(columns: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Row order sorting by ``columns`` (first is most significant), and the sorted columns.

    Codes are small, so they usually pack into one int64 whose stable argsort is several
    times faster than a lexsort of the columns (and nearly free on already-sorted files).
    """
    if not len(columns[0]):
        return np.zeros(0, dtype=np.int64), columns
    sizes = [int(c.max()) + 2 for c in columns]  # +1 shifts code -1 (missing) to 0
    if np.prod(np.array(sizes, dtype=float)) < 2.0**62:
        packed = np.zeros(len(columns[0]), dtype=np.int64)
        for col, size in zip(columns, sizes, strict=True):
            packed = packed * size + (col + 1)
        order = np.argsort(packed, kind="stable")
    else:
        order = np.lexsort(columns[::-1])
    return order, tuple(c[order] for c in columns)


def _duplicates(
    order: np.ndarray, keys: tuple[np.ndarray, ...], source: str | None, what: str
) -> list[Problem]:
    if len(order) < 2:
        return []
    same = np.ones(len(order) - 1, dtype=bool)
    for k in keys:
        same &= k[1:] == k[:-1]
    idx = _rows(same)
    return _capped(
        idx,
        lambda j: Problem(
            f"table row {int(order[j + 1])}: duplicate {what}: the same as table row {int(order[j])}",
            file=source,
        ),
    )
