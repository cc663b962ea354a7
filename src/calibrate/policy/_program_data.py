"""A program's reviews as the integer arrays :class:`ProgramModel` fits on: live and keyed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from calibrate.ratings import KINDS, AnswerKey, RatingsTable, compact, level_codes
from calibrate.rubric import Rubric

__all__ = ["ProgramData", "encode_program"]

_LIVE = KINDS.index("live")
_LATEST = np.iinfo(np.int64).max  # the first rated_at of a review with none


class ProgramData:
    """Reviews as integer arrays: live ones (latent class) and keyed ones (known)."""

    reviewer_ids: list[str]
    live_rev: np.ndarray  # (n,) reviewer codes of live reviews, sorted by submission
    live_lv: np.ndarray  # (n, C) level indices, -1 where not scored
    live_starts: np.ndarray  # first review of each live submission
    live_sub: np.ndarray  # (n,) live submission position of each live review
    pat_rev: np.ndarray  # (U,) reviewer of each distinct (reviewer, levels) pattern
    pat_lv: np.ndarray  # (U, C) its levels
    pat_of: np.ndarray  # (n,) pattern of each live review
    pat_sum: Any  # sparse (U, n): sums reviews into their patterns
    n_live: int
    key_rev: np.ndarray
    key_lv: np.ndarray
    key_true: np.ndarray  # (n, C) the key's level indices
    n_keyed: int
    first_counts: np.ndarray  # per reviewer: among a live submission's first reviews
    n_first: int


def encode_program(ratings: RatingsTable, key: AnswerKey, rubric: Rubric) -> ProgramData:
    """The live and keyed reviews of ``ratings`` (read from ``ratings.codes``): a review is
    one reviewer's scoring of one submission in one round; live reviews are ordered by
    submission, then first ``rated_at`` (unknown last), then first row."""
    coded = ratings.codes
    crit_ids = list(rubric.criterion_ids)
    C = len(crit_ids)
    live_row = (coded.kind == _LIVE) | ((coded.kind < 0) & (coded.round < 0))

    kw = key.wide().reindex(columns=crit_ids).dropna()
    kw.index = kw.index.astype(str)
    key_of_sub = pd.Index(kw.index).get_indexer(coded.submission_ids)  # -1: not keyed
    keyed_row = key_of_sub[coded.submission] >= 0
    use = live_row | keyed_row
    if not keyed_row.any():
        raise ValueError(
            "no keyed anchor was scored: fitting reviewers needs anchors with a key "
            "(complete on every criterion) to place their severities"
        )
    rows = np.flatnonzero(use)
    sub = coded.submission[rows]
    rev, rev_used = compact(coded.reviewer[rows], coded.n_reviewers)
    rev_ids = coded.reviewer_ids[rev_used]
    R = len(rev_ids)
    # reviews in (submission, reviewer, round) order, no round first
    n_round = coded.n_rounds + 1
    group = (sub * R + rev) * n_round + (coded.round[rows] + 1)
    _, first, review = np.unique(group, return_index=True, return_inverse=True)
    review = review.ravel()
    n_rev = len(first)
    levels = np.full((n_rev, C), -1, dtype=np.int64)
    levels[review, coded.criterion[rows]] = coded.level[rows]
    head_sub, head_rev = sub[first], rev[first]
    keyed = keyed_row[rows][first]
    # a review's first rated_at (unknown: after every time) and its first row
    at = np.where(coded.timed[rows], coded.time[rows], _LATEST)
    head_at = np.full(n_rev, _LATEST)
    np.minimum.at(head_at, review, at)

    k_sub = head_sub[keyed]
    key_true = level_codes(
        rubric,
        np.tile(np.arange(C), int(keyed.sum())),
        kw.to_numpy(dtype=np.int64)[key_of_sub[k_sub]].ravel(),
    ).reshape(-1, C)

    live_reviews = np.flatnonzero(~keyed)
    live_reviews = live_reviews[
        np.lexsort((first[live_reviews], head_at[live_reviews], head_sub[live_reviews]))
    ]
    live_sub = head_sub[live_reviews]
    n_live_reviews = len(live_reviews)
    starts = (
        np.flatnonzero(np.r_[True, live_sub[1:] != live_sub[:-1]])
        if n_live_reviews
        else np.zeros(0, dtype=np.int64)
    )
    live_rev = head_rev[live_reviews]
    first_reviewers = rubric.review_policy.reviewers
    slot = np.arange(n_live_reviews) - np.repeat(starts, np.diff(np.r_[starts, n_live_reviews]))
    d = ProgramData()
    d.reviewer_ids = [str(r) for r in rev_ids]
    d.live_rev = live_rev
    d.live_lv = levels[live_reviews] if n_live_reviews else np.zeros((0, C), np.int64)
    d.live_starts = starts
    d.n_live = len(starts)
    d.key_rev = head_rev[keyed]
    d.key_lv = levels[keyed]
    d.key_true = key_true
    d.n_keyed = len(np.unique(k_sub))
    d.first_counts = np.bincount(live_rev[slot < first_reviewers], minlength=R).astype(float)
    d.live_sub = np.repeat(np.arange(d.n_live), np.diff(np.r_[starts, n_live_reviews]))
    # Reviews by the same reviewer with the same levels have the same likelihood: the
    # E-step works on these patterns (far fewer than reviews in a large program).
    pats, d.pat_of = np.unique(np.column_stack([live_rev, d.live_lv]), axis=0, return_inverse=True)
    d.pat_of = d.pat_of.ravel()
    d.pat_rev, d.pat_lv = pats[:, 0], pats[:, 1:]
    d.pat_sum = sparse.csr_matrix(
        (np.ones(n_live_reviews), (d.pat_of, np.arange(n_live_reviews))),
        shape=(len(pats), n_live_reviews),
    )
    d.n_first = d.n_live
    return d
