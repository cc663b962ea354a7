"""Each reviewer against the answer key, per criterion and overall, in one calibration round."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.reliability import cohen_kappa

__all__ = ["compare_to_key", "decision_agreement", "keyed_scores"]


def keyed_scores(ratings: RatingsTable, key: AnswerKey, *, round_id: str | None = None) -> pd.DataFrame:
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
        keep &= f["kind"].isin(["anchor"]).to_numpy(dtype=bool) | f["kind"].isna().to_numpy(dtype=bool)
    if round_id is not None:
        if round_id not in ratings.rounds:
            raise ValueError(f"round_id must be one of the rounds in the ratings {ratings.rounds}; got {round_id!r}")
        keep &= (f["round_id"] == round_id).to_numpy(dtype=bool)
    sub = f.loc[keep, ["round_id", "reviewer_id", "submission_id", "criterion_id", "score"]].astype({"submission_id": str, "reviewer_id": str, "criterion_id": str})
    k = key.frame[["submission_id", "criterion_id", "key_score"]].astype({"submission_id": str, "criterion_id": str})
    out = sub.merge(k, on=["submission_id", "criterion_id"], how="inner")
    out["difference"] = out["score"] - out["key_score"]
    index = {c.id: {s: i for i, s in enumerate(c.scores)} for c in ratings.rubric.criteria}
    out["steps"] = [index[c][s] - index[c][t] for c, s, t in zip(out["criterion_id"], out["score"], out["key_score"], strict=True)]
    return out.reset_index(drop=True)


def _wilson(k: np.ndarray, n: np.ndarray, confidence_level: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = proportion_confint(k, n, alpha=1 - confidence_level, method="wilson")
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _kappa(group: pd.DataFrame, categories: tuple[int, ...]) -> tuple[float, str]:
    if len(group) < 2:
        return math.nan, "fewer than two keyed anchors"
    res = cohen_kappa(group[["score", "key_score"]].to_numpy(dtype=float), weights="quadratic", categories=list(categories))
    return res.estimate, res.note


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
        weighted_kappa (quadratic, against the key), kappa_note.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> p = read_program("data/synthetic/pilot")
    >>> table = compare_to_key(p.ratings, p.key, round_id="R1")
    >>> sorted(table.columns[:4])
    ['criterion_id', 'exact', 'n', 'reviewer_id']
    """
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be between 0 and 1 (exclusive); got {confidence_level!r}")
    ks = keyed_scores(ratings, key, round_id=round_id)
    if ks.empty:
        raise ValueError("no anchor ratings match the key" + (f" in round {round_id!r}" if round_id else "") + "; check the round and that the key's submissions are the anchors scored")
    crit_levels = {c.id: c.scores for c in ratings.rubric.criteria}
    rows = []
    for (rid, cid), g in ks.groupby(["reviewer_id", "criterion_id"], sort=True):
        kappa, note = _kappa(g, crit_levels[cid])
        rows.append({"reviewer_id": rid, "criterion_id": cid, "n": len(g), "exact_k": int((g["steps"] == 0).sum()),
                     "adjacent_k": int((g["steps"].abs() <= 1).sum()), "mean_difference": float(g["difference"].mean()),
                     "weighted_kappa": kappa, "kappa_note": note})
    for rid, g in ks.groupby("reviewer_id", sort=True):
        rows.append({"reviewer_id": rid, "criterion_id": "overall", "n": len(g), "exact_k": int((g["steps"] == 0).sum()),
                     "adjacent_k": int((g["steps"].abs() <= 1).sum()), "mean_difference": float(g["difference"].mean()),
                     "weighted_kappa": math.nan, "kappa_note": "pooled over criteria with different levels: see each criterion"})
    out = pd.DataFrame(rows)
    n = out["n"].to_numpy()
    for name in ("exact", "adjacent"):
        k = out.pop(f"{name}_k").to_numpy()
        out.insert(out.columns.get_loc("mean_difference"), name, k / n)
        lo, hi = _wilson(k, n, confidence_level)
        out.insert(out.columns.get_loc("mean_difference"), f"{name}_low", lo)
        out.insert(out.columns.get_loc("mean_difference"), f"{name}_high", hi)
    order = {c: i for i, c in enumerate([*ratings.rubric.criterion_ids, "overall"])}
    out = out.sort_values(["reviewer_id", "criterion_id"], key=lambda s: s.map(order) if s.name == "criterion_id" else s, ignore_index=True)
    return out


def decision_agreement(ratings: RatingsTable, key: AnswerKey, *, round_id: str | None = None) -> pd.DataFrame:
    """Per reviewer: on how many anchors their pass / not-yet decision matches the key's.

    Only anchors the reviewer scored on every criterion count. Columns: reviewer_id,
    n_decisions, decision_agreement, anchors_missed (anchors with a different decision
    or a criterion more than one level from the key).
    """
    ks = keyed_scores(ratings, key, round_id=round_id)
    rubric = ratings.rubric
    wide = ks.pivot_table(index=["reviewer_id", "submission_id"], columns="criterion_id", values="score", aggfunc="first")
    wide = wide.reindex(columns=list(rubric.criterion_ids))
    key_wide = key.wide().reindex(columns=list(rubric.criterion_ids))
    key_wide.index = key_wide.index.astype(str)
    mine = rubric.decide(wide.to_numpy(dtype=float))
    theirs = rubric.decide(key_wide.loc[wide.index.get_level_values("submission_id")].to_numpy(dtype=float))
    far = ks.assign(far=ks["steps"].abs() > 1).groupby(["reviewer_id", "submission_id"])["far"].any().reindex(wide.index, fill_value=False).to_numpy()
    d = pd.DataFrame({"reviewer_id": wide.index.get_level_values(0), "submission_id": wide.index.get_level_values(1),
                      "complete": ~np.isnan(mine), "agree": mine == theirs, "far": far})
    out = []
    for rid, g in d.groupby("reviewer_id", sort=True):
        done = g[g["complete"]]
        missed = sorted(set(g.loc[(g["complete"] & ~g["agree"]) | g["far"], "submission_id"]))
        out.append({"reviewer_id": rid, "n_decisions": len(done),
                    "decision_agreement": float(done["agree"].mean()) if len(done) else math.nan, "anchors_missed": missed})
    return pd.DataFrame(out)
