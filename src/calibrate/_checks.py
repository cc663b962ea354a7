"""Checks of numeric options shared across the kit: one message shape for every bad value
(a TypeError naming the type, a ValueError naming the bound and the value)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_int", "check_positive"]


def check_int(name: str, value: object, low: int) -> int:
    """``value`` as an int, if it is a whole number (not a bool) of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value}")
    return int(value)


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float, if it is a finite number above 0 (or at least 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} finite number; got {value!r}")
    return v
