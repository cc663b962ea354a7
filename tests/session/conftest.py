"""A small store for the session tests: round R1 (anchors A01-A03, reviewers R901 and R902,
two anchors each, in their own order), round R2, a keyed answer key with planted
rationales, and one link per reviewer."""

from __future__ import annotations

import pytest

from calibrate.io import read_key
from calibrate.store import Store

RUBRIC = "evidence-4level"
#: Distinctive texts that must never reach the other reviewer (or anyone, while open).
KEY_MARK = "KEYWHY"
OTHER_MARK = "PLANTED-BY-R902"


@pytest.fixture
def session_store(tmp_path, evidence_rubric):
    path = tmp_path / "s.db"
    key_csv = tmp_path / "key.csv"
    rows = ["submission_id,criterion_id,key_score,rationale"]
    for a, scores in {
        "A01": (3, 2, 4),
        "A02": (1, 4, 2),
        "A03": (2, 3, 3),
        "A09": (4, 4, 4),
    }.items():
        for cid, s in zip(evidence_rubric.criterion_ids, scores, strict=True):
            rows.append(f"{a},{cid},{s},{KEY_MARK}-{a}-{cid}")
    key_csv.write_text("\n".join(rows) + "\n")
    with Store.open(path) as store:
        store.add_rubric(evidence_rubric)
        store.import_key(read_key(key_csv, evidence_rubric))
        store.assign_anchors(RUBRIC, "R1", {"R901": ["A02", "A01"], "R902": ["A03", "A02"]})
        store.assign_anchors(RUBRIC, "R2", {"R901": ["A09"]})
        links = {
            (link.reviewer_id, "R1"): link.token for link in store.create_invitations(RUBRIC, "R1")
        }
        links[(None, "R1")] = store.create_invitations(RUBRIC, "R1", lead=True)[0].token
        links[("R901", "R2")] = store.create_invitations(RUBRIC, "R2")[0].token
        # the other reviewer's work, with a planted rationale
        store.save_entry(
            RUBRIC,
            "R1",
            "R902",
            "A02",
            {"overview": 4, "artifacts": 1, "reflection": 1},
            rationale=f"{OTHER_MARK} rationale",
            client="127.0.0.9",
        )
    return path, links
