"""Planning the seeding of live work: the share of seeded anchors the drift monitor needs.

How often must seeded anchors (scored against the key) appear in a reviewer's queue for
:class:`~calibrate.drift.DriftMonitor` to flag a drift of ``shift`` levels within ``K``
reviews of its onset, at the monitor's stated false-alarm rate? Answered by simulation
through the monitor's own chart code (:func:`~calibrate.drift._chart_fit.fit_charts`:
self-starting scores, pooled scales, CUSUM, Markov-chain limits, first signals).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calibrate._checks import as_rng, check_fraction, check_int, check_number
from calibrate.drift._chart_fit import fit_charts
from calibrate.drift._limits import ChartSettings
from calibrate.drift._residuals import Residuals, build_steps
from calibrate.ratings import AnswerKey
from calibrate.rubric import Rubric
from calibrate.synth import ReviewerModel, SynthSpec

__all__ = [
    "DEFAULT_SHARES",
    "SeedingPlan",
    "draw_reviewers",
    "key_level_rows",
    "seeded_signals",
    "seeding_plan",
]

#: Seeding shares tried by default (share of a reviewer's reviews that are seeded anchors).
DEFAULT_SHARES = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
NEVER = np.iinfo(np.int64).max


def draw_reviewers(
    n: int,
    rng: np.random.Generator,
    *,
    drift: float | np.ndarray = 0.0,
    onset: int | np.ndarray = NEVER,
    spec: SynthSpec | None = None,
) -> ReviewerModel:
    """``n`` reviewers drawn as :func:`calibrate.synth.generate` draws them (severity,
    noise, central tendency and halo from ``spec``'s ranges, default ``SynthSpec()``),
    with ``drift`` (level steps, positive = harsher) from review index ``onset`` on."""
    spec = SynthSpec() if spec is None else spec
    return ReviewerModel(
        tuple(f"R{i + 1:05d}" for i in range(n)),
        spec.severity_sd * rng.standard_normal(n),
        rng.uniform(*spec.noise_range, n),
        rng.uniform(*spec.central_tendency_range, n),
        rng.uniform(*spec.halo_range, n),
        np.broadcast_to(np.asarray(drift, dtype=float), (n,)).copy(),
        np.broadcast_to(np.asarray(onset, dtype=np.int64), (n,)).copy(),
    )


def key_level_rows(key: AnswerKey) -> np.ndarray:
    """The key's anchors as rows of level indices, ``(n_anchors, n_criteria)``: the
    anchors the key scores on every criterion of its rubric (others are left out)."""
    rubric = key.rubric
    wide = key.wide().dropna()
    if wide.empty:
        raise ValueError(
            "key has no anchor scored on every criterion of the rubric "
            f"({', '.join(rubric.criterion_ids)}): it cannot stand for the seeded pool"
        )
    cols = [
        np.searchsorted(np.asarray(c.scores, dtype=float), wide[c.id].to_numpy(float))
        for c in rubric.criteria
    ]
    return np.stack(cols, axis=1).astype(np.int64)


def _settings(false_alarm_rate: float) -> ChartSettings:
    """The chart settings of ``DriftMonitor(false_alarm_rate=...)`` with every other
    setting at its default, as ``calibrate drift`` runs it (each reviewer's record is the
    horizon of the false-alarm rate)."""
    from calibrate.drift._monitor import DriftMonitor

    m = DriftMonitor(false_alarm_rate=false_alarm_rate)
    m._check()
    return ChartSettings(
        k=m.k,
        shift=m.shift,
        lam=m.lam,
        prior_df=m.prior_df,
        min_ratings=m.min_ratings,
        min_steps=m.min_steps,
        false_alarm_rate=m.false_alarm_rate,
        horizon=m.horizon,
        arl=m.arl,
        charts=tuple(m.charts),
    )


def seeded_signals(
    rubric: Rubric,
    model: ReviewerModel,
    horizons: np.ndarray,
    shares: Sequence[float],
    rng: np.random.Generator,
    *,
    false_alarm_rate: float = 0.05,
    key_levels: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the drift monitor first flags each reviewer when a share of their reviews
    are seeded anchors.

    Reviewer ``r`` does ``horizons[r]`` reviews (indices ``0..horizons[r]-1``); each is a
    seeded anchor with probability ``share``, independently; an anchor's key levels are
    uniform over each criterion's levels (or a row of ``key_levels``, drawn with
    replacement: see :func:`key_level_rows`) and the reviewer scores it through ``model``
    (:meth:`ReviewerModel.score`, at the review index, so drift applies from
    ``model.onset`` on). Only the seeded anchors are referenced (live work is taken to be
    single-scored), and every reviewer's residual stream goes through the monitor's chart
    code with its false-alarm design over each reviewer's record.

    Common random numbers: every review is scored once, and review ``j`` is seeded at
    share ``s`` when one uniform ``u_j < s``, so the seeded sets are nested across shares.

    Returns
    -------
    signal : ndarray of int, shape (n_shares, n_reviewers)
        Review index of each reviewer's first flag (-1: never flagged).
    charted : ndarray of bool, shape (n_shares, n_reviewers)
        Whether the reviewer had enough seeded ratings to be charted.
    """
    n_rev = model.n_reviewers
    horizons = np.asarray(horizons, dtype=np.int64)
    if horizons.shape != (n_rev,) or (horizons < 1).any():
        raise ValueError(f"horizons must be {n_rev} positive integers, one per reviewer")
    settings = _settings(false_alarm_rate)
    c = len(rubric.criteria)
    n_levels = np.array([len(cr.levels) for cr in rubric.criteria], dtype=np.int64)
    width = int(n_levels.max())
    points = np.array(
        [list(cr.scores) + [np.nan] * (width - len(cr.levels)) for cr in rubric.criteria]
    )
    rev = np.repeat(np.arange(n_rev), horizons)
    t = np.arange(len(rev)) - np.repeat(np.cumsum(horizons) - horizons, horizons)
    if key_levels is None:
        key = np.floor(rng.random((len(rev), c)) * n_levels).astype(np.int64)
    else:
        key = key_levels[rng.integers(0, len(key_levels), len(rev))]
    lv = model.score(key, rev, n_levels, rng, t)
    crit = np.arange(c)
    score, ref = points[crit, lv], points[crit, key]
    u = rng.random(len(rev))
    signal = np.full((len(shares), n_rev), -1, dtype=np.int64)
    charted = np.zeros((len(shares), n_rev), dtype=bool)
    for i, s in enumerate(shares):
        sel = np.flatnonzero(u < s)
        m = len(sel) * c
        res = Residuals(
            row=np.arange(m),
            rev=np.repeat(rev[sel], c),
            sub=np.repeat(np.arange(len(sel)), c),
            crit=np.tile(crit, len(sel)),
            rnd=np.full(m, -1, dtype=np.int64),
            time=np.repeat(t[sel], c).astype(np.int64),
            source=np.zeros(m, dtype=np.int64),
            score=score[sel].ravel(),
            reference=ref[sel].ravel(),
            residual=(score[sel] - ref[sel]).ravel(),
        )
        steps = build_steps(res, n_rev, len(sel))
        fit = fit_charts(res, steps, steps.y, n_rev, settings)
        sig = fit.signals
        flagged = np.flatnonzero(sig.chart >= 0)
        signal[i, flagged] = steps.time[fit.paths.starts[flagged] + sig.step[flagged]]
        charted[i] = fit.ok
        if progress is not None:
            progress(1)
    return signal, charted


@dataclass(frozen=True, eq=False)
class SeedingPlan:
    """The drift monitor's operating characteristic against the seeding share
    (:func:`seeding_plan`).

    Attributes
    ----------
    curve : DataFrame
        One row per share: ``share``, ``p_detect`` (a drifter flagged within ``within``
        reviews of the onset) and ``p_detect_se``, ``false_alarm`` (a steady reviewer
        flagged within the record) and ``false_alarm_se`` (Monte Carlo standard errors,
        ``sqrt(P (1 - P) / n_sim)``), ``median_delay`` (reviews from the onset to the
        flag, counting the onset's; NaN when fewer than half the drifters are flagged
        after the onset within the record), ``seeded_per_reviewer`` (expected seeded
        anchors over the record), ``charted`` (share of reviewers with enough seeded
        ratings to be charted).
    share_needed : float or None
        The smallest share tried with ``p_detect >= power``.
    k : float
        The CUSUM reference value the monitor used.
    key_anchors : int or None
        Anchors of the key the key levels were drawn from (None: uniform levels).
    """

    rubric_id: str
    shift: float
    within: int
    horizon: int
    earliest_onset: int
    false_alarm_rate: float
    power: float
    n_sim: int
    k: float
    key_anchors: int | None
    curve: pd.DataFrame
    share_needed: float | None

    def to_dict(self) -> dict[str, Any]:
        """The ``calibrate plan seeding --format json`` document."""
        curve = self.curve.astype(object).where(self.curve.notna(), None)
        return {
            "rubric_id": self.rubric_id,
            "shift": self.shift,
            "within": self.within,
            "false_alarm_rate": self.false_alarm_rate,
            "power": self.power,
            "curve": curve.to_dict("records"),
            "share_needed": self.share_needed,
            "horizon": self.horizon,
            "earliest_onset": self.earliest_onset,
            "n_sim": self.n_sim,
            "model": {
                "reviewers": "drawn as calibrate synth draws them (severity, noise, central "
                "tendency, halo); half of the drifters grow harsher, half more lenient",
                "seeding": "each review is a seeded anchor with probability share; live "
                "work single-scored (only seeded anchors are referenced)",
                "key_levels": "uniform over each criterion's levels"
                if self.key_anchors is None
                else f"drawn from the {self.key_anchors} anchors of the given key",
                "onset": f"uniform over reviews {self.earliest_onset}..{self.horizon - self.within}",
                "monitor": f"DriftMonitor(false_alarm_rate={self.false_alarm_rate:g}) defaults "
                f"(CUSUM, k = {self.k:g}), false-alarm rate over each reviewer's record",
            },
        }


def seeding_plan(
    rubric: Rubric,
    *,
    shift: float = 0.5,
    within: int = 100,
    false_alarm_rate: float = 0.05,
    power: float = 0.8,
    shares: Sequence[float] | None = None,
    horizon: int = 400,
    earliest_onset: float = 0.2,
    key: AnswerKey | None = None,
    n_sim: int = 1000,
    rng: np.random.Generator | int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedingPlan:
    """The share of seeded anchors the drift monitor needs to flag a drift of ``shift``
    levels within ``within`` reviews, at its stated false-alarm rate.

    Parameters
    ----------
    rubric : Rubric
        Whose criteria and levels the seeded anchors are scored on.
    shift : float
        Size of the drift to detect, in level steps (half harsher, half more lenient).
    within : int
        Reviews (seeded or live) after the onset within which the flag must come.
    false_alarm_rate : float
        The monitor's design: probability that a steady reviewer is flagged over their
        record (``DriftMonitor(false_alarm_rate=...)``, as ``calibrate drift``).
    power : float
        Wanted probability of a flag within ``within`` reviews.
    shares : sequence of float, optional
        Seeding shares in (0, 1) to try (default :data:`DEFAULT_SHARES`).
    horizon : int
        Reviews in each reviewer's monitored record.
    earliest_onset : float
        Earliest onset as a share of the record; onsets are uniform over the reviews
        from there to ``horizon - within``.
    key : AnswerKey, optional
        The seeded pool's answer key: the simulated anchors' key levels are drawn from
        its anchors (with replacement) instead of uniformly. It matters: drift is seen
        less on anchors keyed at the ends of the scale, where scores are clipped. On the
        seeded pools of :func:`calibrate.synth.generate` (about 39% of key scores at the
        top level) a share of 0.2 flags 56% of half-level drifters within 100 reviews of
        a 360-review record, against 70% with uniform key levels; the full monitor on
        such programs flagged 58% (``tests/drift/test_planning.py``).
    n_sim : int
        Simulated drifting reviewers, and as many steady ones, per share.
    rng : Generator or seed
    progress : callable, optional
        Called with 1 after each share.

    Notes
    -----
    Each simulated reviewer is drawn as :func:`calibrate.synth.generate` draws reviewers
    and scores seeded anchors (key levels uniform) through
    :class:`~calibrate.synth.ReviewerModel`; see :func:`seeded_signals`. The monitor is
    the one :class:`~calibrate.drift.DriftMonitor` fits, on the seeded anchors alone:
    live double scoring gives it more evidence (co-reviewer residuals), so these shares
    are what the key alone needs -- the only evidence that also sees a drift the whole
    group shares. ``p_detect`` counts a drifter flagged before the onset as missed.
    Checked in ``tests/drift/test_planning.py`` against the full monitor on programs
    from :func:`calibrate.synth.generate`.

    Examples
    --------
    >>> from calibrate.rubric import load_rubric
    >>> plan = seeding_plan(load_rubric("rubrics/evidence-4level.yaml"),
    ...                     shares=[0.05, 0.3], n_sim=200, rng=0)
    >>> plan.curve.columns.tolist()[:6]
    ['share', 'p_detect', 'p_detect_se', 'false_alarm', 'false_alarm_se', 'median_delay']
    >>> bool(plan.curve["p_detect"].iloc[1] > plan.curve["p_detect"].iloc[0])
    True
    """
    if not isinstance(rubric, Rubric):
        raise TypeError(f"rubric must be a calibrate.rubric.Rubric; got {type(rubric).__name__}")
    shift = check_number("shift", shift, low=0, high=10, low_open=True)
    within = check_int("within", within, 1)
    false_alarm_rate = check_number(
        "false_alarm_rate", false_alarm_rate, low=0, high=1, low_open=True, high_open=True
    )
    power = check_number("power", power, low=0, high=1, low_open=True, high_open=True)
    horizon = check_int("horizon", horizon, 2)
    earliest_onset = check_fraction("earliest_onset", earliest_onset)
    n_sim = check_int("n_sim", n_sim, 1)
    if key is not None and not isinstance(key, AnswerKey):
        raise TypeError(
            f"key must be a calibrate.ratings.AnswerKey or None; got {type(key).__name__}"
        )
    if key is not None and key.rubric.id != rubric.id:
        raise ValueError(f"key is for rubric {key.rubric.id!r}, not {rubric.id!r}")
    key_levels = None if key is None else key_level_rows(key)
    shares = DEFAULT_SHARES if shares is None else tuple(shares)
    if not shares:
        raise ValueError("shares must name at least one share")
    for s in shares:
        check_number("shares", s, low=0, high=1, low_open=True, high_open=True)
    shares = tuple(sorted({float(s) for s in shares}))
    first = math.ceil(earliest_onset * horizon)
    last = horizon - within
    if last < max(first, 1):
        raise ValueError(
            f"horizon must leave room for the onset and {within} reviews after it: the "
            f"onset ranges over reviews {first}..{last} of a record of {horizon}; "
            "lengthen horizon, shorten within or lower earliest_onset"
        )
    first = max(first, 1)
    rng = as_rng(rng)
    who = np.arange(2 * n_sim)
    drifter = who < n_sim
    onset = np.where(drifter, rng.integers(first, last + 1, 2 * n_sim), NEVER)
    drift = np.where(drifter, np.where(who % 2 == 0, shift, -shift), 0.0)
    model = draw_reviewers(2 * n_sim, rng, drift=drift, onset=onset)
    signal, charted = seeded_signals(
        rubric,
        model,
        np.full(2 * n_sim, horizon),
        shares,
        rng,
        false_alarm_rate=false_alarm_rate,
        key_levels=key_levels,
        progress=progress,
    )
    rows = []
    for i, s in enumerate(shares):
        sig = signal[i, drifter]
        after = sig >= onset[drifter]
        delay = np.where(after, sig - onset[drifter] + 1, np.inf)
        p = float(np.mean(delay <= within))
        fa = float(np.mean(signal[i, ~drifter] >= 0))
        med = float(np.median(delay))
        rows.append(
            {
                "share": s,
                "p_detect": p,
                "p_detect_se": math.sqrt(p * (1 - p) / n_sim),
                "false_alarm": fa,
                "false_alarm_se": math.sqrt(fa * (1 - fa) / n_sim),
                "median_delay": med if math.isfinite(med) else float("nan"),
                "seeded_per_reviewer": s * horizon,
                "charted": float(charted[i].mean()),
            }
        )
    curve = pd.DataFrame(rows)
    meets = curve.loc[curve["p_detect"] >= power, "share"]
    return SeedingPlan(
        rubric_id=rubric.id,
        shift=shift,
        within=within,
        horizon=horizon,
        earliest_onset=first,
        false_alarm_rate=false_alarm_rate,
        power=power,
        n_sim=n_sim,
        k=_settings(false_alarm_rate).k,
        key_anchors=None if key_levels is None else len(key_levels),
        curve=curve,
        share_needed=float(meets.iloc[0]) if len(meets) else None,
    )
