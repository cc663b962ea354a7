"""Ratings keep the rubric version they were scored under: importing ratings already
stored under another version of the rubric is refused with the count and the version,
unless ``--supersede`` (the old-version ratings then move to the history)."""

from __future__ import annotations

import json

import pytest

from calibrate.cli import main
from calibrate.store import ConflictError, Store
from tests.store_history.conftest import A_ROWS, RUBRIC, csv_text
from tests.test_store import assert_same_snapshot, check_integrity, snapshot


@pytest.fixture
def v2(tmp_path):
    """Version 2.0 of the rubric: the same criteria, a revised title."""
    text = RUBRIC.read_text().replace('version: "1.0"', 'version: "2.0"')
    out = tmp_path / "evidence-v2.yaml"
    out.write_text(text.replace("title: Questioning", "title: Revised questioning"))
    return out


def run(*argv) -> int:
    return main([str(a) for a in argv])


def test_reimport_under_another_version_is_refused_with_count_and_version(
    store_a, files, v2, tmp_path, capsys
):
    before = snapshot(store_a)
    capsys.readouterr()
    assert run("import", files["a"], "--rubric", v2, "--store", store_a, "--format", "json") == 1
    out = json.loads(capsys.readouterr().out)
    (p,) = out["problems"]
    assert p["message"].startswith(
        "12 of these ratings are already stored under version '1.0' of rubric 'evidence-4level' "
        "(this table is version '2.0')"
    )
    assert_same_snapshot(snapshot(store_a), before)  # (v2 itself was not added either)
    # new ratings under v2 (no overlap) are fine
    new = tmp_path / "new.csv"
    new.write_text(csv_text([("S0100", "R001", "overview", 2)]))
    assert run("import", new, "--rubric", v2, "--store", store_a) == 0


def test_supersede_moves_the_old_version_ratings_to_the_history_and_retract_brings_them_back(
    store_a, files, v2, tmp_path
):
    b = tmp_path / "part.csv"
    b.write_text(csv_text(A_ROWS[:5]))  # 5 of the 12 rescored under v2
    argv = ("import", b, "--rubric", v2, "--store", store_a, "--supersede", "--reason", "v2")
    assert run(*argv) == 0
    with Store.open(store_a, read_only=True) as s:
        assert len(s.ratings("evidence-4level", version="1.0")) == 7
        assert len(s.ratings("evidence-4level", version="2.0")) == 5
        assert s.summary()["totals"]["ratings"] == 12  # nothing counted twice
        h = s.rating_history("evidence-4level", version="1.0")
        imports = s.imports()
    assert h["superseded_by"].eq(2).sum() == 5 and (h["reason"] == "v2").sum() == 5
    assert imports.loc[1, "superseded"] == 5
    assert run(*argv) == 0  # again: nothing more moves
    with Store.open(store_a) as s:
        assert len(s.rating_history("evidence-4level", version="1.0")) == 12
        done = s.retract_import(2, reason="v2 too early")
        assert (done["withdrawn"], done["restored"]) == (5, 5)
        assert len(s.ratings("evidence-4level", version="1.0")) == 12
        # import #3 (the same file again) added nothing, so v2 holds no rating now
        assert len(s.ratings("evidence-4level", version="2.0")) == 0
        assert len(s.ratings("evidence-4level")) == 12  # the one version with ratings
    check_integrity(store_a)


def test_the_library_refuses_the_same(store_a, files, v2):
    from calibrate.io import read_ratings
    from calibrate.rubric import load_rubric

    table = read_ratings(files["a"], load_rubric(v2))
    with Store.open(store_a) as s, pytest.raises(ConflictError, match="version '1.0'"):
        s.import_ratings(table)
