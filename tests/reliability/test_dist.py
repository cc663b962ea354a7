"""The scipy.special quantiles and tails of reliability._dist are scipy.stats' to the bit.

Reference: scipy.stats itself (norm, t, f), on a grid with the edge cases (q of 0 and 1,
outside [0, 1], NaN, infinite x, degrees of freedom 0, negative, fractional, infinite).
Tolerance: none (the same float, compared as bits, signed zeros included).
"""

from __future__ import annotations

import itertools
import math
import struct

import numpy as np
from scipy import stats

from calibrate.reliability._dist import f_ppf, f_sf, norm_ppf, norm_sf, t_ppf, t_sf

QS = [0.0, 1e-300, 1e-12, 0.025, 0.3, 0.5, 0.8, 0.975, 0.995, 1 - 1e-12, 1.0, -0.1, 1.5, math.nan]
XS = [-math.inf, -1e6, -3.2, -1.0, -0.0, 0.0, 1e-9, 0.7, 1.96, 4.5, 40.0, 1e6, math.inf, math.nan]
DFS = [-1.0, 0, 0.5, 1, 2, 3, 7.5, 29, 99, 10_000, math.inf, math.nan]


def _bits(x: float) -> bytes:
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


def test_normal_matches_scipy_stats():
    for q in QS:
        assert _bits(norm_ppf(q)) == _bits(float(stats.norm.ppf(q))), q
    for x in XS:
        assert _bits(norm_sf(x)) == _bits(float(stats.norm.sf(x))), x


def test_t_matches_scipy_stats():
    for q, df in itertools.product(QS, DFS):
        assert _bits(t_ppf(q, df)) == _bits(float(stats.t.ppf(q, df))), (q, df)
    for x, df in itertools.product(XS, DFS):
        assert _bits(t_sf(x, df)) == _bits(float(stats.t.sf(x, df))), (x, df)
    assert _bits(t_ppf(0.975, np.int64(41))) == _bits(float(stats.t.ppf(0.975, np.int64(41))))


def test_f_matches_scipy_stats():
    dfs = [d for d in DFS if not (isinstance(d, float) and math.isinf(d))]
    for q, d1, d2 in itertools.product(QS, dfs, dfs):
        assert _bits(f_ppf(q, d1, d2)) == _bits(float(stats.f.ppf(q, d1, d2))), (q, d1, d2)
    for x, d1, d2 in itertools.product(XS, dfs, dfs):
        assert _bits(f_sf(x, d1, d2)) == _bits(float(stats.f.sf(x, d1, d2))), (x, d1, d2)


def test_random_arguments_match():
    rng = np.random.default_rng(14)
    for q, df, d2 in zip(
        rng.uniform(size=300), rng.uniform(0.2, 500, 300), rng.uniform(0.2, 5e4, 300), strict=True
    ):
        assert _bits(t_ppf(q, df)) == _bits(float(stats.t.ppf(q, df)))
        assert _bits(f_ppf(q, df, d2)) == _bits(float(stats.f.ppf(q, df, d2)))
        x = float(stats.norm.ppf(q)) * 3
        assert _bits(t_sf(x, df)) == _bits(float(stats.t.sf(x, df)))
        assert _bits(f_sf(abs(x), df, d2)) == _bits(float(stats.f.sf(abs(x), df, d2)))
        assert _bits(norm_sf(x)) == _bits(float(stats.norm.sf(x)))
