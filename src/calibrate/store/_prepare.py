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

from calibrate._checks import check_instance
from calibrate._problems import Problem, RatingsError
from calibrate.ratings import (
    KINDS,
    RATING_COLUMNS,
    AnswerKey,
    RatingsTable,
    compact,
)
from calibrate.rubric import Rubric

__all__ = ["PreparedKey", "PreparedRatings", "prepare_key", "prepare_ratings"]

#: At most this many problems of one sort are spelled out (the count is always given).
_MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class PreparedRatings:
    """A ratings table as arrays in key order (round, submission, reviewer, criterion).

    ``*_codes`` index into the matching ``*_names``, which hold only the ids some row uses
    (``-1`` in ``round_codes``: no round; in ``kind_codes``: no kind). ``crit`` is the
    criterion's position in the rubric. ``pos`` is each row's position in the original
    frame.
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
    """An answer key as arrays in key order (submission, criterion); ``sub_names`` holds
    the anchors present, indexed by ``sub_codes``."""

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

    The arrays are the table's own encoding, :attr:`RatingsTable.codes
    <calibrate.ratings.RatingsTable.codes>` (built here if the table has none yet, and
    kept for the statistics that read the table later).

    Raises
    ------
    TypeError
        When ``table`` is not a :class:`~calibrate.ratings.RatingsTable`.
    RatingsError
        Listing every row the store cannot hold (empty ids, criteria or scores not in
        the rubric, two rows with the same key).
    """
    check_instance("table", table, RatingsTable)
    frame, rubric, source = table.frame, table.rubric, table.source
    missing = [c for c in RATING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the ratings frame lacks columns {missing}; a RatingsTable has {list(RATING_COLUMNS)}"
        )
    score = frame["score"].to_numpy()
    if not np.issubdtype(score.dtype, np.integer):
        raise ValueError(f"the score column must hold integers (int64); got dtype {score.dtype}")
    score = score.astype(np.int64, copy=False)
    problems: list[Problem] = []
    problems += _empty_ids(frame["submission_id"], "submission_id", source)
    problems += _empty_ids(frame["reviewer_id"], "reviewer_id", source)
    crit, p = _criteria(frame["criterion_id"], rubric, source)
    problems += p
    codes = None
    if not p:  # every criterion is the rubric's: encode (the level codes check the scores)
        try:
            codes = table.codes
            codes.level  # noqa: B018 -- built on first read; a score no level of its criterion fails here
        except ValueError:
            codes = None  # named row by row below
    if codes is None:
        problems += _bad_scores(crit, score, rubric, source, "score")
    problems += _unknown_kinds(frame["kind"], source)
    if problems:
        raise RatingsError(problems)
    if codes is None:
        codes = table.codes  # (raises what the checks above did not name)
    # An empty round id means "no round" (as in the files), not a round named "".
    round_ids = codes.round_ids.to_numpy(dtype=object)
    round_codes, used = codes.round, np.arange(len(round_ids))
    if (round_ids == "").any():
        blank = np.append(round_ids == "", False)[round_codes]  # -1 (no round) picks False
        round_codes, used = compact(np.where(blank, -1, round_codes), len(round_ids))
    order, keys = _key_order((round_codes, codes.submission, codes.reviewer, codes.criterion))
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
        score=codes.score[order],
        rated_ns=codes.time[order],
        kind_codes=codes.kind[order],
        round_names=round_ids[used],
        sub_names=codes.submission_ids.to_numpy(dtype=object),
        rev_names=codes.reviewer_ids.to_numpy(dtype=object),
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
    check_instance("key", key, AnswerKey)
    frame, rubric, source = key.frame, key.rubric, key.source
    missing = [c for c in ("submission_id", "criterion_id", "key_score") if c not in frame.columns]
    if missing:
        raise ValueError(f"the answer-key frame lacks columns {missing}")
    problems = _empty_ids(frame["submission_id"], "submission_id", source)
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
    subs = frame["submission_id"]
    cat = subs.array if isinstance(subs.dtype, pd.CategoricalDtype) else pd.Categorical(subs)
    sub_codes, used = compact(cat.codes, len(cat.categories))  # over the anchors present
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
        sub_names=np.array([str(v) for v in cat.categories[used]], dtype=object),
    )


# ---- helpers -----------------------------------------------------------------------
def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _capped(idx: np.ndarray, make: Callable[[int], Problem]) -> list[Problem]:
    out = [make(int(i)) for i in idx[:_MAX_PROBLEMS]]
    if len(idx) > _MAX_PROBLEMS:
        out.append(Problem(f"... and {len(idx) - _MAX_PROBLEMS} more rows like these"))
    return out


def _empty_ids(s: pd.Series, column: str, source: str | None) -> list[Problem]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, cats = s.cat.codes.to_numpy(), s.cat.categories
        blank = codes < 0
        if "" in cats:
            blank |= codes == cats.get_loc("")
    else:
        blank = (s.isna() | (s.astype(object) == "")).to_numpy(dtype=bool)
    what = column.replace("_", " ")
    return _capped(
        _rows(blank),
        lambda i: Problem(f"table row {i}: {what} is empty", file=source, column=column),
    )


def _criteria(s: pd.Series, rubric: Rubric, source: str | None) -> tuple[np.ndarray, list[Problem]]:
    """Each row's criterion position in the rubric (-1 if it is none of the rubric's)."""
    ids = pd.Index(rubric.criterion_ids, dtype=object)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, cats = s.cat.codes.to_numpy(), s.cat.categories
        if cats.equals(ids):  # canonical: the codes are the positions
            crit = codes.astype(np.int64)
        else:  # -1 (missing) picks the trailing -1
            crit = np.append(ids.get_indexer(cats.astype(object)), -1)[codes].astype(np.int64)
    else:
        crit = ids.get_indexer(s.astype(object)).astype(np.int64)
    bad = _rows(crit < 0)
    listed = ", ".join(rubric.criterion_ids)
    problems = _capped(
        bad,
        lambda i: Problem(
            f"table row {i}: not a criterion of rubric {rubric.id!r} (criteria: {listed})",
            file=source,
            column="criterion_id",
            value=None if pd.isna(s.iloc[i]) else str(s.iloc[i]),
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


def _unknown_kinds(s: pd.Series, source: str | None) -> list[Problem]:
    if isinstance(s.dtype, pd.CategoricalDtype):  # -1 (missing) picks the trailing False
        unknown = np.append(~s.cat.categories.isin(KINDS), False)[s.cat.codes.to_numpy()]
    else:
        unknown = (s.notna() & ~s.isin(KINDS)).to_numpy(dtype=bool)
    return _capped(
        _rows(unknown),
        lambda i: Problem(
            f"table row {i}: kind must be one of {', '.join(KINDS)} (or missing)",
            file=source,
            column="kind",
            value=str(s.iloc[i]),
        ),
    )


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
