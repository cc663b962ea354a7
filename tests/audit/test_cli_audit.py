"""``calibrate audit``: the JSON contract, the HTML report and usage errors."""

from __future__ import annotations

import json

import pytest

from calibrate.cli._main import main

ARGS = [
    "audit",
    "data/synthetic/district/ratings.csv",
    "--rubric",
    "rubrics/discussion-hybrid.yaml",
]


def test_json_contract(capsys, tmp_path):
    html_path = tmp_path / "audit.html"
    code = main(
        [*ARGS, "--format", "json", "--n-boot", "30", "--seed", "1", "--html", str(html_path)]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    comp = doc["variance_components"]
    assert [r["facet"] for r in comp][0] == "submission" and len(comp) == 7
    assert all({"facet", "variance", "share"} <= set(r) for r in comp)
    assert sum(r["share"] for r in comp) == pytest.approx(1.0)
    ds = doc["d_study"]
    assert all({"n_reviewers", "n_criteria", "g_relative", "g_absolute"} <= set(r) for r in ds)
    assert [r["n_reviewers"] for r in ds] == list(range(1, 9))
    assert all(r["n_criteria"] == 6 for r in ds)
    assert all(0 <= r["g_absolute"] <= r["g_relative"] + 1e-9 <= 1 + 1e-9 for r in ds)
    assert "reach Phi" in doc["recommendation"]
    assert {r["criterion_id"] for r in doc["criteria"]} == {
        "goals",
        "norms",
        "prompts",
        "facilitation",
        "student_evidence",
        "reflection",
    }
    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "<script" not in page


def test_table_output(capsys):
    assert main([*ARGS, "--n-boot", "0"]) == 0
    out = capsys.readouterr().out
    assert "Variance components" in out and "D-study" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "1.5"], "--target must be between 0 and 1"),
        (["--reviewers", "0"], "--reviewers must be at least 1"),
        (["--n-boot", "-1"], "--n-boot must be at least 0"),
        (["--round", "R9"], "--round must be one of"),
    ],
    ids=["target", "reviewers", "n_boot", "round"],
)
def test_usage_errors(capsys, extra, message):
    assert main([*ARGS, *extra]) == 2
    assert message in capsys.readouterr().err


def test_bad_choice_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main([*ARGS, "--design", "both"])
    assert exc.value.code == 2


def test_repeated_cells_are_a_data_error(capsys, tmp_path):
    import pandas as pd

    ratings = pd.read_csv("data/synthetic/district/ratings.csv")
    live = ratings[ratings["kind"] == "live"]
    twice = pd.concat([live, live.head(12).assign(round_id="again")])
    path = tmp_path / "twice.csv"
    twice.to_csv(path, index=False)
    assert (
        main(
            [
                "audit",
                str(path),
                "--rubric",
                "rubrics/discussion-hybrid.yaml",
                "--format",
                "json",
                "--n-boot",
                "0",
            ]
        )
        == 1
    )
    assert "at most once" in json.loads(capsys.readouterr().out)["error"]
