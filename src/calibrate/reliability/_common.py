"""Pieces every coefficient shares: intervals, undefined results, notes."""

from __future__ import annotations

import math

from calibrate.reliability._dist import norm_ppf, t_ppf, t_sf
from calibrate.reliability._result import ReliabilityResult

__all__ = [
    "NO_PAIRS",
    "normal_interval",
    "t_interval",
    "t_p_value_one_sided",
    "undefined_result",
]

#: Note for data in which no unit has two ratings.
NO_PAIRS = "no unit has two or more ratings, so no two ratings can be compared"
#: Note added when a standard error needs more units than there are.
SE_NEEDS_TWO_UNITS = "the standard error needs at least two units"


def t_interval(
    estimate: float,
    se: float,
    n: float,
    confidence_level: float,
    *,
    low: float = -math.inf,
    high: float = 1.0,
) -> tuple[float, float]:
    """``estimate +- t(1 - alpha/2, n - 1) * se`` kept within ``[low, high]``.

    R irrCAC caps the upper bound at 1 and leaves the lower bound alone: chance-corrected
    coefficients have no common lower limit (weighted kappas and Gwet's generalisations
    can fall below -1), and capping it could put the bound above the estimate.
    """
    if not (n >= 2 and math.isfinite(se) and math.isfinite(estimate)):
        return (math.nan, math.nan)
    half = t_ppf(0.5 + confidence_level / 2.0, n - 1) * se
    return (max(low, estimate - half), min(high, estimate + half))


def normal_interval(
    estimate: float,
    se: float,
    confidence_level: float,
    *,
    low: float = -math.inf,
    high: float = 1.0,
) -> tuple[float, float]:
    """``estimate +- z(1 - alpha/2) * se`` kept within ``[low, high]`` (SAS PROC FREQ, statsmodels)."""
    if not (math.isfinite(se) and math.isfinite(estimate)):
        return (math.nan, math.nan)
    half = norm_ppf(0.5 + confidence_level / 2.0) * se
    return (max(low, estimate - half), min(high, estimate + half))


def t_p_value_one_sided(estimate: float, se: float, n: float) -> float:
    """One-sided p-value of H0: coefficient = 0 against > 0, t with n - 1 df (R irrCAC)."""
    if not (n >= 2 and math.isfinite(se) and se > 0 and math.isfinite(estimate)):
        return math.nan
    return t_sf(estimate / se, n - 1)


def undefined_result(
    coefficient: str,
    level: str,
    note: str,
    *,
    n_units: int,
    n_pairable: int,
    confidence_level: float,
    extra: dict[str, float] | None = None,
) -> ReliabilityResult:
    """A result whose estimate is NaN and whose note says why."""
    return ReliabilityResult(
        coefficient=coefficient,
        level=level,
        estimate=math.nan,
        n_units=int(n_units),
        n_pairable=int(n_pairable),
        method="none",
        confidence_level=confidence_level,
        note=note,
        extra=dict(extra or {}),
    )
