"""Reports people read and share: self-contained HTML, with keyed pseudonyms on request."""

from calibrate.report._html import HtmlReport
from calibrate.report._pseudonym import DEFAULT_KEY_FILE, Pseudonymizer, load_or_create_key
from calibrate.report._round import round_report, shaky_calls

__all__ = [
    "DEFAULT_KEY_FILE",
    "HtmlReport",
    "Pseudonymizer",
    "load_or_create_key",
    "round_report",
    "shaky_calls",
]
