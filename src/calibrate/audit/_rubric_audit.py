"""The rubric audit: per criterion its reliability, level use and flags in words, and a
recommendation from the D-study (its HTML page is :func:`calibrate.report.audit_report`)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_count
from calibrate.audit._gstudy import DStudyResult, GStudyResult, ReviewerDesign, d_study, g_study
from calibrate.audit._levels import LevelUse, level_use
from calibrate.audit._renamed import renamed_keywords
from calibrate.audit._structure import CriterionStructure, criterion_structure

__all__ = ["RubricAudit", "rubric_audit"]


def _reviewers_needed(var_p: float, var_err: float, target: float) -> float:
    """Smallest k with var_p / (var_p + var_err / k) >= target (inf if var_p <= 0)."""
    if not (var_p > 0) or not math.isfinite(var_err):
        return math.inf
    return float(max(1, math.ceil(target / (1 - target) * max(var_err, 0.0) / var_p - 1e-12)))


@dataclass(frozen=True)
class RubricAudit:
    """Everything a rubric audit found.

    Attributes
    ----------
    gstudy : GStudyResult
    dstudy : DStudyResult
        Over ``1..max_reviewers`` reviewers and the rubric's number of criteria.
    criteria : DataFrame
        One row per criterion: ``n_ratings``, ``var_submission``, ``var_reviewer``,
        ``var_residual`` (its own p x r G-study), ``phi_1`` with ``phi_1_low``/``_high``
        (Phi of one review, ICC(A,1)), ``phi_planned`` (with ``n_reviewers``),
        ``reviewers_needed`` (for ``target``), ``n_flags`` and ``flags`` (reasons).
    level_use : LevelUse
    structure : CriterionStructure
    target : float
    n_reviewers : int
        The planned number of reviewers per submission.
    recommendation : str
        The D-study's answer in words.
    """

    gstudy: GStudyResult
    dstudy: DStudyResult
    criteria: pd.DataFrame
    level_use: LevelUse
    structure: CriterionStructure
    target: float
    n_reviewers: int
    recommendation: str

    def to_frame(self) -> pd.DataFrame:
        return self.criteria.copy()

    def flags(self) -> pd.DataFrame:
        """Every flag: ``criterion_id`` ('' for rubric-wide), ``source``, ``flag``, ``reason``."""
        parts = [
            self.level_use.flags.assign(source="level_use"),
            self.structure.flags.assign(source="structure"),
        ]
        rel = [
            {
                "criterion_id": r.criterion_id,
                "flag": "low_reliability",
                "reason": r.reliability_reason,
                "source": "reliability",
            }
            for r in self.criteria.itertuples()
            if r.reliability_reason
        ]
        parts.append(pd.DataFrame(rel, columns=["criterion_id", "flag", "reason", "source"]))
        return pd.concat(parts, ignore_index=True)[["criterion_id", "source", "flag", "reason"]]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the CLI's ``--format json`` document."""
        crit = self.criteria.drop(columns=["reliability_reason"])
        return {
            "ok": True,
            "design": self.gstudy.design,
            "n_ratings": self.gstudy.n_ratings,
            "n_levels": self.gstudy.n_levels,
            "variance_components": self.gstudy.to_frame().to_dict(orient="records"),
            "d_study": self.dstudy.to_frame().to_dict(orient="records"),
            "recommendation": self.recommendation,
            "target": self.target,
            "n_reviewers_planned": self.n_reviewers,
            "criteria": crit.to_dict(orient="records"),
            "levels": self.level_use.levels.to_dict(orient="records"),
            "interchangeable_levels": self.level_use.interchangeable.to_dict(orient="records"),
            "item_total": self.structure.item_total.to_dict(orient="records"),
            "alpha": self.structure.alpha,
            "halo": self.structure.halo.to_dict(orient="records"),
            "flags": self.flags().to_dict(orient="records"),
        }

    def _repr_html_(self) -> str:
        shown = self.criteria[
            ["criterion_id", "phi_1", "phi_planned", "reviewers_needed", "n_flags"]
        ]
        return (
            f"<div><strong>Rubric audit</strong><p>{html.escape(self.recommendation)}</p>"
            + shown.to_html(index=False, float_format=lambda x: f"{x:.3f}")
            + "</div>"
        )


@renamed_keywords(n_boot="n_resamples")
def rubric_audit(
    ratings: object,
    *,
    target: float = 0.80,
    n_reviewers: int = 2,
    max_reviewers: int = 8,
    design: ReviewerDesign = "crossed",
    criteria: Literal["random", "fixed"] = "random",
    n_resamples: int = 200,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> RubricAudit:
    """Audit a rubric from live ratings: reliability per criterion, level use, structure,
    and how many reviewers reach ``target``.

    Parameters
    ----------
    ratings : RatingsTable
        One score per (submission, reviewer, criterion): select one kind or round first.
    target : float, default 0.80
        The dependability (Phi) a decision should reach.
    n_reviewers : int, default 2
        Reviewers per submission the program plans (or uses).
    max_reviewers : int, default 8
        The D-study projects 1..max_reviewers reviewers.
    design : {"crossed", "nested"}, default "crossed"
        The G-study design (see :func:`g_study`). The D-study gives every submission its
        own reviewers, as in live review.
    criteria : {"random", "fixed"}, default "random"
        Criteria in the D-study (see :func:`d_study`).
    n_resamples, confidence_level, rng
        As in :func:`g_study` (``n_boot=``, the old name of ``n_resamples``, still works
        and warns).

    Returns
    -------
    RubricAudit

    Notes
    -----
    The rubric-wide coefficients treat the total over the rubric's criteria as the score
    (criteria random, Brennan's p x R x C). Per criterion, the p x r G-study of
    :func:`calibrate.reliability.icc_long` (Henderson's method III) gives Phi of one
    review (ICC(A,1)) and :math:`\\Phi_k = \\sigma^2_p / (\\sigma^2_p + (\\sigma^2_r +
    \\sigma^2_e)/k)` for k reviewers.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer.
    .. [2] Shavelson, R. J., & Webb, N. M. (1991). Generalizability Theory: A Primer. Sage.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import rubric_audit
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> audit = rubric_audit(live, n_resamples=20, rng=0)
    >>> audit.criteria["criterion_id"].tolist()[:2]
    ['goals', 'norms']
    >>> "reviewers" in audit.recommendation
    True
    """
    from calibrate.ratings import RatingsTable
    from calibrate.reliability import icc_long

    if not isinstance(ratings, RatingsTable):
        raise TypeError(f"ratings must be a RatingsTable; got {type(ratings).__name__}")
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target < 1:
        raise ValueError(f"target must be a number between 0 and 1 (exclusive); got {target!r}")
    n_reviewers = check_count("n_reviewers", n_reviewers)
    max_reviewers = check_count("max_reviewers", max_reviewers)
    check_choice("design", design, ("crossed", "nested"))
    check_choice("criteria", criteria, ("random", "fixed"))
    if len(ratings) == 0:
        raise ValueError("ratings must not be empty; got a table with no ratings")
    gs = g_study(
        ratings,
        design=design,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        rng=rng,
    )
    n_crit = gs.n_levels["criterion"]
    ds = d_study(
        gs,
        n_reviewers=list(range(1, max(max_reviewers, n_reviewers) + 1)),
        n_criteria=n_crit,
        criteria=criteria,
    )
    use = level_use(ratings)
    structure = criterion_structure(ratings)

    flags = pd.concat([use.flags, structure.flags], ignore_index=True)
    rows = []
    for crit in ratings.rubric.criteria:
        sub = ratings.criterion_codes(crit.id)
        row: dict[str, object] = {"criterion_id": crit.id, "n_ratings": len(sub)}
        res = (
            icc_long(
                sub.submission,
                sub.reviewer,
                sub.score,
                form="ICC(A,1)",
                confidence_level=confidence_level,
            )
            if len(sub)
            else None
        )
        if res is not None and res.defined:
            vp, vr, ve = (res.extra["var_unit"], res.extra["var_rater"], res.extra["var_residual"])
            err = max(vr, 0.0) + max(ve, 0.0)
            vp_pos = max(vp, 0.0)
            phi_k = vp_pos / (vp_pos + err / n_reviewers) if vp_pos + err > 0 else math.nan
            need = _reviewers_needed(vp, err, target)
            row.update(
                var_submission=vp,
                var_reviewer=vr,
                var_residual=ve,
                phi_1=res.estimate,
                phi_1_low=res.ci[0],
                phi_1_high=res.ci[1],
                phi_planned=phi_k,
                reviewers_needed=need,
            )
            reason = ""
            if phi_k < target:
                needed = "no number of reviewers" if math.isinf(need) else f"{int(need)} reviewers"
                reason = (
                    f"with {n_reviewers} reviewers Phi is {phi_k:.3f}, below {target:.2f}; "
                    f"{needed} would reach it on this criterion alone"
                )
        else:
            row.update(
                var_submission=math.nan,
                var_reviewer=math.nan,
                var_residual=math.nan,
                phi_1=math.nan,
                phi_1_low=math.nan,
                phi_1_high=math.nan,
                phi_planned=math.nan,
                reviewers_needed=math.nan,
            )
            reason = f"reliability undefined: {res.note if res is not None else 'no ratings'}"
        own = flags.loc[flags["criterion_id"] == crit.id, "reason"].tolist() + (
            [reason] if reason else []
        )
        row.update(n_flags=len(own), flags=own, reliability_reason=reason)
        rows.append(row)
    per_criterion = pd.DataFrame(rows)
    per_criterion["reviewers_needed"] = per_criterion["reviewers_needed"].astype(float)

    planned = ds.table[ds.table["n_reviewers"] == n_reviewers].iloc[0]
    total_need = ds.needed(target=target)
    sure = ds.needed(target=target, conservative=True)
    now = (
        f"With {n_reviewers} reviewers per submission the rubric total has Phi = {planned['g_absolute']:.2f}"
        + (
            ""
            if math.isnan(planned["g_absolute_low"])
            else f" ({gs.confidence_level:.0%} interval {planned['g_absolute_low']:.2f} to {planned['g_absolute_high']:.2f})"
        )
        + f" and E rho^2 = {planned['g_relative']:.2f}. "
    )
    if total_need is None:
        rec = (
            now
            + f"No number of reviewers up to {ds.table['n_reviewers'].max()} reaches Phi >= {target:.2f}: improve the rubric or reviewer training."
        )
    else:
        rec = (
            now + f"{total_need} reviewer{'s' if total_need > 1 else ''} reach Phi >= {target:.2f}"
        )
        if sure is not None and sure != total_need:
            rec += f" ({sure} if the interval's lower bound must reach it)"
        elif sure is None and not math.isnan(planned["g_absolute_low"]):
            rec += " (the interval's lower bound reaches it with none of the numbers projected)"
        rec += "."
    return RubricAudit(gs, ds, per_criterion, use, structure, float(target), n_reviewers, rec)
