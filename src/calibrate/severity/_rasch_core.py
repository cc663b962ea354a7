"""Shared pieces of the many-facet Rasch estimators: category probabilities, moments,
separation statistics, level locations and reviewer x criterion bias terms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

_MAX_STEP = 1.0  # logits: Newton steps are clipped, as in Winsteps/FACETS, to avoid overshoot
_BIAS_ITER = 30


def _category_probs(eta: np.ndarray, cumtau: np.ndarray, crit: np.ndarray) -> np.ndarray:
    """P(level k) for each rating: ``psi_k = k * eta - cumtau[crit, k]`` softmaxed.

    ``cumtau[c, k]`` is +inf for levels a criterion does not have.
    """
    k = cumtau.shape[1]
    psi = eta[:, None] * np.arange(k) - cumtau[crit]
    psi -= psi.max(axis=1, keepdims=True)
    np.exp(psi, out=psi)
    psi /= psi.sum(axis=1, keepdims=True)
    return psi


def _moments(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(p.shape[1], dtype=float)
    e = p @ k
    v = p @ (k * k) - e * e
    return e, np.maximum(v, 1e-12)


def _separation(name: str, measures: np.ndarray, se: np.ndarray) -> dict[str, Any]:
    if len(measures) < 2:
        return {
            "facet": name,
            "sd": np.nan,
            "rmse": np.nan,
            "true_sd": np.nan,
            "separation": np.nan,
            "reliability": np.nan,
        }
    sd2 = float(np.var(measures))
    rmse = float(np.sqrt(np.mean(se**2)))
    true_var = max(sd2 - rmse**2, 0.0)
    return {
        "facet": name,
        "sd": np.sqrt(sd2),
        "rmse": rmse,
        "true_sd": np.sqrt(true_var),
        "separation": np.sqrt(true_var) / rmse if rmse > 0 else np.inf,
        "reliability": true_var / sd2 if sd2 > 0 else np.nan,
    }


def _level_locations(cumtau: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
    """``loc[c, k]``: eta at which the expected level index on criterion ``c`` is ``k``
    (moved 0.25 in from the extremes), by bisection (the expectation grows with eta)."""
    n_crit, kmax = cumtau.shape
    target = np.zeros((n_crit, kmax))
    for c in range(n_crit):
        k = int(n_levels[c])
        target[c, :k] = np.clip(np.arange(k, dtype=float), 0.25, k - 1 - 0.25)
        target[c, k:] = target[c, k - 1]
    lo, hi = np.full((n_crit, kmax), -30.0), np.full((n_crit, kmax), 30.0)
    cc = np.repeat(np.arange(n_crit), kmax)
    for _ in range(60):
        mid = (lo + hi) / 2
        e, _ = _moments(_category_probs(mid.ravel(), cumtau, cc))
        below = e.reshape(n_crit, kmax) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2


def bias_terms(
    sub: np.ndarray,
    rev: np.ndarray,
    crit: np.ndarray,
    x: np.ndarray,
    eta: np.ndarray,
    cumtau: np.ndarray,
    given: np.ndarray,
    rev_ids: pd.Index,
    crit_ids: pd.Index,
    n_levels: np.ndarray,
    score_of: np.ndarray,
    adj: float,
) -> pd.DataFrame:
    """Reviewer x criterion bias terms, each estimated with every other parameter fixed."""
    n_crit = len(crit_ids)
    cell = rev * n_crit + crit
    used, cidx = np.unique(cell, return_inverse=True)
    m = len(used)
    n = np.bincount(cidx, minlength=m).astype(float)
    raw = np.bincount(cidx, weights=x, minlength=m)
    top = np.bincount(cidx, weights=(n_levels[crit] - 1).astype(float), minlength=m)
    target = np.where(raw <= 0, raw + adj, np.where(raw >= top, raw - adj, raw))
    b = np.zeros(m)
    for _ in range(_BIAS_ITER):
        e, v = _moments(_category_probs(eta - b[cidx], cumtau, crit))
        step = np.clip(
            (target - np.bincount(cidx, weights=e, minlength=m))
            / np.bincount(cidx, weights=v, minlength=m),
            -_MAX_STEP,
            _MAX_STEP,
        )
        b -= step
        if np.abs(step).max() < 1e-6:
            break
    p0 = _category_probs(eta, cumtau, crit)
    score_scale = (p0 * score_of[crit].astype(float)).sum(axis=1)  # expected score without the bias
    _, v = _moments(_category_probs(eta - b[cidx], cumtau, crit))
    se = 1.0 / np.sqrt(np.bincount(cidx, weights=v, minlength=m))
    return pd.DataFrame(
        {
            "reviewer_id": np.asarray(rev_ids, dtype=object)[used // n_crit],
            "criterion_id": np.asarray(crit_ids, dtype=object)[used % n_crit],
            "n": n.astype(np.int64),
            "observed_average": np.bincount(cidx, weights=given, minlength=m) / n,
            "expected_average": np.bincount(cidx, weights=score_scale, minlength=m) / n,
            "bias": b,
            "se": se,
            "t": b / se,
        }
    )
