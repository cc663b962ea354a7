"""The score-entry form's edits go through the same mechanism as ``--supersede``."""

from __future__ import annotations

import pytest

from calibrate.store import ConflictError, Store


def test_form_edits_supersede_keep_history_and_can_be_retracted(tmp_path, evidence_rubric):
    with Store.open(tmp_path / "s.db") as s:
        s.add_rubric(evidence_rubric)
        first = {"overview": 2, "artifacts": 3, "reflection": 3}
        s.enter_scores("evidence-4level", "S0001", "R001", first, rated_at="2026-09-01T10:00Z")
        with pytest.raises(ConflictError, match="a score is entered once"):
            s.enter_scores("evidence-4level", "S0001", "R001", {"overview": 3})
        with pytest.raises(ValueError, match="supersede=True needs a reason"):
            s.enter_scores("evidence-4level", "S0001", "R001", {"overview": 3}, supersede=True)
        # an edit that changes nothing records nothing
        s.enter_scores(
            "evidence-4level", "S0001", "R001", {"overview": 2}, supersede=True, reason="recheck"
        )
        assert s.imports().empty
        s.enter_scores(
            "evidence-4level",
            "S0001",
            "R001",
            {"overview": 3, "artifacts": 3, "reflection": 4},
            supersede=True,
            reason="after moderation",
        )
        now = s.ratings("evidence-4level").frame.set_index("criterion_id")["score"].to_dict()
        assert now == {"overview": 3, "artifacts": 3, "reflection": 4}
        (edit,) = s.imports().itertuples()
        assert (edit.what, edit.rows, edit.superseded, edit.already_present) == ("edit", 3, 2, 1)
        h = s.rating_history("evidence-4level")
        old = h[h["superseded_by"].notna()]
        assert sorted(zip(old["criterion_id"], old["score"], strict=True)) == [
            ("overview", 2),
            ("reflection", 3),
        ]
        assert old["import_id"].isna().all()  # they were entered live
        assert set(old["reason"]) == {"after moderation"}
        done = s.retract_import(int(edit.import_id), reason="edited the wrong form")
        assert (done["withdrawn"], done["restored"]) == (2, 2)
        back = s.ratings("evidence-4level").frame.set_index("criterion_id")["score"].to_dict()
        assert back == first
