"""Simulating decisions under a policy: accuracy against the cost of reviews."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from calibrate.policy._policy import Policy
from calibrate.rubric import Rubric

__all__ = [
    "ConfusionReviewerModel",
    "PolicyOutcome",
    "Replications",
    "ReviewerScorer",
    "draw_replications",
    "evaluate",
    "simulate",
]


class ReviewerScorer(Protocol):
    """What the simulator needs of a reviewer model (e.g. :class:`calibrate.synth.ReviewerModel`)."""

    @property
    def n_reviewers(self) -> int: ...

    def score(
        self,
        true: np.ndarray,
        rev: np.ndarray,
        n_levels: Any,
        rng: np.random.Generator,
        t: Any = None,
    ) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class ConfusionReviewerModel:
    """Reviewers as confusion matrices (Dawid & Skene 1979): ``confusion[r, c, i, j]`` is
    the probability that reviewer ``r`` gives level index ``j`` on criterion ``c`` when the
    true level index is ``i``. A ``(R, K, K)`` array is shared by all criteria."""

    confusion: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.confusion, dtype=float)
        if m.ndim == 3:
            m = m[:, None]
        if m.ndim != 4 or m.shape[-1] != m.shape[-2]:
            raise ValueError(
                f"confusion must have shape (reviewers, [criteria,] levels, levels); got {np.shape(self.confusion)}"
            )
        if not np.allclose(m.sum(axis=-1), 1.0) or (m < 0).any():
            raise ValueError("each row of a confusion matrix must be probabilities summing to 1")
        object.__setattr__(self, "confusion", m)

    @property
    def n_reviewers(self) -> int:
        return self.confusion.shape[0]

    def score(
        self,
        true: np.ndarray,
        rev: np.ndarray,
        n_levels: Any,
        rng: np.random.Generator,
        t: Any = None,
    ) -> np.ndarray:
        m, n_crit = true.shape
        out = np.empty_like(true)
        for c in range(n_crit):
            cc = min(c, self.confusion.shape[1] - 1)
            cum = np.cumsum(self.confusion[rev, cc, true[:, c], :], axis=1)
            u = np.asarray(rng.random(m))
            out[:, c] = (u[:, None] > cum[:, :-1]).sum(axis=1)
        return out


@dataclass(frozen=True)
class PolicyOutcome:
    """What a policy does, estimated by simulation, with Monte Carlo standard errors.

    Rates are shares of all simulated submissions: ``false_pass_rate`` is a credential
    awarded without the evidence, ``false_not_yet_rate`` a teacher wrongly told "not
    yet"; accuracy = 1 - both. ``consistency`` is the agreement of two independent
    replications of the whole process on the same submissions.
    ``expert_reviews_per_submission`` is the part of ``reviews_per_submission`` done by the
    expert: adjudications (``resolution="expert"``) and read-behind.
    """

    accuracy: float
    false_pass_rate: float
    false_not_yet_rate: float
    consistency: float
    third_review_rate: float
    reviews_per_submission: float
    expert_reviews_per_submission: float
    minutes_per_submission: float
    load_max_over_mean: float
    mc_se: float
    n: int
    accuracy_by_true_total: dict[float, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("accuracy_by_true_total")
        return d


def _distinct(m: int, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """(n, k) reviewer indices, distinct within a row (k <= 3), uniform over sets."""
    if m < k:
        raise ValueError(
            f"the reviewer model has {m} reviewers; the policy needs {k} distinct reviewers per submission"
        )
    r1 = rng.integers(0, m, n)
    if k == 1:
        return r1[:, None]
    r2 = (r1 + rng.integers(1, m, n)) % m
    if k == 2:
        return np.column_stack([r1, r2])
    lo, hi = np.minimum(r1, r2), np.maximum(r1, r2)
    r3 = rng.integers(0, m - 2, n)
    r3 = r3 + (r3 >= lo)
    r3 = r3 + (r3 >= hi)
    return np.column_stack([r1, r2, r3])


def _weighted_distinct(shares: np.ndarray, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """(n, k) reviewer indices, distinct within a row, drawn one after another in
    proportion to ``shares`` among those not yet in the row (the synthetic generator's
    workload model): a clash is redrawn from the same shares until it is new."""
    m = len(shares)
    out = np.empty((n, k), dtype=np.int64)
    for j in range(k):
        col = rng.choice(m, size=n, p=shares)
        clash = (col[:, None] == out[:, :j]).any(axis=1)
        while clash.any():
            idx = np.flatnonzero(clash)
            col[idx] = rng.choice(m, size=len(idx), p=shares)
            clash[idx] = (col[idx, None] == out[idx, :j]).any(axis=1)
        out[:, j] = col
    return out


def _check_shares(shares: Any, n_reviewers: int, needed: int) -> np.ndarray:
    """Workload shares as probabilities summing to 1, one per reviewer of the model."""
    try:
        s = np.asarray(shares, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"shares must be one non-negative number per reviewer ({n_reviewers}); got {shares!r}"
        ) from None
    if s.shape != (n_reviewers,):
        raise ValueError(
            f"shares must have one value per reviewer of the model (shape ({n_reviewers},)); got shape {s.shape}"
        )
    if not np.isfinite(s).all() or (s < 0).any() or s.sum() <= 0:
        raise ValueError("shares must be finite and non-negative, with a positive sum")
    if np.count_nonzero(s) < needed:
        raise ValueError(
            f"shares must be positive for at least {needed} reviewers (distinct reviewers per submission); "
            f"got {np.count_nonzero(s)}"
        )
    return s / s.sum()


class _Levels:
    """Level index <-> score tables of a rubric."""

    def __init__(self, rubric: Rubric):
        self.n_levels = np.array([len(c.levels) for c in rubric.criteria])
        kmax = int(self.n_levels.max())
        self.score_of = np.array(
            [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in rubric.criteria],
            dtype=float,
        )
        self.index_of = [{s: i for i, s in enumerate(c.scores)} for c in rubric.criteria]

    def scores(self, idx: np.ndarray) -> np.ndarray:
        return self.score_of[np.arange(idx.shape[1]), idx]

    def indices(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores)
        out = np.empty(scores.shape, dtype=np.int64)
        for c, table in enumerate(self.index_of):
            col = scores[:, c]
            bad = ~np.isin(col, list(table))
            if bad.any():
                raise ValueError(
                    f"population scores must be levels of criterion {c}: {sorted(table)}; got {sorted(set(col[bad].tolist()))[:5]}"
                )
            out[:, c] = [table[v] for v in col]
        return out


@dataclass(frozen=True, eq=False)
class _Bank:
    """One replication's draws, shared by every policy evaluated on it (common random
    numbers): a team of up to three distinct reviewers per submission, their scores, the
    expert's scores and the read-behind draws."""

    team: np.ndarray
    scores: tuple[np.ndarray, ...]
    expert: np.ndarray
    u: np.ndarray
    _decided: dict[str, list[np.ndarray]] = field(default_factory=dict, repr=False)

    def decisions(self, rubric: Rubric) -> list[np.ndarray]:
        """Each reviewer's pass decisions under ``rubric``'s pass rule (cached: the
        policies of a sweep share few pass rules)."""
        key = rubric.pass_rule.model_dump_json()
        if key not in self._decided:
            self._decided[key] = [rubric.decide(s) == 1 for s in self.scores]
        return self._decided[key]


def _draw_bank(
    model: ReviewerScorer,
    levels: _Levels,
    true_idx: np.ndarray,
    rng: np.random.Generator,
    expert: ReviewerScorer | None,
    shares: np.ndarray | None = None,
) -> _Bank:
    n = len(true_idx)
    k = min(3, model.n_reviewers)
    team = (
        _distinct(model.n_reviewers, n, k, rng)
        if shares is None
        else _weighted_distinct(shares, n, min(k, int(np.count_nonzero(shares))), rng)
    )
    scores = tuple(
        levels.scores(model.score(true_idx, team[:, j], levels.n_levels, rng))
        for j in range(team.shape[1])
    )
    return _Bank(team, scores, _expert_scores(true_idx, levels, rng, expert), rng.random(n))


def _process(
    rubric: Rubric, policy: Policy, bank: _Bank, n_reviewers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A policy's decisions on one replication's reviews: final decisions, third-review
    (or adjudication) flags, reviews per submission (all, and the expert's among them)
    and reviews per reviewer."""
    k = policy.review.reviewers
    needed = k + int(_calls_further_review(rubric, policy) and k < 3)
    if needed > len(bank.scores):
        drawable = bank.team.shape[1] if bank.team.shape[1] < n_reviewers else n_reviewers
        raise ValueError(
            f"the reviewer model has {drawable} reviewers"
            + (" with a positive share" if drawable < n_reviewers else "")
            + f"; the policy needs {needed} distinct reviewers per submission"
        )
    n = len(bank.u)
    final, extra, _ = _decide(
        rubric, policy, bank.scores, bank.decisions(rubric), bank.expert, bank.u
    )
    # with two or three reviewers under expert resolution the further review is the
    # expert's adjudication (one reviewer's further review is always a reviewer's)
    adjudicated = extra if (k >= 2 and policy.review.resolution == "expert") else np.zeros(n, bool)
    expert_reviews = adjudicated.astype(float)
    if policy.review.read_behind > 0:
        expert_reviews = expert_reviews + (bank.u < policy.review.read_behind)
    reviews = np.full(n, float(k)) + extra + (expert_reviews - adjudicated)
    # an expert's adjudication is not a reviewer's load
    used = np.concatenate(
        [
            bank.team[:, :k].ravel(),
            bank.team[extra & ~adjudicated, min(k, bank.team.shape[1] - 1)],
        ]
    )
    load = np.bincount(used, minlength=n_reviewers)
    return final, extra, reviews, expert_reviews, load


def _calls_further_review(rubric: Rubric, policy: Policy) -> bool:
    """Whether the policy can call a review beyond its first ``reviewers`` ones."""
    k, trig = policy.review.reviewers, policy.review.third_review
    return (k == 2 and trig.any) or (
        k == 1 and trig.total_within is not None and rubric.pass_rule.min_total is not None
    )


def _decide(
    rubric: Rubric,
    policy: Policy,
    S: Sequence[np.ndarray],
    decided: Sequence[np.ndarray],
    expert: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The policy's decision logic, shared by the simulator and :func:`final_decisions`.

    ``S`` holds the reviews' scores in the order they are used (first ``reviewers`` ones,
    then the further review), ``decided`` each review's pass decision, ``expert`` the
    adjudicator's scores and ``u`` a uniform draw per submission (read-behind where
    ``u < read_behind``). Returns the final decisions, whether a further review (or the
    expert's adjudication) was called, and whether the decision is the expert's.
    """
    k = policy.review.reviewers
    trig, resolution = policy.review.third_review, policy.review.resolution
    can_call = _calls_further_review(rubric, policy)
    n = len(u)
    decisions = list(decided[:k])
    extra = np.zeros(n, dtype=bool)
    by_expert = np.zeros(n, dtype=bool)
    if k == 3:
        if resolution == "expert":  # the expert adjudicates only when the three disagree
            votes = np.sum(decisions, axis=0)
            final, extra = votes >= 2, votes % 3 != 0
            final[extra] = rubric.decide(expert[extra]) == 1
            by_expert = extra.copy()
        else:
            final = _resolve(rubric, S[:3], decisions, resolution, expert)
    elif k == 2:
        final = decisions[0].copy()
        disagree = decisions[0] != decisions[1]
        final[disagree] = (
            rubric.decide((S[0][disagree] + S[1][disagree]) / 2) == 1
        )  # no call: average breaks the tie
        if can_call:
            extra = rubric.third_review_fires(S[0], S[1])
            rows = np.flatnonzero(extra)
            if len(rows):
                trio = [S[0][rows], S[1][rows], S[2][rows]]
                final[rows] = _resolve(
                    rubric, trio, [d[rows] for d in decided[:3]], resolution, expert[rows]
                )
                by_expert[rows] = resolution == "expert"
    else:
        final = decisions[0].copy()
        if can_call:
            extra = np.abs(S[0].sum(axis=1) - rubric.pass_rule.min_total) <= trig.total_within
            final[extra] = rubric.decide((S[0][extra] + S[1][extra]) / 2) == 1
    if policy.review.read_behind > 0:
        rb = u < policy.review.read_behind
        final[rb] = rubric.decide(expert[rb]) == 1
        by_expert |= rb
    return final, extra, by_expert


def _expert_scores(
    true_idx: np.ndarray, levels: _Levels, rng: np.random.Generator, expert: ReviewerScorer | None
) -> np.ndarray:
    if expert is None:  # an expert adjudicator who sees the true levels
        return levels.scores(true_idx)
    n = len(true_idx)
    # several experts: each adjudication is one of them, drawn uniformly
    who = (
        np.zeros(n, dtype=np.int64)
        if expert.n_reviewers == 1
        else rng.integers(0, expert.n_reviewers, n)
    )
    return levels.scores(expert.score(true_idx, who, levels.n_levels, rng))


def _resolve(
    rubric: Rubric,
    S: Sequence[np.ndarray],
    decisions: Sequence[np.ndarray],
    resolution: str,
    expert: np.ndarray,
) -> np.ndarray:
    """Final decisions from three reviews (``expert``: the adjudicator's scores)."""
    if resolution == "majority":
        return np.sum(decisions, axis=0) >= 2
    if resolution == "average":
        return rubric.decide((S[0] + S[1] + S[2]) / 3) == 1
    if resolution == "replace_farthest":
        t0, t1, t2 = (s.sum(axis=1) for s in S)
        keep_first = np.abs(t0 - t2) <= np.abs(t1 - t2)
        closer = np.where(keep_first[:, None], S[0], S[1])
        return rubric.decide((closer + S[2]) / 2) == 1
    return rubric.decide(expert) == 1  # the expert's decision


def simulate(
    rubric: Rubric,
    policy: Policy,
    reviewers: ReviewerScorer,
    population: np.ndarray,
    *,
    n: int = 10_000,
    rng: np.random.Generator | int | None = None,
    expert: Any = None,
    shares: Sequence[float] | np.ndarray | None = None,
) -> PolicyOutcome:
    """Estimate a policy's decision accuracy and cost by simulating its review process.

    Parameters
    ----------
    rubric : the rubric (criteria and levels); the policy's pass rule replaces its own.
    policy : pass rule, reviewers per submission, third-review trigger, resolution,
        read-behind share, minutes per review.
    reviewers : a reviewer model with ``n_reviewers`` and ``score(true, rev, n_levels, rng)``
        (:class:`calibrate.synth.ReviewerModel`, :class:`ConfusionReviewerModel`).
    population : (N, n_criteria) true level scores to draw submissions from.
    n : submissions simulated (two independent replications each, for consistency).
    rng : seed or Generator; the same seed gives the same outcome.
    expert : the adjudicator for ``resolution="expert"`` and read-behind: a reviewer model
        (with several reviewers, each adjudication is one of them) or an
        :class:`ExpertModel`. None (the default here) is an expert who sees the true
        levels; :func:`sweep` and ``calibrate policy`` say which expert they assumed.
    shares : (n_reviewers,) workload shares, optional. None (the default): every set of
        distinct reviewers is equally likely. Given: a submission's reviewers are drawn
        one after another in proportion to their shares among those not yet drawn, as
        the synthetic generator assigns live work (``truth.json``'s ``workload_share``,
        or :class:`ProgramModel`'s ``shares_``). Busy reviewers then weigh more in the
        accuracy, as they do in the program.

    Returns
    -------
    PolicyOutcome

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.rubric import load_rubric
    >>> from calibrate.synth import ReviewerModel
    >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
    >>> population = np.array([[3, 3, 3], [2, 3, 4], [4, 4, 2]])
    >>> out = simulate(rubric, Policy.from_rubric(rubric), ReviewerModel.perfect(5), population, n=1000, rng=1)
    >>> out.accuracy, out.third_review_rate
    (1.0, 0.0)
    >>> busy = simulate(rubric, Policy.from_rubric(rubric), ReviewerModel.perfect(5), population,
    ...                 n=1000, rng=1, shares=[0.6, 0.1, 0.1, 0.1, 0.1])
    >>> busy.load_max_over_mean > 2
    True
    """
    policy.apply_to(rubric)  # a policy the rubric cannot take fails before any drawing
    draws = draw_replications(
        rubric, reviewers, population, n=n, rng=rng, expert=expert, shares=shares
    )
    return evaluate(rubric, policy, draws)


@dataclass(frozen=True, eq=False)
class Replications:
    """Simulated submissions and two independent replications of their reviews, drawn
    once and shared by every policy evaluated on them (:func:`evaluate`)."""

    true_idx: np.ndarray
    banks: tuple[_Bank, _Bank]
    n_reviewers: int


def draw_replications(
    rubric: Rubric,
    reviewers: ReviewerScorer,
    population: np.ndarray,
    *,
    n: int,
    rng: np.random.Generator | int | None = None,
    expert: Any = None,
    shares: Sequence[float] | np.ndarray | None = None,
) -> Replications:
    """Draw ``n`` submissions from ``population`` and two independent replications of up to
    three reviews each (and the expert's), for :func:`evaluate`. ``shares``: reviewers'
    workload shares (see :func:`simulate`); None draws them uniformly."""
    if not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be a whole number of submissions, at least 2; got {n!r}")
    share_p = (
        None
        if shares is None
        else _check_shares(shares, reviewers.n_reviewers, min(2, reviewers.n_reviewers))
    )
    rng = np.random.default_rng(rng)
    expert = getattr(expert, "scorer", expert)  # an ExpertModel's scorer
    levels = _Levels(rubric)
    pop = np.asarray(population)
    if pop.ndim != 2 or pop.shape[1] != len(rubric.criteria):
        raise ValueError(
            f"population must have shape (N, {len(rubric.criteria)}) (true level scores per criterion); got {pop.shape}"
        )
    pop_idx = levels.indices(pop)
    true_idx = pop_idx[rng.integers(0, len(pop_idx), n)]
    banks = (
        _draw_bank(reviewers, levels, true_idx, rng, expert, share_p),
        _draw_bank(reviewers, levels, true_idx, rng, expert, share_p),
    )
    return Replications(true_idx, banks, reviewers.n_reviewers)


def evaluate(rubric: Rubric, policy: Policy, draws: Replications) -> PolicyOutcome:
    """A policy's outcome on already drawn replications (cheap: no new reviews)."""
    applied = policy.apply_to(rubric)
    levels = _Levels(applied)
    true_scores = levels.scores(draws.true_idx)
    truth = applied.decide(true_scores) == 1
    final, extra, reviews, expert_reviews, load = _process(
        applied, policy, draws.banks[0], draws.n_reviewers
    )
    again, _, _, _, _ = _process(applied, policy, draws.banks[1], draws.n_reviewers)
    n = len(truth)
    acc = float(np.mean(final == truth))
    totals = true_scores.sum(axis=1)
    by_total = pd.Series(final == truth).groupby(totals).mean()
    mean_load = load.mean()
    return PolicyOutcome(
        accuracy=acc,
        false_pass_rate=float(np.mean(final & ~truth)),
        false_not_yet_rate=float(np.mean(~final & truth)),
        consistency=float(np.mean(final == again)),
        third_review_rate=float(np.mean(extra)),
        reviews_per_submission=float(reviews.mean()),
        expert_reviews_per_submission=float(expert_reviews.mean()),
        minutes_per_submission=float(reviews.mean() * policy.minutes_per_review),
        load_max_over_mean=float(load.max() / mean_load) if mean_load else math.nan,
        mc_se=math.sqrt(acc * (1 - acc) / n),
        n=int(n),
        accuracy_by_true_total={float(k): float(v) for k, v in by_total.items()},
    )
