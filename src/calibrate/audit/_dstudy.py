"""Decision (D) studies: E rho^2 and Phi projected for other numbers of reviewers and
criteria (or any facet's sample sizes), with intervals from the G-study's replicates."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice
from calibrate.audit._bootstrap import _interval
from calibrate.audit._design import _REVIEWER_DESIGNS, _TABLE_FACETS, ReviewerDesign
from calibrate.audit._results import DStudyResult, GStudyResult, _coefficients

__all__ = ["d_study"]


def d_study(
    gstudy: GStudyResult,
    *,
    n_reviewers: Sequence[int] | int = (1, 2, 3, 4, 5, 6),
    n_criteria: Sequence[int] | int | None = None,
    reviewers: ReviewerDesign = "nested",
    criteria: Literal["random", "fixed"] = "random",
    sizes: Mapping[str, Sequence[float] | float] | None = None,
    fixed: Sequence[str] = (),
) -> DStudyResult:
    r"""Project E rho^2 and Phi for other numbers of reviewers and criteria.

    Parameters
    ----------
    gstudy : GStudyResult
        From :func:`g_study` (or :func:`g_study_frame` with ``sizes``).
    n_reviewers : int or sequence of int, default 1..6
        Reviewers per submission.
    n_criteria : int or sequence of int, optional
        Criteria on the rubric; default: the number in the G-study.
    reviewers : {"nested", "crossed"}, default "nested"
        D-study design. ``"nested"`` ((R:p) x C): every submission gets its own reviewers,
        as in live review, so reviewer severity is relative error. ``"crossed"``
        (p x R x C): the same reviewers score every submission. Phi is the same for both.
    criteria : {"random", "fixed"}, default "random"
        ``"random"``: the rubric's criteria stand for criteria like them (needed to project
        other numbers of criteria; submission x criterion variance is error).
        ``"fixed"``: the rubric's criteria are the only ones of interest; submission x
        criterion variance is then part of the universe score.
    sizes : mapping, optional
        For designs from :func:`g_study_frame`: sample sizes per facet (values or
        sequences, all combinations are projected); overrides ``n_reviewers``,
        ``n_criteria`` and ``reviewers``.
    fixed : sequence of str, optional
        With ``sizes``: the facets that are fixed in the D-study.

    Returns
    -------
    DStudyResult

    Notes
    -----
    With :math:`n'_r` reviewers and :math:`n'_c` criteria, crossed:

    .. math:: \sigma^2(\delta) = \frac{\sigma^2_{pr}}{n'_r} + \frac{\sigma^2_{pc}}{n'_c}
              + \frac{\sigma^2_{prc,e}}{n'_r n'_c}, \quad
              \sigma^2(\Delta) = \sigma^2(\delta) + \frac{\sigma^2_r}{n'_r}
              + \frac{\sigma^2_c}{n'_c} + \frac{\sigma^2_{rc}}{n'_r n'_c},

    :math:`E\rho^2 = \sigma^2_p / (\sigma^2_p + \sigma^2(\delta))` and
    :math:`\Phi = \sigma^2_p / (\sigma^2_p + \sigma^2(\Delta))`. Nested reviewers move
    :math:`\sigma^2_r` and :math:`\sigma^2_{rc}` into :math:`\sigma^2(\delta)`. Negative
    components count as 0. With fixed criteria, :math:`\sigma^2_{pc}/n'_c` joins the
    universe score and :math:`\sigma^2_c`, :math:`\sigma^2_{pc}` leave the errors.
    Intervals are percentiles of the coefficients over the
    G-study's bootstrap replicates.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer. (Ch. 4.)

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import g_study, d_study
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> ds = d_study(g_study(live, n_resamples=0), n_reviewers=[1, 2, 3])
    >>> list(ds.to_frame().columns[:4])
    ['n_reviewers', 'n_criteria', 'g_relative', 'g_absolute']
    """
    if not isinstance(gstudy, GStudyResult):
        raise TypeError(f"gstudy must be a GStudyResult; got {type(gstudy).__name__}")
    reviewers = check_choice("reviewers", reviewers, _REVIEWER_DESIGNS)  # type: ignore[assignment]
    check_choice("criteria", criteria, ("random", "fixed"))
    bad = [f for f in fixed if f not in gstudy.facets[1:]]
    if bad:
        raise ValueError(f"fixed must name facets among {list(gstudy.facets[1:])}; got {bad}")
    fixed_facets = tuple(fixed)

    def as_list(name: str, v: object) -> list[float]:
        vals = [v] if isinstance(v, int | float | np.integer | np.floating) else list(v)  # type: ignore[call-overload]
        if not vals or any(
            isinstance(x, bool)
            or not isinstance(x, int | float | np.integer | np.floating)
            or not x >= 1
            for x in vals
        ):
            raise ValueError(
                f"{name} must be a number >= 1 or a non-empty sequence of them; got {v!r}"
            )
        return [float(x) for x in vals]

    fold: tuple[str, ...] = ()
    if sizes is not None:
        grid_names = list(sizes)
        unknown = [f for f in grid_names if f not in gstudy.facets[1:]]
        if unknown:
            raise ValueError(
                f"sizes must name facets among {list(gstudy.facets[1:])}; got {unknown}"
            )
        grid = {f: as_list(f"sizes[{f!r}]", sizes[f]) for f in grid_names}
    else:
        if set(gstudy.facets) != set(_TABLE_FACETS):
            raise ValueError("for a design from g_study_frame, pass sizes={facet: n, ...}")
        grid = {
            "reviewer": as_list("n_reviewers", n_reviewers),
            "criterion": as_list(
                "n_criteria", gstudy.n_levels["criterion"] if n_criteria is None else n_criteria
            ),
        }
        if reviewers == "nested" and "reviewer" not in gstudy.nested:
            fold = ("reviewer",)
        if criteria == "fixed":
            fixed_facets = ("criterion",)
    rows = []
    reps = gstudy.replicates
    level = gstudy.confidence_level
    for combo in itertools.product(*grid.values()):
        use = {**gstudy.sample_sizes, **dict(zip(grid, combo, strict=True))}
        _, rel, ab, (g_rel, g_abs) = _coefficients(
            np.asarray(gstudy.variance), gstudy.effects, gstudy.target, use, fold, fixed_facets
        )
        row: dict[str, float] = {}
        for f, n in zip(grid, combo, strict=True):
            key = {"reviewer": "n_reviewers", "criterion": "n_criteria"}.get(f, f"n_{f}")
            row[key] = int(n) if float(n).is_integer() else n
        row.update(g_relative=float(g_rel[0]), g_absolute=float(g_abs[0]))
        if reps.size:
            *_, (br, ba) = _coefficients(
                reps, gstudy.effects, gstudy.target, use, fold, fixed_facets
            )
            row["g_relative_low"], row["g_relative_high"] = _interval(br[np.isfinite(br)], level)
            row["g_absolute_low"], row["g_absolute_high"] = _interval(ba[np.isfinite(ba)], level)
        else:
            row["g_relative_low"] = row["g_relative_high"] = math.nan
            row["g_absolute_low"] = row["g_absolute_high"] = math.nan
        row.update(var_relative=float(rel[0]), var_absolute=float(ab[0]))
        rows.append(row)
    return DStudyResult(
        pd.DataFrame(rows),
        reviewers if sizes is None else "as given",
        level,
        gstudy.n_resamples,
        criteria
        if sizes is None
        else ("fixed: " + ", ".join(fixed_facets) if fixed_facets else "random"),
    )
