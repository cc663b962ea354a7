"""Rubrics: criteria with ordered levels, a pass rule and a review policy, read from YAML."""

from calibrate.rubric._load import compose_yaml, load_rubric, parse_rubric, rubric_to_yaml
from calibrate.rubric._model import (
    Criterion,
    Level,
    PassRule,
    Replaces,
    ReviewPolicy,
    Rubric,
    ThirdReviewTrigger,
)
from calibrate.rubric._revisions import Revision, revision_maps

__all__ = [
    "Criterion",
    "Level",
    "PassRule",
    "Replaces",
    "ReviewPolicy",
    "Revision",
    "Rubric",
    "ThirdReviewTrigger",
    "compose_yaml",
    "load_rubric",
    "parse_rubric",
    "revision_maps",
    "rubric_to_yaml",
]
