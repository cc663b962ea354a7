"""Residual streams: each rating's deviation from a reference, grouped into chart steps.

A rating's *residual* is ``score - reference`` in score points (positive: the reviewer
scored higher than the reference, i.e. more leniently). The reference is

- ``"key"``: the answer key's score, for ratings of anchors the key covers (calibration
  anchors and seeded anchors);
- ``"co_reviewers"``: the mean score the *other* reviewers gave the same submission on
  the same criterion (in the same round), for double-scored work the key does not cover;
- ``"model"``: instead of co-reviewers, the expected score of an average-severity
  reviewer under a many-facet Rasch model fitted on that work.

A *step* is one reviewer's scoring of one submission from one source (the ratings of its
criteria); its value is the mean residual of those ratings. Steps are what the charts
monitor: criteria of one scoring share the reviewer's mood of the moment (halo), so
their residuals are not independent and are averaged, not charted one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from calibrate.ratings import AnswerKey, RatingCodes, RatingsTable

__all__ = ["SOURCES", "Residuals", "Steps", "build_steps", "residual_ratings"]

#: The references a residual can be taken against, in code order.
SOURCES = ("key", "co_reviewers", "model")
_KEY, _CO, _MODEL = 0, 1, 2


def _key_lookup(codes: RatingCodes, key: AnswerKey | None) -> np.ndarray:
    """The key score of every rating (NaN where the key has none), the key's submissions
    and criteria numbered by the table's codes (those the table lacks are dropped)."""
    out = np.full(len(codes), np.nan)
    if key is None or len(key.frame) == 0:
        return out
    kf = key.frame
    ksub = codes.submission_ids.get_indexer(kf["submission_id"].astype(str))
    kcrit = codes.criterion_ids.get_indexer(kf["criterion_id"].astype(str))
    ok = (ksub >= 0) & (kcrit >= 0)
    n_crit = codes.n_criteria
    lut = np.full(codes.n_submissions * n_crit, np.nan)
    lut[ksub[ok].astype(np.int64) * n_crit + kcrit[ok]] = kf["key_score"].to_numpy(float)[ok]
    return lut[codes.submission * n_crit + codes.criterion]


def _model_expected(table: RatingsTable, rows: np.ndarray) -> np.ndarray:
    """Expected score of an average-severity reviewer (many-facet Rasch, partial credit
    when criteria differ in levels) for the ratings ``rows``."""
    from calibrate.severity import ManyFacetRasch

    codes = table.codes
    sub_table = RatingsTable(table.frame.iloc[rows].reset_index(drop=True), table.rubric)
    n_levels = {len(c.levels) for c in table.rubric.criteria}
    model: Literal["rating_scale", "partial_credit"] = (
        "rating_scale" if len(n_levels) == 1 else "partial_credit"
    )
    fit = ManyFacetRasch(model=model).fit(sub_table)
    crit = codes.criterion[rows]
    ability = fit.ability_.reindex(codes.submission_ids[codes.submission[rows]]).to_numpy(float)
    difficulty = fit.difficulty_.reindex(codes.criterion_ids[crit]).to_numpy(float)
    tau = fit.thresholds_.to_numpy(float)  # criteria x steps, NaN beyond a criterion's levels
    kmax = tau.shape[1] + 1
    cumtau = np.concatenate([np.zeros((tau.shape[0], 1)), np.cumsum(tau, axis=1)], axis=1)
    cumtau = np.where(np.isnan(cumtau), np.inf, cumtau)
    scores = np.array(
        [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in table.rubric.criteria],
        dtype=float,
    )
    eta = ability - difficulty
    psi = eta[:, None] * np.arange(kmax) - cumtau[crit]
    psi -= psi.max(axis=1, keepdims=True)
    p = np.exp(psi)
    p /= p.sum(axis=1, keepdims=True)
    return (p * scores[crit]).sum(axis=1)


@dataclass(frozen=True)
class Residuals:
    """One entry per rating that has a time and a reference: ``row`` (position in the
    table's frame), ``rev``, ``sub``, ``crit``, ``rnd``, ``time`` (int64 ns), ``source``
    (code into :data:`SOURCES`), ``score``, ``reference``, ``residual``."""

    row: np.ndarray
    rev: np.ndarray
    sub: np.ndarray
    crit: np.ndarray
    rnd: np.ndarray
    time: np.ndarray
    source: np.ndarray
    score: np.ndarray
    reference: np.ndarray
    residual: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


def residual_ratings(
    table: RatingsTable,
    key: AnswerKey | None = None,
    *,
    live_reference: Literal["co_reviewers", "model"] = "co_reviewers",
    exclude_from_reference: np.ndarray | None = None,
) -> Residuals:
    """Every usable rating of ``table`` (read through ``table.codes``) with its reference
    and residual.

    ``exclude_from_reference`` (bool per rating) keeps ratings out of other reviewers'
    co-reviewer references (a drifting reviewer's work should not move their partners'
    references) while still giving them a residual of their own.
    """
    codes = table.codes
    n = len(codes)
    keyed = _key_lookup(codes, key)
    timed = codes.timed
    in_key = ~np.isnan(keyed) & timed
    rest = timed & np.isnan(keyed)
    reference = np.full(n, np.nan)
    source = np.full(n, -1, dtype=np.int64)
    reference[in_key] = keyed[in_key]
    source[in_key] = _KEY
    if rest.any():
        idx = np.flatnonzero(rest)
        cells = codes.cell()[idx]  # (submission, criterion, round) of each live rating
        if live_reference == "model":
            # Only double-scored cells: a single rating tells the model nothing about
            # the submission beyond that reviewer.
            use = idx[np.bincount(cells)[cells] >= 2]
            if len(use):
                reference[use] = _model_expected(table, use)
                source[use] = _MODEL
        else:
            contributes = np.ones(len(idx), dtype=bool)
            if exclude_from_reference is not None:
                contributes = ~np.asarray(exclude_from_reference, dtype=bool)[idx]
            ref, ok = _co_reviewer_mean(codes.score[idx], cells, contributes)
            reference[idx[ok]] = ref[ok]
            source[idx[ok]] = _CO
    return _residuals(codes, source, reference)


def _co_reviewer_mean(
    score: np.ndarray, cells: np.ndarray, contributes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per rating, the mean score of the *other* contributing ratings of its cell, and
    whether there is at least one (elsewhere the mean is not a number)."""
    score = score.astype(float)
    total = np.bincount(cells, weights=np.where(contributes, score, 0.0))
    count = np.bincount(cells, weights=contributes.astype(float))
    others = count[cells] - contributes
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = (total[cells] - np.where(contributes, score, 0.0)) / others
    return ref, others >= 1


def _residuals(codes: RatingCodes, source: np.ndarray, reference: np.ndarray) -> Residuals:
    """The :class:`Residuals` of the ratings that got a reference (``source >= 0``)."""
    used = np.flatnonzero(source >= 0)
    if len(used) == len(codes):  # every rating usable (the common case): no copies
        return Residuals(
            np.arange(len(codes)),
            codes.reviewer,
            codes.submission,
            codes.criterion,
            codes.round,
            codes.time,
            source,
            codes.score,
            reference,
            codes.score - reference,
        )
    return Residuals(
        used,
        codes.reviewer[used],
        codes.submission[used],
        codes.criterion[used],
        codes.round[used],
        codes.time[used],
        source[used],
        codes.score[used],
        reference[used],
        codes.score[used] - reference[used],
    )


@dataclass(frozen=True)
class Steps:
    """Chart steps: one per (reviewer, source, submission, round) scoring, sorted by
    reviewer, then time, then source.

    ``rev, source, sub, time, n, y`` per step (``y``: mean residual of its ``n``
    ratings, score points); ``step_of_rating`` maps each residual rating to its step.
    """

    rev: np.ndarray
    source: np.ndarray
    sub: np.ndarray
    time: np.ndarray
    n: np.ndarray
    y: np.ndarray
    step_of_rating: np.ndarray


def build_steps(res: Residuals, n_reviewers: int, n_submissions: int) -> Steps:
    """Group residual ratings into chart steps (vectorised)."""
    rev, src, sub = res.rev, res.source, res.sub
    rnd = res.rnd + 1
    n_rnd = int(rnd.max(initial=0)) + 1
    code = ((rev * len(SOURCES) + src) * max(n_submissions, 1) + sub) * n_rnd + rnd
    step, _ = pd.factorize(code)
    n_steps = int(step.max(initial=-1)) + 1
    first = np.full(n_steps, -1, dtype=np.int64)
    first[step[::-1]] = np.arange(len(step))[::-1]  # first rating of each step
    time = np.full(n_steps, np.iinfo(np.int64).max)
    np.minimum.at(time, step, res.time)
    n = np.bincount(step, minlength=n_steps)
    y = np.bincount(step, weights=res.residual, minlength=n_steps) / np.maximum(n, 1)
    s_rev, s_src, s_sub = rev[first], src[first], sub[first]
    order = np.lexsort((s_src, time, s_rev))
    rank = np.empty(n_steps, dtype=np.int64)
    rank[order] = np.arange(n_steps)
    return Steps(
        s_rev[order], s_src[order], s_sub[order], time[order], n[order], y[order], rank[step]
    )
