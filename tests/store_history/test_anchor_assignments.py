"""Store.assign_anchors / anchor_assignment: each reviewer's anchors in order, stored in
one transaction; the same again changes nothing; another assignment replaces one nobody
has scored under, and is refused for a round with ratings unless replace=True; the round's
anchors and reviewers (round_assignment) follow."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from calibrate.calibration import assign_anchors
from calibrate.store import Store

FIRST = {"R002": ["A03", "A01"], "R001": ["A01", "A02"], "R003": ["A02", "A03"]}
OTHER = {"R001": ["A02", "A01"], "R002": ["A01", "A03"], "R004": ["A03", "A02"]}


def dump(path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as c:
        return list(c.iterdump())


@pytest.fixture
def store_path(tmp_path, evidence_rubric):
    path = tmp_path / "calibrate.db"
    with Store.open(path) as s:
        s.add_rubric(evidence_rubric)
    return path


def test_assigned_in_order_and_the_round_lists_follow(store_path, evidence_rubric):
    rid = evidence_rubric.id
    with Store.open(store_path) as s:
        assert s.assign_anchors(rid, "R1", FIRST) == "assigned"
        assert s.anchor_assignment(rid, "R1") == dict(sorted(FIRST.items()))  # order kept
        assert list(s.anchor_assignment(rid, "R1")) == ["R001", "R002", "R003"]
        assert s.round_assignment(rid, "R1") == {
            "anchors": ["A01", "A02", "A03"],
            "reviewers": ["R001", "R002", "R003"],
        }
        assert s.rounds(rid)["round_id"].tolist() == ["R1"]  # the round was created, open
        assert s.rounds(rid)["status"].tolist() == ["open"]


def test_the_same_assignment_again_writes_nothing(store_path, evidence_rubric):
    with Store.open(store_path) as s:
        s.assign_anchors(evidence_rubric.id, "R1", FIRST)
    before = dump(store_path)
    with Store.open(store_path) as s:
        again = {r: tuple(v) for r, v in reversed(FIRST.items())}  # any mapping, any order
        assert s.assign_anchors(evidence_rubric.id, "R1", again) == "unchanged"
    assert dump(store_path) == before


def test_an_assignment_from_assign_anchors_is_stored_as_it_is(store_path, evidence_rubric):
    a = assign_anchors(["A01", "A02", "A03", "A04", "A05"], ["R001", "R002", "R003"], 2, rng=3)
    with Store.open(store_path) as s:
        assert s.assign_anchors(evidence_rubric.id, "R1", a) == "assigned"
        assert s.anchor_assignment(evidence_rubric.id, "R1") == {r: list(v) for r, v in a.items()}


def test_another_assignment_replaces_one_nobody_scored_under(store_path, evidence_rubric):
    rid = evidence_rubric.id
    with Store.open(store_path) as s:
        s.assign_anchors(rid, "R1", FIRST)
        assert s.assign_anchors(rid, "R1", OTHER) == "replaced"
        assert s.anchor_assignment(rid, "R1") == OTHER
        assert s.round_assignment(rid, "R1")["reviewers"] == ["R001", "R002", "R004"]


def test_another_assignment_for_a_round_with_ratings_needs_replace(store_path, evidence_rubric):
    rid = evidence_rubric.id
    with Store.open(store_path) as s:
        s.assign_anchors(rid, "R1", FIRST)
        s.add_rating(rid, "A01", "R001", "overview", 3, round_id="R1", kind="anchor")
    before = dump(store_path)
    with Store.open(store_path) as s:
        with pytest.raises(ValueError, match=r"already has another assignment and 1 ratings") as e:
            s.assign_anchors(rid, "R1", OTHER)
        assert "replace=True (--replace)" in str(e.value) and "nothing was written" in str(e.value)
    assert dump(store_path) == before
    with Store.open(store_path) as s:
        assert s.assign_anchors(rid, "R1", OTHER, replace=True) == "replaced"
        assert s.anchor_assignment(rid, "R1") == OTHER
        assert len(s.ratings(rid).frame) == 1  # the ratings stay


def test_a_closed_round_is_refused(store_path, evidence_rubric):
    rid = evidence_rubric.id
    with Store.open(store_path) as s:
        s.add_round(rid, "R1")
        s.close_round(rid, "R1")
        with pytest.raises(ValueError, match=r"round 'R1' of rubric 'evidence-4level' is closed"):
            s.assign_anchors(rid, "R1", FIRST)
        assert s.anchor_assignment(rid, "R1") == {}


@pytest.mark.parametrize(
    ("assignment", "error", "match"),
    [
        ({}, ValueError, "assignment must give at least one reviewer anchors; got none"),
        ([("R001", ["A01"])], TypeError, "assignment must map each reviewer id"),
        (
            {"R001": [], "R002": ["A01", "A02", "A01"], "R003": "A01"},
            ValueError,
            r"reviewer 'R001' has no anchors; reviewer 'R002' is given \['A01'\] more than once; "
            r"reviewer 'R003': anchors must be a sequence of ids",
        ),
        ({"R001": ["A01", " "]}, ValueError, "anchors must be non-empty text"),
        ({7: ["A01"]}, TypeError, "assignment reviewer ids must be non-empty text; got int 7"),
    ],
    ids=["empty", "not-a-mapping", "all-problems-at-once", "blank-anchor", "number-reviewer"],
)
def test_bad_assignments_are_refused_and_nothing_is_written(
    store_path, evidence_rubric, assignment, error, match
):
    before = dump(store_path)
    with Store.open(store_path) as s:
        with pytest.raises(error, match=match):
            s.assign_anchors(evidence_rubric.id, "R1", assignment)
    assert dump(store_path) == before


def test_reading_an_unknown_round_says_so(store_path, evidence_rubric):
    with Store.open(store_path) as s:
        with pytest.raises(ValueError, match="round_id must be a round of rubric"):
            s.anchor_assignment(evidence_rubric.id, "nope")
