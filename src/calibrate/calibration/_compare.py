"""Each reviewer against the answer key, per criterion and overall, in one calibration round."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibrate._intervals import wilson_interval
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.rubric import Rubric

__all__ = [
    "compare_keyed",
    "compare_to_key",
    "decision_agreement",
    "decisions_keyed",
    "keyed_scores",
    "quadratic_kappa",
    "wilson_interval",
]


def keyed_scores(
    ratings: RatingsTable, key: AnswerKey, *, round_id: str | None = None
) -> pd.DataFrame:
    """Anchor ratings joined to their key: one row per (reviewer, anchor, criterion).

    Columns: round_id, reviewer_id, submission_id, criterion_id, score, key_score,
    difference (score - key, in score points), steps (the same in rubric levels, which
    differs from points when level scores are not consecutive).

    Only ratings of ``kind`` anchor (or with no kind) whose (submission, criterion) has a
    key take part; with ``round_id``, only that round.
    """
    f = ratings.frame
    keep = f["submission_id"].astype(str).isin(key.anchors).to_numpy(dtype=bool, copy=True)
    if f["kind"].notna().any():
        keep &= f["kind"].isin(["anchor"]).to_numpy(dtype=bool) | f["kind"].isna().to_numpy(
            dtype=bool
        )
    if round_id is not None:
        if round_id not in ratings.rounds:
            raise ValueError(
                f"round_id must be one of the rounds in the ratings {ratings.rounds}; got {round_id!r}"
            )
        keep &= (f["round_id"] == round_id).to_numpy(dtype=bool)
    sub = f.loc[keep, ["round_id", "reviewer_id", "submission_id", "criterion_id", "score"]].astype(
        {"submission_id": str, "reviewer_id": str, "criterion_id": str}
    )
    k = key.frame[["submission_id", "criterion_id", "key_score"]].astype(
        {"submission_id": str, "criterion_id": str}
    )
    out = sub.merge(k, on=["submission_id", "criterion_id"], how="inner")
    out["difference"] = out["score"] - out["key_score"]
    index = {c.id: {s: i for i, s in enumerate(c.scores)} for c in ratings.rubric.criteria}
    out["steps"] = [
        index[c][s] - index[c][t]
        for c, s, t in zip(out["criterion_id"], out["score"], out["key_score"], strict=True)
    ]
    return out.reset_index(drop=True)


def quadratic_kappa(x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Quadratic-weighted Cohen's kappa between paired level indices, per group.

    For squared-distance weights, kappa = 1 - mean((x - y)^2) / E[(x - y)^2 under
    independence], and that expectation over the product of the margins is
    var(x) + var(y) + (mean x - mean y)^2 (population moments): five sums per group
    instead of a contingency table. Equal to :func:`calibrate.reliability.cohen_kappa`
    with ``weights="quadratic"`` on the level indices (tested to 1e-12). NaN where the
    expectation is 0 (both constant at the same level) or a group has fewer than 2 pairs.
    """

    def total(v: np.ndarray) -> np.ndarray:
        return np.bincount(groups, weights=v, minlength=n_groups)

    n = np.bincount(groups, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = total(x) / n, total(y) / n
        vx, vy = total(x * x) / n - mx * mx, total(y * y) / n - my * my
        observed = total((x - y) ** 2) / n
        expected = vx + vy + (mx - my) ** 2
        kappa = 1 - observed / expected
    kappa[(n < 2) | ~(expected > 1e-12)] = np.nan
    return kappa


def compare_to_key(
    ratings: RatingsTable,
    key: AnswerKey,
    *,
    round_id: str | None = None,
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """Agreement of each reviewer with the key, per criterion and overall.

    Parameters
    ----------
    ratings : the round's ratings (anchor ratings are used).
    key : the answer key of the anchors.
    round_id : one round; default all anchor ratings.
    confidence_level : for the Wilson intervals of the agreement rates.

    Returns
    -------
    DataFrame
        One row per (reviewer_id, criterion_id), plus a row per reviewer with
        criterion_id ``"overall"`` pooling all criteria: n (keyed scores), exact
        agreement and within-one agreement (in rubric levels) with Wilson intervals,
        mean_difference (score - key in score points: negative is harsher than the key),
        weighted_kappa (quadratic, against the key, on level indices), kappa_note.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> p = read_program("data/synthetic/pilot")
    >>> table = compare_to_key(p.ratings, p.key, round_id="R1")
    >>> sorted(table.columns[:4])
    ['criterion_id', 'exact', 'n', 'reviewer_id']
    """
    if not 0 < confidence_level < 1:
        raise ValueError(
            f"confidence_level must be between 0 and 1 (exclusive); got {confidence_level!r}"
        )
    ks = keyed_scores(ratings, key, round_id=round_id)
    if ks.empty:
        raise ValueError(
            "no anchor ratings match the key"
            + (f" in round {round_id!r}" if round_id else "")
            + "; check the round and that the key's submissions are the anchors scored"
        )
    return compare_keyed(ks, ratings.rubric, confidence_level=confidence_level)


def compare_keyed(
    ks: pd.DataFrame, rubric: Rubric, *, confidence_level: float = 0.95
) -> pd.DataFrame:
    """:func:`compare_to_key` on an already computed :func:`keyed_scores` table."""
    if ks.empty:
        raise ValueError(
            "no anchor ratings match the key; check the round and that the key's submissions are the anchors scored"
        )
    ratings_rubric = rubric
    index = {c.id: {s: i for i, s in enumerate(c.scores)} for c in ratings_rubric.criteria}
    x = np.fromiter(
        (index[c][v] for c, v in zip(ks["criterion_id"], ks["score"], strict=True)), float, len(ks)
    )
    y = x - ks["steps"].to_numpy(dtype=float)
    order = [*ratings_rubric.criterion_ids, "overall"]
    parts = []
    for crit_col in (ks["criterion_id"], pd.Series("overall", index=ks.index)):
        pair = pd.MultiIndex.from_arrays([ks["reviewer_id"], crit_col])
        codes, uniques = pd.factorize(pair)
        m = len(uniques)
        n = np.bincount(codes, minlength=m)
        exact = np.bincount(codes, weights=(ks["steps"] == 0).to_numpy(dtype=float), minlength=m)
        adjacent = np.bincount(
            codes, weights=(ks["steps"].abs() <= 1).to_numpy(dtype=float), minlength=m
        )
        diff = np.bincount(codes, weights=ks["difference"].to_numpy(dtype=float), minlength=m) / n
        frame = pd.DataFrame(
            {
                "reviewer_id": uniques.get_level_values(0),
                "criterion_id": uniques.get_level_values(1),
                "n": n,
            }
        )
        for name, k in (("exact", exact), ("adjacent", adjacent)):
            lo, hi = wilson_interval(k, n, confidence_level)
            frame[name], frame[f"{name}_low"], frame[f"{name}_high"] = k / n, lo, hi
        frame["mean_difference"] = diff
        if crit_col.iloc[0] == "overall":
            frame["weighted_kappa"] = np.nan
            frame["kappa_note"] = "pooled over criteria with different levels: see each criterion"
        else:
            kappa = quadratic_kappa(x, y, codes, m)
            frame["weighted_kappa"] = kappa
            frame["kappa_note"] = np.where(
                np.isnan(kappa),
                np.where(
                    n < 2,
                    "fewer than two keyed anchors",
                    "no variation: the reviewer and the key each used one level",
                ),
                "",
            )
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    rank = {c: i for i, c in enumerate(order)}
    out = (
        out.assign(_r=out["criterion_id"].map(rank))
        .sort_values(["reviewer_id", "_r"], ignore_index=True)
        .drop(columns="_r")
    )
    return out


def decision_agreement(
    ratings: RatingsTable, key: AnswerKey, *, round_id: str | None = None
) -> pd.DataFrame:
    """Per reviewer: on how many anchors their pass / not-yet decision matches the key's.

    Only anchors the reviewer scored on every criterion count. Columns: reviewer_id,
    n_decisions, decision_agreement, anchors_missed (anchors with a different decision
    or a criterion more than one level from the key).
    """
    return decisions_keyed(keyed_scores(ratings, key, round_id=round_id), key)


def decisions_keyed(ks: pd.DataFrame, key: AnswerKey) -> pd.DataFrame:
    """:func:`decision_agreement` on an already computed :func:`keyed_scores` table."""
    rubric = key.rubric
    wide = ks.pivot_table(
        index=["reviewer_id", "submission_id"],
        columns="criterion_id",
        values="score",
        aggfunc="first",
    )
    wide = wide.reindex(columns=list(rubric.criterion_ids))
    key_wide = key.wide().reindex(columns=list(rubric.criterion_ids))
    key_wide.index = key_wide.index.astype(str)
    mine = rubric.decide(wide.to_numpy(dtype=float))
    theirs = rubric.decide(
        key_wide.loc[wide.index.get_level_values("submission_id")].to_numpy(dtype=float)
    )
    far = (
        ks.assign(far=ks["steps"].abs() > 1)
        .groupby(["reviewer_id", "submission_id"])["far"]
        .any()
        .reindex(wide.index, fill_value=False)
        .to_numpy()
    )
    d = pd.DataFrame(
        {
            "reviewer_id": wide.index.get_level_values(0),
            "submission_id": wide.index.get_level_values(1),
            "complete": ~np.isnan(mine),
            "agree": mine == theirs,
            "far": far,
        }
    )
    out = []
    for rid, g in d.groupby("reviewer_id", sort=True):
        done = g[g["complete"]]
        missed = sorted(set(g.loc[(g["complete"] & ~g["agree"]) | g["far"], "submission_id"]))
        out.append(
            {
                "reviewer_id": rid,
                "n_decisions": len(done),
                "decision_agreement": float(done["agree"].mean()) if len(done) else math.nan,
                "anchors_missed": missed,
            }
        )
    return pd.DataFrame(out)
