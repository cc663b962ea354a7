"""``calibrate round`` warns when the round's anchors leave a level of a criterion or a side
of the pass line uncovered (``anchor_coverage``): on stderr, and in each JSON row's
``warnings``."""

from __future__ import annotations

import json

import numpy as np

from calibrate.calibration import qualify
from calibrate.cli import main
from calibrate.io import export_table

from .test_qualify import key_of, make_round

FULL = np.resize(np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]), (20, 3))
COVER = "do not cover every level of every criterion and both sides of the pass line"


def _cli(tmp_path, capsys, rubric, key, fmt):
    ratings, k = make_round(rubric, len(key), {"P": key, "Q": key}, key)
    export_table(ratings, tmp_path / "r.csv")
    export_table(k, tmp_path / "k.csv")
    args = ["round", str(tmp_path / "r.csv"), "--rubric", "rubrics/evidence-4level.yaml"]
    code = main([*args, "--key", str(tmp_path / "k.csv"), "--format", fmt])
    out = capsys.readouterr()
    assert code == 0
    return out.out, out.err


def test_full_coverage_gives_no_warning(tmp_path, capsys, evidence_rubric):
    ratings, k = make_round(evidence_rubric, 20, {"P": FULL}, FULL)
    assert qualify(ratings, k).warnings == []
    out, err = _cli(tmp_path, capsys, evidence_rubric, FULL, "json")
    rows = json.loads(out)
    assert err == "" and len(rows) == 2
    assert not any(COVER in w for r in rows for w in r["warnings"])


def test_missing_level_warns_on_stderr_and_in_json(tmp_path, capsys, evidence_rubric):
    key = key_of(20)  # levels 2-4 only: level 1 of every criterion uncovered
    ratings, k = make_round(evidence_rubric, 20, {"P": key}, key)
    (w,) = qualify(ratings, k).warnings
    assert COVER in w
    for name in ("Overview questions", "Classroom artifacts", "Reflection"):
        assert f"no anchor at level 1 (Not yet evident) of {name}" in w
    assert "level 2" not in w and "passes" not in w
    out, err = _cli(tmp_path, capsys, evidence_rubric, key, "table")
    assert f"warning: the 20 anchors {COVER}" in err and COVER not in out
    out, err = _cli(tmp_path, capsys, evidence_rubric, key, "json")
    rows = json.loads(out)
    assert COVER in err
    assert [r["reviewer_id"] for r in rows] == ["P", "Q"]
    assert all(any(COVER in x for x in r["warnings"]) for r in rows)


def test_one_side_of_the_pass_line_warns(evidence_rubric):
    key = np.resize(np.array([[3, 3, 3], [4, 4, 4]]), (20, 3))  # every anchor passes
    ratings, k = make_round(evidence_rubric, 20, {"P": key}, key)
    (w,) = qualify(ratings, k).warnings
    assert "no anchor is 'not yet': add one below the pass line" in w
    assert "no anchor at level 1" in w and "no anchor at level 2" in w
