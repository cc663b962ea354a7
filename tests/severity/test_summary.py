"""severity_summary: the reviewer table behind ``calibrate severity``, built from the two
fitted models (the join is checked against the models' own tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.severity import DawidSkene, ManyFacetRasch, severity_summary


@pytest.fixture(scope="module")
def table(small_program):
    return small_program.ratings_table()


@pytest.fixture(scope="module")
def key(small_program):
    return small_program.answer_key()


@pytest.fixture(scope="module")
def summary(table, key):
    return severity_summary(table, key)


def test_reviewer_rows_join_both_models(table, key, summary) -> None:
    rasch = ManyFacetRasch().fit(table)
    ds = DawidSkene().fit(table, key=key)
    rows = summary.reviewers.set_index("reviewer_id")
    assert len(rows) == table.n_reviewers
    # harshest first, and the Rasch columns are the model's own
    assert np.all(np.diff(summary.reviewers["severity"].to_numpy()) <= 0)
    ref = rasch.reviewers_.set_index("reviewer_id").loc[rows.index]
    np.testing.assert_array_equal(rows["severity"], ref["severity"])
    np.testing.assert_array_equal(rows["se"], ref["se"])
    # accuracy: the reviewer's Dawid-Skene accuracy averaged over criteria
    acc = ds.reviewers_.groupby("reviewer_id")["accuracy"].mean().loc[rows.index]
    np.testing.assert_allclose(rows["accuracy"], acc, rtol=0, atol=1e-15)
    assert summary.keyed


def test_bias_listing_follows_bias_t(table, summary) -> None:
    bias = summary.rasch.bias_
    strong = bias.loc[bias["t"].abs() >= 2]
    assert len(summary.bias) == len(strong)
    assert (summary.bias["t"].abs() >= 2).all()
    listed = summary.reviewers.set_index("reviewer_id")["bias_criteria"]
    for reviewer, crits in listed.items():
        want = sorted(strong.loc[strong["reviewer_id"] == reviewer, "criterion_id"].astype(str))
        assert crits == want
    loose = severity_summary(table, bias_t=1.0)
    assert len(loose.bias) == int((bias["t"].abs() >= 1).sum())
    assert not loose.keyed


def test_frame_and_records(summary) -> None:
    frame = summary.to_frame()
    pd.testing.assert_frame_equal(frame, summary.reviewers)
    assert frame is not summary.reviewers
    records = summary.to_dict()
    assert [r["reviewer_id"] for r in records] == list(summary.reviewers["reviewer_id"])


def test_bad_options(table) -> None:
    with pytest.raises(ValueError, match="model"):
        severity_summary(table, model="partial")
    with pytest.raises(ValueError, match="bias_t"):
        severity_summary(table, bias_t=-1)
