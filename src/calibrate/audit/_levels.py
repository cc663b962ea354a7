"""How reviewers use the levels of each criterion: unused levels, adjacent levels used
interchangeably, and central tendency."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate._checks import check_count, check_fraction
from calibrate.ratings import RatingsTable, compact

__all__ = ["LevelUse", "level_use"]


@dataclass(frozen=True)
class LevelUse:
    """Level use per criterion and reviewer.

    Attributes
    ----------
    levels : DataFrame
        One row per criterion and level: ``criterion_id``, ``score``, ``label``,
        ``count``, ``share``, ``unused``, ``rare``.
    reviewers : DataFrame
        One row per reviewer and criterion: ``n``, ``mean``, ``sd``, ``sd_ratio`` (the
        reviewer's SD over the SD of all scores on the criterion), ``extreme_share``
        (share at the lowest or highest level), ``central_tendency``.
    interchangeable : DataFrame
        One row per criterion and pair of adjacent levels: ``lower``, ``upper``,
        ``reviewers_assessed``, ``reviewers_interchangeable``, ``share``, ``flagged``
        and ``reviewer_ids`` (those who use the two levels interchangeably).
    pairs : DataFrame
        One row per reviewer, criterion and adjacent pair assessed: ``n_lower``,
        ``n_upper`` (co-ratings in the pair with the reviewer at the lower/upper level),
        ``separation`` and ``interchangeable``.
    flags : DataFrame
        ``criterion_id``, ``flag`` (``unused_level``, ``rare_level``,
        ``interchangeable_levels``, ``central_tendency``) and ``reason`` in words.
    """

    levels: pd.DataFrame
    reviewers: pd.DataFrame
    interchangeable: pd.DataFrame
    pairs: pd.DataFrame
    flags: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.levels.copy()

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(r.reason)}</li>" for r in self.flags.itertuples())
        return f"<div><strong>Level use</strong><ul>{items or '<li>no flags</li>'}</ul></div>"


def _co_ratings(ratings: RatingsTable) -> pd.DataFrame:
    """Every ordered pair of ratings of one submission and criterion by two reviewers."""
    codes = ratings.codes
    f = ratings.frame
    cell, _ = compact(codes.submission * max(codes.n_criteria, 1) + codes.criterion)
    base = pd.DataFrame(
        {
            "cell": cell,
            "criterion_id": f["criterion_id"].to_numpy(),
            "reviewer_id": f["reviewer_id"].to_numpy(),
            "score": f["score"].to_numpy(),
            "reviewer": codes.reviewer,
        }
    )
    pairs = base.merge(
        base[["cell", "reviewer", "score"]], on="cell", suffixes=("", "_peer"), sort=False
    )
    mine = pairs["reviewer"].to_numpy() != pairs["reviewer_peer"].to_numpy()
    return pairs.loc[mine].drop(columns=["reviewer", "reviewer_peer"])


def level_use(
    ratings: object,
    *,
    rare_share: float = 0.02,
    min_ratings: int = 10,
    min_pairs: int = 5,
    separation: float = 0.1,
    interchangeable_share: float = 0.3,
    central_sd_ratio: float = 0.6,
) -> LevelUse:
    r"""Unused and rare levels, adjacent levels used interchangeably, central tendency.

    Parameters
    ----------
    ratings : RatingsTable
    rare_share : float, default 0.02
        A level used for less than this share of a criterion's scores is flagged rare.
    min_ratings : int, default 10
        Ratings a reviewer needs on a criterion to be judged for central tendency.
    min_pairs : int, default 5
        Co-ratings a reviewer needs at each of two adjacent levels to be judged for them.
    separation : float, default 0.1
        A reviewer uses levels a and a+1 interchangeably when their separation (below)
        is under this value.
    interchangeable_share : float, default 0.3
        A criterion is flagged when at least this share of the reviewers judged use a
        pair of its levels interchangeably.
    central_sd_ratio : float, default 0.6
        A reviewer shows central tendency on a criterion when the SD of their scores is
        under this fraction of the SD of all scores on it and they use the extreme levels
        less often than the program does.

    Returns
    -------
    LevelUse

    Notes
    -----
    **Interchangeable levels.** For reviewer j and adjacent levels a, a+1, take every
    co-rating (another reviewer's score of the same submission on the same criterion)
    where both scores are a or a+1. The separation is

    .. math:: P(\text{peer} = a+1 \mid j = a+1) - P(\text{peer} = a+1 \mid j = a),

    the difference j's choice makes to what peers give. A reviewer whose choice between
    a and a+1 tells nothing about the evidence has separation near 0 (or below).

    References
    ----------
    .. [1] Myford, C. M., & Wolfe, E. W. (2003). Detecting and measuring rater effects
       using many-facet Rasch measurement: Part I. Journal of Applied Measurement, 4(4),
       386-422.
    .. [2] Engelhard, G. (1994). Examining rater errors in the assessment of written
       composition with a many-faceted Rasch model. Journal of Educational Measurement,
       31(2), 93-112.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import level_use
    >>> use = level_use(read_program("data/synthetic/district").ratings.select(kind="live"))
    >>> list(use.levels.columns)
    ['criterion_id', 'score', 'label', 'count', 'share', 'unused', 'rare']
    """
    if not isinstance(ratings, RatingsTable):
        raise TypeError(f"ratings must be a RatingsTable; got {type(ratings).__name__}")
    rare_share = check_fraction("rare_share", rare_share)
    separation = check_fraction("separation", separation)
    interchangeable_share = check_fraction("interchangeable_share", interchangeable_share)
    central_sd_ratio = check_fraction("central_sd_ratio", central_sd_ratio)
    min_ratings = check_count("min_ratings", min_ratings)
    min_pairs = check_count("min_pairs", min_pairs)
    f = ratings.frame
    rubric = ratings.rubric
    flags: list[dict[str, str]] = []

    # ---- level counts -------------------------------------------------------
    level_rows = []
    for crit in rubric.criteria:
        scores = f.loc[f["criterion_id"] == crit.id, "score"]
        counts = scores.value_counts()
        total = int(counts.sum())
        for lev in crit.levels:
            n = int(counts.get(lev.score, 0))
            share = n / total if total else np.nan
            level_rows.append(
                {
                    "criterion_id": crit.id,
                    "score": lev.score,
                    "label": lev.label,
                    "count": n,
                    "share": share,
                    "unused": n == 0 and total > 0,
                    "rare": 0 < n and share < rare_share,
                }
            )
            if total and n == 0:
                flags.append(
                    {
                        "criterion_id": crit.id,
                        "flag": "unused_level",
                        "reason": f"level {lev.score} ({lev.label}) was never used in {total} scores",
                    }
                )
            elif total and share < rare_share:
                flags.append(
                    {
                        "criterion_id": crit.id,
                        "flag": "rare_level",
                        "reason": f"level {lev.score} ({lev.label}) was used for only {share:.1%} of scores ({n} of {total})",
                    }
                )
    levels = pd.DataFrame(level_rows)

    # ---- central tendency ----------------------------------------------------
    g = f.groupby(["criterion_id", "reviewer_id"], observed=True)["score"]
    rev = g.agg(n="size", mean="mean", sd="std").reset_index()
    crit_sd = f.groupby("criterion_id", observed=True)["score"].std()
    lo = {c.id: c.levels[0].score for c in rubric.criteria}
    hi = {c.id: c.levels[-1].score for c in rubric.criteria}
    extreme = (f["score"].to_numpy() == f["criterion_id"].map(lo).astype(np.int64).to_numpy()) | (
        f["score"].to_numpy() == f["criterion_id"].map(hi).astype(np.int64).to_numpy()
    )
    ext = (
        pd.Series(extreme, index=f.index)
        .groupby([f["criterion_id"], f["reviewer_id"]], observed=True)
        .mean()
    )
    prog_ext = pd.Series(extreme, index=f.index).groupby(f["criterion_id"], observed=True).mean()
    rev["extreme_share"] = ext.to_numpy()
    rev["sd_ratio"] = (
        rev["sd"].to_numpy() / rev["criterion_id"].map(crit_sd).astype(float).to_numpy()
    )
    rev["central_tendency"] = (
        (rev["n"] >= min_ratings)
        & (rev["sd_ratio"] < central_sd_ratio)
        & (rev["extreme_share"] < rev["criterion_id"].map(prog_ext).astype(float))
    )
    rev = rev[
        [
            "reviewer_id",
            "criterion_id",
            "n",
            "mean",
            "sd",
            "sd_ratio",
            "extreme_share",
            "central_tendency",
        ]
    ]
    for crit in rubric.criteria:
        sub = rev[(rev["criterion_id"] == crit.id) & (rev["n"] >= min_ratings)]
        who = sub.loc[sub["central_tendency"], "reviewer_id"].astype(str).tolist()
        if who:
            flags.append(
                {
                    "criterion_id": crit.id,
                    "flag": "central_tendency",
                    "reason": f"{len(who)} of {len(sub)} reviewers avoid the extreme levels (central tendency: "
                    f"SD of their scores under {central_sd_ratio:.0%} of the program's): {', '.join(who)}",
                }
            )

    # ---- adjacent levels used interchangeably ---------------------------------
    pairs = _co_ratings(ratings)
    pair_rows: list[dict[str, object]] = []
    inter_rows: list[dict[str, object]] = []
    for crit in rubric.criteria:
        pc = pairs[pairs["criterion_id"] == crit.id]
        for a, b in zip(crit.levels[:-1], crit.levels[1:], strict=True):
            both = pc[
                pc["score"].isin([a.score, b.score]) & pc["score_peer"].isin([a.score, b.score])
            ]
            stats = (
                both.assign(up=both["score_peer"] == b.score)
                .groupby(["reviewer_id", "score"], observed=True)["up"]
                .agg(n="size", up="mean")
            )
            stats = stats.unstack("score")

            def column(name: str, score: int, stats: pd.DataFrame = stats) -> np.ndarray:
                key = (name, score)
                if key in stats.columns:
                    return stats[key].to_numpy(dtype=float)
                return np.full(len(stats), np.nan)

            n_lo, n_hi = column("n", a.score), column("n", b.score)
            judged = (n_lo >= min_pairs) & (n_hi >= min_pairs)
            sep = (column("up", b.score) - column("up", a.score))[judged]
            ids = [str(r) for r in stats.index[judged]]
            flag = sep < separation
            assessed = ids
            inter = [r for r, f in zip(ids, flag, strict=True) if f]
            pair_rows.extend(
                {
                    "reviewer_id": rid,
                    "criterion_id": crit.id,
                    "lower": a.score,
                    "upper": b.score,
                    "n_lower": int(lo),
                    "n_upper": int(hi),
                    "separation": float(d),
                    "interchangeable": bool(f),
                }
                for rid, lo, hi, d, f in zip(
                    ids, n_lo[judged], n_hi[judged], sep, flag, strict=True
                )
            )
            share = len(inter) / len(assessed) if assessed else np.nan
            flagged = bool(assessed) and share >= interchangeable_share
            inter_rows.append(
                {
                    "criterion_id": crit.id,
                    "lower": a.score,
                    "upper": b.score,
                    "reviewers_assessed": len(assessed),
                    "reviewers_interchangeable": len(inter),
                    "share": share,
                    "flagged": flagged,
                    "reviewer_ids": inter,
                }
            )
            if flagged:
                flags.append(
                    {
                        "criterion_id": crit.id,
                        "flag": "interchangeable_levels",
                        "reason": f"levels {a.score} and {b.score} ({a.label} / {b.label}) are used interchangeably "
                        f"by {share:.0%} of reviewers ({len(inter)} of {len(assessed)} with enough shared ratings)",
                    }
                )
    pair_cols = [
        "reviewer_id",
        "criterion_id",
        "lower",
        "upper",
        "n_lower",
        "n_upper",
        "separation",
        "interchangeable",
    ]
    return LevelUse(
        levels=levels,
        reviewers=rev.reset_index(drop=True),
        interchangeable=pd.DataFrame(inter_rows),
        pairs=pd.DataFrame(pair_rows, columns=pair_cols),
        flags=pd.DataFrame(flags, columns=["criterion_id", "flag", "reason"]),
    )
