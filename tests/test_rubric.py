"""Rubric models and YAML loading: the shipped rubrics, the pass rule, and every error."""

from __future__ import annotations

import re

import numpy as np
import pytest

from calibrate import RubricError
from calibrate.rubric import Rubric, load_rubric, parse_rubric, rubric_to_yaml

from .conftest import RUBRICS

SHIPPED = sorted(RUBRICS.glob("*.yaml"))

BASE = """\
id: t
title: Test rubric
version: "1"
scale:
  - {score: 1, label: Low}
  - {score: 2, label: Mid}
  - {score: 3, label: High}
criteria:
  - id: a
    name: A
  - id: b
    name: B
pass_rule:
  min_total: 4
"""


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_rubrics_load_and_round_trip(path):
    rubric = load_rubric(path)
    again = parse_rubric(rubric_to_yaml(rubric))
    assert again.model_dump(exclude={"scale"}) == rubric.model_dump(exclude={"scale"})


def test_three_shapes_are_shipped():
    kinds = {load_rubric(p).id: load_rubric(p) for p in SHIPPED}
    assert [c.id for c in kinds["evidence-4level"].criteria] == [
        "overview",
        "artifacts",
        "reflection",
    ]
    assert all(len(c.levels) == 4 for c in kinds["evidence-4level"].criteria)
    assert all(c.scores == (0, 1) for c in kinds["met-not-yet"].criteria)
    assert kinds["discussion-hybrid"].pass_rule.kind == "hybrid"
    assert len(kinds["discussion-hybrid"].criteria) > 3


@pytest.mark.parametrize(
    ("rule", "scores", "expected"),
    [
        ("min_total: 4", [[2, 2], [1, 2], [3, 1]], [1, 0, 1]),
        ("min_level: 2", [[2, 2], [1, 3], [3, 3]], [1, 0, 1]),
        ("min_total: 5\n  min_level: 2", [[2, 3], [3, 1], [2, 2]], [1, 0, 0]),
        ("min_levels: {b: 3}", [[1, 3], [3, 2]], [1, 0]),
    ],
    ids=["compensatory", "conjunctive", "hybrid", "per-criterion"],
)
def test_pass_rule_decisions(rule, scores, expected):
    rubric = parse_rubric(BASE.replace("min_total: 4", rule))
    assert rubric.decide(np.array(scores, dtype=float)).tolist() == expected


def test_missing_score_gives_no_decision():
    rubric = parse_rubric(BASE)
    out = rubric.decide(np.array([[2.0, np.nan]]))
    assert np.isnan(out[0])


def test_cut_at_minimum_passes_everyone():
    rubric = parse_rubric(BASE.replace("min_total: 4", "min_total: 2"))
    assert rubric.decide(np.array([[1, 1], [3, 3]])).tolist() == [1, 1]


def _problems(text: str) -> list[str]:
    with pytest.raises(RubricError) as info:
        parse_rubric(text, source="bad.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("title: Test rubric", "title: Test rubric\ncolour: blue"),
            "bad.yaml, line 3, field colour, value 'blue': unknown key 'colour'",
        ),
        (
            ("  - {score: 2, label: Mid}", "  - {score: 1, label: Mid}"),
            "field criteria[0].levels: level scores must be unique; [1] appear more than once",
        ),
        (
            ("  - {score: 3, label: High}", "  - {score: 0, label: High}"),
            "levels must be listed in increasing score order; got scores [1, 2, 0]",
        ),
        (
            ("  - {score: 3, label: High}", "  - {score: 3, label: mid}"),
            "level labels must be unique (ignoring case)",
        ),
        (
            ("min_total: 4", "min_total: 7"),
            "bad.yaml, line 14, field pass_rule.min_total: cut 7 can never be reached: the highest possible total is 6",
        ),
        (("min_total: 4", "min_level: 4"), "level 4 can never be reached on criterion 'a'"),
        (
            ("min_total: 4", "min_levels: {c: 2}"),
            "field pass_rule.min_levels.c: names criterion 'c', which the rubric does not have (criteria: a, b)",
        ),
        (("min_total: 4", "min_levels: {b: 5}"), "5 is not a level of criterion 'b'"),
        (
            ("  - id: b", "  - id: a"),
            "field criteria[1].id: criterion id 'a' is used more than once",
        ),
        (("pass_rule:\n  min_total: 4", "pass_rule: {}"), "a pass rule needs min_total"),
        (("id: t\n", ""), "required key 'id' is missing"),
        (
            ('version: "1"', 'version: "1"\nversion: "2"'),
            "bad.yaml, line 4, field version: key 'version' appears twice",
        ),
        (("  - id: a", "  - id: a b"), "field criteria[0].id"),
    ],
    ids=[
        "unknown-key",
        "duplicate-level",
        "unordered-levels",
        "duplicate-label",
        "unreachable-cut",
        "unreachable-level",
        "rule-names-missing-criterion",
        "rule-level-not-a-level",
        "duplicate-criterion",
        "empty-rule",
        "missing-id",
        "duplicate-key",
        "bad-identifier",
    ],
)
def test_rubric_errors_name_file_field_and_line(edit, expected):
    old, new = edit
    assert old in BASE
    problems = _problems(BASE.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_all_rubric_problems_are_listed_at_once():
    text = BASE.replace("min_total: 4", "min_total: 4\n  min_levels: {c: 2, d: 1}").replace(
        "title: Test rubric", "title: T\nfoo: 1\nbar: 2"
    )
    problems = _problems(text)
    assert sum("unknown key" in p for p in problems) == 2


def test_cross_field_problems_all_listed():
    problems = _problems(BASE.replace("min_total: 4", "min_total: 9\n  min_levels: {c: 2, d: 1}"))
    assert len(problems) == 3


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/object:builtins.dict {x: 1}\n",
        "!!python/name:os.system\n",
    ],
    ids=["apply", "object", "name"],
)
def test_yaml_is_loaded_safely(text):
    problems = _problems(text)
    assert any("not allowed" in p or "constructor" in p for p in problems), problems


def test_yaml_syntax_error_has_line():
    problems = _problems("id: t\ncriteria: [a\n  b: 1\n")
    assert problems[0].startswith("bad.yaml, line "), problems


def test_empty_and_non_mapping_files():
    assert "empty" in _problems("")[0]
    assert "must be a mapping" in _problems("- 1\n- 2\n")[0]


def test_direct_construction_validates_too():
    with pytest.raises(ValueError, match="can never be reached"):
        Rubric.model_validate(
            {
                "id": "x",
                "title": "X",
                "version": "1",
                "criteria": [
                    {
                        "id": "a",
                        "name": "A",
                        "levels": [{"score": 0, "label": "n"}, {"score": 1, "label": "y"}],
                    }
                ],
                "pass_rule": {"min_total": 3},
            }
        )


def test_models_are_frozen(evidence_rubric):
    with pytest.raises(Exception, match="frozen"):
        evidence_rubric.title = "changed"  # type: ignore[misc]


def test_decide_checks_its_input(evidence_rubric):
    with pytest.raises(ValueError, match=r"scores must have shape \(n, 3\); got \(2,\)"):
        evidence_rubric.decide(np.array([1.0, 2.0]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_rubric(b"id: x"), "text must be rubric YAML text (str); got bytes"),
        (
            lambda: parse_rubric("id: x", source=3),
            "source must be text naming the rubric's origin (str); got int",
        ),
        (
            lambda: rubric_to_yaml({"id": "x"}),
            "rubric must be a calibrate.rubric.Rubric; got dict",
        ),
    ],
    ids=["text", "source", "rubric"],
)
def test_wrong_option_types_are_type_errors(call, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        call()
