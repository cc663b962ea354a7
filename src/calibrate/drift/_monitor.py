"""Reviewer drift over time: self-starting CUSUM and EWMA charts per reviewer on residuals
against the key and against co-reviewers, group drift, and severity per time window."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_int
from calibrate.drift._charts import (
    cusum_arl,
    cusum_false_alarm_curve,
    cusum_false_alarm_rate,
    cusum_limit,
    cusum_statistics,
    ewma_arl,
    ewma_false_alarm_curve,
    ewma_false_alarm_rate,
    ewma_limit,
    ewma_statistic,
    self_starting_scores,
)
from calibrate.drift._group import (
    GroupDrift,
    group_drift_test,
    json_value,
    window_codes,
    window_tests,
)
from calibrate.drift._residuals import SOURCES, Residuals, Steps, build_steps, residual_ratings
from calibrate.ratings import KINDS, AnswerKey, RatingsTable

__all__ = ["DriftMonitor", "DriftReport", "detect_drift"]

CHARTS = ("cusum", "ewma")
_HORIZON_GRID = 1.1  # per-reviewer horizons are rounded up to powers of this (fewer limits)


# ---- settings checks ------------------------------------------------------------------
def _number(
    name: str, value: object, lo: float, hi: float, *, lo_open: bool, hi_open: bool
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    v = float(value)
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
        raise ValueError(f"{name} must be a number in {left}{lo:g}, {hi:g}{right}; got {value!r}")
    return v


@dataclass(frozen=True)
class DriftReport:
    """What a :class:`DriftMonitor` found, as plain tables and JSON-ready values.

    Attributes
    ----------
    flags : DataFrame
        One row per flagged reviewer (see :attr:`DriftMonitor.flags_`).
    evidence : dict of str to DataFrame
        Per flagged reviewer, the ratings from the onset to the signal.
    checked : DataFrame
        Every reviewer: ratings per source, status and reason, limits, flagged.
    group : GroupDrift
    window_tests : DataFrame
        Per reviewer and source: the test for a change of severity across time windows.
    settings : dict
    """

    flags: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(repr=False)
    checked: pd.DataFrame = field(repr=False)
    group: GroupDrift = field(repr=False)
    window_tests: pd.DataFrame = field(repr=False)
    settings: dict[str, Any] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The flags table (a copy)."""
        return self.flags.copy()

    def to_dict(self) -> dict[str, Any]:
        """``{"flags": [...], "reviewers_checked": [...], "group": {...},
        "window_tests": [...], "settings": {...}}`` with times as ISO text; each flag
        carries its evidence rows."""

        flags = []
        for rec in self.flags.to_dict(orient="records"):
            row = {k: json_value(v) for k, v in rec.items()}
            ev = self.evidence.get(str(rec["reviewer_id"]))
            row["evidence"] = (
                []
                if ev is None
                else [
                    {k: json_value(v) for k, v in r.items()} for r in ev.to_dict(orient="records")
                ]
            )
            flags.append(row)
        checked = [
            {k: json_value(v) for k, v in r.items()} for r in self.checked.to_dict(orient="records")
        ]
        tests = [
            {k: json_value(v) for k, v in r.items()}
            for r in self.window_tests.to_dict(orient="records")
        ]
        return {
            "flags": flags,
            "reviewers_checked": checked,
            "group": self.group.to_dict(),
            "window_tests": tests,
            "settings": dict(self.settings),
        }

    def _repr_html_(self) -> str:
        shown = self.flags[
            [
                c
                for c in ("reviewer_id", "onset", "direction", "magnitude", "chart", "source")
                if c in self.flags
            ]
        ]
        n_checked = int((self.checked["status"] == "checked").sum())
        return (
            f"<div><strong>Drift</strong><p>{len(self.flags)} of {n_checked} reviewers checked "
            f"flagged. {html.escape(self.group.reason)}</p>"
            + shown.to_html(index=False, float_format=lambda x: f"{x:.3f}")
            + "</div>"
        )


class DriftMonitor:
    """Flag reviewers whose scoring drifts over time, and tell group drift from one
    reviewer's.

    Each rating is compared with a reference: the key on anchors and seeded anchors, the
    other reviewers' mean on double-scored work (or a many-facet Rasch expectation). A
    reviewer's residuals, averaged per scoring and ordered by ``rated_at``, become
    self-starting normal scores -- each scoring against that reviewer's own past, so a
    steady severity is not drift -- and feed a two-sided CUSUM (which raises the flags by
    default) and an EWMA chart (drawn beside it), with limits that give a stated
    false-alarm probability over a stated number of ratings (or a stated in-control ARL).

    Parameters
    ----------
    k : float
        CUSUM reference value in SD units of a scoring's self-starting score. The 0.35
        default is tuned to what the charts see: a half-level shift shows as about 0.36
        score points of residual, 1.2-1.5 SD of a scoring's mean, but the self-starting
        scores absorb a sustained shift into the reviewer's running baseline, so the
        standardised shift shrinks as the drift goes on; a small ``k`` keeps the chart
        climbing (measured with the simulation of ``tests/drift``: k = 0.5 leaves about
        11% of half-level drifters unflagged 150 ratings after the onset, k = 0.35 about
        6%, at the same false-alarm rate).
    shift : float or None
        Instead of ``k``: the drift worth detecting in score points; ``k = shift / (2 *
        sd)`` (clipped to 0.1-1.5), ``sd`` the pooled SD of a scoring's mean residual.
    false_alarm_rate : float
        Probability that a steady reviewer is flagged within ``horizon`` ratings (split
        equally between the flagging charts; each CUSUM side gets half of its share).
    horizon : int or None
        Ratings over which ``false_alarm_rate`` holds, converted to chart steps with each
        reviewer's ratings per scoring (and rounded up, so the rate is kept). None (the
        default): each reviewer's own record -- a retrospective check in which a steady
        reviewer is flagged with at most that probability, however long their record.
    arl : float or None
        Instead of ``false_alarm_rate``: each chart's in-control average run length, in
        ratings (pass ``false_alarm_rate=None``).
    charts : sequence of {'cusum', 'ewma'}
        The charts that raise flags. A chart not listed is still computed and shown,
        with limits designed as if it were the only one.
    lam : float
        EWMA smoothing constant.
    prior_df : float
        Pseudo-observations of the pooled SD steadying each stream's first scores.
    live_reference : {'co_reviewers', 'model'}
        Reference for work the key does not cover.
    min_ratings, min_steps : int
        A reviewer is charted only with at least this many referenced ratings and
        scorings (others are listed as insufficient, with the reason).
    n_windows : int
        Equal calendar windows for severity per window and its test.
    window_alpha : float
        Holm-adjusted level of the per-reviewer tests of change across windows.
    group_alpha, group_min_shift : float
        Group drift needs a permutation p-value at most ``group_alpha`` and a median
        shift of at least ``group_min_shift`` score points.
    n_permutations : int
        Permutations of the group test.
    refine : bool
        After a first pass, keep flagged reviewers' ratings after their onset out of
        their partners' co-reviewer references and chart again.
    rng : None, int or Generator
        Randomness of the group permutation test.

    Attributes
    ----------
    flags_ : DataFrame
        One row per flagged reviewer: ``reviewer_id``, ``onset`` (a ``rated_at``: first
        scoring of the excursion that ended in the signal), ``signal_at``, ``direction``
        (``'more_lenient'``: higher scores than the reference, ``'harsher'``),
        ``magnitude`` (size of the shift, score points per rating: mean residual after
        the onset minus before), ``shift`` (signed), ``chart`` (the first to signal),
        ``source`` (references of the evidence: ``'key'``, ``'co_reviewers'``,
        ``'model'`` or joined with ``+``), ``n_evidence`` (ratings from onset to
        signal), ``ratings_after_onset`` (to the signal, inclusive),
        ``false_alarm_rate`` (probability a steady reviewer with this workload is flagged
        within the horizon), ``false_alarm_rate_record`` (... within their whole record),
        ``arl`` (in-control ARL of the signalling chart, ratings), ``limit``, ``k``,
        ``relative_to_group``.
    evidence_ : dict of str to DataFrame
        Per flagged reviewer: ``submission_id, criterion_id, rated_at, kind, source,
        score, reference, residual`` of the ratings from onset to signal.
    checked_ : DataFrame
        Every reviewer in the table: ``n_ratings``, ``n_key``, ``n_co_reviewers``,
        ``n_model``, ``n_steps``, ``status`` (``'checked'`` or ``'insufficient'``),
        ``reason``, ``horizon_steps``, ``cusum_limit``, ``ewma_limit``,
        ``false_alarm_rate``, ``flagged``.
    charts_ : DataFrame
        Every charted step: ``reviewer_id, step, rated_at, source, submission_id,
        n_ratings, residual, score_z, cusum_upper, cusum_lower, ewma``.
    group_ : GroupDrift
    windows_ : DataFrame
        Severity per time window: ``reviewer_id, source, window, start, end,
        n_scorings, n_ratings, mean_residual, severity`` (``-mean_residual``: positive =
        harsher than the reference, as elsewhere in the kit).
    window_tests_ : DataFrame
        ``reviewer_id, source, n_scorings, n_windows, f, df1, df2, p_value, change,
        p_holm, changed``.
    k_, scales_ : float, dict
        The CUSUM reference value used and the pooled SD of a scoring per source.
    settings_ : dict

    Notes
    -----
    *Residuals and steps.* See :mod:`calibrate.drift._residuals`: a step is a reviewer's
    scoring of one submission; its value the mean residual of its ratings (score
    points). Criteria of one scoring share a halo, so they are one observation.

    *Self-starting scores.* Per reviewer and source, step ``n`` is standardised against
    the mean and SD of that stream's earlier steps (:func:`self_starting_scores`,
    Hawkins 1987, Quesenberry 1991). In control these are (nearly) i.i.d. N(0, 1), so
    one set of limits serves every reviewer, whatever their severity or consistency,
    without a separate baseline period whose estimation error would inflate false
    alarms. The sources are merged in time order into one chart per reviewer.

    *Charts and limits.* Two-sided tabular CUSUM (Page 1954) with reference ``k`` and
    an EWMA (Roberts 1959) with asymptotic limits. Limits solve the Brook & Evans (1972)
    Markov chain for a false-alarm probability over the horizon (``false_alarm_rate``
    split equally between flagging charts, Bonferroni), or for an in-control ARL (Lucas &
    Crosier 1982; Lucas & Saccucci 1990). The chain assumes i.i.d. N(0, 1) scores; the
    scores of real residuals (discrete, shrunk early by ``prior_df``) are a little
    lighter-tailed, so the realised rate is somewhat below the design (3-4% for 5% in
    ``tests/drift``).

    *Onset and size.* The onset is the start of the CUSUM excursion that signalled (the
    last time that side was at zero, plus one: the usual estimate of the change point,
    Montgomery 2019, section 9.1). The size is the mean residual per rating after the
    onset minus before it, per source, combined by inverse variance. Flags carry the
    first signal only; the chart goes on without a restart.

    *Group drift.* Co-reviewer residuals cancel a drift everyone shares, so the group is
    tested on key-referenced ratings alone (:func:`~calibrate.drift._group.group_drift_test`).
    When the group drifted, its shift is taken out of every key residual after its onset
    before the reviewers are charted: individual flags are then relative to the group.

    *Operating characteristics* (``tests/drift``; reviewers drawn as
    :mod:`calibrate.synth` draws them, scoring seeded anchors; 4 seeds x 2,000
    reviewers): steady reviewers are flagged over 200 ratings 3.8% +- 0.2% (three
    criteria) and 3.3% +- 0.2% (six) of the time, against a design of 5%. A half-level
    shift after 100 ratings is flagged within 30 reviews 89% (three criteria, 90
    ratings) and 95% (six criteria, 180 ratings) of the time, always in the right
    direction, but within 30 *ratings* only 41% and 23%: 90% takes about 96 and 120
    ratings. Over ten synthetic district programs in which every reviewer drifts by half
    a level, the group test fired every time, in the right direction, and 3-4% of the
    reviewers were flagged individually (relative to the group).

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. *Biometrika*, 41, 100-115.
    Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
    *Technometrics*, 1, 239-250.
    Brook, D., & Evans, D. A. (1972). An approach to the probability distribution of
    CUSUM run length. *Biometrika*, 59, 539-549.
    Hawkins, D. M. (1987). Self-starting CUSUM charts for location and scale.
    *The Statistician*, 36, 299-315.
    Lucas, J. M., & Saccucci, M. S. (1990). Exponentially weighted moving average control
    schemes. *Technometrics*, 32, 1-12.
    Montgomery, D. C. (2019). *Introduction to Statistical Quality Control* (8th ed.).

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.drift import DriftMonitor
    >>> program = read_program("data/synthetic/district")
    >>> monitor = DriftMonitor(rng=0).fit(program.ratings, program.key)
    >>> {"R007", "R008", "R020"} <= set(monitor.flags_["reviewer_id"])
    True
    >>> sorted(set(monitor.flags_["direction"]))
    ['more_lenient']
    >>> bool(monitor.group_.drifted)
    False
    """

    def __init__(
        self,
        *,
        k: float = 0.35,
        shift: float | None = None,
        false_alarm_rate: float | None = 0.05,
        horizon: int | None = None,
        arl: float | None = None,
        charts: Sequence[Literal["cusum", "ewma"]] = ("cusum",),
        lam: float = 0.1,
        prior_df: float = 2.0,
        live_reference: Literal["co_reviewers", "model"] = "co_reviewers",
        min_ratings: int = 20,
        min_steps: int = 5,
        n_windows: int = 4,
        window_alpha: float = 0.05,
        group_alpha: float = 0.05,
        group_min_shift: float = 0.2,
        n_permutations: int = 199,
        refine: bool = True,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.shift = shift
        self.false_alarm_rate = false_alarm_rate
        self.horizon = horizon
        self.arl = arl
        self.charts = charts
        self.lam = lam
        self.k = k
        self.prior_df = prior_df
        self.live_reference = live_reference
        self.min_ratings = min_ratings
        self.min_steps = min_steps
        self.n_windows = n_windows
        self.window_alpha = window_alpha
        self.group_alpha = group_alpha
        self.group_min_shift = group_min_shift
        self.n_permutations = n_permutations
        self.refine = refine
        self.rng = rng

    # ---- settings ---------------------------------------------------------------------
    def _check(self) -> None:
        _number("k", self.k, 0, 5, lo_open=False, hi_open=False)
        if self.shift is not None:
            _number("shift", self.shift, 0, 10, lo_open=True, hi_open=False)
        if self.arl is None:
            if self.false_alarm_rate is None:
                raise ValueError("give false_alarm_rate=... (with horizon) or arl=...")
            _number("false_alarm_rate", self.false_alarm_rate, 0, 1, lo_open=True, hi_open=True)
            if self.horizon is not None:
                check_int("horizon", self.horizon, 1)
        else:
            _number("arl", self.arl, 1, math.inf, lo_open=True, hi_open=True)
        charts = [self.charts] if isinstance(self.charts, str) else list(self.charts)
        bad = [c for c in charts if c not in CHARTS]
        if bad or not charts or len(set(charts)) != len(charts):
            raise ValueError(
                f"charts must be a non-empty selection of {list(CHARTS)} without repeats; got {self.charts!r}"
            )
        _number("lam", self.lam, 0, 1, lo_open=True, hi_open=False)
        _number("prior_df", self.prior_df, 0, 1000, lo_open=False, hi_open=False)
        if self.live_reference not in ("co_reviewers", "model"):
            raise ValueError(
                f"live_reference must be 'co_reviewers' or 'model'; got {self.live_reference!r}"
            )
        check_int("min_ratings", self.min_ratings, 1)
        check_int("min_steps", self.min_steps, 3)
        check_int("n_windows", self.n_windows, 1)
        for name in ("window_alpha", "group_alpha"):
            _number(name, getattr(self, name), 0, 1, lo_open=True, hi_open=True)
        _number("group_min_shift", self.group_min_shift, 0, 10, lo_open=False, hi_open=False)
        check_int("n_permutations", self.n_permutations, 1)
        if not isinstance(self.refine, bool):
            raise TypeError(f"refine must be True or False; got {self.refine!r}")

    # ---- fitting ----------------------------------------------------------------------
    def fit(self, ratings: RatingsTable, key: AnswerKey | None = None) -> DriftMonitor:
        """Monitor every reviewer of ``ratings`` (``key``: the answer key of the anchors,
        if any). Returns ``self``."""
        self._check()
        if not isinstance(ratings, RatingsTable):
            raise TypeError(
                f"ratings must be a calibrate.ratings.RatingsTable; got {type(ratings).__name__}"
            )
        if key is not None and not isinstance(key, AnswerKey):
            raise TypeError(
                f"key must be a calibrate.ratings.AnswerKey or None; got {type(key).__name__}"
            )
        if len(ratings) == 0:
            raise ValueError("ratings is empty: drift needs ratings ordered in time")
        if not ratings.frame["rated_at"].notna().any():
            raise ValueError(
                "ratings have no rated_at times: drift needs each rating's time (column rated_at)"
            )
        rng = np.random.default_rng(self.rng)
        self._charts = [self.charts] if isinstance(self.charts, str) else list(self.charts)
        coded = ratings.codes
        res = residual_ratings(ratings, key, live_reference=self.live_reference)
        self._table, self._coded = ratings, coded
        steps = build_steps(res, coded.n_reviewers, coded.n_submissions)
        times = ratings.frame["rated_at"].dropna()
        t0, t1 = times.min().value, times.max().value
        edges = np.linspace(t0, t1 + 1, self.n_windows + 1).astype(np.int64)
        self._edges = edges

        # group drift on key-referenced steps; shift taken out of key residuals if it drifted
        is_key = steps.source == 0
        self.group_ = group_drift_test(
            steps.rev[is_key],
            steps.time[is_key],
            steps.y[is_key],
            edges,
            alpha=float(self.group_alpha),
            min_shift=float(self.group_min_shift),
            n_permutations=int(self.n_permutations),
            rng=rng,
        )
        self._raw_steps = steps
        self._fit_charts(res, steps)
        if (
            self.refine
            and self.live_reference == "co_reviewers"
            and len(self._flag_rows)
            and (steps.source == 1).any()
        ):
            exclude = np.zeros(len(coded), dtype=bool)
            rev_code = {name: i for i, name in enumerate(coded.reviewer_ids)}
            for r in self._flag_rows:
                mine = coded.reviewer == rev_code[r["reviewer_id"]]
                exclude |= mine & (coded.time >= r["onset"].value) & coded.timed
            res = residual_ratings(
                ratings,
                key,
                live_reference=self.live_reference,
                exclude_from_reference=exclude,
            )
            steps = build_steps(res, coded.n_reviewers, coded.n_submissions)
            self._raw_steps = steps
            self._fit_charts(res, steps)
        self._windows(steps)
        return self

    def _adjusted_y(self, steps: Steps) -> np.ndarray:
        y = steps.y.copy()
        g = self.group_
        if g.drifted and g.onset is not None:
            late = (steps.source == 0) & (steps.time >= g.onset.value)
            y[late] -= g.shift
        return y

    def _fit_charts(self, res: Residuals, steps: Steps) -> None:
        coded = self._coded
        n_rev = len(coded.reviewer_ids)
        y = self._adjusted_y(steps)
        n_src = len(SOURCES)

        # -- per (reviewer, source) streams: pooled scale, self-starting scores --------
        stream = steps.rev * n_src + steps.source
        order = np.lexsort((steps.time, stream))  # stream, then time (stable)
        s_sorted = stream[order]
        starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
        lengths = np.diff(np.r_[starts, len(order)])
        pos = np.arange(len(order)) - np.repeat(starts, lengths)
        ys = y[order]
        same = np.r_[False, s_sorted[1:] == s_sorted[:-1]]
        scales: dict[str, float] = {}
        scale_of_src = np.full(n_src, 0.5)
        for code in range(n_src):
            mine = same & (steps.source[order] == code)
            if mine.any():
                d2 = (ys[1:] - ys[:-1])[mine[1:]] ** 2
                sd = float(np.sqrt(d2.mean() / 2)) if len(d2) else 0.5
                scale_of_src[code] = max(sd, 1e-3)
                scales[SOURCES[code]] = float(scale_of_src[code])
        self.scales_ = scales
        u = np.full(len(order), np.nan)
        if len(order):
            mat = np.full((len(starts), int(lengths.max())), np.nan)
            row = np.repeat(np.arange(len(starts)), lengths)
            mat[row, pos] = ys
            src_of_row = s_sorted[starts] % n_src
            um = self_starting_scores(
                mat, prior_scale=scale_of_src[src_of_row], prior_df=float(self.prior_df)
            )
            u = um[row, pos]
        score_z = np.empty(len(order))
        score_z[order] = u

        # -- CUSUM reference value -------------------------------------------------------
        if self.shift is None:
            k = float(self.k)
        else:
            counts = np.bincount(steps.source, minlength=n_src).astype(float)
            typical = (
                math.sqrt(float((counts * scale_of_src**2).sum() / counts.sum()))
                if counts.sum()
                else 0.5
            )
            k = float(np.clip(float(self.shift) / (2 * typical), 0.1, 1.5))
        self.k_ = k

        # -- merged chart per reviewer (steps are sorted by reviewer, time, source) -----
        r_starts = np.searchsorted(steps.rev, np.arange(n_rev))
        r_len = np.bincount(steps.rev, minlength=n_rev)
        r_pos = np.arange(len(steps.rev)) - r_starts[steps.rev]
        width = int(r_len.max(initial=0))
        z = np.full((n_rev, max(width, 1)), np.nan)
        z[steps.rev, r_pos] = score_z
        up, lo = cusum_statistics(z, k)
        ew = ewma_statistic(z, float(self.lam))

        # -- eligibility and limits per reviewer ----------------------------------------
        n_rat = np.bincount(res.rev, minlength=n_rev)
        n_by_src = np.stack(
            [np.bincount(res.rev[res.source == code], minlength=n_rev) for code in range(n_src)]
        )
        n_scored = np.bincount(steps.rev[~np.isnan(score_z)], minlength=n_rev)
        per_step = n_rat / np.maximum(r_len, 1)
        ok = (n_rat >= self.min_ratings) & (n_scored >= self.min_steps)
        lam = float(self.lam)
        design: dict[int, dict[str, float]] = {}
        horizon_steps = np.zeros(n_rev, dtype=np.int64)
        limits = {c: np.full(n_rev, np.nan) for c in CHARTS}
        fap = np.full(n_rev, np.nan)
        fap_record = np.full(n_rev, np.nan)
        arl_steps = {c: np.full(n_rev, np.nan) for c in CHARTS}
        for r in np.flatnonzero(ok):
            if self.arl is not None:
                key_n = _round_up(float(self.arl) / per_step[r])
            else:
                n_h = r_len[r] if self.horizon is None else float(self.horizon) / per_step[r]
                key_n = _round_up(n_h)
            horizon_steps[r] = key_n
            if key_n not in design:
                design[key_n] = self._design(key_n, k, lam)
            d = design[key_n]
            for c in CHARTS:
                limits[c][r] = d[f"{c}_limit"]
                arl_steps[c][r] = d[f"{c}_arl"]
            fap[r] = d["false_alarm_rate"]
        # each reviewer's false-alarm probability over their own record: one run-length
        # curve per design, read at every record length
        for key_n, d in design.items():
            mine = np.flatnonzero(ok & (horizon_steps == key_n))
            n_rec = np.maximum(n_scored[mine], 1)
            top = int(n_rec.max())
            curve = np.zeros(top + 1)
            for c in self._charts:
                curve += (
                    cusum_false_alarm_curve(k, d["cusum_limit"], top)
                    if c == "cusum"
                    else ewma_false_alarm_curve(lam, d["ewma_limit"], top)
                )
            fap_record[mine] = np.minimum(curve[n_rec], 1.0)
        self.design_ = design

        # -- signals: the first of the flagging charts; the other chart's first signal
        # is reported beside it ----------------------------------------------------------
        never = np.iinfo(np.int64).max
        sd_ewma = math.sqrt(lam / (2 - lam))
        rows = np.arange(n_rev)
        first_of: dict[str, np.ndarray] = {}
        side_of: dict[str, np.ndarray] = {}
        for c in CHARTS:
            lim = limits[c][:, None]
            if c == "cusum":
                hit_up, hit_lo = up >= lim, lo >= lim
            else:
                hit_up, hit_lo = ew >= lim * sd_ewma, ew <= -lim * sd_ewma
            hit = (hit_up | hit_lo) & ok[:, None]
            first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), never)
            at = np.minimum(first, z.shape[1] - 1)
            first_of[c] = first
            side_of[c] = np.where(hit_up[rows, at], 1.0, -1.0)
        sig_step = np.full(n_rev, never)
        sig_chart = np.full(n_rev, -1)
        sig_side = np.zeros(n_rev)
        for ci, c in enumerate(CHARTS):
            if c not in self._charts:
                continue
            better = first_of[c] < sig_step
            sig_step = np.where(better, first_of[c], sig_step)
            sig_chart = np.where(better, ci, sig_chart)
            sig_side = np.where(better, side_of[c], sig_side)

        # -- flags -----------------------------------------------------------------------
        rev_ids = coded.reviewer_ids
        flag_rows: list[dict[str, Any]] = []
        evidence: dict[str, pd.DataFrame] = {}
        rating_rows = res.row
        rating_step_pos = r_pos[steps.step_of_rating]
        rating_rev = res.rev
        rating_src = res.source
        rating_score = res.score
        rating_ref = res.reference
        rating_resid = res.residual
        sub_names = np.asarray(coded.submission_ids, dtype=object)
        crit_names = np.asarray(coded.criterion_ids, dtype=object)
        src_names = np.asarray(SOURCES, dtype=object)
        flagged_rev = np.flatnonzero(sig_chart >= 0)
        pos_flagged = np.flatnonzero(np.isin(rating_rev, flagged_rev))
        by_rev = {
            r: pos_flagged[i]
            for r, i in pd.Series(pos_flagged).groupby(rating_rev[pos_flagged]).indices.items()
        }
        for r in flagged_rev:
            s = int(sig_step[r])
            side = sig_side[r]
            path = up[r] if side > 0 else lo[r]
            # the CUSUM excursion that ended at (or spans) the signal: last zero before it
            zeros = np.flatnonzero((path[: s + 1] == 0) | np.isnan(path[: s + 1]))
            on = int(zeros[-1]) + 1 if len(zeros) else 0
            on = min(on, s)
            mine = slice(r_starts[r], r_starts[r] + r_len[r])
            times_r = steps.time[mine]
            src_r = steps.source[mine]
            onset_ns, signal_ns = int(times_r[on]), int(times_r[s])
            shift, used = _size(times_r, src_r, steps.n[mine], y[mine], onset_ns, scale_of_src)
            idx = by_rev.get(r, np.zeros(0, dtype=np.int64))
            window = idx[(rating_step_pos[idx] >= on) & (rating_step_pos[idx] <= s)]
            ev_rows = rating_rows[window]
            ev = pd.DataFrame(
                {
                    "submission_id": sub_names[coded.submission[ev_rows]],
                    "criterion_id": crit_names[coded.criterion[ev_rows]],
                    "rated_at": pd.to_datetime(coded.time[ev_rows], utc=True),
                    "kind": _kind_text(coded.kind[ev_rows]),
                    "source": src_names[rating_src[window]],
                    "score": rating_score[window],
                    "reference": rating_ref[window],
                    "residual": rating_resid[window],
                }
            )
            ev = ev.sort_values(["rated_at", "submission_id", "criterion_id"], kind="stable")
            evidence[str(rev_ids[r])] = ev.reset_index(drop=True)
            chart = CHARTS[int(sig_chart[r])]
            srcs = sorted(set(ev["source"]), key=SOURCES.index) or [SOURCES[int(src_r[s])]]
            key_after = bool(((src_r == 0) & (times_r >= onset_ns)).any())
            flag_rows.append(
                {
                    "reviewer_id": str(rev_ids[r]),
                    "onset": pd.Timestamp(onset_ns, tz="UTC"),
                    "signal_at": pd.Timestamp(signal_ns, tz="UTC"),
                    "direction": "more_lenient" if side > 0 else "harsher",
                    "magnitude": abs(shift),
                    "shift": shift,
                    "chart": chart,
                    "source": "+".join(srcs),
                    "n_evidence": len(ev),
                    "ratings_after_onset": len(ev),
                    "sources_in_size": "+".join(used),
                    "false_alarm_rate": float(fap[r]),
                    "false_alarm_rate_record": float(fap_record[r]),
                    "arl": float(arl_steps[chart][r] * per_step[r]),
                    "limit": float(limits[chart][r]),
                    "k": k,
                    "relative_to_group": bool(self.group_.drifted and key_after),
                    "cusum_signal_at": _time_at(times_r, first_of["cusum"][r]),
                    "ewma_signal_at": _time_at(times_r, first_of["ewma"][r]),
                }
            )
        self._flag_rows = flag_rows
        columns = [
            "reviewer_id",
            "onset",
            "signal_at",
            "direction",
            "magnitude",
            "shift",
            "chart",
            "source",
            "n_evidence",
            "ratings_after_onset",
            "sources_in_size",
            "false_alarm_rate",
            "false_alarm_rate_record",
            "arl",
            "limit",
            "k",
            "relative_to_group",
            "cusum_signal_at",
            "ewma_signal_at",
        ]
        flags = pd.DataFrame(flag_rows, columns=columns)
        for col in ("onset", "signal_at", "cusum_signal_at", "ewma_signal_at"):
            flags[col] = pd.to_datetime(flags[col], utc=True)  # typed even when empty
        if flags.empty:
            flags = flags.astype(
                {
                    "magnitude": float,
                    "shift": float,
                    "n_evidence": np.int64,
                    "ratings_after_onset": np.int64,
                    "false_alarm_rate": float,
                    "false_alarm_rate_record": float,
                    "arl": float,
                    "limit": float,
                    "k": float,
                    "relative_to_group": bool,
                }
            )
        self.flags_ = flags.sort_values(["onset", "reviewer_id"], kind="stable").reset_index(
            drop=True
        )
        self.evidence_ = evidence

        # -- who was checked -------------------------------------------------------------
        all_ids = [str(v) for v in rev_ids]
        present = np.bincount(coded.reviewer, minlength=n_rev)
        reason = []
        for i in range(n_rev):
            if ok[i]:
                reason.append("")
            elif n_rat[i] == 0:
                reason.append(
                    "no ratings with a time and a reference (key, or another reviewer on the same work)"
                )
            else:
                reason.append(
                    f"{int(n_rat[i])} referenced ratings in {int(n_scored[i])} scored steps; "
                    f"needs at least {self.min_ratings} ratings and {self.min_steps} steps"
                )
        flagged = set(flags["reviewer_id"])
        self.checked_ = pd.DataFrame(
            {
                "reviewer_id": all_ids,
                "n_ratings": present,
                "n_referenced": n_rat,
                "n_key": n_by_src[0],
                "n_co_reviewers": n_by_src[1],
                "n_model": n_by_src[2],
                "n_steps": r_len,
                "status": np.where(ok, "checked", "insufficient"),
                "reason": reason,
                "horizon_steps": np.where(ok, horizon_steps, 0),
                "cusum_limit": limits["cusum"],
                "ewma_limit": limits["ewma"],
                "false_alarm_rate": fap,
                "false_alarm_rate_record": fap_record,
                "flagged": [rid in flagged for rid in all_ids],
            }
        )
        self.checked_ = self.checked_.loc[present > 0].reset_index(drop=True)

        # -- chart table for plots ------------------------------------------------------
        self.charts_ = pd.DataFrame(
            {
                "reviewer_id": _reviewer_categorical(self._table, steps.rev),
                "step": r_pos,
                "rated_at": pd.to_datetime(steps.time, utc=True),
                "source": pd.Categorical.from_codes(
                    steps.source, categories=pd.Index(SOURCES, dtype=object)
                ),
                "submission_id": np.asarray(coded.submission_ids, dtype=object)[steps.sub],
                "n_ratings": steps.n,
                "residual": y,
                "score_z": score_z,
                "cusum_upper": up[steps.rev, r_pos],
                "cusum_lower": lo[steps.rev, r_pos],
                "ewma": ew[steps.rev, r_pos],
            }
        )
        self.settings_: dict[str, Any] = {
            "shift": None if self.shift is None else float(self.shift),
            "false_alarm_rate": None if self.arl is not None else float(self.false_alarm_rate),  # type: ignore[arg-type]
            "horizon": self.horizon,
            "horizon_unit": "ratings",
            "arl": None if self.arl is None else float(self.arl),
            "charts": list(self._charts),
            "k": k,
            "lam": lam,
            "prior_df": float(self.prior_df),
            "scales": dict(scales),
            "live_reference": self.live_reference,
            "min_ratings": int(self.min_ratings),
            "min_steps": int(self.min_steps),
            "n_windows": int(self.n_windows),
            "group_alpha": float(self.group_alpha),
            "group_min_shift": float(self.group_min_shift),
            "refine": bool(self.refine),
        }

    def _design(self, n: int, k: float, lam: float) -> dict[str, float]:
        """Limits, false-alarm rate and ARLs (in steps) for a horizon of ``n`` steps.

        A flagging chart gets an equal share of ``false_alarm_rate`` (or the stated ARL);
        a chart only shown is designed as if it were the only one.
        """
        out: dict[str, float] = {}
        share = 1.0 / len(self._charts)
        total = 0.0
        for c in CHARTS:
            if self.arl is not None:
                n_arl = float(n)
                out[f"{c}_limit"] = (
                    cusum_limit(k, arl=n_arl) if c == "cusum" else ewma_limit(lam, arl=n_arl)
                )
            else:
                alpha = float(self.false_alarm_rate)  # type: ignore[arg-type]
                alpha *= share if c in self._charts else 1.0
                out[f"{c}_limit"] = (
                    cusum_limit(k, false_alarm_rate=alpha, horizon=n)
                    if c == "cusum"
                    else ewma_limit(lam, false_alarm_rate=alpha, horizon=n)
                )
            if c == "cusum":
                out["cusum_arl"] = cusum_arl(k, out["cusum_limit"], sided="two")
                rate = cusum_false_alarm_rate(k, out["cusum_limit"], n)
            else:
                out["ewma_arl"] = ewma_arl(lam, out["ewma_limit"])
                rate = ewma_false_alarm_rate(lam, out["ewma_limit"], n)
            if c in self._charts:
                total += rate
        out["false_alarm_rate"] = min(total, 1.0)
        return out

    def _windows(self, steps: Steps) -> None:
        coded = self._coded
        n_src = len(SOURCES)
        n_rev = len(coded.reviewer_ids)
        win = window_codes(steps.time, self._edges)
        stream = steps.rev * n_src + steps.source
        wf, tests = window_tests(
            stream,
            win,
            steps.y,
            steps.n,
            n_rev * n_src,
            self.n_windows,
            alpha=float(self.window_alpha),
        )
        ids = np.asarray(coded.reviewer_ids, dtype=object)
        src = np.asarray(SOURCES, dtype=object)
        edges = self._edges
        wf.insert(0, "reviewer_id", ids[wf["stream"].to_numpy() // n_src])
        wf.insert(1, "source", src[wf["stream"].to_numpy() % n_src])
        wf["start"] = pd.to_datetime(edges[wf["window"].to_numpy()], utc=True)
        wf["end"] = pd.to_datetime(edges[wf["window"].to_numpy() + 1], utc=True)
        wf["severity"] = -wf["mean_residual"]
        self.windows_ = wf[
            [
                "reviewer_id",
                "source",
                "window",
                "start",
                "end",
                "n_scorings",
                "n_ratings",
                "mean_residual",
                "severity",
            ]
        ].reset_index(drop=True)
        tests = tests.loc[tests["n_scorings"] > 0].copy()
        tests.insert(0, "reviewer_id", ids[tests["stream"].to_numpy() // n_src])
        tests.insert(1, "source", src[tests["stream"].to_numpy() % n_src])
        self.window_tests_ = tests.drop(columns="stream").reset_index(drop=True)

    # ---- results ----------------------------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "flags_"):
            raise RuntimeError("this DriftMonitor is not fitted yet; call fit(ratings) first")

    def report(self) -> DriftReport:
        """The results as a :class:`DriftReport` (tables and JSON-ready values)."""
        self._fitted()
        settings = dict(self.settings_)
        return DriftReport(
            self.flags_.copy(),
            {k: v.copy() for k, v in self.evidence_.items()},
            self.checked_.copy(),
            self.group_,
            self.window_tests_.copy(),
            settings,
        )

    def chart(self, reviewer_id: str) -> pd.DataFrame:
        """One reviewer's chart table (rows of :attr:`charts_`) with its limits."""
        self._fitted()
        rows = self.checked_.loc[self.checked_["reviewer_id"] == reviewer_id]
        if rows.empty:
            raise ValueError(
                f"reviewer_id must be one of the reviewers in the ratings; got {reviewer_id!r}"
            )
        out = self.charts_.loc[self.charts_["reviewer_id"] == reviewer_id].reset_index(drop=True)
        return out.assign(
            cusum_limit=rows["cusum_limit"].iloc[0], ewma_limit=rows["ewma_limit"].iloc[0]
        )


def _round_up(n: float) -> int:
    """Round a horizon up to the grid ``ceil(1.1^j)``: few distinct limits to solve,
    each for a horizon at least as long as asked (so the false-alarm rate is kept)."""
    n = max(float(n), 1.0)
    j = math.ceil(math.log(n) / math.log(_HORIZON_GRID) - 1e-9)
    return max(int(math.ceil(_HORIZON_GRID**j - 1e-9)), int(math.ceil(n - 1e-9)))


def _time_at(times: np.ndarray, step: int) -> pd.Timestamp:
    """The time of a reviewer's step, NaT when the chart never signalled."""
    if step >= len(times):
        return pd.NaT
    return pd.Timestamp(int(times[step]), tz="UTC")


def _size(
    times: np.ndarray,
    src: np.ndarray,
    n: np.ndarray,
    y: np.ndarray,
    onset_ns: int,
    scale: np.ndarray,
) -> tuple[float, list[str]]:
    """Mean residual per rating after the onset minus before, per source, combined by
    inverse variance (a step's variance ``scale[source]**2``)."""
    est, weight, used = [], [], []
    for c in np.unique(src):
        m = src == c
        before, after = m & (times < onset_ns), m & (times >= onset_ns)
        if not before.any() or not after.any():
            continue
        mb = float((y[before] * n[before]).sum() / n[before].sum())
        ma = float((y[after] * n[after]).sum() / n[after].sum())
        var = scale[c] ** 2 * (1 / before.sum() + 1 / after.sum())
        est.append(ma - mb)
        weight.append(1 / var)
        used.append(SOURCES[int(c)])
    if not est:
        return float("nan"), []
    w = np.asarray(weight)
    return float(np.dot(w, est) / w.sum()), used


def _reviewer_categorical(table: RatingsTable, rev: np.ndarray) -> pd.Categorical:
    """Reviewer codes as a categorical over the table's reviewer categories (those without
    a rating included, as the frame has them)."""
    ids = table.codes.reviewer_ids
    col = table.frame["reviewer_id"]
    if not isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(rev, categories=ids)
    cats = pd.Index(col.cat.categories.astype(str), dtype=object)
    return pd.Categorical.from_codes(cats.get_indexer(ids)[rev], categories=cats)


def _kind_text(codes: np.ndarray) -> np.ndarray:
    kinds = np.asarray([*KINDS, ""], dtype=object)
    return kinds[np.where(codes < 0, len(KINDS), codes)]


def detect_drift(
    ratings: RatingsTable,
    key: AnswerKey | None = None,
    **options: Any,
) -> DriftReport:
    """Fit a :class:`DriftMonitor` (``options`` are its settings) and return its report.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.drift import detect_drift
    >>> program = read_program("data/synthetic/district")
    >>> report = detect_drift(program.ratings, program.key, rng=0)
    >>> doc = report.to_dict()
    >>> sorted(doc)
    ['flags', 'group', 'reviewers_checked', 'settings', 'window_tests']
    >>> {"reviewer_id", "onset", "direction", "magnitude", "evidence"} <= set(doc["flags"][0])
    True
    """
    return DriftMonitor(**options).fit(ratings, key).report()
