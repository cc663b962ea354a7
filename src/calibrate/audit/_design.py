"""The design of a G-study: its effects, their names, and the level code of every rating
in each facet (from a RatingsTable's codes or from a frame's columns)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

ReviewerDesign = Literal["crossed", "nested"]
_REVIEWER_DESIGNS: tuple[str, ...] = get_args(ReviewerDesign)

#: Facet names of a RatingsTable G-study, the target first.
_TABLE_FACETS = ("submission", "reviewer", "criterion")


def _effects(facets: Sequence[str], nested: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Every random effect of a design: the non-empty facet sets closed under nesting.

    A facet nested in another (``nested={"i": "h"}`` for i:h) only appears together with
    its outer facet, so i:h is the set ``{i, h}`` and there is no effect ``{i}``.
    """
    out = []
    for k in range(1, len(facets) + 1):
        for combo in itertools.combinations(facets, k):
            if all(nested[f] in combo for f in combo if f in nested):
                out.append(combo)
    return out


def _effect_name(effect: tuple[str, ...], nested: Mapping[str, str]) -> str:
    """Brennan's notation in words: ``submission x reviewer``, ``reviewer:submission``."""
    inner = [f for f in effect if f in nested]
    hosts = list(dict.fromkeys(nested[f] for f in inner))
    crossed = [f for f in effect if f not in inner and f not in hosts]
    left = " x ".join(crossed + inner)
    return f"{left}:{' x '.join(hosts)}" if hosts else left


def _design_name(cols: Sequence[str], nested: Mapping[str, str]) -> str:
    """The design in Brennan's notation with the facets' own names: ``p x (r:t)``."""
    hosts = set(nested.values())
    return " x ".join(f"({f}:{nested[f]})" if f in nested else f for f in cols if f not in hosts)


def _compact_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Codes 0..L-1 of the distinct combinations of integer code columns, in order of
    first appearance."""
    code = columns[0].astype(np.int64, copy=False)
    n = int(code.max()) + 1 if code.size else 0
    for col in columns[1:]:
        width = int(col.max()) + 1 if col.size else 0
        code, uniques = pd.factorize(code * width + col, sort=False)
        code = code.astype(np.int64, copy=False)
        n = len(uniques)
    return code, n


def _table_codes(codes: object) -> dict[str, np.ndarray]:
    """The facets of a RatingsTable G-study read from its :class:`RatingCodes`."""
    return {
        "submission": codes.submission,  # type: ignore[attr-defined]
        "reviewer": codes.reviewer,  # type: ignore[attr-defined]
        "criterion": codes.criterion,  # type: ignore[attr-defined]
    }


def _frame_codes(
    frame: pd.DataFrame, cols: Sequence[str], keep: np.ndarray
) -> dict[str, np.ndarray]:
    """Integer codes of a hand-built frame's facet columns on the rows with a score (a
    categorical column's codes, any other column factorised)."""
    codes: dict[str, np.ndarray] = {}
    for c in cols:
        col = frame[c]
        raw = (
            col.cat.codes.to_numpy()
            if isinstance(col.dtype, pd.CategoricalDtype)
            else pd.factorize(col)[0]
        )
        codes[c] = raw[keep].astype(np.int64)
        if (codes[c] < 0).any():
            raise ValueError(f"column {c!r} must not have missing values where a score is given")
    return codes


def _level_codes(
    codes: Mapping[str, np.ndarray], cols: Sequence[str], nested: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """Each facet's levels numbered 0..L-1 in order of first appearance: the estimator's
    own numbering, whatever codes it was given (a nested facet's levels are its (outer,
    inner) pairs, so its labels may repeat across outer levels)."""
    out = dict(codes)
    for inner, outer in nested.items():
        out[inner] = _compact_codes([out[outer], out[inner]])[0]
    for c in cols:
        out[c] = pd.factorize(out[c])[0].astype(np.int64)
    return out


def _sample_sizes(
    codes: Mapping[str, np.ndarray], target: str, facets: Sequence[str], nested: Mapping[str, str]
) -> dict[str, float]:
    """Average number of levels of each facet per level of its host (the target when
    crossed): the G-study's own sample sizes, the D-study default."""
    sizes: dict[str, float] = {}
    for f in facets:
        host = nested.get(f, target)
        pair = _compact_codes([codes[host], codes[f]])[0]
        first = np.unique(pair, return_index=True)[1]
        sizes[f] = float(np.mean(np.bincount(codes[host][first])))
    return sizes
