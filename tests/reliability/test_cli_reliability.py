"""``calibrate reliability``: the JSON contract, the minimal three-column file, bad arguments."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest

from calibrate.cli import main
from calibrate.reliability import COEFFICIENTS

DISTRICT = "data/synthetic/district/ratings.csv"
HYBRID = "rubrics/discussion-hybrid.yaml"
CONTRACT = {"coefficient", "level", "estimate", "ci_low", "ci_high", "n_units"}
# submission, reviewer, score: five submissions, three reviewers
MINIMAL = "submission_id,reviewer_id,score\nS1,R1,3\nS1,R2,3\nS2,R1,2\nS2,R2,1\nS3,R1,4\nS3,R2,4\nS4,R1,2\nS4,R3,2\nS5,R2,1\nS5,R3,2\nS5,R1,1\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def minimal(tmp_path):
    path = tmp_path / "minimal.csv"
    path.write_text(MINIMAL)
    return path


def test_json_rows_follow_the_contract(capsys) -> None:
    code, out, _ = run(
        ["reliability", DISTRICT, "--rubric", HYBRID, "--kind", "live", "--format", "json"], capsys
    )
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 6 * 8 + 6
    for r in rows:
        assert CONTRACT | {"criterion_id"} <= set(r)
        assert r["coefficient"] in COEFFICIENTS
        assert r["ci_low"] <= r["estimate"] <= r["ci_high"]
    assert {r["level"] for r in rows} >= {"ordinal", "quadratic", "ICC(2,1)", "nominal", "identity"}
    assert {r["criterion_id"] for r in rows} == {
        "goals",
        "norms",
        "prompts",
        "facilitation",
        "student_evidence",
        "reflection",
        "decision",
    }
    alpha = next(r for r in rows if r["coefficient"] == "krippendorff_alpha")
    assert alpha["band_source"].startswith("Krippendorff (2004)") and alpha["n_units"] == 600


def test_minimal_file_with_level(minimal, capsys) -> None:
    code, out, _ = run(
        ["reliability", str(minimal), "--level", "ordinal", "--format", "json"], capsys
    )
    assert code == 0
    rows = json.loads(out)
    assert {r["criterion_id"] for r in rows} == {"score"}  # one criterion, no decision rows
    assert all(CONTRACT <= set(r) for r in rows)
    alpha = next(r for r in rows if r["coefficient"] == "krippendorff_alpha")
    wide = np.array(
        [[3, 3, np.nan], [2, 1, np.nan], [4, 4, np.nan], [2, np.nan, 2], [1, 1, 2]], dtype=float
    )
    assert alpha["level"] == "ordinal" and alpha["n_units"] == 5
    assert alpha["estimate"] == pytest.approx(
        krippendorff.alpha(reliability_data=wide.T, level_of_measurement="ordinal"), abs=1e-12
    )
    code, out, _ = run(
        ["reliability", str(minimal), "--level", "nominal", "--format", "json"], capsys
    )
    assert code == 0
    levels = {(r["coefficient"], r["level"]) for r in json.loads(out)}
    assert ("krippendorff_alpha", "nominal") in levels and ("gwet_ac1", "identity") in levels
    assert not any(c == "icc" for c, _ in levels)


def test_minimal_file_table_output(minimal, capsys) -> None:
    code, out, _ = run(["reliability", str(minimal), "--level", "interval"], capsys)
    assert code == 0
    assert out.startswith("Reliability of 11 ratings by criterion")
    assert "krippendorff_alpha" in out and "Bands: " in out


def test_breakdowns_and_bootstrap(capsys) -> None:
    argv = [
        "reliability", DISTRICT, "--rubric", HYBRID, "--kind", "anchor", "--by", "criterion,round",
        "--coefficients", "krippendorff_alpha,gwet_ac2", "--bootstrap", "50", "--seed", "4",
        "--format", "json",
    ]  # fmt: skip
    code, out, _ = run(argv, capsys)
    assert code == 0
    rows = json.loads(out)
    assert {r["round_id"] for r in rows} == {"R1", "R2", "R3"}
    assert {r["coefficient"] for r in rows} == {"krippendorff_alpha", "gwet_ac2"}
    assert {r["level"] for r in rows if r["criterion_id"] == "decision"} == {"nominal", "identity"}
    assert {r["ci_method"] for r in rows} == {"bootstrap-bca"}
    assert all("only 8 units" in r["note"] for r in rows)
    code, again, _ = run(argv, capsys)
    assert again == out  # --seed makes it reproducible


def test_pairs_with_pseudonyms(tmp_path, capsys) -> None:
    key = tmp_path / "key"
    code, out, _ = run(
        [
            "reliability",
            DISTRICT,
            "--rubric",
            HYBRID,
            "--kind",
            "live",
            "--by",
            "pair",
            "--min-pair-units",
            "20",
            "--coefficients",
            "cohen_kappa",
            "--no-decision",
            "--pseudonymize",
            "--pseudonym-key",
            str(key),
            "--format",
            "json",
        ],  # fmt: skip
        capsys,
    )
    rows = json.loads(out)
    assert code == 0 and rows
    assert all(r["coefficient"] == "cohen_kappa" and r["criterion_id"] == "all" for r in rows)
    assert all(r["reviewer_a"].startswith("R-") and r["reviewer_b"].startswith("R-") for r in rows)
    assert all(r["n_units"] >= 20 for r in rows)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --rubric RUBRIC"),
        (
            ["--level", "ordinal", "--by", "criterion,reviewer"],
            "--by takes criterion, round, pair, rubric_version, attempt or overall",
        ),
        (
            ["--level", "ordinal", "--coefficients", "alpha"],
            "--coefficients must be among krippendorff_alpha",
        ),
        (
            ["--level", "ordinal", "--bootstrap", "-3"],
            "--bootstrap must be 0 or at least 2 resamples; got -3",
        ),
        (
            ["--level", "ordinal", "--confidence-level", "95"],
            "--confidence-level must be between 0 and 1",
        ),
        (["--level", "ordinal", "--wide"], "--wide needs --rubric"),
        (
            ["--level", "ordinal", "--min-pair-units", "0"],
            "--min-pair-units must be at least 1; got 0",
        ),
    ],
    ids=["no-rubric-or-level", "by", "coefficients", "bootstrap", "confidence", "wide", "pairs"],
)
def test_bad_arguments_exit_2_with_a_message(minimal, capsys, extra, message) -> None:
    code, out, err = run(["reliability", str(minimal), *extra], capsys)
    assert code == 2 and out == ""
    assert err.startswith("calibrate reliability: ") and message in err


def test_unknown_level_is_a_usage_error(minimal, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["reliability", str(minimal), "--level", "ordnial"])
    assert exc.value.code == 2
    assert "invalid choice: 'ordnial'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (
            "submission_id,reviewer_id,score\nS1,R1,3\nS1,R2,2.5\nS2,R1,Good\n",
            [(3, "score", "2.5"), (4, "score", "Good")],
        ),
        ("submission_id,score\nS1,3\nS1,2\n", [(1, None, None)]),
        ("submission_id,reviewer_id,score\nS1,R1,3\nS1,R2,3\n", [(None, "score", None)]),
    ],
    ids=["not-whole-numbers", "missing-column", "one-score-only"],
)
def test_bad_minimal_files_list_every_problem(tmp_path, capsys, content, found) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, _ = run(["reliability", str(path), "--level", "ordinal", "--format", "json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert [(p["row"], p["column"], p["value"]) for p in doc["problems"]] == found


def test_missing_file_exits_2(capsys) -> None:
    code, _, err = run(["reliability", "no/such.csv", "--level", "ordinal"], capsys)
    assert code == 2 and "no such file" in err
