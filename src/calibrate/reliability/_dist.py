"""Normal, t and F quantiles and tail areas from ``scipy.special``, as ``scipy.stats`` gives them.

``scipy.stats`` takes about a second to import, which every ``calibrate reliability`` run
paid for a handful of scalar quantiles. These are the very ``scipy.special`` functions the
``scipy.stats`` distributions call (``t._ppf`` is ``stdtrit``, ``f._sf`` is ``fdtrc``, ...),
with the same answers at the edges (q of 0 or 1, an infinite or NaN argument, a degree of
freedom that is not positive), so the numbers are the same to the last bit
(tests/reliability/test_dist.py checks them against ``scipy.stats``).
"""

from __future__ import annotations

import math

from scipy.special import fdtrc, fdtri, ndtr, ndtri, stdtr, stdtrit

__all__ = ["f_ppf", "f_sf", "norm_ppf", "norm_sf", "t_ppf", "t_sf"]


def _ppf(value: float, q: float, low: float) -> float:
    """``rv_continuous.ppf``'s cases: inside (0, 1) the quantile (times scale 1, plus loc 0,
    as scipy.stats does: that turns -0.0 into 0.0), the support's ends at 0 and 1, else NaN."""
    if 0.0 < q < 1.0:
        return value * 1.0 + 0.0
    if q == 0.0:
        return low
    if q == 1.0:
        return math.inf
    return math.nan


def norm_ppf(q: float) -> float:
    """``scipy.stats.norm.ppf(q)``."""
    q = float(q)
    return _ppf(float(ndtri(q)) if 0.0 < q < 1.0 else math.nan, q, -math.inf)


def t_ppf(q: float, df: float) -> float:
    """``scipy.stats.t.ppf(q, df)``."""
    q, df = float(q), float(df)
    if not df > 0:
        return math.nan
    return _ppf(float(stdtrit(df, q)) if 0.0 < q < 1.0 else math.nan, q, -math.inf)


def f_ppf(q: float, dfn: float, dfd: float) -> float:
    """``scipy.stats.f.ppf(q, dfn, dfd)``."""
    q, dfn, dfd = float(q), float(dfn), float(dfd)
    if not (dfn > 0 and dfd > 0):
        return math.nan
    return _ppf(float(fdtri(dfn, dfd, q)) if 0.0 < q < 1.0 else math.nan, q, 0.0)


def norm_sf(x: float) -> float:
    """``scipy.stats.norm.sf(x)``."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    if x == -math.inf:
        return 1.0
    return 0.0 if x == math.inf else float(ndtr(-x))


def t_sf(x: float, df: float) -> float:
    """``scipy.stats.t.sf(x, df)``."""
    x, df = float(x), float(df)
    if not df > 0 or math.isnan(x):
        return math.nan
    if x == -math.inf:
        return 1.0
    return 0.0 if x == math.inf else float(stdtr(df, -x))


def f_sf(x: float, dfn: float, dfd: float) -> float:
    """``scipy.stats.f.sf(x, dfn, dfd)``."""
    x, dfn, dfd = float(x), float(dfn), float(dfd)
    if not (dfn > 0 and dfd > 0) or math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 1.0
    return 0.0 if x == math.inf else float(fdtrc(dfn, dfd, x))
