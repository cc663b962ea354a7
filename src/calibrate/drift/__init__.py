"""Reviewer drift over time: who started scoring differently, when, which way, by how much.

:class:`DriftMonitor` (and :func:`detect_drift`) charts each reviewer's residuals -- against
the answer key on anchors and seeded anchors, against co-reviewers on double-scored live
work -- on self-starting CUSUM and EWMA charts with limits set for a stated false-alarm
rate (or in-control ARL), tells drift of the whole group from one reviewer's, and tests
each reviewer's severity per time window for change. The chart statistics and their
run-length calculations (Brook-Evans Markov chains) are public for reuse.
"""

from calibrate.drift._charts import (
    cusum_arl,
    cusum_false_alarm_rate,
    cusum_limit,
    cusum_statistics,
    ewma_arl,
    ewma_false_alarm_rate,
    ewma_limit,
    ewma_statistic,
    self_starting_scores,
)
from calibrate.drift._group import GroupDrift
from calibrate.drift._monitor import DriftMonitor, detect_drift
from calibrate.drift._planning import SeedingPlan, seeded_signals, seeding_plan
from calibrate.drift._report import DriftReport
from calibrate.drift._residuals import SOURCES

__all__ = [
    "SOURCES",
    "DriftMonitor",
    "DriftReport",
    "GroupDrift",
    "SeedingPlan",
    "cusum_arl",
    "cusum_false_alarm_rate",
    "cusum_limit",
    "cusum_statistics",
    "detect_drift",
    "ewma_arl",
    "ewma_false_alarm_rate",
    "ewma_limit",
    "ewma_statistic",
    "seeded_signals",
    "seeding_plan",
    "self_starting_scores",
]
