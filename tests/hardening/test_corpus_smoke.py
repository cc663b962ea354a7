"""The corpus harness itself: a case that should pass passes, one that lies fails."""

from __future__ import annotations

import pytest

from tests.hardening.corpus import BadInput, run_case

UNKNOWN_CRITERION = BadInput(
    "unknown-criterion",
    ("import", "{dir}/bad.csv", "--store", "{store}", "--rubric", "{rubric}"),
    files={"bad.csv": "submission_id,reviewer_id,criterion_id,score\nS9,R1,overveiw,3\n"},
    rc=1,
    says=("row 2", "criterion_id", "overveiw"),
    store=True,
)


def test_a_clear_refusal_passes(tmp_path, template_store, capsys):
    run_case(UNKNOWN_CRITERION, tmp_path, template_store, capsys)


def test_a_wrong_promise_fails(tmp_path, template_store, capsys):
    lie = BadInput(**{**UNKNOWN_CRITERION.__dict__, "says": ("row 7",)})
    with pytest.raises(AssertionError, match="row 7"):
        run_case(lie, tmp_path, template_store, capsys)


def test_a_changed_store_fails(tmp_path, template_store, capsys):
    good = BadInput(
        "good-import",
        ("import", "{dir}/ok.csv", "--store", "{store}", "--rubric", "{rubric}"),
        files={"ok.csv": "submission_id,reviewer_id,criterion_id,score\nS9,R1,overview,3\n"},
        rc=0,
        store=True,
    )
    with pytest.raises(AssertionError, match="the store changed"):
        run_case(good, tmp_path, template_store, capsys)
