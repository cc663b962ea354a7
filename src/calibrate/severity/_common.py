"""Encoding a ratings table as the integer arrays the severity models iterate over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric


def check_table(ratings: object) -> RatingsTable:
    if not isinstance(ratings, RatingsTable):
        raise TypeError(
            f"ratings must be a calibrate.ratings.RatingsTable; got {type(ratings).__name__}"
        )
    if len(ratings) == 0:
        raise ValueError("ratings is empty: a severity model needs at least one rating")
    return ratings


def check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value}")
    return int(value)


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(
            f"{name} must be a {'non-negative' if allow_zero else 'positive'} finite number; got {value!r}"
        )
    return v


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}"
        )
    return str(value)


def level_tables(rubric: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """``n_levels`` per criterion and ``score_of[c, k]`` (padded with the top score)."""
    n_levels = np.array([len(c.levels) for c in rubric.criteria], dtype=np.int64)
    kmax = int(n_levels.max())
    score_of = np.array(
        [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in rubric.criteria],
        dtype=np.int64,
    )
    return n_levels, score_of


def level_index(rubric: Rubric, crit: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Level index (0 = lowest level) of each ``score`` on criterion code ``crit``."""
    lo = min(c.min_score for c in rubric.criteria)
    hi = max(c.max_score for c in rubric.criteria)
    lut = np.full((len(rubric.criteria), hi - lo + 1), -1, dtype=np.int64)
    for i, c in enumerate(rubric.criteria):
        lut[i, np.asarray(c.scores) - lo] = np.arange(len(c.scores))
    out = lut[crit, score - lo]
    if (out < 0).any():  # the table validates scores; this guards hand-built frames
        raise ValueError(
            "ratings hold scores that are not levels of their criterion; validate the table first"
        )
    return out


@dataclass(frozen=True)
class Encoded:
    """Integer codes of a table's used submissions, reviewers and criteria."""

    sub: np.ndarray
    rev: np.ndarray
    crit: np.ndarray
    level: np.ndarray
    submission_ids: pd.Index
    reviewer_ids: pd.Index
    criterion_ids: pd.Index  # all rubric criteria, rubric order


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        raw = col.cat.codes.to_numpy()
        used, inv = np.unique(raw, return_inverse=True)
        return inv.astype(np.int64), pd.Index(col.cat.categories[used].astype(str), dtype=object)
    codes, uniques = pd.factorize(col.astype(str), sort=True)
    return codes.astype(np.int64), pd.Index(uniques, dtype=object)


def encode(table: RatingsTable) -> Encoded:
    f = table.frame
    sub, sub_ids = _codes(f["submission_id"])
    rev, rev_ids = _codes(f["reviewer_id"])
    crit_ids = list(table.rubric.criterion_ids)
    crit = pd.Categorical(f["criterion_id"].astype(str), categories=crit_ids).codes.astype(np.int64)
    level = level_index(table.rubric, crit, f["score"].to_numpy(dtype=np.int64))
    return Encoded(sub, rev, crit, level, sub_ids, rev_ids, pd.Index(crit_ids, dtype=object))
