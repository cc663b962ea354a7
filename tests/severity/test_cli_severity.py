"""``calibrate severity``: the JSON contract, the table, pseudonyms and errors."""

from __future__ import annotations

import json
from pathlib import Path

from calibrate.cli import main

from .conftest import DATA

ARGS = [
    "severity",
    "data/synthetic/district/ratings.csv",
    "--rubric",
    "rubrics/discussion-hybrid.yaml",
    "--key",
    "data/synthetic/district/key.csv",
]
FIELDS = {
    "reviewer_id",
    "n",
    "severity",
    "se",
    "infit",
    "outfit",
    "observed_average",
    "fair_average",
    "accuracy",
    "mean_shift",
    "bias_criteria",
}


def test_json_contract(capsys) -> None:
    assert main([*ARGS, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    truth = json.loads(Path("data/synthetic/district/truth.json").read_text())["reviewers"]
    assert len(rows) == len(truth)
    assert all(FIELDS <= set(r) for r in rows)
    assert all(
        r["se"] > 0 and r["infit"] > 0 and r["outfit"] > 0 and 0 <= r["accuracy"] <= 1 for r in rows
    )
    sev = [r["severity"] for r in rows]
    assert sev == sorted(sev, reverse=True) and abs(sum(sev)) < 1e-6
    import numpy as np

    true = [truth[r["reviewer_id"]]["severity"] for r in rows]
    assert np.corrcoef(sev, true)[0, 1] > 0.95


def test_sirt_data_and_table_output(capsys) -> None:
    argv = [
        "severity",
        str(DATA / "sirt_ratings1.csv"),
        "--rubric",
        str(DATA / "sirt-ratings1.yaml"),
        "--model",
        "partial_credit",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "partial credit" in out and "db01" in out and "separation" in out


def test_pseudonymized(capsys) -> None:
    assert (
        main(
            [
                *ARGS,
                "--pseudonymize",
                "--pseudonym-key",
                str(DATA / "sirt-ratings1.yaml"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert all(r["reviewer_id"].startswith("R-") for r in rows)


def test_bad_model_is_a_usage_error(capsys) -> None:
    try:
        main([*ARGS, "--model", "partial"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_bad_data_exit_1(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("submission_id,reviewer_id,criterion_id,score\nS1,R1,goals,99\n")
    assert (
        main(
            ["severity", str(bad), "--rubric", "rubrics/discussion-hybrid.yaml", "--format", "json"]
        )
        == 1
    )
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_estimator_flag_and_se_joint(capsys) -> None:
    """--estimator mml: the same JSON fields plus ``estimator`` and ``se_joint``; MML's
    severities track JML's (same identification) with a narrower spread (no JML inflation)."""
    sirt = [
        "severity",
        str(DATA / "sirt_ratings1.csv"),
        "--rubric",
        str(DATA / "sirt-ratings1.yaml"),
    ]
    out = {}
    for est in ("jml", "mml"):
        assert main([*sirt, "--estimator", est, "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert all(FIELDS | {"estimator", "se_joint"} <= set(r) for r in rows)
        assert all(r["estimator"] == est and r["se_joint"] > 0 for r in rows)
        out[est] = {r["reviewer_id"]: r["severity"] for r in rows}
    ids = sorted(out["jml"])
    import numpy as np

    jml = np.array([out["jml"][i] for i in ids])
    mml = np.array([out["mml"][i] for i in ids])
    assert abs(mml.sum()) < 1e-6
    assert np.corrcoef(jml, mml)[0, 1] > 0.98
    assert mml.std() < jml.std()
    assert main([*sirt, "--estimator", "mml"]) == 0
    assert "MML" in capsys.readouterr().out


def test_bad_estimator_is_a_usage_error(capsys) -> None:
    try:
        main([*ARGS, "--estimator", "cml"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err
