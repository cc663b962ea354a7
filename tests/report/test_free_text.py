"""Free text in pseudonymised outputs: ids, e-mail addresses and names written inside
rationales and comments are replaced too (planted in the key, in reviewers' rationales and in
an export), and nothing else in the text changes."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from calibrate.io import EMAIL_PLACEHOLDER, export_table, read_program, scrub_text
from calibrate.ratings import AnswerKey
from calibrate.report import Pseudonymizer, round_report

from ..calibration.test_report import visible_text
from ..conftest import ROOT

PILOT = ROOT / "data" / "synthetic" / "pilot"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("R001 and r001 and R001.", "X and X and X."),
        ("R0012 X-R001 R001_b xR001", "R0012 X-R001 R001_b xR001"),  # inside longer ids
        ("(R001), 'R001'; R001:", "(X), 'X'; X:"),
        ("mail ann.o'neil+x@mail.example.org now", "mail ann.o'neil+x@mail.example.org now"),
        ("mail ann.lee+x@mail.example.org now", f"mail {EMAIL_PLACEHOLDER} now"),
        ("Ann Lee, ann  lee and ANN\nLEE", "X, X and X"),
        ("Annabel Leeds", "Annabel Leeds"),
        ("", ""),
    ],
)
def test_scrub_text_cases(text, want):
    got = scrub_text([text], {"R001": "X", "Ann Lee": "X"})[0]
    if "o'neil" in text:  # an apostrophe ends the local part: the rest is still an address
        assert "mail.example.org" not in got and got.startswith("mail ann.o'")
    else:
        assert got == want


def test_scrub_text_on_random_text_changes_only_the_planted_ids():
    rng = np.random.default_rng(18)
    ids = [f"R{i:03d}" for i in range(50)]
    table = {i: f"<{i.lower()}>" for i in ids}
    for _ in range(200):
        words = rng.choice(["the", "goal", "R0999", "S12", *ids], size=12)
        text = " ".join(words)
        want = " ".join(table.get(w, w) for w in words)
        assert scrub_text([text], table) == [want]


def _planted_key(p):
    f = p.key.frame.copy()
    reviewers = list(p.ratings.frame["reviewer_id"].cat.categories)
    subs = list(f["submission_id"].astype(str))
    f["rationale"] = [
        f"As {reviewers[i % len(reviewers)]} said on {subs[(i + 1) % len(subs)]}: ask "
        f"{reviewers[0].lower()}@district.example.org"
        for i in range(len(f))
    ]
    return AnswerKey(f, p.key.rubric, p.key.source)


def test_export_scrubs_rationales(tmp_path):
    p = read_program(PILOT)
    key = _planted_key(p)
    hider = Pseudonymizer(b"k" * 32)
    reviewers = p.ratings.frame["reviewer_id"].cat.categories
    out = export_table(
        key, tmp_path / "key.csv", pseudonymizer=hider, free_text_ids={"R": reviewers}
    )
    text = out.read_text(encoding="utf-8")
    ids = set(p.ratings.frame["reviewer_id"].astype(str)) | set(
        key.frame["submission_id"].astype(str)
    )
    assert [i for i in ids if re.search(rf"(?<![\w-]){i}(?![\w-])", text, re.I)] == []
    assert not re.search(r"[\w.]+@[\w-]+\.", text) and EMAIL_PLACEHOLDER in text
    back = pd.read_csv(out)
    r0 = str(p.ratings.frame["reviewer_id"].cat.categories[0])
    assert back["rationale"].str.contains(hider(r0, "R"), regex=False).any()
    # without pseudonyms the text is exported as written
    plain = pd.read_csv(export_table(key, tmp_path / "plain.csv"))
    assert plain["rationale"].tolist() == key.frame["rationale"].tolist()


def test_round_report_shows_reviewers_rationales_and_scrubs_them():
    p = read_program(PILOT)
    key = _planted_key(p)
    f = p.ratings.frame
    reviewers = f["reviewer_id"].astype(str).to_numpy()
    others = np.roll(reviewers, 7)
    notes = [
        f"I ({r}) disagree with {o}; see Ann Lee's note, mail {r.lower()}@x.example.org"
        for r, o in zip(reviewers, others, strict=True)
    ]
    plain = round_report(p.ratings, key, round_id="R2", rationales=notes).render()
    assert "What the reviewers wrote on anchor" in plain
    assert (
        notes[int(np.flatnonzero(f["round_id"].astype(str) == "R2")[0])].split(";")[0]
        in (plain.replace("&#x27;", "'"))
        or "disagree with" in plain
    )
    hider = Pseudonymizer(b"k" * 32)
    page = visible_text(
        round_report(p.ratings, key, round_id="R2", rationales=notes, pseudonymizer=hider).render()
    )
    ids = (
        set(reviewers)
        | set(f["submission_id"].astype(str))
        | set(key.frame["submission_id"].astype(str))
    )
    assert [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", page, re.I)] == []
    assert not re.search(r"[\w.]+@[\w-]+\.", page) and "disagree with R-" in page
    assert "all reviewers" in page or len(p.ratings.rounds) < 2


def test_names_become_their_owners_pseudonym():
    hider = Pseudonymizer(b"k" * 32)
    out = hider.scrub(
        ["Ann Lee and R001 met; ann lee agreed"], reviewers=["R001"], names={"Ann Lee": "R001"}
    )
    assert out == [
        f"{hider('R001', 'R')} and {hider('R001', 'R')} met; {hider('R001', 'R')} agreed"
    ]


def _planted_ratings(tmp_path):
    """The pilot's ratings with a rationale column naming reviewers, submissions, an e-mail."""
    frame = pd.read_csv(PILOT / "ratings.csv", dtype=str, keep_default_na=False)
    others = np.roll(frame["reviewer_id"].to_numpy(), 3)
    frame["rationale"] = [
        f"{r} read {s} like {o}; write to {r.lower()}@district.example.org"
        for r, s, o in zip(frame["reviewer_id"], frame["submission_id"], others, strict=True)
    ]
    path = tmp_path / "with-rationales.csv"
    frame.to_csv(path, index=False)
    ids = set(frame["reviewer_id"]) | set(frame["submission_id"])
    return path, ids


def _no_id_or_mail(text: str, ids: set[str]) -> None:
    leaked = [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text, re.I)]
    assert leaked == []
    assert not re.search(r"[\w.]+@[\w-]+\.", text)


def test_cli_outputs_with_planted_ids_in_free_text(tmp_path, capsys, monkeypatch):
    from calibrate.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    path, ids = _planted_ratings(tmp_path)
    rubric = str(ROOT / "rubrics" / "evidence-4level.yaml")
    key = str(PILOT / "key.csv")
    # round report: the reviewers' rationales are shown, scrubbed
    assert main(["round", str(path), "--rubric", rubric, "--key", key, "--html", "r.html"]) == 0
    plain = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "What the reviewers wrote on anchor" in plain and "@district.example.org" in plain
    argv = ["round", str(path), "--rubric", rubric, "--key", key, "--html", "p.html"]
    capsys.readouterr()
    assert main([*argv, "--pseudonymize", "--format", "json"]) == 0
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    _no_id_or_mail(visible_text(page), ids)
    assert "What the reviewers wrote on anchor" in page and " read S-" in page
    _no_id_or_mail(capsys.readouterr().out, ids)
    # the decision roster: JSON and both roster files
    capsys.readouterr()
    argv = ["decisions", str(path), "--rubric", rubric, "--pseudonymize", "--format", "json"]
    assert main([*argv, "--out", "roster.xlsx"]) == 0
    out = capsys.readouterr().out
    _no_id_or_mail(out, ids)
    doc = json.loads(out)
    assert any(f["text"] for d in doc["decisions"] for f in d["feedback"])
    book = pd.read_excel(tmp_path / "roster.xlsx", sheet_name=None)
    _no_id_or_mail(" ".join(str(v) for f in book.values() for v in f.to_numpy().ravel()), ids)
    assert main([*argv, "--out", "roster.csv"]) == 0
    _no_id_or_mail((tmp_path / "roster.csv").read_text(encoding="utf-8"), ids)


def test_names_the_store_holds_are_scrubbed_from_exports(tmp_path, capsys, monkeypatch):
    # a reviewer's name and e-mail stored as reviewer attributes, an educator's name as a
    # submission attribute: a pseudonymised export names neither, in the rationales or in
    # the attribute exports (current and history)
    from calibrate.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)
    rubric = str(ROOT / "rubrics" / "evidence-4level.yaml")
    ratings = pd.DataFrame(
        {
            "submission_id": ["S1", "S1", "S2"],
            "reviewer_id": ["R1", "R2", "R1"],
            "criterion_id": ["overview", "overview", "overview"],
            "score": ["3", "2", "4"],
            "rationale": [
                "Talked with Dana Quill about it",
                "Ask dana.quill@district.example.org; Ezra Moss's plan is thin",
                "see EZRA MOSS portfolio",
            ],
        }
    )
    ratings.to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame(
        {
            "reviewer_id": ["R1"],
            "full_name": ["Dana Quill"],
            "email": ["dana.quill@district.example.org"],
        }
    ).to_csv(tmp_path / "reviewers.csv", index=False)
    pd.DataFrame(
        {"submission_id": ["S1", "S2"], "educator_name": ["Ezra Moss", "Ezra Moss"]}
    ).to_csv(tmp_path / "subs.csv", index=False)
    argv = ["import", "r.csv", "--rubric", rubric, "--store", "s.db"]
    assert main([*argv, "--reviewers", "reviewers.csv", "--submissions", "subs.csv"]) == 0
    secret = re.compile(r"dana|quill|ezra|moss", re.I)
    for extra, out in (
        ([], "ratings.csv"),
        (["--attributes", "reviewer"], "rev.csv"),
        (["--attributes", "submission"], "sub.csv"),
        (["--attributes", "reviewer", "--history"], "rev-history.csv"),
    ):
        base = ["export", out, "--store", "s.db", "--pseudonymize", *extra]
        if not extra:
            base += ["--rubric-id", "evidence-4level"]
        assert main(base) == 0, extra
        text = (tmp_path / out).read_text(encoding="utf-8")
        assert not secret.search(text), (extra, text)
        assert "R-" in text or "S-" in text
    # without --pseudonymize the names are exported as stored
    assert main(["export", "plain.csv", "--store", "s.db", "--attributes", "reviewer"]) == 0
    assert "Dana Quill" in (tmp_path / "plain.csv").read_text(encoding="utf-8")
