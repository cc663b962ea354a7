"""``calibrate retract``: a whole import withdrawn, what it superseded current again,
nothing deleted."""

from __future__ import annotations

import json

import pytest

from calibrate.store import ConflictError, Store
from tests.store_history.conftest import A_ROWS, cli, csv_text
from tests.store_history.test_supersede import current, history_rows
from tests.test_store import assert_same_snapshot, check_integrity, snapshot

A = {(s, r, c): v for s, r, c, v in A_ROWS}


def test_retract_withdraws_an_import_and_restores_what_it_superseded(store_a, files, capsys):
    assert (
        cli("import", str(files["b"]), "--supersede", "--reason", "moderation", store=store_a) == 0
    )
    capsys.readouterr()
    code = cli(
        "retract",
        "--import",
        "2",
        "--reason",
        "wrong file",
        "--format",
        "json",
        store=store_a,
        rubric=False,
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["import_id"], out["retracts"], out["withdrawn"], out["restored"]) == (3, 2, 3, 2)
    assert current(store_a) == A  # exactly the first file again
    with Store.open(store_a, read_only=True) as s:
        h = s.rating_history("evidence-4level")
        imports = s.imports()
    # every version kept: 12 current, 2 superseded by #2, 3 withdrawn by #3
    assert len(h) == 17 and history_rows(store_a) == 5
    withdrawn = h[h["superseded_by"] == 3]
    assert set(withdrawn["import_id"]) == {2} and set(withdrawn["reason"]) == {"wrong file"}
    assert imports["what"].tolist() == ["ratings", "ratings", "retract"]
    assert imports["retracted_by"].isna().tolist() == [True, False, True]
    assert imports.loc[1, "retracted_by"] == 3
    assert imports.loc[2, "retracts"] == 2
    check_integrity(store_a)


def test_retracting_twice_or_a_key_or_an_unknown_import_is_refused(store_a, tmp_path):
    key = tmp_path / "k.csv"
    key.write_text("submission_id,criterion_id,key_score\nS0001,overview,3\n")
    # #2: the same ratings again (all already present, so still #1's), #3: the key
    assert cli("import", str(tmp_path / "a.csv"), "--key", str(key), store=store_a) == 0
    with Store.open(store_a) as s:
        s.retract_import(1, reason="wrong file")
        before = snapshot(store_a)
        with pytest.raises(ValueError, match=r"import #1 was retracted already \(by import #4\)"):
            s.retract_import(1, reason="again")
        with pytest.raises(ValueError, match="import #3 is an answer key"):
            s.retract_import(3, reason="x")
        with pytest.raises(ValueError, match="import #4 is a retraction"):
            s.retract_import(4, reason="x")
        with pytest.raises(ValueError, match="got 99"):
            s.retract_import(99, reason="x")
        with pytest.raises(ValueError, match="reason must say why"):
            s.retract_import(1, reason=" ")
        with pytest.raises(TypeError, match="import_id must be an int"):
            s.retract_import("1", reason="x")  # type: ignore[arg-type]
    assert_same_snapshot(snapshot(store_a), before)
    assert current(store_a) == {}  # all of a withdrawn; the key stays
    with Store.open(store_a, read_only=True) as s:
        assert len(s.answer_key("evidence-4level")) == 1


def test_a_value_superseded_later_stays_and_retracted_origins_are_not_restored(store_a, tmp_path):
    b1, b2 = tmp_path / "b1.csv", tmp_path / "b2.csv"
    b1.write_text(csv_text([("S0001", "R001", "overview", 4), ("S0001", "R001", "artifacts", 3)]))
    b2.write_text(csv_text([("S0001", "R001", "overview", 1)]))
    assert cli("import", str(b1), "--supersede", "--reason", "r1", store=store_a) == 0  # #2
    assert cli("import", str(b2), "--supersede", "--reason", "r2", store=store_a) == 0  # #3
    with Store.open(store_a) as s:
        done = s.retract_import(2, reason="b1 was wrong")
    # overview: #3's value (1) stays current; artifacts: #1's value (2) is back
    assert (done["withdrawn"], done["restored"]) == (1, 1)
    now = current(store_a)
    assert now[("S0001", "R001", "overview")] == 1 and now[("S0001", "R001", "artifacts")] == 2
    # retract #1, then #3: #3 superseded a value of #1 (retracted), so nothing comes back
    with Store.open(store_a) as s:
        s.retract_import(1, reason="a was wrong")
        done = s.retract_import(3, reason="b2 was wrong")
    assert (done["withdrawn"], done["restored"]) == (1, 0)
    assert current(store_a) == {}
    check_integrity(store_a)


def test_retract_in_a_closed_round_is_refused(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(
        "submission_id,reviewer_id,criterion_id,score,round_id\nS0001,R001,overview,3,C1\n"
    )
    store = tmp_path / "s.db"
    assert cli("import", str(a), store=store) == 0
    with Store.open(store) as s:
        s.close_round("evidence-4level", "C1")
        before = snapshot(store)
        with pytest.raises(
            ConflictError, match="round 'C1' of rubric 'evidence-4level' was closed"
        ):
            s.retract_import(1, reason="x")
    assert_same_snapshot(snapshot(store), before)


def test_retract_cli_usage_and_errors(store_a, capsys):
    with pytest.raises(SystemExit) as stop:  # argparse: a required option missing
        cli("retract", "--import", "1", store=store_a, rubric=False)
    assert stop.value.code == 2
    assert cli("retract", "--import", "1", "--reason", " ", store=store_a, rubric=False) == 2
    capsys.readouterr()
    assert cli("retract", "--import", "7", "--reason", "x", store=store_a, rubric=False) == 1
    assert "got 7" in capsys.readouterr().err
    assert cli("imports", "--format", "json", store=store_a, rubric=False) == 0
    listed = json.loads(capsys.readouterr().out)["imports"]
    assert [(i["import_id"], i["what"], i["rows"]) for i in listed] == [(1, "ratings", 12)]


def test_every_read_sees_current_values_only(tmp_path):
    """ratings(), summary() and rounds() read current values (a superseded value is not
    counted twice, a retracted import not at all); the history of one round has them all."""
    head = "submission_id,reviewer_id,criterion_id,score,round_id,kind\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(head + "S0001,R001,overview,3,C1,anchor\nS0001,R002,overview,2,C1,anchor\n")
    b.write_text(head + "S0001,R001,overview,4,C1,anchor\nS0009,R003,overview,1,C2,live\n")
    store = tmp_path / "s.db"
    assert cli("import", str(a), store=store) == 0
    assert cli("import", str(b), "--supersede", "--reason", "r", store=store) == 0

    def reads():
        with Store.open(store, read_only=True) as s:
            rounds = s.rounds().set_index("round_id")["ratings"].to_dict()
            totals = s.summary()["totals"]
            n = len(s.ratings("evidence-4level"))
            c1 = s.rating_history("evidence-4level", round_id="C1")
        return rounds, (totals["ratings"], totals["reviewers"], totals["submissions"]), n, len(c1)

    assert reads() == ({"C1": 2, "C2": 1}, (3, 3, 2), 3, 3)  # C1: 2 current + 1 superseded
    assert cli("retract", "--import", "2", "--reason", "x", store=store, rubric=False) == 0
    # C2's only rating withdrawn (the round itself stays), C1 back to import 1's values
    assert reads() == ({"C1": 2, "C2": 0}, (2, 2, 1), 2, 4)
    out = tmp_path / "c1.csv"
    argv = ("export", str(out), "--history", "--round", "C1", "--rubric-id", "evidence-4level")
    assert cli(*argv, store=store, rubric=False) == 0
    assert out.read_text().count("\n") == 1 + 4
