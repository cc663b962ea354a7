"""``calibrate feedback``: the JSON contract, the table, planted reviewers, bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from calibrate.cli._main import main
from calibrate.rubric import load_rubric
from calibrate.synth import SynthSpec, generate, synth_comments

RUBRIC_PATH = "rubrics/evidence-4level.yaml"


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory):
    program = generate(load_rubric(RUBRIC_PATH), SynthSpec(n_submissions=80, n_reviewers=6, seed=5))
    table = program.ratings_table()
    ids = list(table.codes.reviewer_ids)
    frame = program.ratings.copy()
    frame["rationale"] = synth_comments(table, paste=[ids[0]], blank=[ids[1]], seed=5)
    path = tmp_path_factory.mktemp("fb") / "ratings.csv"
    frame.to_csv(path, index=False)
    return path, ids


def test_json_contract(ratings_file, capsys):
    path, ids = ratings_file
    code = main(["feedback", str(path), "--rubric", RUBRIC_PATH, "--format", "json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    rows = {r["reviewer_id"]: r for r in doc["reviewers"]}
    assert set(rows) == set(ids)
    for r in rows.values():
        assert {
            "reviewer_id",
            "n_not_yet",
            "not_yet_without_feedback",
            "reused_share",
            "flags",
        } <= set(r)
    flagged = {k for k, r in rows.items() if r["flags"]}
    assert flagged == {ids[0], ids[1]}
    assert rows[ids[0]]["reused_share"] == 1.0
    assert rows[ids[1]]["not_yet_without_feedback"] == rows[ids[1]]["n_not_yet"] > 0
    assert [c["criterion_id"] for c in doc["criteria"]] == ["overview", "artifacts", "reflection"]
    assert doc["options"]["near_copy"] == 0.9


def test_table_and_options(ratings_file, capsys):
    path, ids = ratings_file
    code = main(["feedback", str(path), "--rubric", RUBRIC_PATH, "--reused-share", "1.0"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Feedback audit of" in out and "not a verdict" in out
    assert "near-copies" in out and "have no feedback" in out


def test_kind_selection_and_pseudonyms(ratings_file, capsys, tmp_path):
    path, ids = ratings_file
    key = tmp_path / "key"
    code = main(
        [
            "feedback",
            str(path),
            "--rubric",
            RUBRIC_PATH,
            "--kind",
            "live",
            "--format",
            "json",
            "--pseudonymize",
            "--pseudonym-key",
            str(key),
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(r["reviewer_id"].startswith("R-") for r in doc["reviewers"])
    assert not any(i in json.dumps(doc) for i in ids)


def test_no_comment_column(capsys):
    code = main(
        [
            "feedback",
            "data/synthetic/pilot/ratings.csv",
            "--rubric",
            RUBRIC_PATH,
            "--format",
            "json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(r["not_yet_without_feedback"] == r["n_not_yet"] for r in doc["reviewers"])


def test_bad_data_exit_1(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "submission_id": ["S1", "S1", ""],
            "reviewer_id": ["R1", "R1", "R2"],
            "criterion_id": ["overview", "nope", "overview"],
            "score": [3, 3, 9],
            "rationale": ["ok", "", ""],
        }
    ).to_csv(bad, index=False)
    code = main(["feedback", str(bad), "--rubric", RUBRIC_PATH, "--format", "json"])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and len(doc["problems"]) >= 3
    cols = {p["column"] for p in doc["problems"]}
    assert {"submission_id", "criterion_id", "score"} <= cols


def test_usage_errors_exit_2(ratings_file, capsys):
    path, _ = ratings_file
    assert main(["feedback", str(path), "--rubric", RUBRIC_PATH, "--near-copy", "2"]) == 2
    assert "near_copy" in capsys.readouterr().err
    assert main(["feedback", "missing.csv", "--rubric", RUBRIC_PATH]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["feedback", str(path)])  # --rubric is required
    assert exc.value.code == 2
