"""Intervals shared by the statistics packages (which may not import one another)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.proportion import proportion_confint

__all__ = ["wilson_interval"]


def wilson_interval(
    k: ArrayLike, n: ArrayLike, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval for k successes in n trials, vectorised: statsmodels'
    ``proportion_confint(method="wilson")``. NaN where ``n`` is 0 (numpy warns of the
    division, as it always did)."""
    return proportion_confint(
        np.asarray(k, dtype=float),
        np.asarray(n, dtype=float),
        alpha=1 - confidence_level,
        method="wilson",
    )
