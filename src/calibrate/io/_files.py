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
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from calibrate._problems import PER_KIND, Problem, more_like_this, shown_value

__all__ = ["MAX_COLUMNS", "MAX_FIELD_CHARS", "RawTable", "load_cells", "normalise_header"]

#: The most columns a ratings, key or form-export file may have.
MAX_COLUMNS = 1_000
#: The longest cell (a rationale, a comment) read, in characters; ids have their own,
#: smaller limit (:data:`calibrate.ratings.MAX_ID_LENGTH`).
MAX_FIELD_CHARS = 100_000

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


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes) -> tuple[str | None, bytes | None, str | None]:
    """The text, its UTF-8 bytes (the file's own, less a BOM, when it is UTF-8: no second
    copy of a large file) and, when it is no encoding read here, why not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            return (
                None,
                None,
                f"the file is UTF-16 (it starts with a byte-order mark) but is damaged at byte {exc.start}",
            )
        return text, text.encode("utf-8"), None
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            if enc == "cp1252":
                byte = data[exc.start : exc.start + 1]
                return (
                    None,
                    None,
                    f"the file is neither UTF-8 nor Windows-1252 text: line {_line_of(data, exc.start)} "
                    f"holds the byte {byte!r}, which neither encoding has; save it as UTF-8",
                )
            continue
        if enc == "cp1252":
            return text, text.encode("utf-8"), None
        return (
            text,
            data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data,
            None,
        )
    return None, None, "the file is neither UTF-8 nor Windows-1252 text"


def _nul_problem(data: bytes, src: str) -> Problem:
    """A NUL byte in a text file: UTF-16 without a byte-order mark, or binary."""
    sample = data[:4096]
    if len(sample) >= 4 and (
        sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
    ):
        return Problem(
            "the file looks like UTF-16 text without a byte-order mark; save it as UTF-8 "
            "(or UTF-16 with a byte-order mark)",
            file=src,
        )
    at = data.find(b"\x00")
    return Problem(
        "the file is binary, not CSV text (or it is damaged): this line holds a NUL byte (\\x00)",
        file=src,
        line=_line_of(data, at),
    )


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
        if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in data:
            return None, [_nul_problem(data, src)]
        return _csv(data, src, tab=suffix == ".tsv")
    return None, [
        Problem(f"unknown file type {suffix!r}; use .csv, .tsv, .xlsx or .parquet", file=src)
    ]


def _too_many_columns(n: int, src: str) -> Problem:
    return Problem(
        f"the header has {n:,} columns; a ratings file has at most {MAX_COLUMNS:,} "
        "(one per field: ids, score, time, ... or one per criterion in a form export)",
        file=src,
        row=1,
    )


def _finish(
    frame: pd.DataFrame,
    src: str,
    rows: np.ndarray | None = None,
    header: list[str] | None = None,
    *,
    long_cells: bool = True,
    blank_free: bool = False,
) -> tuple[RawTable | None, list[Problem]]:
    """Check the header and turn every cell into stripped text. ``header`` is the header
    as written (the parsers rename repeated names, which would hide them); ``long_cells``
    False says no cell can be longer than :data:`MAX_FIELD_CHARS` (a small file);
    ``blank_free`` True says no cell holds a character that stripping removes (the
    caller saw none in the file: see :func:`_blank_free`), so cells are taken as read."""
    header = [str(c) for c in (frame.columns if header is None else header)]
    if len(header) > MAX_COLUMNS:
        return None, [_too_many_columns(len(header), src)]
    if not header or all(not h.strip() or h.startswith("Unnamed:") for h in header):
        return None, [Problem("the file has no header row", file=src, row=1)]
    names = [normalise_header(c) for c in header]
    where: dict[str, list[int]] = {}
    for i, c in enumerate(names):
        where.setdefault(c, []).append(i)
    problems = [
        Problem(
            f"column {c!r} appears more than once in the header (columns "
            f"{', '.join(str(i + 1) for i in at)}: {', '.join(repr(header[i]) for i in at)})",
            file=src,
            row=1,
            column=c,
        )
        for c, at in where.items()
        if len(at) > 1
    ]
    if len(frame) == 0:
        problems.append(Problem("the file has a header but no data rows", file=src))
    if problems:
        return None, problems
    if rows is None:
        rows = np.arange(2, len(frame) + 2)
    frame.columns = names
    # one new frame from whole columns (assigning 20,000 columns one by one is quadratic)
    cells = {c: frame[c].fillna("").astype(str) for c in names}
    if not blank_free:
        cells = {c: s.str.strip() for c, s in cells.items()}
    frame = pd.DataFrame(cells, index=frame.index, copy=False)
    if long_cells:
        for c in names:
            if _at_most_bytes(frame[c], MAX_FIELD_CHARS):
                continue  # no cell has more bytes, so none has more characters
            lengths = frame[c].str.len().to_numpy()
            long = np.flatnonzero(lengths > MAX_FIELD_CHARS)
            problems += [
                Problem(
                    f"the cell is {int(lengths[i]):,} characters long; a cell has at most "
                    f"{MAX_FIELD_CHARS:,}",
                    file=src,
                    row=int(rows[i]),
                    column=c,
                    value=shown_value(frame[c].iloc[i]),
                    kind=f"cells over {MAX_FIELD_CHARS:,} characters",
                )
                for i in long[: PER_KIND + 1]
            ]
            if len(long) > PER_KIND + 1:
                problems.append(more_like_this(problems[-1], len(long) - PER_KIND - 1))
        if problems:
            return None, problems
    return RawTable(frame, rows, header, src), []


def _at_most_bytes(cells: pd.Series, limit: int) -> bool:
    """Whether no cell of a text column is longer than ``limit`` bytes in UTF-8 (False
    when it cannot tell cheaply): Arrow reads a column's byte lengths without decoding."""
    to_arrow = getattr(cells.array, "__arrow_array__", None)
    if to_arrow is None:
        return False
    lengths = pc.binary_length(to_arrow())
    longest = pc.max(lengths).as_py() if len(lengths) else 0
    return longest is None or longest <= limit


#: Bytes that str.strip() (and Arrow's trim) may remove from an ASCII cell, and the quote
#: (a quoted cell may hold a line break, which stripping removes too).
_ASCII_BLANKS = (b'"', b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def _blank_free(data: bytes, start: int) -> bool:
    """Whether ``data`` from offset ``start`` on holds no character that stripping a cell
    removes (only when it is ASCII: other text may hold Unicode spaces). A bytes scan of a
    few milliseconds, which spares stripping every column of a file that has nothing to
    strip (the usual machine-written export)."""
    return data.isascii() and not any(data.find(b, start) >= 0 for b in _ASCII_BLANKS)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (with their ends), one at a time: the csv module reads only as
    many as a record needs, without copying the whole text."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _header_fields(text: str, sep: str) -> list[str]:
    """The first record of ``text`` as the CSV parsers split it (quotes respected)."""
    try:
        return next(csv.reader(_lines(text), delimiter=sep), [])
    except csv.Error:
        return text.split("\n", 1)[0].split(sep)


def _csv(data: bytes, src: str, *, tab: bool) -> tuple[RawTable | None, list[Problem]]:
    text, utf8, err = _decode(data)
    if text is None or utf8 is None:
        return None, [Problem(err or "cannot decode", file=src)]
    sep = "\t" if tab else _sniff_delimiter(text[:8192])
    first_line = text[: text.find("\n") if "\n" in text else len(text)]
    if first_line.count(sep) + 1 > MAX_COLUMNS:  # an upper bound: quotes may hold sep
        n = len(_header_fields(text, sep))
        if n > MAX_COLUMNS:
            return None, [_too_many_columns(n, src)]
    header = _header_fields(text, sep)
    long_cells = len(text) > MAX_FIELD_CHARS
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
        return _csv_slow(text, src, sep, long_cells=long_cells)
    if len(frame.columns) != len(header):
        return _csv_slow(text, src, sep, long_cells=long_cells)
    # The parser skips blank lines; rebuild true line numbers so errors point at the row
    # a person sees.
    rows = _csv_rows(text, len(frame), set())
    body = utf8.find(b"\n") + 1  # the header is checked on its own; its blanks don't count
    blank_free = body > 0 and _blank_free(utf8, body)
    return _finish(frame, src, rows, header, long_cells=long_cells, blank_free=blank_free)


def _csv_slow(
    text: str, src: str, sep: str, *, long_cells: bool
) -> tuple[RawTable | None, list[Problem]]:
    """Only for files the fast parser refuses: Python's CSV reader, record by record, so
    every row with a wrong number of fields is named (and not shifted into the next
    column) and every other row still validated: all problems at once."""
    csv.field_size_limit(2**31 - 1)  # long cells are measured (and named) by _finish
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    problems: list[Problem] = []
    kind = "rows whose number of fields differs from the header's"
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or all(not f.strip() for f in record):
                continue  # a blank line
            if header is None:
                header = record
                continue
            if len(record) != len(header):
                shown = sep.join(record)
                problems.append(
                    Problem(
                        f"row {start} has {len(record)} fields where the header has {len(header)}"
                        + (
                            " (a field holding the separator needs quotes)"
                            if len(record) > len(header)
                            else " (a field is missing, or a line break inside a field is not quoted)"
                        ),
                        file=src,
                        row=start,
                        value=shown_value(shown),
                        kind=kind,
                    )
                )
                continue
            records.append(record)
            rows.append(start)
    except csv.Error as exc:
        return None, [
            *problems,
            Problem(f"cannot be read as CSV: {exc}", file=src, line=reader.line_num or None),
        ]
    if header is None:
        return None, [Problem("the file has no header row", file=src, row=1)]
    if len(header) > MAX_COLUMNS:
        return None, [_too_many_columns(len(header), src)]
    frame = pd.DataFrame(records, columns=range(len(header)), dtype=object)
    if not records and problems:
        return None, problems
    raw, more = _finish(frame, src, np.asarray(rows, dtype=np.int64), header, long_cells=long_cells)
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
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        name = sheet if sheet is not None else 0
        if isinstance(name, str) and name not in book.sheet_names:
            return None, [
                Problem(
                    f"Worksheet named {name!r} not found: the workbook has no sheet {name!r} "
                    f"(sheets: {', '.join(map(repr, book.sheet_names))})",
                    file=src,
                )
            ]
        frame = pd.read_excel(
            book, sheet_name=name, header=None, dtype=str, keep_default_na=False, na_filter=False
        )
    except ValueError as exc:  # e.g. a sheet position that does not exist
        return None, [Problem(f"cannot read the workbook: {exc}", file=src)]
    except Exception as exc:  # openpyxl raises many types on a damaged workbook
        return None, [
            Problem(f"damaged or unreadable Excel workbook ({type(exc).__name__}: {exc})", file=src)
        ]
    title = name if isinstance(name, str) else book.sheet_names[name]
    frame = frame[(frame != "").any(axis=1).to_numpy()]
    if frame.empty:
        return None, [_empty_sheet(book, title, src, chosen=sheet is not None)]
    header = [str(c).strip() for c in frame.iloc[0]]
    body = frame.iloc[1:]
    problems = _formula_problems(data, title, body, header, src) if (body == "").any().any() else []
    body.columns = range(len(header))
    raw, more = _finish(
        body.reset_index(drop=True), src, body.index.to_numpy() + 1, header, long_cells=False
    )
    return (None, problems + more) if problems else (raw, more)


def _empty_sheet(book: pd.ExcelFile, title: str, src: str, *, chosen: bool) -> Problem:
    """Sheet ``title`` has no cells: name the sheets that do."""
    others = []
    for other in book.sheet_names:
        if other == title:
            continue
        try:
            part = pd.read_excel(
                book, sheet_name=other, header=None, dtype=str, nrows=2, keep_default_na=False
            )
        except Exception:  # a damaged other sheet: just not named
            continue
        if (part != "").any().any():
            others.append(other)
    if not others:
        return Problem(f"sheet {title!r} is empty, and so is every other sheet", file=src)
    hint = "" if chosen else f": choose it with --sheet {others[0]!r} (sheet= in Python)"
    return Problem(
        f"sheet {title!r} is empty; the workbook has data on {', '.join(map(repr, others))}{hint}",
        file=src,
    )


def _formula_problems(
    data: bytes, title: str, body: pd.DataFrame, header: list[str], src: str
) -> list[Problem]:
    """Blank cells that hold a formula with no saved result (a workbook written by a
    program, never opened and saved by a spreadsheet): named as formulas, not as blanks."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        cells = list(book[title].iter_rows(min_row=1, min_col=1))
    except Exception:  # the values were read: this second look is only for better messages
        return []
    blank = set(zip(*np.nonzero((body == "").to_numpy()), strict=True))
    index = {int(r): i for i, r in enumerate(body.index)}
    problems = []
    for row in cells:
        for cell in row:
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) != "f" or value is None:
                continue
            r, c = int(cell.row), int(cell.column)
            i = index.get(r - 1)
            if i is None or (i, c - 1) not in blank:
                continue
            formula = str(getattr(value, "text", value))
            column = normalise_header(header[c - 1]) if c - 1 < len(header) else f"column {c}"
            problems.append(
                Problem(
                    f"sheet {title!r}, cell {get_column_letter(c)}{r} holds the formula "
                    f"{formula} with no saved result: open and save the workbook in a "
                    "spreadsheet, or paste the values",
                    file=src,
                    row=r,
                    column=column,
                    value=shown_value(formula),
                    kind="formula cells without a saved result",
                )
            )
    return problems


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
