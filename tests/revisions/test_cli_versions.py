"""``calibrate reliability --by rubric_version`` on a file with the export's rubric_version
column: rows per version and their differences, the default bootstrap, and the errors."""

from __future__ import annotations

import json

import pandas as pd

from calibrate.cli import main
from calibrate.io import ratings_to_records
from calibrate.rubric import rubric_to_yaml

from ._split import split_program


def _files(tmp_path):
    _, parts, _ = split_program(0)
    paths = {}
    for p in parts:
        paths[p.rubric.version] = tmp_path / f"v{p.rubric.version}.yaml"
        paths[p.rubric.version].write_text(rubric_to_yaml(p.rubric), encoding="utf-8")
    frame = pd.concat(
        [ratings_to_records(t).assign(rubric_version=t.rubric.version) for t in parts],
        ignore_index=True,
    )
    ratings = tmp_path / "ratings.csv"
    frame.to_csv(ratings, index=False)
    return ratings, paths, frame


def test_by_rubric_version_gives_rows_per_version_and_differences(tmp_path, capsys):
    ratings, paths, _ = _files(tmp_path)
    argv = ["reliability", str(ratings), "--rubric", str(paths["2.0"])]
    argv += ["--older-rubric", str(paths["1.0"]), "--by", "criterion,rubric_version"]
    argv += ["--coefficients", "krippendorff_alpha", "--seed", "3", "--format", "json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    rows = rows["result"] if isinstance(rows, dict) and "result" in rows else rows
    versions = [r["rubric_version"] for r in rows]
    assert set(versions) == {"1.0", "2.0", "2.0 - 1.0"}
    diffs = [r for r in rows if r["rubric_version"] == "2.0 - 1.0"]
    # every criterion (the renamed one too) and the decision, each with an interval
    assert {r["criterion_id"] for r in diffs} == {"overview", "artifacts", "reflection", "decision"}
    for r in diffs:
        assert {
            "coefficient",
            "criterion_id",
            "rubric_version",
            "estimate",
            "ci_low",
            "ci_high",
        } <= set(r)
        assert r["ci_low"] < r["estimate"] < r["ci_high"]
        assert r["ci_method"] == "bootstrap-percentile"
    # the default bootstrap with --by rubric_version: the version rows are bootstrapped too
    assert all(r["ci_method"].startswith("bootstrap") for r in rows)
    by = {(r["criterion_id"], r["rubric_version"]): r["estimate"] for r in rows}
    assert by[("artifacts", "2.0 - 1.0")] == by[("artifacts", "2.0")] - by[("artifacts", "1.0")]


def test_rows_of_unknown_versions_are_named_and_nothing_is_computed(tmp_path, capsys):
    ratings, paths, frame = _files(tmp_path)
    bad = frame.copy()
    bad.loc[[0, 5], "rubric_version"] = "1.5"
    bad.loc[7, "rubric_version"] = ""
    bad.to_csv(ratings, index=False)
    argv = ["reliability", str(ratings), "--rubric", str(paths["2.0"])]
    argv += ["--older-rubric", str(paths["1.0"]), "--by", "rubric_version", "--format", "json"]
    assert main(argv) != 0
    problems = json.loads(capsys.readouterr().out)["problems"]
    got = {(p["row"], p["column"], p.get("value")) for p in problems}
    # the header is row 1: frame rows 0, 5 and 7 are file rows 2, 7 and 9
    assert got == {
        (2, "rubric_version", "1.5"),
        (7, "rubric_version", "1.5"),
        (9, "rubric_version", None),
    }
    assert all("versions given: 2.0, 1.0" in p["message"] for p in problems if p.get("value"))


def test_usage_errors(tmp_path, capsys):
    ratings, paths, _ = _files(tmp_path)
    assert main(["reliability", str(ratings), "--level", "ordinal", "--by", "rubric_version"]) != 0
    assert "need --rubric" in capsys.readouterr().err
    # the file has two versions: one rubric alone cannot read it
    argv = ["reliability", str(ratings), "--rubric", str(paths["2.0"]), "--by", "rubric_version"]
    assert main(argv) != 0
    assert "versions given: 2.0" in (lambda c: c.out + c.err)(capsys.readouterr())


def test_severity_and_drift_read_the_versions_as_the_unsplit_program(tmp_path, capsys):
    ratings, paths, _ = _files(tmp_path)
    table, _, program = split_program(0)
    unsplit = tmp_path / "unsplit.csv"
    ratings_to_records(table).to_csv(unsplit, index=False)
    key = tmp_path / "key.csv"
    program.key.to_csv(key, index=False)
    original = tmp_path / "rubric.yaml"
    original.write_text(rubric_to_yaml(table.rubric), encoding="utf-8")
    out = {}
    for cmd in ("severity", "drift"):
        for name, argv in (
            (
                "split",
                [str(ratings), "--rubric", str(paths["2.0"]), "--older-rubric", str(paths["1.0"])],
            ),
            ("unsplit", [str(unsplit), "--rubric", str(original)]),
        ):
            assert main([cmd, *argv, "--key", str(key), "--format", "json"]) == 0
            out[cmd, name] = json.loads(capsys.readouterr().out)
    assert out["severity", "split"] == out["severity", "unsplit"]
    assert out["drift", "split"] == out["drift", "unsplit"]
