"""A program's reviews as the integer arrays :class:`ProgramModel` fits on: live and keyed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from calibrate.ratings import AnswerKey, RatingsTable, level_codes
from calibrate.rubric import Rubric

__all__ = ["ProgramData", "encode_program"]


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
    f = ratings.frame
    crit_ids = list(rubric.criterion_ids)
    C = len(crit_ids)
    kind = f["kind"].astype(object)
    live_row = ((kind == "live") | (kind.isna() & f["round_id"].isna())).to_numpy()

    kw = key.wide().reindex(columns=crit_ids).dropna()
    kw.index = kw.index.astype(str)
    sub = f["submission_id"].astype(str).to_numpy()
    keyed_row = pd.Index(kw.index).get_indexer(sub) >= 0
    use = live_row | keyed_row
    if not keyed_row.any():
        raise ValueError(
            "no keyed anchor was scored: fitting reviewers needs anchors with a key "
            "(complete on every criterion) to place their severities"
        )
    f = f.loc[use]
    keyed_row = keyed_row[use]
    crit = pd.Categorical(f["criterion_id"].astype(str), categories=crit_ids).codes.astype(np.int64)
    lv = level_codes(rubric, crit, f["score"].to_numpy(dtype=np.int64))
    rev_codes, rev_ids = pd.factorize(f["reviewer_id"].astype(str), sort=True)
    rounds = f["round_id"].astype(object).fillna("").astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "sub": f["submission_id"].astype(str).to_numpy(),
            "rev": rev_codes,
            "round": rounds,
            "crit": crit,
            "lv": lv,
            "at": f["rated_at"].to_numpy(),
            "row": np.arange(len(f)),
            "keyed": keyed_row,
        }
    )
    g = frame.groupby(["sub", "rev", "round"], sort=True)
    review = g.ngroup().to_numpy()
    n_rev = int(review.max()) + 1 if len(review) else 0
    levels = np.full((n_rev, C), -1, dtype=np.int64)
    levels[review, frame["crit"].to_numpy()] = frame["lv"].to_numpy()
    head = g.agg(
        sub=("sub", "first"),
        rev=("rev", "first"),
        keyed=("keyed", "first"),
        at=("at", "min"),
        row=("row", "min"),
    ).reset_index(drop=True)

    keyed = head["keyed"].to_numpy(dtype=bool)
    k_sub = head["sub"].to_numpy()[keyed]
    key_true = level_codes(
        rubric,
        np.tile(np.arange(C), int(keyed.sum())),
        kw.loc[k_sub].to_numpy(dtype=np.int64).ravel(),
    ).reshape(-1, C)

    live = head.loc[~keyed].assign(lv=list(levels[~keyed]))
    live = live.sort_values(["sub", "at", "row"], na_position="last", kind="stable")
    live_sub = live["sub"].to_numpy()
    starts = (
        np.flatnonzero(np.r_[True, live_sub[1:] != live_sub[:-1]])
        if len(live)
        else np.zeros(0, dtype=np.int64)
    )
    live_rev = live["rev"].to_numpy(dtype=np.int64)
    R = len(rev_ids)
    first = rubric.review_policy.reviewers
    slot = np.arange(len(live)) - np.repeat(starts, np.diff(np.r_[starts, len(live)]))
    d = ProgramData()
    d.reviewer_ids = [str(r) for r in rev_ids]
    d.live_rev = live_rev
    d.live_lv = np.stack(live["lv"].to_list()) if len(live) else np.zeros((0, C), np.int64)
    d.live_starts = starts
    d.n_live = len(starts)
    d.key_rev = head["rev"].to_numpy(dtype=np.int64)[keyed]
    d.key_lv = levels[keyed]
    d.key_true = key_true
    d.n_keyed = len(np.unique(k_sub))
    d.first_counts = np.bincount(live_rev[slot < first], minlength=R).astype(float)
    d.live_sub = np.repeat(np.arange(d.n_live), np.diff(np.r_[starts, len(live)]))
    # Reviews by the same reviewer with the same levels have the same likelihood: the
    # E-step works on these patterns (far fewer than reviews in a large program).
    pats, d.pat_of = np.unique(np.column_stack([live_rev, d.live_lv]), axis=0, return_inverse=True)
    d.pat_of = d.pat_of.ravel()
    d.pat_rev, d.pat_lv = pats[:, 0], pats[:, 1:]
    d.pat_sum = sparse.csr_matrix(
        (np.ones(len(live)), (d.pat_of, np.arange(len(live)))), shape=(len(pats), len(live))
    )
    d.n_first = d.n_live
    return d
