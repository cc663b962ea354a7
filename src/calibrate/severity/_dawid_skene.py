"""Dawid-Skene: each reviewer as a confusion matrix over the rubric's levels (or over pass /
not yet), fitted by EM on long integer arrays, with anchor keys as known truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_int, check_positive
from calibrate.ratings import AnswerKey, RatingsTable, compact, level_codes
from calibrate.severity._common import (
    check_choice,
    check_table,
    level_tables,
    true_level_positions,
)

__all__ = ["DawidSkene", "DawidSkeneResult", "dawid_skene"]

# crowd-kit floors error counts at 1e-10 before normalising; the same floor keeps log(0)
# out of the E-step and lets the two implementations reach the same optimum.
_FLOOR = 1e-10


@dataclass(frozen=True)
class DawidSkeneResult:
    """EM estimates for one set of units, workers and classes (array form).

    Attributes
    ----------
    posteriors : ndarray, shape (n_units, n_classes)
        P(true class | the unit's labels).
    priors : ndarray, shape (n_classes,)
        Class proportions.
    confusion : ndarray, shape (n_workers, n_classes, n_classes)
        ``confusion[w, t, l]`` = P(worker ``w`` gives ``l`` | true class ``t``).
    log_likelihood : float
        Marginal log-likelihood of the labels at ``priors`` and ``confusion``.
    n_iter : int
        EM iterations run after the majority-vote start.
    converged : bool
        Whether the log-likelihood per label changed by less than ``tol``.
    """

    posteriors: np.ndarray
    priors: np.ndarray
    confusion: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def _m_step(
    post: np.ndarray, unit: np.ndarray, wl: np.ndarray, n_workers: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    priors = post.mean(axis=0)
    conf = np.empty((n_workers, k, k))
    for t in range(k):  # one weighted bincount per true class over (worker, label) cells
        conf[:, t, :] = np.bincount(wl, weights=post[unit, t], minlength=n_workers * k).reshape(
            n_workers, k
        )
    np.maximum(conf, _FLOOR, out=conf)
    conf /= conf.sum(axis=2, keepdims=True)
    return priors, conf


def _joint(
    priors: np.ndarray,
    conf: np.ndarray,
    unit: np.ndarray,
    worker: np.ndarray,
    label: np.ndarray,
    n_units: int,
) -> np.ndarray:
    """log P(true class t, the unit's labels): shape (n_units, n_classes)."""
    k = len(priors)
    logc = np.log(conf).reshape(-1)
    base = worker * (k * k) + label
    out = np.empty((n_units, k))
    for t in range(k):
        out[:, t] = np.bincount(unit, weights=logc[base + t * k], minlength=n_units)
    out += np.log(np.maximum(priors, _FLOOR))
    return out


def _e_step(joint: np.ndarray, clamp: np.ndarray | None) -> tuple[np.ndarray, float]:
    mx = joint.max(axis=1, keepdims=True)
    p = np.exp(joint - mx)
    s = p.sum(axis=1, keepdims=True)
    ll_units = np.log(s[:, 0]) + mx[:, 0]
    post = p / s
    if clamp is not None:
        known = clamp >= 0
        if known.any():
            post[known] = 0.0
            post[known, clamp[known]] = 1.0
            ll_units[known] = joint[known, clamp[known]]
    return post, float(ll_units.sum())


def dawid_skene(
    units: Sequence[int] | np.ndarray,
    workers: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    *,
    n_classes: int | None = None,
    known: Sequence[int] | np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> DawidSkeneResult:
    """Fit the Dawid-Skene model by EM on long integer arrays.

    Parameters
    ----------
    units, workers, labels : array of int, shape (n_labels,)
        One row per label: unit (submission) code ``0..U-1``, worker (reviewer) code
        ``0..W-1`` and label (level index) ``0..K-1``. A worker may label a unit more than
        once; each label counts as an independent observation.
    n_classes : int, optional
        ``K`` (default: the largest label + 1).
    known : array of int, shape (n_units,), optional
        A unit's known true class (an anchor's key), or -1 where unknown. Known units'
        posteriors are clamped to their class in every E-step.
    max_iter : int
        EM iterations after the start (0: majority-vote posteriors and one M-step).
    tol : float
        Stop when the log-likelihood per label grows by less than this.

    Returns
    -------
    DawidSkeneResult

    Notes
    -----
    The start is crowd-kit's: posteriors are the units' label proportions (majority vote,
    ties shared), then an M-step. Each iteration is an E-step
    ``P(t | labels_u) ∝ π_t Π_i θ[w_i, t, l_i]`` and an M-step ``π_t = mean_u P(t | u)``,
    ``θ[w, t, l] ∝ Σ_{i: w_i=w, l_i=l} P(t | u_i)``, with the counts floored at 1e-10
    before normalising (as crowd-kit does). Sums run as ``np.bincount`` over the long
    arrays: no units x workers matrix is formed. The log-likelihood is
    ``Σ_u log Σ_t π_t Π_i θ[w_i, t, l_i]`` (for known units, the term of their class).
    Reproduces crowd-kit's step-by-step test values (priors, errors, posteriors at
    iterations 0 and 1) to 0.005 and crowd-kit 1.4.2's converged estimates.

    References
    ----------
    Dawid, A. P., & Skene, A. M. (1979). Maximum likelihood estimation of observer
    error-rates using the EM algorithm. *Applied Statistics*, 28(1), 20-28.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.severity import dawid_skene
    >>> units = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    >>> workers = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    >>> labels = np.array([1, 1, 0, 0, 0, 0, 1, 1, 1])
    >>> res = dawid_skene(units, workers, labels)
    >>> res.posteriors.argmax(axis=1)
    array([1, 0, 1])
    >>> res.confusion.shape
    (3, 2, 2)
    """
    unit = np.asarray(units, dtype=np.int64)
    worker = np.asarray(workers, dtype=np.int64)
    label = np.asarray(labels, dtype=np.int64)
    if not (unit.shape == worker.shape == label.shape) or unit.ndim != 1:
        raise ValueError(
            f"units, workers and labels must be 1-d arrays of one length; got shapes {unit.shape}, {worker.shape}, {label.shape}"
        )
    if len(unit) == 0:
        raise ValueError("dawid_skene needs at least one label; got none")
    if min(unit.min(), worker.min(), label.min()) < 0:
        raise ValueError("units, workers and labels must be non-negative integer codes")
    max_iter = check_int("max_iter", max_iter, 0)
    tol = check_positive("tol", tol, allow_zero=True)
    k = int(label.max()) + 1 if n_classes is None else check_int("n_classes", n_classes, 1)
    if label.max() >= k:
        raise ValueError(f"labels must be below n_classes={k}; got a label {int(label.max())}")
    n_units, n_workers = int(unit.max()) + 1, int(worker.max()) + 1
    clamp = None
    if known is not None:
        clamp = np.asarray(known, dtype=np.int64)
        if clamp.shape != (n_units,):
            raise ValueError(
                f"known must have one entry per unit (shape ({n_units},)); got shape {clamp.shape}"
            )
        if clamp.max(initial=-1) >= k:
            raise ValueError(f"known classes must be below n_classes={k} (or -1 for unknown)")
    wl = worker * k + label
    counts = np.bincount(unit * k + label, minlength=n_units * k).reshape(n_units, k).astype(float)
    post = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    if clamp is not None and (clamp >= 0).any():
        m = clamp >= 0
        post[m] = 0.0
        post[m, clamp[m]] = 1.0
    priors, conf = _m_step(post, unit, wl, n_workers, k)
    ll_prev, n_iter, converged = -np.inf, 0, False
    for _ in range(max_iter):
        post, ll = _e_step(_joint(priors, conf, unit, worker, label, n_units), clamp)
        priors, conf = _m_step(post, unit, wl, n_workers, k)
        n_iter += 1
        if (ll - ll_prev) / len(unit) < tol:
            converged = True
            break
        ll_prev = ll
    _, ll = _e_step(_joint(priors, conf, unit, worker, label, n_units), clamp)
    return DawidSkeneResult(post, priors, conf, ll, n_iter, converged)


def log_likelihood(
    priors: np.ndarray,
    confusion: np.ndarray,
    units: np.ndarray,
    workers: np.ndarray,
    labels: np.ndarray,
) -> float:
    """Marginal log-likelihood of labels under given priors and confusion matrices."""
    unit = np.asarray(units, dtype=np.int64)
    _, ll = _e_step(
        _joint(
            np.asarray(priors, float),
            np.asarray(confusion, float),
            unit,
            np.asarray(workers, np.int64),
            np.asarray(labels, np.int64),
            int(unit.max()) + 1,
        ),
        None,
    )
    return ll


class DawidSkene:
    """Per-reviewer confusion matrices over a rubric's levels or over the pass decision.

    Parameters
    ----------
    over : {'levels', 'decision'}
        ``'levels'``: one model per criterion, classes = the criterion's levels.
        ``'decision'``: one model of the pass decision (classes not yet / pass), each
        reviewer's decision from :meth:`RatingsTable.decisions` (complete scorings only).
    max_iter : int
        EM iterations per model.
    tol : float
        Convergence threshold on the change of the log-likelihood per rating.

    Attributes
    ----------
    reviewer_ids_ : tuple of str
        Reviewers, in the order of the first axis of :attr:`confusion_array_`.
    criterion_ids_ : tuple of str
        The criteria modelled (``('decision',)`` when ``over='decision'``).
    classes_ : dict
        Class scores per criterion (level scores; 0 / 1 for the decision).
    confusion_ : DataFrame
        Long: ``criterion_id, reviewer_id, true_score, given_score, probability``.
    confusion_array_ : ndarray, shape (n_reviewers, n_criteria, K, K)
        The same, padded to the largest number of levels (the layout of
        :class:`calibrate.policy.ConfusionReviewerModel`).
    priors_ : DataFrame
        ``criterion_id, true_score, probability``.
    posteriors_ : DataFrame
        ``submission_id, criterion_id`` and one column per class position
        (``p0``, ``p1``, ...): P(true level | all ratings).
    labels_ : DataFrame
        Submissions x criteria: the most probable true score.
    reviewers_ : DataFrame
        Per reviewer and criterion: ``n``, ``accuracy`` (P(given = true), weighted by the
        priors) and ``mean_shift`` (expected given - true score; negative = harsher).
    log_likelihood_ : float
        Summed over the criteria's models.
    n_iter_ : int
        Most EM iterations any criterion's model took.
    converged_ : bool
        Whether every criterion's model converged.

    Notes
    -----
    Anchor submissions in ``key`` are treated as known truth: their posteriors are
    clamped to the key's level (for the decision, to the rubric's decision on the key's
    scores). See :func:`dawid_skene` for the EM.

    References
    ----------
    Dawid, A. P., & Skene, A. M. (1979). Maximum likelihood estimation of observer
    error-rates using the EM algorithm. *Applied Statistics*, 28(1), 20-28.

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> from calibrate.severity import DawidSkene
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=200, n_reviewers=8, seed=3))
    >>> ds = DawidSkene().fit(program.ratings_table(), key=program.answer_key())
    >>> ds.confusion_array_.shape
    (8, 3, 4, 4)
    >>> bool(ds.converged_)
    True
    """

    def __init__(
        self,
        *,
        over: Literal["levels", "decision"] = "levels",
        max_iter: int = 100,
        tol: float = 1e-7,
    ) -> None:
        self.over = over
        self.max_iter = max_iter
        self.tol = tol

    def _check(self) -> None:
        check_choice("over", self.over, ("levels", "decision"))
        check_int("max_iter", self.max_iter, 0)
        check_positive("tol", self.tol, allow_zero=True)

    def fit(self, ratings: RatingsTable, key: AnswerKey | None = None) -> DawidSkene:
        """Fit on a ratings table; anchors in ``key`` are known truth. Returns ``self``."""
        self._check()
        table = check_table(ratings)
        if key is not None and not isinstance(key, AnswerKey):
            raise TypeError(
                f"key must be a calibrate.ratings.AnswerKey or None; got {type(key).__name__}"
            )
        if self.over == "levels":
            self._fit_levels(table, key)
        else:
            self._fit_decision(table, key)
        return self

    # ---- fitting -----------------------------------------------------------------
    def _fit_levels(self, table: RatingsTable, key: AnswerKey | None) -> None:
        coded = table.codes
        rubric = table.rubric
        n_levels, score_of = level_tables(rubric)
        kmax = int(n_levels.max())
        n_rev, n_sub = len(coded.reviewer_ids), len(coded.submission_ids)
        known_all = np.full((len(rubric.criteria), n_sub), -1, dtype=np.int64)
        if key is not None and len(key):
            kf = key.frame
            s_pos = coded.submission_ids.get_indexer(kf["submission_id"].astype(str))
            c_pos = pd.Index(coded.criterion_ids).get_indexer(kf["criterion_id"].astype(str))
            ok = (s_pos >= 0) & (c_pos >= 0)
            lv = level_codes(rubric, c_pos[ok], kf["key_score"].to_numpy(dtype=np.int64)[ok])
            known_all[c_pos[ok], s_pos[ok]] = lv
        conf = np.zeros((n_rev, len(rubric.criteria), kmax, kmax))
        results: list[tuple[int, np.ndarray, DawidSkeneResult]] = []
        for c in range(len(rubric.criteria)):
            m = coded.criterion == c
            k = int(n_levels[c])
            if not m.any():
                conf[:, c, :k, :k] = np.eye(
                    k
                )  # no data: nothing learned; identity keeps it a valid model
                continue
            used, unit = np.unique(coded.submission[m], return_inverse=True)
            res = dawid_skene(
                unit,
                coded.reviewer[m],
                coded.level[m],
                n_classes=k,
                known=known_all[c, used],
                max_iter=self.max_iter,
                tol=self.tol,
            )
            c_pad = np.zeros((n_rev, k, k))
            c_pad[: res.confusion.shape[0]] = res.confusion
            c_pad[res.confusion.shape[0] :] = np.eye(k)
            # reviewers without a rating on this criterion keep the floored-uniform rows
            rated = np.bincount(coded.reviewer[m], minlength=n_rev) > 0
            c_pad[~rated] = 1.0 / k
            conf[:, c, :k, :k] = c_pad
            results.append((c, used, res))
        self._store(
            rubric.criterion_ids,
            [tuple(int(s) for s in score_of[c, : n_levels[c]]) for c in range(len(n_levels))],
            conf,
            results,
            coded.submission_ids,
            coded.reviewer_ids,
            coded.reviewer,
            coded.criterion,
        )

    def _fit_decision(self, table: RatingsTable, key: AnswerKey | None) -> None:
        sub, rev, label, sub_ids, rev_ids = _review_decisions(table)
        if len(label) == 0:
            raise ValueError(
                "no complete scoring in ratings: a pass decision needs every criterion scored"
            )
        known = np.full(len(sub_ids), -1, dtype=np.int64)
        if key is not None and len(key):
            kw = key.wide().dropna()
            if len(kw):
                dec = table.rubric.decide(kw)
                pos = pd.Index(sub_ids).get_indexer(kw.index.astype(str))
                known[pos[pos >= 0]] = dec[pos >= 0].astype(np.int64)
        res = dawid_skene(
            sub, rev, label, n_classes=2, known=known, max_iter=self.max_iter, tol=self.tol
        )
        conf = res.confusion[:, None]
        self._store(
            ("decision",),
            [(0, 1)],
            conf,
            [(0, np.arange(len(sub_ids)), res)],
            sub_ids,
            rev_ids,
            rev,
            np.zeros(len(rev), dtype=np.int64),
        )

    def _store(
        self,
        criterion_ids: Sequence[str],
        classes: list[tuple[int, ...]],
        conf: np.ndarray,
        results: list[tuple[int, np.ndarray, DawidSkeneResult]],
        sub_ids: pd.Index,
        rev_ids: pd.Index,
        rev: np.ndarray,
        crit: np.ndarray,
    ) -> None:
        self.reviewer_ids_ = tuple(str(r) for r in rev_ids)
        self.criterion_ids_ = tuple(criterion_ids)
        self.classes_ = {c: classes[i] for i, c in enumerate(criterion_ids)}
        self.confusion_array_ = conf
        rows, prior_rows, post_frames, rev_rows = [], [], [], []
        labels = pd.DataFrame(
            index=pd.Index(sub_ids, name="submission_id"), columns=list(criterion_ids), dtype=float
        )
        counts = np.bincount(
            crit * len(rev_ids) + rev, minlength=len(criterion_ids) * len(rev_ids)
        ).reshape(len(criterion_ids), -1)
        for c, used, res in results:
            cid, sc = criterion_ids[c], np.asarray(classes[c])
            k = len(sc)
            for t in range(k):
                prior_rows.append((cid, int(sc[t]), float(res.priors[t])))
            block = conf[:, c, :k, :k]
            r_idx, t_idx, l_idx = np.meshgrid(
                np.arange(len(rev_ids)), np.arange(k), np.arange(k), indexing="ij"
            )
            rows.append(
                pd.DataFrame(
                    {
                        "criterion_id": cid,
                        "reviewer_id": np.asarray(self.reviewer_ids_, dtype=object)[r_idx.ravel()],
                        "true_score": sc[t_idx.ravel()],
                        "given_score": sc[l_idx.ravel()],
                        "probability": block.ravel(),
                    }
                )
            )
            acc = (np.diagonal(block, axis1=1, axis2=2) * res.priors).sum(axis=1)
            shift = ((block * sc[None, None, :]).sum(axis=2) - sc[None, :]) @ res.priors
            rev_rows.append(
                pd.DataFrame(
                    {
                        "reviewer_id": list(self.reviewer_ids_),
                        "criterion_id": cid,
                        "n": counts[c],
                        "accuracy": acc,
                        "mean_shift": shift,
                    }
                )
            )
            post = pd.DataFrame(res.posteriors, columns=[f"p{j}" for j in range(k)])
            post.insert(0, "criterion_id", cid)
            post.insert(0, "submission_id", np.asarray(sub_ids, dtype=object)[used])
            post_frames.append(post)
            labels.loc[np.asarray(sub_ids, dtype=object)[used], cid] = sc[
                res.posteriors.argmax(axis=1)
            ]
        self.confusion_ = (
            pd.concat(rows, ignore_index=True)
            if rows
            else pd.DataFrame(
                columns=["criterion_id", "reviewer_id", "true_score", "given_score", "probability"]
            )
        )
        self.priors_ = pd.DataFrame(
            prior_rows, columns=["criterion_id", "true_score", "probability"]
        )
        self.posteriors_ = pd.concat(post_frames, ignore_index=True)
        self.labels_ = labels
        self.reviewers_ = (
            pd.concat(rev_rows, ignore_index=True).query("n > 0").reset_index(drop=True)
        )
        self.log_likelihood_ = float(sum(r.log_likelihood for _, _, r in results))
        self.n_iter_ = int(max(r.n_iter for _, _, r in results))
        self.converged_ = bool(all(r.converged for _, _, r in results))

    # ---- use as a generative model -------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "confusion_array_"):
            raise RuntimeError("this DawidSkene is not fitted yet; call fit(ratings) first")

    def confusion_matrix(self, reviewer_id: str, criterion_id: str | None = None) -> pd.DataFrame:
        """One reviewer's confusion matrix: rows true score, columns given score."""
        self._fitted()
        cid = criterion_id if criterion_id is not None else self.criterion_ids_[0]
        if cid not in self.criterion_ids_:
            raise ValueError(
                f"criterion_id must be one of {list(self.criterion_ids_)}; got {cid!r}"
            )
        if reviewer_id not in self.reviewer_ids_:
            raise ValueError(f"reviewer_id {reviewer_id!r} was not in the fitted ratings")
        sc = list(self.classes_[cid])
        k = len(sc)
        m = self.confusion_array_[
            self.reviewer_ids_.index(reviewer_id), self.criterion_ids_.index(cid), :k, :k
        ]
        return pd.DataFrame(
            m, index=pd.Index(sc, name="true_score"), columns=pd.Index(sc, name="given_score")
        )

    @property
    def n_reviewers(self) -> int:
        self._fitted()
        return len(self.reviewer_ids_)

    def score(
        self,
        true: np.ndarray,
        rev: np.ndarray,
        n_levels: Any = None,
        rng: np.random.Generator | None = None,
        t: Any = None,
    ) -> np.ndarray:
        """Level indices given by reviewers at positions ``rev`` to true level indices
        ``true`` (shape (m, n_criteria)): the policy simulator's reviewer protocol."""
        from calibrate.policy import ConfusionReviewerModel

        self._fitted()
        return ConfusionReviewerModel(self.confusion_array_).score(
            np.asarray(true), np.asarray(rev), n_levels, np.random.default_rng(rng)
        )

    def sample_scores(
        self,
        true_levels: np.ndarray,
        reviewer_ids: Sequence[str],
        rng: int | np.random.Generator | None = None,
    ) -> np.ndarray:
        """Draw the scores each reviewer gives to submissions at the given true levels.

        Parameters
        ----------
        true_levels : array of int, shape (m, n_criteria)
            True level *scores* (rubric scores; 0 / 1 for ``over='decision'``).
        reviewer_ids : sequence of str, length m
            Who scores each row.
        rng : int, Generator or None

        Returns
        -------
        ndarray of int64, shape (m, n_criteria): the scores given.
        """
        self._fitted()
        idx = true_level_positions(
            true_levels, [self.classes_[cid] for cid in self.criterion_ids_], self.criterion_ids_
        )
        rev = _reviewer_positions(self.reviewer_ids_, reviewer_ids, len(idx))
        got = self.score(idx, rev, None, np.random.default_rng(rng))
        return np.column_stack(
            [np.asarray(self.classes_[cid])[got[:, c]] for c, cid in enumerate(self.criterion_ids_)]
        )


def _review_decisions(
    table: RatingsTable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index, pd.Index]:
    """Each complete review's pass decision under the rubric's rule (the rows of
    ``table.decisions()`` with a decision, in its order: round, submission, reviewer, no
    round last), with the codes of its submission and reviewer among those with one."""
    coded = table.codes
    n_crit = coded.n_criteria
    round_of, sub_of, rev_of = coded.review_parts()
    # the first score of each (review, criterion) cell, as decisions()' pivot takes it
    cells, first = np.unique(coded.review * n_crit + coded.criterion, return_index=True)
    scores = np.full((coded.n_reviews, n_crit), np.nan)
    scores[cells // n_crit, cells % n_crit] = coded.score[first]
    passed = table.rubric.decide(scores)
    done = ~np.isnan(passed)
    # decisions() sorts a categorical round_id's no-round rows last (its "" category is
    # added at the end), an object column's first
    if isinstance(table.frame["round_id"].dtype, pd.CategoricalDtype):
        round_key = np.where(round_of < 0, coded.n_rounds, round_of)
    else:
        round_key = round_of
    order = np.lexsort((rev_of, sub_of, round_key))
    order = order[done[order]]
    sub, used_sub = compact(sub_of[order], coded.n_submissions)
    rev, used_rev = compact(rev_of[order], coded.n_reviewers)
    return (
        sub,
        rev,
        passed[order].astype(np.int64),
        coded.submission_ids[used_sub],
        coded.reviewer_ids[used_rev],
    )


def _reviewer_positions(known: tuple[str, ...], reviewer_ids: Sequence[str], m: int) -> np.ndarray:
    ids = np.asarray(reviewer_ids, dtype=object)
    if ids.shape != (m,):
        raise ValueError(
            f"reviewer_ids must have one id per row of true_levels ({m}); got {ids.shape[0] if ids.ndim else 0}"
        )
    pos = pd.Index(known).get_indexer(ids)
    if (pos < 0).any():
        raise ValueError(
            f"reviewer_ids holds reviewers the model was not fitted on: {sorted(set(ids[pos < 0].tolist()))[:5]}"
        )
    return pos
