"""The canonical ratings table and answer key, with converters to the shapes formulas need."""

from calibrate.ratings._codes import NO_TIME, RatingCodes, compact, level_codes
from calibrate.ratings._table import KINDS, RATING_COLUMNS, AnswerKey, RatingsTable, canonical_frame

__all__ = [
    "KINDS",
    "NO_TIME",
    "RatingCodes",
    "compact",
    "level_codes",
    "RATING_COLUMNS",
    "AnswerKey",
    "RatingsTable",
    "canonical_frame",
]
