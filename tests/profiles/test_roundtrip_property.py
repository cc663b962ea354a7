"""Property: a random long table written as each built-in form export and read back through
its profile gives exactly the same ratings, rationales, attributes and UTC times.

The exports are written here the way the tools write them: Google Forms as a CSV with a
``Timestamp`` in local ``M/D/YYYY H:MM:SS``, grid columns ``Rate [<criterion name>]``, level
cells spelled several ways, ``Comments [<criterion name>]`` and an ``Overall feedback``
column, attribute columns; Microsoft Forms as an ``.xlsx`` (openpyxl) with datetime cells
in local time, ``ID``/``Start time``/``Email``/``Name`` and ``<question>.<criterion name>``.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calibrate.io import read_profile
from calibrate.rubric import load_rubric

RUBRIC = load_rubric("rubrics/evidence-4level.yaml")
ZONES = ["America/Chicago", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "UTC"]
TEXT = (
    st.text(alphabet=st.sampled_from(list("abcxyz ABC,;\"'.!?-=+é–")), min_size=0, max_size=12)
    .map(str.strip)
    .filter(lambda t: not t.startswith("'"))
)
# (a leading ' is the guard the kit's exports put before formula-like text: read back
# without it, as every reader of the kit does; form tools do not write it)
DISTRICTS = st.sampled_from(["North", "South", "=SUM(A1)", "East-1", "Zoë"])


def _spell(score: int, how: int) -> str:
    label = next(lv.label for lv in RUBRIC.criteria[0].levels if lv.score == score)
    return [
        f"{score} - {label}",
        label,
        str(score),
        f"  {label.lower()} ",
        f"{score} \u2013 {label}",
    ][how]


@st.composite
def programs(draw):
    n_sub = draw(st.integers(1, 6))
    n_rev = draw(st.integers(1, 4))
    zone = draw(st.sampled_from(ZONES))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    reviews = []
    for s in range(n_sub):
        for r in range(n_rev):
            if not draw(st.booleans()) and reviews:
                continue
            scored = draw(
                st.lists(st.sampled_from([c.id for c in RUBRIC.criteria]), min_size=1, unique=True)
            )
            when = start + timedelta(seconds=draw(st.integers(0, 365 * 24 * 3600)))
            local = when.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
            # a wall time in the hour clocks repeat has two instants: not in a form export
            back = local.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(UTC)
            assume(back == when)
            reviews.append(
                {
                    "sub": f"S{s:03d}",
                    "rev": f"R{r:02d}",
                    "when": when,
                    "local": local,
                    "scores": {c: draw(st.integers(1, 4)) for c in scored},
                    "spell": {c: draw(st.integers(0, 4)) for c in scored},
                    "comments": {c: draw(TEXT) for c in scored},
                    "overall": draw(TEXT),
                }
            )
    districts = {f"S{s:03d}": draw(DISTRICTS) for s in range(n_sub)}
    return zone, reviews, districts


def _expected(reviews, districts):
    rows = []
    for rv in reviews:
        for c, score in rv["scores"].items():
            parts = [t for t in (rv["comments"][c], rv["overall"]) if t]
            rows.append(
                {
                    "submission_id": rv["sub"],
                    "reviewer_id": rv["rev"],
                    "criterion_id": c,
                    "score": score,
                    "rated_at": pd.Timestamp(rv["when"]),
                    "rationale": "\n\n".join(parts),
                }
            )
    frame = pd.DataFrame(rows).sort_values(["submission_id", "reviewer_id", "criterion_id"])
    subs = sorted({rv["sub"] for rv in reviews})
    attrs = pd.DataFrame({"submission_id": subs, "district": [districts[s] or None for s in subs]})
    return frame.reset_index(drop=True), attrs


def _got(read):
    f = read.table.frame
    out = pd.DataFrame(
        {
            "submission_id": f["submission_id"].astype(str),
            "reviewer_id": f["reviewer_id"].astype(str),
            "criterion_id": f["criterion_id"].astype(str),
            "score": f["score"].astype(int),
            "rated_at": f["rated_at"],
            "rationale": f["rationale"].astype(str),
        }
    )
    return out.sort_values(["submission_id", "reviewer_id", "criterion_id"]).reset_index(drop=True)


def _check(read, reviews, districts):
    want, attrs = _expected(reviews, districts)
    got = _got(read)
    assert got[["submission_id", "reviewer_id", "criterion_id", "score", "rationale"]].equals(
        want[["submission_id", "reviewer_id", "criterion_id", "score", "rationale"]]
    )
    assert (got["rated_at"].to_numpy() == want["rated_at"].dt.tz_convert("UTC").to_numpy()).all()
    sub = read.submission_attributes[["submission_id", "district"]]
    assert sub["submission_id"].tolist() == attrs["submission_id"].tolist()
    assert sub["district"].tolist() == attrs["district"].tolist()
    emails = read.reviewer_attributes.set_index("reviewer_id")["email"].to_dict()
    assert emails == {rv["rev"]: f"{rv['rev'].lower()}@example.org" for rv in reviews}


SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(programs())
def test_google_forms_round_trip(tmp_path_factory, program):
    zone, reviews, districts = program
    names = {c.id: c.name for c in RUBRIC.criteria}
    header = ["Timestamp", "Email Address", "Reviewer ID", "Submission ID", "District"]
    header += [f"Rate the evidence [{names[c]}]" for c in names]
    header += [f"Comments [{names[c]}]" for c in names] + ["Overall feedback"]
    path = tmp_path_factory.mktemp("g") / "responses.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for rv in reviews:
            t = rv["local"]
            w.writerow(
                [
                    f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}:{t.second:02d}",
                    f"{rv['rev'].lower()}@example.org",
                    rv["rev"],
                    rv["sub"],
                    districts[rv["sub"]],
                    *[
                        _spell(rv["scores"][c], rv["spell"][c]) if c in rv["scores"] else ""
                        for c in names
                    ],
                    *[rv["comments"].get(c, "") for c in names],
                    rv["overall"],
                ]
            )
    read = read_profile(path, RUBRIC, "google-forms", timezone=zone)
    _check(read, reviews, districts)
    assert read.timezone == zone


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(programs())
def test_microsoft_forms_round_trip(tmp_path_factory, program):
    import openpyxl

    zone, reviews, districts = program
    names = {c.id: c.name for c in RUBRIC.criteria}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        [
            "ID",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            "Reviewer ID",
            "Submission ID",
            "District",
        ]
        + [f"Rate the evidence.{names[c]}" for c in names]
        + [f"Comments.{names[c]}" for c in names]
        + ["Overall feedback"]
    )
    for k, rv in enumerate(reviews, start=1):
        ws.append(
            [
                k,
                rv["local"] - timedelta(minutes=7),
                rv["local"],
                f"{rv['rev'].lower()}@example.org",
                f"Reviewer {rv['rev']}",
                rv["rev"],
                rv["sub"],
                districts[rv["sub"]] or None,
                *[
                    _spell(rv["scores"][c], rv["spell"][c]) if c in rv["scores"] else None
                    for c in names
                ],
                *[rv["comments"].get(c) or None for c in names],
                rv["overall"] or None,
            ]
        )
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":  # openpyxl takes text starting with = as a formula
                cell.data_type = "s"
    path = tmp_path_factory.mktemp("m") / "responses.xlsx"
    wb.save(path)
    read = read_profile(path, RUBRIC, "microsoft-forms", timezone=zone)
    _check(read, reviews, districts)
    assert np.asarray(read.rows).min() >= 2
