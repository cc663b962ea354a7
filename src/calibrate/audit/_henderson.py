"""Henderson's method 1 (Brennan's analogous ANOVA): T terms, their expectations and the
variance components, from sparse sums with ``np.bincount``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from calibrate.audit._design import _compact_codes


@dataclass(frozen=True)
class _Fit:
    effects: list[tuple[str, ...]]
    codes: list[np.ndarray]  # per effect: level code of every rating
    counts: list[np.ndarray]  # per effect: ratings per level
    K: np.ndarray  # E[T_a - T_mu] = K @ sigma2
    t_centred: np.ndarray  # T_a - T_mu of the data
    t_raw: np.ndarray  # T_a, and T_mu last
    n_ratings: int


def _prepare(
    codes: Mapping[str, np.ndarray], effects: list[tuple[str, ...]]
) -> tuple[list, list, np.ndarray]:
    """Level codes and counts of each effect, and the T-term coefficient matrix K."""
    n = len(next(iter(codes.values())))
    cache: dict[frozenset[str], tuple[np.ndarray, np.ndarray]] = {}

    def cell(fs: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        if fs not in cache:
            order = [f for f in codes if f in fs]
            code, size = _compact_codes([codes[f] for f in order])
            cache[fs] = (code, np.bincount(code, minlength=size))
        return cache[fs]

    eff_codes, eff_counts = [], []
    for e in effects:
        c, m = cell(frozenset(e))
        eff_codes.append(c)
        eff_counts.append(m)
    # E[T_a] = N mu^2 + sum_b sigma2_b * sum_{cells of a u b} n_cell^2 / n_(a-level of cell)
    # (Henderson 1953, method 1; Searle et al. 1992, sec. 5.3). T_mu = (sum y)^2 / N.
    q = len(effects)
    K = np.empty((q, q))
    k_mu = np.array([float(np.sum(eff_counts[b].astype(np.float64) ** 2)) / n for b in range(q)])
    for a, ea in enumerate(effects):
        for b, eb in enumerate(effects):
            code_u, n_u = cell(frozenset(ea) | frozenset(eb))
            first = np.empty(n_u.size, dtype=np.int64)
            first[code_u[::-1]] = np.arange(n - 1, -1, -1)
            parent = eff_codes[a][first]
            K[a, b] = float(np.sum(n_u.astype(np.float64) ** 2 / eff_counts[a][parent])) - k_mu[b]
    return eff_codes, eff_counts, K


def _t_terms(
    y: np.ndarray, eff_codes: list[np.ndarray], eff_counts: list[np.ndarray]
) -> np.ndarray:
    """T_a - T_mu for centred scores (the differences do not depend on the mean)."""
    return np.array(
        [
            float(np.sum(np.bincount(c, weights=y, minlength=m.size) ** 2 / m))
            for c, m in zip(eff_codes, eff_counts, strict=True)
        ]
    )


def _fit(codes: Mapping[str, np.ndarray], y: np.ndarray, effects: list[tuple[str, ...]]) -> _Fit:
    eff_codes, eff_counts, K = _prepare(codes, effects)
    finest = eff_counts[-1]
    if finest.max(initial=0) > 1:
        raise ValueError(
            "each combination of " + ", ".join(effects[-1]) + " must be scored at most once; got "
            f"{int((finest > 1).sum())} repeated cells. Select one round or kind of ratings first."
        )
    rank = np.linalg.matrix_rank(K, tol=1e-9 * max(1.0, float(np.abs(K).max(initial=0))))
    if rank < len(effects):
        raise ValueError(
            "the design does not separate every variance component (e.g. each reviewer scored a "
            "single submission, or a facet has one level); use design='nested' for reviewers "
            "nested in submissions, or more varied data"
        )
    mean = float(y.mean())
    yc = y - mean
    t_c = _t_terms(yc, eff_codes, eff_counts)
    t_mu = y.size * mean**2
    return _Fit(effects, eff_codes, eff_counts, K, t_c, np.append(t_c + t_mu, t_mu), int(y.size))


def _solve(fit: _Fit, t_centred: np.ndarray) -> np.ndarray:
    return np.linalg.solve(fit.K, t_centred)
