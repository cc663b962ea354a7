"""The decisions a program's review policy reached on its live reviews, as they happened."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.policy._policy import Policy
from calibrate.policy._simulate import _calls_further_review, _decide
from calibrate.ratings import KINDS, RatingsTable, compact
from calibrate.rubric import Rubric

__all__ = ["STATUSES", "final_decisions"]

_LIVE = KINDS.index("live")
_LATEST = np.iinfo(np.int64).max  # the first rated_at of a review with none

#: What ``final_decisions``' ``status`` column can say, in the order the checks run.
STATUSES: dict[str, str] = {
    "decided": "the policy decided on the reviews in the ratings",
    "too few reviews": "fewer reviews than the policy's first reviewers",
    "incomplete review": "a review the policy uses lacks a criterion score",
    "further review missing": "the trigger fired but the called review is not in the ratings",
    "needs expert": "the decision rests on an adjudicator (expert resolution or the expert "
    "adjudicating three reviews), whose scores the ratings do not hold",
}


def final_decisions(
    ratings: RatingsTable, rubric: Rubric | None = None, *, policy: Policy | None = None
) -> pd.DataFrame:
    """The final decision on each live submission under the review policy, from the
    reviews as they happened.

    The reviews of a submission are taken in the order they were scored (``rated_at``,
    then their order in the table): the first ``reviewers`` of the policy, then the
    further review when the policy's trigger fires on them. They are combined exactly as
    the policy simulator combines simulated reviews (:func:`simulate` and this function
    share one implementation), so a program's realised decisions and a simulation of
    the same policy are comparable.

    Parameters
    ----------
    ratings : RatingsTable
        The program's ratings. Live reviews are the rows of kind ``"live"`` (rows with
        no kind and no calibration round count as live); anchors are left out.
    rubric : Rubric, optional
        Whose pass rule and review policy decide (default: ``ratings.rubric``). Its
        criteria must be those of ``ratings.rubric``.
    policy : Policy, optional
        Another pass rule and review policy to apply to the same reviews (default: the
        rubric's own). Where it calls for reviews the program did not hold, the
        submission is undecided ("further review missing").

    Returns
    -------
    DataFrame
        One row per live submission, sorted by id:

        - ``submission_id``
        - ``decision``: ``"pass"``, ``"not yet"`` or ``"undecided"``;
        - ``passed``: boolean, ``<NA>`` when undecided;
        - ``status``: why undecided, one of :data:`STATUSES` (``"decided"`` otherwise);
        - ``n_reviews``: reviews in the ratings; ``third_review``: whether it has a third;
        - ``trigger_fired``: whether the policy's trigger fired on the first reviews (a
          third review for two reviewers, a second for one, the adjudicator for three
          who disagree);
        - ``reviews_used``: reviews the decision rests on;
        - ``reviewers``: reviewer ids in review order, comma-separated.

    Raises
    ------
    TypeError
        When ``ratings`` is not a RatingsTable, ``rubric`` not a Rubric or ``policy``
        not a Policy.
    ValueError
        When the rubric's criteria differ from the ratings' or there are no live reviews.

    Notes
    -----
    Real ratings do not hold an adjudicator's scores. Where the decision rests on one
    (``resolution="expert"``, or three reviewers who disagree under it) the submission is
    undecided with status ``"needs expert"``: nothing is guessed. Read-behind is not
    applied either (which submissions a lead read behind, and what the lead decided, are
    not in the ratings): ``decision`` is the reviewers' decision.

    Extra reviews the policy did not call (a third review where the trigger did not
    fire, a fourth) are counted in ``n_reviews`` but do not change the decision.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> program = read_program("data/synthetic/pilot")
    >>> d = final_decisions(program.ratings)
    >>> d.columns.tolist()
    ['submission_id', 'decision', 'passed', 'status', 'n_reviews', 'third_review', 'trigger_fired', 'reviews_used', 'reviewers']
    >>> len(d), bool(d["status"].eq("decided").all())
    (60, True)
    >>> bool((d["third_review"] == d["trigger_fired"]).all())  # the generator obeys the trigger
    True
    >>> d.loc[d["third_review"], ["decision", "n_reviews", "reviewers"]].head(2)
      decision  n_reviews         reviewers
    0  not yet          3  R008, R003, R002
    6  not yet          3  R003, R005, R008
    """
    if not isinstance(ratings, RatingsTable):
        raise TypeError(
            f"ratings must be a calibrate.ratings.RatingsTable; got {type(ratings).__name__}"
        )
    if rubric is None:
        rubric = ratings.rubric
    elif not isinstance(rubric, Rubric):
        raise TypeError(
            f"rubric must be a calibrate.rubric.Rubric or None; got {type(rubric).__name__}"
        )
    if tuple(rubric.criterion_ids) != tuple(ratings.rubric.criterion_ids):
        raise ValueError(
            f"rubric must have the ratings' criteria {list(ratings.rubric.criterion_ids)}; "
            f"got {list(rubric.criterion_ids)}"
        )
    if policy is None:
        policy = Policy.from_rubric(rubric)
    elif not isinstance(policy, Policy):
        raise TypeError(
            f"policy must be a calibrate.policy.Policy or None; got {type(policy).__name__}"
        )
    applied = policy.apply_to(rubric)

    reviews = _live_reviews(ratings)
    if reviews is None:
        raise ValueError(
            "ratings hold no live reviews (rows of kind 'live'): final decisions are made on live submissions"
        )
    sub_codes, sub_ids, reviewer_names, scores = reviews
    slot = _slots(sub_codes)
    n_sub, n_crit = len(sub_ids), len(rubric.criteria)
    n_reviews = np.bincount(sub_codes, minlength=n_sub)
    S = []
    for j in range(3):
        s = np.full((n_sub, n_crit), np.nan)
        rows = slot == j
        s[sub_codes[rows]] = scores[rows]
        S.append(s)
    decided = [applied.decide(s) == 1 for s in S]
    final, extra, by_expert = _decide(
        applied, policy, S, decided, np.full((n_sub, n_crit), np.nan), np.ones(n_sub)
    )

    k = policy.review.reviewers
    complete = [~np.isnan(s).any(axis=1) for s in S]
    status = np.full(n_sub, "decided", dtype=object)
    further = extra & (k < 3) & _calls_further_review(applied, policy)
    checks = [
        ("too few reviews", n_reviews < k),
        ("incomplete review", ~np.all(complete[:k], axis=0)),
        ("further review missing", further & ~complete[min(k, 2)]),
        ("needs expert", by_expert),
    ]
    for name, mask in reversed(checks):  # the first check that fails names the status
        status[mask] = name
    ok = status == "decided"
    # a trigger reads the first reviews: without them it has not fired
    extra = extra & np.all(complete[:k], axis=0) & (n_reviews >= k)
    passed = pd.array(np.where(ok, final, False), dtype="boolean")
    passed[~ok] = pd.NA
    order = np.argsort(sub_codes, kind="stable")
    names = reviewer_names[order]
    starts = np.concatenate([[0], np.cumsum(n_reviews)[:-1]])
    reviewer_lists = [", ".join(names[a : a + m]) for a, m in zip(starts, n_reviews, strict=True)]
    return pd.DataFrame(
        {
            "submission_id": pd.Index(sub_ids, dtype=object),
            "decision": np.where(ok, np.where(final, "pass", "not yet"), "undecided"),
            "passed": passed,
            "status": status,
            "n_reviews": n_reviews.astype(np.int64),
            "third_review": n_reviews >= 3,
            "trigger_fired": extra,
            "reviews_used": np.where(ok, k + (extra & (k < 3)), 0).astype(np.int64),
            "reviewers": reviewer_lists,
        }
    )


def _live_reviews(
    ratings: RatingsTable,
) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray] | None:
    """The live reviews (one per submission and reviewer) in review order: submission,
    first ``rated_at`` (unknown last), first row in the table. Returns each review's
    submission code (0.. over the live submissions, in id order), those submissions' ids,
    each review's reviewer id and its scores (first per criterion; NaN where unscored,
    criteria in rubric order); None without live ratings. Read from ``ratings.codes``."""
    coded = ratings.codes
    live = np.flatnonzero((coded.kind == _LIVE) | ((coded.kind < 0) & (coded.round < 0)))
    if len(live) == 0:
        return None
    sub, rev = coded.submission[live], coded.reviewer[live]
    _, first, review = np.unique(
        sub * coded.n_reviewers + rev, return_index=True, return_inverse=True
    )
    review = review.ravel()
    n_crit = coded.n_criteria
    cells, first_in_cell = np.unique(review * n_crit + coded.criterion[live], return_index=True)
    scores = np.full((len(first), n_crit), np.nan)
    scores[cells // n_crit, cells % n_crit] = coded.score[live][first_in_cell]
    at = np.where(coded.timed[live], coded.time[live], _LATEST)
    first_at = np.full(len(first), _LATEST)
    np.minimum.at(first_at, review, at)
    head_sub = sub[first]
    order = np.lexsort((first, first_at, head_sub))
    sub_codes, used = compact(head_sub[order], coded.n_submissions)
    names = np.asarray(coded.reviewer_ids, dtype=object)[rev[first][order]]
    return sub_codes, coded.submission_ids[used], names, scores[order]


def _slots(sub_codes: np.ndarray) -> np.ndarray:
    """Each review's position among its submission's reviews (codes sorted)."""
    n = len(sub_codes)
    starts = np.flatnonzero(np.r_[True, sub_codes[1:] != sub_codes[:-1]])
    return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
