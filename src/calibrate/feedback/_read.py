"""Reading a ratings file together with its comment column (``rationale`` / ``comment``)."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._checks import check_instance
from calibrate._problems import Problem, RatingsError
from calibrate.io import read_ratings, unquote_formulas
from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric

__all__ = ["COMMENT_COLUMNS", "comment_texts", "read_feedback"]

#: Headers read as the comment text, first found wins (matched ignoring case, spaces, hyphens).
COMMENT_COLUMNS = ("rationale", "comment", "comments", "feedback")


def _norm(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).replace("\ufeff", "").strip().casefold())


def _text_frame(path: Path, sheet: str | int | None) -> pd.DataFrame:
    suffix = path.suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=str)
        return frame.fillna("").dropna(how="all")
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path).astype(object)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    if suffix == ".tsv":
        sep = "\t"
    else:
        try:
            sep = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    import io

    return pd.read_csv(
        io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True
    )


def read_feedback(
    path: str | Path, rubric: Rubric, *, sheet: str | int | None = None
) -> tuple[RatingsTable, np.ndarray]:
    """Read a ratings file and its comment text, one per rating row.

    The ratings are read and checked by :func:`calibrate.io.read_ratings`; the comment is
    the first of the columns :data:`COMMENT_COLUMNS` the file has (none: every comment
    is blank).

    Parameters
    ----------
    path : path of the ratings file (.csv, .tsv, .xlsx or .parquet).
    rubric : the rubric the scores are checked against.
    sheet : for Excel, the sheet name or position.

    Returns
    -------
    (RatingsTable, numpy.ndarray of str)
        The table and each row's comment (stripped; "" for none).

    Raises
    ------
    RatingsError
        Every problem of the ratings, or a comment column that does not line up.

    References
    ----------
    .. [1] pandas, ``pandas.read_csv`` (``keep_default_na=False``: an empty cell is "").
    """
    check_instance("rubric", rubric, Rubric)
    table = read_ratings(path, rubric, sheet=sheet)
    frame = _text_frame(Path(path), sheet)
    frame.columns = [_norm(c) for c in frame.columns]
    column = next((c for c in COMMENT_COLUMNS if c in frame.columns), None)
    if column is None:
        return table, np.full(len(table), "", dtype=object)
    col = frame[column]
    col = unquote_formulas(col.where(col.notna(), "").astype(str))  # as exported
    if len(col) != len(table):
        raise RatingsError(
            [
                Problem(
                    f"the {column!r} column has {len(col)} rows but the file has {len(table)} ratings",
                    file=str(path),
                    column=column,
                )
            ]
        )
    rev = frame["reviewer_id"].astype(str).str.strip().str.strip('"').to_numpy(dtype=object)
    mine = table.frame["reviewer_id"].astype(str).to_numpy(dtype=object)
    off = np.flatnonzero(rev != mine)
    if len(off):
        raise RatingsError(
            [
                Problem(
                    f"the {column!r} column does not line up with the ratings (reviewer {rev[off[0]]!r} vs {mine[off[0]]!r})",
                    file=str(path),
                    row=int(off[0]) + 2,
                    column=column,
                )
            ]
        )
    return table, col.str.strip().to_numpy(dtype=object)


def comment_texts(comments: object, n: int) -> np.ndarray:
    """``comments`` (one text per rating row, or None) checked and as an object array of
    stripped texts, missing ones ``""``.

    >>> comment_texts(["  fine ", None], 2).tolist()
    ['fine', '']
    """
    if comments is None:
        return np.full(n, "", dtype=object)
    if isinstance(comments, str) or not isinstance(comments, Sequence | np.ndarray | pd.Series):
        raise TypeError(
            "comments must be None or a sequence of texts, one per rating row; "
            f"got {type(comments).__name__}"
        )
    arr = pd.Series(list(comments) if not isinstance(comments, pd.Series) else comments.array)
    if len(arr) != n:
        raise ValueError(f"comments must have one text per rating row ({n}); got {len(arr)} texts")
    bad = arr.notna() & ~arr.map(lambda v: isinstance(v, str))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TypeError(
            f"comments must be texts (str) or missing; row {i} is {type(arr.iloc[i]).__name__}"
        )
    return arr.where(arr.notna(), "").map(str.strip).to_numpy(dtype=object)
