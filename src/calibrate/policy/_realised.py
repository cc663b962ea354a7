"""The decisions a program's review policy reached on its live reviews, as they happened."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.policy._policy import Policy
from calibrate.policy._simulate import _calls_further_review, _decide
from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric

__all__ = ["STATUSES", "final_decisions"]

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

    f = ratings.frame
    kind = f["kind"].astype(object)
    live_rows = (kind == "live") | (kind.isna() & f["round_id"].isna())
    live = f.loc[live_rows.to_numpy()]
    if live.empty:
        raise ValueError(
            "ratings hold no live reviews (rows of kind 'live'): final decisions are made on live submissions"
        )
    reviews = _reviews(live, list(rubric.criterion_ids))
    sub_codes, sub_ids = pd.factorize(reviews["submission_id"], sort=True)
    slot = reviews.groupby(sub_codes, sort=False).cumcount().to_numpy()
    n_sub, n_crit = len(sub_ids), len(rubric.criteria)
    n_reviews = np.bincount(sub_codes, minlength=n_sub)
    scores = reviews[list(rubric.criterion_ids)].to_numpy(dtype=float)
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
    names = reviews["reviewer_id"].to_numpy(dtype=object)[order]
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


def _reviews(live: pd.DataFrame, criteria: list[str]) -> pd.DataFrame:
    """One row per (submission, reviewer) review, criteria as columns, in review order
    (submission, first ``rated_at``, first row in the table)."""
    frame = live.assign(_row=np.arange(len(live)))
    keys = ["submission_id", "reviewer_id"]
    wide = frame.pivot_table(
        index=keys, columns="criterion_id", values="score", aggfunc="first", observed=True
    )
    wide = wide.reindex(columns=criteria)
    g = frame.groupby(keys, observed=True)
    wide["_at"] = g["rated_at"].min()
    wide["_row"] = g["_row"].min()
    wide = wide.reset_index()
    wide["submission_id"] = wide["submission_id"].astype(str)
    wide["reviewer_id"] = wide["reviewer_id"].astype(str)
    return wide.sort_values(
        ["submission_id", "_at", "_row"], na_position="last", kind="stable"
    ).reset_index(drop=True)
