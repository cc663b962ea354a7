"""Resubmissions: which educator a submission is from and which attempt at the credential.

Each attempt is its own submission (its own ``submission_id``), so every analysis treats
attempts as separate submissions; the link between them is two submission attributes,
``educator_id`` and ``attempt`` (1, 2, ...). A file gives them as columns ``educator_id``
and ``attempt``, or ``resubmission_of`` (the earlier submission's id) instead of the
number: :func:`resolve_attempts` turns that into the attempt number and checks the whole
(an attempt 2 with no attempt 1 of its educator, two submissions with one educator and
attempt, an attempt with no educator), naming the file row of each problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._problems import Problem, RatingsError, shown_value
from calibrate.io._attributes import attribute_frame
from calibrate.io._files import load_cells, normalise_header
from calibrate.io._validate import _unquote

__all__ = [
    "ATTEMPT_COLUMNS",
    "header_may_name",
    "read_attempt_columns",
    "resolve_attempts",
    "submission_attempts",
]

#: The optional columns of a long ratings file that link an educator's attempts.
ATTEMPT_COLUMNS = ("educator_id", "attempt", "resubmission_of")
_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def read_attempt_columns(
    path: str | Path, *, sheet: str | int | None = None
) -> tuple[pd.DataFrame, dict[str, int]] | None:
    """The :data:`ATTEMPT_COLUMNS` of a long ratings file, one row per submission.

    Returns None when the file has none of them; else (frame, rows): ``submission_id``
    and the columns the file has (text, None where blank), and the first file row of
    each submission (the header is row 1), for :func:`resolve_attempts`.

    Raises
    ------
    RatingsError
        A submission given two values of one of them, naming both rows.
    """
    if not header_may_name(path, ATTEMPT_COLUMNS):
        return None  # (a big import's file is not read a second time for nothing)
    raw, problems = load_cells(path, sheet=sheet)
    if raw is None:
        raise RatingsError(problems)
    by_norm = {normalise_header(h): i for i, h in enumerate(raw.header)}
    found = {c: by_norm[c] for c in ATTEMPT_COLUMNS if c in by_norm}
    if not found or "submission_id" not in by_norm:
        return None
    f = raw.frame
    col = list(f.columns)

    def cells(i: int) -> np.ndarray:
        return _unquote(f[col[i]].astype(str).str.strip()).to_numpy(dtype=object)

    ids = cells(by_norm["submission_id"])
    frame, clashes = attribute_frame(
        ids,
        {name: (cells(i), raw.header[i]) for name, i in found.items()},
        raw.rows,
        id_column="submission_id",
        what="submission",
        source=raw.source,
    )
    if clashes:
        raise RatingsError(clashes)
    first = pd.Series(raw.rows[ids != ""]).groupby(ids[ids != ""]).min()
    return frame, {str(k): int(v) for k, v in first.items()}


def header_may_name(path: str | Path, names: tuple[str, ...]) -> bool:
    """Whether the first line of a text file may name one of ``names`` (normalised
    headers, e.g. ``educator_id``): False only when it surely does not, so that a big
    file is not read again for nothing. Workbooks and Parquet files: True."""
    path = Path(path)
    if path.suffix.casefold() not in (".csv", ".tsv", ".txt"):
        return True
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    else:  # UTF-8 or Windows-1252: an ASCII header reads the same in both
        text = head.decode("utf-8", errors="replace")
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    norm = re.sub(r"[\s\-]+", "_", first.casefold())
    return any(c in norm for c in names)


def resolve_attempts(
    frame: pd.DataFrame,
    *,
    rows: Mapping[str, int] | None = None,
    source: str | None = None,
    known: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Each submission's educator and attempt number, checked.

    Parameters
    ----------
    frame : DataFrame
        ``submission_id`` and any of ``educator_id``, ``attempt`` (1, 2, ...) and
        ``resubmission_of`` (the id of the same educator's previous submission), one row
        per submission; blank (None, NaN or "") where not given.
    rows : mapping, optional
        The file row of each submission, named in problems.
    source : str, optional
        The file, named in problems.
    known : DataFrame, optional
        Submissions already stored (``submission_id``, ``educator_id``, ``attempt``:
        :meth:`calibrate.store.Store.attributes`); ``resubmission_of`` may name them and
        the checks include them. A submission in ``frame`` replaces its stored values.

    Returns
    -------
    (DataFrame, list of Problem)
        ``submission_id``, ``educator_id`` and ``attempt`` (text ``"1"``, ``"2"``, ...,
        as attributes are stored) of the submissions that have an educator; and every
        problem. A submission with an educator but neither ``attempt`` nor
        ``resubmission_of`` is attempt 1; ``resubmission_of`` gives the earlier
        submission's attempt + 1 and its educator (a different educator given is a problem).

    Examples
    --------
    >>> f = pd.DataFrame({"submission_id": ["S1", "S2"], "educator_id": ["E1", None],
    ...                   "resubmission_of": [None, "S1"]})
    >>> resolve_attempts(f)[0].values.tolist()
    [['S1', 'E1', '1'], ['S2', 'E1', '2']]
    """
    rows = rows or {}

    def text(value: object) -> str:
        if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
            return ""
        return str(value).strip()

    def get(r: pd.Series, name: str) -> str:
        return text(r[name]) if name in r.index else ""

    new = {
        text(r["submission_id"]): (
            get(r, "educator_id"),
            get(r, "attempt"),
            get(r, "resubmission_of"),
        )
        for _, r in frame.iterrows()
        if text(r["submission_id"])
    }
    stored: dict[str, tuple[str, int]] = {}
    if known is not None and len(known) and {"educator_id", "attempt"} <= set(known.columns):
        for sid, edu, att in zip(
            known["submission_id"], known["educator_id"], known["attempt"], strict=True
        ):
            sid, edu, att = text(sid), text(edu), text(att)
            if sid and sid not in new and edu and _NUMBER.fullmatch(att):
                stored[sid] = (edu, int(att))
    problems: list[Problem] = []

    def problem(sid: str, message: str, column: str, value: str) -> None:
        problems.append(
            Problem(
                message,
                file=source,
                row=rows.get(sid),
                column=column,
                value=shown_value(value),
                kind="educators' attempts that do not fit together",
            )
        )

    done: dict[str, tuple[str, int] | None] = {}

    def resolve(sid: str, seen: tuple[str, ...]) -> tuple[str, int] | None:
        if sid in done:
            return done[sid]
        if sid not in new:
            return stored.get(sid)
        edu, att_text, earlier = new[sid]
        att: int | None = None
        if att_text:
            if _NUMBER.fullmatch(att_text):
                att = int(att_text)
            else:
                problem(
                    sid,
                    f"submission {sid!r}: attempt must be a whole number 1, 2, ...; got {att_text!r}",
                    "attempt",
                    att_text,
                )
                done[sid] = None
                return None
        out: tuple[str, int] | None = None
        if earlier:
            prev = None
            if earlier == sid or earlier in seen:
                problem(
                    sid,
                    f"submission {sid!r}: resubmission_of {earlier!r} goes round in a circle",
                    "resubmission_of",
                    earlier,
                )
            elif earlier not in new and earlier not in stored:
                problem(
                    sid,
                    f"submission {sid!r} is a resubmission of {earlier!r}, which is neither in "
                    "this file nor stored with an educator_id and attempt",
                    "resubmission_of",
                    earlier,
                )
            else:
                prev = resolve(earlier, (*seen, sid))
                if prev is None and earlier in new:
                    problem(
                        sid,
                        f"submission {sid!r} is a resubmission of {earlier!r}, which has no "
                        "educator_id",
                        "resubmission_of",
                        earlier,
                    )
            if prev is not None:
                if edu and edu != prev[0]:
                    problem(
                        sid,
                        f"submission {sid!r} is a resubmission of {earlier!r} (educator "
                        f"{prev[0]!r}) but has educator_id {edu!r}",
                        "educator_id",
                        edu,
                    )
                elif att is not None and att != prev[1] + 1:
                    problem(
                        sid,
                        f"submission {sid!r} is a resubmission of {earlier!r} (attempt "
                        f"{prev[1]}), so attempt {prev[1] + 1}; the file says {att}",
                        "attempt",
                        str(att),
                    )
                else:
                    out = (prev[0], prev[1] + 1)
        elif edu:
            out = (edu, 1 if att is None else att)
        elif att is not None:
            problem(
                sid,
                f"submission {sid!r} has attempt {att} but no educator_id: whose attempt is it?",
                "attempt",
                str(att),
            )
        done[sid] = out
        return out

    for sid in new:
        resolve(sid, ())
    got = {sid: v for sid, v in done.items() if v is not None}
    everyone = {**stored, **got}
    holder: dict[tuple[str, int], list[str]] = {}
    for sid, v in everyone.items():
        holder.setdefault(v, []).append(sid)
    for sid, (edu, att) in got.items():
        others = [s for s in holder[(edu, att)] if s != sid]
        if others:
            where = "stored" if others[0] in stored else "in this file"
            problem(
                sid,
                f"submissions {sid!r} and {others[0]!r} ({where}) are both attempt {att} of "
                f"educator {edu!r}: each attempt is one submission",
                "attempt",
                str(att),
            )
        if att > 1 and (edu, att - 1) not in holder:
            problem(
                sid,
                f"submission {sid!r} is attempt {att} of educator {edu!r}, who has no attempt "
                f"{att - 1} (in this file or stored)",
                "attempt",
                str(att),
            )
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    ids = sorted(got)
    out = pd.DataFrame(
        {
            "submission_id": pd.Series(ids, dtype=object),
            "educator_id": pd.Series([got[s][0] for s in ids], dtype=object),
            "attempt": pd.Series([str(got[s][1]) for s in ids], dtype=object),
        }
    )
    return out, problems


def submission_attempts(attributes: pd.DataFrame) -> pd.Series:
    """Attempt number (int) per ``submission_id`` from a frame of submission attributes
    (``submission_id``, ``attempt``: e.g. :meth:`Store.attributes` or
    :func:`resolve_attempts`); submissions without one are left out.

    >>> submission_attempts(pd.DataFrame({"submission_id": ["S1", "S2"], "attempt": ["1", None]}))
    submission_id
    S1    1
    Name: attempt, dtype: int64
    """
    if "submission_id" not in attributes.columns or "attempt" not in attributes.columns:
        raise ValueError(
            "attributes must have the columns submission_id and attempt; got "
            f"{list(attributes.columns)}"
        )
    att = attributes["attempt"].astype(object).where(attributes["attempt"].notna(), "")
    att = att.map(lambda v: str(v).strip())
    ok = att.map(lambda v: bool(_NUMBER.fullmatch(v))).to_numpy(dtype=bool)
    bad = att[(att != "") & ~ok]
    if len(bad):
        raise ValueError(
            f"attempt must be a whole number 1, 2, ...; got {bad.iloc[0]!r} for submission "
            f"{attributes['submission_id'][bad.index[0]]!r}"
        )
    out = pd.Series(
        att[ok].astype(int).to_numpy(),
        index=pd.Index(attributes["submission_id"][ok].astype(str), name="submission_id"),
        name="attempt",
    )
    return out
