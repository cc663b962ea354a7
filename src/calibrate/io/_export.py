"""Writing tables for people: CSV and Excel with formula-like text neutralised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from calibrate._atomic import atomic_path
from calibrate._checks import check_instance
from calibrate.ratings import AnswerKey, RatingsTable

__all__ = ["export_table", "iso_utc", "neutralise_formulas", "ratings_to_records"]

#: A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula (CSV injection).

    Numbers are left alone; only text columns are touched. The kit's readers remove the
    quote again, so exported files import back unchanged.

    >>> neutralise_formulas(pd.DataFrame({"id": ["=1+2", "S1", "-x"], "n": [-1, 2, 3]})).values.tolist()
    [["'=1+2", -1], ['S1', 2], ["'-x", 3]]
    """
    check_instance("frame", frame, pd.DataFrame, "a pandas DataFrame")
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if (
            pd.api.types.is_numeric_dtype(s)
            or pd.api.types.is_datetime64_any_dtype(s)
            or pd.api.types.is_bool_dtype(s)
        ):
            continue
        text = s.astype(object).where(s.notna(), None)
        # also text that already starts with ' before such text, so that the reader,
        # which takes one ' away, gives back exactly what was written ('=x and =x stay two)
        risky = text.map(lambda v: isinstance(v, str) and v.lstrip("'").startswith(FORMULA_STARTS))
        out[col] = text.where(~risky, "'" + text.astype(str))
    return out


def iso_utc(times: pd.Series) -> pd.Series:
    """Times as ISO 8601 UTC text (``2026-09-14T10:32:00Z``, fractions only when there
    are some), blank for none: how every export spells times.

    >>> iso_utc(pd.Series(pd.to_datetime(["2026-09-14 10:32", None], utc=True))).tolist()
    ['2026-09-14T10:32:00Z', '']
    """
    return (
        times.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        .str.replace(".000000Z", "Z", regex=False)
        .astype(object)
        .where(times.notna(), "")
    )


def ratings_to_records(table: RatingsTable | AnswerKey) -> pd.DataFrame:
    """The table as plain text-friendly columns (times in ISO 8601 UTC, blanks for none)."""
    if not isinstance(table, RatingsTable | AnswerKey):
        raise TypeError(
            "table must be a calibrate.ratings.RatingsTable or AnswerKey; "
            f"got {type(table).__name__}"
        )
    f = table.frame.copy()
    if "rated_at" in f.columns:
        f["rated_at"] = iso_utc(f["rated_at"])
    for col in ("round_id", "kind"):
        if col in f.columns:
            f[col] = f[col].astype(object).where(f[col].notna(), "")
    for col in ("submission_id", "reviewer_id", "criterion_id"):
        if col in f.columns:
            f[col] = f[col].astype(str)
    return f


def _refuse_collisions(table: dict[str, str], column: str) -> None:
    """Two ids with one pseudonym would be merged in the output: refuse to write it."""
    if len(set(table.values())) == len(table):
        return
    first: dict[str, str] = {}
    for value, alias in table.items():
        if alias in first:
            raise ValueError(
                f"pseudonyms collide: {column} {first[alias]!r} and {value!r} both become "
                f"{alias!r}; nothing was written (the output would merge them)"
            )
        first[alias] = value


def export_table(
    data: pd.DataFrame | RatingsTable | AnswerKey,
    path: str | Path,
    *,
    pseudonymizer: Callable[[str, str], str] | None = None,
) -> Path:
    """Write a table to ``.csv`` or ``.xlsx`` with formula-like text neutralised.

    With ``pseudonymizer`` (a :class:`calibrate.report.Pseudonymizer`), reviewer and
    submission ids are replaced by their keyed pseudonyms. The file is written to a
    temporary name first and moved into place, so a failed write leaves no partial file.
    """
    if not isinstance(data, pd.DataFrame | RatingsTable | AnswerKey):
        raise TypeError(
            "data must be a pandas DataFrame or a calibrate.ratings.RatingsTable or AnswerKey; "
            f"got {type(data).__name__}"
        )
    if pseudonymizer is not None and not callable(pseudonymizer):
        raise TypeError(
            "pseudonymizer must be None or a calibrate.report.Pseudonymizer (a callable "
            f"(id, prefix) -> pseudonym); got {type(pseudonymizer).__name__}"
        )
    path = Path(path)
    suffix = path.suffix.casefold()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(
            f"export format must be .csv or .xlsx; got {path.suffix!r} in {str(path)!r}"
        )
    frame = ratings_to_records(data) if isinstance(data, RatingsTable | AnswerKey) else data
    if pseudonymizer is not None:
        frame = frame.copy()
        for col, prefix in (("reviewer_id", "R"), ("submission_id", "S")):
            if col in frame.columns:
                ids = frame[col].dropna().astype(str).unique()
                table = {v: pseudonymizer(v, prefix) for v in ids}
                _refuse_collisions(table, col)
                frame[col] = frame[col].map(lambda v, t=table: v if pd.isna(v) else t[str(v)])
    safe = neutralise_formulas(frame)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            safe.to_csv(tmp, index=False, lineterminator="\n")
        else:
            safe.to_excel(tmp, index=False, engine="openpyxl")
    return path
