"""Level cells and local times, the two conversions a form export needs.

Times are checked against Python's :mod:`zoneinfo` (the IANA tz database, PEP 615/495): the
UTC instant of each local wall time is computed independently here and must match exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from calibrate.io import ProfileReadError, read_profile
from calibrate.io._forms import _level_text
from calibrate.io._times import NAT, check_timezone, local_timezone, parse_times

RUBRIC = "rubrics/evidence-4level.yaml"


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        ("3 - Proficient", "3"),
        ("3", "3"),
        ("Proficient", "3"),
        ("  proficient ", "3"),
        ("3 \u2013 Proficient", "3"),
        ("3 \u2014 proficient", "3"),
        ("3: Proficient", "3"),
        ("3. Proficient", "3"),
        ("3) Proficient", "3"),
        ("1 - Not  yet   evident", "1"),
        ("NOT YET EVIDENT", "1"),
    ],
    ids=lambda v: repr(v),
)
def test_level_cells(evidence_rubric, cell, score):
    crit = evidence_rubric.criteria[0]
    got, why = _level_text(cell, crit)
    assert why is None
    # plain numbers are passed on to the long-file validation, which reads " 3" and "3"
    assert got.strip() == score


def test_number_and_label_that_disagree_is_a_problem(evidence_rubric):
    got, why = _level_text("2 - Proficient", evidence_rubric.criteria[0])
    assert why is not None and "the number 2 and the label 'Proficient' disagree" in why
    assert "that label is level 3" in why
    _, why = _level_text("3 - Proficent", evidence_rubric.criteria[0])
    assert why is not None and "'Proficent' after the number is not a level label" in why


def test_disagreeing_cell_is_named_in_the_read(tmp_path, evidence_rubric):
    path = tmp_path / "f.csv"
    path.write_text(
        "Timestamp,Reviewer ID,Submission ID,Q [Overview questions],Q [Reflection]\n"
        "10/5/2026 9:14:03,R1,S1,2 - Proficient,Exemplary\n"
        "10/5/2026 9:15:03,R2,S1,3,5\n"
    )
    with pytest.raises(ProfileReadError) as info:
        read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    got = {(p.row, p.column, p.value) for p in info.value.problems}
    assert (2, "Q [Overview questions]", "2 - Proficient") in got
    assert (3, "Q [Reflection]", "5") in got  # out of range, said by the long-file validation
    assert len(info.value.problems) == 2
    assert [m["role"] for m in info.value.mapping][:3] == ["time", "reviewer", "submission"]


def _parse(values, zone="America/Chicago", formats=("%m/%d/%Y %H:%M:%S",)):
    rows = np.arange(2, len(values) + 2)
    return parse_times(
        pd.Series(values, dtype=object),
        rows,
        formats=list(formats),
        zone=zone,
        file="f",
        column="T",
    )


def _utc(wall: str, fmt: str, zone: str) -> int:
    local = datetime.strptime(wall, fmt).replace(tzinfo=ZoneInfo(zone))
    return int(pd.Timestamp(local.astimezone(UTC)).value)


@pytest.mark.parametrize("zone", ["America/Chicago", "Europe/Berlin", "Asia/Kolkata", "UTC"])
def test_local_times_match_zoneinfo(zone):
    values = ["10/5/2026 9:14:03", "1/15/2026 23:59:59", "7/4/2026 0:00:00", "12/31/2026 12:30:00"]
    ns, problems, _ = _parse(values, zone)
    assert problems == []
    assert ns.tolist() == [_utc(v, "%m/%d/%Y %H:%M:%S", zone) for v in values]


def test_blank_time_is_no_time_and_bad_time_is_named():
    ns, problems, _ = _parse(["10/5/2026 9:14:03", "", "yesterday"])
    assert ns[1] == NAT
    assert [(p.row, p.value) for p in problems] == [(4, "yesterday")]
    assert "not a date-time in the format '%m/%d/%Y %H:%M:%S'" in problems[0].message


def test_dst_gap_and_overlap_are_problems_naming_rows():
    # 2026-03-08 02:30 does not exist in Chicago (clocks 02:00 -> 03:00);
    # 2026-11-01 01:30 happens twice (clocks 02:00 -> 01:00)
    ns, problems, _ = _parse(["3/8/2026 2:30:00", "11/1/2026 1:30:00", "11/1/2026 3:30:00"])
    by_row = {p.row: p.message for p in problems}
    assert "does not exist in America/Chicago" in by_row[2]
    assert "happens twice in America/Chicago" in by_row[3]
    assert 4 not in by_row and ns[2] == _utc(
        "11/1/2026 3:30:00", "%m/%d/%Y %H:%M:%S", "America/Chicago"
    )


def test_offsets_are_honoured_in_iso():
    ns, problems, _ = _parse(
        ["2026-10-05T09:14:03Z", "2026-10-05T09:14:03+02:00", "2026-10-05 09:14:03"],
        zone="Europe/Berlin",
        formats=["iso"],
    )
    assert problems == []
    want = [
        pd.Timestamp("2026-10-05T09:14:03Z").value,
        pd.Timestamp("2026-10-05T07:14:03Z").value,
        _utc("2026-10-05 09:14:03", "%Y-%m-%d %H:%M:%S", "Europe/Berlin"),
    ]
    assert ns.tolist() == want


def test_day_month_order_from_the_whole_column():
    fmt = "%m/%d/%Y %H:%M:%S"
    # a first field above 12: the column is day/month, also for 04/05 (4 May)
    ns, problems, formats = _parse(["13/05/2026 10:00:00", "04/05/2026 10:00:00"], "UTC")
    assert problems == [] and formats == ["%d/%m/%Y %H:%M:%S"]
    assert ns[1] == pd.Timestamp("2026-05-04T10:00:00Z").value
    # a second field above 12: month/day, 04/05 is 5 April
    ns, problems, formats = _parse(["05/13/2026 10:00:00", "04/05/2026 10:00:00"], "UTC")
    assert problems == [] and formats == [fmt]
    assert ns[1] == pd.Timestamp("2026-04-05T10:00:00Z").value
    # neither: the profile's order stands
    ns, _, formats = _parse(["04/05/2026 10:00:00"], "UTC")
    assert formats == [fmt] and ns[0] == pd.Timestamp("2026-04-05T10:00:00Z").value
    # both: refused, naming rows of each side
    ns, problems, _ = _parse(
        ["13/05/2026 10:00:00", "04/05/2026 10:00:00", "05/14/2026 1:00:00"], "UTC"
    )
    assert len(problems) == 1
    assert "row 2 (13/05/2026 10:00:00)" in problems[0].message
    assert "row 4 (05/14/2026 1:00:00)" in problems[0].message
    assert (ns == NAT).all()


def test_timezone_checks():
    assert check_timezone("America/Chicago") == "America/Chicago"
    with pytest.raises(ValueError, match="IANA zone name"):
        check_timezone("Chicago")
    with pytest.raises(TypeError):
        check_timezone(5)
    assert check_timezone(local_timezone())  # whatever the machine says is a real zone


def test_local_timezone_follows_tz(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert local_timezone() == "Europe/Berlin"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert local_timezone() != "Not/AZone"
