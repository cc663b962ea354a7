"""Krippendorff's alpha from the coincidence matrix of per-unit value counts."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from calibrate._checks import check_choice, check_confidence_level
from calibrate.reliability._common import (
    NO_PAIRS,
    SE_NEEDS_TWO_UNITS,
    t_interval,
    t_p_value_one_sided,
    undefined_result,
)
from calibrate.reliability._data import _categories_array, as_coded
from calibrate.reliability._result import ReliabilityResult

__all__ = ["LEVELS", "alpha_from_counts", "coincidences", "distance_matrix", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
#: Krippendorff's levels of measurement.
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
_NO_VARIATION = (
    "every pairable rating has the same value (no variation), so expected disagreement "
    "is zero and alpha is undefined"
)


def coincidences(counts: np.ndarray, unit_weights: np.ndarray | None = None) -> np.ndarray:
    """Krippendorff's coincidence matrix from units x values counts.

    Parameters
    ----------
    counts : ndarray, shape (n_units, q)
        How many ratings of each unit have each value.
    unit_weights : ndarray, shape (n_units,) or (n_resamples, n_units), optional
        Frequency weight of each unit (a bootstrap resample of units is a weight
        vector; a matrix of them computes many resamples at once).

    Returns
    -------
    ndarray, shape (q, q) or (n_resamples, q, q)
        :math:`o_{ck} = \\sum_u f_u \\frac{n_{uc}(n_{uk} - 1[c=k])}{m_u - 1}` over units
        with :math:`m_u \\ge 2` values.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import coincidences
    >>> coincidences(np.array([[2, 0], [1, 1], [0, 3]]))
    array([[2., 1.],
           [1., 3.]])
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    pairable = m >= 2
    a = counts[pairable]
    inv = 1.0 / (m[pairable] - 1.0)
    q = counts.shape[1]
    if unit_weights is None:
        g = inv
    else:
        uw = np.asarray(unit_weights, dtype=float)
        g = uw[..., pairable] * inv
    if g.ndim == 1:
        return (a * g[:, None]).T @ a - np.diag(g @ a)
    # many resamples: one matrix product over the per-unit coincidence contributions
    per_unit = (a[:, :, None] * a[:, None, :]).reshape(len(a), q * q)
    per_unit[:, :: q + 1] -= a
    return (g @ per_unit).reshape(-1, q, q)


def distance_matrix(level: Level, categories: Any, n_v: np.ndarray | None = None) -> np.ndarray:
    """Krippendorff's squared distances between values for a level of measurement.

    Parameters
    ----------
    level : {'nominal', 'ordinal', 'interval', 'ratio'}
    categories : array_like, shape (q,)
        The values, increasing.
    n_v : ndarray, shape (q,) or (n_resamples, q)
        Pairable values of each category (margins of the coincidence matrix); the
        ordinal metric needs them.

    Returns
    -------
    ndarray, shape (q, q) or (n_resamples, q, q)

    Notes
    -----
    nominal :math:`1[c \\ne k]`; interval :math:`(c - k)^2`; ratio
    :math:`((c - k)/(c + k))^2`; ordinal
    :math:`\\left(\\sum_{g=c}^{k} n_g - \\frac{n_c + n_k}{2}\\right)^2`, which is the
    interval metric on the mid-ranks :math:`\\sum_{g \\le c} n_g - n_c/2` of the pooled
    value frequencies (Krippendorff 2011). Matches the ``krippendorff`` package's metrics.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.

    Examples
    --------
    >>> from calibrate.reliability import distance_matrix
    >>> distance_matrix("ordinal", [1, 2, 3], n_v=np.array([4.0, 2.0, 4.0]))
    array([[ 0.,  9., 36.],
           [ 9.,  0.,  9.],
           [36.,  9.,  0.]])
    """
    check_choice("level", level, LEVELS)
    x = np.asarray(categories, dtype=float)
    diff = x[:, None] - x[None, :]
    if level == "nominal":
        return (diff != 0).astype(float)
    if level == "interval":
        return diff**2
    if level == "ratio":
        total = x[:, None] + x[None, :]
        return np.divide(diff, total, out=np.zeros_like(diff), where=total != 0) ** 2
    if n_v is None:
        raise ValueError("the ordinal metric needs n_v, the pairable values per category")
    nv = np.asarray(n_v, dtype=float)
    mid = np.cumsum(nv, axis=-1) - nv / 2.0
    return (mid[..., :, None] - mid[..., None, :]) ** 2


def _custom_distance(distance: Any, cats: np.ndarray) -> np.ndarray:
    q = len(cats)
    if callable(distance):
        try:
            d = np.asarray(distance(cats[:, None], cats[None, :]), dtype=float)
        except Exception as exc:  # the user's callable failed: say how it was called
            raise ValueError(
                f"distance callable failed when called as distance(a, b) on arrays of shapes ({q}, 1) and (1, {q}): {exc}"
            ) from exc
        d = np.broadcast_to(d, (q, q)).copy() if d.ndim < 2 else d
    else:
        try:
            d = np.asarray(distance, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"distance must be None, a callable distance(a, b) or a q x q matrix; got {distance!r}"
            ) from exc
    if d.shape != (q, q):
        raise ValueError(
            f"distance must give a {q} x {q} matrix for categories {cats.tolist()}; got shape {d.shape}"
        )
    if not np.all(np.isfinite(d)) or (d < 0).any():
        raise ValueError("distance must be finite and non-negative")
    if np.any(np.diag(d) != 0):
        raise ValueError(
            f"distance of a value to itself must be 0; got diagonal {np.diag(d).tolist()}"
        )
    return d


def _alpha_terms(o: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum of o * delta, sum of e * delta (e the expected coincidences) and n, per resample.

    alpha = 1 - observed / expected; D_o = observed / n, D_e = expected / n.
    """
    n_v = o.sum(axis=-1)
    n = n_v.sum(axis=-1)
    observed = np.einsum("...ck,...ck->...", o, delta)
    pairs = np.einsum("...c,...ck,...k->...", n_v, delta, n_v) - np.einsum(
        "...c,...cc->...", n_v, delta
    )
    expected = np.divide(pairs, n - 1.0, out=np.zeros(np.shape(pairs)), where=n > 1)
    return observed, expected, n


def alpha_from_counts(
    counts: Any,
    *,
    level: Level = "ordinal",
    distance: Callable[..., Any] | Any = None,
    categories: Any = None,
    unit_weights: Any = None,
) -> float | np.ndarray:
    """Krippendorff's alpha straight from a units x values count matrix (fast path).

    Meant for resampling: a bootstrap of units is a weight vector, and a matrix of
    weight vectors computes all resamples in one matrix product.

    Parameters
    ----------
    counts : array_like, shape (n_units, q)
        How many ratings of each unit have each value (``CodedRatings.value_counts()``).
    level : {'nominal', 'ordinal', 'interval', 'ratio'}, default 'ordinal'
    distance : callable or array_like (q, q), optional
        Custom distance; overrides ``level``.
    categories : array_like, shape (q,), optional
        The value of each column (default 0..q-1).
    unit_weights : array_like, shape (n_units,) or (n_resamples, n_units), optional
        Frequency weight of each unit.

    Returns
    -------
    float or ndarray of shape (n_resamples,)
        NaN where alpha is undefined (no pairable values or no variation);
        :func:`krippendorff_alpha` says why in words.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import alpha_from_counts
    >>> counts = np.array([[2, 0, 0], [0, 2, 0], [0, 1, 1], [0, 0, 2]])
    >>> round(alpha_from_counts(counts, level="nominal"), 6)
    0.666667
    >>> alpha_from_counts(counts, level="nominal", unit_weights=np.array([[1, 1, 1, 1], [2, 0, 0, 2]]))
    array([0.66666667, 1.        ])

    ``krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")`` gives
    the same 0.666667.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2:
        raise ValueError(f"counts must be a 2-D units x values array; got shape {counts.shape}")
    cats = (
        np.arange(float(counts.shape[1])) if categories is None else _categories_array(categories)
    )
    if len(cats) != counts.shape[1]:
        raise ValueError(
            f"categories must give one value per column of counts ({counts.shape[1]}); got {len(cats)}"
        )
    o = coincidences(counts, unit_weights)
    delta = _delta(level, distance, cats, o.sum(axis=-1))
    observed, expected, _ = _alpha_terms(o, delta)
    out = np.full(np.shape(observed), np.nan)
    ok = expected > 0
    out[ok] = 1.0 - observed[ok] / expected[ok]
    return float(out) if out.ndim == 0 else out


def _delta(level: Any, distance: Any, cats: np.ndarray, n_v: np.ndarray) -> np.ndarray:
    if distance is not None:
        return _custom_distance(distance, cats)
    check_choice("level", level, LEVELS)
    return distance_matrix(level, cats, n_v)


def krippendorff_alpha(
    data: Any,
    *,
    level: Level = "ordinal",
    distance: Callable[..., Any] | Any = None,
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Krippendorff's alpha for any number of raters, missing ratings and level of measurement.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit (the transpose of the
        ``krippendorff`` package's ``reliability_data``). A RatingsTable must hold one
        criterion.
    level : {'nominal', 'ordinal', 'interval', 'ratio'}, default 'ordinal'
        Krippendorff's metric. 'ordinal' is his rank-based metric on the pooled value
        frequencies, not Gwet's ordinal weights.
    distance : callable or array_like (q, q), optional
        A custom squared distance instead of ``level``: a matrix over ``categories``
        with zeros on the diagonal, or a vectorised ``distance(a, b)`` of score arrays.
        ``1 - agreement_weights(kind, categories)`` gives Gwet's (R irrCAC) weighted alpha.
    categories : array_like, optional
        All possible scores (default: those that occur). Alpha does not depend on
        unused values; the matrix ``distance`` is indexed by them.
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` is Gwet's (2014) linearised standard error (R irrCAC
        ``krippen.alpha.raw``), ``ci`` estimate +- t(1 - alpha/2, n - 1) * se with n
        the rated units, capped at 1. ``extra`` has ``D_o``, ``D_e``, Gwet's
        ``p_o`` and ``p_e``, ``p_value_one_sided``, ``n_pairable_units``.

    Notes
    -----
    With the coincidence matrix :math:`o_{ck} = \\sum_u \\frac{n_{uc}(n_{uk} -
    1[c=k])}{m_u - 1}` over units with :math:`m_u \\ge 2` values, margins :math:`n_c`,
    :math:`n = \\sum_c n_c` pairable values and squared distance :math:`\\delta_{ck}`:

    .. math::

        \\alpha = 1 - \\frac{D_o}{D_e}, \\quad
        D_o = \\frac{1}{n}\\sum_{c,k} o_{ck}\\,\\delta_{ck}, \\quad
        D_e = \\frac{1}{n(n-1)}\\sum_{c,k} n_c\\, n_k\\, \\delta_{ck}.

    Everything comes from per-unit value counts, so a million ratings take
    milliseconds. The standard error treats the distances as fixed (for the ordinal
    metric they depend on the data) and uses agreement weights
    :math:`1 - \\delta_{ck}/\\max\\delta`, under which Gwet's formulation equals alpha.

    Validated against ``krippendorff.alpha`` on random data with missing values (1e-9,
    all levels), Krippendorff (2011) (nominal 0.743, ordinal 0.815, interval 0.849,
    ratio 0.797, with D_o and D_e), and R irrCAC ``krippen.alpha.raw`` on
    ``cac.raw4raters`` (estimate and SE, all Gwet weightings via ``distance``).

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg
    School for Communication, University of Pennsylvania.
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.). Advanced Analytics.

    Examples
    --------
    Krippendorff's (2011) example, 4 observers x 12 units, units as rows:

    >>> import numpy as np
    >>> from calibrate.reliability import krippendorff_alpha
    >>> nan = np.nan
    >>> data = np.array([[1, 1, nan, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3],
    ...                  [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1],
    ...                  [2, 2, 2, 2], [nan, 5, 5, 5], [nan, nan, 1, 1], [nan, nan, 3, nan]])
    >>> round(krippendorff_alpha(data, level="nominal").estimate, 3)
    0.743
    >>> round(krippendorff_alpha(data, level="ordinal").estimate, 3)
    0.815
    """
    cl = check_confidence_level(confidence_level)
    if distance is None:
        check_choice("level", level, LEVELS)
    coded = as_coded(data, categories)
    cats = coded.categories
    # units with the same counts are interchangeable: compute from the distinct rows
    rows, mult = coded.compressed_counts()
    label = "custom" if distance is not None else str(level)
    m = rows.sum(axis=1)
    n_units = int(mult.sum())
    pairable = m >= 2
    n_pairable = int(mult[pairable] @ m[pairable])
    if not pairable.any():
        return undefined_result(
            "krippendorff_alpha",
            label,
            NO_PAIRS,
            n_units=n_units,
            n_pairable=n_pairable,
            confidence_level=cl,
        )
    o = coincidences(rows, mult)
    n_v = o.sum(axis=1)
    delta = _delta(level, distance, cats, n_v)
    observed, expected, n = (float(t) for t in _alpha_terms(o, delta))
    d_o = observed / n
    d_e = expected / n
    if not expected > 0:
        return undefined_result(
            "krippendorff_alpha",
            label,
            _NO_VARIATION,
            n_units=n_units,
            n_pairable=n_pairable,
            confidence_level=cl,
            extra={"D_o": d_o},
        )
    estimate = 1.0 - observed / expected
    se, p_o, p_e = _gwet_alpha_se(rows[pairable], mult[pairable], delta)
    note = "" if n_units >= 2 and math.isfinite(se) else SE_NEEDS_TWO_UNITS
    extra = {
        "D_o": d_o,
        "D_e": d_e,
        "p_o": p_o,
        "p_e": p_e,
        "p_value_one_sided": t_p_value_one_sided(estimate, se, n_units),
        "n_pairable_units": float(mult[pairable].sum()),
    }
    return ReliabilityResult(
        coefficient="krippendorff_alpha",
        level=label,
        estimate=estimate,
        ci=t_interval(estimate, se, n_units, cl),
        se=se,
        n_units=n_units,
        n_pairable=n_pairable,
        method="analytic" if math.isfinite(se) else "none",
        confidence_level=cl,
        note=note,
        extra={k: v for k, v in extra.items() if not math.isnan(v)},
        p_value=extra["p_value_one_sided"],
    )


def _gwet_alpha_se(a: np.ndarray, f: np.ndarray, delta: np.ndarray) -> tuple[float, float, float]:
    """Gwet's (2014) standard error of alpha (R irrCAC ``krippen.alpha.raw``), p_a and p_e.

    ``a`` holds the distinct count rows of the units with two or more values and ``f``
    how many units have each.
    """
    w = 1.0 - delta / delta.max()
    r = a.sum(axis=1)
    n = float(f.sum())
    rbar = float(f @ r) / n
    eps = 1.0 / float(f @ r)
    agree = np.einsum("ik,ik->i", a, a @ w.T - 1.0)
    pa_unit = agree / (rbar * (r - 1.0))
    pa_prime = float(f @ pa_unit) / n
    pa = (1.0 - eps) * pa_prime + eps
    pi = (f @ a) / (n * rbar)
    pe = float(pi @ w @ pi)
    if n < 2 or not 1.0 - pe > 1e-12:
        return math.nan, float(pa), pe
    alpha_prime = (pa_prime - pe) / (1.0 - pe)
    pa_i = pa_unit - pa_prime * (r - rbar) / rbar
    pe_i = a @ (((w + w.T) / 2.0) @ pi) / rbar - pe * (r - rbar) / rbar
    infl = (pa_i - pe) / (1.0 - pe) - 2.0 * (1.0 - alpha_prime) * (pe_i - pe) / (1.0 - pe)
    var = float(f @ (infl - alpha_prime) ** 2) / (n * (n - 1.0))
    return math.sqrt(var), float(pa), pe
