"""Reading and validating ratings, keys and form exports: every bad-input case, each
with its message checked; what real spreadsheets write; exports and round trips."""

from __future__ import annotations

import io
import re
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate import RatingsError
from calibrate.io import (
    export_table,
    neutralise_formulas,
    ratings_to_records,
    read_key,
    read_ratings,
    read_ratings_without_rubric,
    read_wide,
)

HEADER = "submission_id,reviewer_id,criterion_id,score,rated_at,round_id,kind"
GOOD = [
    "A1,R1,overview,3,2026-09-01T10:00:00Z,R1,anchor",
    "A1,R1,artifacts,2,2026-09-01T10:00:00Z,R1,anchor",
    "A1,R1,reflection,4,2026-09-01T10:00:00Z,R1,anchor",
    "S1,R2,overview,1,2026-09-02T09:00:00Z,,live",
]


def write(tmp_path, lines, name="ratings.csv", header=HEADER, encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes((newline.join([header, *lines]) + newline).encode(encoding))
    return path


def problems(exc_info) -> list[str]:
    return [str(p) for p in exc_info.value.problems]


def test_good_file_reads_with_canonical_dtypes(tmp_path, evidence_rubric):
    table = read_ratings(write(tmp_path, GOOD), evidence_rubric)
    f = table.frame
    assert f["score"].tolist() == [3, 2, 4, 1]
    assert str(f["rated_at"].dtype) == "datetime64[ns, UTC]"
    assert f["round_id"].isna().tolist() == [False, False, False, True]
    assert f["kind"].astype(str).tolist() == ["anchor", "anchor", "anchor", "live"]
    assert list(f["criterion_id"].cat.categories) == ["overview", "artifacts", "reflection"]


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (
            "A1,R9,overveiw,3,,,",
            "criterion_id",
            "value 'overveiw': not a criterion of rubric 'evidence-4level' (criteria: overview, artifacts, reflection)",
        ),
        (
            "A1,R9,overview,Excellent,,,",
            "score",
            "value 'Excellent': not a level of criterion 'overview': use a score or a label (levels 1 Not yet evident, 2 Emerging, 3 Proficient, 4 Exemplary)",
        ),
        (
            "A1,R9,overview,7,,,",
            "score",
            "value '7': score 7 is out of range for criterion 'overview'",
        ),
        ("A1,R9,overview,0,,,", "score", "score 0 is out of range"),
        ("A1,R9,overview,2.5,,,", "score", "level scores are whole numbers"),
        ("A1,R9,overview,,,,", "score", "score is empty"),
        (",R9,overview,3,,,", "submission_id", "submission id is empty"),
        ("A1,,overview,3,,,", "reviewer_id", "reviewer id is empty"),
        ("A1,R9,,3,,,", "criterion_id", "criterion is empty"),
        (
            "A1,R9,overview,3,14/09/2026 25:00,,",
            "rated_at",
            "value '14/09/2026 25:00': not an ISO 8601 date or date-time",
        ),
        (
            "A1,R9,overview,3,-1,,",
            "rated_at",
            "value '-1': not an ISO 8601 date or date-time from 1900 to 2199",
        ),
        (
            "A1,R9,overview,3,,,anchr",
            "kind",
            "value 'anchr': kind must be one of anchor, live, seeded (or empty)",
        ),
        (
            "A1,R1,overview,2,2026-09-03,R1,anchor",
            None,
            "row 6: duplicate rating (same submission, reviewer, criterion and round): the same as row 2",
        ),
    ],
    ids=[
        "unknown-criterion",
        "unknown-label",
        "out-of-range",
        "below-range",
        "not-whole",
        "empty-score",
        "empty-submission",
        "empty-reviewer",
        "empty-criterion",
        "bad-date",
        "year-minus-one",
        "bad-kind",
        "duplicate",
    ],
)
def test_each_bad_cell_is_named(tmp_path, evidence_rubric, line, column, message):
    path = write(tmp_path, [*GOOD, line])
    with pytest.raises(RatingsError) as info:
        read_ratings(path, evidence_rubric)
    got = problems(info)
    assert len(got) == 1, got
    assert got[0].startswith(
        f"{path}, row 6" if column is None else f"{path}, row 6, column {column!r}"
    ), got
    assert message in got[0], got


def test_same_rating_in_two_rounds_is_not_a_duplicate(tmp_path, evidence_rubric):
    table = read_ratings(
        write(tmp_path, [*GOOD, "A1,R1,overview,3,2026-09-20,R2,anchor"]), evidence_rubric
    )
    assert len(table) == 5


def test_every_problem_is_listed_at_once(tmp_path, evidence_rubric):
    bad = [
        "A1,R9,overveiw,3,,,",
        "A1,R9,overview,9,,,",
        ",R9,overview,3,,,",
        "A2,R9,overview,3,yesterday,,",
        "A2,R9,artifacts,3,,,nope",
    ]
    with pytest.raises(RatingsError) as info:
        read_ratings(write(tmp_path, GOOD + bad), evidence_rubric)
    rows = sorted(p.row for p in info.value.problems)
    assert rows == [6, 7, 8, 9, 10]
    assert "5 problems in the ratings" in str(info.value)


def test_missing_required_columns(tmp_path, evidence_rubric):
    path = write(tmp_path, ["A1,R1,3"], header="submission_id,reviewer,score")
    with pytest.raises(RatingsError) as info:
        read_ratings(path, evidence_rubric)
    got = problems(info)
    assert any(
        "required column 'reviewer_id' is missing from the ratings file (columns found: submission_id, reviewer, score)"
        in p
        for p in got
    )
    assert any(
        "required column 'criterion_id' is missing" in p and "'evidence-4level' has 3 criteria" in p
        for p in got
    )


def test_file_without_criterion_is_one_criterion(tmp_path):
    from calibrate.rubric import parse_rubric

    one = parse_rubric(
        "id: one\ntitle: One\nversion: '1'\ncriteria:\n  - id: overall\n    name: Overall\n    levels: [{score: 0, label: 'Not yet'}, {score: 1, label: Pass}]\npass_rule: {min_level: 1}\n"
    )
    table = read_ratings(
        write(tmp_path, ["S1,R1,pass", "S1,R2,0"], header="submission_id,reviewer_id,score"), one
    )
    assert table.frame["criterion_id"].astype(str).tolist() == ["overall", "overall"]
    assert table.frame["score"].tolist() == [1, 0]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "ratings.csv", "the file is empty"),
        (b"   \n\n", "ratings.csv", "the file is empty"),
        (HEADER.encode() + b"\n", "ratings.csv", "the file has a header but no data rows"),
        (
            b"submission_id,reviewer_id,criterion_id,score\nA1,R1,overview,3\n",
            "ratings.xlsx",
            "the name says Excel workbook (.xlsx) but the file is text",
        ),
        (
            b"submission_id,reviewer_id\n",
            "ratings.parquet",
            "the name says Parquet (.parquet) but the file is not a Parquet file",
        ),
        (
            b"PK\x03\x04rest-of-a-zip",
            "ratings.csv",
            "the file is a zip archive (an Excel workbook?)",
        ),
        (
            b"PK\x03\x04not-really-a-workbook",
            "ratings.xlsx",
            "damaged or unreadable Excel workbook",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "ratings.csv", "the file is binary, not CSV text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "ratings.xls", "legacy .xls workbooks are not read"),
        (b"a,b\n1,2\n", "ratings.json", "unknown file type '.json'"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "csv-named-xlsx",
        "csv-named-parquet",
        "zip-named-csv",
        "damaged-xlsx",
        "binary-named-csv",
        "xls",
        "unknown-suffix",
    ],
)
def test_file_level_problems(tmp_path, evidence_rubric, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RatingsError) as info:
        read_ratings(path, evidence_rubric)
    got = problems(info)
    assert got[0].startswith(str(path)), got
    assert message in got[0], got


def test_missing_file_is_not_a_data_error(tmp_path, evidence_rubric):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_ratings(tmp_path / "nope.csv", evidence_rubric)


def test_wrong_field_counts_are_listed_with_the_other_problems(tmp_path, evidence_rubric):
    path = write(tmp_path, [*GOOD, "A2,R1,overview,3,,,live,extra", "A2,R1,artifacts,9,,,live"])
    with pytest.raises(RatingsError) as info:
        read_ratings(path, evidence_rubric)
    got = problems(info)
    assert any(
        p.startswith(f"{path}, row 6, value ") and "row 6 has 8 fields where the header has 7" in p
        for p in got
    ), got
    assert any(p.startswith(f"{path}, row 7, column 'score'") for p in got), got


def test_what_spreadsheets_really_write(tmp_path, evidence_rubric):
    # BOM, CRLF, headers with spaces and capitals, padded and decimal scores, labels in
    # any case, criterion names instead of ids, blank lines, trailing spaces.
    header = "\ufeffSubmission ID , Reviewer-ID,Criterion ID,Score,Rated At,Round ID,Kind"
    lines = [
        "A1,R1,overview, 3 ,2026-09-01 10:00:00,R1,Anchor",
        "",
        "A1,R1,Classroom artifacts,3.0,2026-09-01,R1,ANCHOR",
        "A1,R1,reflection,exemplary,2026-09-01T10:00:00+02:00,R1,anchor",
        'A1,R2,reflection,"3,0",,R1,anchor',
    ]
    path = write(tmp_path, lines, header=header, newline="\r\n")
    table = read_ratings(path, evidence_rubric)
    assert table.frame["score"].tolist() == [3, 3, 4, 3]
    assert table.frame["criterion_id"].astype(str).tolist() == [
        "overview",
        "artifacts",
        "reflection",
        "reflection",
    ]
    assert table.frame["rated_at"].iloc[2] == pd.Timestamp("2026-09-01T08:00:00Z")


def test_blank_lines_keep_row_numbers_true(tmp_path, evidence_rubric):
    path = write(tmp_path, ["A1,R1,overview,3,,,", "", "", "A1,R1,artifacts,9,,,"])
    with pytest.raises(RatingsError) as info:
        read_ratings(path, evidence_rubric)
    assert info.value.problems[0].row == 5


@pytest.mark.parametrize(
    ("sep", "name"),
    [(";", "ratings.csv"), ("\t", "ratings.tsv"), ("\t", "ratings.csv")],
    ids=["semicolon", "tsv", "tab-in-csv"],
)
def test_delimiters(tmp_path, evidence_rubric, sep, name):
    path = tmp_path / name
    path.write_text(
        HEADER.replace(",", sep) + "\n" + "\n".join(g.replace(",", sep) for g in GOOD) + "\n"
    )
    assert len(read_ratings(path, evidence_rubric)) == 4


def test_windows_1252_text(tmp_path, evidence_rubric):
    path = write(tmp_path, ["Señora-1,Ré1,overview,3,,,"], encoding="cp1252")
    table = read_ratings(path, evidence_rubric)
    assert table.frame["submission_id"].astype(str).tolist() == ["Señora-1"]


def test_excel_and_parquet(tmp_path, evidence_rubric):
    frame = pd.read_csv(io.StringIO("\n".join([HEADER, *GOOD])), dtype=str, keep_default_na=False)
    frame["score"] = [3.0, 2.0, 4.0, 1.0]  # Excel stores numbers as floats
    frame.to_excel(tmp_path / "r.xlsx", index=False)
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    for name in ("r.xlsx", "r.parquet"):
        table = read_ratings(tmp_path / name, evidence_rubric)
        assert table.frame["score"].tolist() == [3, 2, 4, 1], name


def test_excel_errors_name_sheet_rows(tmp_path, evidence_rubric):
    frame = pd.DataFrame(
        {
            "submission_id": ["A1", "A1"],
            "reviewer_id": ["R1", "R1"],
            "criterion_id": ["overview", "nope"],
            "score": [3, 3],
        }
    )
    frame.to_excel(tmp_path / "r.xlsx", index=False, sheet_name="Scores")
    with pytest.raises(RatingsError) as info:
        read_ratings(tmp_path / "r.xlsx", evidence_rubric, sheet="Scores")
    assert info.value.problems[0].row == 3
    with pytest.raises(RatingsError, match="Worksheet named 'Other' not found"):
        read_ratings(tmp_path / "r.xlsx", evidence_rubric, sheet="Other")


# ---- answer keys -----------------------------------------------------------------
KEY_HEADER = "submission_id,criterion_id,key_score,rationale"


def test_key_reads_and_checks_anchors(tmp_path, evidence_rubric):
    ratings = read_ratings(write(tmp_path, GOOD), evidence_rubric)
    key = read_key(
        write(
            tmp_path,
            ["A1,overview,3,Plan sequences questions", "A1,artifacts,Emerging,"],
            "key.csv",
            KEY_HEADER,
        ),
        evidence_rubric,
        ratings=ratings,
    )
    assert key.anchors == ["A1"]
    assert key.frame["key_score"].tolist() == [3, 2]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "S1,overview,3,",
            "row 2, column 'submission_id', value 'S1': has a key but is not an anchor: the ratings score it only as a live submission",
        ),
        ("A1,overveiw,3,", "row 2, column 'criterion_id', value 'overveiw': not a criterion"),
        ("A1,overview,5,", "row 2, column 'key_score', value '5': score 5 is out of range"),
        ("A1,overview,,", "score is empty"),
    ],
    ids=["key-for-live", "key-unknown-criterion", "key-out-of-range", "key-empty"],
)
def test_key_errors(tmp_path, evidence_rubric, line, message):
    ratings = read_ratings(write(tmp_path, GOOD), evidence_rubric)
    with pytest.raises(RatingsError) as info:
        read_key(write(tmp_path, [line], "key.csv", KEY_HEADER), evidence_rubric, ratings=ratings)
    assert any(message in p for p in problems(info)), problems(info)


def test_key_duplicates_and_missing_columns(tmp_path, evidence_rubric):
    with pytest.raises(RatingsError, match="row 3: duplicate key score"):
        read_key(
            write(tmp_path, ["A1,overview,3,", "A1,overview,2,"], "key.csv", KEY_HEADER),
            evidence_rubric,
        )
    with pytest.raises(
        RatingsError, match="required column 'key_score' is missing from the answer key"
    ):
        read_key(
            write(tmp_path, ["A1,overview"], "key.csv", "submission_id,criterion_id"),
            evidence_rubric,
        )


# ---- form exports (wide sheets) -----------------------------------------------------
def test_wide_sheet(tmp_path, evidence_rubric):
    path = tmp_path / "form.csv"
    path.write_text(
        "Timestamp,Reviewer ID,Submission ID,Overview questions,Classroom artifacts,Reflection\n"
        "2026-09-01T10:00:00Z,R1,S1,3,Proficient,4\n"
        "2026-09-01T11:00:00Z,R2,S1,2,,1\n"
    )
    table = read_wide(path, evidence_rubric, rated_at="Timestamp")
    assert len(table) == 5
    assert table.frame["rated_at"].notna().all()


def test_wide_sheet_errors_name_the_criterion_column(tmp_path, evidence_rubric):
    path = tmp_path / "form.csv"
    path.write_text(
        "reviewer_id,submission_id,Overview questions,artifacts,reflection\nR1,S1,3,9,4\nR1,S1,3,3,3\n"
    )
    with pytest.raises(RatingsError) as info:
        read_wide(path, evidence_rubric)
    got = problems(info)
    assert any("row 2, column 'artifacts', value '9': score 9 is out of range" in p for p in got), (
        got
    )
    assert any("row 3, column 'Overview questions': duplicate rating" in p for p in got), got


def test_wide_sheet_column_mapping(tmp_path, evidence_rubric):
    path = tmp_path / "form.csv"
    path.write_text("who,what,Q1,Q2\nR1,S1,3,2\n")
    table = read_wide(
        path,
        evidence_rubric,
        reviewer="who",
        submission="what",
        criteria={"Q1": "overview", "Q2": "reflection"},
    )
    assert table.frame["criterion_id"].astype(str).tolist() == ["overview", "reflection"]
    with pytest.raises(RatingsError, match="maps column 'Q2' to 'reflect'"):
        read_wide(
            path, evidence_rubric, reviewer="who", submission="what", criteria={"Q2": "reflect"}
        )
    with pytest.raises(
        RatingsError, match=r"column 'reviewer_id' \(for reviewer_id\) is not in the sheet"
    ):
        read_wide(path, evidence_rubric, submission="what")


# ---- exports and round trips -----------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"], ids=["csv", "xlsx"])
def test_export_neutralises_formulas_and_round_trips(tmp_path, evidence_rubric, suffix):
    lines = [
        *GOOD,
        '=HYPERLINK("x"),+R1,overview,3,2026-09-01T10:00:00Z,@R1,anchor',
        "-S2,R1,overview,3,,,live",
    ]
    table = read_ratings(write(tmp_path, lines), evidence_rubric)
    out = export_table(table, tmp_path / f"out{suffix}")
    raw = pd.read_excel(out, dtype=str) if suffix == ".xlsx" else pd.read_csv(out, dtype=str)
    risky = raw[["submission_id", "reviewer_id", "round_id"]].fillna("").to_numpy().ravel()
    assert not any(v.startswith(("=", "+", "-", "@")) for v in risky)
    again = read_ratings(out, evidence_rubric)
    pd.testing.assert_frame_equal(again.frame, table.frame, check_categorical=False)


def test_export_writes_nothing_on_bad_format(tmp_path):
    with pytest.raises(ValueError, match=r"export format must be .csv or .xlsx; got '.txt'"):
        export_table(pd.DataFrame({"a": [1]}), tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


# ---- property: malformed files never crash --------------------------------------------
_cell = st.one_of(
    st.sampled_from(
        [
            "A1",
            "R1",
            "overview",
            "artifacts",
            "3",
            "3.0",
            " 4 ",
            "Proficient",
            "",
            "2026-09-01",
            "anchor",
            "live",
            "x",
            "-1",
            "1e9",
            "nan",
            '"',
            "'=1",
        ]
    ),
    st.text(alphabet=string.printable + "éü\u00a0\ufeff", max_size=8),
)
_line = st.lists(_cell, min_size=0, max_size=9).map(lambda cells: ",".join(cells))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.one_of(
        st.just(HEADER),
        st.lists(st.sampled_from(HEADER.split(",") + ["", "x", "Score"]), max_size=8).map(",".join),
    ),
    lines=st.lists(_line, max_size=12),
    suffix=st.sampled_from([".csv", ".tsv", ".xlsx", ".parquet", ".txt"]),
    junk=st.binary(max_size=40),
    use_junk=st.booleans(),
)
def test_random_malformed_files_give_a_validation_error(
    tmp_path, evidence_rubric, header, lines, suffix, junk, use_junk
):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(junk if use_junk else ("\n".join([header, *lines])).encode())
    try:
        table = read_ratings(path, evidence_rubric)
    except RatingsError as exc:
        assert exc.problems and all(p.file == str(path) for p in exc.problems)
    else:
        assert np.isin(table.frame["score"], [1, 2, 3, 4]).all()


def test_ratings_without_a_rubric_take_the_scores_as_levels(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(
        "submission_id,reviewer_id,criterion_id,score\n"
        "S1,R1,b,3\nS1,R2,b,1\nS1,R1,a,2\nS2,R2,a,2.0\n"
    )
    table = read_ratings_without_rubric(path)
    assert table.rubric.criterion_ids == ("a", "b")
    assert [c.scores for c in table.rubric.criteria] == [(1, 2, 3), (1, 2, 3)]
    assert sorted(table.frame["score"].tolist()) == [1, 2, 2, 3]
    path.write_text("submission_id,reviewer_id,score\nS1,R1,x\nS1,R2,2\n")
    with pytest.raises(RatingsError) as err:
        read_ratings_without_rubric(path)
    assert [(p.row, p.column, p.value) for p in err.value.problems] == [(2, "score", "x")]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda p, r: read_ratings(p, "rubrics/evidence-4level.yaml"),
            TypeError,
            "rubric must be a calibrate.rubric.Rubric; got str",
        ),
        (
            lambda p, r: read_ratings(p, r, sheet=1.5),
            TypeError,
            "sheet must be a sheet name (str), a sheet position (int) or None; got float",
        ),
        (
            lambda p, r: read_key(p, r, ratings=p),
            TypeError,
            "ratings must be None or a calibrate.ratings.RatingsTable; got PosixPath",
        ),
        (
            lambda p, r: read_wide(p, r, reviewer=2),
            TypeError,
            "reviewer must be a column name (str); got int",
        ),
        (
            lambda p, r: read_wide(p, r, kind=["kind"]),
            TypeError,
            "kind must be None or a column name (str); got list",
        ),
        (
            lambda p, r: read_wide(p, r, criteria=["overview"]),
            TypeError,
            "criteria must be None or a mapping of sheet column -> criterion id; got list",
        ),
        (
            lambda p, r: read_ratings_without_rubric(p, sheet=True),
            TypeError,
            "sheet must be a sheet name (str), a sheet position (int) or None; got bool",
        ),
        (
            lambda p, r: export_table([1, 2], p.with_suffix(".xlsx")),
            TypeError,
            "data must be a pandas DataFrame or a calibrate.ratings.RatingsTable or AnswerKey; got list",
        ),
        (
            lambda p, r: export_table(pd.DataFrame(), p, pseudonymizer="key"),
            TypeError,
            "pseudonymizer must be None or a calibrate.report.Pseudonymizer",
        ),
        (
            lambda p, r: export_table(pd.DataFrame(), p.with_suffix(".json")),
            ValueError,
            "export format must be .csv or .xlsx; got '.json'",
        ),
        (
            lambda p, r: neutralise_formulas({"id": ["=1"]}),
            TypeError,
            "frame must be a pandas DataFrame; got dict",
        ),
        (
            lambda p, r: ratings_to_records(pd.DataFrame()),
            TypeError,
            "table must be a calibrate.ratings.RatingsTable or AnswerKey; got DataFrame",
        ),
    ],
    ids=[
        "rubric",
        "sheet",
        "key-ratings",
        "wide-column",
        "wide-optional-column",
        "wide-criteria",
        "no-rubric-sheet",
        "export-data",
        "export-pseudonymizer",
        "export-format",
        "neutralise-frame",
        "records-table",
    ],
)
def test_wrong_options_name_the_argument(tmp_path, evidence_rubric, call, error, message):
    path = write(tmp_path, GOOD)
    with pytest.raises(error, match=re.escape(message)):
        call(path, evidence_rubric)
    assert not path.with_suffix(".xlsx").exists() and not path.with_suffix(".json").exists()


def test_ratings_without_a_rubric_labels_orders_and_decimals(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(
        "submission_id,reviewer_id,criterion_id,round_id,score\n"
        "S1,R1,b,X,Met\nS1,R2,b,X, met \nS1,R1,a,,not yet\nS2,R2,a,X,Proficient\n"
    )
    table = read_ratings_without_rubric(path, level="nominal")
    assert table.rubric.criterion_ids == ("a", "b") and table.rounds == ["X"]
    levels = [(lv.score, lv.label) for lv in table.rubric.criteria[0].levels]
    assert levels == [(0, "Met"), (1, "not yet"), (2, "Proficient")]  # sorted ignoring case
    assert table.frame["score"].tolist() == [0, 0, 1, 2]
    # numeric-looking labels in a given order: the order, not the numbers, decides
    path.write_text("submission_id,reviewer_id,score\nS1,R1,2\nS1,R2,1\nS2,R1,3\nS2,R2,1\n")
    table = read_ratings_without_rubric(path, level="ordinal", order=["3", "2", "1"])
    assert table.frame["score"].tolist() == [1, 2, 0, 2]
    # decimals: levels by position, the value as label
    path.write_text("submission_id,reviewer_id,score\nS1,R1,2.5\nS1,R2,1\nS2,R1,1.25\nS2,R2,10\n")
    table = read_ratings_without_rubric(path, level="ratio")
    assert table.rubric.id == "decimal-scores-as-given"
    assert [lv.label for lv in table.rubric.criteria[0].levels] == ["1", "1.25", "2.5", "10"]
    assert table.frame["score"].tolist() == [2, 0, 1, 3]
    # whole numbers stay the level scores at every level
    path.write_text("submission_id,reviewer_id,score\nS1,R1,2\nS1,R2,5\n")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        table = read_ratings_without_rubric(path, level=level)
        assert table.rubric.id == "scores-as-given" and table.rubric.criteria[0].scores == (2, 5)


def test_ratings_without_a_rubric_list_every_bad_score(tmp_path):
    path = tmp_path / "scores.csv"
    body = "".join(f"S{i},R1,{'x' if i % 2 else 'low'}\n" for i in range(120))
    path.write_text("submission_id,reviewer_id,score\n" + body)
    with pytest.raises(RatingsError) as err:
        read_ratings_without_rubric(path, level="ordinal", order="low,high")
    problems = err.value.problems
    assert [(p.row, p.value) for p in problems[:2]] == [(3, "x"), (5, "x")]
    assert len(problems) == 51 and "more score(s)" in problems[-1].message
    with pytest.raises(RatingsError) as err:
        read_ratings_without_rubric(path, level="ordinal")
    assert len(err.value.problems) == 51 and "--order" in err.value.problems[0].message


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"level": "ordinal", "order": "a,A"}, ValueError, "more than once"),
        ({"level": "ordinal", "order": "a"}, ValueError, "at least two labels"),
        ({"level": "ordinal", "order": "a,,b"}, ValueError, "empty label"),
        ({"level": "interval", "order": "a,b"}, ValueError, "at level 'nominal' or 'ordinal'"),
        ({"level": "ordinal", "order": 3}, TypeError, "order must be None"),
        ({"level": "scale"}, ValueError, "level"),
    ],
)
def test_ratings_without_a_rubric_bad_options(tmp_path, kwargs, error, message):
    path = tmp_path / "scores.csv"
    path.write_text("submission_id,reviewer_id,score\nS1,R1,a\nS1,R2,b\n")
    with pytest.raises(error, match=message):
        read_ratings_without_rubric(path, **kwargs)


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_ratings_without_a_rubric_from_parquet_and_excel(tmp_path, suffix):
    pytest.importorskip("pyarrow" if suffix == ".parquet" else "openpyxl")
    frame = pd.DataFrame(
        {
            "submission_id": ["S1", "S1", "S2", "S2"],
            "reviewer_id": ["R1", "R2", "R1", "R2"],
            "score": [2.5, 3.0, 1.25, 2.5],
            "label": ["met", "not met", "met", "Met"],
        }
    )
    path = tmp_path / f"scores{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_excel(path, index=False)
    table = read_ratings_without_rubric(path, level="interval")
    assert [lv.label for lv in table.rubric.criteria[0].levels] == ["1.25", "2.5", "3"]
    assert table.frame["score"].tolist() == [1, 2, 0, 1]
    labels = frame.drop(columns="score").rename(columns={"label": "score"})
    if suffix == ".parquet":
        labels.to_parquet(path)
    else:
        labels.to_excel(path, index=False)
    table = read_ratings_without_rubric(path, level="ordinal", order="not met,met")
    assert table.frame["score"].tolist() == [1, 0, 1, 1]
