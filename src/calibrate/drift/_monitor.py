"""The drift monitor (DriftMonitor, detect_drift): its settings, the two charting passes, severity per window, the results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_int
from calibrate.drift._chart_fit import fit_charts, group_adjusted
from calibrate.drift._flags import chart_table, checked_table, flag_frame, flag_rows
from calibrate.drift._group import GroupDrift, group_drift_test, window_codes, window_tests
from calibrate.drift._limits import CHARTS, ChartSettings
from calibrate.drift._report import DriftReport
from calibrate.drift._residuals import SOURCES, Residuals, Steps, build_steps, residual_ratings
from calibrate.ratings import AnswerKey, RatingCodes, RatingsTable

__all__ = ["DriftMonitor", "detect_drift"]


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
        _check_inputs(ratings, key)
        rng = np.random.default_rng(self.rng)
        self._charts = [self.charts] if isinstance(self.charts, str) else list(self.charts)
        self._table = ratings
        codes = ratings.codes
        res = residual_ratings(ratings, key, live_reference=self.live_reference)
        steps = build_steps(res, codes.n_reviewers, codes.n_submissions)
        times = ratings.frame["rated_at"].dropna()
        t0, t1 = times.min().value, times.max().value
        self._edges = np.linspace(t0, t1 + 1, self.n_windows + 1).astype(np.int64)
        self.group_ = self._group_test(steps, rng)
        rows = self._chart_pass(res, steps)
        if (
            self.refine
            and self.live_reference == "co_reviewers"
            and len(rows)
            and (steps.source == 1).any()
        ):
            res = residual_ratings(
                ratings,
                key,
                live_reference=self.live_reference,
                exclude_from_reference=_after_onsets(codes, rows),
            )
            steps = build_steps(res, codes.n_reviewers, codes.n_submissions)
            self._chart_pass(res, steps)
        self._windows(steps)
        self.settings_ = self._settings()
        return self

    def _group_test(self, steps: Steps, rng: np.random.Generator) -> GroupDrift:
        """The test of drift of the whole group, on the key-referenced steps."""
        is_key = steps.source == 0
        return group_drift_test(
            steps.rev[is_key],
            steps.time[is_key],
            steps.y[is_key],
            self._edges,
            alpha=float(self.group_alpha),
            min_shift=float(self.group_min_shift),
            n_permutations=int(self.n_permutations),
            rng=rng,
        )

    def _chart_settings(self) -> ChartSettings:
        return ChartSettings(
            k=self.k,
            shift=self.shift,
            lam=self.lam,
            prior_df=self.prior_df,
            min_ratings=self.min_ratings,
            min_steps=self.min_steps,
            false_alarm_rate=self.false_alarm_rate,
            horizon=self.horizon,
            arl=self.arl,
            charts=tuple(self._charts),
        )

    def _chart_pass(self, res: Residuals, steps: Steps) -> list[dict[str, Any]]:
        """Chart every reviewer on ``steps`` (the group's shift taken out when it drifted)
        and set the fitted tables; returns the flags' records."""
        codes = self._table.codes
        y = group_adjusted(steps, self.group_)
        fit = fit_charts(res, steps, y, codes.n_reviewers, self._chart_settings())
        self.scales_, self.k_, self.design_ = fit.scales, fit.k, fit.limits.design
        rows, self.evidence_ = flag_rows(fit, res, steps, codes, self.group_.drifted)
        self.flags_ = flag_frame(rows)
        self.checked_ = checked_table(fit, codes, self.flags_, self.min_ratings, self.min_steps)
        self.charts_ = chart_table(fit, steps, self._table)
        return rows

    def _settings(self) -> dict[str, Any]:
        """The settings used, JSON-ready (``k`` and ``scales`` as fitted)."""
        return {
            "shift": None if self.shift is None else float(self.shift),
            "false_alarm_rate": None if self.arl is not None else float(self.false_alarm_rate),  # type: ignore[arg-type]
            "horizon": self.horizon,
            "horizon_unit": "ratings",
            "arl": None if self.arl is None else float(self.arl),
            "charts": list(self._charts),
            "k": self.k_,
            "lam": float(self.lam),
            "prior_df": float(self.prior_df),
            "scales": dict(self.scales_),
            "live_reference": self.live_reference,
            "min_ratings": int(self.min_ratings),
            "min_steps": int(self.min_steps),
            "n_windows": int(self.n_windows),
            "group_alpha": float(self.group_alpha),
            "group_min_shift": float(self.group_min_shift),
            "refine": bool(self.refine),
        }

    def _windows(self, steps: Steps) -> None:
        """Severity per time window and the test of change, per reviewer and source."""
        codes = self._table.codes
        n_src = len(SOURCES)
        n_rev = codes.n_reviewers
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
        ids = np.asarray(codes.reviewer_ids, dtype=object)
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


def _check_inputs(ratings: object, key: object) -> None:
    """The table and key are of the right types, and the table has timed ratings."""
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


def _after_onsets(codes: RatingCodes, rows: list[dict[str, Any]]) -> np.ndarray:
    """Whether each rating is a flagged reviewer's, timed at or after their onset (kept
    out of their partners' co-reviewer references in the second pass)."""
    exclude = np.zeros(len(codes), dtype=bool)
    rev_code = {name: i for i, name in enumerate(codes.reviewer_ids)}
    for r in rows:
        mine = codes.reviewer == rev_code[r["reviewer_id"]]
        exclude |= mine & (codes.time >= r["onset"].value) & codes.timed
    return exclude


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
