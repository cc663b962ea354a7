"""Gwet's family of agreement coefficients from per-unit value counts.

Percent agreement, Fleiss' kappa (Gwet's generalisation), Gwet's AC1/AC2 and
Brennan-Prediger share one observed agreement and one variance linearisation
(Gwet 2014; R irrCAC ``agree.coeff3.raw.r``). They differ only in the chance agreement.
Everything here reads a units x categories count matrix, so it scales with the number
of units, not units x raters, and takes optional per-unit frequency weights (a bootstrap
resample of units is a weight vector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
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
from calibrate.reliability._data import CodedRatings, as_coded
from calibrate.reliability._dist import norm_sf
from calibrate.reliability._result import ReliabilityResult
from calibrate.reliability._weights import WeightName, resolve_weights

__all__ = [
    "ChanceCorrected",
    "brennan_prediger",
    "chance_corrected",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "percent_agreement",
]

Chance = Literal["none", "fleiss", "gwet", "brennan_prediger"]
_CHANCES = ("none", "fleiss", "gwet", "brennan_prediger")
_ONE_CATEGORY = (
    "only one category is possible, so chance agreement is undefined; "
    "pass all the rubric's levels with categories=..."
)
_CHANCE_IS_ONE = "chance agreement is 1 (every rating falls in the same category: no variation), so the coefficient is undefined"


@dataclass(frozen=True)
class ChanceCorrected:
    """What :func:`chance_corrected` computes: the pieces of a result."""

    estimate: float
    se: float
    pa: float
    pe: float
    n_units: float
    n_pairable_units: float
    n_pairable: float
    note: str = ""


def chance_corrected(
    counts: np.ndarray,
    weights: np.ndarray,
    chance: Chance,
    unit_weights: np.ndarray | None = None,
) -> ChanceCorrected:
    """Observed agreement, chance agreement, coefficient and Gwet's standard error.

    Parameters
    ----------
    counts : ndarray, shape (n_units, q)
        How many ratings of each unit fell in each category.
    weights : ndarray, shape (q, q)
        Agreement weights, ones on the diagonal.
    chance : {'none', 'fleiss', 'gwet', 'brennan_prediger'}
        Which chance agreement: none (percent agreement), Fleiss' (squared pooled
        proportions), Gwet's AC1/AC2, or Brennan-Prediger's uniform.
    unit_weights : ndarray, shape (n_units,), optional
        Frequency weight of each unit (how many times it is in a resample).

    Notes
    -----
    With :math:`r_i` ratings of unit *i*, :math:`r_{ik}` of them in category *k*,
    :math:`r^w_{ik} = \\sum_l w_{kl} r_{il}`, *n* units with a rating and :math:`n_2`
    with two or more (R irrCAC):

    .. math::

        p_a = \\frac{1}{n_2} \\sum_{i: r_i \\ge 2} \\sum_k \\frac{r_{ik}(r^w_{ik} - 1)}{r_i(r_i - 1)},
        \\qquad \\pi_k = \\frac{1}{n} \\sum_i \\frac{r_{ik}}{r_i}

    and :math:`\\kappa = (p_a - p_e)/(1 - p_e)`. The variance is
    :math:`\\frac{1}{n(n-1)} \\sum_i (\\kappa^\\star_i - \\kappa)^2` with
    :math:`\\kappa^\\star_i = \\kappa_i - 2(1 - \\kappa)(p_{e|i} - p_e)/(1 - p_e)` and
    :math:`\\kappa_i = \\frac{n}{n_2} (p_{a|i} - p_e 1[r_i \\ge 2])/(1 - p_e)`.
    """
    check_choice("chance", chance, _CHANCES)
    counts = np.asarray(counts, dtype=float)
    w = np.asarray(weights, dtype=float)
    f = np.ones(len(counts)) if unit_weights is None else np.asarray(unit_weights, dtype=float)
    r = counts.sum(axis=1)
    keep = (r > 0) & (f > 0)
    counts, r, f = counts[keep], r[keep], f[keep]
    q = counts.shape[1]
    n = float(f.sum())
    pairable = r >= 2
    n2 = float(f[pairable].sum())
    n_pairable = float((f * r)[pairable].sum())
    nan = math.nan
    if n2 == 0:
        return ChanceCorrected(nan, nan, nan, nan, n, n2, n_pairable, NO_PAIRS)

    agree = np.einsum("ik,ik->i", counts, counts @ w.T - 1.0)
    pa_i = np.divide(agree, r * (r - 1), out=np.zeros_like(r), where=pairable)
    pa = float(f @ pa_i) / n2

    if chance == "none":
        est, pe = pa, 0.0
        infl = (n / n2) * pa_i
    else:
        pi = f @ (counts / r[:, None]) / n
        pe_i: np.ndarray | None
        if chance == "gwet":
            if q < 2:
                return ChanceCorrected(nan, nan, pa, nan, n, n2, n_pairable, _ONE_CATEGORY)
            scale = w.sum() / (q * (q - 1))
            pe = float(scale * np.sum(pi * (1.0 - pi)))
            pe_i = scale * (counts @ (1.0 - pi)) / r
        elif chance == "fleiss":
            pe = float(pi @ w @ pi)
            pe_i = counts @ (((w + w.T) / 2.0) @ pi) / r
        else:
            if q < 2:
                return ChanceCorrected(nan, nan, pa, nan, n, n2, n_pairable, _ONE_CATEGORY)
            pe = float(w.sum() / q**2)
            pe_i = None
        if 1.0 - pe <= 1e-12:
            return ChanceCorrected(nan, nan, pa, pe, n, n2, n_pairable, _CHANCE_IS_ONE)
        est = (pa - pe) / (1.0 - pe)
        infl = (n / n2) * (pa_i - pe * pairable) / (1.0 - pe)
        if pe_i is not None:
            infl = infl - 2.0 * (1.0 - est) * (pe_i - pe) / (1.0 - pe)
    if n >= 2:
        se = math.sqrt(float(f @ (infl - est) ** 2) / (n * (n - 1.0)))
        note = ""
    else:
        se, note = nan, SE_NEEDS_TWO_UNITS
    return ChanceCorrected(float(est), se, pa, pe, n, n2, n_pairable, note)


def _family_result(
    coefficient: str,
    level: str,
    cc: ChanceCorrected,
    confidence_level: float,
    *,
    low: float = -math.inf,
    extra: dict[str, float] | None = None,
) -> ReliabilityResult:
    details = {"p_o": cc.pa, "p_e": cc.pe, "n_pairable_units": cc.n_pairable_units}
    if math.isnan(cc.estimate):
        return undefined_result(
            coefficient,
            level,
            cc.note,
            n_units=int(cc.n_units),
            n_pairable=int(cc.n_pairable),
            confidence_level=confidence_level,
            extra={k: v for k, v in details.items() if not math.isnan(v)},
        )
    p_value = t_p_value_one_sided(cc.estimate, cc.se, cc.n_units)
    details["p_value_one_sided"] = p_value
    details.update(extra or {})
    return ReliabilityResult(
        coefficient=coefficient,
        level=level,
        estimate=cc.estimate,
        ci=t_interval(cc.estimate, cc.se, cc.n_units, confidence_level, low=low),
        se=cc.se,
        n_units=int(cc.n_units),
        n_pairable=int(cc.n_pairable),
        method="analytic" if math.isfinite(cc.se) else "none",
        confidence_level=confidence_level,
        note=cc.note,
        extra={k: v for k, v in details.items() if not math.isnan(v)},
        p_value=p_value,
    )


def fleiss_kappa(
    data: Any,
    *,
    weights: WeightName | Any = "identity",
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Fleiss' kappa for many raters, generalised to units with different numbers of ratings.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit; raters may differ between
        units. A RatingsTable must hold one criterion.
    weights : str or array_like, shape (q, q), default 'identity'
        'identity', 'linear', 'quadratic', 'ordinal', 'radical', 'ratio', 'circular'
        or 'bipolar' (Gwet's weights, see :func:`agreement_weights`), or a q x q matrix
        of agreement weights in [0, 1] with ones on the diagonal.
    categories : array_like, optional
        All possible scores (default: those that occur). Weighted forms depend on it.
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` is Gwet's (2014) linearised standard error, ``ci`` estimate +-
        t(1 - alpha/2, n - 1) * se as R irrCAC, capped at 1. ``extra`` has
        ``p_o``, ``p_e``, ``p_value_one_sided``, with identity weights the
        category-specific kappas ``kappa[<score>]``, and when every unit has the same
        number of ratings the standard error under H0: kappa = 0 of Fleiss, Nee &
        Landis (1979) as ``se_h0`` with ``z`` and ``p_value_two_sided`` (as R irr's
        ``kappam.fleiss``).

    Notes
    -----
    Unequal numbers of ratings follow Gwet's generalisation (R irrCAC
    ``fleiss.kappa.raw``): :math:`p_a` averages the pairwise agreement of the units with
    two or more ratings, :math:`\\pi_k` averages each unit's share of category *k* over
    all rated units, and :math:`p_e = \\sum_{k,l} w_{kl} \\pi_k \\pi_l`,
    :math:`\\kappa = (p_a - p_e)/(1 - p_e)`. With the same number of ratings per unit this
    is Fleiss (1971). Fleiss, Levin & Paik (2003, section 18.4) pool the category
    proportions over ratings instead, which gives a different value on unbalanced data.
    The category kappa for *k* is the kappa of the data dichotomised into *k* versus
    the rest (Fleiss 1971, eq. 16 on balanced data).

    Validated against statsmodels ``fleiss_kappa`` on random balanced data (1e-9), R irr
    ``kappam.fleiss`` on Fleiss (1971) (kappa, z and category kappas), the Wikipedia
    example, and R irrCAC ``fleiss.kappa.raw`` on ``cac.raw4raters`` (estimate and SE,
    all weightings).

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    *Psychological Bulletin*, 76, 378-382.
    Fleiss, J. L., Nee, J. C. M., & Landis, J. R. (1979). Large sample variance of kappa
    in the case of different sets of raters. *Psychological Bulletin*, 86, 974-977.
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.). Advanced Analytics.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import fleiss_kappa
    >>> scores = np.array([[1, 1, 1], [2, 2, 3], [3, 3, 3], [1, 2, 2], [4, 4, 4], [2, 2, 2]])
    >>> res = fleiss_kappa(scores)
    >>> round(res.estimate, 4), round(res.se, 4)
    (0.6923, 0.2112)

    statsmodels' ``fleiss_kappa`` gives the same 0.6923 on these balanced data.
    """
    cl = check_confidence_level(confidence_level)
    coded = as_coded(data, categories)
    w, wname = resolve_weights(weights, coded.categories)
    rows, mult = coded.compressed_counts()
    cc = chance_corrected(rows, w, "fleiss", mult)
    extra: dict[str, float] = {}
    if not math.isnan(cc.estimate):
        if wname == "identity":
            extra.update(_category_kappas(rows, mult, coded.categories))
        extra.update(_fleiss_h0(rows, mult, cc.estimate))
    return _family_result("fleiss_kappa", wname, cc, cl, extra=extra)


def _category_kappas(
    counts: np.ndarray, mult: np.ndarray, categories: np.ndarray
) -> dict[str, float]:
    out: dict[str, float] = {}
    r = counts.sum(axis=1)
    ident = np.eye(2)
    for k, score in enumerate(categories):
        binary = np.column_stack([counts[:, k], r - counts[:, k]])
        cc = chance_corrected(binary, ident, "fleiss", mult)
        if not math.isnan(cc.estimate):
            out[f"kappa[{score:g}]"] = cc.estimate
    return out


def _fleiss_h0(counts: np.ndarray, mult: np.ndarray, kappa: float) -> dict[str, float]:
    """Fleiss, Nee & Landis (1979) SE under H0, defined for a constant number of ratings."""
    m = counts.sum(axis=1)
    if len(m) == 0 or m[0] < 2 or not np.all(m == m[0]):
        return {}
    n, m0 = float(mult.sum()), float(m[0])
    p = (mult @ counts) / (n * m0)
    pq = p * (1.0 - p)
    spq = float(pq.sum())
    radicand = spq**2 - float(np.sum(pq * (1.0 - 2.0 * p)))
    if spq <= 0 or radicand <= 0:
        return {}
    se0 = math.sqrt(2.0) / (spq * math.sqrt(n * m0 * (m0 - 1.0))) * math.sqrt(radicand)
    z = kappa / se0
    return {"se_h0": se0, "z": z, "p_value_two_sided": float(2.0 * norm_sf(abs(z)))}


def gwet_ac1(
    data: Any, *, categories: Any = None, confidence_level: float = 0.95
) -> ReliabilityResult:
    """Gwet's AC1: chance-corrected agreement that stays stable when one level dominates.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit.
    categories : array_like, optional
        All possible scores (default: those that occur). AC1's chance agreement
        depends on the number of categories q, so pass the rubric's levels.
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` from Gwet (2008), ``ci`` estimate +- t(1 - alpha/2, n - 1) * se capped
        at 1 as R irrCAC; ``extra`` has ``p_o``, ``p_e``, ``p_value_one_sided``.

    Notes
    -----
    :math:`AC_1 = (p_a - p_e)/(1 - p_e)` with :math:`p_a` the pairwise agreement of
    :func:`fleiss_kappa` and :math:`p_e = \\frac{1}{q-1} \\sum_k \\pi_k (1 - \\pi_k)`.
    AC1 is AC2 with identity weights (:func:`gwet_ac2`). Validated against R irrCAC
    ``gwet.ac1.raw`` on ``cac.raw4raters`` (estimate and SE) and on Cohen's (1960) tables.

    References
    ----------
    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the
    presence of high agreement. *British Journal of Mathematical and Statistical
    Psychology*, 61, 29-48.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import gwet_ac1
    >>> scores = np.array([[3, 3], [3, 3], [3, 3], [3, 2], [3, 3], [3, 3]])
    >>> round(gwet_ac1(scores, categories=[1, 2, 3, 4]).estimate, 4)
    0.8244
    """
    cl = check_confidence_level(confidence_level)
    coded = as_coded(data, categories)
    rows, mult = coded.compressed_counts()
    cc = chance_corrected(rows, np.eye(coded.n_categories), "gwet", mult)
    return _family_result("gwet_ac1", "identity", cc, cl)


def gwet_ac2(
    data: Any,
    *,
    weights: WeightName | Any = "quadratic",
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Gwet's AC2: weighted AC1 for ordered scores.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit.
    weights : str or array_like, shape (q, q), default 'quadratic'
        'identity', 'linear', 'quadratic', 'ordinal', 'radical', 'ratio', 'circular'
        or 'bipolar' (see :func:`agreement_weights`), or a q x q matrix of agreement
        weights in [0, 1] with ones on the diagonal.
    categories : array_like, optional
        All possible scores (default: those that occur). Pass the rubric's levels:
        the weights and the chance agreement depend on them.
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        As :func:`gwet_ac1`.

    Notes
    -----
    :math:`p_e = \\frac{T_w}{q(q-1)} \\sum_k \\pi_k (1 - \\pi_k)` with
    :math:`T_w = \\sum_{k,l} w_{kl}`; :math:`p_a` as in :func:`fleiss_kappa`.
    Validated against R irrCAC ``gwet.ac1.raw`` on ``cac.raw4raters`` for all eight
    weightings and a custom matrix, and on Cohen's (1960) tables (quadratic).

    References
    ----------
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.), ch. 3-5.
    Advanced Analytics.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import gwet_ac2
    >>> scores = np.array([[1, 2], [2, 2], [3, 4], [4, 4], [2, 3], [3, 3]])
    >>> round(gwet_ac2(scores, weights="quadratic").estimate, 4)
    0.8252
    """
    cl = check_confidence_level(confidence_level)
    coded = as_coded(data, categories)
    w, wname = resolve_weights(weights, coded.categories)
    rows, mult = coded.compressed_counts()
    cc = chance_corrected(rows, w, "gwet", mult)
    return _family_result("gwet_ac2", wname, cc, cl)


def brennan_prediger(
    data: Any,
    *,
    weights: WeightName | Any = "identity",
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Brennan-Prediger coefficient: agreement corrected for uniform chance.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit.
    weights : str or array_like, shape (q, q), default 'identity'
        'identity', 'linear', 'quadratic', 'ordinal', 'radical', 'ratio', 'circular'
        or 'bipolar' (see :func:`agreement_weights`), or a q x q matrix of agreement
        weights in [0, 1] with ones on the diagonal.
    categories : array_like, optional
        All possible scores (default: those that occur). Chance agreement is
        :math:`T_w/q^2`, so pass the rubric's levels.
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` from Gwet (2014), ``ci`` as R irrCAC; ``extra`` has ``p_o``, ``p_e``,
        ``p_value_one_sided``.

    Notes
    -----
    :math:`BP = (p_a - p_e)/(1 - p_e)`, :math:`p_e = \\sum_{k,l} w_{kl} / q^2` (1/q
    unweighted), :math:`p_a` as in :func:`fleiss_kappa`. Validated against R irrCAC
    ``bp.coeff.raw`` on ``cac.raw4raters`` for all weightings.

    References
    ----------
    Brennan, R. L., & Prediger, D. J. (1981). Coefficient kappa: some uses, misuses,
    and alternatives. *Educational and Psychological Measurement*, 41, 687-699.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import brennan_prediger
    >>> scores = np.array([[1, 1, 2], [2, 2, 2], [3, 3, 3], [4, 3, 4]])
    >>> round(brennan_prediger(scores).estimate, 4)
    0.5556
    """
    cl = check_confidence_level(confidence_level)
    coded = as_coded(data, categories)
    w, wname = resolve_weights(weights, coded.categories)
    rows, mult = coded.compressed_counts()
    cc = chance_corrected(rows, w, "brennan_prediger", mult)
    return _family_result("brennan_prediger", wname, cc, cl)


def percent_agreement(
    data: Any,
    *,
    level: Literal["exact", "within_one"] = "exact",
    weights: WeightName | Any = None,
    categories: Any = None,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Share of pairs of ratings of the same unit that agree: exactly, within one level, or weighted.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit.
    level : {'exact', 'within_one'}, default 'exact'
        'exact': the two scores are equal. 'within_one': they are at most one level
        apart (exact-or-adjacent agreement, the qualification standard of scoring
        programs). ``level`` and ``weights`` are alternatives: with ``weights``,
        leave ``level`` at its default.
    weights : str or array_like, shape (q, q), optional
        Weighted percent agreement (R irrCAC ``pa.coeff.raw(ratings, weights=)``): a
        pair of scores *k*, *l* counts :math:`w_{kl}`. 'identity', 'linear',
        'quadratic', 'ordinal', 'radical', 'ratio', 'circular' or 'bipolar' (Gwet's
        weights, see :func:`agreement_weights`), or a q x q matrix of agreement weights
        in [0, 1] with ones on the diagonal. The result's ``level`` is the weighting's
        name ('custom' for a matrix).
    categories : array_like, optional
        All possible scores. 'within_one' counts levels by their position in
        ``categories``; without it, integer scores are taken as the levels min..max
        (so 1 and 3 are two levels apart even when nobody gave a 2), other scores as
        the values that occur. Weights other than 'identity' depend on the categories
        as in the other coefficients (default: the scores that occur, as R irrCAC).
    confidence_level : float, default 0.95

    Returns
    -------
    ReliabilityResult
        ``se`` from Gwet (2014) (R irrCAC ``pa.coeff.raw``), ``ci`` estimate +-
        t(1 - alpha/2, n - 1) * se kept within [0, 1]. ``p_value`` (also
        ``extra["p_value_one_sided"]``) is R irrCAC's: the one-sided t test of
        H0: agreement = 0, :math:`1 - F_{t, n-1}(p_a / se)` with n the rated units
        (irrCAC 1.4; the CRAN release 1.0 reports the two-sided
        :math:`2(1 - F_{t,n-1}(|p_a/se|))`, twice this). Raw agreement is never below
        0, so the test says little; the interval is the useful part.

    Notes
    -----
    Each unit with :math:`r_i \\ge 2` ratings contributes the share of its
    :math:`r_i(r_i-1)` ordered pairs of ratings that agree, and units count equally:
    :math:`p_a = \\frac{1}{n_2}\\sum_i \\sum_k r_{ik}(r^w_{ik}-1)/(r_i(r_i-1))` with
    :math:`r^w_{ik} = \\sum_l w_{kl} r_{il}` and :math:`w_{kl} = 1[k = l]` ('exact'),
    :math:`1[|k - l| \\le 1]` ('within_one') or the given weights.
    For a single unit this is Fleiss' (1971) :math:`P_i`. Validated against R irrCAC
    ``pa.coeff.raw`` on ``cac.raw4raters`` (estimate, SE, interval and p-value for every
    weighting and a custom matrix, irrCAC 1.4 and 1.0, to 1e-12) and the
    :math:`P_i` of Fleiss (1971).

    References
    ----------
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.), ch. 2-3.
    Advanced Analytics.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import percent_agreement
    >>> scores = np.array([[1, 1], [2, 3], [3, 3], [4, 2], [2, 2]])
    >>> percent_agreement(scores).estimate
    0.6
    >>> percent_agreement(scores, level="within_one").estimate
    0.8
    >>> round(percent_agreement(scores, weights="quadratic").estimate, 4)
    0.8889

    With quadratic weights the pairs (2, 3) and (4, 2) count 8/9 and 5/9 of an agreement.
    """
    check_choice("level", level, ("exact", "within_one"))
    cl = check_confidence_level(confidence_level)
    if weights is not None and level != "exact":
        raise ValueError(
            f"percent_agreement takes level= or weights=, not both; got level={level!r} and weights={weights!r}"
        )
    coded = as_coded(data, categories)
    if weights is not None:
        w, name = resolve_weights(weights, coded.categories)
    else:
        if level == "within_one" and categories is None and not _fixed_categories(data):
            coded = _fill_integer_levels(coded)
        w, name = _level_weights(level, coded.n_categories), level
    rows, mult = coded.compressed_counts()
    cc = chance_corrected(rows, w, "none", mult)
    return _family_result("percent_agreement", name, cc, cl, low=0.0)


def _level_weights(level: str, q: int) -> np.ndarray:
    """Agreement weights of percent agreement's ``level``: exact or within one level."""
    if level == "exact":
        return np.eye(q)
    pos = np.arange(q)
    return (np.abs(pos[:, None] - pos[None, :]) <= 1).astype(float)


def _fixed_categories(data: Any) -> bool:
    from calibrate.ratings import RatingsTable

    return isinstance(data, CodedRatings | RatingsTable)


def _fill_integer_levels(coded: CodedRatings) -> CodedRatings:
    cats = coded.categories
    if len(cats) < 2 or not np.all(cats == np.round(cats)):
        return coded
    full = np.arange(cats[0], cats[-1] + 1.0)
    if len(full) == len(cats):
        return coded
    recode = np.searchsorted(full, cats)
    return replace(coded, value=recode[coded.value], categories=full)
