"""A small synthetic program with planted reviewer x group bias, for the fairness tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.rubric import Rubric


def planted_program(
    rubric: Rubric,
    *,
    seed: int,
    n_submissions: int = 240,
    n_reviewers: int = 8,
    n_groups: int = 3,
    biased: tuple[int, ...] = (0, 1),
    bias: float = 0.5,
    noise: float = 0.5,
) -> tuple[RatingsTable, pd.DataFrame]:
    """Two reviewers per submission; ``biased`` reviewers score group ``G1`` lower by
    ``bias`` levels (before rounding). Returns the table and the attributes frame."""
    rng = np.random.default_rng(seed)
    k = len(rubric.criteria[0].levels)
    n_crit = len(rubric.criteria)
    ability = rng.standard_normal(n_submissions)
    group = rng.integers(0, n_groups, size=n_submissions)
    severity = 0.3 * rng.standard_normal(n_reviewers)
    true = ability[:, None] + 0.5 * rng.standard_normal((n_submissions, n_crit)) + (k - 1) / 2
    pair = np.argsort(rng.random((n_submissions, n_reviewers)), axis=1)[:, :2]
    sub = np.repeat(np.arange(n_submissions), 2)
    rev = pair.ravel()
    shift = severity[rev] + bias * (np.isin(rev, biased) & (group[sub] == 0))
    x = true[sub] - shift[:, None] + noise * rng.standard_normal((len(sub), n_crit))
    level = np.clip(np.rint(x), 0, k - 1).astype(np.int64)
    scores = np.array([c.scores for c in rubric.criteria])
    s_ids = [f"S{i:04d}" for i in range(n_submissions)]
    r_ids = [f"R{i:02d}" for i in range(n_reviewers)]
    frame = canonical_frame(
        pd.Categorical(np.repeat(np.asarray(s_ids, dtype=object)[sub], n_crit)),
        pd.Categorical(np.repeat(np.asarray(r_ids, dtype=object)[rev], n_crit)),
        pd.Categorical.from_codes(
            np.tile(np.arange(n_crit), len(sub)),
            categories=pd.Index(rubric.criterion_ids, dtype=object),
        ),
        scores[np.tile(np.arange(n_crit), len(sub)), level.ravel()],
        rubric,
    )
    attrs = pd.DataFrame({"submission_id": s_ids, "district": [f"G{g + 1}" for g in group]})
    return RatingsTable(frame, rubric), attrs
