"""Pass rules and tiebreak policies tuned by simulation: decision accuracy against cost."""

from calibrate.policy._policy import Policy, explain
from calibrate.policy._simulate import (
    ConfusionReviewerModel,
    PolicyOutcome,
    Replications,
    ReviewerScorer,
    draw_replications,
    evaluate,
    simulate,
)
from calibrate.policy._tune import (
    PERTURBATIONS,
    best_policy,
    choice_sensitivity,
    models_from_anchors,
    pareto_front,
    policy_grid,
    population_from_truth,
    read_grid,
    sweep,
    tune_cut,
)

__all__ = [
    "PERTURBATIONS",
    "ConfusionReviewerModel",
    "Policy",
    "PolicyOutcome",
    "Replications",
    "ReviewerScorer",
    "draw_replications",
    "evaluate",
    "explain",
    "best_policy",
    "choice_sensitivity",
    "models_from_anchors",
    "pareto_front",
    "policy_grid",
    "population_from_truth",
    "read_grid",
    "simulate",
    "sweep",
    "tune_cut",
]
