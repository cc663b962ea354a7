"""Submission and reviewer attributes: stored, read back, exported (formula-like text
neutralised), a changed value refused or superseded with its history kept."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from calibrate import RatingsError
from calibrate.store import AttributesReport, ConflictError, Store
from tests.store_history.conftest import cli
from tests.test_store import assert_same_snapshot, check_integrity, snapshot

SUBS = pd.DataFrame(
    {"submission_id": ["S0001", "S0002"], "district": ["north", None], "cohort": ["2026A", "2026A"]}
)
REVS = pd.DataFrame({"reviewer_id": ["R001"], "role": ["lead"]})


def test_import_and_read_attributes(tmp_path):
    with Store.open(tmp_path / "s.db") as s:
        r = s.import_attributes(submission=SUBS, reviewer=REVS, source="subs.csv")
        assert isinstance(r, AttributesReport)
        assert (r.values, r.added, r.already_present, r.submissions, r.reviewers) == (4, 4, 0, 2, 1)
        got = s.attributes("submission")
        assert got.columns.tolist() == ["submission_id", "cohort", "district"]
        assert got.values.tolist() == [["S0001", "2026A", "north"], ["S0002", "2026A", None]]
        assert s.attributes("reviewer").values.tolist() == [["R001", "lead"]]
        again = s.import_attributes(submission=SUBS)  # the same values: nothing new
        assert (again.added, again.already_present, again.superseded) == (0, 3, 0)
        # a value not given (None) removes nothing; a new attribute is added
        s.import_attributes(submission=pd.DataFrame({"submission_id": ["S0002"], "school": ["K7"]}))
        assert s.attributes().loc[1].tolist() == ["S0002", "2026A", None, "K7"]
        assert s.imports()["what"].tolist() == ["attributes"] * 3
        with pytest.raises(ValueError, match="only a ratings import can be retracted"):
            s.retract_import(1, reason="x")
        with pytest.raises(ValueError, match="what must be 'submission' or 'reviewer'"):
            s.attributes("school")  # type: ignore[arg-type]
    check_integrity(tmp_path / "s.db")


def test_a_changed_value_is_refused_or_superseded_once(tmp_path):
    path = tmp_path / "s.db"
    moved = pd.DataFrame({"submission_id": ["S0001"], "district": ["south"]})
    with Store.open(path) as s:
        s.import_attributes(submission=SUBS)
    before = snapshot(path)
    with Store.open(path) as s:
        with pytest.raises(ConflictError) as err:
            s.import_attributes(submission=moved, source="moved.csv")
    (p,) = err.value.problems
    assert p.message == (
        "submission 'S0001' has 'district' = 'north' in the store (import #1); this table has 'south'"
    )
    assert (p.file, p.column, p.value) == ("moved.csv", "district", "south")
    assert_same_snapshot(snapshot(path), before)
    with Store.open(path) as s:
        r = s.import_attributes(submission=moved, supersede=True, reason="school moved")
        assert r.superseded == 1
        s.import_attributes(submission=moved, supersede=True, reason="school moved")  # again
        h = s.attribute_history("submission")
    d = h[(h["submission_id"] == "S0001") & (h["name"] == "district")]
    assert d["value"].tolist() == ["north", "south"]  # one history row, then the current one
    assert d["superseded_by"].tolist()[0] == 2 and d["reason"].tolist()[0] == "school moved"
    assert pd.isna(d["superseded_at"].tolist()[1])


def test_bad_frames_list_every_problem_and_write_nothing(tmp_path):
    bad = pd.DataFrame(
        {"submission_id": ["S1", "", "S1"], "district": ["a", "b", "c"], "n": [1.5, 2, None]}
    )
    with Store.open(tmp_path / "s.db") as s:
        with pytest.raises(RatingsError) as err:
            s.import_attributes(submission=bad, reviewer=pd.DataFrame({"id": ["R1"]}))
        messages = [p.message for p in err.value.problems]
        assert "table row 1: blank submission_id" in messages
        assert any("'S1' is given twice (also table row 0)" in m for m in messages)
        assert any("attribute 'n' must be text or an integer; got 1.5" in m for m in messages)
        assert any("have no reviewer_id column" in m for m in messages)
        with pytest.raises(TypeError, match="submission must be a pandas DataFrame"):
            s.import_attributes(submission={"submission_id": ["S1"]})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="supersede=True needs a reason"):
            s.import_attributes(submission=SUBS, supersede=True)
        assert s.imports().empty


def test_cli_import_with_attribute_files_and_export(tmp_path, files, capsys):
    store = tmp_path / "s.db"
    subs, revs = tmp_path / "subs.csv", tmp_path / "revs.csv"
    subs.write_text('submission_id,district,note\nS0001,north,=HYPERLINK("x")\nS0002,south,\n')
    revs.write_text("reviewer_id,role\nR001,lead\nR002,peer\n")
    argv = ["import", str(files["a"]), "--submissions", str(subs), "--reviewers", str(revs)]
    capsys.readouterr()
    assert cli(*argv, "--format", "json", store=store) == 0
    ratings, attrs = json.loads(capsys.readouterr().out)["imports"]
    assert ratings["added"] == 12 and (attrs["values"], attrs["added"]) == (5, 5)
    out = tmp_path / "subs_out.csv"
    assert cli("export", str(out), "--attributes", "submission", store=store, rubric=False) == 0
    f = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert f.values.tolist() == [["S0001", "north", '\'=HYPERLINK("x")'], ["S0002", "south", ""]]
    # a changed value in the file: refused with the ratings, all in one transaction
    subs.write_text("submission_id,district\nS0001,east\n")
    before = snapshot(store)
    assert cli(*argv[:3], str(subs), store=store) == 1
    assert_same_snapshot(snapshot(store), before)
    assert cli(*argv[:3], str(subs), "--supersede", "--reason", "moved", store=store) == 0
    hist = tmp_path / "h.csv"
    assert (
        cli(
            "export",
            str(hist),
            "--attributes",
            "submission",
            "--history",
            store=store,
            rubric=False,
        )
        == 0
    )
    h = pd.read_csv(hist, dtype=str, keep_default_na=False)
    assert h[h["name"] == "district"]["value"].tolist() == ["north", "east", "south"]
    # usage: --attributes with --rubric-id, or ratings without it
    assert (
        cli(
            "export",
            str(out),
            "--attributes",
            "reviewer",
            "--rubric-id",
            "x",
            store=store,
            rubric=False,
        )
        == 2
    )
    assert cli("export", str(out), store=store, rubric=False) == 2
    # a bad attribute file is named with its row, and nothing is written
    subs.write_text("submission_id,district\n,east\n")
    before = snapshot(store)
    capsys.readouterr()
    assert cli(*argv[:3], str(subs), "--format", "json", store=store) == 1
    (problem,) = json.loads(capsys.readouterr().out)["problems"]
    assert (problem["row"], problem["column"]) == (2, "submission_id")
    assert_same_snapshot(snapshot(store), before)
