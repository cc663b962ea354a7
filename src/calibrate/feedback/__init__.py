"""The feedback audit: does every "not yet" carry feedback, does it name the rubric's terms, is it pasted.

:func:`feedback_audit` takes a ratings table and the comment text of each rating;
:func:`read_feedback` reads both from one ratings file with a ``rationale`` (or
``comment`` / ``feedback``) column.
"""

from calibrate.feedback._audit import FeedbackAudit, criterion_text, feedback_audit
from calibrate.feedback._read import COMMENT_COLUMNS, comment_texts, read_feedback

__all__ = [
    "COMMENT_COLUMNS",
    "FeedbackAudit",
    "comment_texts",
    "criterion_text",
    "feedback_audit",
    "read_feedback",
]
