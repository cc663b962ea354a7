"""Criterion structure: do the criteria measure the same thing, and do reviewers score
them separately (halo)?"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate._checks import check_count, check_fraction

__all__ = ["CriterionStructure", "criterion_structure"]


@dataclass(frozen=True)
class CriterionStructure:
    """Correlations between criteria, item-total statistics and halo indicators.

    Attributes
    ----------
    correlations : DataFrame
        Criteria x criteria Pearson correlations over scorings (one reviewer's scores of
        one submission): what the rubric and the reviewers' habits produce together.
    submission_correlations : DataFrame
        The same over submissions' mean scores (reviewer noise partly averaged out).
    item_total : DataFrame
        ``criterion_id``, ``item_total`` (corrected: with the total of the other
        criteria), ``alpha_if_deleted``.
    alpha : float
        Cronbach's alpha of the criteria over scorings.
    halo : DataFrame
        One row per reviewer: ``n_scorings``, ``within_sd`` (mean SD of a scoring's
        criterion scores), ``halo_ratio`` (over the program's), ``flat_share`` (share of
        scorings with every criterion at one level), ``halo``.
    flags : DataFrame
        ``criterion_id`` (empty for rubric-wide flags), ``flag`` (``redundant``,
        ``low_item_total``, ``halo``) and ``reason``.
    """

    correlations: pd.DataFrame
    submission_correlations: pd.DataFrame
    item_total: pd.DataFrame
    alpha: float
    halo: pd.DataFrame
    flags: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.item_total.copy()

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(r.reason)}</li>" for r in self.flags.itertuples())
        return (
            f"<div><strong>Criterion structure</strong>: alpha {self.alpha:.3f}"
            f"<ul>{items or '<li>no flags</li>'}</ul></div>"
        )


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    if k < 2 or x.shape[0] < 2:
        return math.nan
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return math.nan
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))


def criterion_structure(
    ratings: object,
    *,
    redundant: float = 0.9,
    low_item_total: float = 0.3,
    halo_ratio: float = 0.5,
    min_scorings: int = 10,
) -> CriterionStructure:
    r"""Correlations between criteria, corrected item-total correlations and halo.

    Parameters
    ----------
    ratings : RatingsTable
        Only scorings with every criterion scored enter the correlations.
    redundant : float, default 0.9
        Two criteria whose submission-mean scores correlate at least this much are
        flagged as possibly measuring the same thing.
    low_item_total : float, default 0.3
        A criterion whose corrected item-total correlation is below this is flagged as
        measuring something the others do not.
    halo_ratio : float, default 0.5
        A reviewer whose scores vary across criteria (within a scoring) less than this
        fraction of the program's variation is flagged for halo.
    min_scorings : int, default 10
        Scorings a reviewer needs to be judged for halo.

    Returns
    -------
    CriterionStructure

    Notes
    -----
    The corrected item-total correlation of criterion c is the correlation of c with the
    sum of the other criteria; alpha is Cronbach's
    :math:`\frac{k}{k-1}(1 - \sum_c s^2_c / s^2_{total})`. The halo indicator compares
    a reviewer's mean within-scoring standard deviation across criteria with the
    program's: a reviewer who gives every criterion the same level has ratio 0.

    References
    ----------
    .. [1] Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
       Psychometrika, 16(3), 297-334.
    .. [2] Myford, C. M., & Wolfe, E. W. (2003). Detecting and measuring rater effects
       using many-facet Rasch measurement: Part I. Journal of Applied Measurement, 4(4),
       386-422. (Halo.)

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import criterion_structure
    >>> s = criterion_structure(read_program("data/synthetic/district").ratings.select(kind="live"))
    >>> s.correlations.shape
    (6, 6)
    """
    from calibrate.ratings import RatingsTable

    if not isinstance(ratings, RatingsTable):
        raise TypeError(f"ratings must be a RatingsTable; got {type(ratings).__name__}")
    redundant = check_fraction("redundant", redundant)
    low_item_total = check_fraction("low_item_total", low_item_total)
    halo_ratio = check_fraction("halo_ratio", halo_ratio)
    min_scorings = check_count("min_scorings", min_scorings)
    f = ratings.frame
    crits = list(ratings.rubric.criterion_ids)
    wide = f.pivot_table(
        index=["submission_id", "reviewer_id"],
        columns="criterion_id",
        values="score",
        aggfunc="mean",
        observed=True,
    ).reindex(columns=crits)
    wide.columns.name = None
    complete = wide.dropna()
    corr = complete.corr()
    sub_means = complete.groupby(level="submission_id", observed=True).mean()
    sub_corr = sub_means.corr()
    x = complete.to_numpy(dtype=np.float64)
    rows = []
    for j, c in enumerate(crits):
        rest = np.delete(x, j, axis=1)
        total = rest.sum(axis=1)
        ok = x.shape[0] > 2 and np.std(x[:, j]) > 0 and np.std(total) > 0
        r = float(np.corrcoef(x[:, j], total)[0, 1]) if ok else math.nan
        rows.append({"criterion_id": c, "item_total": r, "alpha_if_deleted": _alpha(rest)})
    item_total = pd.DataFrame(rows)
    flags: list[dict[str, str]] = []
    for r in item_total.itertuples():
        if not math.isnan(r.item_total) and r.item_total < low_item_total:
            flags.append(
                {
                    "criterion_id": r.criterion_id,
                    "flag": "low_item_total",
                    "reason": f"scores on {r.criterion_id} correlate only {r.item_total:.2f} with the other criteria' total: "
                    "it measures something the others do not (or is scored inconsistently)",
                }
            )
    for i, a in enumerate(crits):
        for b in crits[i + 1 :]:
            v = sub_corr.loc[a, b]
            if np.isfinite(v) and v >= redundant:
                for c, other in ((a, b), (b, a)):
                    flags.append(
                        {
                            "criterion_id": c,
                            "flag": "redundant",
                            "reason": f"{c} and {other} correlate {v:.2f} over submissions: they may measure the same thing",
                        }
                    )
    # ---- halo -------------------------------------------------------------------
    sd = complete.std(axis=1, ddof=0)
    flat = complete.nunique(axis=1) == 1
    reviewer = complete.index.get_level_values("reviewer_id")
    program_sd = float(sd.mean()) if len(sd) else math.nan
    halo = pd.DataFrame(
        {
            "n_scorings": sd.groupby(reviewer, observed=True).size(),
            "within_sd": sd.groupby(reviewer, observed=True).mean(),
            "flat_share": flat.groupby(reviewer, observed=True).mean(),
        }
    )
    halo["halo_ratio"] = halo["within_sd"] / program_sd if program_sd > 0 else math.nan
    halo["halo"] = (halo["n_scorings"] >= min_scorings) & (halo["halo_ratio"] < halo_ratio)
    halo = halo.rename_axis("reviewer_id").reset_index()
    halo["reviewer_id"] = halo["reviewer_id"].astype(str)
    halo = halo[["reviewer_id", "n_scorings", "within_sd", "halo_ratio", "flat_share", "halo"]]
    for r in halo[halo["halo"]].itertuples():
        flags.append(
            {
                "criterion_id": "",
                "flag": "halo",
                "reason": f"reviewer {r.reviewer_id} scores the criteria alike (halo): their scores vary across criteria "
                f"{r.halo_ratio:.0%} as much as the program's; {r.flat_share:.0%} of their {r.n_scorings} "
                "scorings give every criterion the same level",
            }
        )
    return CriterionStructure(
        corr,
        sub_corr,
        item_total,
        _alpha(x),
        halo,
        pd.DataFrame(flags, columns=["criterion_id", "flag", "reason"]),
    )
