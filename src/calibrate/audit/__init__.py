"""Rubric audit: generalizability and decision studies, level use and criterion structure."""

from calibrate.audit._gstudy import (
    DStudyResult,
    GStudyResult,
    ReviewerDesign,
    d_study,
    g_study,
    g_study_frame,
)
from calibrate.audit._levels import LevelUse, level_use
from calibrate.audit._rubric_audit import RubricAudit, rubric_audit
from calibrate.audit._structure import CriterionStructure, criterion_structure

__all__ = [
    "CriterionStructure",
    "DStudyResult",
    "GStudyResult",
    "LevelUse",
    "ReviewerDesign",
    "RubricAudit",
    "criterion_structure",
    "d_study",
    "g_study",
    "g_study_frame",
    "level_use",
    "rubric_audit",
]
