"""``calibrate round assign`` (= ``calibrate assign``): the rows reviewer_id, anchors, n; the
assignment stored in one transaction with a snapshot first; the same run again changes
nothing; another one under ratings needs --replace; clear usage errors. ``calibrate round
RATINGS ...`` is unchanged (its own tests in tests/test_cli.py and test_round_coverage.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calibrate.calibration import assign_anchors, choose_anchors
from calibrate.cli import main
from calibrate.io import read_key
from calibrate.rubric import load_rubric
from calibrate.store import Store

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = ROOT / "rubrics" / "evidence-4level.yaml"
PILOT = ROOT / "data" / "synthetic" / "pilot"
REVIEWERS = "R001,R002,R003,R004,R005"


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "s.db"
    with Store.open(path) as s:
        s.add_rubric(load_rubric(RUBRIC))
    return path


def base(store, *more):
    return ["round", "assign", "--store", store, "--rubric-id", "evidence-4level", *more]


def test_assign_from_a_list_stores_what_it_prints(store, capsys):
    argv = base(
        store,
        "--round",
        "C1",
        "--anchors",
        "A001,A002,A003,A004",
        "--reviewers",
        REVIEWERS,
        "--k",
        "2",
        "--seed",
        "11",
        "--format",
        "json",
    )
    code, out, err = run(argv, capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert [set(r) for r in rows] == [{"reviewer_id", "anchors", "n"}] * 5
    expected = assign_anchors(["A001", "A002", "A003", "A004"], REVIEWERS.split(","), 2, rng=11)
    assert {r["reviewer_id"]: tuple(r["anchors"]) for r in rows} == dict(expected)
    assert [r["n"] for r in rows] == [len(r["anchors"]) for r in rows]
    assert sorted(r["n"] for r in rows) == [1, 1, 2, 2, 2]  # 8 slots over 5 reviewers
    with Store.open(store, read_only=True) as s:
        assert s.anchor_assignment("evidence-4level", "C1") == {
            r["reviewer_id"]: r["anchors"] for r in rows
        }
    assert "round C1 assigned" in err
    assert Path(f"{store}.bak").is_file()  # the snapshot before the write
    # the two spellings are one command: the same run again changes nothing
    code, out2, err = run(["assign", *argv[2:]], capsys)
    assert code == 0 and json.loads(out2) == rows and "round C1 unchanged" in err


def test_from_key_chooses_covering_anchors_and_the_text_table(store, capsys):
    argv = base(
        store,
        "--round",
        "C2",
        "--from-key",
        PILOT / "key.csv",
        "--n-anchors",
        6,
        "--reviewers",
        REVIEWERS,
        "--k",
        3,
        "--seed",
        7,
    )
    code, out, err = run(argv, capsys)
    assert code == 0, err
    key = read_key(PILOT / "key.csv", load_rubric(RUBRIC))
    chosen = choose_anchors(key, 6, rng=7)
    assert out.startswith(
        "Round C2: 6 anchors to 5 reviewers, 3 per anchor (3 or 4 each); assigned"
    )
    assert "reviewer_id" in out and "anchors" in out
    with Store.open(store, read_only=True) as s:
        assert s.round_assignment("evidence-4level", "C2")["anchors"] == sorted(chosen)


def test_ids_from_files_and_a_printed_seed_repeats_the_run(store, tmp_path, capsys):
    (tmp_path / "anchors.csv").write_text("submission_id\nA001\nA002\nA003\n")
    (tmp_path / "reviewers.csv").write_text("reviewer_id,role\nR001,lead\nR002,\nR003,\n")
    argv = base(
        store,
        "--round",
        "C3",
        "--anchors",
        tmp_path / "anchors.csv",
        "--reviewers",
        tmp_path / "reviewers.csv",
        "--k",
        2,
        "--format",
        "json",
    )
    code, out, err = run(argv, capsys)
    assert code == 0, err
    seed = int(err.split("seed: ")[1].split()[0])
    assert {r["reviewer_id"] for r in json.loads(out)} == {"R001", "R002", "R003"}
    code, again, err = run([*argv, "--seed", seed], capsys)
    assert code == 0 and json.loads(again) == json.loads(out) and "unchanged" in err


def test_another_assignment_under_ratings_needs_replace(store, capsys):
    first = base(
        store,
        "--round",
        "C1",
        "--anchors",
        "A001,A002",
        "--reviewers",
        "R001,R002",
        "--k",
        1,
        "--seed",
        1,
    )
    assert run(first, capsys)[0] == 0
    with Store.open(store) as s:
        s.add_rating("evidence-4level", "A001", "R001", "overview", 3, round_id="C1", kind="anchor")
        before = s.anchor_assignment("evidence-4level", "C1")
    other = base(
        store,
        "--round",
        "C1",
        "--anchors",
        "A001,A002,A003",
        "--reviewers",
        "R001,R002",
        "--k",
        2,
        "--seed",
        1,
    )
    code, out, err = run([*other, "--format", "json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False and "--replace" in doc["error"] and "1 ratings" in doc["error"]
    with Store.open(store, read_only=True) as s:
        assert s.anchor_assignment("evidence-4level", "C1") == before  # nothing written
    code, out, err = run([*other, "--replace"], capsys)
    assert code == 0 and "; replaced" in out
    with Store.open(store, read_only=True) as s:
        assert len(s.anchor_assignment("evidence-4level", "C1")["R001"]) == 3


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (
            ["--anchors", "A001", "--reviewers", "R001,R002", "--k", "3"],
            "k (reviewers per anchor) must be between 1 and the 2 reviewers given; got 3",
        ),
        (
            ["--reviewers", "R001", "--k", "1"],
            "give the anchors with --anchors A1,A2,...|FILE or --from-key KEY (one)",
        ),
        (["--anchors", "A1", "--from-key", "k.csv", "--reviewers", "R001", "--k", "1"], "(one)"),
        (
            ["--from-key", str(PILOT / "key.csv"), "--reviewers", "R001", "--k", "1"],
            "--n-anchors N goes with --from-key",
        ),
        (["--anchors", " , ", "--reviewers", "R001", "--k", "1"], "no submission ids in ' , '"),
        (
            ["--anchors", "A1,A1", "--reviewers", "R001", "--k", "1"],
            "anchors must not repeat an id; repeated: ['A1']",
        ),
        (
            [
                "--from-key",
                str(PILOT / "key.csv"),
                "--n-anchors",
                "999",
                "--reviewers",
                "R001",
                "--k",
                "1",
            ],
            "--n-anchors: n must be at most the",
        ),
    ],
    ids=["k-above-n", "no-anchors", "both", "n-without-key", "blank-list", "repeat", "too-many"],
)
def test_usage_errors_exit_2_and_write_nothing(store, capsys, more, message):
    code, out, err = run([*base(store, "--round", "C9", *more), "--format", "json"], capsys)
    assert code == 2
    assert message in json.loads(out)["error"] and message in err
    with Store.open(store, read_only=True) as s:
        assert s.rounds("evidence-4level").empty


def test_a_missing_store_or_rubric_is_named(tmp_path, store, capsys):
    code, _, err = run(
        base(
            tmp_path / "none.db", "--round", "C1", "--anchors", "A1", "--reviewers", "R1", "--k", 1
        ),
        capsys,
    )
    assert code == 2 and "no store at" in err and not (tmp_path / "none.db").exists()
    argv = [
        "assign",
        "--store",
        store,
        "--rubric-id",
        "nope",
        "--round",
        "C1",
        "--anchors",
        "A1",
        "--reviewers",
        "R1",
        "--k",
        1,
    ]
    code, _, err = run(argv, capsys)
    assert code == 1 and "nope" in err


def test_anchors_without_a_stored_key_are_warned_about(store, capsys):
    with Store.open(store) as s:
        s.import_key(read_key(PILOT / "key.csv", load_rubric(RUBRIC)))
    argv = base(
        store,
        "--round",
        "C1",
        "--anchors",
        "A001,X9,A002",
        "--reviewers",
        "R001,R002",
        "--k",
        1,
        "--seed",
        1,
    )
    code, _, err = run(argv, capsys)
    assert code == 0
    assert "no answer key for anchors ['X9'] of rubric 'evidence-4level'" in err
    code, _, err = run(
        base(
            store,
            "--round",
            "C2",
            "--anchors",
            "A001,A002",
            "--reviewers",
            "R001",
            "--k",
            1,
            "--seed",
            1,
        ),
        capsys,
    )
    assert code == 0 and "warning" not in err
