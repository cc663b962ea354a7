"""Differential reviewer functioning: group pass rates and fair-average differences, reviewer x group bias."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from calibrate._checks import check_choice, check_fraction, check_int
from calibrate._intervals import wilson_interval as shared_wilson
from calibrate.fairness._bias import anchored_bias, category_probs, cumulative_thresholds
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.rubric import Rubric
from calibrate.severity import ManyFacetRasch

__all__ = ["FairnessResult", "fairness", "holm", "wilson_interval"]

_EXTREME_ADJ = 0.3


def wilson_interval(
    successes: np.ndarray, n: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for binomial proportions at level ``1 - alpha`` (NaN where
    ``n == 0``): the kit's one Wilson interval, :func:`calibrate._intervals.wilson_interval`.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. *JASA*, 22(158), 209-212.
    """
    with np.errstate(invalid="ignore", divide="ignore"):  # a group with no decisions: NaN
        return shared_wilson(successes, n, 1 - alpha)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries are left out and stay NaN).

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6(2), 65-70.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    out[order] = adj
    return out


@dataclass(frozen=True, eq=False)
class FairnessResult:
    """Result of :func:`fairness`.

    Attributes
    ----------
    groups : DataFrame
        One row per attribute value (see :func:`fairness`).
    reviewer_groups : DataFrame
        One row per reviewer x attribute value with any rating.
    attributes : tuple of str
    alpha : float
    min_ratings : int
    model : ManyFacetRasch
        The fitted main-effects model the bias terms are anchored on.
    """

    groups: pd.DataFrame
    reviewer_groups: pd.DataFrame
    attributes: tuple[str, ...]
    alpha: float
    min_ratings: int
    model: ManyFacetRasch = field(repr=False)

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged reviewer x group cells."""
        return self.reviewer_groups[self.reviewer_groups["flagged"]].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """``{"groups": [...], "reviewer_groups": [...]}`` as plain JSON values (NaN -> None)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for row in frame.to_dict(orient="records"):
                clean: dict[str, Any] = {}
                for k, v in row.items():
                    if isinstance(v, np.generic):
                        v = v.item()
                    if isinstance(v, float) and not np.isfinite(v):
                        v = None
                    clean[str(k)] = v
                out.append(clean)
            return out

        return {"groups": records(self.groups), "reviewer_groups": records(self.reviewer_groups)}


def _level_tables(rubric: Rubric) -> tuple[np.ndarray, np.ndarray]:
    n_levels = np.array([len(c.levels) for c in rubric.criteria], dtype=np.int64)
    kmax = int(n_levels.max())
    score_of = np.array(
        [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in rubric.criteria],
        dtype=float,
    )
    return n_levels, score_of


def _attribute_codes(
    attributes: pd.DataFrame, name: str, submission_ids: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Group code per submission (in ``submission_ids`` order; -1: no value) and the values."""
    col = attributes.set_index(attributes["submission_id"].astype(str))[name]
    vals = col.reindex(pd.Index([str(s) for s in submission_ids]))
    labels = sorted({str(v) for v in vals.dropna()})
    lookup = {v: i for i, v in enumerate(labels)}
    codes = np.array([-1 if pd.isna(v) else lookup[str(v)] for v in vals], dtype=np.int64)
    return codes, labels


def fairness(
    ratings: RatingsTable,
    rubric: Rubric | None = None,
    *,
    by: str | Sequence[str],
    attributes: pd.DataFrame,
    key: AnswerKey | None = None,
    min_ratings: int = 20,
    alpha: float = 0.05,
    model: Literal["rating_scale", "partial_credit"] = "rating_scale",
) -> FairnessResult:
    """Differential reviewer functioning: is any group of submissions scored more harshly
    than the evidence warrants, overall or by particular reviewers?

    Parameters
    ----------
    ratings : RatingsTable
        The ratings (all kinds pooled; select first to narrow).
    rubric : Rubric, optional
        Whose pass rule decides (default: the ratings' rubric; same criteria).
    by : str or sequence of str
        The attribute(s) to group submissions by: columns of ``attributes``.
    attributes : DataFrame
        ``submission_id`` and the attribute columns, one row per submission (e.g. from
        :func:`calibrate.io.read_submission_attributes`). A submission without a value of
        an attribute is left out of that attribute's groups.
    key : AnswerKey, optional
        With a key, each group's agreement with it (exact and within one level).
    min_ratings : int
        Fewest ratings a reviewer x group cell needs to be tested; smaller cells are
        listed with ``tested=False`` and a ``reason``.
    alpha : float
        Level of the Holm-adjusted tests (``flagged``: ``p_adjusted < alpha``) and
        ``1 - alpha`` intervals.
    model : {'rating_scale', 'partial_credit'}
        Thresholds of the many-facet Rasch model.

    Returns
    -------
    FairnessResult
        ``groups``: ``attribute, group, submissions, n_ratings, n_decided, n_passed,
        pass_rate, pass_low, pass_high`` (Wilson), ``mean_<criterion>`` (mean score),
        ``fair_average`` (mean of the submissions' fair averages: the expected score with
        every reviewer at average severity), ``observed_difference`` and
        ``fair_difference`` (the group's mean observed / fair average minus that of the
        rest of the attribute's submissions; the fair one is adjusted for who scored
        it), ``fair_difference_se`` (Welch), ``fair_difference_low/high``, and with a key
        ``key_ratings, key_exact, key_adjacent``.

        ``reviewer_groups``: ``reviewer_id, attribute, group, n_ratings, tested, reason,
        observed_average, expected_average, estimate`` (bias in logits, positive =
        harsher on this group than the reviewer's overall severity), ``estimate_points``
        (``expected_average - observed_average`` in score points, same sign), ``se,
        low, high, z, p, p_adjusted`` (Holm over every tested cell of every attribute),
        ``flagged``, ``extreme`` (an all-lowest / all-highest cell, its raw score moved
        in by 0.3 points).

    Notes
    -----
    One many-facet Rasch model (submission ability, criterion difficulty, reviewer
    severity, thresholds; JML) is fitted on all ratings. Each reviewer x group cell then
    gets one extra parameter ``b`` (``eta - b`` on the cell's ratings) estimated with every
    other parameter anchored at its estimate, as in FACETS' bias analysis (Linacre
    1989); ``se = 1 / sqrt(sum Var)`` and ``z = b / se`` with a two-sided normal p.
    Because severity and ability absorb part of a cell's bias, the bias terms are
    contrasts with the reviewer's and the submissions' own measures.

    A submission's decision applies the pass rule to its reviewers' mean score per
    criterion. The fair difference's SE treats submissions as independent draws.

    References
    ----------
    Linacre, J. M. (1989). *Many-facet Rasch measurement*. MESA Press.
    Engelhard, G. (1996). Evaluating rater accuracy in performance assessments.
    *Journal of Educational Measurement*, 33(1), 56-70.
    Wilson, E. B. (1927). *JASA*, 22(158), 209-212.
    Holm, S. (1979). *Scandinavian Journal of Statistics*, 6(2), 65-70.

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.synth import SynthSpec, generate
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=120, n_reviewers=6, seed=2))
    >>> table = program.ratings_table().select(kind="live")
    >>> subs = sorted(table.frame["submission_id"].unique())
    >>> attrs = pd.DataFrame({"submission_id": subs, "district": ["north", "south"] * (len(subs) // 2)})
    >>> result = fairness(table, by="district", attributes=attrs)
    >>> result.groups["group"].tolist()
    ['north', 'south']
    >>> sorted(result.to_dict())
    ['groups', 'reviewer_groups']
    """
    if not isinstance(ratings, RatingsTable):
        raise TypeError(f"ratings must be a RatingsTable; got {type(ratings).__name__}")
    if rubric is None:
        rubric = ratings.rubric
    elif not isinstance(rubric, Rubric):
        raise TypeError(f"rubric must be a Rubric or None; got {type(rubric).__name__}")
    elif tuple(rubric.criterion_ids) != tuple(ratings.rubric.criterion_ids):
        raise ValueError(
            f"rubric must have the ratings' criteria {list(ratings.rubric.criterion_ids)}; "
            f"got {list(rubric.criterion_ids)}"
        )
    names = [by] if isinstance(by, str) else list(by)
    if not names or not all(isinstance(n, str) for n in names):
        raise TypeError(f"by must be an attribute name or a list of them; got {by!r}")
    if not isinstance(attributes, pd.DataFrame):
        raise TypeError(f"attributes must be a DataFrame; got {type(attributes).__name__}")
    missing = [n for n in ["submission_id", *names] if n not in attributes.columns]
    if missing:
        raise ValueError(
            f"attributes has no column(s) {missing}; it has {list(attributes.columns)}"
        )
    if attributes["submission_id"].astype(str).duplicated().any():
        raise ValueError("attributes must have one row per submission_id")
    if key is not None and not isinstance(key, AnswerKey):
        raise TypeError(f"key must be an AnswerKey or None; got {type(key).__name__}")
    min_ratings = check_int("min_ratings", min_ratings, 1)
    alpha = check_fraction("alpha", alpha)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    check_choice("model", model, ("rating_scale", "partial_credit"))
    if len(ratings) == 0:
        raise ValueError("ratings is empty")

    mfrm = ManyFacetRasch(model=model, extreme_adjustment=_EXTREME_ADJ).fit(ratings)
    coded = ratings.codes
    sub, rev, crit = coded.submission, coded.reviewer, coded.criterion
    level = coded.level.astype(np.int64)
    n_levels, score_of = _level_tables(ratings.rubric)
    eta = (
        mfrm.ability_.to_numpy()[sub]
        - np.nan_to_num(mfrm.difficulty_.to_numpy())[crit]
        - mfrm.severity_.to_numpy()[rev]
    )
    cumtau = cumulative_thresholds(mfrm.thresholds_.to_numpy())
    p0 = category_probs(eta, cumtau, crit)
    expected_score = (p0 * score_of[crit][:, : p0.shape[1]]).sum(axis=1)
    given = score_of[crit, level]
    top = (n_levels[crit] - 1).astype(float)
    n_sub, n_rev = len(coded.submission_ids), len(coded.reviewer_ids)
    crit_ids = list(ratings.rubric.criterion_ids)

    # per-submission pieces: mean score per criterion, decision, fair/observed averages
    n_crit = len(crit_ids)
    sc = sub * n_crit + crit
    cnt = np.bincount(sc, minlength=n_sub * n_crit).reshape(n_sub, n_crit)
    tot = np.bincount(sc, weights=given, minlength=n_sub * n_crit).reshape(n_sub, n_crit)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_sc = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    decided = rubric.decide(mean_sc)
    n_rat_s = np.bincount(sub, minlength=n_sub)
    fair_s = mfrm.submissions_["fair_average"].to_numpy()
    obs_s = np.bincount(sub, weights=given, minlength=n_sub) / np.maximum(n_rat_s, 1)
    z_crit = float(stats.norm.ppf(1 - alpha / 2))

    key_hit = key_adj = None
    if key is not None:
        kf = key.frame
        kmap = {
            (str(s), str(c)): int(v)
            for s, c, v in zip(
                kf["submission_id"], kf["criterion_id"], kf["key_score"], strict=True
            )
        }
        sid = np.asarray(coded.submission_ids, dtype=object)[sub]
        cid = np.asarray(crit_ids, dtype=object)[crit]
        kscore = np.array(
            [kmap.get((str(s), str(c)), np.nan) for s, c in zip(sid, cid, strict=True)], dtype=float
        )
        keyed = ~np.isnan(kscore)
        key_level = np.full(len(kscore), -99, dtype=np.int64)
        for c in range(n_crit):
            rows = keyed & (crit == c)
            scores_c = score_of[c, : n_levels[c]]
            key_level[rows] = np.searchsorted(scores_c, kscore[rows])
        key_hit = np.where(keyed, (key_level == level).astype(float), np.nan)
        key_adj = np.where(keyed, (np.abs(key_level - level) <= 1).astype(float), np.nan)

    group_rows: list[dict[str, Any]] = []
    cell_frames: list[pd.DataFrame] = []
    for name in names:
        gsub, labels = _attribute_codes(attributes, name, coded.submission_ids)
        present = n_rat_s > 0
        g_rating = gsub[sub]
        for g, label in enumerate(labels):
            ins = (gsub == g) & present
            rest = (gsub >= 0) & (gsub != g) & present
            ok = ins & ~np.isnan(decided)
            n_dec, n_pass = int(ok.sum()), int(np.nansum(decided[ok]))
            lo, hi = wilson_interval(np.array([n_pass]), np.array([n_dec]), alpha)
            f_in, f_rest = fair_s[ins], fair_s[rest]
            diff = f_in.mean() - f_rest.mean() if len(f_in) and len(f_rest) else np.nan
            se = (
                np.sqrt(f_in.var(ddof=1) / len(f_in) + f_rest.var(ddof=1) / len(f_rest))
                if len(f_in) > 1 and len(f_rest) > 1
                else np.nan
            )
            in_r = g_rating == g
            row: dict[str, Any] = {
                "attribute": name,
                "group": label,
                "submissions": int(ins.sum()),
                "n_ratings": int(in_r.sum()),
                "n_decided": n_dec,
                "n_passed": n_pass,
                "pass_rate": n_pass / n_dec if n_dec else np.nan,
                "pass_low": float(lo[0]),
                "pass_high": float(hi[0]),
            }
            for c, cid in enumerate(crit_ids):
                m = in_r & (crit == c)
                row[f"mean_{cid}"] = float(given[m].mean()) if m.any() else np.nan
            row["fair_average"] = float(f_in.mean()) if len(f_in) else np.nan
            row["observed_difference"] = (
                float(obs_s[ins].mean() - obs_s[rest].mean())
                if ins.any() and rest.any()
                else np.nan
            )
            row["fair_difference"] = float(diff)
            row["fair_difference_se"] = float(se)
            row["fair_difference_low"] = float(diff - z_crit * se)
            row["fair_difference_high"] = float(diff + z_crit * se)
            if key_hit is not None and key_adj is not None:
                km = in_r & ~np.isnan(key_hit)
                row["key_ratings"] = int(km.sum())
                row["key_exact"] = float(key_hit[km].mean()) if km.any() else np.nan
                row["key_adjacent"] = float(key_adj[km].mean()) if km.any() else np.nan
            group_rows.append(row)

        # reviewer x group cells
        n_g = len(labels)
        inrow = g_rating >= 0
        cell_all = rev[inrow] * n_g + g_rating[inrow]
        n_cell = np.bincount(cell_all, minlength=n_rev * n_g)
        used = np.flatnonzero(n_cell > 0)
        tested = n_cell[used] >= min_ratings
        est = np.full(len(used), np.nan)
        se_c = np.full(len(used), np.nan)
        extreme = np.zeros(len(used), dtype=bool)
        if tested.any():
            remap = np.full(n_rev * n_g, -1)
            remap[used[tested]] = np.arange(int(tested.sum()))
            cells = remap[cell_all]
            keep = cells >= 0
            rows_idx = np.flatnonzero(inrow)[keep]
            b, s, ex = anchored_bias(
                cells[keep],
                int(tested.sum()),
                level[rows_idx].astype(float),
                eta[rows_idx],
                cumtau,
                crit[rows_idx],
                top[rows_idx],
                _EXTREME_ADJ,
            )
            est[tested], se_c[tested], extreme[tested] = b, s, ex
        pos = np.searchsorted(used, cell_all)
        obs = np.bincount(pos, weights=given[inrow], minlength=len(used)) / n_cell[used]
        exp = np.bincount(pos, weights=expected_score[inrow], minlength=len(used)) / n_cell[used]
        cell_frames.append(
            pd.DataFrame(
                {
                    "reviewer_id": np.asarray(coded.reviewer_ids, dtype=object)[used // n_g],
                    "attribute": name,
                    "group": np.asarray(labels, dtype=object)[used % n_g],
                    "n_ratings": n_cell[used].astype(np.int64),
                    "tested": tested,
                    "reason": np.where(
                        tested, "", f"fewer than min_ratings={min_ratings} ratings"
                    ).astype(object),
                    "observed_average": obs,
                    "expected_average": exp,
                    "estimate": est,
                    "estimate_points": exp - obs,
                    "se": se_c,
                    "extreme": extreme,
                }
            )
        )

    groups = pd.DataFrame(group_rows)
    cellsf = pd.concat(cell_frames, ignore_index=True)
    cellsf["low"] = cellsf["estimate"] - z_crit * cellsf["se"]
    cellsf["high"] = cellsf["estimate"] + z_crit * cellsf["se"]
    cellsf["z"] = cellsf["estimate"] / cellsf["se"]
    cellsf["p"] = 2 * stats.norm.sf(np.abs(cellsf["z"].to_numpy()))
    cellsf["p_adjusted"] = holm(cellsf["p"].to_numpy())
    cellsf["flagged"] = (cellsf["p_adjusted"] < alpha).to_numpy() & cellsf["tested"].to_numpy()
    cellsf = cellsf[
        [
            "reviewer_id",
            "attribute",
            "group",
            "n_ratings",
            "tested",
            "reason",
            "observed_average",
            "expected_average",
            "estimate",
            "estimate_points",
            "se",
            "low",
            "high",
            "z",
            "p",
            "p_adjusted",
            "flagged",
            "extreme",
        ]
    ]
    return FairnessResult(groups, cellsf, tuple(names), alpha, min_ratings, mfrm)
