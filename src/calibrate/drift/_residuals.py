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

from calibrate.ratings import AnswerKey, RatingsTable

__all__ = ["SOURCES", "Residuals", "Steps", "build_steps", "residual_ratings"]

#: The references a residual can be taken against, in code order.
SOURCES = ("key", "co_reviewers", "model")
_KEY, _CO, _MODEL = 0, 1, 2


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64), pd.Index(
            col.cat.categories.astype(str), dtype=object
        )
    codes, uniques = pd.factorize(col.astype(str), sort=True)
    return codes.astype(np.int64), pd.Index(uniques, dtype=object)


@dataclass(frozen=True)
class _Coded:
    """The ratings table as integer arrays (one entry per rating row)."""

    rev: np.ndarray
    sub: np.ndarray
    crit: np.ndarray
    rnd: np.ndarray  # -1: no round
    kind: np.ndarray  # -1: not given
    score: np.ndarray
    time: np.ndarray  # int64 ns since the epoch; NaT -> min int64
    timed: np.ndarray  # bool
    reviewer_ids: pd.Index
    submission_ids: pd.Index
    criterion_ids: pd.Index


def _encode(table: RatingsTable) -> _Coded:
    f = table.frame
    rev, rev_ids = _codes(f["reviewer_id"])
    sub, sub_ids = _codes(f["submission_id"])
    crit_ids = pd.Index(list(table.rubric.criterion_ids), dtype=object)
    col = f["criterion_id"]
    if isinstance(col.dtype, pd.CategoricalDtype) and list(col.cat.categories) == list(crit_ids):
        crit = col.cat.codes.to_numpy().astype(np.int64)  # canonical: rubric order already
    else:
        crit = pd.Categorical(col.astype(str), categories=crit_ids).codes.astype(np.int64)
    rnd = (
        f["round_id"].cat.codes.to_numpy().astype(np.int64)
        if isinstance(f["round_id"].dtype, pd.CategoricalDtype)
        else pd.factorize(f["round_id"])[0].astype(np.int64)
    )
    kind = (
        f["kind"].cat.codes.to_numpy().astype(np.int64)
        if isinstance(f["kind"].dtype, pd.CategoricalDtype)
        else np.full(len(f), -1, dtype=np.int64)
    )
    times = f["rated_at"]
    timed = times.notna().to_numpy()
    time = pd.DatetimeIndex(times).as_unit("ns").asi8 if len(f) else np.zeros(0, np.int64)
    return _Coded(
        rev,
        sub,
        crit,
        rnd,
        kind,
        f["score"].to_numpy(dtype=np.int64),
        time,
        timed,
        rev_ids,
        sub_ids,
        crit_ids,
    )


def _key_lookup(coded: _Coded, key: AnswerKey | None) -> np.ndarray:
    """The key score of every rating (NaN where the key has none)."""
    out = np.full(len(coded.rev), np.nan)
    if key is None or len(key.frame) == 0:
        return out
    kf = key.frame
    ksub = pd.Categorical(kf["submission_id"].astype(str), categories=coded.submission_ids).codes
    kcrit = pd.Categorical(kf["criterion_id"].astype(str), categories=coded.criterion_ids).codes
    ok = (ksub >= 0) & (kcrit >= 0)
    n_crit = len(coded.criterion_ids)
    lut = np.full(len(coded.submission_ids) * n_crit, np.nan)
    lut[ksub[ok].astype(np.int64) * n_crit + kcrit[ok]] = kf["key_score"].to_numpy(float)[ok]
    return lut[coded.sub * n_crit + coded.crit]


def _cell_codes(coded: _Coded, mask: np.ndarray) -> np.ndarray:
    """A code per (submission, criterion, round) cell for the rows in ``mask``."""
    n_crit = len(coded.criterion_ids)
    n_rnd = int(coded.rnd.max(initial=-1)) + 2
    cell = (coded.sub[mask] * n_crit + coded.crit[mask]) * n_rnd + (coded.rnd[mask] + 1)
    return pd.factorize(cell)[0].astype(np.int64)


def _model_expected(table: RatingsTable, coded: _Coded, rows: np.ndarray) -> np.ndarray:
    """Expected score of an average-severity reviewer (many-facet Rasch, partial credit
    when criteria differ in levels) for the ratings ``rows``."""
    from calibrate.severity import ManyFacetRasch

    sub_table = RatingsTable(table.frame.iloc[rows].reset_index(drop=True), table.rubric)
    n_levels = {len(c.levels) for c in table.rubric.criteria}
    model: Literal["rating_scale", "partial_credit"] = (
        "rating_scale" if len(n_levels) == 1 else "partial_credit"
    )
    fit = ManyFacetRasch(model=model).fit(sub_table)
    ability = fit.ability_.reindex(coded.submission_ids[coded.sub[rows]]).to_numpy(float)
    difficulty = fit.difficulty_.reindex(coded.criterion_ids[coded.crit[rows]]).to_numpy(float)
    tau = fit.thresholds_.to_numpy(float)  # criteria x steps, NaN beyond a criterion's levels
    kmax = tau.shape[1] + 1
    cumtau = np.concatenate([np.zeros((tau.shape[0], 1)), np.cumsum(tau, axis=1)], axis=1)
    cumtau = np.where(np.isnan(cumtau), np.inf, cumtau)
    scores = np.array(
        [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in table.rubric.criteria],
        dtype=float,
    )
    crit = coded.crit[rows]
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
    coded: _Coded | None = None,
) -> tuple[Residuals, _Coded]:
    """Every usable rating with its reference and residual, and the coded table
    (``coded``: reuse an earlier encoding of the same table).

    ``exclude_from_reference`` (bool per rating) keeps ratings out of other reviewers'
    co-reviewer references (a drifting reviewer's work should not move their partners'
    references) while still giving them a residual of their own.
    """
    if coded is None:
        coded = _encode(table)
    n = len(coded.rev)
    keyed = _key_lookup(coded, key)
    in_key = ~np.isnan(keyed) & coded.timed
    other = ~np.isnan(keyed)
    rest = coded.timed & ~other
    reference = np.full(n, np.nan)
    source = np.full(n, -1, dtype=np.int64)
    reference[in_key] = keyed[in_key]
    source[in_key] = _KEY
    if rest.any():
        idx = np.flatnonzero(rest)
        if live_reference == "model":
            # Only double-scored cells: a single rating tells the model nothing about
            # the submission beyond that reviewer.
            cells = _cell_codes(coded, rest)
            many = np.bincount(cells)[cells] >= 2
            use = idx[many]
            if len(use):
                reference[use] = _model_expected(table, coded, use)
                source[use] = _MODEL
        else:
            cells = _cell_codes(coded, rest)
            score = coded.score[idx].astype(float)
            contributes = np.ones(len(idx), dtype=bool)
            if exclude_from_reference is not None:
                contributes = ~np.asarray(exclude_from_reference, dtype=bool)[idx]
            total = np.bincount(cells, weights=np.where(contributes, score, 0.0))
            count = np.bincount(cells, weights=contributes.astype(float))
            others = count[cells] - contributes
            with np.errstate(invalid="ignore", divide="ignore"):
                ref = (total[cells] - np.where(contributes, score, 0.0)) / others
            ok = others >= 1
            reference[idx[ok]] = ref[ok]
            source[idx[ok]] = _CO
    used = np.flatnonzero(source >= 0)
    if len(used) == n:  # every rating usable (the common case): no copies
        return (
            Residuals(
                np.arange(n),
                coded.rev,
                coded.sub,
                coded.crit,
                coded.rnd,
                coded.time,
                source,
                coded.score,
                reference,
                coded.score - reference,
            ),
            coded,
        )
    out = Residuals(
        used,
        coded.rev[used],
        coded.sub[used],
        coded.crit[used],
        coded.rnd[used],
        coded.time[used],
        source[used],
        coded.score[used],
        reference[used],
        coded.score[used] - reference[used],
    )
    return out, coded


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
