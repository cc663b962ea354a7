"""The sequential ANOVA table of the two-way model score ~ submission + reviewer, as R's anova(lm())."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibrate.reliability._dist import f_sf
from calibrate.reliability._icc_anova import _twoway_anova
from calibrate.reliability._icc_design import _design_from_codes, _design_from_data

__all__ = ["ANOVA_COLUMNS", "anova_table"]

#: The columns of :func:`anova_table` (the index is ``term``).
ANOVA_COLUMNS: tuple[str, ...] = ("df", "sum_sq", "mean_sq", "F", "p")


def anova_table(
    data: object = None,
    *,
    units: object = None,
    raters: object = None,
    scores: object = None,
) -> pd.DataFrame:
    """ANOVA table of ``score ~ submission + reviewer``, sums of squares in sequence (type I).

    Parameters
    ----------
    data : array-like or DataFrame of shape (n_units, n_raters), CodedRatings or RatingsTable
        Scores, one row per submission and one column per reviewer, NaN where the
        reviewer did not score the submission (as :func:`icc` takes them). A
        one-criterion RatingsTable or a CodedRatings with reviewer codes is read
        without densifying.
    units, raters, scores : array-like, shape (n_ratings,), keyword-only
        Long ratings instead of ``data`` (as :func:`icc_long` takes them): submission
        and reviewer of each rating (codes or labels) and its score; a NaN score is a
        rating not given. Give either ``data`` or all three.

    Returns
    -------
    DataFrame
        Indexed by ``term``: ``submission`` (its sum of squares unadjusted, the
        between-submission sum of squares), ``reviewer`` (adjusted for submission) and
        ``residuals``; columns ``df`` (int), ``sum_sq``, ``mean_sq``, ``F`` and ``p``
        (the F test of the term against the residual mean square; NaN on the
        residuals row). The table R prints for
        ``anova(lm(score ~ factor(submission) + factor(reviewer)))``.

    Raises
    ------
    ValueError
        When the model cannot be fitted: no ratings, one submission, no submission
        with two ratings, all scores equal, anonymous reviewers, or no residual
        degrees of freedom (the reason is in the message).

    Notes
    -----
    With *n* submissions, *m* reviewers, *N* ratings and *c* connected blocks of the
    design (reviewers linked through shared submissions), the rows are
    :math:`R(s \\mid \\mu)` on :math:`n - 1` df, :math:`R(r \\mid \\mu, s)` on
    :math:`m - c` df and the residual :math:`y'y - R(\\mu, s, r)` on
    :math:`N - n - m + c` df: the reviewer df is the number of reviewer effects that
    can be estimated once submissions are accounted for. They are the fitting-constants
    (Henderson III) quantities behind :func:`icc`'s two-way forms, computed from the
    same sparse reviewer system, so the cost is O(ratings + reviewers^3) and no
    dummy-coded model matrix is formed. On complete data the
    table is the classical two-way ANOVA without replication (Shrout & Fleiss 1979's
    BMS, JMS and EMS are its mean squares). The ``submission`` row's F test is
    unadjusted: for ICC's F test of submissions adjusted for reviewers see
    ``icc(...).extra``.

    Validated against R 4.2.2 ``anova(lm())`` on irr's ``anxiety`` (complete, and
    unbalanced with ratings deleted) and on a design of two groups of reviewers
    sharing no submission, all entries to 1e-9.

    References
    ----------
    Henderson, C. R. (1953). Estimation of variance and covariance components.
    *Biometrics*, 9(2), 226-252.
    Searle, S. R. (1987). *Linear Models for Unbalanced Data*. Wiley.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import anova_table
    >>> sf = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...                [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> anova_table(sf).round(3)
                df  sum_sq  mean_sq       F      p
    term
    submission   5  56.208   11.242  11.027  0.000
    reviewer     3  97.458   32.486  31.866  0.000
    residuals   15  15.292    1.019     NaN    NaN
    """
    long = (units, raters, scores)
    if data is not None and any(x is not None for x in long):
        raise TypeError("anova_table takes data or units=, raters=, scores=, not both")
    if data is None:
        if any(x is None for x in long):
            raise TypeError(
                "anova_table needs data (submissions x reviewers) or all of units=, raters=, scores="
            )
        d = _design_from_codes(units, raters, scores)
    else:
        d = _design_from_data(data)
    c = _twoway_anova(d)
    if not math.isfinite(c.ms_residual):
        raise ValueError(f"anova_table cannot fit score ~ submission + reviewer: {c.note}")
    unit_mean = np.bincount(d.unit, weights=d.y, minlength=d.n_units) / d.n_i
    ss_unit = float(d.n_i @ unit_mean**2)  # y is centred: the between-submission sum of squares
    # m > c here: a reviewer per block would leave every submission a single rating
    rows = [
        ("submission", d.n_units - 1, ss_unit),
        ("reviewer", c.df_rater, c.ms_rater * c.df_rater),
    ]
    ms_e = c.ms_residual
    out = []
    for term, df, ss in rows:
        ms = ss / df
        f = ms / ms_e if ms_e > 0 else (math.inf if ms > 0 else math.nan)
        p = f_sf(f, df, c.df_residual) if not math.isnan(f) else math.nan
        out.append((term, df, ss, ms, f, p))
    out.append(("residuals", c.df_residual, ms_e * c.df_residual, ms_e, math.nan, math.nan))
    frame = pd.DataFrame(out, columns=["term", *ANOVA_COLUMNS]).set_index("term")
    frame["df"] = frame["df"].astype(np.int64)
    return frame
