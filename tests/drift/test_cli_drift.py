"""``calibrate drift``: the JSON contract on the district program, the table, pseudonyms
and usage errors."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from calibrate.cli._main import main

from ..conftest import ROOT

DISTRICT = ROOT / "data" / "synthetic" / "district"
ARGS = [
    "drift",
    str(DISTRICT / "ratings.csv"),
    "--rubric",
    str(ROOT / "rubrics" / "discussion-hybrid.yaml"),
    "--key",
    str(DISTRICT / "key.csv"),
]
TRUTH = json.loads((DISTRICT / "truth.json").read_text())["reviewers"]
DRIFTERS = {r for r, v in TRUTH.items() if v["drift_onset"]}


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def doc():
    # module scope: one run serves the JSON tests (capsys is per test)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main([*ARGS, "--format", "json"]) == 0
    return json.loads(buf.getvalue())


def test_json_flags_the_drifting_reviewers(doc):
    flags = {f["reviewer_id"]: f for f in doc["flags"]}
    assert DRIFTERS <= set(flags)
    onset = pd.Timestamp(next(iter(TRUTH[r]["drift_onset"] for r in DRIFTERS)))
    for rid in DRIFTERS:
        f = flags[rid]
        assert f["direction"] == "more_lenient"
        assert abs((pd.Timestamp(f["onset"]) - onset).days) <= 14  # mid-window, +- 2 weeks
        assert f["magnitude"] > 0.25
        assert f["evidence"] and f["evidence_rows"] >= len(f["evidence"])
        assert {"submission_id", "criterion_id", "rated_at", "score", "reference"} <= set(
            f["evidence"][0]
        )
        assert 0 < f["false_alarm_rate"] <= 0.05 + 1e-9 and f["arl"] > 0
        assert f["source"] in {"key", "co_reviewers", "key+co_reviewers"}
    steady = set(TRUTH) - DRIFTERS
    assert len(set(flags) & steady) <= 2  # steady reviewers mostly are not flagged


def test_json_lists_every_reviewer_checked_and_the_group(doc):
    checked = {r["reviewer_id"]: r for r in doc["reviewers_checked"]}
    assert set(checked) == set(TRUTH)
    assert all(r["status"] == "checked" for r in checked.values())
    assert doc["group"]["tested"] is True and doc["group"]["drifted"] is False
    assert doc["settings"]["charts"] == ["cusum"] and doc["settings"]["k"] == 0.35
    assert doc["settings"]["pseudonymized"] is False


def test_table_output(capsys):
    code, out, _ = run(ARGS, capsys)
    assert code == 0
    assert out.startswith("Drift: ")
    assert "more_lenient" in out and "Group: no group drift" in out
    for rid in DRIFTERS:
        assert rid in out


def test_pseudonymized_output_hides_ids(tmp_path, capsys):
    key_file = tmp_path / "pseudonym.key"
    code, out, _ = run(
        [*ARGS, "--format", "json", "--pseudonymize", "--pseudonym-key", str(key_file)], capsys
    )
    assert code == 0
    doc = json.loads(out)
    text = json.dumps(doc)
    assert not any(rid in text for rid in TRUTH)
    assert all(f["reviewer_id"].startswith("R-") for f in doc["flags"])
    assert all(e["submission_id"].startswith("S-") for f in doc["flags"] for e in f["evidence"])
    assert doc["settings"]["pseudonymized"] is True


def test_without_key_uses_co_reviewers(capsys):
    code, out, _ = run(
        [
            "drift",
            "data/synthetic/district/ratings.csv",
            "--rubric",
            "rubrics/discussion-hybrid.yaml",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert all(r["n_key"] == 0 for r in doc["reviewers_checked"])
    assert doc["group"]["tested"] is False
    assert all(f["source"] == "co_reviewers" for f in doc["flags"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--false-alarm-rate", "1.5"], "--false-alarm-rate must be between 0 and 1"),
        (["--horizon", "0"], "--horizon must be at least 1"),
        (["--arl", "1"], "--arl must be greater than 1"),
        (["--windows", "0"], "--windows must be at least 1"),
    ],
    ids=["rate", "horizon", "arl", "windows"],
)
def test_usage_errors_exit_2(extra, message, capsys):
    code, _, err = run([*ARGS, *extra], capsys)
    assert code == 2
    assert message in err


def test_missing_file_is_a_usage_error(capsys):
    code, _, err = run(["drift", "nope.csv", "--rubric", "rubrics/discussion-hybrid.yaml"], capsys)
    assert code in (1, 2)
    assert "nope.csv" in err or "nope.csv" in _


@pytest.mark.parametrize("hide", [False, True], ids=["named", "pseudonymized"])
def test_html_report(hide, tmp_path, capsys):
    page = tmp_path / "drift.html"
    extra = ["--pseudonymize", "--pseudonym-key", str(tmp_path / "k")] if hide else []
    code, out, _ = run([*ARGS, "--format", "json", "--html", str(page), *extra], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["html"] == str(page)
    html = page.read_text()
    assert "<img" in html or "<svg" in html  # control charts are drawn into the page
    html = re.sub(r"base64,[A-Za-z0-9+/=]+", "", html)  # image bytes may spell anything
    flagged = {f["reviewer_id"] for f in doc["flags"]}
    assert all(r in html for r in flagged)  # the page and the JSON name the same reviewers
    named = [rid for rid in DRIFTERS if rid in html]
    if hide:  # the page names no real reviewer or submission
        assert named == []
        assert not any(f"{s}," in html or f">{s}<" in html for s in ("S00001", "A001"))
    else:
        assert sorted(named) == sorted(DRIFTERS)
