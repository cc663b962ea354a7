"""Agreement of reviewer pairs: the pairs' two-rater ratings for Cohen's kappa, and pair_agreement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calibrate.reliability._data import CodedRatings

if TYPE_CHECKING:
    from calibrate.ratings import RatingsTable

__all__ = ["pair_agreement"]


def _pair_index(unit: np.ndarray, rater: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the two ratings of every pair of ratings of one unit (rater a < b)."""
    order = np.lexsort((rater, unit))
    u = unit[order]
    ia, ib = [], []
    k = 1
    while k < len(u):
        same = np.flatnonzero(u[k:] == u[:-k])
        if len(same) == 0:
            break
        ia.append(order[same])
        ib.append(order[same + k])
        k += 1
    if not ia:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(ia), np.concatenate(ib)


def _pairs(coded: CodedRatings, min_units: int) -> list[tuple[str, str, CodedRatings]]:
    """Two-rater ratings of every pair of raters sharing at least ``min_units`` units."""
    rater = coded._require_raters("pairs")
    ia, ib = _pair_index(coded.unit, rater)
    ra, rb, va, vb = rater[ia], rater[ib], coded.value[ia], coded.value[ib]
    labels = coded.rater_labels if coded.rater_labels is not None else np.arange(coded.n_raters)
    key = ra * coded.n_raters + rb
    order = np.argsort(key, kind="stable")
    key, va, vb = key[order], va[order], vb[order]
    pair_keys, starts, counts = np.unique(key, return_index=True, return_counts=True)
    out = []
    for pk, s, c in zip(pair_keys, starts, counts, strict=True):
        if c < min_units:
            continue
        a, b = divmod(int(pk), coded.n_raters)
        units = np.repeat(np.arange(c, dtype=np.int64), 2)
        values = np.column_stack([va[s : s + c], vb[s : s + c]]).ravel()
        pair = CodedRatings(
            units,
            np.tile(np.array([0, 1], dtype=np.int64), int(c)),
            values,
            coded.categories,
            int(c),
            2,
        )
        out.append((str(labels[a]), str(labels[b]), pair))
    return out


def pair_agreement(
    ratings: RatingsTable,
    *,
    criterion: str | Sequence[str] | None = None,
    min_shared: int = 1,
) -> pd.DataFrame:
    """Agreement of every pair of reviewers on the scores they both gave.

    Parameters
    ----------
    ratings : RatingsTable
    criterion : str or list of str, optional
        Criteria to use (default: all, each (submission, criterion, round) a shared item).
    min_shared : int, default 1
        Pairs sharing fewer submissions (in a round) are left out.

    Returns
    -------
    DataFrame
        One row per pair (``reviewer_a`` < ``reviewer_b``): ``n_submissions`` both
        scored, ``n_shared`` items (submission x criterion) both scored, ``exact`` and
        ``within_one`` (shares of those items on which the two gave the same level, or
        levels at most one apart) and ``mean_difference`` (a's score minus b's), sorted
        by pair.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import pair_agreement
    >>> live = read_program("data/synthetic/pilot").ratings.select(kind="live")
    >>> pairs = pair_agreement(live, min_shared=5)
    >>> list(pairs.columns)
    ['reviewer_a', 'reviewer_b', 'n_submissions', 'n_shared', 'exact', 'within_one', 'mean_difference']
    """
    if (
        isinstance(min_shared, bool)
        or not isinstance(min_shared, int | np.integer)
        or min_shared < 1
    ):
        raise ValueError(f"min_shared must be a whole number >= 1; got {min_shared!r}")
    if criterion is not None:
        ratings = ratings.select(criterion=criterion)
    codes = ratings.codes
    columns = [
        "reviewer_a",
        "reviewer_b",
        "n_submissions",
        "n_shared",
        "exact",
        "within_one",
        "mean_difference",
    ]
    if len(codes) == 0:
        return pd.DataFrame(columns=columns)
    # "one apart" means one level apart: level codes count positions within each criterion
    level = codes.level
    score = codes.score.astype(np.float64)
    submission = codes.unit  # a submission in a round
    ia, ib = _pair_index(codes.cell(), codes.reviewer)
    ra, rb = codes.reviewer[ia], codes.reviewer[ib]
    frame = pd.DataFrame(
        {
            "a": ra,
            "b": rb,
            "submission": submission[ia],
            "exact": (score[ia] == score[ib]).astype(float),
            "within_one": (np.abs(level[ia] - level[ib]) <= 1).astype(float),
            "mean_difference": score[ia] - score[ib],
        }
    )
    g = frame.groupby(["a", "b"], sort=True)
    out = g[["exact", "within_one", "mean_difference"]].mean()
    out.insert(0, "n_shared", g.size())
    out.insert(0, "n_submissions", g["submission"].nunique())
    out = out[out["n_submissions"] >= min_shared].reset_index()
    labels = np.asarray(codes.reviewer_ids, dtype=object)
    return pd.DataFrame(
        {
            "reviewer_a": labels[out["a"].to_numpy()].astype(str),
            "reviewer_b": labels[out["b"].to_numpy()].astype(str),
            "n_submissions": out["n_submissions"].to_numpy(dtype=np.int64),
            "n_shared": out["n_shared"].to_numpy(dtype=np.int64),
            "exact": out["exact"].to_numpy(),
            "within_one": out["within_one"].to_numpy(),
            "mean_difference": out["mean_difference"].to_numpy(),
        },
        columns=columns,
    )
