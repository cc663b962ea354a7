"""``calibrate export`` of a rubric whose ratings were scored under two versions: every
rating, each with the version it was scored under, and ``--version`` for one of them; each
version's rows import back into a new store as they were."""

from __future__ import annotations

import json

import pandas as pd

from calibrate.cli import main

from .conftest import ROOT

PILOT = ROOT / "data" / "synthetic" / "pilot"
RUBRIC = ROOT / "rubrics" / "evidence-4level.yaml"


def _two_versions(tmp_path):
    revised = tmp_path / "revised.yaml"
    revised.write_text(
        RUBRIC.read_text(encoding="utf-8").replace('version: "1.0"', 'version: "2.0"'),
        encoding="utf-8",
    )
    ratings = pd.read_csv(PILOT / "ratings.csv", dtype=str, keep_default_na=False)
    old, new = ratings.iloc[:400], ratings.iloc[400:].assign(round_id="")
    old.to_csv(tmp_path / "old.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    store = str(tmp_path / "s.db")
    assert (
        main(["import", str(tmp_path / "old.csv"), "--rubric", str(RUBRIC), "--store", store]) == 0
    )
    assert (
        main(["import", str(tmp_path / "new.csv"), "--rubric", str(revised), "--store", store]) == 0
    )
    return store, revised, len(old), len(new)


def test_export_keeps_every_version(tmp_path, capsys):
    store, revised, n_old, n_new = _two_versions(tmp_path)
    capsys.readouterr()
    out = tmp_path / "all.csv"
    argv = ["export", str(out), "--store", store, "--rubric-id", "evidence-4level"]
    assert main([*argv, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == n_old + n_new
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back["rubric_version"].value_counts().to_dict() == {"1.0": n_old, "2.0": n_new}
    # one version: its rows only, without the column, and they import back unchanged
    one = tmp_path / "v2.csv"
    argv = ["export", str(one), "--store", store, "--rubric-id", "evidence-4level"]
    assert main([*argv, "--version", "2.0"]) == 0
    v2 = pd.read_csv(one, dtype=str, keep_default_na=False)
    assert len(v2) == n_new and "rubric_version" not in v2.columns
    again = str(tmp_path / "again.db")
    assert main(["import", str(one), "--rubric", str(revised), "--store", again]) == 0
    re_out = tmp_path / "again.csv"
    assert main(["export", str(re_out), "--store", again, "--rubric-id", "evidence-4level"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(re_out, dtype=str, keep_default_na=False), v2)


def test_export_of_an_unknown_version_names_the_stored_ones(tmp_path, capsys):
    store, *_ = _two_versions(tmp_path)
    capsys.readouterr()
    argv = ["export", str(tmp_path / "x.csv"), "--store", store, "--rubric-id", "evidence-4level"]
    assert main([*argv, "--version", "3.0"]) != 0
    err = capsys.readouterr().err
    assert "no version '3.0'" in err and "'1.0'" in err and "'2.0'" in err
    assert not (tmp_path / "x.csv").exists()
