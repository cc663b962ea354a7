"""Each reviewer's control charts: self-starting scores per reference stream, merged CUSUM and EWMA paths, limits and first signals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calibrate.drift._charts import cusum_statistics, ewma_statistic, self_starting_scores
from calibrate.drift._group import GroupDrift
from calibrate.drift._limits import CHARTS, ChartSettings, Limits, reviewer_limits
from calibrate.drift._residuals import SOURCES, Residuals, Steps

__all__ = ["ChartFit", "Paths", "Signals", "fit_charts", "group_adjusted"]

NEVER = np.iinfo(np.int64).max  # the step of a chart that never signalled


@dataclass(frozen=True)
class Paths:
    """The merged chart of every reviewer (steps sorted by reviewer, time, source):
    ``starts`` and ``length`` of each reviewer's steps, ``pos`` of each step in its
    reviewer's chart, and reviewer x position matrices (NaN-padded) of the scores ``z``,
    the CUSUM sides ``up`` and ``lo`` and the EWMA ``ew``."""

    starts: np.ndarray
    length: np.ndarray
    pos: np.ndarray
    z: np.ndarray
    up: np.ndarray
    lo: np.ndarray
    ew: np.ndarray


@dataclass(frozen=True)
class Signals:
    """Per reviewer: the first signalling step of each chart (:data:`NEVER`: none) and
    the flag -- ``step``, ``chart`` (index into CHARTS, -1: no flag) and ``side`` (+1
    upper, more lenient; -1 lower) of the first flagging chart to signal."""

    first_of: dict[str, np.ndarray]
    step: np.ndarray
    chart: np.ndarray
    side: np.ndarray


@dataclass(frozen=True)
class ChartFit:
    """Everything the charts of one pass found: the (group-adjusted) step values ``y``,
    their self-starting scores ``score_z``, the pooled SD per source, the reference value
    ``k``, the paths, per-reviewer counts and eligibility (``ok``), limits and signals."""

    y: np.ndarray
    score_z: np.ndarray
    scale_of_src: np.ndarray
    scales: dict[str, float]
    k: float
    paths: Paths
    n_rat: np.ndarray
    n_by_src: np.ndarray
    n_scored: np.ndarray
    per_step: np.ndarray
    ok: np.ndarray
    limits: Limits
    signals: Signals


def group_adjusted(steps: Steps, group: GroupDrift) -> np.ndarray:
    """The step values with the group's shift taken out of key steps after its onset
    (when the group drifted): individual flags are then relative to the group."""
    y = steps.y.copy()
    if group.drifted and group.onset is not None:
        late = (steps.source == 0) & (steps.time >= group.onset.value)
        y[late] -= group.shift
    return y


def _pooled_scales(
    ys: np.ndarray, same: np.ndarray, src: np.ndarray
) -> tuple[np.ndarray, dict[str, float]]:
    """The SD of a step per source from successive differences within streams (``ys``
    in stream-then-time order, ``same``: a step continues the stream before it); 0.5
    where a source has no pair, at least 0.001."""
    scales: dict[str, float] = {}
    scale_of_src = np.full(len(SOURCES), 0.5)
    for code in range(len(SOURCES)):
        mine = same & (src == code)
        if mine.any():
            d2 = (ys[1:] - ys[:-1])[mine[1:]] ** 2
            sd = float(np.sqrt(d2.mean() / 2)) if len(d2) else 0.5
            scale_of_src[code] = max(sd, 1e-3)
            scales[SOURCES[code]] = float(scale_of_src[code])
    return scale_of_src, scales


def stream_scores(
    steps: Steps, y: np.ndarray, prior_df: float
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Self-starting scores of the steps, each (reviewer, source) stream standardised in
    time order against its own past, with the pooled scale per source as prior. Returns
    the scores (in step order), the scale per source code and per source name."""
    n_src = len(SOURCES)
    stream = steps.rev * n_src + steps.source
    order = np.lexsort((steps.time, stream))  # stream, then time (stable)
    s_sorted = stream[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    pos = np.arange(len(order)) - np.repeat(starts, lengths)
    ys = y[order]
    same = np.r_[False, s_sorted[1:] == s_sorted[:-1]]
    scale_of_src, scales = _pooled_scales(ys, same, steps.source[order])
    u = np.full(len(order), np.nan)
    if len(order):
        mat = np.full((len(starts), int(lengths.max())), np.nan)
        row = np.repeat(np.arange(len(starts)), lengths)
        mat[row, pos] = ys
        src_of_row = s_sorted[starts] % n_src
        um = self_starting_scores(mat, prior_scale=scale_of_src[src_of_row], prior_df=prior_df)
        u = um[row, pos]
    score_z = np.empty(len(order))
    score_z[order] = u
    return score_z, scale_of_src, scales


def reference_value(settings: ChartSettings, steps: Steps, scale_of_src: np.ndarray) -> float:
    """The CUSUM reference value: ``k``, or ``shift / (2 * sd)`` clipped to 0.1-1.5 with
    ``sd`` the step SD pooled over the sources by their numbers of steps."""
    if settings.shift is None:
        return float(settings.k)
    counts = np.bincount(steps.source, minlength=len(SOURCES)).astype(float)
    typical = (
        math.sqrt(float((counts * scale_of_src**2).sum() / counts.sum())) if counts.sum() else 0.5
    )
    return float(np.clip(float(settings.shift) / (2 * typical), 0.1, 1.5))


def reviewer_paths(steps: Steps, score_z: np.ndarray, n_rev: int, k: float, lam: float) -> Paths:
    """One chart per reviewer, the sources merged in time order (steps are sorted by
    reviewer, time, source): the CUSUM and EWMA of the scores, side by side."""
    starts = np.searchsorted(steps.rev, np.arange(n_rev))
    length = np.bincount(steps.rev, minlength=n_rev)
    pos = np.arange(len(steps.rev)) - starts[steps.rev]
    width = int(length.max(initial=0))
    z = np.full((n_rev, max(width, 1)), np.nan)
    z[steps.rev, pos] = score_z
    up, lo = cusum_statistics(z, k)
    ew = ewma_statistic(z, lam)
    return Paths(starts, length, pos, z, up, lo, ew)


def first_signals(
    paths: Paths, limits: Limits, ok: np.ndarray, lam: float, charts: tuple[str, ...]
) -> Signals:
    """Each chart's first signal per charted reviewer, and the flag: the first of the
    flagging ``charts`` to signal (the other chart's first signal is kept beside it)."""
    n_rev = len(ok)
    sd_ewma = math.sqrt(lam / (2 - lam))
    rows = np.arange(n_rev)
    first_of: dict[str, np.ndarray] = {}
    side_of: dict[str, np.ndarray] = {}
    for c in CHARTS:
        lim = limits.limits[c][:, None]
        if c == "cusum":
            hit_up, hit_lo = paths.up >= lim, paths.lo >= lim
        else:
            hit_up, hit_lo = paths.ew >= lim * sd_ewma, paths.ew <= -lim * sd_ewma
        hit = (hit_up | hit_lo) & ok[:, None]
        first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), NEVER)
        at = np.minimum(first, paths.z.shape[1] - 1)
        first_of[c] = first
        side_of[c] = np.where(hit_up[rows, at], 1.0, -1.0)
    sig_step = np.full(n_rev, NEVER)
    sig_chart = np.full(n_rev, -1)
    sig_side = np.zeros(n_rev)
    for ci, c in enumerate(CHARTS):
        if c not in charts:
            continue
        better = first_of[c] < sig_step
        sig_step = np.where(better, first_of[c], sig_step)
        sig_chart = np.where(better, ci, sig_chart)
        sig_side = np.where(better, side_of[c], sig_side)
    return Signals(first_of, sig_step, sig_chart, sig_side)


def fit_charts(
    res: Residuals, steps: Steps, y: np.ndarray, n_rev: int, settings: ChartSettings
) -> ChartFit:
    """Chart every reviewer: scores per stream, the reference value, merged paths, who
    has enough ratings and steps to be charted, their limits, and the signals."""
    score_z, scale_of_src, scales = stream_scores(steps, y, float(settings.prior_df))
    k = reference_value(settings, steps, scale_of_src)
    lam = float(settings.lam)
    paths = reviewer_paths(steps, score_z, n_rev, k, lam)
    n_rat = np.bincount(res.rev, minlength=n_rev)
    n_by_src = np.stack(
        [np.bincount(res.rev[res.source == code], minlength=n_rev) for code in range(len(SOURCES))]
    )
    n_scored = np.bincount(steps.rev[~np.isnan(score_z)], minlength=n_rev)
    per_step = n_rat / np.maximum(paths.length, 1)
    ok = (n_rat >= settings.min_ratings) & (n_scored >= settings.min_steps)
    limits = reviewer_limits(ok, paths.length, n_scored, per_step, k, settings)
    signals = first_signals(paths, limits, ok, lam, settings.charts)
    return ChartFit(
        y,
        score_z,
        scale_of_src,
        scales,
        k,
        paths,
        n_rat,
        n_by_src,
        n_scored,
        per_step,
        ok,
        limits,
        signals,
    )
