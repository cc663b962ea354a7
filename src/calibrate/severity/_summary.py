"""One reviewer table from both severity models: Rasch severity and fit beside Dawid-Skene
accuracy, with the reviewer x criterion biases worth a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from calibrate._checks import check_choice, check_positive
from calibrate.severity._dawid_skene import DawidSkene
from calibrate.severity._rasch import ManyFacetRasch

if TYPE_CHECKING:
    from calibrate.ratings import AnswerKey, RatingsTable

__all__ = ["REVIEWER_TABLE_COLUMNS", "SeveritySummary", "severity_summary"]

#: The normal quantile of a 95% interval.
_Z95 = 1.959963984540054

#: The columns of the reviewer table people read (the command's text, the severity page).
REVIEWER_TABLE_COLUMNS = (
    "reviewer_id",
    "n",
    "severity",
    "se",
    "ci_low",
    "ci_high",
    "se_joint",
    "infit",
    "outfit",
    "observed_average",
    "fair_average",
    "accuracy",
)

#: The columns of :attr:`SeveritySummary.bias`.
BIAS_COLUMNS = ["reviewer_id", "criterion_id", "n", "bias", "se", "t"]


@dataclass(frozen=True, eq=False)
class SeveritySummary:
    """Each reviewer's severity (many-facet Rasch) and accuracy (Dawid-Skene) in one table.

    Attributes
    ----------
    rasch, dawid_skene : the fitted models, for everything the table leaves out.
    reviewers : one row per reviewer, harshest first: the Rasch columns (``severity``,
        ``se``, ``ci_low`` and ``ci_high`` (severity +- 1.96 se), ``infit``, ``outfit``, fair and observed averages, ...), ``accuracy``
        (P(score = true level), averaged over criteria) and ``mean_shift`` from Dawid-Skene,
        and ``bias_criteria``, the criteria on which the reviewer's bias has |t| >= ``bias_t``.
    bias : the reviewer x criterion biases with |t| >= ``bias_t``.
    bias_t : the |t| from which a bias is listed.
    keyed : whether Dawid-Skene took the key's anchors as known truth.
    estimator : the Rasch estimator, ``"jml"`` or ``"mml"`` (also a column of ``reviewers``).
    """

    rasch: ManyFacetRasch
    dawid_skene: DawidSkene
    reviewers: pd.DataFrame
    bias: pd.DataFrame
    bias_t: float
    keyed: bool
    estimator: str = "jml"

    def to_frame(self) -> pd.DataFrame:
        """The reviewer table (a copy)."""
        return self.reviewers.copy()

    def to_dict(self) -> list[dict[str, Any]]:
        """One record per reviewer, as ``calibrate severity --format json`` prints them."""
        return self.reviewers.to_dict(orient="records")


def severity_summary(
    table: RatingsTable,
    key: AnswerKey | None = None,
    *,
    model: Literal["rating_scale", "partial_credit"] = "rating_scale",
    bias_t: float = 2.0,
    estimator: Literal["jml", "mml"] = "jml",
) -> SeveritySummary:
    """Fit both severity models on ``table`` and join them per reviewer.

    Parameters
    ----------
    table : the ratings (anchor and live alike: severity is one reviewer trait).
    key : the answer key; Dawid-Skene then treats the keyed anchors as known truth.
    model : Rasch thresholds shared by the criteria (``"rating_scale"``) or per criterion.
    bias_t : list a reviewer x criterion bias from this |t| on.
    estimator : Rasch by joint (``"jml"``) or marginal (``"mml"``) maximum likelihood; see
        :class:`ManyFacetRasch`.

    References
    ----------
    Linacre, J. M. (1989). *Many-facet Rasch measurement*. MESA Press.
    Dawid, A. P., & Skene, A. M. (1979). Maximum likelihood estimation of observer
    error-rates using the EM algorithm. *Applied Statistics*, 28(1), 20-28.
    """
    check_choice("model", model, ("rating_scale", "partial_credit"))
    check_positive("bias_t", bias_t)
    check_choice("estimator", estimator, ("jml", "mml"))
    rasch = ManyFacetRasch(model=model, estimator=estimator).fit(table)
    ds = DawidSkene().fit(table, key=key)
    accuracy = ds.reviewers_.groupby("reviewer_id", sort=True)[["accuracy", "mean_shift"]].mean()
    rows = rasch.reviewers_.merge(accuracy, left_on="reviewer_id", right_index=True, how="left")
    strong = rasch.bias_.loc[rasch.bias_["t"].abs() >= bias_t]
    flagged = strong.groupby("reviewer_id")["criterion_id"].agg(lambda s: sorted(s.astype(str)))
    rows["bias_criteria"] = (
        rows["reviewer_id"].map(flagged).apply(lambda v: v if isinstance(v, list) else [])
    )
    rows["estimator"] = estimator
    # the normal 95% interval of each severity from its SE, beside the estimate
    rows["ci_low"] = rows["severity"] - _Z95 * rows["se"]
    rows["ci_high"] = rows["severity"] + _Z95 * rows["se"]
    rows = rows.sort_values("severity", ascending=False).reset_index(drop=True)
    return SeveritySummary(
        rasch=rasch,
        dawid_skene=ds,
        reviewers=rows,
        bias=strong[BIAS_COLUMNS],
        bias_t=float(bias_t),
        keyed=key is not None,
        estimator=estimator,
    )
