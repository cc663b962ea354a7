"""Calibration rounds: each reviewer against the answer key, qualification, discussion."""

from calibrate.calibration._anchors import AnchorCoverage, anchor_coverage, choose_anchors
from calibrate.calibration._assign import AnchorAssignment, assign_anchors
from calibrate.calibration._compare import compare_to_key, decision_agreement, keyed_scores
from calibrate.calibration._discussion import anchor_detail, discussion_ranking, round_trends
from calibrate.calibration._planning import QualificationPlan, qualification_plan, score_anchors
from calibrate.calibration._qualify import (
    QualificationRule,
    RoundResult,
    anchors_needed,
    group_lean,
    qualify,
)

__all__ = [
    "AnchorAssignment",
    "AnchorCoverage",
    "assign_anchors",
    "anchor_coverage",
    "choose_anchors",
    "QualificationPlan",
    "QualificationRule",
    "RoundResult",
    "anchor_detail",
    "anchors_needed",
    "compare_to_key",
    "decision_agreement",
    "discussion_ranking",
    "group_lean",
    "keyed_scores",
    "qualification_plan",
    "qualify",
    "score_anchors",
    "round_trends",
]
