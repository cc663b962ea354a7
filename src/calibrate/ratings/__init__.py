"""The canonical ratings table and answer key, with converters to the shapes formulas need."""

from calibrate.ratings._codes import NO_TIME, RatingCodes, compact, level_codes
from calibrate.ratings._ids import MAX_ID_LENGTH, id_problem, normalise_id
from calibrate.ratings._table import KINDS, RATING_COLUMNS, AnswerKey, RatingsTable, canonical_frame
from calibrate.ratings._versions import VERSION_COLUMN, VersionedRatings, combine_versions

__all__ = [
    "KINDS",
    "MAX_ID_LENGTH",
    "NO_TIME",
    "RatingCodes",
    "compact",
    "level_codes",
    "RATING_COLUMNS",
    "AnswerKey",
    "RatingsTable",
    "VERSION_COLUMN",
    "VersionedRatings",
    "canonical_frame",
    "combine_versions",
    "id_problem",
    "normalise_id",
]
