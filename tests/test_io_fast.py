"""The fast paths of reading (Arrow times, line counts, kinds per spelling, one-key duplicate
check) give what the general code gives. Reference: the general code itself (pandas'
ISO 8601 parser, ``str.splitlines``, ``str.casefold``); tolerance: none (equal values)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from calibrate._problems import RatingsError
from calibrate.io import read_ratings
from calibrate.io._files import _line_count
from calibrate.io._validate import _utc_seconds
from calibrate.rubric import load_rubric

RUBRIC = "rubrics/evidence-4level.yaml"


def test_line_count_is_splitlines_or_none():
    rng = random.Random(14)
    for _ in range(5000):
        text = "".join(rng.choice("ab,\n\r\x85\u2028 ") for _ in range(rng.randint(0, 12)))
        got = _line_count(text)
        assert got is None or got == len(text.splitlines()), repr(text)
    assert _line_count("a\r\nb\r\n") == 2 and _line_count("a\nb") == 2 and _line_count("") == 0


def test_arrow_times_equal_pandas_iso8601():
    rng = np.random.default_rng(14)
    lo, hi = pd.Timestamp("1900-01-01").value // 10**9, pd.Timestamp("2199-12-31").value // 10**9
    stamps = pd.to_datetime(rng.integers(lo, hi, 5000), unit="s")
    text = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype="str")
    fast = _utc_seconds(text)
    slow = pd.to_datetime(text, format="ISO8601", utc=True).astype("datetime64[ns, UTC]")
    assert fast is not None and fast.dtype == slow.dtype and fast.equals(slow)
    for odd in ["2026-02-30T00:00:00Z", "2026-01-05 08:00:00Z", "2200-01-01T00:00:00Z", "12"]:
        assert _utc_seconds(pd.Series([odd], dtype="str")) is None


def _write(tmp_path, rows):
    path = tmp_path / "r.csv"
    path.write_text("submission_id,reviewer_id,criterion_id,score,rated_at,kind\n" + rows)
    return path


def test_bad_day_still_reported(tmp_path):
    path = _write(tmp_path, "S1,R1,overview,3,2026-02-30T10:00:00Z,live\n")
    with pytest.raises(RatingsError) as err:
        read_ratings(path, load_rubric(RUBRIC))
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "rated_at")]


def test_kinds_and_duplicates(tmp_path):
    rubric = load_rubric(RUBRIC)
    ok = _write(tmp_path, "S1,R1,overview,3,,LIVE\nS1,R2,overview,3,,Anchor\nS2,R1,overview,2,,\n")
    frame = read_ratings(ok, rubric).frame
    assert frame["kind"].astype(object).tolist() == ["live", "anchor", np.nan]
    assert frame["kind"].cat.categories.dtype == object
    bad = _write(tmp_path, "S1,R1,overview,3,,lve\nS1,R1,overview,3,,live\n")
    with pytest.raises(RatingsError) as err:
        read_ratings(bad, rubric)
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "kind"), (3, None)]


def _cells_of(tmp_path, body: bytes) -> list[list[str]]:
    from calibrate.io._files import load_cells

    path = tmp_path / "cells.csv"
    path.write_bytes(b"submission_id,reviewer_id,score\n" + body)
    raw, problems = load_cells(path)
    assert raw is not None and not problems
    return raw.frame.to_numpy().tolist()


@pytest.mark.parametrize(
    "cell",
    [b" S1", b"S1\t", b"S1 ", b'"S1\n"', b'" S1"', b"S1\xc2\xa0", b"\xe2\x80\x83S1", b"S1\x0c"],
)
def test_cells_are_stripped_whether_or_not_the_fast_path_applies(tmp_path, cell):
    # The fast path takes cells as read only when the bytes after the header hold nothing
    # that str.strip would remove (ASCII, no blanks, no quotes); every other file is
    # stripped. Reference: str.strip on each cell.
    clean = _cells_of(tmp_path, b"S1,R1,2\nS2,R2,3\n" * 600)
    assert clean[:2] == [["S1", "R1", "2"], ["S2", "R2", "3"]]
    got = _cells_of(tmp_path, b"S2,R2,3\n" * 600 + cell + b",R1,2\n")
    assert got[-1] == ["S1", "R1", "2"] and got[0] == ["S2", "R2", "3"]


def test_a_long_cell_is_still_found_after_the_byte_length_check(tmp_path):
    from calibrate.io import MAX_FIELD_CHARS
    from calibrate.io._files import load_cells

    path = tmp_path / "long.csv"
    long = "é" * (MAX_FIELD_CHARS // 2 + 1)  # more bytes than the limit, fewer characters
    longer = "x" * (MAX_FIELD_CHARS + 1)
    path.write_text(
        f"submission_id,reviewer_id,score\nS1,{long},2\nS2,R2,{longer}\n", encoding="utf-8"
    )
    raw, problems = load_cells(path)
    assert raw is None
    assert [(q.row, q.column) for q in problems] == [(3, "score")]
