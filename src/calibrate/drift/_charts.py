"""Control-chart statistics (CUSUM, EWMA, self-starting scores) vectorised over streams,
and their in-control run lengths by Markov-chain approximation.

Every statistic takes a 1-D stream or a 2-D array with one stream per row, padded at the
end with NaN (streams of unequal length side by side). Run lengths are computed for
independent N(0, 1) observations, the scale the self-starting scores put every stream on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import special

from calibrate._checks import check_positive

__all__ = [
    "cusum_arl",
    "cusum_false_alarm_rate",
    "cusum_limit",
    "cusum_statistics",
    "ewma_arl",
    "ewma_false_alarm_rate",
    "ewma_limit",
    "ewma_statistic",
    "self_starting_scores",
]

_CUSUM_STATES = 150  # Brook-Evans states: ARLs within 0.5% of the integral-equation values
_EWMA_STATES = 151  # odd, so that 0 is the centre of a state
_CLIP = 4.0  # self-starting scores are winsorised at +-4 (P(|Z| > 4) = 6e-5)


def _solve_linear(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve`` on one thread: for these small systems a threaded BLAS spends
    far longer starting threads than solving (tens of ms against well under one)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return np.linalg.solve(a, b)
    with threadpool_limits(1):
        return np.linalg.solve(a, b)


# ---- checks -------------------------------------------------------------------------
def _probability(name: str, value: object) -> float:
    v = check_positive(name, value)
    if not v < 1:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive); got {value!r}")
    return v


def _horizon(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"horizon must be an integer number of observations; got {value!r}")
    if value < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {value}")
    return int(value)


def _sided(value: object) -> Literal["one", "two"]:
    if value not in ("one", "two"):
        raise ValueError(f"sided must be 'one' or 'two'; got {value!r}")
    return "one" if value == "one" else "two"


def _as_2d(x: object) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=float)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"x must be a stream (1-D) or streams in rows (2-D); got {arr.ndim} dimensions"
        )
    return (arr[None, :], True) if arr.ndim == 1 else (arr, False)


# ---- statistics ---------------------------------------------------------------------
def cusum_statistics(x: object, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Page's tabular CUSUM of standardised observations, upper and lower.

    ``C+_n = max(0, C+_{n-1} + x_n - k)`` and ``C-_n = max(0, C-_{n-1} - x_n - k)``,
    starting at 0. A NaN observation (padding, or a step with no score) leaves both
    unchanged.

    Parameters
    ----------
    x : array of float, shape (n,) or (n_streams, n)
        Observations in SD units around the in-control mean.
    k : float
        Reference value (allowance), usually half the shift to detect in SD units.

    Returns
    -------
    upper, lower : ndarray, same shape as ``x``
        NaN where ``x`` is NaN.

    Notes
    -----
    Vectorised without a loop over time: with ``D_n = sum_{i<=n} (x_i - k)``,
    ``C+_n = D_n - min(0, min_{i<=n} D_i)`` (Page 1954), and likewise for the lower side.

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. *Biometrika*, 41(1/2), 100-115.
    Montgomery, D. C. (2019). *Introduction to Statistical Quality Control* (8th ed.),
    section 9.1. Wiley.

    Examples
    --------
    >>> up, lo = cusum_statistics([0.2, 1.5, 1.0, -2.0, 0.0], k=0.5)
    >>> up.tolist(), lo.tolist()
    ([0.0, 1.0, 1.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.5, 1.0])
    """
    k = check_positive("k", k, allow_zero=True)
    arr, one = _as_2d(x)
    miss = np.isnan(arr)
    out = []
    for sign in (1.0, -1.0):
        inc = np.where(miss, 0.0, sign * arr - k)
        d = np.cumsum(inc, axis=1)
        low = np.minimum(np.minimum.accumulate(d, axis=1), 0.0)
        s = d - low
        s[miss] = np.nan
        out.append(s[0] if one else s)
    return out[0], out[1]


def ewma_statistic(x: object, lam: float) -> np.ndarray:
    """Exponentially weighted moving average ``z_n = lam * x_n + (1 - lam) * z_{n-1}``,
    ``z_0 = 0`` (Roberts 1959). A NaN observation leaves ``z`` unchanged (NaN returned).

    Examples
    --------
    >>> ewma_statistic([1.0, 1.0, float("nan"), 1.0], lam=0.5).tolist()
    [0.5, 0.75, nan, 0.875]
    """
    lam = _probability("lam", lam) if lam != 1 else 1.0
    arr, one = _as_2d(x)
    miss = np.isnan(arr)
    from scipy.signal import lfilter

    # A missing step is skipped: compress each row's steps, filter, scatter back.
    z = np.full(arr.shape, np.nan)
    if not miss.any():
        z = lfilter([lam], [1.0, lam - 1.0], arr, axis=1)
    else:
        order = np.argsort(miss, axis=1, kind="stable")  # observed steps first, in order
        packed = np.take_along_axis(np.where(miss, 0.0, arr), order, axis=1)
        zp = lfilter([lam], [1.0, lam - 1.0], packed, axis=1)
        np.put_along_axis(z, order, zp, axis=1)
        z[miss] = np.nan
    return z[0] if one else z


def self_starting_scores(
    y: object, *, prior_scale: float | np.ndarray = 1.0, prior_df: float = 2.0
) -> np.ndarray:
    """Standard normal scores of each observation against the stream's own past.

    Observation ``n`` (``n >= 1`` earlier ones) is compared with the mean of the earlier
    ones: ``t_n = (y_n - mean_{n-1}) / (s_{n-1} * sqrt(1 + 1/(n-1)))`` with
    ``s^2 = (prior_df * prior_scale^2 + SS_{n-1}) / (prior_df + n - 2)``, and
    ``u_n = Phi^{-1}(F_t(t_n; prior_df + n - 2))``, winsorised at +-4. The first
    observation has no score (NaN).

    Parameters
    ----------
    y : array of float, shape (n,) or (n_streams, n)
        Streams in rows, NaN-padded at the end.
    prior_scale : float or array of shape (n_streams,)
        A typical in-control SD (e.g. pooled over streams); it steadies the first scores.
    prior_df : float
        Weight of ``prior_scale`` in pseudo-observations; 0 gives Quesenberry's Q
        statistics (scores from the third observation on).

    Returns
    -------
    ndarray, same shape as ``y``

    Notes
    -----
    This is the posterior predictive of a normal stream with unknown mean (flat prior)
    and a scaled inverse chi-square prior on the variance. With ``prior_df = 0`` it is
    Quesenberry's (1991) Q statistic, exactly i.i.d. N(0, 1) for an in-control normal
    stream (Hawkins 1987, "self-starting CUSUM"); a small ``prior_df`` avoids the
    Cauchy-tailed first scores, which discrete residuals (often identical early on) would
    otherwise produce. Each stream is centred on its own past, so a reviewer's steady
    severity is not drift.

    References
    ----------
    Hawkins, D. M. (1987). Self-starting CUSUM charts for location and scale.
    *The Statistician*, 36, 299-315.
    Quesenberry, C. P. (1991). SPC Q charts for start-up processes and short or long runs.
    *Journal of Quality Technology*, 23(3), 213-224.

    Examples
    --------
    >>> u = self_starting_scores([0.0, 0.1, -0.1, 0.0, 2.0], prior_scale=0.1)
    >>> bool(np.isnan(u[0])), bool(u[-1] > 3)
    (True, True)
    """
    arr, one = _as_2d(y)
    df0 = check_positive("prior_df", prior_df, allow_zero=True)
    s0 = np.broadcast_to(np.asarray(prior_scale, dtype=float), (arr.shape[0],))
    if (~np.isfinite(s0)).any() or (s0 <= 0).any():
        raise ValueError("prior_scale must be positive and finite")
    miss = np.isnan(arr)
    v = np.where(miss, 0.0, arr)
    n_prev = np.cumsum(~miss, axis=1) - (~miss)  # earlier observed steps
    cs = np.cumsum(v, axis=1) - v
    # Centre on each row's first value before squaring: residual streams are small, but
    # a shifted stream would lose digits in SS = sum(y^2) - n * mean^2.
    first = v[:, :1]
    w = np.where(miss, 0.0, v - first)
    cw = np.cumsum(w, axis=1) - w
    cw2 = np.cumsum(w * w, axis=1) - w * w
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = cs / n_prev
        ss = np.maximum(cw2 - cw * cw / n_prev, 0.0)
        df = df0 + n_prev - 1.0
        s2 = (df0 * s0[:, None] ** 2 + ss) / df
        t = (v - mean) / np.sqrt(s2 * (1.0 + 1.0 / n_prev))
        ok = (~miss) & (n_prev >= 1) & (df > 0) & np.isfinite(t)
        tt = np.where(ok, t, 0.0)
        dd = np.where(ok, df, 1.0)
        # symmetric evaluation keeps the far tail accurate (no 1 - tiny)
        u = -np.sign(tt) * special.ndtri(special.stdtr(dd, -np.abs(tt)))
    u = np.clip(u, -_CLIP, _CLIP)
    u[~ok] = np.nan
    return u[0] if one else u


# ---- CUSUM run lengths (Brook & Evans 1972) -------------------------------------------
def _cusum_matrix(k: float, h: float, mean: float, n_states: int) -> np.ndarray:
    """Transient transition matrix of the one-sided upper CUSUM, ``n_states`` states:
    state 0 is ``[0, w/2)`` (with the atom at 0), state ``i`` is ``[(i - 1/2)w,
    (i + 1/2)w)``, ``w = h / (n_states - 1/2)``; leaving ``[0, h)`` is a signal."""
    w = h / (n_states - 0.5)
    centre = np.arange(n_states) * w
    edges = (np.arange(n_states) + 0.5) * w  # upper edges of the states
    # P(S' < edge_j | S = centre_i) with S' = centre_i + X - k, X ~ N(mean, 1)
    cdf = special.ndtr(edges[None, :] - centre[:, None] + k - mean)
    p = np.diff(np.concatenate([np.zeros((n_states, 1)), cdf], axis=1), axis=1)
    return p


def _survival(p: np.ndarray, horizon: int, start: int = 0) -> np.ndarray:
    """``P(no signal in the first n steps)`` for n = 0..horizon, chain started in
    state ``start``."""
    states = np.empty((horizon + 1, p.shape[0]))
    states[0] = 0.0
    states[0, start] = 1.0
    for n in range(1, horizon + 1):
        np.matmul(states[n - 1], p, out=states[n])
    return states.sum(axis=1)


def cusum_arl(
    k: float,
    h: float,
    *,
    mean: float = 0.0,
    sided: Literal["one", "two"] = "one",
    n_states: int = _CUSUM_STATES,
) -> float:
    """Zero-state average run length of a tabular CUSUM on N(mean, 1) observations.

    Parameters
    ----------
    k, h : float
        Reference value and decision interval (SD units).
    mean : float
        True mean of the observations (0: in control).
    sided : {'one', 'two'}
        The upper chart alone, or upper and lower together (signal when either does).
    n_states : int
        States of the Markov chain.

    Returns
    -------
    float

    Notes
    -----
    The Markov-chain approximation of Brook & Evans (1972): ``ARL = e_0' (I - P)^{-1} 1``.
    The two-sided ARL combines the sides as ``1/ARL = 1/ARL+ + 1/ARL-`` (Kemp 1971;
    Montgomery 2019, eq. 9.21), exact when the two sides cannot both be positive.
    Matches Lucas & Crosier (1982, Table 1) and Brook & Evans (1972, section 4.3) to
    within 0.5% (``tests/drift/test_charts.py``).

    References
    ----------
    Brook, D., & Evans, D. A. (1972). An approach to the probability distribution of
    CUSUM run length. *Biometrika*, 59(3), 539-549.
    Lucas, J. M., & Crosier, R. B. (1982). Fast initial response for CUSUM quality-control
    schemes. *Technometrics*, 24(3), 199-205.

    Examples
    --------
    >>> round(cusum_arl(0.5, 4.0, sided="two"))  # Lucas & Crosier (1982): 168
    168
    >>> round(cusum_arl(0.5, 3.0), 1)  # Brook & Evans (1972): 117.59
    117.6
    """
    k = check_positive("k", k, allow_zero=True)
    h = check_positive("h", h)
    sided = _sided(sided)
    if isinstance(n_states, bool) or not isinstance(n_states, int) or n_states < 5:
        raise ValueError(f"n_states must be an integer >= 5; got {n_states!r}")

    def one(mu: float) -> float:
        p = _cusum_matrix(k, h, mu, n_states)
        arl = _solve_linear(np.eye(n_states) - p, np.ones(n_states))
        return float(arl[0])

    up = one(float(mean))
    if sided == "one":
        return up
    down = one(-float(mean))
    return 1.0 / (1.0 / up + 1.0 / down)


@lru_cache(maxsize=8192)
def _cusum_fap(k: float, h: float, horizon: int, n_states: int) -> float:
    return 1.0 - float(_survival(_cusum_matrix(k, h, 0.0, n_states), horizon)[-1])


def cusum_false_alarm_curve(k: float, h: float, horizon: int) -> np.ndarray:
    """:func:`cusum_false_alarm_rate` (two-sided) for every horizon ``0..horizon`` at once."""
    one = 1.0 - _survival(_cusum_matrix(float(k), float(h), 0.0, _CUSUM_STATES), int(horizon))
    return np.minimum(1.0, 2.0 * one)


def ewma_false_alarm_curve(lam: float, limit: float, horizon: int) -> np.ndarray:
    """:func:`ewma_false_alarm_rate` for every horizon ``0..horizon`` at once."""
    p = _ewma_matrix(float(lam), float(limit), 0.0, _EWMA_STATES)
    return 1.0 - _survival(p, int(horizon), start=_EWMA_STATES // 2)


def cusum_false_alarm_rate(
    k: float, h: float, horizon: int, *, sided: Literal["one", "two"] = "two"
) -> float:
    """Probability that an in-control (N(0, 1)) CUSUM signals within ``horizon``
    observations, from the Brook-Evans chain's run-length distribution.

    For ``sided='two'`` it is the Bonferroni bound ``2 * P(one side signals)``: the two
    sides hardly ever signal together, so the bound is tight.

    Examples
    --------
    >>> round(cusum_false_alarm_rate(0.5, 4.0, 50), 3)  # two-sided ARL 168: 1 - exp(-50/168) = 0.26
    0.259
    """
    k = check_positive("k", k, allow_zero=True)
    h = check_positive("h", h)
    horizon = _horizon(horizon)
    one = _cusum_fap(round(k, 10), round(h, 10), horizon, _CUSUM_STATES)
    return one if _sided(sided) == "one" else min(1.0, 2.0 * one)


def cusum_limit(
    k: float,
    *,
    arl: float | None = None,
    false_alarm_rate: float | None = None,
    horizon: int | None = None,
    sided: Literal["one", "two"] = "two",
) -> float:
    """Decision interval ``h`` giving an in-control ARL of ``arl``, or a probability
    ``false_alarm_rate`` of a signal within ``horizon`` observations (give one design).

    Examples
    --------
    >>> round(cusum_limit(0.5, arl=168.0), 2)
    4.0
    >>> h = cusum_limit(0.5, false_alarm_rate=0.05, horizon=100)
    >>> round(cusum_false_alarm_rate(0.5, h, 100), 4)
    0.05
    """
    k = check_positive("k", k, allow_zero=True)
    sided = _sided(sided)
    return _limit(
        lambda h: cusum_arl(k, h, sided=sided),
        lambda h, n: cusum_false_alarm_rate(k, h, n, sided=sided),
        arl,
        false_alarm_rate,
        horizon,
        hi_arl=25.0,
        hi_rate=40.0,
    )


def _limit(
    arl_of: Callable[[float], float],
    rate_of: Callable[[float, int], float],
    arl: float | None,
    false_alarm_rate: float | None,
    horizon: int | None,
    *,
    hi_arl: float,
    hi_rate: float,
) -> float:
    """The limit of a chart whose in-control ARL at a limit is ``arl_of(limit)`` and
    false-alarm probability within ``n`` observations ``rate_of(limit, n)``, for the one
    design given: an ARL of ``arl``, or ``false_alarm_rate`` within ``horizon``."""
    if (arl is None) == (false_alarm_rate is None):
        raise ValueError(
            "give exactly one design: arl=... or false_alarm_rate=... with horizon=..."
        )
    if arl is not None:
        target = check_positive("arl", arl)
        if target <= 1:
            raise ValueError(f"arl must be greater than 1; got {arl!r}")
        return _solve(lambda h: not arl_of(h) < target, hi=hi_arl)
    alpha = _probability("false_alarm_rate", false_alarm_rate)
    if horizon is None:
        raise ValueError("false_alarm_rate needs horizon=... (observations)")
    n = _horizon(horizon)
    return _solve_rate(lambda h: rate_of(h, n), alpha, hi=hi_rate)


def _solve(
    meets: Callable[[float], bool], lo: float = 0.05, hi: float = 40.0, tol: float = 1e-4
) -> float:
    """Smallest limit in [lo, hi] that meets an ARL design (``meets`` is monotone), by
    bisection to ``tol``."""
    if not meets(hi):
        raise ValueError(f"no control limit below {hi:g} SD reaches that design")
    if meets(lo):
        return lo
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if not meets(mid) else (lo, mid)
    return hi


def _solve_rate(
    rate: Callable[[float], float], alpha: float, hi: float, tol: float = 1e-4
) -> float:
    """The limit at which the false-alarm probability ``rate`` (decreasing) equals
    ``alpha``: Brent's method on ``log(rate) - log(alpha)``, a few chain evaluations
    instead of a bisection's twenty."""
    from scipy.optimize import brentq

    def g(c: float) -> float:
        return math.log(max(rate(c), 1e-300)) - math.log(alpha)

    lo, up = 0.05, 1.0
    while g(up) > 0:  # widen until the rate falls below alpha
        lo, up = up, up * 1.6
        if up > hi:
            raise ValueError(f"no control limit below {hi:g} SD reaches that design")
    if g(lo) <= 0:
        return lo
    c = float(brentq(g, lo, up, xtol=tol))
    while rate(c) > alpha:  # land on the safe side of the root: the rate is at most alpha
        c += tol
    return c


# ---- EWMA run lengths (Lucas & Saccucci 1990) -----------------------------------------
def _ewma_matrix(lam: float, limit: float, mean: float, n_states: int) -> np.ndarray:
    """Transient transitions of the two-sided EWMA with asymptotic limits ``+-limit``
    (in units of the EWMA's own asymptotic SD), ``n_states`` equal states on the
    in-control band."""
    c = limit * math.sqrt(lam / (2.0 - lam))
    w = 2.0 * c / n_states
    lower = -c + np.arange(n_states) * w
    centre = lower + w / 2
    upper = lower + w
    # z' = (1 - lam) z + lam x in [a, b]  <=>  x in [(a - (1 - lam) z) / lam, ...]
    shift = (1.0 - lam) * centre[:, None]
    return special.ndtr((upper[None, :] - shift) / lam - mean) - special.ndtr(
        (lower[None, :] - shift) / lam - mean
    )


def ewma_arl(lam: float, limit: float, *, mean: float = 0.0, n_states: int = _EWMA_STATES) -> float:
    """Zero-state ARL of a two-sided EWMA chart on N(mean, 1) observations with the
    asymptotic limits ``+- limit * sqrt(lam / (2 - lam))``.

    Notes
    -----
    The Markov-chain method of Lucas & Saccucci (1990) (after Brook & Evans 1972), the
    chain started at the centre state. Matches Lucas & Saccucci (1990, Table 3) and
    Crowder (1987, Table 1) to within 1% (``tests/drift/test_charts.py``).

    References
    ----------
    Lucas, J. M., & Saccucci, M. S. (1990). Exponentially weighted moving average control
    schemes: properties and enhancements. *Technometrics*, 32(1), 1-12.
    Crowder, S. V. (1987). A simple method for studying run-length distributions of
    exponentially weighted moving average charts. *Technometrics*, 29(4), 401-407.
    Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
    *Technometrics*, 1(3), 239-250.

    Examples
    --------
    >>> round(ewma_arl(0.5, 3.071))  # Lucas & Saccucci (1990): 500
    500
    """
    lam = _probability("lam", lam) if lam != 1 else 1.0
    limit = check_positive("limit", limit)
    if isinstance(n_states, bool) or not isinstance(n_states, int) or n_states < 5:
        raise ValueError(f"n_states must be an integer >= 5; got {n_states!r}")
    p = _ewma_matrix(lam, limit, float(mean), n_states)
    arl = _solve_linear(np.eye(n_states) - p, np.ones(n_states))
    return float(arl[n_states // 2])


@lru_cache(maxsize=8192)
def _ewma_fap(lam: float, limit: float, horizon: int, n_states: int) -> float:
    p = _ewma_matrix(lam, limit, 0.0, n_states)
    return 1.0 - float(_survival(p, horizon, start=n_states // 2)[-1])


def ewma_false_alarm_rate(lam: float, limit: float, horizon: int) -> float:
    """Probability that an in-control two-sided EWMA chart signals within ``horizon``
    observations (Markov chain of :func:`ewma_arl`).

    Examples
    --------
    >>> round(ewma_false_alarm_rate(0.2, 2.962, 500), 2)
    0.63
    """
    lam = _probability("lam", lam) if lam != 1 else 1.0
    limit = check_positive("limit", limit)
    return _ewma_fap(round(lam, 10), round(limit, 10), _horizon(horizon), _EWMA_STATES)


def ewma_limit(
    lam: float,
    *,
    arl: float | None = None,
    false_alarm_rate: float | None = None,
    horizon: int | None = None,
) -> float:
    """Limit ``L`` (in SDs of the EWMA) giving an in-control ARL of ``arl``, or a
    probability ``false_alarm_rate`` of a signal within ``horizon`` observations.

    Examples
    --------
    >>> round(ewma_limit(0.1, arl=500.0), 2)  # Lucas & Saccucci (1990): 2.814
    2.81
    """
    lam = _probability("lam", lam) if lam != 1 else 1.0
    return _limit(
        lambda c: ewma_arl(lam, c),
        lambda c, n: ewma_false_alarm_rate(lam, c, n),
        arl,
        false_alarm_rate,
        horizon,
        hi_arl=8.0,
        hi_rate=8.0,
    )
