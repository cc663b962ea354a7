"""Intraclass correlations (Shrout & Fleiss 1979; McGraw & Wong 1996) on sparse designs.

Complete data give the classical ANOVA estimates and F intervals. Incomplete data
(each submission scored by a few of many reviewers) give variance components from every
rating, by Henderson's method III computed from sparse sums, or by REML. The design is
built in :mod:`._icc_design`, the ANOVA / method-III components in :mod:`._icc_anova`, the
REML components in :mod:`._icc_reml`, and the forms with their F tests and intervals in
:mod:`._icc_forms`; this module holds the public functions.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal, get_args

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_confidence_level
from calibrate.reliability._icc_anova import _Components, _oneway_anova, _twoway_anova
from calibrate.reliability._icc_design import _Design, _design_from_codes, _design_from_data
from calibrate.reliability._icc_forms import (
    _CANONICAL,
    _MCGRAW_WONG,
    _SF_FORMS,
    ICC_FORMS,
    ICCForm,
    _one_result,
)
from calibrate.reliability._icc_reml import _reml
from calibrate.reliability._result import ReliabilityResult

__all__ = ["ICC_FORMS", "ICCForm", "icc", "icc_all", "icc_all_long", "icc_long"]

#: How the variance components are estimated.
Estimator = Literal["anova", "reml"]
_ESTIMATORS: tuple[str, ...] = get_args(Estimator)
_DEFAULT_ESTIMATOR = "anova"


def _estimator_arg(estimator: object, method: object) -> tuple[str, object]:
    """The estimator asked for, by ``estimator=`` or the deprecated ``method=``, and the
    name it was given under (for the error message of a value outside the set)."""
    if method is None:
        return "estimator", _DEFAULT_ESTIMATOR if estimator is None else estimator
    if estimator is not None:
        raise TypeError(
            "give the variance-component estimator as estimator= only; got both "
            f"estimator={estimator!r} and its deprecated alias method={method!r}"
        )
    warnings.warn(
        "method= of the ICC functions is deprecated: it names the variance-component "
        f"estimator, so pass estimator={method!r} instead (method means an interval "
        "method elsewhere in calibrate)",
        DeprecationWarning,
        stacklevel=4,
    )
    return "method", method


def _check_options(
    form: object, confidence_level: object, estimator: object, method: object, k: object
) -> tuple[str, float, str]:
    sf = _CANONICAL[check_choice("form", form, ICC_FORMS)]
    level = check_confidence_level(confidence_level)
    name, given = _estimator_arg(estimator, method)
    est = check_choice(name, given, _ESTIMATORS)
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, int | float | np.integer | np.floating):
            raise TypeError(f"k must be None or a number of ratings >= 1; got {k!r}")
        if not (math.isfinite(k) and k >= 1):
            raise ValueError(f"k must be None or a number of ratings >= 1; got {k!r}")
    return sf, level, est


def _compute(
    d: _Design, forms: tuple[str, ...], level: float, estimator: str, k: float | None
) -> list[ReliabilityResult]:
    k_used = float(k) if k is not None else d.k_harmonic
    fits: dict[str, _Components] = {}
    results = []
    for sf in forms:
        model = "oneway" if sf.startswith("ICC(1") else "twoway"
        if model not in fits:
            if estimator == "reml":
                fits[model] = _reml(d, twoway=model == "twoway")
            else:
                fits[model] = _oneway_anova(d) if model == "oneway" else _twoway_anova(d)
        results.append(_one_result(sf, fits[model], d, k_used, level, estimator))
    return results


def _frame(results: list[ReliabilityResult]) -> pd.DataFrame:
    frame = pd.concat([r.to_frame() for r in results], ignore_index=True)
    frame.insert(2, "mcgraw_wong", [_MCGRAW_WONG[r.level] for r in results])
    # the F test's p-value is among the extra columns, where it has always been
    frame = frame.drop(columns="p_value")
    extras = pd.DataFrame([r.extra for r in results])
    return pd.concat([frame, extras], axis=1)


# ----------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------


def icc(
    data: object,
    *,
    form: ICCForm = "ICC(2,1)",
    confidence_level: float = 0.95,
    estimator: Estimator | None = None,
    k: float | None = None,
    method: Estimator | None = None,
) -> ReliabilityResult:
    r"""Intraclass correlation of a submissions x reviewers score matrix.

    Parameters
    ----------
    data : array-like or DataFrame of shape (n_units, n_raters), CodedRatings or RatingsTable
        Scores, one row per submission and one column per reviewer; NaN where the reviewer
        did not score the submission. Empty rows and columns are ignored. A
        :class:`CodedRatings` or one-criterion :class:`~calibrate.ratings.RatingsTable` is
        read without densifying (built from counts, with reviewers anonymous, only
        ICC(1,1) and ICC(1,k) are defined). For raw long arrays of possibly
        non-integer scores (e.g. totals), use :func:`icc_long`.
    form : str, default ``"ICC(2,1)"``
        One of ``"ICC(1,1)"``, ``"ICC(2,1)"``, ``"ICC(3,1)"``, ``"ICC(1,k)"``,
        ``"ICC(2,k)"``, ``"ICC(3,k)"`` (Shrout & Fleiss) or the McGraw & Wong names
        ``"ICC(1)"``, ``"ICC(A,1)"``, ``"ICC(C,1)"``, ``"ICC(k)"``, ``"ICC(A,k)"``,
        ``"ICC(C,k)"``. The default, absolute agreement of a single rating, is the one
        that matters when one reviewer's score decides.
    confidence_level : float, default 0.95
    estimator : {"anova", "reml"}, default "anova"
        How variance components are estimated (identical on complete data up to
        truncation at 0): ANOVA / Henderson's method III with F intervals, or REML
        without interval. (None: the default.)
    k : float, optional
        Number of ratings the average-measure forms refer to. Default: the harmonic mean
        of ratings per submission (the number of reviewers on complete data).
    method : {"anova", "reml"}, optional
        Deprecated alias of ``estimator`` (emits a DeprecationWarning; giving both is a
        TypeError). In calibrate ``method`` names an interval method.

    Returns
    -------
    ReliabilityResult
        ``coefficient="icc"``, ``level`` the Shrout & Fleiss name of the form. ``extra``
        holds the variance components (``var_unit``, ``var_rater``, ``var_residual``),
        ``k``, mean squares and the F test (``F``, ``df1``, ``df2``, ``p_value``;
        ``df2_interval`` for ICC(2,1) and ICC(2,k)). When the ICC is undefined (one reviewer, one
        submission, no variance) the estimate is NaN and ``note`` says why.

    See Also
    --------
    icc_long : the same from long codes (the fast path for large programs).
    icc_all : all six forms as a table.
    anova_table : the ANOVA table of the two-way model (sequential sums of squares, as R's
        ``anova(lm(score ~ submission + reviewer))``).

    Notes
    -----
    Shrout & Fleiss (1979) names and McGraw & Wong (1996) names are both accepted:

    ========  ========  =====================================  ==================================
    S & F     M & W     model                                  formula (complete data)
    ========  ========  =====================================  ==================================
    ICC(1,1)  ICC(1)    one-way random                         (BMS - WMS) / (BMS + (k-1) WMS)
    ICC(2,1)  ICC(A,1)  two-way random, absolute agreement     (BMS - EMS) / (BMS + (k-1) EMS
                                                               + k (JMS - EMS) / n)
    ICC(3,1)  ICC(C,1)  two-way, consistency                   (BMS - EMS) / (BMS + (k-1) EMS)
    ICC(1,k)  ICC(k)    mean of k ratings, one-way             (BMS - WMS) / BMS
    ICC(2,k)  ICC(A,k)  mean of k ratings, agreement           (BMS - EMS) / (BMS + (JMS - EMS)/n)
    ICC(3,k)  ICC(C,k)  mean of k ratings, consistency         (BMS - EMS) / BMS
    ========  ========  =====================================  ==================================

    Every form is computed from variance components of
    :math:`y_{ij} = \mu + s_i + r_j + e_{ij}` (submission, reviewer, error):
    :math:`\mathrm{ICC}(A,1) = \sigma^2_s / (\sigma^2_s + \sigma^2_r + \sigma^2_e)`,
    :math:`\mathrm{ICC}(C,1) = \sigma^2_s / (\sigma^2_s + \sigma^2_e)`, ICC(1,1) is
    :math:`\sigma^2_s / (\sigma^2_s + \sigma^2_w)` from the one-way model
    :math:`y_{ij} = \mu + s_i + w_{ij}`, and an average-measure form replaces the error
    variance by its k-th part (the Spearman-Brown step). On complete data this is exactly
    the table above.

    **Incomplete designs** (NaN cells; each submission scored by a few of many reviewers)
    use every rating. The one-way model uses the unbalanced ANOVA,
    :math:`E[\mathrm{MSB}] = \sigma^2_w + k_0\sigma^2_s` with
    :math:`k_0 = (N - \sum_i n_i^2/N)/(n-1)`. The two-way model uses Henderson's method III
    (fitting constants): with :math:`c` connected blocks of the design,

    - :math:`\mathrm{SSE} = y'y - R(\mu, s, r)`, :math:`E = (N - n - m + c)\,\sigma^2_e`;
    - :math:`R(s \mid \mu, r)`, :math:`E = (n - c)\,\sigma^2_e + (N - m)\,\sigma^2_s`;
    - :math:`R(r \mid \mu, s)`, :math:`E = (m - c)\,\sigma^2_e + (N - n)\,\sigma^2_r`,

    which are unbiased for the components. :math:`R(\mu, s, r)` comes from the reviewer
    system :math:`C\beta = b`, :math:`C = D_r - N' D_s^{-1} N` (:math:`N` the sparse
    submissions x reviewers incidence), an m x m solve, so the cost is
    O(ratings + reviewers^3). ``estimator="reml"`` maximises the restricted likelihood of the
    same models instead (Nelder-Mead over the variance ratios, the residual variance
    profiled out); estimates are then non-negative and differ slightly from method III.

    **k on incomplete data** defaults to the harmonic mean of ratings per submission,
    :math:`k = n / \sum_i 1/n_i`, so that :math:`\sigma^2_e / k` is the average error
    variance of a submission's mean score as the data stand: ICC(.,k) is then the
    reliability of the submission means actually reported. Pass ``k`` to project to
    another number of ratings (a D-study).

    **Intervals.** Complete data: the F intervals of Shrout & Fleiss (1979) and McGraw &
    Wong (1996); for ICC(A,1) the Satterthwaite df2 ``v`` of McGraw & Wong (fractional, as
    R irr and pingouin), reported as ``extra["df2_interval"]``. Average-measure bounds
    are the Spearman-Brown transforms of the single-measure bounds, which equals the
    published formulas for k = number of reviewers (this is psych's and pingouin's
    ICC(A,k) interval; R irr recomputes ``v`` at the ICC(A,k) estimate and differs
    slightly). Incomplete data: the same formulas with k and n replaced by the
    expected-mean-square coefficients above (``method="F-approximate"``): an approximation,
    since the method-III sums of squares are not exactly scaled chi-squares on unbalanced
    designs. REML results carry no interval.

    **F test** (``extra["F"]``, ``"df1"``, ``"df2"``, ``"p_value"``): of ICC = 0,
    BMS/WMS (one-way) or MS_s/MSE (two-way) with integer df, exact under the model even on
    incomplete designs. For ICC(A,1) this is McGraw & Wong's test with
    :math:`\rho_0 = 0` (psych and pingouin agree); R irr reports the same F with df2 = v
    evaluated at the estimate instead.

    Negative estimates are returned as they are (not truncated at 0), as in the
    published formulas.

    Validated against pingouin 0.7 ``intraclass_corr`` on random complete data (estimates,
    F, p and intervals to 1e-9), the Shrout & Fleiss (1979) 6 x 4 example (psych/pingouin
    values) and R irr's ``anxiety`` example for ICC(A,1) (value, F, df2 = v, interval).
    Incomplete-data estimates are checked for unbiasedness by simulation and against
    statsmodels ``MixedLM`` REML.

    References
    ----------
    .. [1] Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
       rater reliability. Psychological Bulletin, 86(2), 420-428.
    .. [2] McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
       correlation coefficients. Psychological Methods, 1(1), 30-46.
    .. [3] Henderson, C. R. (1953). Estimation of variance and covariance components.
       Biometrics, 9(2), 226-252.
    .. [4] Searle, S. R., Casella, G., & McCulloch, C. E. (1992). Variance Components.
       Wiley. (Ch. 5: ANOVA estimation for unbalanced data.)

    Examples
    --------
    Shrout & Fleiss (1979): six targets scored by four judges.

    >>> import numpy as np
    >>> from calibrate.reliability import icc
    >>> sf = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...                [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> res = icc(sf, form="ICC(2,1)")
    >>> round(res.estimate, 3), tuple(round(b, 2) for b in res.ci)
    (0.29, (0.02, 0.76))
    >>> round(icc(sf, form="ICC(C,k)").estimate, 3)
    0.909

    With a missing rating every other rating still counts:

    >>> sf_missing = sf.astype(float)
    >>> sf_missing[0, 1] = np.nan
    >>> res = icc(sf_missing, form="ICC(2,1)")
    >>> res.n_units, res.method
    (6, 'F-approximate')
    """
    sf, level, est = _check_options(form, confidence_level, estimator, method, k)
    return _compute(_design_from_data(data), (sf,), level, est, k)[0]


def icc_long(
    units: object,
    raters: object,
    scores: object,
    *,
    form: ICCForm = "ICC(2,1)",
    confidence_level: float = 0.95,
    estimator: Estimator | None = None,
    k: float | None = None,
    method: Estimator | None = None,
) -> ReliabilityResult:
    """Intraclass correlation from long ratings: one (submission, reviewer, score) per entry.

    The fast path for large programs: non-negative integer codes are used as they are
    (unused codes are skipped), other labels are factorised. A NaN score counts as a
    rating not given. 1,000,000 ratings (100,000 submissions, 400 reviewers) take well
    under a second with ``estimator="anova"``.

    Parameters
    ----------
    units, raters : array-like, shape (n_ratings,)
        Submission and reviewer of each rating (integer codes or labels). Each
        (submission, reviewer) pair may occur once.
    scores : array-like of float, shape (n_ratings,)
    form, confidence_level, estimator, k, method
        As in :func:`icc`.

    Returns
    -------
    ReliabilityResult
        As in :func:`icc`.

    Notes
    -----
    Models, estimators, the choice of k and the intervals are described in :func:`icc`.

    Examples
    --------
    >>> from calibrate.reliability import icc_long
    >>> units = [0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4]
    >>> raters = [0, 1, 0, 2, 3, 1, 3, 0, 2, 1, 2, 3]
    >>> scores = [3, 3, 1, 2, 1, 4, 4, 2, 3, 2, 2, 1]
    >>> res = icc_long(units, raters, scores, form="ICC(A,1)")
    >>> res.level, res.n_units, round(res.extra["k"], 3)
    ('ICC(2,1)', 5, 2.308)
    """
    sf, level, est = _check_options(form, confidence_level, estimator, method, k)
    return _compute(_design_from_codes(units, raters, scores), (sf,), level, est, k)[0]


def icc_all(
    data: object,
    *,
    confidence_level: float = 0.95,
    estimator: Estimator | None = None,
    k: float | None = None,
    method: Estimator | None = None,
) -> pd.DataFrame:
    """All six intraclass correlations of a submissions x reviewers matrix, one row each.

    Parameters
    ----------
    data : array-like or DataFrame of shape (n_units, n_raters), CodedRatings or RatingsTable
        As in :func:`icc`.
    confidence_level, estimator, k, method
        As in :func:`icc`.

    Returns
    -------
    DataFrame
        One row per form in Shrout & Fleiss order, with the columns of
        :meth:`ReliabilityResult.to_frame`, ``mcgraw_wong`` (the other name) and the
        ``extra`` entries as columns.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import icc_all
    >>> sf = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...                [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> icc_all(sf)[["level", "mcgraw_wong", "estimate"]].round(2)
          level mcgraw_wong  estimate
    0  ICC(1,1)      ICC(1)      0.17
    1  ICC(2,1)    ICC(A,1)      0.29
    2  ICC(3,1)    ICC(C,1)      0.71
    3  ICC(1,k)      ICC(k)      0.44
    4  ICC(2,k)    ICC(A,k)      0.62
    5  ICC(3,k)    ICC(C,k)      0.91
    """
    _, level, est = _check_options("ICC(2,1)", confidence_level, estimator, method, k)
    return _frame(_compute(_design_from_data(data), _SF_FORMS, level, est, k))


def icc_all_long(
    units: object,
    raters: object,
    scores: object,
    *,
    confidence_level: float = 0.95,
    estimator: Estimator | None = None,
    k: float | None = None,
    method: Estimator | None = None,
) -> pd.DataFrame:
    """All six intraclass correlations from long ratings (see :func:`icc_long`, :func:`icc_all`).

    Parameters
    ----------
    units, raters, scores : array-like, shape (n_ratings,)
        As in :func:`icc_long`.
    confidence_level, estimator, k, method
        As in :func:`icc`.

    Returns
    -------
    DataFrame
        As in :func:`icc_all`.
    """
    _, level, est = _check_options("ICC(2,1)", confidence_level, estimator, method, k)
    return _frame(_compute(_design_from_codes(units, raters, scores), _SF_FORMS, level, est, k))
