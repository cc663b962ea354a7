"""A live calibration session driven from pytest: set values, click Save, read the store;
entries from other processes; the lead's dashboard."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from traitlets import TraitError

from calibrate.io import read_program
from calibrate.store import SCHEMA_VERSION, ConflictError, Store
from calibrate.store._schema import expected_tables
from calibrate.widgets import LeadDashboard, ScoreEntryForm

from ..conftest import ROOT

ANCHORS = ["A01", "A02", "A03"]
REVIEWERS = ["R1", "R2"]


@pytest.fixture
def store(tmp_path, evidence_rubric):
    path = tmp_path / "live.db"
    with Store.open(path) as s:
        s.add_rubric(evidence_rubric)
    return path


def fill(form, reviewer, anchor, levels, rationale=""):
    form.reviewer.value = reviewer
    form.submission.value = anchor
    for b, v in zip(form.criteria.values(), levels, strict=True):
        b.value = v
    form.rationale.value = rationale
    form.save.click()


def test_save_writes_every_criterion_and_the_rationale(store, evidence_rubric):
    form = ScoreEntryForm(
        store, evidence_rubric, round_id="R1", submissions=ANCHORS, reviewers=REVIEWERS
    )
    fill(form, "R1", "A01", [3, 2, 4], "clear plan, weak transcript")
    assert "Saved 3 scores of A01 by R1" in form.message.value
    with Store.open(store) as s:
        f = s.ratings(evidence_rubric.id, round_id="R1").frame
        notes = s.rationales(evidence_rubric.id, round_id="R1")
    assert sorted(zip(f["criterion_id"].astype(str), f["score"], strict=True)) == [
        ("artifacts", 2),
        ("overview", 3),
        ("reflection", 4),
    ]
    assert set(f["kind"].astype(str)) == {"anchor"} and f["rated_at"].notna().all()
    assert notes["rationale"].tolist() == ["clear plan, weak transcript"]
    # the form is ready for the next anchor
    assert form.submission.value is None and all(b.value is None for b in form.criteria.values())


def test_incomplete_entry_is_refused_and_nothing_written(store, evidence_rubric):
    form = ScoreEntryForm(
        store, evidence_rubric, round_id="R1", submissions=ANCHORS, reviewers=REVIEWERS
    )
    form.reviewer.value, form.submission.value = "R1", "A02"
    form.criteria["overview"].value = 3
    form.save.click()
    assert "Not saved: choose a level for Classroom artifacts, Reflection." in form.message.value
    with Store.open(store) as s:
        with pytest.raises(ValueError):
            s.ratings(evidence_rubric.id, round_id="R1")


def test_entered_twice_is_refused_with_a_message(store, evidence_rubric):
    form = ScoreEntryForm(
        store, evidence_rubric, round_id="R1", submissions=ANCHORS, reviewers=REVIEWERS
    )
    fill(form, "R2", "A03", [2, 2, 2])
    fill(form, "R2", "A03", [3, 3, 3], "second try")
    assert "Not saved" in form.message.value and "already has a score" in form.message.value
    # the stored scores are not quoted to whoever has the form open
    assert ": 2" not in form.message.value and "entered live" not in form.message.value
    with Store.open(store) as s:
        assert s.ratings(evidence_rubric.id, round_id="R1").frame["score"].tolist() == [2, 2, 2]
        assert s.rationales(evidence_rubric.id).empty


def test_values_outside_the_rubric_or_round_cannot_be_set(store, evidence_rubric):
    form = ScoreEntryForm(
        store, evidence_rubric, round_id="R1", submissions=ANCHORS, reviewers=REVIEWERS
    )
    with pytest.raises(TraitError):
        form.criteria["overview"].value = 7  # not a level
    with pytest.raises(TraitError):
        form.submission.value = "S00042"  # not an anchor of the round
    free = ScoreEntryForm(store, evidence_rubric, round_id="R1", submissions=ANCHORS)
    free.reviewer.value = "   "
    assert "choose or type your reviewer id" in free.problems()


def test_store_refuses_a_bad_score_without_writing_the_others(store, evidence_rubric):
    with Store.open(store) as s:
        with pytest.raises(ValueError, match="score must be a level of criterion 'reflection'"):
            s.enter_scores(
                evidence_rubric.id,
                "A01",
                "R1",
                {"overview": 3, "artifacts": 3, "reflection": 9},
                round_id="R1",
                kind="anchor",
            )
        with pytest.raises(ValueError):
            s.ratings(evidence_rubric.id, round_id="R1")


ENTER = textwrap.dedent("""
    import sys
    from calibrate.rubric import load_rubric
    from calibrate.widgets import ScoreEntryForm
    store, reviewer = sys.argv[1], sys.argv[2]
    rubric = load_rubric("rubrics/evidence-4level.yaml")
    anchors = [f"A{i:02d}" for i in range(12)]
    form = ScoreEntryForm(store, rubric, round_id="R1", submissions=anchors)
    for a in anchors:
        form.reviewer.value, form.submission.value = reviewer, a
        for b in form.criteria.values():
            b.value = 3
        if not form.save_entry():
            sys.exit(form.message.value)
""")


def test_entries_survive_the_process_and_two_processes_enter_at_once(store, evidence_rubric):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ENTER, str(store), r],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in ("R1", "R2")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "locked" not in err
    # both processes have exited ("restarted kernels"): everything they entered is here
    with Store.open(store) as s:
        f = s.ratings(evidence_rubric.id, round_id="R1").frame
    assert len(f) == 2 * 12 * 3
    assert f.groupby("reviewer_id", observed=True).size().to_dict() == {"R1": 36, "R2": 36}
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_dashboard_follows_entries_from_another_process(store, evidence_rubric):
    program = read_program(ROOT / "data" / "synthetic" / "pilot")
    anchors = sorted(program.key.anchors)[:3]
    with Store.open(store) as s:
        s.import_key(program.key)
    dash = LeadDashboard(
        store, evidence_rubric.id, round_id="R1", anchors=anchors, reviewers=REVIEWERS
    )
    assert "0 of 2 reviewers finished" in dash.summary.value
    assert "No reviewer has finished" in dash.agreement.value
    key = program.key.wide()
    form = ScoreEntryForm(
        store, evidence_rubric, round_id="R1", submissions=anchors, reviewers=REVIEWERS
    )
    for a in anchors:
        fill(form, "R1", a, [int(v) for v in key.loc[a]])  # R1 scores exactly the key
    fill(form, "R2", anchors[0], [1, 1, 1])
    status = dash.refresh()
    comp = status["completion"].set_index("reviewer_id")
    assert comp.loc["R1", "done"] == 1 and comp.loc["R2", "done"] == pytest.approx(1 / 3)
    assert "1 of 2 reviewers finished; 1 qualified so far" in dash.summary.value
    assert status["result"].reviewers.set_index("reviewer_id").loc["R1", "status"] == "qualified"
    assert "qualified" in dash.agreement.value
    assert dash.last_refresh_seconds < 5
    assert "<table>" not in dash.plot.value  # hidden tab: not drawn
    dash.tabs.selected_index = 3
    assert (
        "<table>" in dash.plot.value
        and "R1</td>" in dash.plot.value
        and "100% / 100%" in dash.plot.value
    )
    with pytest.raises(ValueError, match="every must be a positive number of seconds; got 0"):
        dash.start(0)


def test_migration_from_schema_1_keeps_data_and_adds_rationales(tmp_path, evidence_rubric):
    path = tmp_path / "old.db"
    with Store.open(path) as s:
        s.add_rubric(evidence_rubric)
        s.add_rating(evidence_rubric.id, "A01", "R1", "overview", 3, round_id="R1", kind="anchor")
    with sqlite3.connect(path) as conn:  # turn it back into a version-1 store
        later = set(expected_tables(SCHEMA_VERSION)) - set(expected_tables(1))
        for table in sorted(later):  # the tables of versions 2 and later
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        conn.execute("PRAGMA user_version = 1")
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        s.enter_scores(
            evidence_rubric.id, "A02", "R1", {"overview": 2}, round_id="R1", rationale="ok"
        )
        assert len(s.ratings(evidence_rubric.id, round_id="R1")) == 2
        assert s.rationales(evidence_rubric.id)["rationale"].tolist() == ["ok"]
    with Store.open(path) as s, pytest.raises(ConflictError):
        s.add_rating(evidence_rubric.id, "A01", "R1", "overview", 3, round_id="R1", kind="anchor")


def test_a_round_set_up_in_the_store_drives_form_and_dashboard(store, evidence_rubric):
    from calibrate.calibration import anchor_coverage, choose_anchors

    program = read_program(ROOT / "data" / "synthetic" / "pilot")
    anchors = choose_anchors(program.key, 4, rng=3)
    assert (
        anchor_coverage(program.key, anchors).passing >= 1
        and anchor_coverage(program.key, anchors).not_yet >= 1
    )
    with Store.open(store) as s:
        s.import_key(program.key)
        s.assign_round(evidence_rubric.id, "R9", anchors=anchors, reviewers=["R1", "R2", "R3"])
        s.assign_round(
            evidence_rubric.id, "R9", anchors=anchors[:2], reviewers=["R1"]
        )  # idempotent
        assert s.round_assignment(evidence_rubric.id, "R9") == {
            "anchors": sorted(anchors),
            "reviewers": ["R1", "R2", "R3"],
        }
        with pytest.raises(
            ValueError,
            match="a round needs at least one anchor and one reviewer; got 0 anchors and 1 reviewers",
        ):
            s.assign_round(evidence_rubric.id, "R9", anchors=[], reviewers=["R1"])
    form = ScoreEntryForm.for_round(store, evidence_rubric.id, "R9")
    assert list(form.submission.options) == sorted(anchors) and list(form.reviewer.options) == [
        "R1",
        "R2",
        "R3",
    ]
    dash = LeadDashboard.for_round(store, evidence_rubric.id, "R9")
    assert "0 of 3 reviewers finished" in dash.summary.value
