"""Cohen's kappa for two raters, weighted or not, with the Fleiss-Cohen-Everitt (1969) SE."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from calibrate._checks import check_confidence_level
from calibrate.reliability._common import normal_interval, undefined_result
from calibrate.reliability._data import CodedRatings, _categories_array, as_coded
from calibrate.reliability._dist import norm_sf
from calibrate.reliability._result import ReliabilityResult
from calibrate.reliability._weights import WeightName, resolve_weights

__all__ = ["cohen_kappa", "cohen_kappa_table", "pair_counts"]

_NO_COMMON = "the two raters have no unit in common, so their ratings cannot be compared"
_CHANCE_IS_ONE = (
    "chance agreement is 1 (both raters put every unit in the same category: no variation), "
    "so kappa is undefined"
)


def pair_counts(coded: CodedRatings, rater_a: int = 0, rater_b: int = 1) -> np.ndarray:
    """q x q contingency table of two raters' scores on the units both rated (rows: ``rater_a``)."""
    rater = coded._require_raters("cohen_kappa")
    q = coded.n_categories
    a = np.full(coded.n_units, -1, dtype=np.int64)
    b = np.full(coded.n_units, -1, dtype=np.int64)
    sel_a, sel_b = rater == rater_a, rater == rater_b
    a[coded.unit[sel_a]] = coded.value[sel_a]
    b[coded.unit[sel_b]] = coded.value[sel_b]
    both = (a >= 0) & (b >= 0)
    return np.bincount(a[both] * q + b[both], minlength=q * q).reshape(q, q).astype(float)


def cohen_kappa(
    data: Any,
    *,
    weights: WeightName | Any = "identity",
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Cohen's kappa between two raters: unweighted, weighted (linear, quadratic, ...) or custom.

    Parameters
    ----------
    data : array_like (n_units, 2), DataFrame, CodedRatings or RatingsTable
        The two raters' scores, one column each (NaN where a rater did not rate a
        unit; only units both rated count). A CodedRatings or RatingsTable must hold
        exactly two raters; for two reviewers out of many, use
        :func:`cohen_kappa_table` on ``RatingsTable.pair_table(a, b)``.
    weights : str or array_like, shape (q, q), default 'identity'
        'identity' (unweighted), 'linear', 'quadratic' or another of Gwet's weights
        (see :func:`agreement_weights`), or a q x q matrix of agreement weights in
        [0, 1] with ones on the diagonal (rows: first rater).
    categories : array_like, optional
        All possible scores (default: those that occur). Linear and quadratic weights
        use the scores' numeric distances.
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` is the large-sample SE of Fleiss, Cohen & Everitt (1969), ``ci`` kappa
        +- z(1 - alpha/2) * se (as SAS PROC FREQ and statsmodels), capped at 1.
        ``extra`` has ``p_o``, ``p_e``, ``se_h0`` (SE under H0: kappa = 0), ``z`` =
        kappa / se_h0 and ``p_value_two_sided``; unweighted, also Cohen's (1960)
        ``kappa_max``, the largest kappa the two raters' margins allow.

    Notes
    -----
    With cell proportions :math:`p_{ij}`, margins :math:`p_{i\\cdot}, p_{\\cdot j}` and
    agreement weights :math:`w_{ij}`:

    .. math::

        \\kappa_w = \\frac{p_o - p_e}{1 - p_e}, \\quad p_o = \\sum w_{ij} p_{ij}, \\quad
        p_e = \\sum w_{ij} p_{i\\cdot} p_{\\cdot j}

    .. math::

        \\widehat{Var}(\\kappa_w) = \\frac{\\sum_{ij} p_{ij}[w_{ij}(1 - p_e) -
        (\\bar w_{i\\cdot} + \\bar w_{\\cdot j})(1 - p_o)]^2 - (p_o p_e - 2p_e + p_o)^2}
        {n (1 - p_e)^4}

    with :math:`\\bar w_{i\\cdot} = \\sum_j p_{\\cdot j} w_{ij}` and
    :math:`\\bar w_{\\cdot j} = \\sum_i p_{i\\cdot} w_{ij}`. Weights are numeric
    distances between scores, so kappa is the same for any linear rescaling of the
    scores; R irr's ``kappa2`` uses the ranks of the levels observed instead, which a
    custom matrix reproduces.

    Validated against scikit-learn ``cohen_kappa_score`` on random data (1e-9,
    unweighted, linear, quadratic), SAS PROC FREQ (kappa, ASE, CI, H0 ASE, via
    statsmodels' tests), Cohen (1960) and R irr ``kappa2`` (custom weights, z).

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
    Psychological Measurement*, 20, 37-46.
    Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors of
    kappa and weighted kappa. *Psychological Bulletin*, 72, 323-327.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import cohen_kappa
    >>> pairs = np.array([[1, 1], [2, 2], [3, 3], [2, 3], [4, 4], [1, 2], [3, 3], [4, 3]])
    >>> res = cohen_kappa(pairs)
    >>> round(res.estimate, 4), round(res.se, 4)
    (0.5, 0.2155)
    >>> round(cohen_kappa(pairs, weights="quadratic").estimate, 4)
    0.8125

    scikit-learn's ``cohen_kappa_score`` gives 0.5 and 0.8125, statsmodels'
    ``cohens_kappa`` the same SE.
    """
    cl = check_confidence_level(confidence_level)
    coded = as_coded(data, categories)
    coded._require_raters("cohen_kappa")
    if coded.n_raters != 2:
        raise ValueError(
            f"cohen_kappa compares two raters; data has {coded.n_raters}. For two of many reviewers use "
            "cohen_kappa_table(table.pair_table(a, b)); for all of them conger_kappa or fleiss_kappa"
        )
    return _kappa_from_table(pair_counts(coded), coded.categories, weights, cl)


def cohen_kappa_table(
    table: Any,
    *,
    weights: WeightName | Any = "identity",
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Cohen's kappa from a q x q contingency table of two raters' scores.

    Parameters
    ----------
    table : array_like or DataFrame, shape (q, q)
        Counts: rows are the first rater's scores, columns the second's, in the same
        order (``RatingsTable.pair_table`` gives one).
    weights : str or array_like, shape (q, q), default 'identity'
        As in :func:`cohen_kappa`.
    categories : array_like, shape (q,), optional
        The score of each row/column (default: a DataFrame's numeric index, else 1..q).
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        As :func:`cohen_kappa`.

    Notes
    -----
    See :func:`cohen_kappa`. Validated on the SAS PROC FREQ 3x3 example (kappa 0.4842,
    ASE 0.1380; linear 0.4701, ASE 0.1457) and Cohen's (1960) tables.

    References
    ----------
    Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors of
    kappa and weighted kappa. *Psychological Bulletin*, 72, 323-327.

    Examples
    --------
    Cohen's (1960, p. 45) table:

    >>> from calibrate.reliability import cohen_kappa_table
    >>> res = cohen_kappa_table([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
    >>> round(res.estimate, 4)
    0.4915
    """
    cl = check_confidence_level(confidence_level)
    index = None
    if isinstance(table, pd.DataFrame):
        index = table.index
        table = table.to_numpy()
    try:
        t = np.asarray(table, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("table must hold counts (numbers)") from exc
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"table must be a square q x q table of counts; got shape {t.shape}")
    if not np.all(np.isfinite(t)) or (t < 0).any():
        raise ValueError("table must hold non-negative finite counts")
    q = t.shape[0]
    if categories is not None:
        cats = _categories_array(categories)
    elif index is not None and pd.api.types.is_numeric_dtype(np.asarray(index)):
        cats = _categories_array(np.asarray(index, dtype=float))
    else:
        cats = np.arange(1.0, q + 1)
    if len(cats) != q:
        raise ValueError(f"categories must give one score per row of table ({q}); got {len(cats)}")
    return _kappa_from_table(t, cats, weights, cl)


def _kappa_from_table(
    t: np.ndarray, cats: np.ndarray, weights: Any, cl: float
) -> ReliabilityResult:
    w, wname = resolve_weights(weights, cats)
    n = float(t.sum())
    if n == 0:
        return undefined_result(
            "cohen_kappa", wname, _NO_COMMON, n_units=0, n_pairable=0, confidence_level=cl
        )
    p = t / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.sum(w * p))
    pe = float(rows @ w @ cols)
    base = {"p_o": po, "p_e": pe}
    if not 1.0 - pe > 1e-12:
        return undefined_result(
            "cohen_kappa",
            wname,
            _CHANCE_IS_ONE,
            n_units=int(n),
            n_pairable=int(2 * n),
            confidence_level=cl,
            extra=base,
        )
    kappa = (po - pe) / (1.0 - pe)
    w_row = w @ cols  # mean weight of row category i against the second rater's margin
    w_col = rows @ w
    both = w_row[:, None] + w_col[None, :]
    first = float(np.sum(p * (w * (1.0 - pe) - both * (1.0 - po)) ** 2))
    se = math.sqrt(_difference(first, (po * pe - 2.0 * pe + po) ** 2) / (n * (1.0 - pe) ** 4))
    first0 = float(np.sum(np.outer(rows, cols) * (w - both) ** 2))
    se0 = math.sqrt(_difference(first0, pe**2) / (n * (1.0 - pe) ** 2))
    extra = dict(base)
    if wname == "identity":
        # Cohen (1960): the largest agreement the two raters' margins allow
        p_max = float(np.minimum(rows, cols).sum())
        extra.update(p_o_max=p_max, kappa_max=(p_max - pe) / (1.0 - pe))
    if se0 > 0:
        z = kappa / se0
        extra.update(se_h0=se0, z=z, p_value_two_sided=float(2.0 * norm_sf(abs(z))))
    return ReliabilityResult(
        coefficient="cohen_kappa",
        level=wname,
        estimate=kappa,
        ci=normal_interval(kappa, se, cl),
        se=se,
        n_units=int(n),
        n_pairable=int(2 * n),
        method="analytic",
        confidence_level=cl,
        extra=extra,
        p_value=extra.get("p_value_two_sided", math.nan),
    )


def _difference(a: float, b: float) -> float:
    """a - b for a variance numerator: 0 when it is rounding noise or negative."""
    d = a - b
    return d if d > 1e-12 * max(abs(a), abs(b)) else 0.0
