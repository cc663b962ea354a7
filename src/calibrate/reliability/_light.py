"""Light's kappa: the mean of Cohen's kappa over every pair of raters, for sparse designs too."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from calibrate._checks import check_confidence_level
from calibrate.reliability._common import undefined_result
from calibrate.reliability._data import CodedRatings, as_coded
from calibrate.reliability._dist import norm_sf
from calibrate.reliability._pairs import _pair_index
from calibrate.reliability._result import ReliabilityResult
from calibrate.reliability._weights import WeightName, resolve_weights

__all__ = ["light_kappa", "pair_tables"]

_NO_PAIR = (
    "no pair of raters shares {k} or more units with a defined Cohen's kappa, so there is "
    "nothing to average"
)
_NOT_COMPLETE = (
    "irr's z test of Light's kappa needs complete data (every rater rating every unit); "
    "use bootstrap('light_kappa', ...) for an interval"
)
_IRR_PAIR_UNDEFINED = (
    "irr's z test of Light's kappa needs every pair's kappa (irr returns NaN when one is "
    "undefined), so there is none"
)
_IRR_VARIANCE_NEGATIVE = (
    "irr's variance of Light's kappa, (1 - P prod(1 - p_e)) / (n P prod(1 - p_e)) over the "
    "P pairs, is not positive here, so it gives no z test (irr returns NaN)"
)


def pair_tables(coded: CodedRatings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The q x q table of every pair of raters that shares a unit, from the ratings' codes.

    Returns ``(rater_a, rater_b, tables)``: rater codes (a < b) and an array of shape
    (n_pairs, q, q) counting the units both rated by score (rows: ``rater_a``), sorted by
    pair. Cost O(sum over units of ratings^2), never the raters x raters grid.
    """
    rater = coded._require_raters("light_kappa")
    q = coded.n_categories
    ia, ib = _pair_index(coded.unit, rater)
    if len(ia) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, q, q))
    ra, rb = rater[ia], rater[ib]  # ra < rb: _pair_index orders the ratings by rater within a unit
    key = ra * coded.n_raters + rb
    pairs, which = np.unique(key, return_inverse=True)
    cell = (which * q + coded.value[ia]) * q + coded.value[ib]
    tables = np.bincount(cell, minlength=len(pairs) * q * q).astype(np.float64)
    a, b = np.divmod(pairs, coded.n_raters)
    return a, b, tables.reshape(len(pairs), q, q)


def _kappas(tables: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cohen's kappa and chance agreement of each table (NaN where chance agreement is 1)."""
    n = tables.sum(axis=(1, 2))
    p = tables / n[:, None, None]
    po = np.einsum("kl,bkl->b", w, p)
    pe = np.einsum("bk,kl,bl->b", p.sum(axis=2), w, p.sum(axis=1))
    defined = 1.0 - pe > 1e-12
    kappa = np.full(len(tables), np.nan)
    kappa[defined] = (po[defined] - pe[defined]) / (1.0 - pe[defined])
    return kappa, pe


def light_kappa(
    data: Any,
    *,
    weights: WeightName | Any = "identity",
    categories: Any = None,
    min_shared: int = 2,
    confidence_level: float = 0.95,
) -> ReliabilityResult:
    """Light's kappa: the mean of Cohen's kappa over every pair of raters.

    Parameters
    ----------
    data : array_like (n_units, n_raters), DataFrame, CodedRatings or RatingsTable
        Scores with NaN where a rater did not rate a unit. Rater identity matters: a
        column is one rater throughout. A RatingsTable must hold one criterion.
    weights : str or array_like, shape (q, q), default 'identity'
        Weights of each pair's Cohen's kappa (see :func:`cohen_kappa`); 'identity' is
        Light's (1971) unweighted kappa.
    categories : array_like, optional
        All possible scores (default: those that occur).
    min_shared : int, default 2
        A pair of raters counts when it shares at least this many units (at least 2:
        on one shared unit Cohen's kappa is 0 or undefined whatever the scores).
    confidence_level : float, default 0.95
        Kept for a common signature (used by :func:`bootstrap`); Light's kappa has no
        analytic interval.

    Returns
    -------
    ReliabilityResult
        ``estimate`` is the mean kappa over the counted pairs; ``n_units`` the units
        with two or more ratings from counted pairs' raters. ``extra`` has ``n_pairs``
        (pairs counted), ``n_pairs_too_few_units`` (pairs sharing fewer than
        ``min_shared`` units), ``n_pairs_undefined`` (pairs whose kappa is undefined:
        chance agreement 1), ``kappa_min`` and ``kappa_max``. Unweighted and on
        complete data (every rater rated every unit) also R irr's test: ``se_h0``,
        ``z`` and ``p_value_two_sided`` (= ``p_value``). ``ci`` and ``se`` are NaN:
        use ``bootstrap("light_kappa", data)`` for an interval.

    Notes
    -----
    With :math:`\\kappa_{gh}` Cohen's kappa of raters *g* and *h* on the units both
    rated, :math:`\\kappa_L = \\frac{1}{P} \\sum_{g<h} \\kappa_{gh}` over the *P* pairs
    that count. **Which pairs count**: those sharing at least ``min_shared`` units and
    whose kappa is defined (not every shared rating in one and the same category). In
    sparse designs (hundreds of reviewers, each pair sharing a few submissions) most
    pairs share nothing and are never formed: the pair tables come from the pairs of
    ratings within each unit, so the cost grows with the ratings, not with the square
    of the number of raters. Pairs that share only a few units carry noisy kappas with
    the same weight as the rest; raise ``min_shared`` to keep them out.

    R irr's ``kappam.light`` drops every unit with a missing rating first (listwise);
    here each pair uses every unit both raters rated (pairwise), so the two agree on
    complete data only. irr's z statistic is
    :math:`z = \\kappa_L / \\sqrt{v}`, :math:`v = c / (n(1 - c))`,
    :math:`1 - c = P \\prod_{g<h} (1 - p_{e,gh})` with :math:`p_{e,gh}` the pair's chance
    agreement and *n* the units; it is not a variance from the literature and is not
    positive once :math:`P \\prod (1 - p_e) > 1` (irr returns NaN; so do we, with a
    note). It is computed in logarithms, so it stays finite for many raters where R
    overflows.

    Validated against R irr 0.84.1 ``kappam.light`` on ``diagnoses`` and ``anxiety``
    (estimate, z and p to 1e-12) and, on incomplete data, against the mean of irr's
    ``kappa2`` over the pairs sharing two or more units.

    References
    ----------
    Light, R. J. (1971). Measures of response agreement for qualitative data: some
    generalizations and alternatives. *Psychological Bulletin*, 76, 365-377.
    Conger, A. J. (1980). Integration and generalization of kappas for multiple raters.
    *Psychological Bulletin*, 88, 322-328.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import light_kappa
    >>> scores = np.array([[1, 1, 2], [2, 2, 2], [3, 3, 3], [4, 3, 4], [1, 1, 1], [2, 3, 3]])
    >>> res = light_kappa(scores)
    >>> round(res.estimate, 4), int(res.extra["n_pairs"])
    (0.5499, 3)
    """
    cl = check_confidence_level(confidence_level)
    if isinstance(min_shared, bool) or not isinstance(min_shared, int | np.integer):
        raise TypeError(f"min_shared must be a whole number >= 2; got {min_shared!r}")
    if min_shared < 2:
        raise ValueError(f"min_shared must be at least 2 shared units; got {min_shared}")
    coded = as_coded(data, categories)
    coded._require_raters("light_kappa")
    w, wname = resolve_weights(weights, coded.categories)
    a, b, tables = pair_tables(coded)
    n_shared = tables.sum(axis=(1, 2))
    enough = n_shared >= min_shared
    kappa, pe = _kappas(tables[enough], w)
    defined = np.isfinite(kappa)
    counts = {
        "n_pairs": float(np.count_nonzero(defined)),
        "n_pairs_too_few_units": float(np.count_nonzero(~enough)),
        "n_pairs_undefined": float(np.count_nonzero(~defined)),
    }
    counted_raters = np.zeros(coded.n_raters, dtype=bool)
    counted_raters[a[enough][defined]] = True
    counted_raters[b[enough][defined]] = True
    keep = counted_raters[coded.rater]
    per_unit = np.bincount(coded.unit[keep], minlength=coded.n_units)
    n_units, n_pairable = int(np.count_nonzero(per_unit >= 2)), int(per_unit[per_unit >= 2].sum())
    if not defined.any():
        return undefined_result(
            "light_kappa",
            wname,
            _NO_PAIR.format(k=min_shared),
            n_units=n_units,
            n_pairable=n_pairable,
            confidence_level=cl,
            extra=counts,
        )
    kappas = kappa[defined]
    estimate = float(kappas.mean())
    extra = counts | {"kappa_min": float(kappas.min()), "kappa_max": float(kappas.max())}
    notes: list[str] = []
    p_value = math.nan
    if wname == "identity":
        test, note = _irr_test(coded, estimate, pe, bool(enough.all() and defined.all()))
        extra.update(test)
        p_value = test.get("p_value_two_sided", math.nan)
        notes += [note] if note else []
    return ReliabilityResult(
        coefficient="light_kappa",
        level=wname,
        estimate=estimate,
        n_units=n_units,
        n_pairable=n_pairable,
        method="none",
        confidence_level=cl,
        note="; ".join(notes),
        extra=extra,
        p_value=p_value,
    )


def _irr_test(
    coded: CodedRatings, estimate: float, pe: np.ndarray, all_pairs_counted: bool
) -> tuple[dict[str, float], str]:
    """R irr's z test of Light's kappa, defined on complete data."""
    per_unit = np.bincount(coded.unit, minlength=coded.n_units)
    rated = per_unit > 0
    m = len(np.unique(coded.rater))  # type: ignore[arg-type]
    n = int(np.count_nonzero(rated))
    if not np.all(per_unit[rated] == m):
        return {}, _NOT_COMPLETE
    if not all_pairs_counted:
        return {}, _IRR_PAIR_UNDEFINED
    # 1 - c = P prod(1 - pe), in logarithms (R forms prod(disagreements) / n^(2P) directly)
    log_one_minus_c = math.log(len(pe)) + float(np.sum(np.log1p(-pe)))
    c = -math.expm1(log_one_minus_c)
    if not c > 0:
        return {}, _IRR_VARIANCE_NEGATIVE
    se0 = math.sqrt(c / n) * math.exp(-0.5 * log_one_minus_c)
    z = estimate / se0
    return {"se_h0": se0, "z": z, "p_value_two_sided": 2.0 * norm_sf(abs(z))}, ""
