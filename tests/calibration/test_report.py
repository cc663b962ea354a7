"""The round report and keyed pseudonyms: self-contained, escaped, and without names."""

from __future__ import annotations

import base64
import json
import re

import pytest

from calibrate.cli import main
from calibrate.io import read_program
from calibrate.report import HtmlReport, Pseudonymizer, load_or_create_key, round_report

from ..conftest import ROOT

PILOT = ROOT / "data" / "synthetic" / "pilot"


def visible_text(page: str) -> str:
    """The page without embedded images (base64 can contain any letters)."""
    return re.sub(r'src="data:image/png;base64,[^"]*"', "", page)


def test_report_is_self_contained_and_escapes_text(tmp_path):
    rep = HtmlReport("<script>alert(1)</script>")
    rep.paragraph("a <b>bold</b> & claim")
    page = rep.write(tmp_path / "r.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;bold" in page
    full = round_report(
        read_program(PILOT).ratings, read_program(PILOT).key, round_id="R2"
    ).render()
    assert "http://" not in visible_text(full) and "https://" not in visible_text(full)
    for img in re.findall(r'src="data:image/png;base64,([^"]*)"', full):
        assert base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n"


def test_pseudonyms_are_stable_keyed_and_hide_every_id(tmp_path):
    p = read_program(PILOT)
    a, b = Pseudonymizer(b"key one"), Pseudonymizer(b"key two")
    assert a("R001", "R") == a("R001", "R") != b("R001", "R")
    page = visible_text(round_report(p.ratings, p.key, round_id="R2", pseudonymizer=a).render())
    ids = set(p.ratings.frame["reviewer_id"].astype(str)) | set(
        p.ratings.frame["submission_id"].astype(str)
    )
    leaked = [i for i in ids if re.search(rf"\b{re.escape(i)}\b", page)]
    assert leaked == []
    assert a("R001", "R") in page


def test_key_file_is_created_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    path = tmp_path / "k"
    first = load_or_create_key(path)
    assert load_or_create_key(path) == first and len(first) == 64
    assert path.stat().st_mode & 0o077 == 0
    monkeypatch.setenv("CALIBRATE_PSEUDONYM_KEY", "from-env")
    assert load_or_create_key(path) == b"from-env"


def test_round_cli_html_and_pseudonymize(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    args = [
        "round",
        str(PILOT / "ratings.csv"),
        "--rubric",
        "rubrics/evidence-4level.yaml",
        "--key",
        str(PILOT / "key.csv"),
        "--round",
        "R1",
        "--html",
        str(tmp_path / "r.html"),
        "--pseudonymize",
        "--pseudonym-key",
        str(tmp_path / "k"),
        "--format",
        "json",
    ]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(re.fullmatch(r"R-[A-Z2-7]{16}", r["reviewer_id"]) for r in rows)
    assert all(re.fullmatch(r"S-[A-Z2-7]{16}", s) for r in rows for s in r["anchors_missed"])
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert [r["reviewer_id"] for r in again] == [
        r["reviewer_id"] for r in rows
    ]  # stable with the same key
    assert (tmp_path / "r.html").is_file()


def test_bad_plot_option():
    from calibrate.plots import plot_round_trends

    with pytest.raises(
        ValueError,
        match="measure must be one of 'exact', 'adjacent', 'mean_difference'; got 'kappa'",
    ):
        plot_round_trends(None, measure="kappa")  # type: ignore[arg-type]


def test_shaky_calls_table_lists_only_standards_inside_the_interval():
    from calibrate.calibration import qualify
    from calibrate.report import shaky_calls

    p = read_program(PILOT)
    result = qualify(p.ratings, p.key, round_id="R1")
    table = shaky_calls(result)
    assert not table.empty
    assert ((table["low"] <= table["standard"]) & (table["standard"] <= table["high"])).all()
    assert (table["anchors_needed"] > table["n"]).all()


def test_pseudonymized_table_and_audit_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CALIBRATE_PSEUDONYM_KEY", "k")
    p = read_program(PILOT)
    hidden = Pseudonymizer(b"k").table(p.ratings)
    assert len(hidden) == len(p.ratings)
    assert (hidden.frame["score"] == p.ratings.frame["score"]).all()
    assert all(
        re.fullmatch(r"R-[A-Z2-7]{16}", r) for r in hidden.frame["reviewer_id"].cat.categories
    )
    assert (
        main(
            [
                "audit",
                str(PILOT / "ratings.csv"),
                "--rubric",
                "rubrics/evidence-4level.yaml",
                "--n-boot",
                "10",
                "--pseudonymize",
                "--html",
                str(tmp_path / "a.html"),
                "--format",
                "json",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out + visible_text((tmp_path / "a.html").read_text())
    ids = set(p.ratings.frame["reviewer_id"].astype(str)) | set(
        p.ratings.frame["submission_id"].astype(str)
    )
    assert [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)] == []
