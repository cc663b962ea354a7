"""What a policy costs in money, and whether it changes the standard or only the procedure."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate._checks import check_number
from calibrate.rubric import PassRule

__all__ = [
    "ReviewCosts",
    "add_costs",
    "parse_costs",
    "pareto_front",
    "pass_rule_text",
    "standard_change",
]


@dataclass(frozen=True)
class ReviewCosts:
    """The price of one review by a reviewer and of one by the expert (adjudication or
    read-behind), in one unit of the caller's choosing (dollars, hours, credits): every
    money figure of the kit is in that same unit.

    >>> ReviewCosts(reviewer=25, expert=60).of(reviews=2.3, expert_reviews=0.3)
    68.0
    """

    reviewer: float
    expert: float

    def __post_init__(self) -> None:
        for name in ("reviewer", "expert"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), low=0))

    def of(self, *, reviews: float, expert_reviews: float) -> float:
        """The cost of ``reviews`` reviews per submission, ``expert_reviews`` of them the
        expert's."""
        return self.reviewer * (reviews - expert_reviews) + self.expert * expert_reviews

    def __str__(self) -> str:
        return f"reviewer {self.reviewer:g}, expert {self.expert:g} per review"


_COST_USAGE = (
    "costs are 'reviewer=COST,expert=COST' (per review, in one unit), e.g. 'reviewer=25,expert=60'"
)


def parse_costs(text: str) -> ReviewCosts:
    """``"reviewer=25,expert=60"`` as :class:`ReviewCosts`; every mistake in one error.

    >>> parse_costs("reviewer=25, expert=60")
    ReviewCosts(reviewer=25.0, expert=60.0)
    >>> parse_costs("reviewer=25,expert=sixty")
    Traceback (most recent call last):
    ...
    ValueError: costs are 'reviewer=COST,expert=COST' (per review, in one unit), e.g. 'reviewer=25,expert=60'; got 'reviewer=25,expert=sixty': expert must be a number >= 0, got 'sixty'
    """
    found: dict[str, float] = {}
    problems = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        name, eq, value = (s.strip() for s in part.partition("="))
        if not eq:
            problems.append(f"{part!r} is not NAME=COST")
            continue
        if name not in ("reviewer", "expert"):
            problems.append(f"unknown cost {name!r} (reviewer, expert)")
            continue
        if name in found:
            problems.append(f"{name} is given twice")
            continue
        try:
            v = float(value)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v >= 0):
            problems.append(f"{name} must be a number >= 0, got {value!r}")
            continue
        found[name] = v
    if not problems:
        problems += [f"{name} is missing" for name in ("reviewer", "expert") if name not in found]
    if problems:
        raise ValueError(f"{_COST_USAGE}; got {text!r}: " + "; ".join(problems))
    return ReviewCosts(found["reviewer"], found["expert"])


def pareto_front(
    table: pd.DataFrame, *, accuracy: str = "accuracy", cost: str = "reviews_per_submission"
) -> np.ndarray:
    """True for policies no other policy beats on both accuracy (higher) and cost (lower)."""
    a, c = table[accuracy].to_numpy(), table[cost].to_numpy()
    better_or_equal = (a[None, :] >= a[:, None]) & (c[None, :] <= c[:, None])
    strictly = (a[None, :] > a[:, None]) | (c[None, :] < c[:, None])
    return ~(better_or_equal & strictly).any(axis=1)


def add_costs(table: pd.DataFrame, costs: ReviewCosts) -> pd.DataFrame:
    """A sweep's table with ``cost_per_submission`` (money, in the unit of ``costs``) beside
    ``reviews_per_submission`` and ``pareto_cost``: the accuracy / money frontier. It can
    differ from the reviews frontier (``pareto``): an expert's review is dearer than a
    reviewer's, so a policy with more reviews may cost less."""
    for col in ("accuracy", "reviews_per_submission", "expert_reviews_per_submission"):
        if col not in table.columns:
            raise ValueError(f"table must come from calibrate.policy.sweep; missing {col}")
    out = table.copy()
    cost = costs.of(
        reviews=out["reviews_per_submission"].to_numpy(dtype=float),
        expert_reviews=out["expert_reviews_per_submission"].to_numpy(dtype=float),
    )
    at = list(out.columns).index("reviews_per_submission") + 1
    out.insert(at, "cost_per_submission", cost)
    out["pareto_cost"] = pareto_front(out, cost="cost_per_submission")
    return out


def pass_rule_text(rule: PassRule) -> str:
    """A pass rule in words: ``total >= 17 and every criterion >= 2``."""
    parts = []
    if rule.min_total is not None:
        parts.append(f"total >= {rule.min_total:g}")
    if rule.min_level is not None:
        parts.append(f"every criterion >= {rule.min_level:g}")
    parts += [f"{c} >= {v:g}" for c, v in sorted(rule.min_levels.items())]
    return " and ".join(parts)


def standard_change(rule: PassRule, rubric_rule: PassRule) -> str | None:
    """How ``rule`` differs from the rubric's pass rule, in words, or None if it does not:
    a different pass rule changes the standard, not only the review procedure."""
    if rule == rubric_rule:
        return None
    return f"{pass_rule_text(rule)} instead of the rubric's {pass_rule_text(rubric_rule)}"
