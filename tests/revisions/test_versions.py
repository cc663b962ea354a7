"""Rubric revisions: ``replaces`` in the rubric, its check against the old version, and
ratings of several versions combined under the newest one.

The combined table of a program split at mid-window into two versions (a renamed
criterion whose scores moved from 0-3 to 1-4; no true change) is the same data as the
unsplit program, so the many-facet Rasch fit must agree with the unsplit fit to 1e-8 and
the drift monitor (same seeds) must flag the same reviewers.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibrate._problems import RatingsError, RubricError
from calibrate.drift import DriftMonitor
from calibrate.ratings import AnswerKey, RatingsTable, canonical_frame, combine_versions
from calibrate.rubric import Rubric, parse_rubric, revision_maps, rubric_to_yaml
from calibrate.severity import ManyFacetRasch

from ._split import RENAMED, split_program

BASE = """
id: r
title: R
scale: [{score: 1, label: Not yet}, {score: 2, label: Emerging}, {score: 3, label: Met}]
pass_rule: {min_level: 2}
"""


def _rubric(version: str, criteria: list[str], replaces: str = "", scale: str = "") -> Rubric:
    crit = ", ".join(f"{{id: {c}, name: {c.title()}}}" for c in criteria)
    text = BASE + f'version: "{version}"\ncriteria: [{crit}]\n'
    if scale:
        text = text.replace(
            "scale: [{score: 1, label: Not yet}, {score: 2, label: Emerging}, {score: 3, label: Met}]",
            scale,
        )
    if replaces:
        text += f"replaces: {replaces}\n"
    return parse_rubric(text)


def _table(rubric: Rubric, rows: list[tuple[str, str, str, int]]) -> RatingsTable:
    s, r, c, v = zip(*rows, strict=True)
    return RatingsTable(canonical_frame(s, r, c, np.array(v), rubric), rubric)


# ---- the rubric's replaces ----------------------------------------------------------------
def test_replaces_round_trips_and_a_first_version_text_is_unchanged():
    new = _rubric(
        "2.0",
        ["plan", "talk"],
        '{version: "1.0", criteria: {planning: plan}, levels: {plan: {0: 1}}}',
    )
    assert parse_rubric(rubric_to_yaml(new)) == new
    assert new.replaces is not None and new.replaces.levels == {"plan": {0: 1}}
    first = _rubric("1.0", ["plan"])
    assert "replaces" not in rubric_to_yaml(first)


def test_replaces_problems_are_listed_together_with_their_fields():
    with pytest.raises(RubricError) as err:
        _rubric(
            "2.0",
            ["plan", "talk"],
            '{version: "2.0", criteria: {a: plam, b: talk, c: talk}, '
            "levels: {plann: {1: 1}, talk: {1: 9}}, extra: 1}",
        )
    fields = {p.field for p in err.value.problems}
    assert fields == {"replaces.extra"}  # a key the model does not know is refused first
    with pytest.raises(RubricError) as err:
        _rubric(
            "2.0",
            ["plan", "talk"],
            '{version: "2.0", criteria: {a: plam, b: talk, c: talk}, levels: {plann: {1: 1}, talk: {1: 9}}}',
        )
    got = {p.field: p.message for p in err.value.problems}
    assert set(got) == {
        "replaces.version",
        "replaces.criteria.a",
        "replaces.criteria",
        "replaces.levels.plann",
        "replaces.levels.talk",
    }
    assert "'plam'" in got["replaces.criteria.a"] and "plan, talk" in got["replaces.criteria.a"]
    assert "'b', 'c'" in got["replaces.criteria"]
    assert "[9]" in got["replaces.levels.talk"]


def test_replaces_is_checked_beside_other_field_problems():
    text = BASE + 'version: "2.0"\ncriteria: [{id: plan, name: ""}, {id: talk, name: Talk}]\n'
    text += 'replaces: {version: "1.0", levels: {talk: {1: 7}}}\n'
    with pytest.raises(RubricError) as err:
        parse_rubric(text)
    fields = {p.field for p in err.value.problems}
    assert "criteria[0].name" in fields and "replaces.levels.talk" in fields


def test_revision_maps_checks_old_ids_and_scores_against_the_old_version():
    old = _rubric(
        "1.0",
        ["plan", "talk"],
        scale="scale: [{score: 0, label: Not yet}, {score: 1, label: Met}, {score: 2, label: Strong}]",
    )
    new = _rubric(
        "2.0",
        ["plan", "talk"],
        '{version: "1.0", criteria: {planning: plan}, levels: {plan: {5: 1}, talk: {0: 3, 1: 2, 2: 3}}}',
    )
    with pytest.raises(RubricError) as err:
        revision_maps(new, old)
    got = [(p.field, p.message) for p in err.value.problems]
    fields = [f for f, _ in got]
    assert "replaces.criteria.planning" in fields  # no old criterion 'planning'
    plan = [m for f, m in got if f == "replaces.levels.plan"]
    assert any("[5]" in m and "not levels" in m for m in plan)  # old score 5 unknown
    assert any("[0]" in m and "no level" in m for m in plan)  # 0 -> 0 is not a level in 2.0
    talk = [m for f, m in got if f == "replaces.levels.talk"]
    assert talk and "keep their order" in talk[0]  # 0 -> 3 above 1 -> 2
    wrong = _rubric("2.0", ["plan"], '{version: "1.5"}')
    with pytest.raises(RubricError, match="replaces version '1.5'"):
        revision_maps(wrong, _rubric("1.0", ["plan"]))


# ---- combining versions ---------------------------------------------------------------------
def _chain():
    v10 = _rubric(
        "1.0",
        ["plan", "talk", "notes"],
        scale="scale: [{score: 0, label: Not yet}, {score: 1, label: Emerging}, {score: 2, label: Met}]",
    )
    v11 = _rubric(
        "1.1",
        ["planning", "talk", "notes"],
        '{version: "1.0", criteria: {plan: planning, notes: null}, '
        "levels: {planning: {0: 1, 1: 2, 2: 3}, talk: {0: 1, 1: 2, 2: 3}}}",
    )
    v20 = _rubric(
        "2.0", ["planning", "dialogue", "evidence"], '{version: "1.1", criteria: {talk: dialogue}}'
    )
    t10 = _table(v10, [("S1", "R1", "plan", 0), ("S1", "R1", "talk", 2), ("S1", "R1", "notes", 1)])
    t11 = _table(
        v11, [("S2", "R1", "planning", 3), ("S2", "R1", "talk", 1), ("S2", "R1", "notes", 2)]
    )
    t20 = _table(
        v20, [("S3", "R2", "planning", 2), ("S3", "R2", "dialogue", 3), ("S3", "R2", "evidence", 1)]
    )
    return t10, t11, t20


def test_a_three_version_chain_maps_ids_and_scores_to_the_newest():
    t10, t11, t20 = _chain()
    both = combine_versions([t20, t10, t11])  # any order
    assert both.versions == ("1.0", "1.1", "2.0")
    f = both.ratings.frame
    got = sorted(
        zip(f["rubric_version"].astype(str), f["criterion_id"].astype(str), f["score"], strict=True)
    )
    assert got == [
        ("1.0", "dialogue", 3),  # talk 2 -> 3 (levels of 1.1) -> dialogue (2.0)
        ("1.0", "planning", 1),  # plan 0 -> planning 1
        ("1.1", "dialogue", 1),
        ("1.1", "planning", 3),
        ("2.0", "dialogue", 3),
        ("2.0", "evidence", 1),
        ("2.0", "planning", 2),
    ]
    assert both.ratings.rubric.version == "2.0"
    dropped = both.dropped.sort_values("rubric_version").to_dict(orient="records")
    assert dropped == [
        {
            "rubric_version": "1.0",
            "criterion_id": "notes",
            "reason": "changed in 1.1",
            "ratings": 1,
        },
        {
            "rubric_version": "1.1",
            "criterion_id": "notes",
            "reason": "retired in 2.0",
            "ratings": 1,
        },
    ]
    assert "analysed within version 1.0 only" in both.notes()[0]
    # still a table: select keeps the version column
    sel = both.ratings.select(criterion="planning")
    assert sel.frame["rubric_version"].astype(str).tolist() == ["1.0", "1.1", "2.0"]


def test_versions_off_the_chain_or_rated_twice_are_refused():
    t10, t11, t20 = _chain()
    with pytest.raises(RubricError, match="not form one revision chain"):
        combine_versions([t10, t20])  # 2.0 replaces 1.1, which is missing: two tips
    again = _table(t20.rubric, [("S1", "R1", "planning", 1), ("S1", "R1", "dialogue", 2)])
    with pytest.raises(RatingsError) as err:
        combine_versions([t10, t11, again])
    messages = [p.message for p in err.value.problems]
    assert len(messages) == 2 and all("versions 1.0, 2.0" in m for m in messages)
    with pytest.raises(ValueError, match="one rubric"):
        other = _table(
            parse_rubric(rubric_to_yaml(t10.rubric).replace("id: r", "id: q")),
            [("S9", "R9", "plan", 1)],
        )
        combine_versions([t10, other])


# ---- same data, same statistics --------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_split_program_severity_matches_the_unsplit_fit(seed):
    table, parts, _ = split_program(seed)
    both = combine_versions(parts)
    assert {p.rubric.version for p in parts} == {"1.0", "2.0"}
    assert RENAMED[0] in parts[0].rubric.criterion_ids
    a = ManyFacetRasch().fit(table)
    b = ManyFacetRasch().fit(both.ratings)
    for name in ("severity_", "difficulty_", "ability_"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(y.reindex(x.index).to_numpy(), x.to_numpy(), rtol=0, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_split_program_drift_flags_no_more_reviewers_than_unsplit(seed):
    # two reviewers truly drift (half a level from mid-window); the revision is no drift
    table, parts, program = split_program(seed, n_drifting=2, drift_size=0.8)
    both = combine_versions(parts)
    key = AnswerKey(program.key, table.rubric)
    unsplit = DriftMonitor(rng=seed).fit(table, key)
    split = DriftMonitor(rng=seed).fit(both.ratings, key)
    assert len(unsplit.flags_) >= 1  # the comparison is not between two empty sets
    assert set(split.flags_["reviewer_id"]) == set(unsplit.flags_["reviewer_id"])


def test_store_reads_every_version_under_the_newest(tmp_path):
    from calibrate.store import Store

    table, parts, _ = split_program(0)
    with Store.open(tmp_path / "s.db") as store:
        for part in parts:
            store.import_ratings(part)
        both = store.ratings_across_versions(table.rubric.id)
        live = store.ratings_across_versions(table.rubric.id, kind="live")
    assert both.versions == ("1.0", "2.0")
    assert len(both.ratings) == len(table)
    assert both.ratings.frame["rubric_version"].value_counts().to_dict() == {
        "1.0": len(parts[0]),
        "2.0": len(parts[1]),
    }
    key = ["submission_id", "reviewer_id", "criterion_id", "round_id"]

    def rows(f):
        return sorted(map(tuple, f[[*key, "score"]].astype(str).to_numpy().tolist()))

    assert rows(both.ratings.frame) == rows(table.frame)
    assert set(live.ratings.frame["kind"].astype(str)) == {"live"}


def test_the_store_refuses_a_revision_that_does_not_fit_the_stored_version(tmp_path):
    from calibrate.store import Store

    old = _rubric("1.0", ["plan", "talk"])
    bad = _rubric("2.0", ["plan", "talk"], '{version: "1.0", criteria: {planing: plan}}')
    good = _rubric("2.0", ["plan", "talk"], '{version: "1.0"}')
    with Store.open(tmp_path / "s.db") as store:
        store.add_rubric(old)
        with pytest.raises(RubricError) as err:
            store.add_rubric(bad)
        assert [p.field for p in err.value.problems] == ["replaces.criteria.planing"]
        assert store.rubrics()["version"].tolist() == ["1.0"]  # nothing written
        assert store.add_rubric(good) is True
