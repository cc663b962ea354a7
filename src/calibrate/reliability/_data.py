"""Ratings as integer codes: the one input shape every coefficient computes from.

A review program's real data is long and sparse: a million ratings of 100,000 submissions,
each scored by 2-3 of 400 reviewers. A dense reviewers x submissions matrix of that is
40 million mostly-empty cells; the codes are three integer arrays of a million. Every
coefficient here reads per-unit value counts (built with :func:`numpy.bincount`) and, where
rater identity matters, per-rater value counts -- never the dense matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from calibrate.ratings import RatingsTable

__all__ = ["CodedRatings", "as_coded", "compress_counts"]


@dataclass(frozen=True, eq=False)
class CodedRatings:
    """Ratings of one criterion as integer codes: one entry per rating.

    Build one with :meth:`from_codes` (the fast path for long data), :meth:`from_array`
    (a units x raters array, NaN = missing), :meth:`from_counts` (a units x categories
    count table, raters anonymous) or :meth:`from_ratings_table`. Every coefficient in
    :mod:`calibrate.reliability` accepts one as ``data``.

    Attributes
    ----------
    unit : ndarray of int64, shape (n_ratings,)
        Unit (submission) code of each rating, ``0 <= unit < n_units``.
    rater : ndarray of int64, shape (n_ratings,), or None
        Rater (reviewer) code of each rating, ``0 <= rater < n_raters``; None when the
        raters are anonymous (built from counts), which rater-specific coefficients
        (Cohen, Conger) refuse.
    value : ndarray of int64, shape (n_ratings,)
        Index of each rating's score in ``categories``.
    categories : ndarray of float64, shape (q,)
        The possible scores, increasing. Unused ones count: weights and Gwet's and
        Brennan-Prediger's chance agreement depend on the full set of levels.
    n_units, n_raters : int
    unit_labels, rater_labels : ndarray or None
        What the codes stand for, when known.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import CodedRatings
    >>> coded = CodedRatings.from_codes(
    ...     unit=np.array([0, 0, 1, 1, 1]), rater=np.array([0, 1, 0, 1, 2]),
    ...     value=np.array([2, 2, 0, 1, 1]), categories=[1, 2, 3, 4])
    >>> coded.value_counts()
    array([[0., 0., 2., 0.],
           [1., 2., 0., 0.]])
    """

    unit: np.ndarray
    rater: np.ndarray | None
    value: np.ndarray
    categories: np.ndarray
    n_units: int
    n_raters: int
    unit_labels: np.ndarray | None = None
    rater_labels: np.ndarray | None = None

    # ---- constructors --------------------------------------------------------
    @classmethod
    def from_codes(
        cls,
        unit: Any,
        rater: Any,
        value: Any,
        *,
        categories: Any,
        n_units: int | None = None,
        n_raters: int | None = None,
        unit_labels: Any = None,
        rater_labels: Any = None,
    ) -> CodedRatings:
        """Ratings from integer code arrays (the fast path).

        Parameters
        ----------
        unit, rater, value : array_like of int, shape (n_ratings,)
            Unit code, rater code (or None for anonymous raters) and category index of
            each rating.
        categories : array_like of float, shape (q,)
            The scores the value codes index, increasing.
        n_units, n_raters : int, optional
            Number of unit and rater codes (default: largest code + 1).

        Raises
        ------
        ValueError
            Codes out of range, arrays of different lengths, or a (unit, rater) cell
            rated twice.
        """
        cats = _categories_array(categories)
        u = _code_array("unit", unit)
        v = _code_array("value", value)
        r = None if rater is None else _code_array("rater", rater)
        lengths = {"unit": len(u), "value": len(v)} | ({} if r is None else {"rater": len(r)})
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"unit, rater and value must have the same length; got lengths {lengths}"
            )
        if len(v) and v.max() >= len(cats):
            raise ValueError(
                f"value codes must index categories (0..{len(cats) - 1}); got a code {int(v.max())}"
            )
        nu = _count_arg("n_units", n_units, u)
        nr = 0 if r is None else _count_arg("n_raters", n_raters, r)
        if r is not None:
            _check_unique_cells(u, r, nr)
        return cls(
            u,
            r,
            v,
            cats,
            nu,
            nr,
            _labels(unit_labels, nu, "unit_labels"),
            _labels(rater_labels, nr, "rater_labels"),
        )

    @classmethod
    def from_array(cls, data: Any, *, categories: Any = None) -> CodedRatings:
        """Ratings from a units x raters array or DataFrame (NaN = missing).

        Units (rows) without any rating are dropped, as R irrCAC asks its users to do.
        Every column is a rater, rated or not.

        Parameters
        ----------
        data : array_like or DataFrame, shape (n_units, n_raters)
            Numeric scores; NaN where a rater did not rate a unit.
        categories : array_like, optional
            All possible scores (default: the scores that occur).
        """
        unit_names: np.ndarray | None = None
        rater_names: np.ndarray | None = None
        if isinstance(data, pd.DataFrame):
            unit_names, rater_names = np.asarray(data.index), np.asarray(data.columns)
            try:
                arr = data.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"data must hold numeric scores (NaN for missing); got columns of dtypes {sorted({str(t) for t in data.dtypes})}"
                ) from exc
        else:
            try:
                arr = np.asarray(data, dtype=float)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    "data must hold numeric scores (NaN for missing); got values that are not numbers"
                ) from exc
        if arr.ndim != 2:
            raise ValueError(
                f"data must be a 2-D units x raters array; got an array of shape {arr.shape}"
            )
        if np.isinf(arr).any():
            raise ValueError(
                "data must hold finite scores (NaN for missing); got an infinite value"
            )
        used_units = (~np.isnan(arr)).any(axis=1)
        arr = arr[used_units]
        rows, cols = np.nonzero(~np.isnan(arr))
        scores = arr[rows, cols]
        cats = np.unique(scores) if categories is None else _categories_array(categories)
        codes = _encode(scores, cats)
        return cls(
            rows.astype(np.int64),
            cols.astype(np.int64),
            codes,
            cats,
            int(arr.shape[0]),
            int(arr.shape[1]),
            None if unit_names is None else unit_names[used_units],
            rater_names,
        )

    @classmethod
    def from_counts(cls, counts: Any, *, categories: Any = None) -> CodedRatings:
        """Ratings from a units x categories table of how many raters gave each score.

        The raters are anonymous, so Cohen's and Conger's kappa cannot use the result.

        Parameters
        ----------
        counts : array_like of int or DataFrame, shape (n_units, q)
            Non-negative counts. With a DataFrame whose columns are numbers, those are
            the categories.
        categories : array_like, shape (q,), optional
            The score of each column (default: the DataFrame's numeric columns, else
            1..q).
        """
        unit_names = None
        if isinstance(counts, pd.DataFrame):
            unit_names = np.asarray(counts.index)
            if categories is None:
                try:
                    categories = np.asarray(counts.columns, dtype=float)
                except (TypeError, ValueError):
                    categories = None
            counts = counts.to_numpy()
        arr = np.asarray(counts)
        if arr.ndim != 2:
            raise ValueError(
                f"counts must be a 2-D units x categories table; got shape {arr.shape}"
            )
        if (
            not np.issubdtype(arr.dtype, np.number)
            or not np.all(np.isfinite(arr))
            or (arr < 0).any()
            or not np.all(arr == np.round(arr))
        ):
            raise ValueError("counts must hold non-negative whole numbers")
        q = arr.shape[1]
        cats = np.arange(1.0, q + 1) if categories is None else _categories_array(categories)
        if len(cats) != q:
            raise ValueError(
                f"categories must give one score per column of counts ({q}); got {len(cats)}"
            )
        arr = arr.astype(np.int64)
        used = arr.sum(axis=1) > 0
        arr = arr[used]
        flat = arr.ravel()
        cells = np.repeat(np.arange(flat.size), flat)
        return cls(
            (cells // q).astype(np.int64),
            None,
            (cells % q).astype(np.int64),
            cats,
            int(arr.shape[0]),
            0,
            None if unit_names is None else unit_names[used],
            None,
        )

    @classmethod
    def from_ratings_table(cls, table: RatingsTable, criterion: str | None = None) -> CodedRatings:
        """Ratings of one criterion of a :class:`~calibrate.ratings.RatingsTable`.

        The categories are the criterion's level scores from the rubric, used or not.

        Parameters
        ----------
        table : RatingsTable
        criterion : str, optional
            Required when the table holds more than one criterion.
        """
        ids = list(table.rubric.criterion_ids)
        if criterion is None:
            present = [str(c) for c in table.frame["criterion_id"].dropna().unique()]
            if len(present) > 1:
                raise ValueError(
                    f"the table has {len(present)} criteria; name one with criterion=... (one of {ids}) or select one first: table.select(criterion=...)"
                )
            criterion = present[0] if present else ids[0]
        elif criterion not in ids:
            raise ValueError(f"criterion must be one of {ids}; got {criterion!r}")
        sub = table.criterion_codes(criterion)
        unit, rater = sub.submission, sub.reviewer
        unit_labels = np.asarray(sub.submission_ids, dtype=object)
        rater_labels = np.asarray(sub.reviewer_ids, dtype=object)
        cats = np.asarray(table.rubric.criterion(criterion).scores, dtype=float)
        value = sub.level  # the categories are the criterion's levels
        dup = _duplicate_cells(unit, rater, len(rater_labels))
        if dup:
            raise ValueError(
                f"{dup} (reviewer, submission) cells have more than one score on criterion {criterion!r} "
                "(the same anchor in several rounds?); select one round first: table.select(round_id=...)"
            )
        return cls(
            unit, rater, value, cats, len(unit_labels), len(rater_labels), unit_labels, rater_labels
        )

    # ---- views ---------------------------------------------------------------
    @property
    def n_ratings(self) -> int:
        return int(len(self.value))

    @property
    def n_categories(self) -> int:
        return int(len(self.categories))

    def value_counts(self) -> np.ndarray:
        """Units x categories: how many ratings of each unit fell in each category."""
        q = self.n_categories
        flat = np.bincount(self.unit * q + self.value, minlength=self.n_units * q)
        return flat.reshape(self.n_units, q).astype(np.float64)

    def compressed_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``compress_counts(self.value_counts())`` computed from the codes.

        Each unit's row of counts is encoded as one integer key (its counts as digits in
        base max-ratings-per-unit + 1) by a single weighted bincount over the ratings,
        without forming the units x categories matrix. Rows may come in another order
        than :func:`compress_counts` gives; every coefficient sums over them. Computed
        once per instance (the codes do not change) and returned read-only.
        """
        return self._compressed

    @cached_property
    def _compressed(self) -> tuple[np.ndarray, np.ndarray]:
        rows, freq = self._compress()
        rows.flags.writeable = False
        freq.flags.writeable = False
        return rows, freq

    def _compress(self) -> tuple[np.ndarray, np.ndarray]:
        q = self.n_categories
        per_unit = np.bincount(self.unit, minlength=self.n_units)
        base = int(per_unit.max()) + 1 if len(per_unit) else 2
        if q * math.log2(base) >= 20:  # keys would not fit a small bincount
            return compress_counts(self.value_counts())
        powers = base ** np.arange(q, dtype=np.int64)
        key = np.bincount(
            self.unit, weights=powers[self.value].astype(np.float64), minlength=self.n_units
        )
        freq = np.bincount(key[per_unit > 0].astype(np.int64))
        keys = np.flatnonzero(freq)
        rows = (keys[:, None] // powers) % base
        return rows.astype(np.float64), freq[keys].astype(np.float64)

    def rater_counts(self) -> np.ndarray:
        """Raters x categories: how many units each rater put in each category."""
        rater = self._require_raters("rater_counts")
        q = self.n_categories
        flat = np.bincount(rater * q + self.value, minlength=self.n_raters * q)
        return flat.reshape(self.n_raters, q).astype(np.float64)

    def _require_raters(self, what: str) -> np.ndarray:
        if self.rater is None:
            raise ValueError(
                f"{what} needs to know which rater gave each rating; these ratings were built from anonymous counts"
            )
        return self.rater


def as_coded(data: Any, categories: Any = None) -> CodedRatings:
    """Normalise any accepted ``data`` to :class:`CodedRatings`."""
    from calibrate.ratings import RatingsTable

    if isinstance(data, CodedRatings):
        if categories is not None:
            cats = _categories_array(categories)
            if not np.array_equal(cats, data.categories):
                raise ValueError(
                    "categories cannot change those of CodedRatings; build it with the categories you want"
                )
        return data
    if isinstance(data, RatingsTable):
        coded = CodedRatings.from_ratings_table(data)
        if categories is not None and not np.array_equal(
            _categories_array(categories), coded.categories
        ):
            raise ValueError(
                "categories cannot change those of a RatingsTable: they are the rubric's level scores"
            )
        return coded
    return CodedRatings.from_array(data, categories=categories)


# ---- helpers -----------------------------------------------------------------
def _categories_array(categories: Any) -> np.ndarray:
    try:
        cats = np.asarray(categories, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"categories must be numbers (the possible scores); got {categories!r}"
        ) from exc
    if cats.ndim != 1 or len(cats) == 0:
        raise ValueError(f"categories must be a non-empty 1-D list of scores; got {categories!r}")
    if not np.all(np.isfinite(cats)):
        raise ValueError(f"categories must be finite numbers; got {categories!r}")
    if len(cats) > 1 and not np.all(np.diff(cats) > 0):
        raise ValueError(f"categories must be unique and increasing; got {cats.tolist()}")
    return cats


def _encode(scores: np.ndarray, cats: np.ndarray) -> np.ndarray:
    if scores.dtype.kind in "iu" and len(scores) and np.all(cats == np.round(cats)):
        # Integer scores (the table's level scores): a lookup table, several times
        # faster than a binary search over the categories.
        lo, hi = int(scores.min()), int(scores.max())
        if hi - lo < 1_000_000:
            lut = np.full(hi - lo + 1, -1, dtype=np.int64)
            inside = (cats >= lo) & (cats <= hi)
            lut[cats[inside].astype(np.int64) - lo] = np.flatnonzero(inside)
            codes = lut[scores - lo]
            if codes.min() < 0:
                unknown = sorted({float(s) for s in scores[codes < 0]})[:10]
                raise ValueError(
                    f"every score must be one of categories {cats.tolist()}; got {unknown}"
                )
            return codes
    codes = np.searchsorted(cats, scores)
    codes = np.minimum(codes, len(cats) - 1)
    bad = cats[codes] != scores
    if bad.any():
        unknown = sorted({float(s) for s in scores[bad]})[:10]
        raise ValueError(f"every score must be one of categories {cats.tolist()}; got {unknown}")
    return codes.astype(np.int64)


def _code_array(name: str, codes: Any) -> np.ndarray:
    arr = np.asarray(codes)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer codes; got shape {arr.shape}")
    if len(arr) and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer codes; got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if len(arr) and arr.min() < 0:
        raise ValueError(f"{name} codes must be non-negative; got {int(arr.min())}")
    return arr


def _count_arg(name: str, given: int | None, codes: np.ndarray) -> int:
    needed = int(codes.max()) + 1 if len(codes) else 0
    if given is None:
        return needed
    if given < needed:
        raise ValueError(f"{name} must exceed the largest code ({needed - 1}); got {given}")
    return int(given)


def _labels(labels: Any, n: int, name: str) -> np.ndarray | None:
    if labels is None:
        return None
    arr = np.asarray(labels)
    if len(arr) != n:
        raise ValueError(f"{name} must have one label per code ({n}); got {len(arr)}")
    return arr


def _duplicate_cells(unit: np.ndarray, rater: np.ndarray, n_raters: int) -> int:
    if len(unit) < 2:
        return 0
    key = np.sort(unit * max(n_raters, 1) + rater)
    return int(np.count_nonzero(key[1:] == key[:-1]))


def _check_unique_cells(unit: np.ndarray, rater: np.ndarray, n_raters: int) -> None:
    dup = _duplicate_cells(unit, rater, n_raters)
    if dup:
        raise ValueError(
            f"each (unit, rater) cell may hold one rating; {dup} cells hold more than one"
        )


def compress_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a units x categories count matrix and how many units have each.

    Every count-based coefficient treats units with the same counts alike, so they can
    be computed from the distinct rows with their multiplicities as frequency weights:
    100,000 units rated 2-3 times on 4 levels have at most 34 distinct rows. Units
    without ratings are dropped.
    """
    c = np.asarray(counts)
    c = c[c.sum(axis=1) > 0]
    if len(c) == 0:
        return c.astype(np.float64), np.zeros(0)
    q = c.shape[1]
    ci = c.astype(np.int64)
    base = int(ci.max()) + 1
    if q * math.log2(base) < 20:  # the rows' keys fit a small bincount
        key = ci @ (base ** np.arange(q, dtype=np.int64))
        freq = np.bincount(key)
        keys = np.flatnonzero(freq)
        rows = (keys[:, None] // base ** np.arange(q, dtype=np.int64)) % base
        return rows.astype(np.float64), freq[keys].astype(np.float64)
    rows, mult = np.unique(ci, axis=0, return_counts=True)
    return rows.astype(np.float64), mult.astype(np.float64)
