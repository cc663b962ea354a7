"""Decision limits of each reviewer's charts: horizons in chart steps, limits, ARLs and false-alarm rates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calibrate.drift._charts import (
    cusum_arl,
    cusum_false_alarm_curve,
    cusum_false_alarm_rate,
    cusum_limit,
    ewma_arl,
    ewma_false_alarm_curve,
    ewma_false_alarm_rate,
    ewma_limit,
)

__all__ = ["CHARTS", "ChartSettings", "Limits", "design_limits", "reviewer_limits", "round_up"]

CHARTS = ("cusum", "ewma")
_HORIZON_GRID = 1.1  # per-reviewer horizons are rounded up to powers of this (fewer limits)


@dataclass(frozen=True)
class ChartSettings:
    """The settings of a :class:`~calibrate.drift.DriftMonitor` that shape its charts
    (checked by the monitor): ``charts`` are the flagging charts, ``arl`` (ratings)
    replaces ``false_alarm_rate`` over ``horizon`` ratings when given."""

    k: float
    shift: float | None
    lam: float
    prior_df: float
    min_ratings: int
    min_steps: int
    false_alarm_rate: float | None
    horizon: int | None
    arl: float | None
    charts: tuple[str, ...]


def round_up(n: float) -> int:
    """Round a horizon up to the grid ``ceil(1.1^j)``: few distinct limits to solve,
    each for a horizon at least as long as asked (so the false-alarm rate is kept)."""
    n = max(float(n), 1.0)
    j = math.ceil(math.log(n) / math.log(_HORIZON_GRID) - 1e-9)
    return max(int(math.ceil(_HORIZON_GRID**j - 1e-9)), int(math.ceil(n - 1e-9)))


def design_limits(n: int, k: float, lam: float, settings: ChartSettings) -> dict[str, float]:
    """Limits, false-alarm rate and ARLs (in steps) for a horizon of ``n`` steps.

    A flagging chart gets an equal share of ``false_alarm_rate`` (or the stated ARL);
    a chart only shown is designed as if it were the only one.
    """
    out: dict[str, float] = {}
    share = 1.0 / len(settings.charts)
    total = 0.0
    for c in CHARTS:
        if settings.arl is not None:
            n_arl = float(n)
            out[f"{c}_limit"] = (
                cusum_limit(k, arl=n_arl) if c == "cusum" else ewma_limit(lam, arl=n_arl)
            )
        else:
            alpha = float(settings.false_alarm_rate)  # type: ignore[arg-type]
            alpha *= share if c in settings.charts else 1.0
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
        if c in settings.charts:
            total += rate
    out["false_alarm_rate"] = min(total, 1.0)
    return out


@dataclass(frozen=True)
class Limits:
    """Per reviewer (NaN or 0 where not charted): ``horizon_steps``, ``limits`` and
    ``arl_steps`` per chart, ``fap`` (false-alarm probability within the horizon),
    ``fap_record`` (within the reviewer's record); ``design`` per horizon in steps."""

    horizon_steps: np.ndarray
    limits: dict[str, np.ndarray]
    arl_steps: dict[str, np.ndarray]
    fap: np.ndarray
    fap_record: np.ndarray
    design: dict[int, dict[str, float]]


def reviewer_limits(
    ok: np.ndarray,
    n_steps: np.ndarray,
    n_scored: np.ndarray,
    per_step: np.ndarray,
    k: float,
    settings: ChartSettings,
) -> Limits:
    """Each charted reviewer's (``ok``) horizon in steps -- the stated horizon or ARL in
    ratings over their ratings per step (``per_step``), or their record of ``n_steps`` --
    rounded up to the grid, and the limits designed for it (once per distinct horizon)."""
    n_rev = len(ok)
    lam = float(settings.lam)
    design: dict[int, dict[str, float]] = {}
    horizon_steps = np.zeros(n_rev, dtype=np.int64)
    limits = {c: np.full(n_rev, np.nan) for c in CHARTS}
    fap = np.full(n_rev, np.nan)
    arl_steps = {c: np.full(n_rev, np.nan) for c in CHARTS}
    for r in np.flatnonzero(ok):
        if settings.arl is not None:
            key_n = round_up(float(settings.arl) / per_step[r])
        else:
            n_h = n_steps[r] if settings.horizon is None else float(settings.horizon) / per_step[r]
            key_n = round_up(n_h)
        horizon_steps[r] = key_n
        if key_n not in design:
            design[key_n] = design_limits(key_n, k, lam, settings)
        d = design[key_n]
        for c in CHARTS:
            limits[c][r] = d[f"{c}_limit"]
            arl_steps[c][r] = d[f"{c}_arl"]
        fap[r] = d["false_alarm_rate"]
    fap_record = _record_rates(ok, horizon_steps, n_scored, design, k, lam, settings.charts)
    return Limits(horizon_steps, limits, arl_steps, fap, fap_record, design)


def _record_rates(
    ok: np.ndarray,
    horizon_steps: np.ndarray,
    n_scored: np.ndarray,
    design: dict[int, dict[str, float]],
    k: float,
    lam: float,
    charts: tuple[str, ...],
) -> np.ndarray:
    """Each reviewer's false-alarm probability over their own record of ``n_scored``
    scores: one run-length curve per design, read at every record length."""
    fap_record = np.full(len(ok), np.nan)
    for key_n, d in design.items():
        mine = np.flatnonzero(ok & (horizon_steps == key_n))
        n_rec = np.maximum(n_scored[mine], 1)
        top = int(n_rec.max())
        curve = np.zeros(top + 1)
        for c in charts:
            curve += (
                cusum_false_alarm_curve(k, d["cusum_limit"], top)
                if c == "cusum"
                else ewma_false_alarm_curve(lam, d["ewma_limit"], top)
            )
        fap_record[mine] = np.minimum(curve[n_rec], 1.0)
    return fap_record
