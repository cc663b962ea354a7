"""Review times as spreadsheets and form tools write them, turned into UTC.

Forms write local wall-clock time without a zone (``10/5/2026 9:14:03``). Each distinct
text is parsed once with the explicit formats a profile names; naive times are localised
in one IANA zone (``--timezone``, else the machine's) with :mod:`zoneinfo` rules, through
pandas. A local time that does not exist (the hour skipped when clocks go forward) or that
happens twice (the hour repeated when they go back) is a problem naming its row: the kit
does not guess which instant a review was.

Whether ``04/05`` is April or May is decided from the whole column: a first field above 12
says day/month, a second field above 12 says month/day, both at once is a problem listing
the rows on each side, neither leaves the profile's stated order.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._problems import PER_KIND, Problem, more_like_this, shown_value

__all__ = ["ISO", "check_timezone", "local_timezone", "parse_times"]

#: The format name that means ISO 8601 (with or without an offset; naive times are local).
ISO = "iso"
#: The int64 of NaT, the "no time" of a row.
NAT = np.iinfo(np.int64).min
_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)
#: The two leading numbers of a date written ``M/D/...`` or ``D/M/...``.
_TWO_FIELDS = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]")
_DAY_MONTH = re.compile(r"^%([md])([/.\-])%([md])")


def local_timezone() -> str:
    """The machine's IANA zone name: ``$TZ``, ``/etc/timezone``, the ``/etc/localtime``
    link, else ``"UTC"`` (what a container without zone data has)."""
    name = os.environ.get("TZ", "").lstrip(":").strip()
    if name and _is_zone(name):
        return name
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    if name and _is_zone(name):
        return name
    link = Path("/etc/localtime")
    if link.is_symlink():
        target = str(link.resolve())
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            if _is_zone(name):
                return name
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_timezone(name: object) -> str:
    """``name`` when it is an IANA zone this machine knows; else a ValueError naming it."""
    if not isinstance(name, str):
        raise TypeError(f"timezone must be an IANA zone name (str); got {type(name).__name__}")
    if not _is_zone(name):
        raise ValueError(
            f"timezone must be an IANA zone name such as 'America/Chicago' or 'Europe/Berlin'; got {name!r}"
        )
    return name


def _swap_day_month(fmt: str) -> str:
    return fmt.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d")


def _day_month_order(
    uniques: np.ndarray,
    codes: np.ndarray,
    formats: list[str],
    rows: np.ndarray,
    where: dict[str, str],
) -> tuple[list[str], list[Problem]]:
    """The formats with day and month in the order the column shows (see the module)."""
    leading = [f for f in formats if _DAY_MONTH.match(f)]
    if not leading:
        return formats, []
    fields = pd.Series(uniques, dtype=object).str.extract(_TWO_FIELDS)
    first = pd.to_numeric(fields[0], errors="coerce").to_numpy()
    second = pd.to_numeric(fields[1], errors="coerce").to_numpy()
    day_first = np.flatnonzero(first > 12)  # positions in uniques
    month_first = np.flatnonzero(second > 12)
    if len(day_first) and len(month_first):

        def some_rows(u: np.ndarray) -> str:
            at = np.flatnonzero(np.isin(codes, u))[:5]
            return ", ".join(f"row {int(rows[i])} ({uniques[codes[i]]})" for i in at)

        return formats, [
            Problem(
                "the dates are ambiguous: some have a first field above 12 (so day/month: "
                f"{some_rows(day_first)}) and some a second field above 12 (so month/day: "
                f"{some_rows(month_first)}); write one order in the whole column",
                file=where["file"],
                column=where["column"],
                row=int(rows[np.flatnonzero(np.isin(codes, month_first))[0]]),
                kind="dates in two orders",
            )
        ]
    if not len(day_first) and not len(month_first):
        return formats, []  # the profile's order stands
    want = "d" if len(day_first) else "m"
    return [
        _swap_day_month(f) if (m := _DAY_MONTH.match(f)) and m.group(1) != want else f
        for f in formats
    ], []


def parse_times(
    text: pd.Series,
    rows: np.ndarray,
    *,
    formats: list[str],
    zone: str,
    file: str,
    column: str,
    decide_day_month: bool = True,
) -> tuple[np.ndarray, list[Problem], list[str]]:
    """UTC nanoseconds of each cell (:data:`NAT` for a blank), the problems (each naming
    the row, column and value) and the formats used (day/month as the column decided).

    ``formats`` are ``strptime`` formats tried in order, or :data:`ISO`. A time with an
    offset (``%z``, or ISO 8601 with ``Z``/``+02:00``) is converted; a naive one is local
    time in ``zone``.
    """
    where = {"file": file, "column": column}
    codes, uniques = pd.factorize(text, sort=False)
    uniques = np.asarray(uniques, dtype=object)
    problems: list[Problem] = []
    if decide_day_month:
        formats, problems = _day_month_order(uniques, codes, formats, rows, where)
        if problems:
            return np.full(len(text), NAT, dtype=np.int64), problems, formats
    n = len(uniques)
    out = np.full(n, NAT, dtype=np.int64)
    blank = np.array([u == "" for u in uniques], dtype=bool)
    todo = ~blank
    local = np.zeros(n, dtype=bool)  # parsed as a naive (wall-clock) time
    naive = np.full(n, NAT, dtype=np.int64)
    series = pd.Series(uniques, dtype=object)
    for fmt in formats:
        if not todo.any():
            break
        at = np.flatnonzero(todo)
        cells = series.iloc[at]
        if fmt == ISO:
            aware = cells.str.contains(_OFFSET).to_numpy(dtype=bool)
            if aware.any():
                got = pd.to_datetime(cells[aware], format="ISO8601", utc=True, errors="coerce")
                ok = got.notna().to_numpy()
                idx = at[aware][ok]
                out[idx] = got[ok].to_numpy(dtype="datetime64[ns]").view(np.int64)
                todo[idx] = False
            plain = ~aware
            got = pd.to_datetime(cells[plain], format="ISO8601", errors="coerce")
        else:
            aware_fmt = "%z" in fmt or "%Z" in fmt
            got = pd.to_datetime(cells, format=fmt, errors="coerce", utc=aware_fmt)
            plain = np.ones(len(at), dtype=bool)
            if aware_fmt:
                ok = got.notna().to_numpy()
                out[at[ok]] = got[ok].to_numpy(dtype="datetime64[ns]").view(np.int64)
                todo[at[ok]] = False
                continue
        ok = got.notna().to_numpy()
        idx = at[plain][ok]
        naive[idx] = got[ok].to_numpy(dtype="datetime64[ns]").view(np.int64)
        local[idx] = True
        todo[idx] = False
    if local.any():
        idx = np.flatnonzero(local)
        wall = pd.DatetimeIndex(naive[idx].view("datetime64[ns]"))
        stamped = wall.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        ns = stamped.asi8
        out[idx] = ns
        failed = idx[ns == NAT]
        reasons = {int(u): _local_problem(naive[u], zone) for u in failed}
    else:
        reasons = {}
    year = pd.DatetimeIndex(np.where(out == NAT, 0, out).view("datetime64[ns]")).year.to_numpy()
    implausible = (out != NAT) & ((year < 1900) | (year > 2199))
    shown = " or ".join("ISO 8601" if f == ISO else repr(f) for f in formats)
    bad_text = f"not a date-time in the format {shown}"
    for u in np.flatnonzero(todo):
        reasons[int(u)] = bad_text
    for u in np.flatnonzero(implausible):
        reasons[int(u)] = "a review time from 1900 to 2199 is expected"
    per_row = out[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    if reasons:
        bad = np.zeros(n, dtype=bool)
        bad[list(reasons)] = True
        listed_by_kind: dict[str, list[Problem]] = {}
        counts: dict[str, int] = {}
        for i in np.flatnonzero(bad[codes]):
            why = reasons[int(codes[i])]
            kind = why.split(":", 1)[0] if why != bad_text else bad_text
            counts[kind] = counts.get(kind, 0) + 1
            listed = listed_by_kind.setdefault(kind, [])
            if len(listed) < PER_KIND:
                listed.append(
                    Problem(
                        why,
                        file=file,
                        column=column,
                        row=int(rows[i]),
                        value=shown_value(uniques[codes[i]]),
                        kind=kind,
                    )
                )
        for kind, listed in listed_by_kind.items():
            problems += listed
            if counts[kind] > len(listed):
                problems.append(more_like_this(listed[0], counts[kind] - len(listed)))
    return per_row, problems, formats


def _local_problem(wall_ns: np.int64, zone: str) -> str:
    """Why a wall-clock time has no single instant in ``zone`` (PEP 495: a time that
    does not survive the trip to UTC and back does not exist)."""
    from datetime import UTC

    wall = pd.Timestamp(int(wall_ns)).to_pydatetime()
    there = wall.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    if there.astimezone(UTC).astimezone(there.tzinfo).replace(tzinfo=None) != wall:
        return (
            f"local time that does not exist in {zone}: the clocks skip it when they go "
            "forward (daylight saving time); correct the time or write it with its UTC offset"
        )
    return (
        f"local time that happens twice in {zone}: the clocks repeat that hour when they go "
        "back (daylight saving time); which one is meant cannot be known: write it with its "
        "UTC offset"
    )
