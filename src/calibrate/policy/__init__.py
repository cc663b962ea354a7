"""Pass rules and tiebreak policies tuned by simulation: decision accuracy against cost.

The simulator (:func:`simulate`, :func:`sweep`) draws submissions from a population of true
levels and their reviews from a reviewer model: a synthetic program's truth, the severity
models of :mod:`calibrate.severity`, or :class:`ProgramModel` fitted on a program's own
ratings; the expert adjudicator from :class:`ExpertModel`. Costs in money come from
:class:`ReviewCosts`. :func:`final_decisions` gives the decisions the policy reached on the reviews as
they happened, to compare with what the simulator predicts.
"""

from calibrate.policy._attempts import ATTEMPT_SUMMARY_COLUMNS, attempt_summary
from calibrate.policy._choices import AnchorModels, CutChoice, PolicyChoice, ProgramModels
from calibrate.policy._costs import ReviewCosts, add_costs, parse_costs
from calibrate.policy._decisions import PENDING, Decisions, decide
from calibrate.policy._expert import (
    ExpertModel,
    best_reviewer_expert,
    expert_accuracy,
    fitted_experts,
    read_expert_model,
)
from calibrate.policy._fit import ProgramModel, fit_program_model
from calibrate.policy._policy import Policy, explain
from calibrate.policy._realised import STATUSES, final_decisions
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
    read_policy,
    sweep,
    tune_cut,
)

__all__ = [
    "ATTEMPT_SUMMARY_COLUMNS",
    "attempt_summary",
    "AnchorModels",
    "CutChoice",
    "PolicyChoice",
    "ProgramModels",
    "PERTURBATIONS",
    "PENDING",
    "Decisions",
    "decide",
    "STATUSES",
    "ConfusionReviewerModel",
    "ExpertModel",
    "Policy",
    "PolicyOutcome",
    "ProgramModel",
    "Replications",
    "ReviewCosts",
    "ReviewerScorer",
    "add_costs",
    "best_reviewer_expert",
    "expert_accuracy",
    "fitted_experts",
    "parse_costs",
    "read_expert_model",
    "draw_replications",
    "evaluate",
    "explain",
    "final_decisions",
    "fit_program_model",
    "best_policy",
    "choice_sensitivity",
    "models_from_anchors",
    "pareto_front",
    "policy_grid",
    "population_from_truth",
    "read_grid",
    "read_policy",
    "simulate",
    "sweep",
    "tune_cut",
]
