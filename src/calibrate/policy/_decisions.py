"""The program's decision roster: per submission, who reviewed it, whether the tiebreak
fired and who resolved it, the decision, the criteria short of the pass rule, the feedback,
and what a pending submission waits for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calibrate.policy._policy import Policy
from calibrate.policy._realised import _live_reviews, final_decisions
from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric

__all__ = ["PENDING", "Decisions", "decide"]

#: What a pending submission can wait for, by the status :func:`final_decisions` gives it.
PENDING: dict[str, str] = {
    "too few reviews": "review",  # completed as "second review", "third review"
    "incomplete review": "complete scores",
    "further review missing": "tiebreak",
    "needs expert": "expert decision",
}

_ORDINALS = ("first", "second", "third")


@dataclass(frozen=True, eq=False)
class Decisions:
    """The decision roster of a program's live submissions (:func:`decide`).

    Attributes
    ----------
    rows : list of dict
        One per live submission, sorted by id: ``submission_id``, ``decision`` (``"pass"``,
        ``"not yet"`` or ``"pending"``), ``reviewers`` (ids in review order), ``scores``
        (``{reviewer_id: {criterion_id: score}}``, review order), ``tiebreak`` (None, or
        ``{"triggered": True, "reason": ..., "resolved_by": reviewer id or None}``),
        ``pending`` (None, or what it waits for: ``"second review"``, ``"third review"``,
        ``"tiebreak"``, ``"expert decision"``, ``"complete scores"``), ``criteria_short``
        (of a "not yet": criterion ids below the pass rule's minimum level, on the mean of
        the reviews the decision rests on), ``feedback`` (``[{"reviewer_id", "criterion_id", "text"}]``, the
        non-blank rationales).
    policy : Policy
        The policy that decided.
    """

    rows: list[dict[str, Any]]
    policy: Policy

    @property
    def pending(self) -> list[dict[str, Any]]:
        """The rows still waiting for a review, a tiebreak or an expert."""
        return [r for r in self.rows if r["pending"] is not None]

    def summary(self) -> dict[str, int]:
        """Counts: submissions, pass, not yet, pending, tiebreaks triggered and resolved."""
        dec = [r["decision"] for r in self.rows]
        ties = [r["tiebreak"] for r in self.rows if r["tiebreak"] is not None]
        return {
            "submissions": len(self.rows),
            "pass": dec.count("pass"),
            "not_yet": dec.count("not yet"),
            "pending": dec.count("pending"),
            "tiebreaks_triggered": len(ties),
            "tiebreaks_resolved": sum(t["resolved_by"] is not None for t in ties),
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``calibrate decisions --format json`` document."""
        return {"decisions": self.rows, "pending": self.pending, "summary": self.summary()}

    def to_frame(self) -> pd.DataFrame:
        """One row per submission with the list fields joined readably (for CSV / Excel)."""
        return pd.DataFrame([_flat(r) for r in self.rows], columns=list(_FLAT_COLUMNS))


_FLAT_COLUMNS = (
    "submission_id",
    "decision",
    "reviewers",
    "scores",
    "tiebreak",
    "tiebreak_reason",
    "resolved_by",
    "pending",
    "criteria_short",
    "feedback",
)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    tie = row["tiebreak"]
    return {
        "submission_id": row["submission_id"],
        "decision": row["decision"],
        "reviewers": ", ".join(row["reviewers"]),
        "scores": "; ".join(
            f"{rid}: " + " ".join(f"{c}={s}" for c, s in per.items())
            for rid, per in row["scores"].items()
        ),
        "tiebreak": "yes" if tie is not None else "no",
        "tiebreak_reason": tie["reason"] if tie is not None else "",
        "resolved_by": (tie["resolved_by"] or "") if tie is not None else "",
        "pending": row["pending"] or "",
        "criteria_short": ", ".join(row["criteria_short"]),
        "feedback": " | ".join(
            f"{f['reviewer_id']} on {f['criterion_id']}: {f['text']}" for f in row["feedback"]
        ),
    }


def decide(
    ratings: RatingsTable,
    policy: Policy | None = None,
    *,
    rubric: Rubric | None = None,
    feedback: Sequence[str] | np.ndarray | None = None,
) -> Decisions:
    """The decision roster of every live submission under the review policy.

    The decisions are :func:`final_decisions`' (one implementation with the policy
    simulator): the first ``reviewers`` reviews of a submission in the order they were
    scored (``rated_at``, then file order), then the tiebreak review when the policy's
    trigger fires on them, combined by the policy's resolution. This adds who scored what,
    why the tiebreak fired and who resolved it, what a pending submission waits for, the
    criteria short of the pass rule and the reviewers' rationales.

    Parameters
    ----------
    ratings : RatingsTable
        The program's ratings; live submissions are decided (anchors are left out).
    policy : Policy, optional
        Default: the rubric's own (``Policy.from_rubric(rubric)``).
    rubric : Rubric, optional
        Default: ``ratings.rubric``.
    feedback : sequence of str, optional
        One rationale per row of ``ratings.frame`` (as :func:`calibrate.feedback.read_feedback`
        returns); blank ones are left out.

    Returns
    -------
    Decisions

    Raises
    ------
    TypeError, ValueError
        As :func:`final_decisions`; ``feedback`` of another length than the ratings.

    Notes
    -----
    The tiebreak's reason names each set trigger that fired on the first two reviews,
    each tested with the rubric's own rule (:meth:`Rubric.third_review_fires`) restricted
    to that trigger. ``criteria_short`` compares the mean score per criterion of the
    reviews the decision rests on with the pass rule's minimum level for that criterion
    (``min_levels``, else ``min_level``); a compensatory rule has no per-criterion
    minimum, so it is empty there. The tiebreak is resolved by the reviewer of the
    tiebreak review; where an expert adjudicates, the ratings do not hold the expert's
    scores and the submission waits for the expert decision.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> d = decide(read_program("data/synthetic/pilot").ratings)
    >>> d.summary()
    {'submissions': 60, 'pass': 39, 'not_yet': 21, 'pending': 0, 'tiebreaks_triggered': 13, 'tiebreaks_resolved': 13}
    >>> d.rows[0]["tiebreak"]
    {'triggered': True, 'reason': 'decisions differ (R008 not yet, R003 pass)', 'resolved_by': 'R002'}
    """
    final = final_decisions(ratings, rubric, policy=policy)  # checks every argument
    rubric = ratings.rubric if rubric is None else rubric
    policy = Policy.from_rubric(rubric) if policy is None else policy
    applied = policy.apply_to(rubric)
    reviews = _live_reviews(ratings)
    if reviews is None:  # final_decisions refused this already; kept for the types
        raise ValueError("ratings hold no live reviews (rows of kind 'live')")
    sub_codes, sub_ids, names, scores = reviews
    texts = _rationales(ratings, feedback)
    crit_ids = list(rubric.criterion_ids)
    order = np.argsort(sub_codes, kind="stable")
    starts = np.searchsorted(sub_codes[order], np.arange(len(sub_ids)))
    counts = np.bincount(sub_codes, minlength=len(sub_ids))
    k = policy.review.reviewers
    rule = applied.pass_rule
    minimum = np.array(
        [rule.min_levels.get(c, rule.min_level) for c in crit_ids], dtype=object
    )  # None where the rule sets no minimum for the criterion
    triggers = _single_triggers(rubric, policy) if k == 2 else []
    rows = []
    for i, f in enumerate(final.itertuples(index=False)):
        idx = order[starts[i] : starts[i] + counts[i]]
        revs = [str(n) for n in names[idx]]
        S = scores[idx]
        sid = str(sub_ids[i])
        pending = None
        if f.status != "decided":
            pending = PENDING[f.status]
            if pending == "review":
                pending = f"{_ORDINALS[min(int(f.n_reviews), 2)]} review"
        tiebreak = None
        if f.trigger_fired:
            resolver = None
            if f.status == "decided" and f.reviews_used > k:
                resolver = revs[k]
            tiebreak = {
                "triggered": True,
                "reason": _reason(applied, policy, triggers, S, revs),
                "resolved_by": resolver,
            }
        short: list[str] = []
        if f.decision == "not yet":
            mean = S[: int(f.reviews_used)].mean(axis=0)
            short = [
                c
                for c, m, lo in zip(crit_ids, mean, minimum, strict=True)
                if lo is not None and m < lo
            ]
        rows.append(
            {
                "submission_id": sid,
                "decision": f.decision if f.status == "decided" else "pending",
                "reviewers": revs,
                "scores": {
                    r: {c: int(s) for c, s in zip(crit_ids, row, strict=True) if s == s}
                    for r, row in zip(revs, S, strict=True)
                },
                "tiebreak": tiebreak,
                "pending": pending,
                "criteria_short": short,
                "feedback": [
                    {"reviewer_id": r, "criterion_id": c, "text": t}
                    for r in revs
                    for c in crit_ids
                    if (t := texts.get((sid, r, c)))
                ],
            }
        )
    return Decisions(rows, policy)


def _single_triggers(rubric: Rubric, policy: Policy) -> list[tuple[str, Any, Rubric]]:
    """Each set trigger of the policy with the rubric whose policy has only that trigger."""
    trig = policy.review.third_review.model_dump()
    off = {"decision_differs": False, "total_differs_by": None, "criterion_differs_by": None}
    off["total_within"] = None
    out = []
    for name, value in trig.items():
        if value is None or value is False:
            continue
        alone = Policy.from_rubric(rubric, **{**off, name: value}).apply_to(rubric)
        out.append((name, value, alone))
    return out


def _reason(
    rubric: Rubric,
    policy: Policy,
    triggers: list[tuple[str, Any, Rubric]],
    S: np.ndarray,
    revs: list[str],
) -> str:
    """Why the trigger fired on the first reviews, in words; each trigger of a two-review
    policy is tested by the rubric's own rule with only that trigger set."""
    k, trig = policy.review.reviewers, policy.review.third_review
    cut = rubric.pass_rule.min_total
    if k == 3:
        return "the three reviewers disagree on the decision"
    if k == 1:
        return f"total {S[0].sum():g} within {trig.total_within:g} of the cut {cut:g}"
    a, b = S[:1], S[1:2]
    words = []
    for name, value, alone in triggers:
        if not alone.third_review_fires(a, b)[0]:
            continue
        if name == "decision_differs":
            said = ["pass" if d == 1 else "not yet" for d in rubric.decide(S[:2])]
            words.append(f"decisions differ ({revs[0]} {said[0]}, {revs[1]} {said[1]})")
        elif name == "total_differs_by":
            words.append(f"totals differ by {abs(a.sum() - b.sum()):g} (trigger: {value:g})")
        elif name == "criterion_differs_by":
            gap = np.abs(a[0] - b[0])
            apart = [
                f"{c} differs by {g:g}"
                for c, g in zip(rubric.criterion_ids, gap, strict=True)
                if g >= value
            ]
            words.append(f"{', '.join(apart)} (trigger: {value})")
        else:
            words.append(f"a total within {value:g} of the cut {cut:g}")
    return "; ".join(words)


def _rationales(
    ratings: RatingsTable, feedback: Sequence[str] | np.ndarray | None
) -> dict[tuple[str, str, str], str]:
    """The first non-blank rationale per (submission, reviewer, criterion)."""
    if feedback is None:
        return {}
    text = np.asarray(feedback, dtype=object)
    if text.ndim != 1 or len(text) != len(ratings):
        raise ValueError(
            f"feedback must hold one rationale per rating ({len(ratings)}); got {text.shape}"
        )
    fr = ratings.frame
    out: dict[tuple[str, str, str], str] = {}
    for s, r, c, t in zip(
        fr["submission_id"].astype(str),
        fr["reviewer_id"].astype(str),
        fr["criterion_id"].astype(str),
        text,
        strict=True,
    ):
        t = "" if t is None or (isinstance(t, float) and t != t) else str(t).strip()
        if t:
            out.setdefault((s, r, c), t)
    return out
