"""read_profile on the samples, on every encoding and dialect spreadsheets write, and on bad input."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from calibrate.io import (
    ProfileReadError,
    parse_profile,
    read_profile,
    read_ratings,
    read_wide,
)
from calibrate.rubric import load_rubric

GOOGLE = "data/samples/google-forms.csv"
MICROSOFT = "data/samples/microsoft-forms.xlsx"
LMS = "data/samples/lms-export.csv"


@pytest.fixture(scope="module")
def met():
    return load_rubric("rubrics/met-not-yet.yaml")


def test_google_forms_sample(evidence_rubric):
    got = read_profile(GOOGLE, evidence_rubric, "google-forms", timezone="America/Chicago")
    f = got.table.frame
    assert len(f) == 120 and got.table.n_submissions == 20 and got.table.n_reviewers == 6
    # row 2: 10/5/2026 12:00:04 in Chicago is CDT (UTC-5)
    first = f.iloc[0]
    assert (first["submission_id"], first["reviewer_id"], first["criterion_id"]) == (
        "S0001",
        "R006",
        "overview",
    )
    assert first["rated_at"] == pd.Timestamp("2026-10-05T17:00:04Z")
    assert first["score"] == 2  # the cell says "2"
    assert f.iloc[1]["score"] == 3  # "3 - Proficient"
    # the overview comment and the overall feedback of row 4 both land on its overview rating
    raw = pd.read_csv(GOOGLE, dtype=str, keep_default_na=False)
    r = raw.iloc[2]
    rating = f[(f.submission_id == r["Submission ID"]) & (f.reviewer_id == r["Reviewer ID"])]
    by_crit = dict(zip(rating.criterion_id.astype(str), rating.rationale, strict=True))
    assert by_crit["overview"] == "\n\n".join(
        t for t in (r["Comments [Overview questions]"], r["Overall feedback"]) if t
    )
    assert by_crit["reflection"] == r["Overall feedback"]
    assert got.submission_attributes.columns.tolist() == [
        "submission_id",
        "district",
        "school",
        "grade_band",
    ]
    assert len(got.submission_attributes) == 20
    assert (
        got.reviewer_attributes.set_index("reviewer_id").loc["R001", "email"] == "r001@example.org"
    )
    assert got.unmapped == [] and got.timezone == "America/Chicago"
    assert got.rows.tolist()[:3] == [2, 2, 2]


def test_microsoft_forms_sample(evidence_rubric):
    got = read_profile(MICROSOFT, evidence_rubric, "microsoft-forms", timezone="Europe/Berlin")
    f = got.table.frame
    assert len(f) == 90 and f["rated_at"].notna().all()
    roles = {m["column"]: (m["role"], m["target"]) for m in got.mapping}
    assert roles["Completion time"] == ("time", None)
    assert roles["ID"] == ("ignored", None) and roles["Start time"] == ("ignored", None)
    assert roles["Rate the evidence.Reflection"] == ("criterion", "reflection")
    assert roles["Name"] == ("reviewer_attribute", "name")
    assert roles["Feedback"] == ("comment", None)
    import openpyxl

    book = openpyxl.load_workbook(MICROSOFT, read_only=True)
    try:
        second = next(book.active.iter_rows(min_row=2, max_row=2, values_only=True))
    finally:
        book.close()
    completion = pd.Timestamp(second[2]).tz_localize("Europe/Berlin").tz_convert("UTC")
    assert f.iloc[0]["rated_at"] == completion


def test_custom_profile_sample(met):
    got = read_profile(LMS, met, "data/samples/profile-custom.yaml")
    f = got.table.frame
    assert len(f) == 120 and set(f["round_id"].astype(str)) == {"2026-fall"}
    # 02.11.2026 08:26 in Berlin (CET, UTC+1) is 07:26 UTC
    assert f.iloc[0]["rated_at"] == pd.Timestamp("2026-11-02T07:26:00Z")
    assert got.timezone == "Europe/Berlin"
    assert {m["column"]: m["role"] for m in got.mapping}["Internal ref"] == "ignored"
    assert got.submission_attributes.columns.tolist() == ["submission_id", "course", "cohort"]


@pytest.mark.parametrize(
    ("encoding", "sep", "newline"),
    [
        ("utf-8", ",", "\n"),
        ("utf-8-sig", ",", "\n"),
        ("utf-16", "\t", "\r\n"),  # Excel's "Unicode text"
        ("cp1252", ",", "\n"),
        ("utf-8", ";", "\n"),
        ("utf-8", ",", "\r\n"),
        ("cp1252", ";", "\r\n"),
    ],
    ids=["utf8", "utf8-bom", "utf16-tab", "cp1252", "semicolon", "crlf", "cp1252-semicolon-crlf"],
)
def test_encodings_and_dialects_give_identical_tables(
    tmp_path, evidence_rubric, encoding, sep, newline
):
    raw = pd.read_csv(GOOGLE, dtype=str, keep_default_na=False)
    raw.loc[0, "Overall feedback"] = "Très bien – see “notes”"  # cp1252 has these
    plain = tmp_path / "plain.csv"
    raw.to_csv(plain, index=False, encoding="utf-8")
    want = read_profile(plain, evidence_rubric, "google-forms", timezone="UTC")
    path = tmp_path / f"variant.{'txt' if sep == chr(9) else 'csv'}"
    path.write_bytes(raw.to_csv(index=False, sep=sep, lineterminator=newline).encode(encoding))
    got = read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    pd.testing.assert_frame_equal(got.table.frame, want.table.frame)
    pd.testing.assert_frame_equal(got.submission_attributes, want.submission_attributes)
    assert want.table.frame["rationale"].str.contains("Très bien – see “notes”").any()


def test_unknown_encodings_name_the_file_and_what_was_seen(tmp_path, evidence_rubric):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"Timestamp,Reviewer ID,Submission ID,Q [Reflection]\n10/5/2026 9:00:00,R\x81,S1,3\n"
    )
    with pytest.raises(ProfileReadError) as info:
        read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    (p,) = info.value.problems
    assert p.file == str(path)
    assert "neither UTF-8 nor Windows-1252" in p.message and "line 2" in p.message
    path.write_bytes("Reviewer ID,Submission ID\nR1,S1\n".encode("utf-16-le"))  # no BOM
    with pytest.raises(ProfileReadError, match="UTF-16 text without a byte-order mark"):
        read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    assert codecs.BOM_UTF16_LE not in path.read_bytes()[:2]


def test_attribute_with_two_values_names_both_rows(tmp_path, evidence_rubric):
    path = tmp_path / "f.csv"
    path.write_text(
        "Timestamp,Reviewer ID,Submission ID,District,Q [Reflection]\n"
        "10/5/2026 9:00:00,R1,S1,North,3\n"
        "10/5/2026 9:05:00,R2,S1,South,2\n"
        "10/5/2026 9:10:00,R2,S2,,2\n"
    )
    with pytest.raises(ProfileReadError) as info:
        read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    (p,) = info.value.problems
    assert (p.row, p.column, p.value) == (3, "District", "South")
    assert "'North' (row 2) and 'South'" in p.message


def test_near_miss_and_unmapped_columns_are_listed_not_dropped(tmp_path, evidence_rubric):
    path = tmp_path / "f.csv"
    path.write_text("Reviewer,Submission,Q [Reflection],Q [Reflexion],Extra\nR1,S1,3,2,x\n")
    profile = parse_profile(
        "name: t\nsubmission: Submission\nreviewer: Reviewer\n"
        "criteria: [{pattern: 'Q \\[(?P<criterion>.+)\\]'}]\n"
    )
    got = read_profile(path, evidence_rubric, profile)
    why = {u["column"]: u["why"] for u in got.unmapped}
    assert set(why) == {"Q [Reflexion]", "Extra"}
    assert "'Reflexion' is not a criterion of rubric 'evidence-4level'" in why["Q [Reflexion]"]
    assert "not imported" in why["Extra"]
    assert len(got.table) == 1


def test_missing_roles_and_ambiguous_columns(tmp_path, evidence_rubric):
    path = tmp_path / "f.csv"
    path.write_text("Timestamp,Reviewer A,Reviewer B,Q [Reflection]\n10/5/2026 9:00:00,R1,R2,3\n")
    with pytest.raises(ProfileReadError) as info:
        read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    text = " | ".join(p.message for p in info.value.problems)
    assert "2 columns match the reviewer column" in text
    assert "no submission column" in text


def test_round_and_kind_options(tmp_path, met):
    got = read_profile(LMS, met, "data/samples/profile-custom.yaml", kind="seeded")
    assert set(got.table.frame["kind"].astype(str)) == {"seeded"}
    with pytest.raises(ProfileReadError) as info:
        read_profile(LMS, met, "data/samples/profile-custom.yaml", round_id="other")
    assert info.value.total == 30 and "where --round says 'other'" in info.value.problems[0].message
    with pytest.raises(ValueError, match="kind must be one of"):
        read_profile(LMS, met, "data/samples/profile-custom.yaml", kind="practice")


def test_long_and_wide_builtins_are_todays_readers(tmp_path, evidence_rubric):
    long_file = "data/synthetic/pilot/ratings.csv"
    got = read_profile(long_file, evidence_rubric, "long")
    pd.testing.assert_frame_equal(got.table.frame, read_ratings(long_file, evidence_rubric).frame)
    sheet = tmp_path / "wide.csv"
    sheet.write_text("Reviewer ID,Submission ID,Overview questions,Reflection,Notes\nR1,S1,3,4,x\n")
    got = read_profile(sheet, evidence_rubric, "wide", kind="anchor")
    want = read_wide(sheet, evidence_rubric).frame
    assert got.table.frame.drop(columns="kind").equals(want.drop(columns="kind"))
    assert set(got.table.frame["kind"].astype(str)) == {"anchor"}
    assert got.unmapped == [
        {"column": "Notes", "why": "not a column of the wide format: it is not imported"}
    ]
    with pytest.raises(ValueError, match="timezone is for profiles with local times"):
        read_profile(sheet, evidence_rubric, "wide", timezone="UTC")


def test_custom_long_layout(tmp_path, evidence_rubric):
    path = tmp_path / "lms.csv"
    path.write_text(
        "Grader,Item,Criterion,Level,When\n"
        "R1,S1,Reflection,3 - Proficient,2026-10-05 09:00\n"
        "R1,S1,overview,Emerging,2026-10-05 09:00\n"
    )
    profile = parse_profile(
        "name: l\nlayout: long\nsubmission: Item\nreviewer: Grader\ncriterion: Criterion\n"
        "score: Level\ntime: {column: When, format: '%Y-%m-%d %H:%M', timezone: Asia/Kolkata}\n"
    )
    got = read_profile(path, evidence_rubric, profile)
    f = got.table.frame
    assert f["criterion_id"].astype(str).tolist() == ["reflection", "overview"]
    assert f["score"].tolist() == [3, 2]
    assert f["rated_at"].iloc[0] == pd.Timestamp("2026-10-05T03:30:00Z")


def test_a_comment_column_is_not_taken_for_the_reviewer(tmp_path, evidence_rubric):
    path = tmp_path / "f.csv"
    path.write_text(
        "Timestamp,Reviewer ID,Reviewer comments,Submission ID,Q [Reflection]\n"
        "10/5/2026 9:00:00,R1,fine,S1,3\n"
    )
    got = read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    roles = {m["column"]: m["role"] for m in got.mapping}
    assert roles["Reviewer ID"] == "reviewer" and roles["Reviewer comments"] == "comment"
    assert got.table.frame["rationale"].tolist() == ["fine"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_like_comments_and_attributes_are_neutralised_on_export(
    tmp_path, evidence_rubric, suffix
):
    from calibrate.io import export_table

    path = tmp_path / "f.csv"
    path.write_text(
        "Timestamp,Reviewer ID,Submission ID,District,Q [Reflection],Overall feedback\n"
        '10/5/2026 9:00:00,R1,S1,=SUM(A1),3,"=HYPERLINK(""http://x"")"\n'
    )
    got = read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    assert got.table.frame["rationale"].tolist() == ['=HYPERLINK("http://x")']
    assert got.submission_attributes["district"].tolist() == ["=SUM(A1)"]
    ratings = export_table(got.table, tmp_path / f"ratings{suffix}")
    attrs = export_table(got.submission_attributes, tmp_path / f"attrs{suffix}")
    read = pd.read_csv if suffix == ".csv" else pd.read_excel
    assert read(ratings, dtype=str)["rationale"].tolist() == ['\'=HYPERLINK("http://x")']
    assert read(attrs, dtype=str)["district"].tolist() == ["'=SUM(A1)"]


def test_utf16_big_endian_with_bom(tmp_path, evidence_rubric):
    text = Path(GOOGLE).read_text(encoding="utf-8")
    path = tmp_path / "be.csv"
    path.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    got = read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    want = read_profile(GOOGLE, evidence_rubric, "google-forms", timezone="UTC")
    pd.testing.assert_frame_equal(got.table.frame, want.table.frame)


@pytest.mark.parametrize("name", ["long", "wide"])
def test_long_and_wide_samples(evidence_rubric, name):
    got = read_profile(f"data/samples/{name}.csv", evidence_rubric, name)
    assert len(got.table) == 24 and got.unmapped == []
    google = read_profile(GOOGLE, evidence_rubric, "google-forms", timezone="America/Chicago")
    cols = ["submission_id", "reviewer_id", "criterion_id", "score"]
    key = cols[:3]
    want = google.table.frame[cols].head(24).astype(str).sort_values(key).reset_index(drop=True)
    have = got.table.frame[cols].astype(str).sort_values(key).reset_index(drop=True)
    assert have.equals(want)


def test_inferred_profile_without_a_rubric_reads_with_one(tmp_path, evidence_rubric):
    from calibrate.io import infer_profile, profile_to_yaml

    text = profile_to_yaml(infer_profile(GOOGLE))
    assert "criterion: Overview questions" in text
    profile = parse_profile(text)
    got = read_profile(GOOGLE, evidence_rubric, profile, timezone="America/Chicago")
    want = read_profile(GOOGLE, evidence_rubric, "google-forms", timezone="America/Chicago")
    pd.testing.assert_frame_equal(got.table.frame, want.table.frame)
    pd.testing.assert_frame_equal(got.submission_attributes, want.submission_attributes)


def test_problems_name_the_files_columns(tmp_path, evidence_rubric):
    path = tmp_path / "lms.csv"
    path.write_text(
        "Grader,Item,Criterion,Level,Phase\n"
        "R1,S1,Reflexion,3,practice\n"
        "R1,S1,overview,Emerging,anchor\n"
        "R1,S1,overview,Emerging,anchor\n"
    )
    profile = parse_profile(
        "name: l\nlayout: long\nsubmission: Item\nreviewer: Grader\ncriterion: Criterion\n"
        "score: Level\nkind: Phase\n"
    )
    with pytest.raises(ProfileReadError) as info:
        read_profile(path, evidence_rubric, profile)
    got = {(p.row, p.column) for p in info.value.problems}
    assert (2, "Criterion") in got and (2, "Phase") in got and (4, "Level") in got


def test_google_forms_12_hour_times_and_xlsx_download(tmp_path, evidence_rubric):
    import openpyxl

    path = tmp_path / "f.csv"
    path.write_text(
        "Timestamp,Reviewer ID,Submission ID,Q [Reflection]\n"
        "10/5/2026 9:14:03 PM,R1,S1,3\n10/5/2026 9:14:03 AM,R2,S1,2\n"
    )
    got = read_profile(path, evidence_rubric, "google-forms", timezone="UTC")
    assert got.table.frame["rated_at"].astype(str).tolist() == [
        "2026-10-05 21:14:03+00:00",
        "2026-10-05 09:14:03+00:00",
    ]
    book = openpyxl.Workbook()
    book.active.append(["Timestamp", "Reviewer ID", "Submission ID", "Q [Reflection]"])
    book.active.append([pd.Timestamp("2026-10-05 21:14:03").to_pydatetime(), "R1", "S1", 3])
    book.save(tmp_path / "f.xlsx")
    got = read_profile(
        tmp_path / "f.xlsx", evidence_rubric, "google-forms", timezone="Asia/Kolkata"
    )
    assert str(got.table.frame["rated_at"].iloc[0]) == "2026-10-05 15:44:03+00:00"
