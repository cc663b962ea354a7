"""The ICC's input as a sparse design: ratings in compact integer codes with per-unit and per-rater sums."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from calibrate.ratings import compact


@dataclass(frozen=True)
class _Design:
    """Ratings as compact codes, with the per-unit and per-rater sums every estimator needs."""

    unit: np.ndarray  # int64 codes 0..n-1, every code used
    rater: np.ndarray  # int64 codes 0..m-1, every code used
    y: np.ndarray  # scores minus their grand mean (sums of squares are shift-invariant)
    n_i: np.ndarray  # ratings per unit
    n_j: np.ndarray  # ratings per rater
    incidence: sp.csr_matrix  # units x raters, 1 where rated
    anonymous: bool = False  # raters unknown (built from counts): codes are slots within unit

    @property
    def n_ratings(self) -> int:
        return int(self.y.size)

    @property
    def n_units(self) -> int:
        return int(self.n_i.size)

    @property
    def n_raters(self) -> int:
        return int(self.n_j.size)

    @property
    def complete(self) -> bool:
        return self.n_ratings == self.n_units * self.n_raters

    @property
    def n_pairable(self) -> int:
        return int(self.n_i[self.n_i >= 2].sum())

    @property
    def k_harmonic(self) -> float:
        if self.n_units == 0:
            return math.nan
        if np.all(self.n_i == self.n_i[0]):
            return float(self.n_i[0])  # exact, so complete data report k = number of raters
        return float(self.n_units / np.sum(1.0 / self.n_i))


def _compact(codes: np.ndarray, name: str) -> np.ndarray:
    """Map codes to 0..(number used - 1): non-negative integer codes that fit a bincount
    keep their order (:func:`calibrate.ratings.compact`), other labels are factorised in
    order of appearance."""
    # bincount needs an array as long as the largest code: fine for compact codes only.
    if codes.dtype.kind in "iu" and (
        codes.size == 0 or (codes.min() >= 0 and codes.max() <= 4 * codes.size + 1024)
    ):
        return compact(codes)[0]
    if codes.dtype.kind == "f":
        if np.isnan(codes).any():
            raise ValueError(f"{name} must not contain missing values; got NaN codes")
    out, _ = pd.factorize(codes, use_na_sentinel=True)
    if (out < 0).any():
        raise ValueError(
            f"{name} must not contain missing values; got {int((out < 0).sum())} missing"
        )
    return out.astype(np.int64, copy=False)


def _design_from_codes(units: object, raters: object, scores: object) -> _Design:
    unit = np.asarray(units)
    rater = np.asarray(raters)
    try:
        y = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            "scores must be numeric; got values that cannot be converted to float"
        ) from None
    for name, arr in (("units", unit), ("raters", rater), ("scores", y)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional; got an array of shape {arr.shape}")
    if not (unit.size == rater.size == y.size):
        raise ValueError(
            f"units, raters and scores must have the same length; got {unit.size}, {rater.size} and {y.size}"
        )
    if np.isinf(y).any():
        raise ValueError("scores must be finite; got infinite values")
    # A missing score is a rating that was not given.
    keep = ~np.isnan(y)
    if not keep.all():
        unit, rater, y = unit[keep], rater[keep], y[keep]
    return _build(_compact(unit, "units"), _compact(rater, "raters"), y, labels=(unit, rater))


def _design_from_data(data: object) -> _Design:
    """Any accepted ``data``: RatingsTable, CodedRatings or a units x raters matrix."""
    from calibrate.ratings import RatingsTable
    from calibrate.reliability._data import CodedRatings

    if isinstance(data, RatingsTable):
        data = CodedRatings.from_ratings_table(data)
    if isinstance(data, CodedRatings):
        scores = data.categories[data.value]
        unit = _compact(data.unit, "units")
        if data.rater is not None:
            return _build(unit, _compact(data.rater, "raters"), scores)
        # Anonymous raters: only the one-way model applies. Number the ratings of each
        # unit 0, 1, ... so the design stays free of repeated cells.
        order = np.argsort(unit, kind="stable")
        start = np.concatenate([[0], np.cumsum(np.bincount(unit))[:-1]]).astype(np.int64)
        slot = np.empty_like(unit)
        slot[order] = np.arange(unit.size) - start[unit[order]]
        return replace(_build(unit, slot, scores), anonymous=True)
    return _design_from_wide(data)


def _design_from_wide(data: object) -> _Design:
    try:
        if isinstance(data, pd.DataFrame):
            arr = data.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            "data must be a numeric units x raters array (NaN where a rater did not rate a unit)"
        ) from None
    if arr.ndim != 2:
        raise ValueError(
            f"data must be two-dimensional (units x raters); got an array of shape {arr.shape}"
        )
    if np.isinf(arr).any():
        raise ValueError("data must be finite or NaN; got infinite values")
    rated = ~np.isnan(arr)
    unit, rater = np.nonzero(rated)
    return _build(_compact(unit, "units"), _compact(rater, "raters"), arr[rated])


def _build(
    unit: np.ndarray,
    rater: np.ndarray,
    y: np.ndarray,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Design:
    n = int(unit.max()) + 1 if unit.size else 0
    m = int(rater.max()) + 1 if rater.size else 0
    incidence = sp.csr_matrix((np.ones(y.size), (unit, rater)), shape=(n, m))
    incidence.sum_duplicates()
    if incidence.nnz < y.size:
        cell = unit * m + rater
        _, first, counts = np.unique(cell, return_index=True, return_counts=True)
        at = int(first[np.argmax(counts > 1)])
        units, raters = labels if labels is not None else (unit, rater)
        u_at, r_at = np.asarray(units)[at].tolist(), np.asarray(raters)[at].tolist()
        raise ValueError(
            "each (unit, rater) pair must occur at most once; got "
            f"{int((counts > 1).sum())} repeated pairs, e.g. unit {u_at!r} with rater "
            f"{r_at!r}. Select one round, or average repeated ratings, first."
        )
    centred = y - y.mean() if y.size else y
    return _Design(
        unit=unit,
        rater=rater,
        y=centred,
        n_i=np.bincount(unit, minlength=n),
        n_j=np.bincount(rater, minlength=m),
        incidence=incidence,
    )
