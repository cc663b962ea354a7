"""Fast synthetic review streams with known drift, for operating-characteristic tests.

Reviewers are drawn as :mod:`calibrate.synth` draws them (severity, noise, central
tendency, halo) and score through its :class:`~calibrate.synth.ReviewerModel`, so the
scores have the generator's rounding, clipping and halo. Two designs:

- ``key_stream``: every reviewer scores a stream of anchors the key covers (seeded
  anchors), one scoring after another;
- ``live_pairs``: live submissions each scored by two reviewers drawn at random, no key.

Both return a :class:`~calibrate.ratings.RatingsTable` (and the key) built directly from
arrays, vectorised over thousands of reviewers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.ratings import AnswerKey, RatingsTable, canonical_frame
from calibrate.rubric import Rubric
from calibrate.synth import ReviewerModel

NEVER = np.iinfo(np.int64).max
START = pd.Timestamp("2026-01-05T08:00:00Z")


def reviewers(
    n: int,
    rng: np.random.Generator,
    *,
    drift: float | np.ndarray = 0.0,
    onset: int | np.ndarray = NEVER,
    severity_sd: float = 0.3,
) -> ReviewerModel:
    """``n`` reviewers with SynthSpec's default ranges; ``drift`` (score points, negative
    = more lenient) from scoring index ``onset`` on."""
    return ReviewerModel(
        tuple(f"R{i:05d}" for i in range(n)),
        severity_sd * rng.standard_normal(n),
        rng.uniform(0.3, 0.6, n),
        rng.uniform(0.0, 0.25, n),
        rng.uniform(0.0, 0.3, n),
        np.broadcast_to(np.asarray(drift, dtype=float), (n,)).copy(),
        np.broadcast_to(np.asarray(onset, dtype=np.int64), (n,)).copy(),
    )


def _table(
    rubric: Rubric,
    sub: np.ndarray,
    rev: np.ndarray,
    t: np.ndarray,
    levels: np.ndarray,
    kind: str,
    n_rev: int,
) -> RatingsTable:
    c = len(rubric.criteria)
    scores = np.array([crit.scores for crit in rubric.criteria])  # criteria x levels
    m = len(sub)
    crit = np.tile(np.arange(c), m)
    frame = canonical_frame(
        pd.Categorical.from_codes(
            np.repeat(sub, c),
            categories=pd.Index([f"S{i:07d}" for i in range(int(sub.max()) + 1)], dtype=object),
        ),
        pd.Categorical.from_codes(
            np.repeat(rev, c),
            categories=pd.Index([f"R{i:05d}" for i in range(n_rev)], dtype=object),
        ),
        pd.Categorical.from_codes(crit, categories=pd.Index(rubric.criterion_ids, dtype=object)),
        scores[crit, levels.ravel()],
        rubric,
        rated_at=START + pd.to_timedelta(np.repeat(t, c), unit="h"),
        kind=[kind] * (m * c),
    )
    return RatingsTable(frame, rubric)


def key_stream(
    rubric: Rubric,
    n_reviewers: int,
    n_scorings: int,
    rng: np.random.Generator,
    *,
    drift: float | np.ndarray = 0.0,
    onset: int | np.ndarray = NEVER,
    severity_sd: float = 0.3,
) -> tuple[RatingsTable, AnswerKey, ReviewerModel]:
    """Each reviewer scores ``n_scorings`` anchors in turn (scoring ``j`` at hour ``j``);
    every anchor's key is its true level (uniform over the levels)."""
    model = reviewers(n_reviewers, rng, drift=drift, onset=onset, severity_sd=severity_sd)
    c = len(rubric.criteria)
    k = len(rubric.criteria[0].levels)
    m = n_reviewers * n_scorings
    true = rng.integers(0, k, size=(m, c))
    rev = np.repeat(np.arange(n_reviewers), n_scorings)
    t = np.tile(np.arange(n_scorings), n_reviewers)
    levels = model.score(true, rev, [k] * c, rng, t)
    sub = np.arange(m)
    table = _table(rubric, sub, rev, t, levels, "seeded", n_reviewers)
    scores = np.array([crit.scores for crit in rubric.criteria])
    crit = np.tile(np.arange(c), m)
    key = AnswerKey(
        pd.DataFrame(
            {
                "submission_id": np.repeat([f"S{i:07d}" for i in range(m)], c),
                "criterion_id": np.asarray(rubric.criterion_ids, dtype=object)[crit],
                "key_score": scores[crit, true.ravel()].astype(np.int64),
                "rationale": "",
            }
        ),
        rubric,
    )
    return table, key, model


def live_pairs(
    rubric: Rubric,
    n_reviewers: int,
    n_scorings: int,
    rng: np.random.Generator,
    *,
    drift: np.ndarray | float = 0.0,
    onset: np.ndarray | int = NEVER,
) -> tuple[RatingsTable, ReviewerModel]:
    """Live submissions scored by two distinct random reviewers each, about
    ``n_scorings`` scorings per reviewer; submission ``i`` is scored at hour ``i``
    (both reviews), so reviewer time is the submission order. ``onset`` is an hour."""
    model = reviewers(n_reviewers, rng, drift=drift, onset=onset)
    c = len(rubric.criteria)
    k = len(rubric.criteria[0].levels)
    n_sub = n_reviewers * n_scorings // 2
    a = rng.integers(0, n_reviewers, n_sub)
    b = (a + rng.integers(1, n_reviewers, n_sub)) % n_reviewers
    true = np.clip(
        np.rint(rng.normal((k - 1) / 2, 0.9, (n_sub, 1)) + rng.normal(0, 0.5, (n_sub, c))), 0, k - 1
    ).astype(np.int64)
    sub = np.repeat(np.arange(n_sub), 2)
    rev = np.column_stack([a, b]).ravel()
    t = sub.copy()
    levels = model.score(true[sub], rev, [k] * c, rng, t)
    return _table(rubric, sub, rev, t, levels, "live", n_reviewers), model
