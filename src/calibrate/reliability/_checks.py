"""Option checks shared by the coefficients: one message shape for every bad option."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["check_choice", "check_confidence_level"]


def check_choice(name: str, value: object, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; else raise naming all three."""
    if isinstance(value, str) and value in allowed:
        return value
    listed = ", ".join(repr(a) for a in allowed)
    raise ValueError(f"{name} must be one of {listed}; got {value!r}")


def check_confidence_level(confidence_level: object) -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(confidence_level, bool) or not isinstance(confidence_level, int | float):
        raise TypeError(
            f"confidence_level must be a number between 0 and 1 (exclusive); got {confidence_level!r}"
        )
    value = float(confidence_level)
    if not (0.0 < value < 1.0) or math.isnan(value):
        raise ValueError(
            f"confidence_level must be between 0 and 1 (exclusive); got {confidence_level!r}"
        )
    return value
