"""Reviewer severity models fitted on the ratings table.

:class:`ManyFacetRasch` measures submission ability, criterion difficulty, reviewer
severity and level thresholds on one logit scale (with standard errors, fit mean
squares, separation reliability, fair averages and reviewer x criterion bias);
:class:`DawidSkene` describes each reviewer by confusion matrices over the rubric's levels
or over the pass decision, with anchor keys as known truth. Both can draw scores for the
policy simulator (``sample_scores``, and ``score`` for :func:`calibrate.policy.simulate`).
:func:`severity_summary` fits both and joins them in one reviewer table.
"""

from calibrate.severity._dawid_skene import DawidSkene, DawidSkeneResult, dawid_skene
from calibrate.severity._rasch import ManyFacetRasch
from calibrate.severity._rasch_core import _category_probs as rating_scale_probs
from calibrate.severity._rasch_core import _moments as level_moments
from calibrate.severity._summary import REVIEWER_TABLE_COLUMNS, SeveritySummary, severity_summary

__all__ = [
    "REVIEWER_TABLE_COLUMNS",
    "DawidSkene",
    "DawidSkeneResult",
    "ManyFacetRasch",
    "SeveritySummary",
    "dawid_skene",
    "level_moments",
    "rating_scale_probs",
    "severity_summary",
]
