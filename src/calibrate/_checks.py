"""Checks of the options of public functions: one exception type and one message shape for
each kind of mistake, everywhere in the kit.

A wrong *type* is a :class:`TypeError`, a wrong *value* a :class:`ValueError`; both name the
argument, what is allowed and what was given::

    level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got 'ordnial'
    n_resamples must be an integer >= 1; got 0
    confidence_level must be a number between 0 and 1 (exclusive); got '95%'

A choice among named options (``level``, ``method``, ``form``) is a closed set of values, so
anything outside it, a number included, is a ValueError.

Every public function checks its options with these helpers, up front, before any work.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import TypeVar

import numpy as np

__all__ = [
    "as_rng",
    "check_choice",
    "check_choices",
    "check_confidence_level",
    "check_count",
    "check_fraction",
    "check_instance",
    "check_int",
    "check_number",
    "check_positive",
]

_T = TypeVar("_T")


def _type_name(value: object) -> str:
    return type(value).__name__


def check_instance(name: str, value: object, cls: type[_T], what: str | None = None) -> _T:
    """``value`` if it is an instance of ``cls``; else a TypeError naming ``what`` it must be
    (by default the class's qualified name)."""
    if not isinstance(value, cls):
        public = ".".join(p for p in cls.__module__.split(".") if not p.startswith("_"))
        what = what or f"a {public}.{cls.__qualname__}"
        raise TypeError(f"{name} must be {what}; got {_type_name(value)}")
    return value


def check_int(name: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int, if it is a whole number (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {_type_name(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        if high is None:
            bound = f">= {low}"
        elif low is None:
            bound = f"<= {high}"
        else:
            bound = f"between {low} and {high}"
        raise ValueError(f"{name} must be an integer {bound}; got {v}")
    return v


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float, if it is a finite real number (not a bool) within the bounds
    (closed unless ``low_open`` / ``high_open``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number; got {_type_name(value)}")
    v = float(value)
    bad = not math.isfinite(v)
    if low is not None:
        bad |= v <= low if low_open else v < low
    if high is not None:
        bad |= v >= high if high_open else v > high
    if bad:
        parts = []
        if low is not None:
            parts.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            parts.append(f"{'<' if high_open else '<='} {high:g}")
        bound = " and ".join(parts)
        raise ValueError(
            f"{name} must be a finite number{' ' + bound if bound else ''}; got {value!r}"
        )
    return v


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float, if it is a finite number above 0 (or at least 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number; got {_type_name(value)}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} finite number; got {value!r}")
    return v


def check_fraction(name: str, value: object) -> float:
    """``value`` as a float, if it is a number in ``[0, 1]``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number between 0 and 1; got {_type_name(value)}")
    v = float(value)
    if not 0.0 <= v <= 1.0:  # (NaN fails too)
        raise ValueError(f"{name} must be a number between 0 and 1; got {value!r}")
    return v


def check_count(name: str, value: object) -> int:
    """``value`` as an int, if it is a whole number (not a bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive integer; got {_type_name(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_confidence_level(value: object, name: str = "confidence_level") -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number between 0 and 1 (exclusive); got {value!r}")
    v = float(value)
    if not 0.0 < v < 1.0:  # NaN fails too
        raise ValueError(f"{name} must be between 0 and 1 (exclusive); got {value!r}")
    return v


def check_choice(name: str, value: object, allowed: Collection[str]) -> str:
    """``value`` if it is one of the strings ``allowed``; else a ValueError naming all three.

    A choice is a value among a closed set, so anything outside the set, a number included,
    is a wrong *value*."""
    listed = ", ".join(repr(a) for a in allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_choices(name: str, values: object, allowed: Collection[str]) -> tuple[str, ...]:
    """A string, or a sequence of strings, each one of ``allowed``: returned as a tuple.
    Every unknown value is named at once."""
    if isinstance(values, str):
        values = (values,)
    if not isinstance(values, Sequence) or not all(isinstance(v, str) for v in values):
        raise TypeError(
            f"{name} must be a string or a sequence of strings; got {_type_name(values)}"
        )
    unknown = [v for v in values if v not in allowed]
    if unknown:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be among {listed}; got unknown {unknown}")
    return tuple(values)


def as_rng(rng: object, name: str = "rng") -> np.random.Generator:
    """``rng`` normalised once with :func:`numpy.random.default_rng` (None, a seed, a
    SeedSequence or a Generator); anything else is a TypeError naming the argument."""
    if isinstance(rng, bool):
        raise TypeError(f"{name} must be None, an integer seed or a numpy Generator; got bool")
    try:
        return np.random.default_rng(rng)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be None, an integer seed or a numpy Generator; got {_type_name(rng)}"
        ) from exc
