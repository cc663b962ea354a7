"""``calibrate policy``: the JSON contract, the recommendation, and usage errors."""

from __future__ import annotations

import json

import pytest

from calibrate.cli import main

TRUTH = "data/synthetic/district/truth.json"
RUBRIC = "rubrics/discussion-hybrid.yaml"
FIELDS = {
    "reviewers",
    "resolution",
    "min_total",
    "decision_differs",
    "accuracy",
    "false_pass_rate",
    "false_not_yet_rate",
    "third_review_rate",
    "reviews_per_submission",
    "mc_se",
}


def test_policy_json_rows_from_truth_and_grid(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text("min_total: [16, 17]\nreviewers: [2, 3]\n")
    argv = [
        "policy",
        "--rubric",
        RUBRIC,
        "--truth",
        TRUTH,
        "--grid",
        str(grid),
        "--n",
        "3000",
        "--seed",
        "4",
        "--max-false-pass",
        "0.05",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and all(FIELDS <= set(r) for r in rows)
    assert sum(r["recommended"] for r in rows) == 1
    assert all(0 <= r["accuracy"] <= 1 and r["mc_se"] > 0 for r in rows)
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == rows  # same seed, same rows


def test_policy_from_ratings_and_key(capsys):
    argv = [
        "policy",
        "--rubric",
        "rubrics/evidence-4level.yaml",
        "--ratings",
        "data/synthetic/pilot/ratings.csv",
        "--key",
        "data/synthetic/pilot/key.csv",
        "--n",
        "2000",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["resolution"] for r in rows} == {"majority", "average", "replace_farthest", "expert"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give either --truth TRUTH or --ratings RATINGS --key KEY"),
        (["--truth", TRUTH, "--ratings", "x.csv"], "give either --truth"),
        (["--ratings", "data/synthetic/district/ratings.csv"], "--ratings needs --key"),
        (["--truth", TRUTH, "--n", "1"], "--n must be at least 2"),
    ],
    ids=["no-source", "two-sources", "no-key", "tiny-n"],
)
def test_policy_usage_errors(capsys, extra, message):
    assert main(["policy", "--rubric", RUBRIC, *extra]) == 2
    assert message in capsys.readouterr().err


def test_unusable_grid_lists_every_bad_combination(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text("min_total: [30, 31]\n")
    assert main(["policy", "--rubric", RUBRIC, "--truth", TRUTH, "--grid", str(grid)]) == 2
    err = capsys.readouterr().err
    assert "2 grid combination(s) cannot be used" in err and "can never be reached" in err
