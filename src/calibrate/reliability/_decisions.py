"""Each reviewer's pass / not yet decision per submission, as a one-criterion ratings table."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from calibrate.ratings import RatingsTable
    from calibrate.rubric import Rubric

__all__ = ["DECISION", "decision_ratings"]

#: ``criterion_id`` of the decision table's one criterion (and of the table's decision rows).
DECISION = "decision"


@lru_cache(maxsize=1)
def _decision_rubric() -> Rubric:
    from calibrate.rubric import Rubric

    return Rubric.model_validate(
        {
            "id": "pass-decision",
            "title": "Pass / not yet decision",
            "version": "1",
            "criteria": [
                {
                    "id": DECISION,
                    "name": "Decision",
                    "levels": [{"score": 0, "label": "not yet"}, {"score": 1, "label": "pass"}],
                }
            ],
            "pass_rule": {"min_level": 1},
        }
    )


def _first_rows(group: np.ndarray) -> np.ndarray:
    """Position of the first row of each group, for codes 0..k-1 that all occur."""
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.diff(group[order], prepend=-1))
    return order[starts]


def _review_scores(ratings: RatingsTable, rubric: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """Each review's criterion scores (reviews x the rubric's criteria, NaN = unscored) and
    the position of each review's first rating. A review is one reviewer's scoring of one
    submission in one round."""
    codes = ratings.codes
    position = [rubric.criterion_ids.index(c) for c in codes.criterion_ids]
    col = np.array(position, dtype=np.int64)[codes.criterion]
    sets = codes.review
    scores = np.full((codes.n_reviews, len(rubric.criteria)), np.nan)
    scores[sets, col] = codes.score.astype(np.float64)
    return scores, _first_rows(sets)


def _decisions(ratings: RatingsTable, rubric: Rubric | None) -> tuple[RatingsTable, int]:
    from calibrate.ratings import RatingsTable, canonical_frame

    rubric = _check_rubric(ratings, rubric)
    f = ratings.frame
    sets = ratings.codes.review
    scores, first = _review_scores(ratings, rubric)
    passed = rubric.decide(scores)
    complete = ~np.isnan(passed)
    rows = first[complete]
    latest = (
        f["rated_at"].groupby(sets).max().reset_index(drop=True)[complete]
        if f["rated_at"].notna().any()
        else None
    )

    def take(column: str) -> pd.Categorical:
        c = f[column].cat
        return pd.Categorical.from_codes(c.codes.to_numpy()[rows], categories=c.categories)

    frame = canonical_frame(
        take("submission_id"),
        take("reviewer_id"),
        pd.Categorical([DECISION] * len(rows), categories=pd.Index([DECISION], dtype=object)),
        passed[complete].astype(np.int64),
        _decision_rubric(),
        rated_at=latest,
        round_id=take("round_id"),
        kind=take("kind"),
    )
    return RatingsTable(frame, _decision_rubric(), ratings.source), int((~complete).sum())


def decision_ratings(ratings: RatingsTable, rubric: Rubric | None = None) -> RatingsTable:
    """Each reviewer's pass / not yet per submission, as a one-criterion ratings table.

    The rubric's pass rule is applied to each reviewer's complete set of criterion scores
    of a submission (in a round); sets with a criterion unscored are left out. The
    result has one criterion, ``decision``, with levels 0 (``not yet``) and 1
    (``pass``), so every coefficient measures agreement on the decision itself.

    Parameters
    ----------
    ratings : RatingsTable
    rubric : Rubric, optional
        Whose pass rule to apply (default: the table's rubric); it must have the
        table's criteria.

    Returns
    -------
    RatingsTable

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import decision_ratings, krippendorff_alpha
    >>> program = read_program("data/synthetic/pilot")
    >>> decisions = decision_ratings(program.ratings.select(kind="live"))
    >>> decisions.rubric.criterion_ids, sorted(decisions.frame["score"].unique().tolist())
    (('decision',), [0, 1])
    """
    return _decisions(ratings, rubric)[0]


def _check_rubric(ratings: RatingsTable, rubric: Rubric | None) -> Rubric:
    if rubric is None:
        return ratings.rubric
    from calibrate.rubric import Rubric

    if not isinstance(rubric, Rubric):
        raise TypeError(f"rubric must be a Rubric or None; got {type(rubric).__name__}")
    if set(rubric.criterion_ids) != set(ratings.rubric.criterion_ids):
        raise ValueError(
            f"rubric must have the ratings' criteria {list(ratings.rubric.criterion_ids)}; "
            f"got {list(rubric.criterion_ids)}"
        )
    return rubric
