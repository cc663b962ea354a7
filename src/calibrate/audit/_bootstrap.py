"""The parametric bootstrap of a G-study's variance components, and percentile intervals."""

from __future__ import annotations

import math

import numpy as np

from calibrate.audit._henderson import _Fit, _solve, _t_terms


def _check_n_resamples(n_resamples: object) -> int:
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, int | np.integer)
        or n_resamples < 0
    ):
        raise ValueError(f"n_resamples must be a non-negative integer; got {n_resamples!r}")
    return int(n_resamples)


def _bootstrap(
    fit: _Fit, sigma2: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Parametric bootstrap: redraw scores from the fitted normal random-effects model on
    the same design (negative components drawn as 0) and re-estimate."""
    sd = np.sqrt(np.clip(sigma2, 0.0, None))
    out = np.empty((n_resamples, len(fit.effects)))
    for b in range(n_resamples):
        y = np.zeros(fit.n_ratings)
        for s, c, m in zip(sd, fit.codes, fit.counts, strict=True):
            if s > 0:
                y += s * rng.standard_normal(m.size)[c]
        y -= y.mean()
        out[b] = _solve(fit, _t_terms(y, fit.codes, fit.counts))
    return out


def _interval(x: np.ndarray, level: float) -> tuple[float, float]:
    if x.size == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    lo, hi = np.quantile(x, [a, 1 - a])
    return (float(lo), float(hi))
