"""A decision policy: the pass rule and the review policy, as one value to simulate."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from calibrate.rubric import PassRule, ReviewPolicy, Rubric

__all__ = ["Policy", "explain"]


def explain(exc: Exception) -> str:
    """A policy error in words (pydantic's messages without its boilerplate)."""
    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    return str(exc)


class Policy(BaseModel):
    """Where the pass line sits and how reviews combine into a decision.

    ``pass_rule`` and ``review`` have the rubric's own types, so a policy is read from and
    written to the rubric's ``pass_rule`` and ``review_policy`` sections
    (:meth:`from_rubric`, :meth:`apply_to`). ``minutes_per_review`` prices reviewer time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_rule: PassRule
    review: ReviewPolicy
    minutes_per_review: float = Field(45.0, gt=0, description="reviewer minutes one review takes")

    @classmethod
    def from_rubric(cls, rubric: Rubric, **changes: Any) -> Policy:
        """The rubric's current policy, with ``changes`` applied: pass-rule fields
        (``min_total``, ``min_level``, ``min_levels``), review fields (``reviewers``,
        ``resolution``, ``read_behind``), trigger fields (``decision_differs``,
        ``total_differs_by``, ``criterion_differs_by``, ``total_within``) or
        ``minutes_per_review``.

        >>> from calibrate.rubric import load_rubric
        >>> p = Policy.from_rubric(load_rubric("rubrics/evidence-4level.yaml"), reviewers=3, resolution="average")
        >>> p.review.reviewers, p.review.resolution
        (3, 'average')
        """
        rule = rubric.pass_rule.model_dump()
        review = rubric.review_policy.model_dump()
        extra: dict[str, Any] = {}
        unknown = []
        for name, value in changes.items():
            if name in rule:
                rule[name] = value
            elif name in review:
                review[name] = value
            elif name in review["third_review"]:
                review["third_review"][name] = value
            elif name == "minutes_per_review":
                extra[name] = value
            else:
                unknown.append(name)
        if unknown:
            allowed = sorted([*rule, *review, *review["third_review"], "minutes_per_review"])
            raise ValueError(f"policy fields must be among {allowed}; got {unknown}")
        return cls(
            pass_rule=PassRule.model_validate(rule),
            review=ReviewPolicy.model_validate(review),
            **extra,
        )

    def apply_to(self, rubric: Rubric) -> Rubric:
        """The rubric with this policy's pass rule and review policy (checked again:
        a cut the rubric cannot reach is an error)."""
        data = rubric.model_dump()
        data["pass_rule"] = self.pass_rule.model_dump()
        data["review_policy"] = self.review.model_dump()
        return Rubric.model_validate(data)

    def describe(self) -> dict[str, Any]:
        """Flat fields for tables and JSON rows."""
        rule, rev, trig = self.pass_rule, self.review, self.review.third_review
        return {
            "pass_rule": rule.kind,
            "min_total": rule.min_total,
            "min_level": rule.min_level,
            "min_levels": dict(rule.min_levels) or None,
            "reviewers": rev.reviewers,
            "decision_differs": trig.decision_differs,
            "total_differs_by": trig.total_differs_by,
            "criterion_differs_by": trig.criterion_differs_by,
            "total_within": trig.total_within,
            "resolution": rev.resolution,
            "read_behind": rev.read_behind,
        }
