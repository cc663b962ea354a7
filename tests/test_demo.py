"""``calibrate demo`` (what ``make demo`` runs): every committed program lands in the store."""

from __future__ import annotations

import json

from calibrate.cli import main

from .conftest import ROOT


def test_demo_loads_every_program_and_is_idempotent(tmp_path, capsys):
    store = tmp_path / "demo.db"
    assert (
        main(
            [
                "demo",
                "--store",
                str(store),
                "--reports",
                str(tmp_path / "reports"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    first = json.loads(capsys.readouterr().out)
    manifests = {
        p.parent.name: json.loads(p.read_text())
        for p in (ROOT / "data" / "synthetic").glob("*/manifest.json")
    }
    assert {p["program"] for p in first["programs"]} == set(manifests)
    for p in first["programs"]:
        ratings = next(i for i in p["imports"] if i["what"] == "ratings")
        assert ratings["added"] == ratings["rows"] == manifests[p["program"]]["counts"]["ratings"]
    assert first["summary"]["totals"]["ratings"] == sum(
        m["counts"]["ratings"] for m in manifests.values()
    )

    assert {r["program"] for r in first["reports"]} == set(manifests)
    assert {p["program"] for p in first["policies"]} == set(manifests)
    assert all(p["recommendation"].startswith(("policy ", "no policy")) for p in first["policies"])
    assert all(
        (tmp_path / "reports" / f"{r['program']}-round-{r['round_id']}.html").is_file()
        for r in first["reports"]
    )
    # drift: the district program's three drifting reviewers (truth.json) are the flags
    drift = {d["program"]: d for d in first["drift"]}
    assert set(drift) == set(manifests)
    for name, d in drift.items():
        assert (tmp_path / "reports" / f"{name}-drift.html").is_file()
        truth = json.loads((ROOT / "data" / "synthetic" / name / "truth.json").read_text())
        drifting = {r for r, v in truth["reviewers"].items() if v["drift_onset"] is not None}
        assert {f["reviewer_id"] for f in d["flags"]} == drifting
        assert all(f["direction"] == "more_lenient" for f in d["flags"])  # drift_size < 0
    assert (
        main(
            [
                "demo",
                "--store",
                str(store),
                "--reports",
                str(tmp_path / "reports"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    again = json.loads(capsys.readouterr().out)
    assert all(i["added"] == 0 for p in again["programs"] for i in p["imports"])
    assert again["summary"]["totals"]["ratings"] == first["summary"]["totals"]["ratings"]


def test_demo_table_output_names_the_store(tmp_path, capsys):
    store = tmp_path / "demo.db"
    assert main(["demo", "--store", str(store), "--reports", str(tmp_path / "reports")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"Loaded {len(list((ROOT / 'data' / 'synthetic').glob('*/manifest.json')))} synthetic program(s)"
    )
    assert str(store) in out


def test_demo_without_programs_is_a_usage_error(tmp_path, capsys):
    assert main(["demo", "--data", str(tmp_path), "--store", str(tmp_path / "x.db")]) == 2
    assert "no program folders" in capsys.readouterr().err
