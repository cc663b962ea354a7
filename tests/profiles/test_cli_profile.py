"""``calibrate import --profile/--dry-run`` and ``calibrate profile``: the CLI contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from calibrate.cli import main
from calibrate.io import parse_profile, read_profile
from calibrate.rubric import load_rubric
from calibrate.store import Store

RUBRIC = "rubrics/evidence-4level.yaml"
GOOGLE = "data/samples/google-forms.csv"
MICROSOFT = "data/samples/microsoft-forms.xlsx"


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _listing(folder):
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


def test_dry_run_writes_nothing_not_even_a_store(tmp_path, capsys):
    store = tmp_path / "s.db"
    code, out, _ = run(
        [
            "import",
            GOOGLE,
            "--rubric",
            RUBRIC,
            "--profile",
            "google-forms",
            "--timezone",
            "America/Chicago",
            "--store",
            str(store),
            "--dry-run",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    assert list(tmp_path.iterdir()) == []
    got = json.loads(out)
    for field in ("mapping", "would_add", "unmapped", "problems", "timezone"):
        assert field in got
    assert got["timezone"] == "America/Chicago" and got["dry_run"] is True
    assert got["would_add"]["ratings"] == 120 and got["already_present"] == 0
    assert {"column": "Timestamp", "role": "time", "target": None} in got["mapping"]
    # the inferred profile is YAML the --profile option reads back
    assert parse_profile(got["inferred_profile"]).submission[0].column == "Submission ID"


def test_import_then_dry_run_counts_present_and_conflicts(tmp_path, capsys):
    store = tmp_path / "s.db"
    base = [
        "import",
        GOOGLE,
        "--rubric",
        RUBRIC,
        "--profile",
        "google-forms",
        "--store",
        str(store),
    ]
    code, out, _ = run([*base, "--timezone", "America/Chicago", "--format", "json"], capsys)
    assert code == 0
    got = json.loads(out)
    assert got["imports"][0]["added"] == 120 and got["timezone"] == "America/Chicago"
    assert got["attributes"]["submission_attributes"] == ["district", "school", "grade_band"]
    with Store.open(store, read_only=True) as s:
        f = s.ratings("evidence-4level").frame
    assert str(f["rated_at"].min()) == "2026-10-05 17:00:04+00:00"
    before = _listing(tmp_path)
    code, out, _ = run(
        [*base, "--timezone", "America/Chicago", "--dry-run", "--format", "json"], capsys
    )
    got = json.loads(out)
    assert code == 0 and got["already_present"] == 120 and got["would_add"]["ratings"] == 0
    assert _listing(tmp_path) == before  # store, snapshot: untouched
    # a changed score is a conflict: shown, exit 1, still nothing written
    changed = tmp_path / "changed.csv"
    text = (
        Path(GOOGLE)
        .read_text(encoding="utf-8")
        .replace("R006,S0001,South,SCH-05,6-8,2,", "R006,S0001,South,SCH-05,6-8,4,", 1)
    )
    changed.write_text(text, encoding="utf-8")
    before = _listing(tmp_path)
    code, out, _ = run(
        [
            "import",
            str(changed),
            "--rubric",
            RUBRIC,
            "--profile",
            "google-forms",
            "--store",
            str(store),
            "--timezone",
            "America/Chicago",
            "--dry-run",
            "--format",
            "json",
        ],
        capsys,
    )
    got = json.loads(out)
    assert code == 1 and got["conflicting"] == 1 and got["already_present"] == 119
    assert got["conflicts"] == [
        {
            "row": 2,
            "round_id": None,
            "submission_id": "S0001",
            "reviewer_id": "R006",
            "criterion_id": "overview",
            "score": 4,
            "stored_score": 2,
        }
    ]
    assert _listing(tmp_path) == before


def test_dry_run_shows_problems_with_the_mapping(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Timestamp,Reviewer ID,Submission ID,Q [Reflection],Q [Reflexion]\n"
        "10/5/2026 9:00:00,R1,S1,2 - Proficient,3\n"
    )
    code, out, _ = run(
        [
            "import",
            str(bad),
            "--rubric",
            RUBRIC,
            "--profile",
            "google-forms",
            "--timezone",
            "UTC",
            "--store",
            str(tmp_path / "s.db"),
            "--dry-run",
        ],
        capsys,
    )
    assert code == 1
    assert "'Q [Reflection]' -> criterion reflection" in out
    assert "'Q [Reflexion]' -> unmapped: looks like a criterion column" in out
    assert "row 2, column 'Q [Reflection]', value '2 - Proficient'" in out
    assert not (tmp_path / "s.db").exists()


def test_wide_is_an_alias_of_profile_wide(tmp_path, capsys):
    sheet = tmp_path / "w.csv"
    sheet.write_text(
        "Reviewer ID,Submission ID,Overview questions,Reflection\nR1,S1,3,4\nR2,S1,2,3\n"
    )
    outs = []
    for flag in (["--wide"], ["--profile", "wide"]):
        store = tmp_path / f"{flag[-1]}.db"
        code, out, _ = run(
            [
                "import",
                str(sheet),
                "--rubric",
                RUBRIC,
                *flag,
                "--store",
                str(store),
                "--format",
                "json",
            ],
            capsys,
        )
        assert code == 0
        with Store.open(store, read_only=True) as s:
            outs.append(s.ratings("evidence-4level").frame)
    assert outs[0].equals(outs[1]) and len(outs[0]) == 4
    code, _, err = run(
        ["import", str(sheet), "--rubric", RUBRIC, "--wide", "--profile", "google-forms"], capsys
    )
    assert code == 2 and "--wide is --profile wide" in err


def test_usage_errors(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    code, _, err = run(
        [
            "import",
            GOOGLE,
            "--rubric",
            RUBRIC,
            "--profile",
            "google-forms",
            "--timezone",
            "Mars/Olympus",
            "--store",
            store,
        ],
        capsys,
    )
    assert code == 2 and "IANA zone name" in err
    code, _, err = run(
        ["import", GOOGLE, "--rubric", RUBRIC, "--profile", "gogle-forms", "--store", store], capsys
    )
    assert code == 2 and "profile must be one of" in err
    code, _, err = run(
        ["import", GOOGLE, "--rubric", RUBRIC, "--timezone", "UTC", "--store", store], capsys
    )
    assert code == 2 and "--timezone is for profiles" in err
    assert not os.path.exists(store)


def test_profile_file_with_unknown_key_is_a_data_error(tmp_path, capsys):
    prof = tmp_path / "p.yaml"
    prof.write_text(
        "name: x\nsubmission: S\nreviewer: R\ncriteria: [{pattern: '(?P<criterion>.+)'}]\nreviewr: R\n"
    )
    code, out, _ = run(
        [
            "import",
            GOOGLE,
            "--rubric",
            RUBRIC,
            "--profile",
            str(prof),
            "--store",
            str(tmp_path / "s.db"),
            "--format",
            "json",
        ],
        capsys,
    )
    got = json.loads(out)
    assert code == 1 and got["problems"][0]["field"] == "reviewr"
    assert "unknown key 'reviewr'" in got["problems"][0]["message"]


@pytest.mark.parametrize(
    "sample", [GOOGLE, MICROSOFT, "data/samples/lms-export.csv"], ids=["google", "microsoft", "lms"]
)
def test_profile_command_writes_a_profile_that_imports(tmp_path, capsys, sample):
    rubric = "rubrics/met-not-yet.yaml" if "lms" in sample else RUBRIC
    code, out, _ = run(["profile", sample, "--rubric", rubric], capsys)
    assert code == 0
    prof = tmp_path / "p.yaml"
    prof.write_text(out, encoding="utf-8")
    code, out, _ = run(
        [
            "import",
            sample,
            "--rubric",
            rubric,
            "--profile",
            str(prof),
            "--timezone",
            "UTC",
            "--store",
            str(tmp_path / "s.db"),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, out
    assert json.loads(out)["imports"][0]["added"] in (90, 120)


def test_import_with_round_and_kind_on_a_long_file(tmp_path, capsys):
    long_file = tmp_path / "long.csv"
    long_file.write_text(
        "submission_id,reviewer_id,criterion_id,score,kind\n"
        "S1,R1,overview,3,\nS1,R2,overview,2,LIVE\n"
    )
    store = tmp_path / "s.db"
    code, out, _ = run(
        [
            "import",
            str(long_file),
            "--rubric",
            RUBRIC,
            "--round",
            "r-x",
            "--kind",
            "live",
            "--store",
            str(store),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, out
    with Store.open(store, read_only=True) as s:
        f = s.ratings("evidence-4level").frame
    assert f["round_id"].astype(str).tolist() == ["r-x", "r-x"]
    assert f["kind"].astype(str).tolist() == ["live", "live"]  # a blank is filled
    code, out, _ = run(
        [
            "import",
            str(long_file),
            "--rubric",
            RUBRIC,
            "--kind",
            "seeded",
            "--store",
            str(tmp_path / "t.db"),
            "--format",
            "json",
        ],
        capsys,
    )
    got = json.loads(out)
    assert code == 1 and not (tmp_path / "t.db").exists()
    assert [(p["row"], p["value"]) for p in got["problems"]] == [(3, "live")]


def test_attributes_from_the_export_are_stored_with_the_ratings(tmp_path, capsys):
    store = str(tmp_path / "s.db")
    argv = ["import", GOOGLE, "--rubric", RUBRIC, "--profile", "google-forms"]
    argv += ["--timezone", "UTC", "--store", store, "--format", "json"]
    code, out, _ = run(argv, capsys)
    got = json.loads(out)
    assert code == 0 and got["attributes"]["stored"] is True
    with Store.open(store, create=False, read_only=True) as s:
        subs, revs = s.attributes("submission"), s.attributes("reviewer")
    read = read_profile(GOOGLE, load_rubric(RUBRIC), "google-forms", timezone="UTC")
    want = read.submission_attributes
    assert len(want) == 20 and set(want.columns) == {
        "submission_id",
        "district",
        "school",
        "grade_band",
    }
    # every value read is stored, as text, once per (id, attribute)
    stored = {(r.submission_id, r.attribute, r.value) for r in _long(subs, "submission_id")}
    given = {(r.submission_id, r.attribute, r.value) for r in _long(want, "submission_id")}
    assert stored == given and len(given) >= 20
    assert {(r.reviewer_id, r.attribute) for r in _long(revs, "reviewer_id")} == {
        (r.reviewer_id, "email") for r in _long(read.reviewer_attributes, "reviewer_id")
    }
    # importing the same export again adds nothing
    code, out, _ = run(argv, capsys)
    again = json.loads(out)
    assert code == 0 and all(i.get("added", 0) == 0 for i in again["imports"])


def _long(frame, id_column):
    """(id, attribute, value) rows of a wide attribute frame, blanks left out."""

    if "attribute" in frame.columns:  # the store's own long form
        return list(frame.itertuples(index=False))
    melted = frame.melt(id_vars=[id_column], var_name="attribute", value_name="value")
    melted = melted[melted["value"].notna() & (melted["value"].astype(str) != "")]
    return list(melted.assign(value=melted["value"].astype(str)).itertuples(index=False))


def test_the_text_summary_names_the_attributes_read(tmp_path, capsys):
    code, out, _ = run(
        [
            "import",
            GOOGLE,
            "--rubric",
            RUBRIC,
            "--profile",
            "google-forms",
            "--timezone",
            "UTC",
            "--store",
            str(tmp_path / "s.db"),
        ],
        capsys,
    )
    assert code == 0
    assert "times without a zone were read as UTC local time" in out
    assert "attributes of 20 submissions (district, school, grade_band)" in out
    assert "and 6 reviewers (email): stored" in out
