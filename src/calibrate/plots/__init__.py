"""Plots people would rather look at than read.

Every function takes ``ax=``: a matplotlib Axes to draw on (a sequence of Axes, one per
panel, for the plots of several panels: ``plot_control_chart``, ``plot_score_distribution``),
whose figure it leaves laid out as the caller made it; without one it makes a new figure.
Either way it returns the Figure it drew on.
"""

from calibrate.plots._audit import (
    plot_criterion_correlations,
    plot_d_study,
    plot_level_use,
    plot_variance_components,
)
from calibrate.plots._calibration import (
    plot_qualification_curve,
    plot_reviewer_agreement,
    plot_round_trends,
)
from calibrate.plots._distribution import plot_score_distribution
from calibrate.plots._drift import plot_control_chart, plot_group_drift, plot_seeding_curve
from calibrate.plots._fairness import plot_fairness_bias
from calibrate.plots._policy import plot_policy_frontier
from calibrate.plots._reliability import plot_pair_agreement, plot_reliability_forest
from calibrate.plots._severity import plot_severity, plot_severity_bias

__all__ = [
    "plot_control_chart",
    "plot_criterion_correlations",
    "plot_d_study",
    "plot_fairness_bias",
    "plot_group_drift",
    "plot_level_use",
    "plot_pair_agreement",
    "plot_policy_frontier",
    "plot_qualification_curve",
    "plot_reliability_forest",
    "plot_reviewer_agreement",
    "plot_round_trends",
    "plot_score_distribution",
    "plot_severity",
    "plot_seeding_curve",
    "plot_severity_bias",
    "plot_variance_components",
]
