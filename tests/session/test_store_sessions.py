"""The store's links and audit log: tokens kept only as hashes, expiry, revocation, and an
audit row per change with its old and new values."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta

import pytest

from calibrate.store import Store
from tests.session.conftest import RUBRIC


def test_a_token_is_stored_only_as_its_hash(session_store):
    path, links = session_store
    token = links[("R901", "R1")]
    assert len(token) >= 43  # 32 random bytes, base64: 256 bits (>= 128 asked)
    files = [path, path.with_name(path.name + "-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert token.encode() not in raw
    with contextlib.closing(sqlite3.connect(path)) as c:
        hashes = [r[0] for r in c.execute("SELECT token_sha256 FROM invitations")]
    assert all(len(h) == 64 for h in hashes) and token not in hashes


def test_check_token_opens_only_a_live_link(session_store):
    path, links = session_store
    with Store.open(path) as store:
        inv = store.check_token(links[("R901", "R1")])
        assert (inv.reviewer_id, inv.round_id, inv.round_status) == ("R901", "R1", "open")
        assert store.check_token(links[(None, "R1")]).is_lead
        token = links[("R901", "R1")]
        wrong = ("B" if token[0] == "A" else "A") + token[1:]  # one character off
        assert store.check_token(wrong) is None
        assert store.check_token("") is None
        # a new link replaces the old one
        new = store.create_invitations(RUBRIC, "R1", reviewers=["R901"])[0]
        assert store.check_token(links[("R901", "R1")]) is None
        assert store.check_token(new.token).reviewer_id == "R901"
        # revoked
        assert store.revoke_invitations(RUBRIC, "R1", reviewers=["R902"]) == 1
        assert store.check_token(links[("R902", "R1")]) is None
        # expired
        brief = store.create_invitations(RUBRIC, "R2", expires=timedelta(microseconds=1))[0]
        assert store.check_token(brief.token) is None


def test_invitations_refuse_a_reviewer_outside_the_round(session_store):
    path, _links = session_store
    with Store.open(path) as store:
        with pytest.raises(ValueError, match=r"R999.*not assigned to round 'R1'"):
            store.create_invitations(RUBRIC, "R1", reviewers=["R901", "R999"])
        with pytest.raises(ValueError, match="expires must be a positive"):
            store.create_invitations(RUBRIC, "R1", expires=timedelta(0))
        with pytest.raises(ValueError, match="round_id must be a round"):
            store.create_invitations(RUBRIC, "R7")


def test_an_edit_goes_through_the_history_and_the_audit_log(session_store):
    path, _links = session_store
    with Store.open(path) as store:
        first = store.save_entry(
            RUBRIC,
            "R1",
            "R901",
            "A01",
            {"overview": 3, "artifacts": 2, "reflection": 4},
            rationale="first",
            client="10.0.0.5",
        )
        assert [r["action"] for r in first] == ["entered"] * 4
        again = store.save_entry(
            RUBRIC,
            "R1",
            "R901",
            "A01",
            {"overview": 3, "artifacts": 2, "reflection": 4},
            rationale="first",
            client="10.0.0.5",
        )
        assert again == []  # nothing changed, nothing logged
        edit = store.save_entry(
            RUBRIC,
            "R1",
            "R901",
            "A01",
            {"overview": 2, "artifacts": 2, "reflection": 4},
            rationale="second",
            client="10.0.0.6",
        )
        assert [(r["criterion_id"], r["old_score"], r["new_score"]) for r in edit] == [
            ("overview", 3, 2),
            (None, None, None),
        ]
        assert (edit[1]["old_rationale"], edit[1]["new_rationale"]) == ("first", "second")
        history = store.rating_history(RUBRIC, round_id="R1")
        old = history[(history["reviewer_id"] == "R901") & (history["criterion_id"] == "overview")]
        assert sorted(old["score"].tolist()) == [2, 3]  # the old value is kept, not overwritten
        assert "edited in the entry form" in old["reason"].dropna().tolist()
        entries = store.reviewer_entries(RUBRIC, "R1", "R901")
        assert entries["A01"] == {
            "scores": {"overview": 2, "artifacts": 2, "reflection": 4},
            "rationale": "second",
        }
        log = store.audit_log(RUBRIC, round_id="R1")
        mine = log[log["reviewer_id"] == "R901"]
        assert len(mine) == 6
        assert mine["client"].tolist() == ["10.0.0.5"] * 4 + ["10.0.0.6"] * 2
        assert mine["action"].tolist() == ["entered"] * 4 + ["edited"] * 2
        progress = store.round_progress(RUBRIC, "R1")
        assert progress == {
            "R901": {"done": ["A01"], "to_do": ["A02"]},
            "R902": {"done": ["A02"], "to_do": ["A03"]},
        }
