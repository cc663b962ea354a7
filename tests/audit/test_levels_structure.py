"""Level use and criterion structure on hand-made ratings with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.audit import criterion_structure, level_use, rubric_audit
from calibrate.ratings import RatingsTable
from calibrate.ratings._table import canonical_frame
from calibrate.report import audit_report


def _table(rows, rubric) -> RatingsTable:
    f = pd.DataFrame(rows, columns=["submission_id", "reviewer_id", "criterion_id", "score"])
    return RatingsTable(
        canonical_frame(
            f["submission_id"], f["reviewer_id"], f["criterion_id"], f["score"], rubric
        ),
        rubric,
    )


@pytest.fixture(scope="module")
def made(evidence_rubric):
    """Submissions with a true level 1-3 on every criterion. Reviewers A-E score the true
    level (two per submission); F answers 2 or 3 at random whenever the truth is 2 or 3 (levels 2 and 3
    interchangeable), G always gives 2 (central tendency) on the first criterion and the
    same level on every criterion (halo). Level 4 is never used."""
    rng = np.random.default_rng(5)
    crits = list(evidence_rubric.criterion_ids)
    rows = []
    for s in range(120):
        truth = rng.integers(1, 4, size=len(crits))
        good = ["A", "B", "C", "D", "E"]
        reviewers = good[s % 5], good[(s + 1) % 5], "F", "G"
        for r in reviewers:
            for j, c in enumerate(crits):
                if r == "F":
                    score = int(rng.integers(2, 4)) if truth[j] in (2, 3) else int(truth[j])
                elif r == "G":
                    score = 2
                else:
                    score = int(truth[j])
                rows.append((f"S{s:03d}", r, c, score))
    return _table(rows, evidence_rubric)


def test_unused_level_and_interchangeable_levels(made, evidence_rubric):
    use = level_use(made)
    first = evidence_rubric.criterion_ids[0]
    lv = use.levels[use.levels["criterion_id"] == first].set_index("score")
    assert lv.loc[4, "unused"] and lv.loc[4, "count"] == 0
    reasons = use.flags.loc[use.flags["criterion_id"] == first, "reason"].tolist()
    assert any("level 4" in r and "never used" in r for r in reasons)
    pair = use.pairs.set_index(["reviewer_id", "criterion_id", "lower"])
    assert pair.loc[("F", first, 2), "interchangeable"]
    assert not pair.loc[("A", first, 2), "interchangeable"]
    row = use.interchangeable.set_index(["criterion_id", "lower"]).loc[(first, 2)]
    assert "F" in row["reviewer_ids"] and "A" not in row["reviewer_ids"]


def test_central_tendency(made, evidence_rubric):
    use = level_use(made)
    first = evidence_rubric.criterion_ids[0]
    rev = use.reviewers.set_index(["reviewer_id", "criterion_id"])
    assert rev.loc[("G", first), "central_tendency"]  # never leaves level 2
    assert not rev.loc[("A", first), "central_tendency"]


def test_halo_and_item_total(made):
    s = criterion_structure(made)
    halo = s.halo.set_index("reviewer_id")
    assert halo.loc["G", "halo"] and halo.loc["G", "flat_share"] == 1.0
    assert not halo.loc["A", "halo"]
    assert any(r.flag == "halo" and "reviewer G" in r.reason for r in s.flags.itertuples())
    # independent true levels across criteria: low item-total correlations are flagged
    assert (s.item_total["item_total"] < 0.3).all()
    assert set(s.flags.loc[s.flags["flag"] == "low_item_total", "criterion_id"]) == set(
        s.item_total["criterion_id"]
    )


def test_redundant_criteria(evidence_rubric):
    rng = np.random.default_rng(1)
    crits = list(evidence_rubric.criterion_ids)
    rows = []
    for s in range(60):
        level = int(rng.integers(1, 5))
        for r in ("A", "B"):
            for c in crits:
                rows.append((f"S{s}", r, c, level))  # every criterion the same: redundant
    s = criterion_structure(_table(rows, evidence_rubric))
    assert (s.flags["flag"] == "redundant").sum() == len(crits) * (len(crits) - 1)


@pytest.mark.parametrize(
    ("fn", "kwargs", "message"),
    [
        (level_use, {"rare_share": 2}, "rare_share must be a number between 0 and 1; got 2"),
        (level_use, {"min_pairs": 0}, "min_pairs must be a positive integer; got 0"),
        (
            criterion_structure,
            {"halo_ratio": -1},
            "halo_ratio must be a number between 0 and 1; got -1",
        ),
        (
            rubric_audit,
            {"target": 1.0},
            "target must be a number between 0 and 1 (exclusive); got 1.0",
        ),
        (
            rubric_audit,
            {"criteria": "mixed"},
            "criteria must be one of 'random', 'fixed'; got 'mixed'",
        ),
    ],
    ids=["rare_share", "min_pairs", "halo_ratio", "target", "criteria"],
)
def test_bad_options(made, fn, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fn(made, **kwargs)


def test_audit_report(made, tmp_path):
    audit = rubric_audit(made, n_resamples=20, rng=0)
    assert len(audit.criteria) == 4 or len(audit.criteria) == len(made.rubric.criteria)
    flags = audit.flags()
    assert {"unused_level", "halo"} <= set(flags["flag"])
    path = audit_report(audit).write(tmp_path / "r.html")
    text = path.read_text()
    assert "data:image/png;base64," in text and "never used" in text
    assert "<strong>Rubric audit</strong>" in audit._repr_html_()


def test_rubric_audit_n_boot_is_a_deprecated_alias(made):
    with pytest.warns(DeprecationWarning, match="use n_resamples="):
        old = rubric_audit(made, n_boot=0)
    new = rubric_audit(made, n_resamples=0)
    assert old.criteria.equals(new.criteria) and old.recommendation == new.recommendation
