"""Writing tables for people: CSV and Excel with formula-like text neutralised."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from calibrate._atomic import atomic_path
from calibrate._checks import check_instance
from calibrate.ratings import AnswerKey, RatingsTable

__all__ = [
    "EMAIL_PLACEHOLDER",
    "FREE_TEXT_COLUMNS",
    "PseudonymCollisionError",
    "export_table",
    "iso_utc",
    "neutralise_formulas",
    "ratings_to_records",
    "refuse_collisions",
    "scrub_text",
]

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


class PseudonymCollisionError(ValueError):
    """Two distinct ids got the same pseudonym: an output would merge them, so none is made."""


def refuse_collisions(table: dict[str, str], what: str) -> None:
    """Refuse a value -> pseudonym ``table`` in which two values share a pseudonym (an
    output would merge them), naming both.

    Raises
    ------
    PseudonymCollisionError
    """
    if len(set(table.values())) == len(table):
        return
    owner: dict[str, str] = {}
    for value, alias in table.items():
        if alias in owner:
            raise PseudonymCollisionError(
                f"pseudonyms collide: {what} {owner[alias]!r} and {value!r} both become "
                f"{alias!r}; nothing was written (the output would merge them)"
            )
        owner[alias] = value


#: What an e-mail address inside free text becomes in pseudonymised output.
EMAIL_PLACEHOLDER = "[e-mail]"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
#: A word of free text that may be an id: letters, digits, '_' and '-', dots only inside
#: (so "see S001." finds S001).
_WORD = re.compile(r"[\w-]+(?:\.[\w-]+)*")
#: Columns of free text that pseudonymised exports scrub.
FREE_TEXT_COLUMNS = ("rationale", "comment", "comments", "feedback")


def scrub_text(texts: Iterable[object], replace: Mapping[str, str]) -> list[str]:
    """Free text with every e-mail address replaced by :data:`EMAIL_PLACEHOLDER` and every
    whole-word occurrence of a key of ``replace`` (an id, or a person's name: several words
    are matched as written, with any spacing) by its value, ignoring case. A word inside a
    longer id is left alone ("R001" is not found in "R0012" or "X-R001"). Missing values
    become "".

    >>> scrub_text(["R001 agreed with r002 (r002@x.org) on S7.", None],
    ...            {"R001": "R-A", "R002": "R-B", "S7": "S-C", "Ann Lee": "R-A"})
    ['R-A agreed with R-B ([e-mail]) on S-C.', '']
    >>> scrub_text(["Ann  Lee wrote it"], {"Ann Lee": "R-A"})
    ['R-A wrote it']
    """
    words: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for k, v in replace.items():
        key = str(k).strip()
        if not key:
            continue
        if _WORD.fullmatch(key):
            words[key.casefold()] = str(v)
        else:
            phrases[" ".join(key.split()).casefold()] = str(v)
    phrase_re = None
    if phrases:
        alternatives = sorted(phrases, key=len, reverse=True)
        phrase_re = re.compile(
            r"(?<![\w-])(?:"
            + "|".join(r"\s+".join(map(re.escape, a.split(" "))) for a in alternatives)
            + r")(?![\w-])",
            re.IGNORECASE,
        )

    def word(m: re.Match[str]) -> str:
        return words.get(m.group(0).casefold(), m.group(0))

    def phrase(m: re.Match[str]) -> str:
        return phrases[" ".join(m.group(0).split()).casefold()]

    out = []
    for t in texts:
        if t is None or (isinstance(t, float) and t != t):
            out.append("")
            continue
        text = _EMAIL.sub(EMAIL_PLACEHOLDER, str(t))
        if phrase_re is not None:
            text = phrase_re.sub(phrase, text)
        if words:
            text = _WORD.sub(word, text)
        out.append(text)
    return out


def export_table(
    data: pd.DataFrame | RatingsTable | AnswerKey,
    path: str | Path,
    *,
    pseudonymizer: Callable[[str, str], str] | None = None,
    free_text_ids: Mapping[str, Iterable[object]] | None = None,
    free_text_names: Mapping[str, str] | None = None,
) -> Path:
    """Write a table to ``.csv`` or ``.xlsx`` with formula-like text neutralised.

    With ``pseudonymizer`` (a :class:`calibrate.report.Pseudonymizer`), reviewer and
    submission ids are replaced by their keyed pseudonyms, also where free text
    (:data:`FREE_TEXT_COLUMNS`) names them, and e-mail addresses in free text are removed
    (:func:`scrub_text`). ``free_text_ids`` (prefix -> ids, e.g. ``{"R": reviewer ids}``)
    names more ids to find in free text than the table's own columns hold (an answer key
    has no reviewer column, but its rationales may name reviewers); ``free_text_names``
    (a person's name or e-mail address -> the pseudonym to write instead) the names the
    program holds (reviewer or educator attributes). The file is written to a
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
        everyone: dict[str, str] = {}
        for col, prefix in (("reviewer_id", "R"), ("submission_id", "S")):
            if col in frame.columns:
                ids = frame[col].dropna().astype(str).unique()
                table = {v: pseudonymizer(v, prefix) for v in ids}
                refuse_collisions(table, col)
                frame[col] = frame[col].map(lambda v, t=table: v if pd.isna(v) else t[str(v)])
                everyone.update(table)
        for prefix, ids in (free_text_ids or {}).items():
            for v in ids:
                everyone.setdefault(str(v), pseudonymizer(str(v), str(prefix)))
        for name, alias in (free_text_names or {}).items():
            everyone.setdefault(str(name), str(alias))
        for col in frame.columns:
            if str(col).casefold() in FREE_TEXT_COLUMNS:
                frame[col] = scrub_text(frame[col].tolist(), everyone)
    safe = neutralise_formulas(frame)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            safe.to_csv(tmp, index=False, lineterminator="\n")
        else:
            safe.to_excel(tmp, index=False, engine="openpyxl")
    return path
