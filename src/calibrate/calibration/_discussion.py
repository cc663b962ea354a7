"""What to discuss after a round: anchors ranked by how far reviewers strayed."""

from __future__ import annotations

import pandas as pd

from calibrate.calibration._compare import keyed_scores
from calibrate.ratings import AnswerKey, RatingsTable

__all__ = ["anchor_detail", "discussion_ranking", "round_trends"]


def discussion_ranking(
    ratings: RatingsTable, key: AnswerKey, *, round_id: str | None = None
) -> pd.DataFrame:
    """Anchors ranked for discussion, most divergent first.

    Columns: submission_id, reviewers, off_key (mean absolute distance from the key in
    levels), spread (mean over criteria of the SD of reviewers' levels: disagreement
    among reviewers), lean (mean score - key, points), worst_criterion (largest mean
    distance), exact (share of scores equal to the key). Ranked by off_key, then spread.
    """
    ks = keyed_scores(ratings, key, round_id=round_id)
    ks = ks.assign(abs_steps=ks["steps"].abs())
    per_crit = ks.groupby(["submission_id", "criterion_id"]).agg(
        off=("abs_steps", "mean"), sd=("steps", "std")
    )
    worst = per_crit["off"].groupby(level=0).idxmax().map(lambda t: t[1])
    out = ks.groupby("submission_id").agg(
        reviewers=("reviewer_id", "nunique"),
        off_key=("abs_steps", "mean"),
        lean=("difference", "mean"),
        exact=("steps", lambda s: float((s == 0).mean())),
    )
    out["spread"] = per_crit["sd"].groupby(level=0).mean().fillna(0.0)
    out["worst_criterion"] = worst
    out = out.sort_values(["off_key", "spread"], ascending=False).reset_index()
    return out[
        ["submission_id", "reviewers", "off_key", "spread", "lean", "exact", "worst_criterion"]
    ]


def anchor_detail(
    ratings: RatingsTable, key: AnswerKey, submission_id: str, *, round_id: str | None = None
) -> pd.DataFrame:
    """For one anchor: per criterion, how many reviewers gave each level, the key's level
    and its rationale -- the table a lead puts on screen to lead the discussion."""
    ks = keyed_scores(ratings, key, round_id=round_id)
    ks = ks[ks["submission_id"] == submission_id]
    if ks.empty:
        raise ValueError(
            f"submission_id {submission_id!r} is not a keyed anchor scored"
            + (f" in round {round_id!r}" if round_id else "")
        )
    rationale = key.frame.assign(
        submission_id=key.frame["submission_id"].astype(str),
        criterion_id=key.frame["criterion_id"].astype(str),
    )
    rationale = rationale[rationale["submission_id"] == submission_id].set_index("criterion_id")
    rows = []
    for c in ratings.rubric.criteria:
        g = ks[ks["criterion_id"] == c.id]
        if g.empty:
            continue
        counts = g["score"].value_counts()
        row = {"criterion_id": c.id, "criterion": c.name, "key_score": int(g["key_score"].iloc[0])}
        row |= {f"{lv.score} {lv.label}": int(counts.get(lv.score, 0)) for lv in c.levels}
        row["rationale"] = str(rationale.loc[c.id, "rationale"]) if c.id in rationale.index else ""
        rows.append(row)
    return pd.DataFrame(rows)


def round_trends(ratings: RatingsTable, key: AnswerKey) -> pd.DataFrame:
    """Per reviewer and round (and the group, reviewer_id ``"(group)"``): exact and
    within-one agreement with the key and mean difference, in round order."""
    ks = keyed_scores(ratings, key)
    ks = ks[ks["round_id"].notna()].assign(
        exact=lambda d: d["steps"] == 0, adjacent=lambda d: d["steps"].abs() <= 1
    )
    agg = {
        "exact": ("exact", "mean"),
        "adjacent": ("adjacent", "mean"),
        "mean_difference": ("difference", "mean"),
        "n": ("steps", "size"),
    }
    per = ks.groupby(["reviewer_id", "round_id"], observed=True).agg(**agg).reset_index()
    group = (
        ks.groupby("round_id", observed=True).agg(**agg).reset_index().assign(reviewer_id="(group)")
    )
    out = pd.concat([per, group], ignore_index=True)
    out["round_id"] = out["round_id"].astype(str)
    return out.sort_values(["reviewer_id", "round_id"], ignore_index=True)
