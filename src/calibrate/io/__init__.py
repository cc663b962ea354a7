"""Reading, validating and exporting ratings, answer keys and form-export sheets (import profiles)."""

from calibrate.io._attempts import (
    ATTEMPT_COLUMNS,
    header_may_name,
    read_attempt_columns,
    resolve_attempts,
    submission_attempts,
)
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
from calibrate.io._forms import ProfileRead, ProfileReadError, infer_profile, read_profile
from calibrate.io._profiles import (
    BUILTIN_PROFILES,
    Profile,
    ProfileError,
    get_profile,
    load_profile,
    parse_profile,
    profile_to_yaml,
)
from calibrate.io._program import ProgramData, read_program
from calibrate.io._read import (
    DECIMAL_SCORES_RUBRIC,
    SCORES_ONLY_CRITERION,
    SCORES_RUBRIC,
    read_key,
    read_ratings,
    read_ratings_without_rubric,
    read_versioned_ratings,
    read_wide,
)
from calibrate.io._validate import unquote_formulas

__all__ = [
    "ATTEMPT_COLUMNS",
    "BUILTIN_PROFILES",
    "DECIMAL_SCORES_RUBRIC",
    "EMAIL_PLACEHOLDER",
    "FREE_TEXT_COLUMNS",
    "MAX_COLUMNS",
    "MAX_FIELD_CHARS",
    "SCORES_ONLY_CRITERION",
    "SCORES_RUBRIC",
    "Profile",
    "ProfileError",
    "ProfileRead",
    "ProfileReadError",
    "ProgramData",
    "PseudonymCollisionError",
    "export_table",
    "iso_utc",
    "get_profile",
    "header_may_name",
    "infer_profile",
    "load_profile",
    "neutralise_formulas",
    "parse_profile",
    "profile_to_yaml",
    "ratings_to_records",
    "read_key",
    "read_profile",
    "read_program",
    "read_ratings",
    "read_attempt_columns",
    "read_ratings_without_rubric",
    "read_versioned_ratings",
    "read_submission_attributes",
    "read_wide",
    "refuse_collisions",
    "resolve_attempts",
    "scrub_text",
    "submission_attempts",
    "unquote_formulas",
]
