"""Schema versions 3 and 4: a version-2 (or version-3) store, built with the released
statements, opens and migrates in one transaction, keeping every row; a failed step
changes nothing."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from calibrate.rubric import rubric_to_yaml
from calibrate.store import SCHEMA_VERSION, Store, StoreError, _schema
from tests.test_store import check_integrity


def build_v2(path, rubric, version: int = 2) -> None:
    """A store as calibrate wrote it at schema version 2 (or ``version``): its
    statements, two imports."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as c:
        for step in _schema.MIGRATIONS[:version]:
            for sql in step:
                c.execute(sql)
        c.execute(f"PRAGMA application_id = {_schema.APPLICATION_ID}")
        c.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("created_at", "2026-01-05T09:00:00Z"), ("schema_version", str(version))],
        )
        c.execute(
            "INSERT INTO rubrics VALUES (1, ?, ?, ?, ?, '2026-01-05T09:00:00Z')",
            (rubric.id, rubric.version, rubric.title, rubric_to_yaml(rubric)),
        )
        c.executemany(
            "INSERT INTO criteria VALUES (?, 1, ?, ?)",
            [(i + 1, cid, i) for i, cid in enumerate(rubric.criterion_ids)],
        )
        c.executemany("INSERT INTO reviewers VALUES (?, ?)", [(1, "R001"), (2, "R002")])
        c.executemany("INSERT INTO submissions VALUES (?, ?)", [(1, "S0001")])
        c.executemany(
            "INSERT INTO imports (import_pk, what, rubric_pk, source, sha256, rows, added, "
            "already_present, imported_at, calibrate_version) "
            "VALUES (?, ?, 1, ?, NULL, ?, ?, 0, '2026-01-05T09:01:00Z', '0.0.9')",
            [(1, "ratings", "a.csv", 2, 2), (2, "key", "k.csv", 1, 1)],
        )
        c.executemany(
            "INSERT INTO ratings VALUES (1, 0, 1, ?, 1, ?, NULL, 'anchor', 1)", [(1, 3), (2, 4)]
        )
        c.execute("INSERT INTO answer_keys VALUES (1, 1, 1, 3, 'why', 2)")
        c.execute("INSERT INTO rounds VALUES (1, 1, 'R1', 'open', '2026-01-05T09:00:00Z', NULL)")
        c.execute("INSERT INTO round_anchors VALUES (1, 1)")
        c.executemany("INSERT INTO round_reviewers VALUES (1, ?)", [(1,), (2,)])
        c.execute(f"PRAGMA user_version = {version}")


def dump(path) -> tuple[int, list[str]]:
    """The schema version and every statement that rebuilds the file's schema and rows
    (opening a store may switch its journal mode, so the bytes are not compared)."""
    with contextlib.closing(sqlite3.connect(path)) as c:
        return c.execute("PRAGMA user_version").fetchone()[0], list(c.iterdump())


def test_a_version_2_store_opens_and_migrates_keeping_every_row(tmp_path, evidence_rubric):
    assert SCHEMA_VERSION == 6
    path = tmp_path / "v2.db"
    build_v2(path, evidence_rubric)
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.ratings("evidence-4level").frame["score"].tolist() == [3, 4]
        imports = store.imports()
        assert imports["what"].tolist() == ["ratings", "key"]
        assert imports["source"].tolist() == ["a.csv", "k.csv"]
        assert imports["superseded"].tolist() == [0, 0] and imports["reason"].isna().all()
        assert len(store.answer_key("evidence-4level")) == 1
        assert len(store.rating_history("evidence-4level")) == 2  # the current values
        store.retract_import(1, reason="migrated, then withdrawn")  # the new tables work
        assert store.ratings("evidence-4level").frame.empty
    with contextlib.closing(sqlite3.connect(path)) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        meta = dict(c.execute("SELECT key, value FROM meta"))
        assert meta["schema_version"] == str(SCHEMA_VERSION) and "upgraded_at" in meta
        # the rebuilt imports table admits retractions; its CHECK still refuses others
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            c.execute("UPDATE imports SET what = 'other' WHERE import_pk = 1")
    check_integrity(path)


def test_a_failed_migration_leaves_the_file_as_it_was(tmp_path, evidence_rubric, monkeypatch):
    path = tmp_path / "v2.db"
    build_v2(path, evidence_rubric)
    before = dump(path)
    broken = (*_schema.MIGRATIONS[:2], (*_schema.MIGRATIONS[2], "CREATE TABLE broken ("))
    monkeypatch.setattr(_schema, "MIGRATIONS", broken)
    with pytest.raises((StoreError, sqlite3.Error)):
        Store.open(path)
    assert dump(path) == before  # the rebuilt imports table and the history were rolled back
    monkeypatch.undo()
    with Store.open(path) as store:  # and the real migration then succeeds
        assert store.schema_version == SCHEMA_VERSION
        assert store.summary()["totals"]["ratings"] == 2


def test_a_version_3_store_gains_the_per_reviewer_assignments_keeping_its_round(
    tmp_path, evidence_rubric
):
    path = tmp_path / "v3.db"
    build_v2(path, evidence_rubric, version=3)
    with contextlib.closing(sqlite3.connect(path)) as c:
        assert "anchor_assignments" not in {
            r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        rubric_id = evidence_rubric.id
        assert store.round_assignment(rubric_id, "R1") == {
            "anchors": ["S0001"],
            "reviewers": ["R001", "R002"],
        }
        assert store.anchor_assignment(rubric_id, "R1") == {}  # none recorded before v4
        assert store.summary()["totals"]["ratings"] == 2
        # the new table works on the migrated file
        store.assign_anchors(rubric_id, "R2", {"R001": ["S0001"], "R002": ["S0001"]})
        assert store.anchor_assignment(rubric_id, "R2") == {"R001": ["S0001"], "R002": ["S0001"]}
    check_integrity(path)
