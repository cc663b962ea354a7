"""The pages of ``reliability``, ``severity`` and ``policy`` (``--html``): self-contained,
readable on a phone, saying whether their ids are pseudonyms and what produced them, with
the same numbers as the command's JSON and no real id on a pseudonymised page."""

from __future__ import annotations

import json
import re

import pytest

from calibrate.cli import main
from calibrate.io import read_program
from calibrate.report import HtmlReport, Pseudonymizer

from ..calibration.test_report import visible_text
from ..conftest import ROOT

PILOT = ROOT / "data" / "synthetic" / "pilot"
RUBRIC = str(ROOT / "rubrics" / "evidence-4level.yaml")


def _run(capsys, *argv: str) -> list | dict:
    capsys.readouterr()
    assert main([*argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _ids() -> set[str]:
    f = read_program(PILOT).ratings.frame
    return set(f["reviewer_id"].astype(str)) | set(f["submission_id"].astype(str))


def _leaked(page: str) -> list[str]:
    text = visible_text(page)
    return sorted(i for i in _ids() if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))


def _self_contained(page: str) -> None:
    text = visible_text(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(http" not in text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (max-width:600px)" in page
    assert page.count('<div class="scroll"><table') == page.count("<table")


@pytest.mark.parametrize("hidden", [False, True])
def test_reliability_page(tmp_path, capsys, monkeypatch, hidden):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    ratings = str(PILOT / "ratings.csv")
    extra = ["--pseudonymize"] if hidden else []
    rows = _run(capsys, "reliability", ratings, "--rubric", RUBRIC, "--html", "r.html", *extra)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    _self_contained(page)
    if hidden:
        assert "pseudonymised: reviewer and submission ids are keyed pseudonyms" in page
        assert _leaked(page) == [] and ratings not in page and "input 1" in page
    else:
        assert "contains real ids" in page and ratings in page
    assert "evidence-4level version" in page and "calibrate version" in page
    # the plain-words line of each criterion carries the JSON's alpha and interval
    alpha = [r for r in rows if r["coefficient"] == "krippendorff_alpha"]
    assert alpha
    for r in alpha:
        where = "the pass decision" if r["criterion_id"] == "decision" else r["criterion_id"]
        said = (
            f"{where}: Krippendorff&#x27;s alpha {r['estimate']:.2f} (95% interval "
            f"{r['ci_low']:.2f} to {r['ci_high']:.2f})"
        )
        assert said in page, said
    assert page.count("<img") >= 1


@pytest.mark.parametrize("hidden", [False, True])
def test_severity_page(tmp_path, capsys, monkeypatch, hidden):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    extra = ["--pseudonymize"] if hidden else []
    rows = _run(
        capsys,
        "severity",
        str(PILOT / "ratings.csv"),
        "--rubric",
        RUBRIC,
        "--key",
        str(PILOT / "key.csv"),
        "--html",
        "s.html",
        *extra,
    )
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    _self_contained(page)
    assert ("pseudonymised:" in page) == hidden and ("contains real ids" in page) != hidden
    if hidden:
        assert _leaked(page) == []
    # every reviewer of the JSON is a row of the page, with its severity to 3 decimals
    for r in rows:
        assert f"<td>{r['reviewer_id']}</td>" in page
        assert f"<td>{r['severity']:.3f}</td>" in page
    # intervals beside every estimate: severity +- z * se
    z = 1.959963984540054
    r = rows[0]
    assert f"<td>{r['severity'] - z * r['se']:.3f}</td>" in page
    assert page.count("<img") == 2


def test_severity_plots_draw_the_labels_they_are_given():
    from calibrate.plots import plot_severity, plot_severity_bias
    from calibrate.severity import ManyFacetRasch

    table = read_program(PILOT).ratings
    model = ManyFacetRasch().fit(table)
    hider = Pseudonymizer(b"k" * 32)
    labels = hider.mapping(model.reviewers_["reviewer_id"], "R")
    for fig in (plot_severity(model, labels=labels), plot_severity_bias(model, labels=labels)):
        drawn = {t.get_text() for t in fig.axes[0].get_yticklabels()}
        assert drawn == set(labels.values())


def test_policy_page(tmp_path, capsys):
    rows = _run(
        capsys,
        "policy",
        "--rubric",
        RUBRIC,
        "--truth",
        str(PILOT / "truth.json"),
        "--n",
        "400",
        "--html",
        str(tmp_path / "p.html"),
    )
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    _self_contained(page)
    assert "no reviewer or submission ids on this page" in page
    front = [r for r in rows if r["pareto"]]
    assert front
    for r in front:
        assert f"{r['policy']}: accuracy {r['accuracy']:.3f}" in page
    best = [r for r in rows if r["recommended"]]
    assert len(best) == 1  # no constraint given: the most accurate policy is recommended
    assert "Recommended: policy " in page and f"<td>{best[0]['policy']}</td>" in page
    assert page.count("<img") == 1


def test_privacy_line_and_inputs_are_escaped():
    page = HtmlReport("t").provenance(pseudonymised=False, inputs={"file": "<b>x</b>"}).render()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x" not in page
    assert page.index('class="privacy real-ids"') < page.index("<h1>")
    assert HtmlReport("t").render().count('class="privacy') == 0


def test_reliability_page_shows_classification_rows(tmp_path, capsys):
    district = ROOT / "data" / "synthetic" / "district"
    rows = _run(
        capsys,
        "reliability",
        str(district / "ratings.csv"),
        "--rubric",
        str(ROOT / "rubrics" / "discussion-hybrid.yaml"),
        "--kind",
        "live",
        "--by",
        "overall",
        "--coefficients",
        "livingston_lewis,rudner",
        "--html",
        str(tmp_path / "c.html"),
    )
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    got = {r["coefficient"]: r for r in rows}
    assert set(got) == {"livingston_lewis", "rudner"}
    assert "How often the pass decision is right, and repeatable" in page
    for r in got.values():
        assert f"<td>{r['accuracy']:.3f}</td>" in page
        assert f"<td>{r['consistency']:.3f}</td>" in page


def test_round_page_who_qualified_is_compact_with_intervals(tmp_path, capsys, monkeypatch):
    # the reviewer table of the round page is the notebook's: one line per reviewer, rates
    # with Wilson intervals, short flags; under pseudonyms the rates still come through
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    rows = _run(
        capsys,
        "round",
        str(PILOT / "ratings.csv"),
        "--rubric",
        RUBRIC,
        "--key",
        str(PILOT / "key.csv"),
        "--html",
        "r.html",
        "--pseudonymize",
    )
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<th>short on</th>" in page and "<th>why</th>" in page
    table = page[page.index("<th>short on</th>") :]
    table = table[: table.index("</table>")]
    assert table.count("<tr><td>R-") == len(rows)
    for r in rows:
        assert (
            f"<td>{r['reviewer_id']}</td><td>{r['status']}</td><td>{r['exact_agreement']:.0%} ("
            in table
        )
    assert _leaked(page) == []


def test_round_details_json_carries_the_pages_numbers(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    argv = ["round", str(PILOT / "ratings.csv"), "--rubric", RUBRIC]
    argv += ["--key", str(PILOT / "key.csv"), "--html", "r.html", "--pseudonymize"]
    plain = _run(capsys, *argv)
    doc = _run(capsys, *argv, "--details")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert doc["reviewers"] == plain  # the rows are those of the list contract
    assert set(doc) >= {"criteria", "group_lean", "shaky_calls", "anchors_to_discuss"}
    lean = doc["group_lean"]
    assert f"mean score minus key {lean['mean_difference']:+.2f} points" in page
    assert f"{lean['ci_low']:+.2f} to {lean['ci_high']:+.2f}" in page
    for r in doc["anchors_to_discuss"]:
        assert f"<td>{r['submission_id']}</td>" in page
    for d in doc["anchor_details"]:
        assert f"Anchor {d['submission_id']}:" in page
        assert all(c["key_score"] >= 1 for c in d["criteria"])
    overall = [c for c in doc["criteria"] if c["criterion_id"] == "overall"]
    assert len(overall) == len(plain)
    for c in overall:  # the interval the page shows beside each reviewer's exact agreement
        assert f"{c['exact']:.0%} ({c['exact_low']:.0%}&ndash;{c['exact_high']:.0%})" in page
    assert _leaked(json.dumps(doc)) == []
