"""Loading a tabular file as text cells, whatever its format, without losing a problem.

Every cell comes back as a stripped string (empty for a blank cell), so validation sees
exactly what the person typed. Format problems (a ``.xlsx`` that is really CSV, rows with
the wrong number of fields, an empty file) become :class:`Problem` records.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._problems import Problem

__all__ = ["RawTable", "load_cells", "normalise_header"]

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


class RawTable:
    """Text cells of a file: ``frame`` (all str), the spreadsheet row number of each
    frame row (header = row 1) and the header exactly as written."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray, header: list[str], source: str):
        self.frame = frame
        self.rows = rows
        self.header = header
        self.source = source
        self.problems: list[Problem] = []


def normalise_header(name: object) -> str:
    """``' Submission ID '`` -> ``'submission_id'``: what spreadsheets do to headers."""
    text = str(name).replace("\ufeff", "").strip().casefold()
    return re.sub(r"[\s\-]+", "_", text)


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _decode(data: bytes) -> tuple[str | None, bytes | None, str | None]:
    """The text, its UTF-8 bytes (the file's own, less a BOM, when it is UTF-8: no second
    copy of a large file) and, when it is neither encoding, why not."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "cp1252":
            return text, text.encode("utf-8"), None
        return (
            text,
            data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data,
            None,
        )
    return None, None, "the file is neither UTF-8 nor Windows-1252 text"


def load_cells(
    path: str | Path, *, sheet: str | int | None = None
) -> tuple[RawTable | None, list[Problem]]:
    """Read ``path`` as text cells. Returns ``(table, problems)``; ``table`` is None
    when nothing could be read. Raises FileNotFoundError for a missing path."""
    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {src}")
    data = path.read_bytes()
    if not data.strip():
        return None, [Problem("the file is empty", file=src)]
    suffix = path.suffix.casefold()
    head = data[:8]
    if suffix in _EXCEL_SUFFIXES:
        if not head.startswith(_ZIP_MAGIC):
            what = (
                "a legacy .xls workbook"
                if head.startswith(_OLE_MAGIC)
                else "text"
                if b"\x00" not in data[:4096]
                else "some other binary file"
            )
            return None, [
                Problem(
                    f"the name says Excel workbook ({suffix}) but the file is {what}; save it as .xlsx (or rename a CSV to .csv)",
                    file=src,
                )
            ]
        return _excel(data, src, sheet)
    if suffix == ".xls":
        return None, [
            Problem("legacy .xls workbooks are not read; save the sheet as .xlsx or .csv", file=src)
        ]
    if suffix in _PARQUET_SUFFIXES:
        if not (data.startswith(_PARQUET_MAGIC) and data.endswith(_PARQUET_MAGIC)):
            return None, [
                Problem(
                    f"the name says Parquet ({suffix}) but the file is not a Parquet file (no PAR1 marker)",
                    file=src,
                )
            ]
        return _parquet(data, src)
    if suffix in _TEXT_SUFFIXES or suffix == "":
        if head.startswith(_ZIP_MAGIC):
            return None, [
                Problem(
                    f"the name says text ({suffix or 'no suffix'}) but the file is a zip archive (an Excel workbook?); name it .xlsx",
                    file=src,
                )
            ]
        if head.startswith(_PARQUET_MAGIC):
            return None, [
                Problem(
                    f"the name says text ({suffix or 'no suffix'}) but the file is Parquet; name it .parquet",
                    file=src,
                )
            ]
        if b"\x00" in data[:65536]:
            return None, [
                Problem("the file is binary, not CSV text (it contains NUL bytes)", file=src)
            ]
        return _csv(data, src, tab=suffix == ".tsv")
    return None, [
        Problem(f"unknown file type {suffix!r}; use .csv, .tsv, .xlsx or .parquet", file=src)
    ]


def _finish(
    frame: pd.DataFrame, src: str, rows: np.ndarray | None = None
) -> tuple[RawTable | None, list[Problem]]:
    header = [str(c) for c in frame.columns]
    if not header or all(not h.strip() or h.startswith("Unnamed:") for h in header):
        return None, [Problem("the file has no header row", file=src, row=1)]
    frame.columns = [normalise_header(c) for c in header]
    dup = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    problems = [
        Problem(f"column {c!r} appears more than once in the header", file=src, row=1, column=c)
        for c in dup
    ]
    if len(frame) == 0:
        problems.append(Problem("the file has a header but no data rows", file=src))
    if problems:
        return None, problems
    if rows is None:
        rows = np.arange(2, len(frame) + 2)
    frame = frame.fillna("")
    for col in frame.columns:
        frame[col] = frame[col].astype(str).str.strip()
    return RawTable(frame, rows, header, src), []


_BAD_LINE = re.compile(r"[Ll]ine (\d+)[^\d]*?expected (\d+) fields?, saw (\d+)")


def _csv(data: bytes, src: str, *, tab: bool) -> tuple[RawTable | None, list[Problem]]:
    text, utf8, err = _decode(data)
    if text is None or utf8 is None:
        return None, [Problem(err or "cannot decode", file=src)]
    sep = "\t" if tab else _sniff_delimiter(text[:8192])
    problems: list[Problem] = []
    caught: list[warnings.WarningMessage] = []
    try:
        # Fast path: Arrow's multi-threaded parser; it stops at the first malformed line.
        frame = pd.read_csv(
            io.BytesIO(utf8),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            engine="pyarrow",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        # Slow path, only for broken files: the C parser reports every malformed line.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = pd.read_csv(
                    io.StringIO(text),
                    sep=sep,
                    dtype=str,
                    keep_default_na=False,
                    na_filter=False,
                    skip_blank_lines=True,
                    on_bad_lines="warn",
                    engine="c",
                )
            except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
                return None, [Problem(f"cannot be read as CSV: {exc}".strip(), file=src)]
    skipped: set[int] = set()
    for w in caught:
        for m in _BAD_LINE.finditer(str(w.message)):
            line, want, saw = (int(g) for g in m.groups())
            skipped.add(line)
            problems.append(
                Problem(f"this line has {saw} fields; the header has {want}", file=src, row=line)
            )
    # The parser skips blank and malformed lines; rebuild true line numbers so errors
    # point at the row a person sees. Other rows are still validated: all problems at once.
    rows = _csv_rows(text, len(frame), skipped)
    raw, more = _finish(frame, src, rows)
    return raw, problems + more


#: What ``str.splitlines`` also takes for a line break, besides "\n", "\r\n" and "\r".
_OTHER_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _line_count(text: str) -> int | None:
    """``len(text.splitlines())`` without splitting (a million lines cost half a second),
    when the only line breaks are "\n" and "\r\n"; otherwise None."""
    n_cr = text.count("\r")
    if (n_cr and n_cr != text.count("\r\n")) or any(c in text for c in _OTHER_BREAKS):
        return None
    n_lf = text.count("\n")
    return n_lf + (0 if not text or text.endswith("\n") else 1)


def _csv_rows(text: str, n: int, skipped: set[int]) -> np.ndarray | None:
    if not skipped and _line_count(text) == n + 1:  # rows are simply 2..n+1
        return None
    lines = text.splitlines()
    if len(lines) == n + 1 and not skipped:  # rows are simply 2..n+1
        return None
    kept = np.fromiter(
        (i + 1 for i, ln in enumerate(lines) if ln.strip() and i + 1 not in skipped), dtype=np.int64
    )
    # Quoted cells spanning lines make this inexact; then fall back to 2..n+1.
    return kept[1 : n + 1] if len(kept) == n + 1 else None


def _excel(data: bytes, src: str, sheet: str | int | None) -> tuple[RawTable | None, list[Problem]]:
    try:
        frame = pd.read_excel(
            io.BytesIO(data),
            sheet_name=0 if sheet is None else sheet,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="openpyxl",
        )
    except ValueError as exc:  # e.g. a sheet that does not exist
        return None, [Problem(f"cannot read the workbook: {exc}", file=src)]
    except Exception as exc:  # openpyxl raises many types on a damaged workbook
        return None, [
            Problem(f"damaged or unreadable Excel workbook ({type(exc).__name__}: {exc})", file=src)
        ]
    frame = frame.dropna(how="all")
    return _finish(frame, src, frame.index.to_numpy() + 2)


def _parquet(data: bytes, src: str) -> tuple[RawTable | None, list[Problem]]:
    try:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ... on damaged files
        return None, [
            Problem(f"damaged or unreadable Parquet file ({type(exc).__name__}: {exc})", file=src)
        ]
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            frame[col] = s.dt.strftime("%Y-%m-%dT%H:%M:%S%z").fillna("")
        elif pd.api.types.is_float_dtype(s):
            frame[col] = s.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        else:
            frame[col] = s.astype(object).where(s.notna(), "").astype(str)
    return _finish(frame, src)
