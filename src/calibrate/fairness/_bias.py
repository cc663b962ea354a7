"""Reviewer x group bias terms of the many-facet Rasch model, main facets anchored (FACETS' bias analysis)."""

from __future__ import annotations

import numpy as np

from calibrate.severity import level_moments as moments
from calibrate.severity import rating_scale_probs as category_probs

_MAX_STEP = 1.0
_ITER = 50


def cumulative_thresholds(thresholds: np.ndarray) -> np.ndarray:
    """``cumtau[c, k]`` (0 at k = 0, +inf past a criterion's levels) from ``thresholds_``."""
    n_crit, steps = thresholds.shape
    out = np.full((n_crit, steps + 1), np.inf)
    out[:, 0] = 0.0
    for c in range(n_crit):
        t = thresholds[c]
        k = int(np.sum(~np.isnan(t)))
        out[c, 1 : k + 1] = np.cumsum(t[:k])
    return out


def anchored_bias(
    cell: np.ndarray,
    n_cells: int,
    x: np.ndarray,
    eta: np.ndarray,
    cumtau: np.ndarray,
    crit: np.ndarray,
    top: np.ndarray,
    adj: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bias parameter ``b`` per cell, ``eta - b`` for the cell's ratings, every other
    parameter held at its estimate: Newton on each cell's score equation
    ``sum E[x | eta - b] = sum x`` (a raw score at an extreme moved in by ``adj``).

    Returns ``b`` (logits, positive = lower scores than expected), its SE
    ``1 / sqrt(sum Var)`` at ``b`` and whether the cell's raw score was extreme.
    """
    raw = np.bincount(cell, weights=x, minlength=n_cells)
    hi = np.bincount(cell, weights=top, minlength=n_cells)
    extreme = (raw <= 0) | (raw >= hi)
    target = np.where(raw <= 0, raw + adj, np.where(raw >= hi, raw - adj, raw))
    b = np.zeros(n_cells)
    for _ in range(_ITER):
        e, v = moments(category_probs(eta - b[cell], cumtau, crit))
        info = np.bincount(cell, weights=v, minlength=n_cells)
        step = np.clip(
            (target - np.bincount(cell, weights=e, minlength=n_cells)) / np.maximum(info, 1e-300),
            -_MAX_STEP,
            _MAX_STEP,
        )
        b -= step
        if np.abs(step).max() < 1e-10:
            break
    _, v = moments(category_probs(eta - b[cell], cumtau, crit))
    se = 1.0 / np.sqrt(np.bincount(cell, weights=v, minlength=n_cells))
    return b, se, extreme
