"""Reading, validating and exporting ratings, answer keys and form-export sheets."""

from calibrate.io._attributes import read_submission_attributes
from calibrate.io._export import (
    EMAIL_PLACEHOLDER,
    FREE_TEXT_COLUMNS,
    PseudonymCollisionError,
    export_table,
    iso_utc,
    neutralise_formulas,
    ratings_to_records,
    refuse_collisions,
    scrub_text,
)
from calibrate.io._files import MAX_COLUMNS, MAX_FIELD_CHARS
from calibrate.io._program import ProgramData, read_program
from calibrate.io._read import (
    DECIMAL_SCORES_RUBRIC,
    SCORES_ONLY_CRITERION,
    SCORES_RUBRIC,
    read_key,
    read_ratings,
    read_ratings_without_rubric,
    read_wide,
)

__all__ = [
    "DECIMAL_SCORES_RUBRIC",
    "EMAIL_PLACEHOLDER",
    "FREE_TEXT_COLUMNS",
    "MAX_COLUMNS",
    "MAX_FIELD_CHARS",
    "SCORES_ONLY_CRITERION",
    "SCORES_RUBRIC",
    "ProgramData",
    "PseudonymCollisionError",
    "export_table",
    "iso_utc",
    "neutralise_formulas",
    "ratings_to_records",
    "read_key",
    "read_program",
    "read_ratings",
    "read_ratings_without_rubric",
    "read_submission_attributes",
    "read_wide",
    "refuse_collisions",
    "scrub_text",
]
