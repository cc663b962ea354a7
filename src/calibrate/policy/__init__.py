"""Pass rules and tiebreak policies tuned by simulation: decision accuracy against cost."""

from calibrate.policy._policy import Policy
from calibrate.policy._simulate import (
    ConfusionReviewerModel,
    PolicyOutcome,
    ReviewerScorer,
    simulate,
)

__all__ = ["ConfusionReviewerModel", "Policy", "PolicyOutcome", "ReviewerScorer", "simulate"]
