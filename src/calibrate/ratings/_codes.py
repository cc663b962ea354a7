"""The integer codes of a ratings table that every estimator iterates over, built once.

:attr:`RatingsTable.codes <calibrate.ratings.RatingsTable.codes>` is the one encoding of
the table: each statistic reads its arrays instead of factorising the frame itself, so all
of them number submissions, reviewers, criteria, levels and rounds the same way.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from calibrate.rubric import Rubric

__all__ = ["NO_TIME", "RatingCodes", "compact", "encode_table"]

#: The ``time`` code of a rating without ``rated_at`` (NaT as int64 nanoseconds).
NO_TIME = np.iinfo(np.int64).min


def compact(codes: np.ndarray, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Renumber non-negative integer ``codes`` 0..k-1 over the values that occur, keeping
    their order; negative codes (missing) stay -1. Returns the new codes and the old code
    of each new one. ``size`` (one more than the largest possible code) lets a bincount do
    the work without hashing."""
    codes = np.asarray(codes, dtype=np.int64)
    valid = codes >= 0
    every = bool(valid.all())  # the usual case: no mask to apply
    if size is None:
        size = int(codes.max(initial=-1)) + 1
    used = np.bincount(codes if every else codes[valid], minlength=size) > 0
    if every and used.all():  # every code occurs: already compact
        return codes.copy(), np.arange(size, dtype=np.int64)
    remap = (np.cumsum(used) - 1).astype(np.int64, copy=False)
    if every:
        return remap[codes], np.flatnonzero(used)
    out = np.full(codes.shape, -1, dtype=np.int64)
    out[valid] = remap[codes[valid]]  # (only the valid: all may be missing, with size 0)
    return out, np.flatnonzero(used)


def _rows_of(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _column_codes(col: pd.Series, rows: np.ndarray | None = None) -> tuple[np.ndarray, pd.Index]:
    """Codes over the values present (-1 for missing) and the text of each, in sorted
    order: read from a categorical column's codes, factorised otherwise. With ``rows``
    (positions), of those rows only."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        raw = _rows_of(np.asarray(col.array.codes), rows).astype(np.int64)
        cats = col.cat.categories
        codes, used = compact(raw, len(cats))
        present = cats[used]
        if cats.inferred_type == "string":  # the usual case (cached on the categories)
            labels = present if present.dtype == object else present.astype(object)
        else:
            labels = pd.Index([str(v) for v in present], dtype=object)
        if cats.is_monotonic_increasing or len(labels) < 2:
            return codes, labels
        # a hand-built categorical in another order: renumber in sorted text order
        order = np.argsort(np.asarray(labels, dtype=str), kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), labels[order]
    if rows is not None:
        col = col.take(rows)
    values = col.astype(object).where(col.notna(), None)
    text = pd.Series([None if v is None else str(v) for v in values], dtype=object)
    codes, uniques = pd.factorize(text, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques, dtype=object)


def _level_lut(rubric: Rubric) -> tuple[np.ndarray, int]:
    lo = min(c.min_score for c in rubric.criteria)
    hi = max(c.max_score for c in rubric.criteria)
    lut = np.full((len(rubric.criteria), hi - lo + 1), -1, dtype=np.int64)
    for i, c in enumerate(rubric.criteria):
        lut[i, np.asarray(c.scores) - lo] = np.arange(len(c.scores))
    return lut, lo


def level_codes(rubric: Rubric, criterion: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Level index (0 = the criterion's lowest level) of each ``score`` on criterion code
    ``criterion`` (rubric order). A score that is not a level of its criterion is a
    ValueError: validated tables never hold one, hand-built frames may."""
    criterion = np.asarray(criterion, dtype=np.int64)
    score = np.asarray(score, dtype=np.int64)
    lut, lo = _level_lut(rubric)
    pos = score - lo
    width = lut.shape[1]
    if len(score) and (
        pos.min() >= 0 and pos.max() < width and criterion.min() >= 0
    ):  # the usual case: one gather, no masks
        out = lut.ravel()[criterion * width + pos]
    else:
        inside = (pos >= 0) & (pos < width) & (criterion >= 0)
        out = np.full(score.shape, -1, dtype=np.int64)
        out[inside] = lut[criterion[inside], pos[inside]]
    if len(out) and out.min() < 0:
        raise ValueError(
            "ratings hold scores that are not levels of their criterion; validate the table first"
        )
    return out


class RatingCodes:
    """A ratings table as integer arrays, one entry per rating row.

    Submissions, reviewers and rounds are numbered 0..n-1 over those that occur in the
    table, in sorted id order (``submission_ids[submission[i]]`` is row ``i``'s id);
    criteria in the rubric's order over all its criteria; levels 0..n_levels-1 within the
    rating's criterion; kinds as positions in :data:`calibrate.ratings.KINDS`. A missing
    round or kind is -1, a missing time :data:`NO_TIME`.

    Two derived groupings are numbered in sorted order of their parts:

    - ``unit``: a submission in a round (round first, no round before every round) --
      what reviewers agree on in a reliability study; a criterion makes it a cell
      (:meth:`cell`);
    - ``review``: one reviewer's scoring of one submission in one round (the rows that
      the pass rule turns into one decision).

    Each array is built from the frame on first use and kept, so an estimator pays only
    for the codes it reads. Build one with ``RatingsTable.codes`` (or
    ``RatingsTable.criterion_codes``), not directly.
    """

    def __init__(self, frame: pd.DataFrame, rubric: Rubric, rows: np.ndarray | None = None):
        self._frame = frame
        self._rubric = rubric
        self._rows = rows
        self._derived: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _column(self, name: str) -> pd.Series:
        col = self._frame[name]
        return col if self._rows is None else col.take(self._rows)

    def _category_codes(self, name: str, categories: pd.Index | list[str]) -> np.ndarray:
        """Codes of column ``name`` over ``categories``; -1 for anything else."""
        col = self._frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype) and list(col.cat.categories) == list(
            categories
        ):  # canonical: in that order already
            return _rows_of(np.asarray(col.array.codes), self._rows).astype(np.int64)
        col = self._column(name)
        if name == "criterion_id":
            col = col.astype(str)
        return pd.Categorical(col.astype(object), categories=categories).codes.astype(np.int64)

    # ---- the codes of the frame's columns, each built on first use ----------------------
    @cached_property
    def _submissions(self) -> tuple[np.ndarray, pd.Index]:
        return _column_codes(self._frame["submission_id"], self._rows)

    @cached_property
    def _reviewers(self) -> tuple[np.ndarray, pd.Index]:
        return _column_codes(self._frame["reviewer_id"], self._rows)

    @cached_property
    def _rounds(self) -> tuple[np.ndarray, pd.Index]:
        return _column_codes(self._frame["round_id"], self._rows)

    @property
    def submission(self) -> np.ndarray:
        return self._submissions[0]

    @property
    def submission_ids(self) -> pd.Index:
        return self._submissions[1]

    @property
    def reviewer(self) -> np.ndarray:
        return self._reviewers[0]

    @property
    def reviewer_ids(self) -> pd.Index:
        return self._reviewers[1]

    @property
    def round(self) -> np.ndarray:
        return self._rounds[0]

    @property
    def round_ids(self) -> pd.Index:
        return self._rounds[1]

    @cached_property
    def criterion_ids(self) -> pd.Index:
        return pd.Index(list(self._rubric.criterion_ids), dtype=object)

    @cached_property
    def criterion(self) -> np.ndarray:
        crit = self._category_codes("criterion_id", self.criterion_ids)
        if (crit < 0).any():
            raise ValueError(
                f"ratings hold criteria that are not in rubric {self._rubric.id!r}; "
                "validate the table first"
            )
        return crit

    @cached_property
    def score(self) -> np.ndarray:
        return _rows_of(self._frame["score"].to_numpy(dtype=np.int64), self._rows)

    @cached_property
    def level(self) -> np.ndarray:
        return level_codes(self._rubric, self.criterion, self.score)

    @cached_property
    def kind(self) -> np.ndarray:
        from calibrate.ratings._table import KINDS

        return self._category_codes("kind", list(KINDS))

    @cached_property
    def time(self) -> np.ndarray:
        times = self._column("rated_at")
        if not len(times):
            return np.zeros(0, np.int64)
        time = pd.DatetimeIndex(times).as_unit("ns").asi8.copy()
        time[times.isna().to_numpy()] = NO_TIME
        return time

    def __len__(self) -> int:
        return len(self._frame) if self._rows is None else len(self._rows)

    @property
    def n_submissions(self) -> int:
        return len(self.submission_ids)

    @property
    def n_reviewers(self) -> int:
        return len(self.reviewer_ids)

    @property
    def n_criteria(self) -> int:
        return len(self.criterion_ids)

    @property
    def n_rounds(self) -> int:
        return len(self.round_ids)

    @property
    def timed(self) -> np.ndarray:
        """Whether each rating has a ``rated_at``."""
        return self.time != NO_TIME

    def _grouping(self, name: str, parts: tuple[tuple[np.ndarray, int], ...]) -> np.ndarray:
        if name not in self._derived:
            key = np.zeros(len(self), dtype=np.int64)
            size = 1
            for codes, n in parts:
                key = key * n + codes
                size *= n
            if size <= 4 * len(self) + 1024:
                codes, firsts = compact(key, size)
            else:
                firsts, codes = np.unique(key, return_inverse=True)
                codes = codes.astype(np.int64)
            self._derived[name] = (codes, firsts)
        return self._derived[name][0]

    @property
    def unit(self) -> np.ndarray:
        """Code of each rating's (round, submission): one submission in one round."""
        return self._grouping(
            "unit", ((self.round + 1, self.n_rounds + 1), (self.submission, self.n_submissions))
        )

    @property
    def n_units(self) -> int:
        return int(self.unit.max(initial=-1)) + 1

    def unit_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Round code (-1: none) and submission code of each unit."""
        self.unit  # noqa: B018 -- builds the grouping
        key = self._derived["unit"][1]
        return key // self.n_submissions - 1, key % self.n_submissions

    def cell(self) -> np.ndarray:
        """Code of each rating's (unit, criterion): one submission on one criterion in one
        round, the thing two reviewers' scores of which are compared."""
        return self._grouping(
            "cell", ((self.unit, max(self.n_units, 1)), (self.criterion, max(self.n_criteria, 1)))
        )

    @property
    def review(self) -> np.ndarray:
        """Code of each rating's (round, submission, reviewer)."""
        return self._grouping(
            "review",
            (
                (self.round + 1, self.n_rounds + 1),
                (self.submission, self.n_submissions),
                (self.reviewer, self.n_reviewers),
            ),
        )

    @property
    def n_reviews(self) -> int:
        return int(self.review.max(initial=-1)) + 1

    def review_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Round code (-1: none), submission code and reviewer code of each review."""
        self.review  # noqa: B018 -- builds the grouping
        key = self._derived["review"][1]
        rev = key % self.n_reviewers if self.n_reviewers else key
        rest = key // max(self.n_reviewers, 1)
        return rest // max(self.n_submissions, 1) - 1, rest % max(self.n_submissions, 1), rev


def encode_table(
    frame: pd.DataFrame, rubric: Rubric, rows: np.ndarray | None = None
) -> RatingCodes:
    """The :class:`RatingCodes` of a canonical ratings frame (see ``RatingsTable.codes``),
    or of its rows at positions ``rows``, numbered over what occurs in them. The arrays are
    built as they are read."""
    return RatingCodes(frame, rubric, rows)
