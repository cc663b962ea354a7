"""Corrections: a changed score is refused (every conflict listed, the store unchanged)
unless imported with ``--supersede --reason``, which keeps the old value in the history."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest

from calibrate.io import read_ratings
from calibrate.rubric import load_rubric
from calibrate.store import ConflictError, Store
from tests.store_history.conftest import RUBRIC, cli, csv_text
from tests.test_store import assert_same_snapshot, check_integrity, snapshot


def current(store) -> dict[tuple[str, str, str], int]:
    with Store.open(store, read_only=True) as s:
        f = s.ratings("evidence-4level").frame
    return {
        (s, r, c): int(v)
        for s, r, c, v in zip(
            f["submission_id"], f["reviewer_id"], f["criterion_id"], f["score"], strict=True
        )
    }


def history_rows(store) -> int:
    with contextlib.closing(sqlite3.connect(store)) as c:
        return c.execute("SELECT count(*) FROM rating_history").fetchone()[0]


def test_default_refusal_lists_every_conflict_with_row_old_and_new(store_a, files, capsys):
    before = snapshot(store_a)
    capsys.readouterr()
    assert cli("import", str(files["b"]), "--format", "json", store=store_a) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    got = [(p["row"], p["column"], p["value"]) for p in out["problems"]]
    assert got == [(2, "score", "4"), (5, "score", "1")]  # file rows, the new values
    assert "stored with score 3 (import #1 of" in out["problems"][0]["message"]  # old value
    assert "stored with score 4 (import #1 of" in out["problems"][1]["message"]
    assert "--supersede --reason TEXT" in out["hint"]
    assert_same_snapshot(snapshot(store_a), before)  # the new row S0003 was not added either
    assert history_rows(store_a) == 0


def test_supersede_makes_new_values_current_and_keeps_the_old(store_a, files, capsys):
    capsys.readouterr()
    code = cli(
        "import",
        str(files["b"]),
        "--supersede",
        "--reason",
        "moderation",
        "--format",
        "json",
        store=store_a,
    )
    assert code == 0
    (report,) = json.loads(capsys.readouterr().out)["imports"]
    assert (report["rows"], report["added"], report["already_present"], report["superseded"]) == (
        4,
        1,
        1,
        2,
    )
    assert report["reason"] == "moderation" and report["import_id"] == 2
    now = current(store_a)
    assert now[("S0001", "R001", "overview")] == 4 and now[("S0001", "R002", "overview")] == 1
    assert now[("S0003", "R001", "overview")] == 3 and len(now) == 13
    with Store.open(store_a, read_only=True) as s:
        h = s.rating_history("evidence-4level")
        assert s.summary()["totals"]["ratings"] == 13  # current values only
        imports = s.imports()
    old = h[h["superseded_by"].notna()]
    assert sorted(zip(old["reviewer_id"], old["score"], old["import_id"], strict=True)) == [
        ("R001", 3, 1),
        ("R002", 4, 1),
    ]
    assert set(old["superseded_by"]) == {2} and set(old["reason"]) == {"moderation"}
    assert old["superseded_at"].str.match(r"^\d{4}-\d\d-\d\dT.*Z$").all()
    assert len(h) == 13 + 2 and h["superseded_at"].isna().sum() == 13
    assert imports.loc[1, "superseded"] == 2 and imports.loc[1, "reason"] == "moderation"
    check_integrity(store_a)


def test_superseding_twice_with_the_same_file_adds_one_history_row_per_change(store_a, files):
    argv = ("import", str(files["b"]), "--supersede", "--reason", "moderation")
    assert cli(*argv, store=store_a) == 0
    after_first = current(store_a)
    assert history_rows(store_a) == 2
    assert cli(*argv, store=store_a) == 0
    assert history_rows(store_a) == 2 and current(store_a) == after_first
    assert cli("import", str(files["b"]), store=store_a) == 0  # and plain re-import: nothing


def test_supersede_needs_a_reason(store_a, files, capsys):
    before = snapshot(store_a)
    for extra in (["--supersede"], ["--supersede", "--reason", "  "], ["--reason", "x"]):
        assert cli("import", str(files["b"]), *extra, store=store_a) == 2, extra
    assert "--supersede needs --reason" in capsys.readouterr().err
    assert_same_snapshot(snapshot(store_a), before)
    table = read_ratings(files["b"], load_rubric(RUBRIC))
    with Store.open(store_a) as s:
        with pytest.raises(ValueError, match="supersede=True needs a reason"):
            s.import_ratings(table, supersede=True)
        with pytest.raises(ValueError, match="reason is recorded only when superseding"):
            s.import_ratings(table, reason="why")
        with pytest.raises(TypeError, match="supersede must be True or False"):
            s.import_ratings(table, supersede="yes", reason="why")  # type: ignore[arg-type]
        with pytest.raises(ConflictError) as err:
            s.import_ratings(table)
    assert "--supersede --reason TEXT" in str(err.value)


def test_supersede_in_a_closed_round_is_refused(tmp_path):
    rows = [("S0001", "R001", "overview", 3)]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(csv_text(rows).replace("score\n", "score,round_id\n").replace("3\n", "3,C1\n"))
    b.write_text(a.read_text().replace(",3,C1", ",2,C1"))
    store = tmp_path / "s.db"
    assert cli("import", str(a), store=store) == 0
    with Store.open(store) as s:
        s.close_round("evidence-4level", "C1")
    before = snapshot(store)
    assert cli("import", str(b), "--supersede", "--reason", "r", store=store) == 1
    assert_same_snapshot(snapshot(store), before)
    assert history_rows(store) == 0


def test_live_rows_superseded_keep_their_origin(tmp_path, evidence_rubric):
    store = tmp_path / "s.db"
    with Store.open(store) as s:
        s.add_rubric(evidence_rubric)
        s.add_rating(
            "evidence-4level", "S0001", "R001", "overview", 2, rated_at="2026-09-01T10:00Z"
        )
    f = tmp_path / "b.csv"
    f.write_text(csv_text([("S0001", "R001", "overview", 3)]))
    assert cli("import", str(f), "--supersede", "--reason", "typo", store=store) == 0
    with Store.open(store, read_only=True) as s:
        h = s.rating_history("evidence-4level")
    assert h["score"].tolist() == [2, 3]
    assert h["import_id"].isna().tolist() == [True, False]  # entered live, then import #1
    assert str(h["rated_at"][0]) == "2026-09-01 10:00:00+00:00"
