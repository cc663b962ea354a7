"""Input checks and level tables shared by the severity models (they read ``table.codes``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric


def true_level_positions(
    true_levels: object, scores: Sequence[Sequence[int] | np.ndarray], criterion_ids: Sequence[str]
) -> np.ndarray:
    """Level indices of true level *scores* (shape (m, n_criteria), criteria in the order of
    ``criterion_ids``; ``scores[c]`` lists criterion ``c``'s scores, ascending). A score a
    criterion does not have is a ValueError naming the column and the scores it has."""
    true = np.asarray(true_levels)
    n_crit = len(criterion_ids)
    if true.ndim != 2 or true.shape[1] != n_crit:
        raise ValueError(f"true_levels must have shape (m, {n_crit}); got {true.shape}")
    idx = np.empty(true.shape, dtype=np.int64)
    for c, (cid, sc) in enumerate(zip(criterion_ids, scores, strict=True)):
        sc = np.asarray(sc)
        pos = np.searchsorted(sc, true[:, c])
        if (pos >= len(sc)).any() or (sc[np.minimum(pos, len(sc) - 1)] != true[:, c]).any():
            raise ValueError(
                f"true_levels column {c} holds values that are not scores of {cid!r} ({sc.tolist()})"
            )
        idx[:, c] = pos
    return idx


def check_table(ratings: object) -> RatingsTable:
    if not isinstance(ratings, RatingsTable):
        raise TypeError(
            f"ratings must be a calibrate.ratings.RatingsTable; got {type(ratings).__name__}"
        )
    if len(ratings) == 0:
        raise ValueError("ratings is empty: a severity model needs at least one rating")
    return ratings


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
