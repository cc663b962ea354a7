"""RatingsTable.codes: the one integer encoding every estimator reads.

Each code is checked against the frame it encodes, row by row, on the committed synthetic
programs, on selections (whose categoricals keep unused categories) and on a hand-built
frame of plain object columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate.io import read_ratings
from calibrate.ratings import KINDS, NO_TIME, RatingsTable, canonical_frame, compact, level_codes
from calibrate.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = {
    "pilot": "evidence-4level.yaml",
    "district": "discussion-hybrid.yaml",
    "binary": "met-not-yet.yaml",
}


@pytest.fixture(scope="module", params=sorted(PROGRAMS), ids=sorted(PROGRAMS))
def table(request: pytest.FixtureRequest) -> RatingsTable:
    rubric = load_rubric(ROOT / "rubrics" / PROGRAMS[request.param])
    return read_ratings(ROOT / "data" / "synthetic" / request.param / "ratings.csv", rubric)


def _check(table: RatingsTable) -> None:
    c = table.codes
    f = table.frame
    assert len(c) == len(f)
    np.testing.assert_array_equal(c.submission_ids[c.submission], f["submission_id"].astype(str))
    np.testing.assert_array_equal(c.reviewer_ids[c.reviewer], f["reviewer_id"].astype(str))
    np.testing.assert_array_equal(c.criterion_ids[c.criterion], f["criterion_id"].astype(str))
    assert list(c.submission_ids) == sorted(set(f["submission_id"].astype(str)))
    assert list(c.reviewer_ids) == sorted(set(f["reviewer_id"].astype(str)))
    assert list(c.criterion_ids) == list(table.rubric.criterion_ids)
    rounds = f["round_id"].astype(object)
    has_round = rounds.notna().to_numpy()
    np.testing.assert_array_equal(c.round >= 0, has_round)
    np.testing.assert_array_equal(c.round_ids[c.round[has_round]], rounds[has_round].astype(str))
    kinds = f["kind"].astype(object)
    expected_kind = [KINDS.index(k) if isinstance(k, str) else -1 for k in kinds]
    np.testing.assert_array_equal(c.kind, expected_kind)
    for i in range(0, len(f), max(1, len(f) // 200)):
        crit = table.rubric.criterion(str(f["criterion_id"].iloc[i]))
        assert crit.scores[c.level[i]] == f["score"].iloc[i]
    timed = f["rated_at"].notna().to_numpy()
    np.testing.assert_array_equal(c.timed, timed)
    assert (c.time[~timed] == NO_TIME).all()
    if timed.any():
        np.testing.assert_array_equal(
            c.time[timed], pd.DatetimeIndex(f["rated_at"][timed]).as_unit("ns").asi8
        )

    # unit: one (round, submission); its parts give back the rows' round and submission
    rnd, sub = c.unit_parts()
    np.testing.assert_array_equal(rnd[c.unit], c.round)
    np.testing.assert_array_equal(sub[c.unit], c.submission)
    assert c.n_units == len(set(zip(c.round, c.submission, strict=True)))
    assert (np.diff(rnd * (c.n_submissions + 1) + sub) > 0).all()  # sorted, round first
    # cell: one (unit, criterion)
    cells = c.cell()
    assert len(np.unique(cells)) == len(set(zip(c.unit, c.criterion, strict=True)))
    assert (pd.Series(c.unit).groupby(cells).nunique() == 1).all()
    # review: one (round, submission, reviewer)
    rnd, sub, rev = c.review_parts()
    np.testing.assert_array_equal(rnd[c.review], c.round)
    np.testing.assert_array_equal(sub[c.review], c.submission)
    np.testing.assert_array_equal(rev[c.review], c.reviewer)
    assert c.n_reviews == len(set(zip(c.round, c.submission, c.reviewer, strict=True)))


def test_codes_match_the_frame(table: RatingsTable) -> None:
    _check(table)


def test_codes_are_built_once(table: RatingsTable) -> None:
    assert table.codes is table.codes


@pytest.mark.parametrize("kind", ["anchor", "live", "seeded"])
def test_codes_of_a_selection_number_only_what_it_holds(table: RatingsTable, kind: str) -> None:
    sub = table.select(kind=kind)
    if len(sub) == 0:
        pytest.skip(f"no {kind} ratings in this program")
    _check(sub)
    assert sub.codes.n_submissions == sub.frame["submission_id"].nunique()
    assert sub.codes.submission.max() == sub.codes.n_submissions - 1


def _hand_built_frame() -> pd.DataFrame:
    """Plain columns (not the canonical categoricals), a blank round and kind, ids whose
    text order is not their number order."""
    return pd.DataFrame(
        {
            "submission_id": ["s2", "s1", "s2", "s10"],
            "reviewer_id": ["b", "a", "a", "b"],
            "criterion_id": ["reflection", "overview", "overview", "reflection"],
            "score": [4, 1, 3, 2],
            "rated_at": pd.to_datetime(["2026-01-02", None, "2026-01-01", "2026-01-03"], utc=True),
            "round_id": [None, "r1", "r1", None],
            "kind": ["live", "anchor", "anchor", None],
        }
    )


def test_codes_of_a_hand_built_frame(evidence_rubric) -> None:
    frame = _hand_built_frame()
    t = RatingsTable(frame, evidence_rubric)
    _check(t)
    assert list(t.codes.submission_ids) == ["s1", "s10", "s2"]
    np.testing.assert_array_equal(t.codes.level, [3, 0, 2, 1])


def test_a_score_that_is_no_level_is_named(evidence_rubric) -> None:
    with pytest.raises(ValueError, match="not levels of their criterion"):
        level_codes(evidence_rubric, np.array([0, 1]), np.array([1, 7]))


def test_compact_keeps_order_and_missing() -> None:
    codes, old = compact(np.array([5, -1, 2, 5, 7]), 8)
    np.testing.assert_array_equal(codes, [1, -1, 0, 1, 2])
    np.testing.assert_array_equal(old, [2, 5, 7])
    codes, old = compact(np.array([-1, -1]), 0)  # nothing present (a table with no rounds)
    np.testing.assert_array_equal(codes, [-1, -1])
    assert len(old) == 0


def test_codes_of_a_table_without_rounds_or_kinds(evidence_rubric) -> None:
    frame = canonical_frame(["s1", "s1"], ["a", "b"], ["overview"] * 2, [3, 2], evidence_rubric)
    t = RatingsTable(frame, evidence_rubric)
    _check(t)
    assert t.codes.n_rounds == 0 and (t.codes.round == -1).all() and (t.codes.kind == -1).all()


def test_latest_round_is_the_round_rated_last(evidence_rubric) -> None:
    """RatingsTable.latest_round: by the latest rated_at, else the last in sorted order."""
    args = (["s1", "s2", "s3"], ["a"] * 3, ["overview"] * 3, [3, 2, 1], evidence_rubric)
    when = pd.to_datetime(["2026-01-01", "2026-03-01", "2026-05-01"], utc=True)
    rounds = ["R2", "R1", None]
    timed = RatingsTable(canonical_frame(*args, rated_at=when, round_id=rounds), evidence_rubric)
    assert timed.latest_round == "R1"  # the unrounded rating, later still, does not count
    untimed = RatingsTable(canonical_frame(*args, round_id=rounds), evidence_rubric)
    assert untimed.latest_round == "R2"
    assert RatingsTable(canonical_frame(*args), evidence_rubric).latest_round is None


def _same_codes(a, b) -> None:
    for name in ("submission", "reviewer", "criterion", "level", "score", "round", "kind", "time"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("submission_ids", "reviewer_ids", "criterion_ids", "round_ids"):
        assert list(getattr(a, name)) == list(getattr(b, name)), name


def test_criterion_codes_are_the_codes_of_that_criterion_alone(table: RatingsTable) -> None:
    for criterion in table.rubric.criterion_ids:
        alone = table.select(criterion=criterion)
        _check(alone)
        _same_codes(table.criterion_codes(criterion), alone.codes)
        assert table.criterion_codes(criterion) is table.criterion_codes(criterion)


def test_criterion_codes_of_a_hand_built_frame(evidence_rubric) -> None:
    frame = _hand_built_frame()
    t = RatingsTable(frame, evidence_rubric)
    c = t.criterion_codes("reflection")
    assert list(c.submission_ids) == ["s10", "s2"] and list(c.reviewer_ids) == ["b"]
    np.testing.assert_array_equal(c.submission, [1, 0])
    np.testing.assert_array_equal(c.level, [3, 1])
    assert c.n_rounds == 0 and (c.kind == [KINDS.index("live"), -1]).all()


def test_codes_are_built_as_they_are_read(table: RatingsTable) -> None:
    fresh = RatingsTable(table.frame, table.rubric)
    c = fresh.codes
    c.level  # noqa: B018
    built = set(vars(c))
    assert {"level", "criterion", "score"} <= built
    assert not {"time", "kind", "_submissions", "_rounds"} & built  # not read, not built
