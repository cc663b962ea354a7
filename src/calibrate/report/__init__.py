"""Reports people read and share: self-contained HTML pages of a calibration round,
reliability, severity, review policies, a drift monitor, a rubric audit and fairness, built
from their result objects, with keyed pseudonyms on request."""

from calibrate.report._audit import audit_figures, audit_report
from calibrate.report._drift import drift_report
from calibrate.report._fairness import fairness_report
from calibrate.report._html import HtmlReport
from calibrate.report._plan import qualification_report, seeding_report
from calibrate.report._policy import policy_report
from calibrate.report._pseudonym import (
    DEFAULT_KEY_FILE,
    KeyFileError,
    PseudonymCollisionError,
    Pseudonymizer,
    load_or_create_key,
)
from calibrate.report._reliability import COEFFICIENT_NAMES, reliability_report
from calibrate.report._round import round_report, shaky_calls
from calibrate.report._severity import severity_report

__all__ = [
    "COEFFICIENT_NAMES",
    "DEFAULT_KEY_FILE",
    "HtmlReport",
    "KeyFileError",
    "PseudonymCollisionError",
    "Pseudonymizer",
    "audit_figures",
    "audit_report",
    "drift_report",
    "fairness_report",
    "load_or_create_key",
    "policy_report",
    "reliability_report",
    "qualification_report",
    "round_report",
    "seeding_report",
    "severity_report",
    "shaky_calls",
]
