"""Rationales an import brings (an export's comment columns) are stored per rating, never
overwritten, and come back with ``calibrate export``."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.feedback import read_feedback
from calibrate.io import read_profile
from calibrate.rubric import load_rubric
from calibrate.store import ConflictError, Store

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = ROOT / "rubrics" / "evidence-4level.yaml"
FORMS = ROOT / "data" / "samples" / "google-forms.csv"
KEY = ["submission_id", "reviewer_id", "criterion_id"]


def by_key(frame: pd.DataFrame, texts) -> dict[tuple[str, str, str], str]:
    return {
        (str(s), str(r), str(c)): t
        for s, r, c, t in zip(
            frame["submission_id"], frame["reviewer_id"], frame["criterion_id"], texts, strict=True
        )
    }


def forms_cli(store: Path, *more: str) -> int:
    return main(
        [
            "import",
            str(FORMS),
            "--rubric",
            str(RUBRIC),
            "--profile",
            "google-forms",
            "--timezone",
            "America/Chicago",
            "--store",
            str(store),
            *more,
        ]
    )


def test_google_forms_comments_are_stored_and_exported_exactly(tmp_path):
    rubric = load_rubric(RUBRIC)
    read = read_profile(FORMS, rubric, "google-forms", timezone="America/Chicago")
    want = by_key(read.table.frame, read.table.frame["rationale"])
    assert sum(t != "" for t in want.values()) == 92  # the sample's comments (README)
    store = tmp_path / "p.db"
    assert forms_cli(store) == 0
    with Store.open(store, read_only=True) as s:
        notes = s.rationales(rubric.id)
    assert len(notes) == 92 and set(notes["import_id"]) == {1}
    assert by_key(notes, notes["rationale"]) == {k: t for k, t in want.items() if t}
    out = tmp_path / "out.csv"
    assert main(["export", str(out), "--store", str(store), "--rubric-id", rubric.id]) == 0
    table, texts = read_feedback(out, rubric)
    assert by_key(table.frame, texts) == want  # every rating, blanks where none
    # re-importing the same export stores nothing more
    assert forms_cli(store) == 0
    with Store.open(store, read_only=True) as s:
        assert len(s.rationales(rubric.id)) == 92


def _table(rubric, texts: list[str]):
    frame = pd.DataFrame(
        {
            "submission_id": ["S0001", "S0001", "S0002"],
            "reviewer_id": ["R001", "R001", "R002"],
            "criterion_id": ["overview", "artifacts", "overview"],
            "score": [3, 2, 4],
        }
    )
    path = Path(pytest.tmp) / "r.csv"
    frame.assign(rationale=texts).to_csv(path, index=False)
    return read_feedback(path, rubric)


@pytest.fixture
def rubric(tmp_path):
    pytest.tmp = tmp_path  # where _table writes
    return load_rubric(RUBRIC)


def with_rationale(rubric, texts):
    table, t = _table(rubric, texts)
    return type(table)(table.frame.assign(rationale=t), rubric, table.source)


def history(store: Path) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(store)) as c:
        return c.execute(
            "SELECT rationale, import_pk, superseded_by, reason FROM rationale_history"
        ).fetchall()


def test_changed_rationale_refused_then_superseded_and_retracted(tmp_path, rubric):
    store = tmp_path / "s.db"
    first = with_rationale(rubric, ["open questions", "", "=HYPERLINK(x)"])
    with Store.open(store) as s:
        rep = s.import_ratings(first, rows=[2, 3, 4])
        assert rep.rationales == 2
        changed = with_rationale(rubric, ["sequenced questions", "new note", "=HYPERLINK(x)"])
        with pytest.raises(ConflictError) as info:
            s.import_ratings(changed, rows=[2, 3, 4])
        (p,) = info.value.problems  # the new note on a blank is no conflict
        assert (p.row, p.column, p.value) == (2, "rationale", "sequenced questions")
        assert "'open questions'" in p.message and "import #1" in p.message
        # refused: nothing written, not even the new note
        assert s.rationales(rubric.id)["rationale"].tolist() == ["open questions", "=HYPERLINK(x)"]
        rep = s.import_ratings(changed, rows=[2, 3, 4], supersede=True, reason="moderation")
        assert (rep.rationales, rep.rationales_superseded) == (1, 1)
        now = s.rationales(rubric.id)
        assert now["rationale"].tolist() == ["sequenced questions", "new note", "=HYPERLINK(x)"]
        # a blank cell says nothing: the stored rationale stays
        blank = with_rationale(rubric, ["", "", ""])
        assert s.import_ratings(blank).rationales == 0
        assert len(s.rationales(rubric.id)) == 3
    # the refused import left no number: the superseding one is #2
    assert history(store) == [("open questions", 1, 2, "moderation")]
    with Store.open(store) as s:
        s.retract_import(2, reason="wrong file")
        back = s.rationales(rubric.id)
    # the superseded rationale is current again, the one only import 2 brought is gone
    assert back["rationale"].tolist() == ["open questions", "=HYPERLINK(x)"]
    assert back["import_id"].tolist() == [1, 1]
    # export neutralises formula-like text; the kit's reader gives it back exactly
    out = tmp_path / "out.csv"
    assert main(["export", str(out), "--store", str(store), "--rubric-id", rubric.id]) == 0
    assert "'=HYPERLINK(x)" in out.read_text()
    table, texts = read_feedback(out, rubric)
    assert by_key(table.frame, texts)[("S0002", "R002", "overview")] == "=HYPERLINK(x)"


def test_pseudonymized_export_scrubs_ids_and_emails_in_rationales(tmp_path, rubric):
    store = tmp_path / "s.db"
    with Store.open(store) as s:
        s.import_ratings(with_rationale(rubric, ["R002 agreed (r002@example.org)", "", ""]))
    out = tmp_path / "out.csv"
    key = tmp_path / "k"
    assert (
        main(
            [
                "export",
                str(out),
                "--store",
                str(store),
                "--rubric-id",
                rubric.id,
                "--pseudonymize",
                "--pseudonym-key",
                str(key),
            ]
        )
        == 0
    )
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    text = got.loc[got["rationale"] != "", "rationale"].item()
    assert "R002" not in text and "@" not in text and "[e-mail]" in text
    assert got.loc[got["reviewer_id"] != "", "reviewer_id"].str.startswith("R-").all()


def test_a_long_files_comment_column_is_stored_and_an_export_imports_back_unchanged(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "submission_id,reviewer_id,criterion_id,score,comment\n"
        'S1,R1,overview,3,"=cmd, see R2"\nS1,R1,artifacts,2,\nS2,R2,overview,4,+ strong\n'
    )
    store = tmp_path / "s.db"
    args = ["--rubric", str(RUBRIC), "--store", str(store)]
    assert main(["import", str(path), *args]) == 0
    with Store.open(store, read_only=True) as s:
        assert s.rationales("evidence-4level")["rationale"].tolist() == ["=cmd, see R2", "+ strong"]
    out = tmp_path / "out.csv"
    assert main(["export", str(out), "--store", str(store), "--rubric-id", "evidence-4level"]) == 0
    assert main(["import", str(out), *args, "--format", "json"]) == 0  # no conflict
    with Store.open(store, read_only=True) as s:
        imports = s.imports()
        assert s.rationales("evidence-4level")["import_id"].tolist() == [1, 1]
    assert imports["added"].tolist() == [3, 0]
