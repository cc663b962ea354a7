"""Conger's kappa: Cohen's kappa generalised to many raters, from long codes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calibrate._checks import check_confidence_level
from calibrate.reliability._agreement import ChanceCorrected, _family_result
from calibrate.reliability._common import NO_PAIRS, SE_NEEDS_TWO_UNITS
from calibrate.reliability._data import CodedRatings, as_coded
from calibrate.reliability._result import ReliabilityResult
from calibrate.reliability._weights import WeightName, resolve_weights

__all__ = ["conger_kappa"]

_ONE_RATER = "Conger's kappa needs at least two raters; the data have {n}"
_CHANCE_IS_ONE = "chance agreement is 1 (every rater put every unit in the same category: no variation), so kappa is undefined"


def conger_kappa(
    data: Any,
    *,
    weights: WeightName | Any = "identity",
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Conger's kappa: multi-rater Cohen's kappa, chance agreement from each rater's own margins.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit. Rater identity matters: a
        column is one rater throughout; raters without any rating are left out of *r*.
        A RatingsTable must hold one criterion.
    weights : str or array_like, shape (q, q), default 'identity'
        'identity', 'linear', 'quadratic', 'ordinal', 'radical', 'ratio', 'circular'
        or 'bipolar' (see :func:`agreement_weights`), or a q x q matrix of agreement
        weights in [0, 1] with ones on the diagonal.
    categories : array_like, optional
        All possible scores (default: those that occur).
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` from Gwet (2014) (R irrCAC ``conger.kappa.raw``), ``ci`` estimate +-
        t(1 - alpha/2, n - 1) * se capped at 1; ``extra`` has ``p_o``, ``p_e``,
        ``p_value_one_sided``.

    Notes
    -----
    :math:`p_a` is the pairwise agreement of :func:`fleiss_kappa`. With :math:`p_{gk}`
    the share of rater *g*'s ratings in category *k* and *r* raters,

    .. math::

        p_e = \\frac{1}{r(r-1)} \\sum_{g \\ne h} \\sum_{k,l} w_{kl}\\, p_{gk}\\, p_{hl}
            = \\sum_{k,l} w_{kl} \\left(\\bar p_k \\bar p_l - s^2_{kl}/r\\right),

    the mean over ordered pairs of raters of Cohen's chance agreement. With two raters
    and no missing ratings it is Cohen's kappa. The variance is R irrCAC's, rewritten
    as a sum over ratings so that it never forms the units x raters matrix.

    Validated against R irrCAC ``conger.kappa.raw`` on ``cac.raw4raters`` (estimate
    and SE, all weightings) and R irr ``kappam.fleiss(exact=TRUE)`` on Fleiss (1971).

    References
    ----------
    Conger, A. J. (1980). Integration and generalization of kappas for multiple raters.
    *Psychological Bulletin*, 88, 322-328.
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.). Advanced Analytics.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import conger_kappa
    >>> scores = np.array([[1, 1, 2], [2, 2, 2], [3, 3, 3], [4, 3, 4], [1, 1, 1], [2, 3, 3]])
    >>> round(conger_kappa(scores).estimate, 4)
    0.55
    """
    cl = check_confidence_level(confidence_level)
    coded = as_coded(data, categories)
    coded._require_raters("conger_kappa")
    w, wname = resolve_weights(weights, coded.categories)
    cc = _conger(coded, w)
    return _family_result("conger_kappa", wname, cc, cl)


def _conger(coded: CodedRatings, w: np.ndarray) -> ChanceCorrected:
    raters = coded._require_raters("conger_kappa")
    counts = coded.value_counts()
    m = counts.sum(axis=1)
    rated = m > 0
    n = float(np.count_nonzero(rated))
    pairable = m >= 2
    n2 = float(np.count_nonzero(pairable))
    n_pairable = float(m[pairable].sum())
    nan = math.nan
    by_rater = coded.rater_counts()
    ng = by_rater.sum(axis=1)
    active = ng > 0
    r = int(np.count_nonzero(active))
    if r < 2:
        return ChanceCorrected(nan, nan, nan, nan, n, n2, n_pairable, _ONE_RATER.format(n=r))
    if n2 == 0:
        return ChanceCorrected(nan, nan, nan, nan, n, n2, n_pairable, NO_PAIRS)

    agree = np.einsum("ik,ik->i", counts, counts @ w.T - 1.0)
    pa_i = np.divide(agree, m * (m - 1.0), out=np.zeros_like(m), where=pairable)
    pa = float(pa_i.sum()) / n2

    # p_gk: each rater's distribution over categories (raters without ratings dropped)
    share = np.zeros_like(by_rater)
    share[active] = by_rater[active] / ng[active, None]
    p_active = share[active]
    p_bar = p_active.mean(axis=0)
    pair_sum = r * r * np.outer(p_bar, p_bar) - p_active.T @ p_active
    pe = float(np.sum(w * pair_sum)) / (r * (r - 1.0))
    if not 1.0 - pe > 1e-12:
        return ChanceCorrected(nan, nan, pa, pe, n, n2, n_pairable, _CHANCE_IS_ONE)
    kappa = (pa - pe) / (1.0 - pe)

    # Per-unit chance agreement of the linearisation (R irrCAC's lambda_ig summed over
    # raters): a constant plus one term per rating, so it costs O(ratings), not O(units x raters).
    c = r * p_bar[None, :] - share  # (n_raters, q); zero rows for inactive raters are unused
    a = c @ w
    b = np.where(active, np.einsum("gl,gl->g", a, share), 0.0)
    g, x = raters, coded.value
    per_rating = (n / ng[g]) * (a[g, x] - b[g])
    pe_i = (np.bincount(coded.unit, weights=per_rating, minlength=coded.n_units) + b.sum()) / (
        r * (r - 1.0)
    )
    infl = (n / n2) * (pa_i - pe * pairable) / (1.0 - pe) - 2.0 * (1.0 - kappa) * (pe_i - pe) / (
        1.0 - pe
    )
    infl = infl[rated]
    if n >= 2:
        se = math.sqrt(float(np.sum((infl - kappa) ** 2)) / (n * (n - 1.0)))
        note = ""
    else:
        se, note = nan, SE_NEEDS_TWO_UNITS
    return ChanceCorrected(kappa, se, pa, pe, n, n2, n_pairable, note)
