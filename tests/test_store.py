"""The embedded store: round trips, idempotent re-imports, conflicts refused with nothing
written, concurrent writers, a killed importer, schema versions and files that are not
stores."""

from __future__ import annotations

import contextlib
import json
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate import DataProblemError, RatingsError
from calibrate.ratings import KINDS, AnswerKey, RatingsTable, canonical_frame
from calibrate.rubric import load_rubric, parse_rubric, rubric_to_yaml
from calibrate.store import (
    SCHEMA_VERSION,
    ConflictError,
    NotAStoreError,
    Store,
    StoreBusyError,
    StoreDamagedError,
    StoreError,
    StoreVersionError,
    _connection,
    file_sha256,
    restore_store,
)
from calibrate.store._schema import expected_tables

RUBRICS = Path(__file__).resolve().parents[1] / "rubrics"
ID_COLUMNS = ["submission_id", "reviewer_id", "criterion_id", "round_id", "kind"]


# ---- building tables ---------------------------------------------------------------
def make_table(
    rubric,
    *,
    n_subs=20,
    reviewers=("ana", "ben"),
    prefix="S",
    rounds=False,
    kinds=False,
    times=False,
    seed=0,
    source=None,
) -> RatingsTable:
    """Every reviewer scores every submission on every criterion, with random levels."""
    rng = np.random.default_rng(seed)
    crit_ids = list(rubric.criterion_ids)
    subs = [f"{prefix}{i:05d}" for i in range(n_subs)]
    rows = [(s, r, c) for s in subs for r in reviewers for c in crit_ids]
    n = len(rows)
    sub, rev, crit = ([r[k] for r in rows] for k in range(3))
    levels = {c.id: np.asarray(c.scores) for c in rubric.criteria}
    score = np.array([rng.choice(levels[c]) for c in crit], dtype=np.int64)
    round_id = kind = rated_at = None
    if rounds:  # a third of the rows in no round, the rest in two rounds
        round_id = [None if i % 3 == 0 else f"R{i % 3}" for i in range(n)]
    if kinds:
        kind = [None if i % 7 == 0 else KINDS[i % 3] for i in range(n)]
    if times:
        base = pd.Timestamp("2026-09-01T08:00:00Z")
        rated_at = [
            None if i % 5 == 0 else (base + pd.Timedelta(minutes=int(m))).isoformat()
            for i, m in enumerate(np.random.default_rng(seed + 1).integers(0, 60 * 24 * 30, n))
        ]
    frame = canonical_frame(
        sub, rev, crit, score, rubric, round_id=round_id, kind=kind, rated_at=rated_at
    )
    return RatingsTable(frame, rubric, source)


def make_key(rubric, anchors=("A1", "A2"), *, bump=None, source=None) -> AnswerKey:
    rows = [(a, c.id, c.scores[len(c.scores) // 2]) for a in anchors for c in rubric.criteria]
    if bump is not None:  # change one key score to another level
        a, c_id, s = rows[bump]
        levels = rubric.criterion(c_id).scores
        rows[bump] = (a, c_id, levels[0] if s != levels[0] else levels[-1])
    frame = pd.DataFrame(
        {
            "submission_id": pd.Categorical([r[0] for r in rows]),
            "criterion_id": pd.Categorical(
                [r[1] for r in rows], categories=list(rubric.criterion_ids)
            ),
            "key_score": np.array([r[2] for r in rows], dtype=np.int64),
            "rationale": [f"because {r[0]} {r[1]}" for r in rows],
        }
    )
    return AnswerKey(frame, rubric, source)


def content(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as plain values in a fixed order: what must survive a round trip."""
    f = frame.astype({c: object for c in ID_COLUMNS if c in frame.columns})
    keys = [
        c for c in ["round_id", "submission_id", "reviewer_id", "criterion_id"] if c in f.columns
    ]
    return f.sort_values(keys, na_position="first").reset_index(drop=True)


def assert_same_ratings(got: RatingsTable, expected: RatingsTable) -> None:
    assert [str(t) for t in got.frame.dtypes] == [str(t) for t in expected.frame.dtypes]
    assert list(got.frame.columns) == list(expected.frame.columns)
    pd.testing.assert_frame_equal(content(got.frame), content(expected.frame))


def snapshot(path: Path) -> dict[str, object]:
    """Everything a reader can see in a store (to show that nothing changed)."""
    with Store.open(path, create=False) as store:
        out: dict[str, object] = {
            "summary": store.summary(),
            "imports": store.imports(),
            "rounds": store.rounds(),
            "rubrics": store.rubrics(),
        }
        for r in out["summary"]["rubrics"]:  # type: ignore[index]
            out[f"ratings {r['rubric_id']} {r['version']}"] = content(
                store.ratings(r["rubric_id"], version=r["version"]).frame
            )
    with contextlib.closing(sqlite3.connect(path)) as conn:
        out["ids"] = (
            conn.execute("SELECT count(*) FROM submissions").fetchone(),
            conn.execute("SELECT count(*) FROM reviewers").fetchone(),
        )
    return out


def assert_same_snapshot(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], pd.DataFrame):
            pd.testing.assert_frame_equal(a[k], b[k])  # type: ignore[arg-type]
        else:
            assert a[k] == b[k], k


def check_integrity(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "calibrate.db"


@pytest.fixture(scope="module")
def rubrics():
    return {p.stem: load_rubric(p) for p in sorted(RUBRICS.glob("*.yaml"))}


# ---- round trips -------------------------------------------------------------------------
@pytest.mark.parametrize("rubric_name", ["evidence-4level", "discussion-hybrid", "met-not-yet"])
@pytest.mark.parametrize(
    "shape",
    [dict(), dict(rounds=True, kinds=True, times=True), dict(kinds=True), dict(rounds=True)],
    ids=["bare", "rounds-kinds-times", "kinds-only", "rounds-only"],
)
def test_round_trip(db, rubrics, rubric_name, shape):
    rubric = rubrics[rubric_name]
    table = make_table(rubric, n_subs=30, reviewers=("ana", "ben", "cy"), **shape)
    with Store.open(db) as store:
        report = store.import_ratings(table, source="scores.csv")
        back = store.ratings(rubric.id)
        assert store.rubric(rubric.id) == parse_rubric(rubric_to_yaml(rubric))
    assert (report.rows, report.added, report.already_present) == (len(table), len(table), 0)
    assert (report.rubric_id, report.source) == (rubric.id, "scores.csv")
    assert_same_ratings(back, table)
    assert back.rubric.criterion_ids == rubric.criterion_ids
    check_integrity(db)


def test_read_back_order_and_filters(db, evidence_rubric):
    table = make_table(evidence_rubric, n_subs=12, rounds=True, kinds=True, times=True)
    with Store.open(db) as store:
        store.import_ratings(table)
        back = store.ratings("evidence-4level").frame
        r1_anchor = store.ratings("evidence-4level", round_id="R1", kind="anchor").frame
        both = store.ratings("evidence-4level", round_id=["R1", "R2"]).frame
        with pytest.raises(
            ValueError,
            match=r"round_id must name rounds of rubric 'evidence-4level' \(\['R1', 'R2'\]\); got \['R3'\]",
        ):
            store.ratings("evidence-4level", round_id="R3")
        with pytest.raises(ValueError, match="kind must be one of 'anchor', 'live', 'seeded'; got"):
            store.ratings("evidence-4level", kind="anchr")
        with pytest.raises(
            ValueError,
            match=r"rubric 'nope' is not in the store .* \(stored rubrics: 'evidence-4level'\)",
        ):
            store.ratings("nope")
    # documented order: round (none first), submission, reviewer, criterion in rubric order
    codes = np.column_stack(
        [
            back["round_id"].cat.codes,
            back["submission_id"].cat.codes,
            back["reviewer_id"].cat.codes,
            back["criterion_id"].cat.codes,
        ]
    )
    assert np.array_equal(codes, codes[np.lexsort(codes.T[::-1])])
    expected = table.select(round_id="R1", kind="anchor").frame
    pd.testing.assert_frame_equal(content(r1_anchor), content(expected))
    assert len(both) == table.frame["round_id"].notna().sum()


def test_answer_key_round_trip_reimport_and_conflict(db, evidence_rubric):
    key = make_key(evidence_rubric, source="key.csv")
    with Store.open(db) as store:
        first = store.import_key(key)
        again = store.import_key(key)
        back = store.answer_key("evidence-4level")
        with pytest.raises(ConflictError) as err:
            store.import_key(make_key(evidence_rubric, anchors=("A1", "A2", "A3"), bump=1))
        after = store.answer_key("evidence-4level")
    assert (first.what, first.added, again.added, again.already_present) == ("key", 6, 0, 6)
    expected = key.frame.astype({"submission_id": object, "criterion_id": object})
    pd.testing.assert_frame_equal(
        back.frame.astype({"submission_id": object, "criterion_id": object}), expected
    )
    assert str(back.frame["key_score"].dtype) == "int64"
    assert len(err.value.problems) == 1
    assert (
        "the key for submission 'A1', criterion 'artifacts' is stored with score 3 (import #1); this key has 1"
        in str(err.value)
    )
    pd.testing.assert_frame_equal(after.frame, back.frame)  # A3 was not added either


# ---- re-imports and conflicts ---------------------------------------------------------
def test_reimport_adds_nothing_and_records_each_import(db, tmp_path, evidence_rubric):
    src = tmp_path / "scores.csv"
    src.write_text("stand-in for the imported file\n")
    digest = file_sha256(src)
    a = make_table(evidence_rubric, n_subs=10, rounds=True, kinds=True, times=True)
    bigger = make_table(
        evidence_rubric, n_subs=15, rounds=True, kinds=True, times=True
    )  # a's rows + 5 submissions
    with Store.open(db) as store:
        r1 = store.import_ratings(a, source=str(src), sha256=digest)
        r2 = store.import_ratings(a, source=str(src), sha256=digest)
        r3 = store.import_ratings(bigger, source="more.csv")
        imports = store.imports()
        back = store.ratings("evidence-4level")
    assert (r1.added, r1.already_present) == (len(a), 0)
    assert (r2.added, r2.already_present) == (0, len(a))
    assert (r3.added, r3.already_present) == (len(bigger) - len(a), len(a))
    assert imports[["source", "rows", "added", "already_present"]].values.tolist() == [
        [str(src), len(a), len(a), 0],
        [str(src), len(a), 0, len(a)],
        ["more.csv", len(bigger), len(bigger) - len(a), len(a)],
    ]
    assert imports["sha256"].iloc[:2].tolist() == [digest, digest] and pd.isna(
        imports["sha256"].iloc[2]
    )
    assert imports["what"].tolist() == ["ratings"] * 3 and imports["import_id"].tolist() == [
        1,
        2,
        3,
    ]
    assert_same_ratings(back, bigger)


def test_conflicting_score_is_refused_and_nothing_written(db, evidence_rubric):
    a = make_table(evidence_rubric, n_subs=10, source="a.csv")
    with Store.open(db) as store:
        store.import_ratings(a)
    before = snapshot(db)
    # the same rows with two scores changed, plus new submissions that must not land either
    b = make_table(evidence_rubric, n_subs=14, seed=0, source="b.csv")
    frame = b.frame.copy()
    for row in (4, 17):
        crit = evidence_rubric.criterion(str(frame.at[row, "criterion_id"]))
        frame.at[row, "score"] = (
            crit.scores[0] if frame.at[row, "score"] != crit.scores[0] else crit.scores[-1]
        )
    changed = RatingsTable(frame, evidence_rubric, "b.csv")
    with Store.open(db) as store, pytest.raises(ConflictError) as err:
        store.import_ratings(changed)
    assert isinstance(err.value, DataProblemError) and isinstance(err.value, ValueError)
    problems = [str(p) for p in err.value.problems]
    assert len(problems) == 2
    old4, new4 = a.frame.at[4, "score"], frame.at[4, "score"]
    assert problems[0] == (
        f"b.csv, column 'score', value '{new4}': table row 4: submission 'S00000', reviewer 'ben', "
        f"criterion 'artifacts' is stored with score {old4} (import #1 of a.csv); this table has {new4}"
    )
    assert str(err.value).startswith(
        f"2 conflicts with what is already in {db}; nothing was written:"
    )
    assert_same_snapshot(snapshot(db), before)
    check_integrity(db)


def test_table_rows_the_store_cannot_hold(db, evidence_rubric):
    frame = make_table(evidence_rubric, n_subs=2).frame
    dup = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)
    bad_score = frame.copy()
    bad_score.at[1, "score"] = 9
    with Store.open(db) as store:
        with pytest.raises(RatingsError) as err:
            store.import_ratings(RatingsTable(dup, evidence_rubric, "dup.csv"))
        assert [str(p) for p in err.value.problems] == [
            "dup.csv: table row 12: duplicate rating (same submission, reviewer, criterion and round): the same as table row 3"
        ]
        with pytest.raises(
            RatingsError,
            match=r"table row 1: 9 is not a level of criterion 'artifacts' \(levels \[1, 2, 3, 4\]\)",
        ):
            store.import_ratings(RatingsTable(bad_score, evidence_rubric))
        with pytest.raises(
            TypeError, match="table must be a calibrate.ratings.RatingsTable; got DataFrame"
        ):
            store.import_ratings(frame)  # type: ignore[arg-type]
        assert store.summary()["totals"]["ratings"] == 0 and store.imports().empty


def test_hand_built_frame_of_text_columns(db, evidence_rubric):
    """Plain object columns, not the canonical categoricals: every problem is listed, and
    an empty round id is no round."""
    frame = pd.DataFrame(
        {
            "submission_id": ["s1", "", "s2", None, "s3"],
            "reviewer_id": ["a", "b", None, "a", "b"],
            "criterion_id": ["overview", "overveiw", "artifacts", None, "reflection"],
            "score": np.array([3, 2, 9, 1, 4], dtype=np.int64),
            "rated_at": pd.to_datetime([None] * 5, utc=True),
            "round_id": ["", "r1", None, "r1", ""],
            "kind": ["live", "anchr", None, "anchor", "live"],
        }
    )
    with Store.open(db) as store:
        with pytest.raises(RatingsError) as err:
            store.import_ratings(RatingsTable(frame, evidence_rubric, "hand.csv"))
        assert [(p.column, p.value, str(p).split(": ", 1)[1]) for p in err.value.problems] == [
            ("submission_id", None, "table row 1: submission id is empty"),
            ("submission_id", None, "table row 3: submission id is empty"),
            ("reviewer_id", None, "table row 2: reviewer id is empty"),
            (
                "criterion_id",
                "overveiw",
                "table row 1: not a criterion of rubric 'evidence-4level' (criteria: overview, artifacts, reflection)",
            ),
            (
                "criterion_id",
                None,
                "table row 3: not a criterion of rubric 'evidence-4level' (criteria: overview, artifacts, reflection)",
            ),
            (
                "score",
                "9",
                "table row 2: 9 is not a level of criterion 'artifacts' (levels [1, 2, 3, 4])",
            ),
            ("kind", "anchr", "table row 1: kind must be one of anchor, live, seeded (or missing)"),
        ]
        report = store.import_ratings(RatingsTable(frame.iloc[[0, 4]], evidence_rubric))
        back = store.ratings("evidence-4level").frame
        assert store.rounds().empty
        key = AnswerKey(
            pd.DataFrame(
                {
                    "submission_id": ["s9", "s1", "s9"],
                    "criterion_id": ["overview"] * 3,
                    "key_score": np.array([2, 3, 2]),
                }
            ),
            evidence_rubric,
            "k.csv",
        )
        with pytest.raises(RatingsError, match="k.csv: table row 2: duplicate key score"):
            store.import_key(key)
        assert store.import_key(AnswerKey(key.frame.iloc[:2], evidence_rubric)).added == 2
        assert store.answer_key("evidence-4level").frame["submission_id"].tolist() == ["s1", "s9"]
    assert report.added == 2
    assert back["submission_id"].tolist() == ["s1", "s3"] and back["round_id"].isna().all()


def test_progress_is_called_between_chunks(db, evidence_rubric):
    table = make_table(
        evidence_rubric, n_subs=9000, reviewers=("ana", "ben")
    )  # 54,000 rows: two chunks
    calls = []
    with Store.open(db) as store:
        store.import_ratings(table, progress=lambda done, total: calls.append((done, total)))
        with pytest.raises(KeyboardInterrupt):  # e.g. Ctrl-C in a progress bar: nothing is written
            store.import_ratings(
                make_table(evidence_rubric, n_subs=9000, prefix="T"),
                progress=lambda done, total: (_ for _ in ()).throw(KeyboardInterrupt),
            )
        assert store.summary()["totals"]["ratings"] == len(table)
    assert calls == [(50_000, 54_000), (54_000, 54_000)]


# ---- rubrics ----------------------------------------------------------------------------
def test_add_rubric_is_idempotent_and_refuses_changed_content(db, evidence_rubric):
    changed = evidence_rubric.model_copy(update={"title": "Another title"})
    newer = evidence_rubric.model_copy(update={"version": "1.1"})
    with Store.open(db) as store:
        assert store.add_rubric(evidence_rubric) is True
        assert store.add_rubric(evidence_rubric) is False
        assert (
            store.add_rubric(parse_rubric(rubric_to_yaml(evidence_rubric))) is False
        )  # same content, other spelling
        with pytest.raises(
            ConflictError,
            match=r"rubric 'evidence-4level' version '1.0' is already stored with different title; a changed rubric needs a new version",
        ):
            store.add_rubric(changed)
        assert store.add_rubric(newer) is True
        assert store.rubrics()[["rubric_id", "version", "criteria"]].values.tolist() == [
            ["evidence-4level", "1.0", 3],
            ["evidence-4level", "1.1", 3],
        ]
        assert store.rubric("evidence-4level").version == "1.1"  # the most recently added
        assert store.rubric("evidence-4level", "1.0").title == evidence_rubric.title


def test_ratings_under_two_versions_need_a_version(db, evidence_rubric):
    newer = evidence_rubric.model_copy(update={"version": "1.1"})
    with Store.open(db) as store:
        store.import_ratings(make_table(evidence_rubric, n_subs=2))
        assert len(store.ratings("evidence-4level")) == 12  # one version holds ratings: that one
        # other submissions (the same ratings again under 1.1 are refused: issue 15)
        store.import_ratings(make_table(newer, n_subs=1, prefix="T"))
        with pytest.raises(
            ValueError,
            match=r"rubric 'evidence-4level' has ratings under several versions: 1.0 \(12 rows\), 1.1 \(6 rows\); name one with version=...",
        ):
            store.ratings("evidence-4level")
        assert len(store.ratings("evidence-4level", version="1.1")) == 6
        with pytest.raises(
            ValueError, match=r"has no version '2' in the store; stored versions: \['1.0', '1.1'\]"
        ):
            store.ratings("evidence-4level", version="2")


# ---- live score entry and rounds ----------------------------------------------------------
def test_add_rating_and_duplicate_refused(db, evidence_rubric):
    with Store.open(db) as store:
        store.add_rubric(evidence_rubric)
        store.add_rating(
            "evidence-4level",
            "S1",
            "ana",
            "overview",
            3,
            round_id="R1",
            kind="anchor",
            rated_at="2026-09-14T10:32:00Z",
        )
        store.add_rating("evidence-4level", "S1", "ana", "artifacts", 2)  # no round, time: now
        for score in (3, 4):  # the same score again is a duplicate too
            with pytest.raises(ConflictError) as err:
                store.add_rating("evidence-4level", "S1", "ana", "overview", score, round_id="R1")
            assert err.value.problems[0].message == (
                "reviewer 'ana' already has a score for submission 'S1', criterion 'overview' in round 'R1': "
                "3 (entered live, scored 2026-09-14T10:32:00Z); a score is entered once"
            )
        store.add_rating(
            "evidence-4level", "S1", "ana", "overview", 4, round_id="R2"
        )  # another round: fine
        back = store.ratings("evidence-4level").frame
    assert back[["round_id", "criterion_id", "score"]].astype(object).fillna(
        "-"
    ).values.tolist() == [["-", "artifacts", 2], ["R1", "overview", 3], ["R2", "overview", 4]]
    assert back["rated_at"].iloc[1] == pd.Timestamp("2026-09-14T10:32:00Z")
    assert back["rated_at"].iloc[0] > pd.Timestamp("2026-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("nope", "S1", "ana", "overview", 3), {}, ValueError, "rubric 'nope' is not in the store"),
        (
            ("evidence-4level", "S1", "ana", "overveiw", 3),
            {},
            ValueError,
            "criterion_id must be one of ['overview', 'artifacts', 'reflection'] (rubric 'evidence-4level'); got 'overveiw'",
        ),
        (
            ("evidence-4level", "S1", "ana", "overview", 7),
            {},
            ValueError,
            "score must be a level of criterion 'overview': one of [1, 2, 3, 4]; got 7",
        ),
        (
            ("evidence-4level", "S1", "ana", "overview", 2.0),
            {},
            TypeError,
            "score must be an int (a level score); got 2.0",
        ),
        (
            ("evidence-4level", " ", "ana", "overview", 3),
            {},
            ValueError,
            "submission_id must be non-empty text; got ' '",
        ),
        (
            ("evidence-4level", "S1", "ana", "overview", 3),
            {"kind": "anchr"},
            ValueError,
            "kind must be one of 'anchor', 'live', 'seeded' or None; got 'anchr'",
        ),
        (
            ("evidence-4level", "S1", "ana", "overview", 3),
            {"rated_at": "yesterday-ish"},
            ValueError,
            "rated_at must be a date-time or ISO 8601 text",
        ),
    ],
    ids=["rubric", "criterion", "score-level", "score-type", "empty-id", "kind", "rated-at"],
)
def test_add_rating_bad_input(db, evidence_rubric, args, kwargs, error, message):
    with Store.open(db) as store:
        store.add_rubric(evidence_rubric)
        with pytest.raises(error) as err:
            store.add_rating(*args, **kwargs)
        assert message in str(err.value)
        assert store.summary()["totals"]["ratings"] == 0


def test_closed_round_refuses_new_scores(db, evidence_rubric):
    table = make_table(evidence_rubric, n_subs=4, rounds=True)
    more = make_table(evidence_rubric, n_subs=6, rounds=True)
    with Store.open(db) as store:
        store.import_ratings(table)
        assert store.add_round("evidence-4level", "R9") is True
        assert store.add_round("evidence-4level", "R9") is False
        store.close_round("evidence-4level", "R1")
        rounds = store.rounds("evidence-4level")
        assert rounds[["round_id", "status"]].values.tolist() == [
            ["R1", "closed"],
            ["R2", "open"],
            ["R9", "open"],
        ]
        assert rounds["closed_at"].notna().tolist() == [True, False, False]
        assert store.import_ratings(table).added == 0  # what is already there may come again
        with pytest.raises(
            ConflictError,
            match=r"round 'R1' of rubric 'evidence-4level' was closed at .*: the table has 4 new scores for it; reopen the round",
        ):
            store.import_ratings(more)
        with pytest.raises(
            ConflictError, match="round 'R1' of rubric 'evidence-4level' was closed at"
        ):
            store.add_rating("evidence-4level", "NEW", "ana", "overview", 3, round_id="R1")
        assert store.summary()["totals"]["ratings"] == len(table)
        store.reopen_round("evidence-4level", "R1")
        assert store.import_ratings(more).added == len(more) - len(table)
        with pytest.raises(
            ValueError,
            match=r"round_id 'R7' is not a round of rubric 'evidence-4level'; its rounds: \['R1', 'R2', 'R9'\]",
        ):
            store.close_round("evidence-4level", "R7")


def test_summary_counts(db, evidence_rubric, binary_rubric):
    with Store.open(db) as store:
        store.import_ratings(
            make_table(
                evidence_rubric, n_subs=5, reviewers=("ana", "ben", "cy"), rounds=True, kinds=True
            )
        )
        store.import_ratings(make_table(binary_rubric, n_subs=3, reviewers=("ana", "dee")))
        store.import_key(make_key(evidence_rubric, anchors=("S00000", "A9")))
        summary = store.summary()
    by_id = {r["rubric_id"]: r for r in summary["rubrics"]}
    ev = by_id["evidence-4level"]
    assert (ev["reviewers"], ev["submissions"], ev["rounds"], ev["ratings"], ev["keys"]) == (
        3,
        5,
        2,
        45,
        6,
    )
    assert ev["anchors"] == 6  # five scored as anchor or seeded, plus A9 from the key
    assert {
        k: by_id["met-not-yet"][k]
        for k in ("reviewers", "submissions", "anchors", "rounds", "ratings", "keys")
    } == {"reviewers": 2, "submissions": 3, "anchors": 0, "rounds": 0, "ratings": 24, "keys": 0}
    assert summary["totals"] == {
        "rubrics": 2,
        "reviewers": 4,
        "submissions": 6,
        "anchors": 6,
        "rounds": 2,
        "ratings": 69,
        "keys": 6,
        "imports": 3,
    }
    assert summary["schema_version"] == SCHEMA_VERSION


# ---- opening files ------------------------------------------------------------------------
def test_default_path_and_create_false(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no store at calibrate.db"):
        Store.open(create=False)
    with Store.open() as store:
        assert store.schema_version == SCHEMA_VERSION
        assert repr(store) == f"Store('calibrate.db', schema {SCHEMA_VERSION})"
    assert (tmp_path / "calibrate.db").is_file()
    assert store.closed
    with pytest.raises(ValueError, match="the store calibrate.db is closed"):
        store.summary()
    with pytest.raises(FileNotFoundError, match="the folder missing does not exist"):
        Store.open(Path("missing") / "x.db")


@pytest.mark.parametrize("where", ["user_version", "meta"], ids=["pragma", "meta-table"])
def test_newer_schema_is_refused(db, where):
    Store.open(db).close()
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        if where == "user_version":
            conn.execute("PRAGMA user_version = 99")
        else:
            conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = db.read_bytes()
    with pytest.raises(StoreVersionError) as err:
        Store.open(db)
    assert isinstance(err.value, RuntimeError)
    message = str(err.value)
    assert f"{db} is a store of schema version 99, written by a newer calibrate" in message
    readable = (
        f"version {SCHEMA_VERSION}" if SCHEMA_VERSION == 1 else f"versions 1 to {SCHEMA_VERSION}"
    )
    assert f"reads store schema {readable}" in message
    assert (
        "Upgrade calibrate (pip install --upgrade calibrate) to open it; the file was not changed."
        in message
    )
    assert (err.value.found, err.value.readable) == (99, tuple(range(1, SCHEMA_VERSION + 1)))
    assert db.read_bytes() == before


def _other_program_db(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p.write_text(
                "submission_id,reviewer_id,criterion_id,score\nS1,ana,overview,3\n" * 40
            ),
            "is not a calibrate store: it is not a SQLite database. A store is the file calibrate creates with --store.",
        ),
        (
            lambda p: p.write_bytes(bytes(range(256)) * 8),
            "is not a calibrate store: it is not a SQLite database",
        ),
        (
            _other_program_db,
            "is a SQLite database but not a calibrate store (application_id 0x0; tables: contacts)",
        ),
        (lambda p: p.mkdir(), "is a folder; a store is a single file"),
    ],
    ids=["csv-file", "binary-junk", "other-sqlite-db", "folder"],
)
def test_file_that_is_not_a_store_is_refused(tmp_path, make, message):
    path = tmp_path / "thing.db"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(NotAStoreError) as err:
        Store.open(path)
    assert isinstance(err.value, ValueError)
    assert message in str(err.value)
    assert (path.read_bytes() if path.is_file() else None) == before


def test_empty_file_becomes_a_store(tmp_path, evidence_rubric):
    path = tmp_path / "new.db"
    path.touch()
    with Store.open(path) as store:
        store.add_rubric(evidence_rubric)
    with Store.open(path, create=False) as store:
        assert store.rubrics()["rubric_id"].tolist() == ["evidence-4level"]
    check_integrity(path)


# ---- several processes -----------------------------------------------------------------------
CHILD = r"""
import json, os, pickle, signal, sys, time
from pathlib import Path
from calibrate.store import Store

args = json.loads(sys.argv[1])
Path(args["ready"]).touch()
while not os.path.exists(args["go"]):
    time.sleep(0.005)
with Store.open(args["store"], timeout=args["timeout"]) as store:
    if args["mode"] == "import":
        with open(args["table"], "rb") as f:
            table = pickle.load(f)

        def progress(done, total):
            if args["kill"]:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(args["sleep"])  # hold the write lock a while, so the writers overlap

        report = store.import_ratings(table, source=args["table"], progress=progress)
        print(json.dumps(report.to_dict()))
    else:  # a score-entry screen: one short transaction per score
        for sub, rev, crit, score in args["scores"]:
            store.add_rating(args["rubric"], sub, rev, crit, score)
            time.sleep(0.002)
        print(json.dumps({"added": len(args["scores"])}))
"""


def start_children(
    tmp_path: Path, db: Path, jobs: list[dict[str, object]]
) -> list[subprocess.Popen[str]]:
    """Start one process per job; they all begin writing at the same moment."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    go = tmp_path / "go"
    procs = []
    for i, job in enumerate(jobs):
        if "table" in job:
            pkl = tmp_path / f"table{i}.pkl"
            pkl.write_bytes(pickle.dumps(job.pop("table")))
            job["table"] = str(pkl)
        args = {
            "store": str(db),
            "ready": str(tmp_path / f"ready{i}"),
            "go": str(go),
            "kill": False,
            "sleep": 0.0,
            "timeout": 10.0,
            **job,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), json.dumps(args)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
            )
        )
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready{i}").exists() for i in range(len(jobs))):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
                p.communicate()
            pytest.fail("a child process did not start")
        time.sleep(0.01)
    go.touch()
    return procs


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


@pytest.mark.parametrize(
    ("timeout", "second"),
    [(10.0, "import"), (0.02, "import"), (10.0, "entry")],
    ids=["busy-timeout-waits", "retry-with-backoff", "import-and-score-entry"],
)
def test_two_writer_processes_both_succeed(tmp_path, db, evidence_rubric, timeout, second):
    a = make_table(
        evidence_rubric,
        n_subs=9000,
        reviewers=("ana", "ben"),
        prefix="A",
        rounds=True,
        kinds=True,
        times=True,
    )
    b = make_table(evidence_rubric, n_subs=9000, reviewers=("cy", "dee"), prefix="B", rounds=True)
    with Store.open(db) as store:
        store.add_rubric(evidence_rubric)
    jobs: list[dict[str, object]] = [
        {"mode": "import", "table": a, "sleep": 0.3, "timeout": timeout}
    ]
    entries = [(f"E{i:03d}", "eve", c, 2) for i in range(40) for c in evidence_rubric.criterion_ids]
    if second == "import":
        jobs.append({"mode": "import", "table": b, "sleep": 0.3, "timeout": timeout})
    else:
        jobs.append(
            {"mode": "entry", "rubric": "evidence-4level", "scores": entries, "timeout": timeout}
        )
    results = [finish(p) for p in start_children(tmp_path, db, jobs)]
    for code, _, err in results:
        assert code == 0, err
        assert "locked" not in err and "Traceback" not in err
    assert json.loads(results[0][1])["added"] == len(a) == 54_000
    with Store.open(db) as store:
        back = store.ratings("evidence-4level")
        assert len(store.imports()) == (2 if second == "import" else 1)
    f = back.frame
    assert_same_ratings(
        RatingsTable(f.loc[f["submission_id"].str.startswith("A")], evidence_rubric), a
    )
    if second == "import":
        assert json.loads(results[1][1])["added"] == len(b)
        assert_same_ratings(
            RatingsTable(f.loc[f["submission_id"].str.startswith("B")], evidence_rubric), b
        )
        assert len(f) == len(a) + len(b)
    else:
        assert len(f) == len(a) + len(entries)
    check_integrity(db)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_killed_importer_leaves_the_store_as_it_was(tmp_path, db, evidence_rubric):
    first = make_table(evidence_rubric, n_subs=50, rounds=True, kinds=True, times=True)
    big = make_table(
        evidence_rubric,
        n_subs=20_000,
        reviewers=("ana", "ben"),
        prefix="K",
        rounds=True,
        times=True,
    )
    with Store.open(db) as store:
        store.import_ratings(first, source="first.csv")
    before = snapshot(db)
    (proc,) = start_children(tmp_path, db, [{"mode": "import", "table": big, "kill": True}])
    code, out, _ = finish(proc)
    assert code == -signal.SIGKILL and out == ""
    check_integrity(db)
    assert_same_snapshot(snapshot(db), before)
    with Store.open(db) as store:  # and it still takes imports
        assert store.import_ratings(big).added == len(big) == 120_000


def test_empty_table_and_empty_reads(db, evidence_rubric):
    empty = make_table(evidence_rubric, n_subs=0)
    with Store.open(db) as store:
        report = store.import_ratings(empty, source="empty.csv")
        back = store.ratings("evidence-4level")
        key = store.answer_key("evidence-4level")
    assert (report.rows, report.added, report.already_present) == (0, 0, 0)
    assert len(back) == 0 and len(key) == 0
    assert [str(t) for t in back.frame.dtypes] == [str(t) for t in empty.frame.dtypes]
    assert list(back.frame["criterion_id"].cat.categories) == list(evidence_rubric.criterion_ids)


def test_locked_store_waits_retries_then_reports_busy(db, evidence_rubric, monkeypatch):
    Store.open(db).close()
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)  # another writer
    try:
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
        release.start()
        with Store.open(db, timeout=0.01) as store:  # SQLite gives up at once; the retries wait
            assert store.add_rubric(evidence_rubric) is True
        release.join()
        holder.execute("BEGIN IMMEDIATE")
        monkeypatch.setattr(_connection, "_FIRST_PAUSE", 0.001)  # keep the test short
        monkeypatch.setattr(_connection, "_MAX_PAUSE", 0.002)
        with Store.open(db, timeout=0.01) as store, pytest.raises(StoreBusyError) as err:
            store.add_rating("evidence-4level", "S1", "ana", "overview", 3)
        assert isinstance(err.value, RuntimeError)
        assert re.fullmatch(
            f"could not add a score for 'S1': another process kept the store {re.escape(str(db))} locked for "
            rf"\d+\.\d s \(busy timeout 0.01 s, {_connection.RETRIES + 1} attempts\)\. Nothing was written; "
            "try again when the other import or score entry has finished.",
            str(err.value),
        )
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    with Store.open(db) as store:
        assert store.summary()["totals"]["ratings"] == 0


def test_damaged_file_gives_a_store_error(db, evidence_rubric):
    with Store.open(db) as store:
        store.import_ratings(make_table(evidence_rubric, n_subs=2000))
    size = db.stat().st_size
    with open(db, "r+b") as f:  # overwrite one page in the middle of the ratings
        f.seek(size // 2 // 4096 * 4096)
        f.write(b"\xff" * 4096)
    with Store.open(db) as store:
        with pytest.raises(StoreError) as err:
            store.ratings("evidence-4level")
        assert isinstance(err.value, StoreDamagedError)  # (issue 19: damaged, with what to do)
        assert str(err.value) == (
            f"could not read the store: SQLite reported 'database disk image is malformed' for the "
            f"store {db}. The file is damaged: restore it from a backup (calibrate backup "
            f"--restore --store {db} --from BACKUP); there is no snapshot at {db}.bak"
        )
        with pytest.raises(
            StoreError,
            match="could not import ratings: .*; nothing was written. The file is damaged",
        ):
            store.import_ratings(make_table(evidence_rubric, n_subs=3000))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda db, s: Store(db, timeout="10"),
            TypeError,
            "timeout must be a number of seconds >= 0; got str",
        ),
        (
            lambda db, s: Store(db, timeout=-1),
            ValueError,
            "timeout must be a number of seconds >= 0; got -1",
        ),
        (
            lambda db, s: s.add_rubric({"id": "x"}),
            TypeError,
            "rubric must be a calibrate.rubric.Rubric; got dict",
        ),
        (
            lambda db, s: s.add_rating("evidence-4level", 12, "ana", "overview", 3),
            TypeError,
            "submission_id must be non-empty text; got int 12",
        ),
        (
            lambda db, s: s.ratings("evidence-4level", round_id=["R1", 2]),
            TypeError,
            "round_id must be text or a non-empty list of text; got ['R1', 2]",
        ),
        (
            lambda db, s: s.ratings("evidence-4level", kind=[]),
            ValueError,
            "kind must be text or a non-empty list of text; got []",
        ),
        (
            lambda db, s: s.enter_scores("evidence-4level", "S1", "ana", [("overview", 3)]),
            TypeError,
            "scores must map criterion ids to level scores; got list",
        ),
        (
            lambda db, s: s.enter_scores(
                "evidence-4level", "S1", "ana", {"overview": 3}, rationale=None
            ),
            TypeError,
            "rationale must be text (str); got NoneType",
        ),
    ],
    ids=[
        "timeout-type",
        "timeout-value",
        "rubric",
        "id-type",
        "names-type",
        "names-empty",
        "scores",
        "rationale",
    ],
)
def test_wrong_options_name_the_argument(db, evidence_rubric, call, error, message):
    with Store.open(db) as store:
        store.add_rubric(evidence_rubric)
        with pytest.raises(error, match=re.escape(message)):
            call(db, store)
        assert store.summary()["totals"]["ratings"] == 0


# ---- transactions, checks, backups (issue 19) ------------------------------------------------
def test_transaction_commits_all_or_nothing(db, evidence_rubric):
    table = make_table(evidence_rubric, n_subs=30, kinds=True)
    with Store.open(db) as store:
        store.add_rubric(evidence_rubric)
        store.import_key(make_key(evidence_rubric))
        before = store.summary()["totals"]
        with pytest.raises(ConflictError), store.transaction("import a table and its key"):
            store.import_ratings(table)
            with store.transaction():  # a nested block joins the outer one
                store.add_round("evidence-4level", "R9")
            store.import_key(make_key(evidence_rubric, bump=0))  # conflicts: all rolled back
        assert store.summary()["totals"] == before
        with store.transaction():
            store.import_ratings(table)
            store.add_round("evidence-4level", "R9")
        assert store.summary()["totals"]["ratings"] == len(table)
        assert store.rounds()["round_id"].tolist() == ["R9"]
    check_integrity(db)


def test_conflicts_name_file_rows_when_given(db, evidence_rubric):
    key = make_key(evidence_rubric, source="key.csv")
    with Store.open(db) as store:
        store.import_key(key)
        changed = make_key(evidence_rubric, bump=4, source="key2.csv")
        with pytest.raises(ConflictError) as err:
            store.import_key(changed, rows=np.arange(10, 10 + len(changed)))
        (problem,) = err.value.problems
        assert (problem.file, problem.row, problem.column) == ("key2.csv", 14, "key_score")
        assert "table row" not in problem.message
        with pytest.raises(ValueError, match="rows must be None or 6 file row numbers"):
            store.import_key(changed, rows=[2, 3])
        with pytest.raises(TypeError, match="rows must be None or 6 file row numbers"):
            store.import_key(changed, rows=["2"] * 6)


def test_backup_and_restore(tmp_path, db, evidence_rubric):
    first = make_table(evidence_rubric, n_subs=40)
    with Store.open(db) as store:
        store.import_ratings(first)
        copy = store.backup(tmp_path / "copy.db")
        assert store.backup() == tmp_path / "calibrate.db.bak"  # the default snapshot
        store.import_ratings(make_table(evidence_rubric, n_subs=10, prefix="X"))
        with pytest.raises(ValueError, match="another file than the store itself"):
            store.backup(db)
    check_integrity(copy)
    with Store.open(copy, read_only=True) as b:
        assert b.summary()["totals"]["ratings"] == len(first)
    done = restore_store(db, copy)
    assert done["previous"] == str(db) + ".before-restore"
    assert done["totals"]["ratings"] == len(first)
    with Store.open(db) as store:
        assert_same_ratings(store.ratings("evidence-4level"), first)
    with Store.open(done["previous"], read_only=True) as old:  # the replaced file is kept
        assert old.summary()["totals"]["ratings"] == len(first) + 60
    with pytest.raises(FileNotFoundError, match="no backup at"):
        restore_store(db, tmp_path / "none.db")


def test_read_only_open_of_an_older_schema_upgrades_it_first(db, evidence_rubric):
    with Store.open(db) as store:
        store.import_ratings(make_table(evidence_rubric, n_subs=5))
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        later = set(expected_tables(SCHEMA_VERSION)) - set(expected_tables(1))
        for t in sorted(later):  # back to version 1
            conn.execute(f"DROP TABLE {t}")
        conn.execute("PRAGMA user_version = 1")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Store.open(db, read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.summary()["totals"]["ratings"] == 5 * 2 * 3
    check_integrity(db)
