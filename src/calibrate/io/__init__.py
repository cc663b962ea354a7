"""Reading, validating and exporting ratings, answer keys and form-export sheets."""

from calibrate.io._export import export_table, neutralise_formulas, ratings_to_records
from calibrate.io._program import ProgramData, read_program
from calibrate.io._read import read_key, read_ratings, read_wide

__all__ = [
    "ProgramData",
    "export_table",
    "neutralise_formulas",
    "ratings_to_records",
    "read_key",
    "read_program",
    "read_ratings",
    "read_wide",
]
