"""``calibrate fairness`` on a ratings file with a district column: JSON, table, bad input."""

from __future__ import annotations

import json

import pytest

from calibrate.cli import main
from calibrate.rubric import load_rubric

from ._simulate import planted_program

RUBRIC = "rubrics/evidence-4level.yaml"


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory):
    table, attrs = planted_program(load_rubric(RUBRIC), seed=7, n_submissions=400, n_reviewers=6)
    frame = table.frame[["submission_id", "reviewer_id", "criterion_id", "score"]].copy()
    frame["district"] = (
        attrs.set_index("submission_id")["district"]
        .loc[frame["submission_id"].astype(str)]
        .to_numpy()
    )
    path = tmp_path_factory.mktemp("fair") / "ratings.csv"
    frame.to_csv(path, index=False)
    return path


def test_json_has_groups_and_reviewer_groups(ratings_file, capsys):
    code = main(
        ["fairness", str(ratings_file), "--rubric", RUBRIC, "--by", "district", "--format", "json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"groups", "reviewer_groups"}
    assert [g["group"] for g in out["groups"]] == ["G1", "G2", "G3"]
    row = out["reviewer_groups"][0]
    for field in (
        "reviewer_id",
        "group",
        "attribute",
        "estimate",
        "se",
        "p_adjusted",
        "flagged",
        "n_ratings",
    ):
        assert field in row
    assert len(out["reviewer_groups"]) == 18


def test_table_lists_groups_and_flags(ratings_file, capsys):
    code = main(["fairness", str(ratings_file), "--rubric", RUBRIC, "--by", "district"])
    text = capsys.readouterr().out
    assert code == 0
    assert "Groups by district" in text and "Reviewer x group bias" in text
    assert "not a verdict" in text


def test_unknown_attribute_is_a_data_error(ratings_file, capsys):
    code = main(
        [
            "fairness",
            str(ratings_file),
            "--rubric",
            RUBRIC,
            "--by",
            "district,school",
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False
    assert any(p["column"] == "school" for p in out["problems"])


def test_two_values_of_an_attribute_name_the_row(tmp_path, ratings_file, capsys):
    lines = ratings_file.read_text().splitlines()
    head, first = lines[0], lines[1].split(",")
    first[-1] = "G9" if first[-1] != "G9" else "G8"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([head, ",".join(first), *lines[2:]]) + "\n")
    code = main(["fairness", str(bad), "--rubric", RUBRIC, "--by", "district"])
    err = capsys.readouterr()
    assert code == 1
    assert "two values of 'district'" in err.out + err.err
    assert "Traceback" not in err.out + err.err


def test_bad_alpha_is_a_usage_error(ratings_file, capsys):
    code = main(
        ["fairness", str(ratings_file), "--rubric", RUBRIC, "--by", "district", "--alpha", "2"]
    )
    assert code == 2
    assert "--alpha" in capsys.readouterr().err


def test_html_page_is_self_contained_and_pseudonymised(ratings_file, tmp_path, capsys):
    page = tmp_path / "fair.html"
    key = tmp_path / "pseudonym.key"
    code = main(
        [
            "fairness",
            str(ratings_file),
            "--rubric",
            RUBRIC,
            "--by",
            "district",
            "--html",
            str(page),
            "--pseudonymize",
            "--pseudonym-key",
            str(key),
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    text = page.read_text()
    assert "<img" in text and "Reviewer x district bias" in text
    assert "http://" not in text and "https://" not in text
    real = {f"R{i:02d}" for i in range(6)}
    assert not any(f">{r}<" in text for r in real)
    assert not {row["reviewer_id"] for row in out["reviewer_groups"]} & real
