"""Generalizability (G) studies on sparse, unbalanced rating designs.

Variance components come from Henderson's method 1 -- Brennan's "analogous ANOVA" with
analogous T terms, the procedure of urGENOVA -- computed from sparse sums with
``np.bincount``; intervals come from a parametric bootstrap on the observed design. The
design lives in ``_design``, the estimator in ``_henderson``, the bootstrap in
``_bootstrap``, the result objects in ``_results`` and the D-study in ``_dstudy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_confidence_level
from calibrate.audit._bootstrap import _bootstrap, _check_n_resamples, _interval
from calibrate.audit._design import (
    _REVIEWER_DESIGNS,
    ReviewerDesign,
    _design_name,
    _effect_name,
    _effects,
    _frame_codes,
    _level_codes,
    _sample_sizes,
    _table_codes,
)
from calibrate.audit._dstudy import d_study
from calibrate.audit._henderson import _fit, _solve
from calibrate.audit._renamed import renamed_keywords
from calibrate.audit._results import DStudyResult, GStudyResult

__all__ = ["DStudyResult", "GStudyResult", "ReviewerDesign", "d_study", "g_study", "g_study_frame"]

#: The estimators of the variance components.
_ESTIMATORS = ("henderson1",)


def _study(
    codes: Mapping[str, np.ndarray],
    y: np.ndarray,
    *,
    target: str,
    facets: Sequence[str],
    nested: dict[str, str],
    design: str | None,
    estimator: str,
    n_resamples: int,
    level: float,
    rng: int | np.random.Generator | None,
) -> GStudyResult:
    """The G-study of checked facet codes (one array per facet, target first) and scores."""
    cols = [target, *facets]
    codes = _level_codes(codes, cols, nested)
    effects = _effects(cols, nested)
    fit = _fit(codes, y, effects)
    sigma2 = _solve(fit, fit.t_centred)
    gen = np.random.default_rng(rng)
    reps = _bootstrap(fit, sigma2, n_resamples, gen) if n_resamples else np.empty((0, len(effects)))
    se = reps.std(axis=0, ddof=1) if n_resamples > 1 else np.full(len(effects), np.nan)
    ci = [_interval(reps[:, j], level) for j in range(len(effects))]
    names = [_effect_name(e, nested) for e in effects]
    note = ""
    if (sigma2 < 0).any():
        neg = [n for n, v in zip(names, sigma2, strict=True) if v < 0]
        note = (
            "negative estimates (sampling error around a small component) count as 0 in shares and D-studies: "
            + ", ".join(neg)
        )
    return GStudyResult(
        design=_design_name(cols, nested) if design is None else design,
        target=target,
        facets=tuple(cols),
        nested=nested,
        effects=tuple(effects),
        names=tuple(names),
        variance=tuple(float(v) for v in sigma2),
        se=tuple(float(v) for v in se),
        ci=tuple(ci),
        t_terms={
            **{n: float(t) for n, t in zip(names, fit.t_raw[:-1], strict=True)},
            "mean": float(fit.t_raw[-1]),
        },
        n_ratings=fit.n_ratings,
        n_levels={c: int(codes[c].max()) + 1 for c in cols},
        sample_sizes=_sample_sizes(codes, target, facets, nested),
        estimator=estimator,
        n_resamples=n_resamples,
        confidence_level=level,
        note=note,
        replicates=reps,
    )


@renamed_keywords(n_boot="n_resamples", method="estimator")
def g_study_frame(
    frame: pd.DataFrame,
    *,
    score: str,
    target: str,
    facets: Sequence[str],
    nested: Mapping[str, str] | None = None,
    n_resamples: int = 200,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
    estimator: str = "henderson1",
) -> GStudyResult:
    r"""G-study of any random-effects design given as a long frame (one score per row).

    Parameters
    ----------
    frame : DataFrame
        One row per observation, with a column per facet and ``score``.
    score : str
        Column of the scores.
    target : str
        Column of the object of measurement (persons, submissions).
    facets : sequence of str
        Columns of the other facets (raters, items, occasions, criteria).
    nested : mapping, optional
        ``{inner: outer}`` for nested facets, e.g. ``{"r": "t"}`` for raters nested in
        tasks (p x (r:t)). An inner facet's labels may repeat across outer levels.
    n_resamples : int, default 200
        Parametric-bootstrap replicates for standard errors and intervals; 0 for none.
        (``n_boot=``, its old name, still works and warns.)
    confidence_level : float, default 0.95
    rng : int or numpy Generator, optional
    estimator : {"henderson1"}, default "henderson1"
        The estimator of the components, Henderson's method 1 (``method=``, its old
        name, still works and warns).

    Returns
    -------
    GStudyResult

    Notes
    -----
    All facets are random. With :math:`T_\alpha = \sum_a y_{a\cdot}^2 / n_a` over the
    levels of effect :math:`\alpha` and :math:`T_\mu = y_{\cdot\cdot}^2 / N`, Henderson's
    method 1 equates :math:`T_\alpha - T_\mu` to its expectation under the model,

    .. math:: E[T_\alpha - T_\mu] = \sum_\beta \Big(\sum_{a,b} \frac{n_{ab}^2}{n_a}
              - \sum_b \frac{n_b^2}{N}\Big)\,\sigma^2_\beta,

    with :math:`n_{ab}` the ratings in level a of :math:`\alpha` and b of :math:`\beta`,
    and solves the square system. On balanced data these are the ANOVA (expected mean
    square) estimates; on unbalanced data with missing cells they are Brennan's (2001,
    ch. 7) analogous-ANOVA estimates, unbiased under the random model. The counts come
    from ``np.bincount`` on integer codes, so the cost is linear in the number of ratings.
    The last (all-facet) component is confounded with residual error: each cell must be
    scored at most once.

    Standard errors and intervals come from a parametric bootstrap: scores are redrawn
    from the normal random-effects model with the estimated components (negative ones as
    0) on the same design and the components re-estimated. They reflect sampling under
    that model; ordinal scores are not normal, so read them as approximate.

    Validated against Brennan (2001): Synthetic Data Set No. 3 (p x i x o, Table 3.1),
    No. 4 (p x (r:t), Table 3.2) and the unbalanced p x (i:h) example of chapter 7:
    T terms, components and coefficients to the published 4 decimals.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer. (Ch. 3-4, 7.)
    .. [2] Henderson, C. R. (1953). Estimation of variance and covariance components.
       Biometrics, 9(2), 226-252.
    .. [3] Searle, S. R., Casella, G., & McCulloch, C. E. (1992). Variance Components.
       Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.audit import g_study_frame
    >>> scores = [[2, 3, 3], [4, 4, 5], [1, 2, 1], [3, 5, 4]]  # persons x raters
    >>> long = pd.DataFrame([(p, r, s) for p, row in enumerate(scores) for r, s in enumerate(row)],
    ...                     columns=["p", "r", "y"])
    >>> res = g_study_frame(long, score="y", target="p", facets=["r"], n_resamples=0)
    >>> res.to_frame()[["facet", "variance"]].round(3)
       facet  variance
    0      p     1.778
    1      r     0.194
    2  p x r     0.306
    """
    nested = dict(nested or {})
    cols = [target, *facets]
    for c in [*cols, score]:
        if c not in frame.columns:
            raise ValueError(
                f"column {c!r} (from target/facets/score) is not in the frame; columns are {list(frame.columns)}"
            )
    if len(set(cols)) != len(cols):
        raise ValueError(f"target and facets must be distinct columns; got {cols}")
    for inner, outer in nested.items():
        if inner not in cols or outer not in cols:
            raise ValueError(
                f"nested must map facets to facets among {cols}; got {inner!r}: {outer!r}"
            )
    n_resamples = _check_n_resamples(n_resamples)
    level = check_confidence_level(confidence_level)
    estimator = check_choice("estimator", estimator, _ESTIMATORS)
    y = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.isfinite(y)
    if keep.sum() < 2:
        raise ValueError(f"a G-study needs at least 2 scores; got {int(keep.sum())}")
    codes = _frame_codes(frame, cols, keep)
    return _study(
        codes,
        y[keep],
        target=target,
        facets=facets,
        nested=nested,
        design=None,
        estimator=estimator,
        n_resamples=n_resamples,
        level=level,
        rng=rng,
    )


@renamed_keywords(n_boot="n_resamples", method="estimator")
def g_study(
    ratings: object,
    *,
    design: ReviewerDesign = "crossed",
    n_resamples: int = 200,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
    estimator: str = "henderson1",
) -> GStudyResult:
    """G-study of a ratings table: submission, reviewer, criterion and their interactions.

    Parameters
    ----------
    ratings : RatingsTable
        One score per (submission, reviewer, criterion); select one round or kind first.
    design : {"crossed", "nested"}, default "crossed"
        ``"crossed"``: p x r x c with missing cells -- reviewers score many submissions,
        each submission a few reviewers -- giving seven components (submission, reviewer,
        criterion, the three two-way interactions, and the three-way interaction with
        error). ``"nested"``: (r:p) x c, reviewers treated as different for every
        submission (when reviewer ids are not comparable across submissions); the
        reviewer and submission x reviewer components are then one, ``reviewer:submission``.
    n_resamples, confidence_level, rng, estimator
        As in :func:`g_study_frame` (``n_boot=`` and ``method=``, the old names of
        ``n_resamples`` and ``estimator``, still work and warn).

    Returns
    -------
    GStudyResult
        Facets are named ``submission``, ``reviewer`` and ``criterion``.

    Notes
    -----
    The estimator, its validation and the bootstrap are described in :func:`g_study_frame`.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer.
    .. [2] Shavelson, R. J., & Webb, N. M. (1991). Generalizability Theory: A Primer. Sage.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import g_study
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> res = g_study(live, n_resamples=0)
    >>> res.design, res.names[0], len(res.names)
    ('p x r x c', 'submission', 7)
    """
    from calibrate.ratings import RatingsTable

    if not isinstance(ratings, RatingsTable):
        raise TypeError(f"ratings must be a RatingsTable; got {type(ratings).__name__}")
    design = check_choice("design", design, _REVIEWER_DESIGNS)  # type: ignore[assignment]
    n_resamples = _check_n_resamples(n_resamples)
    level = check_confidence_level(confidence_level)
    estimator = check_choice("estimator", estimator, _ESTIMATORS)
    if len(ratings) < 2:
        raise ValueError(f"a G-study needs at least 2 scores; got {len(ratings)}")
    codes = ratings.codes  # validated: every rating has a submission, reviewer, criterion
    return _study(
        _table_codes(codes),
        codes.score.astype(np.float64),
        target="submission",
        facets=["reviewer", "criterion"],
        nested={"reviewer": "submission"} if design == "nested" else {},
        design="p x r x c" if design == "crossed" else "(r:p) x c",
        estimator=estimator,
        n_resamples=n_resamples,
        level=level,
        rng=rng,
    )
