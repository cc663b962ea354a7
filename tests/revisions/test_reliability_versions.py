"""``reliability_table(by=("rubric_version",))``: rows per version and the difference of
each coefficient between versions (newest minus older) with a bootstrap interval.

The difference's interval is checked by its coverage over seeds on two simulated versions
whose population Krippendorff's alpha differs by a known amount: the population values
are alpha on 400,000 simulated submissions per version (Monte Carlo SE about 0.001,
against interval half-widths about 0.25).
"""

from __future__ import annotations

import numpy as np
import pytest

from calibrate.ratings import RatingsTable, canonical_frame, combine_versions
from calibrate.reliability import krippendorff_alpha, reliability_table
from calibrate.rubric import Rubric, parse_rubric

ONE = """
id: one
title: One criterion
scale: [{score: 1, label: Not yet}, {score: 2, label: Emerging}, {score: 3, label: Met}, {score: 4, label: Strong}]
criteria: [{id: c, name: C}]
pass_rule: {min_level: 3}
"""
V1 = parse_rubric(ONE + 'version: "1.0"\n')
V2 = parse_rubric(ONE + 'version: "2.0"\nreplaces: {version: "1.0"}\n')
#: Reviewer noise SD (score points) under each version: the revision made scoring noisier.
NOISE = {"1.0": 0.45, "2.0": 0.8}


def _scores(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) scores: a latent level per submission, two reviewers with normal noise."""
    true = rng.normal(2.5, 0.9, n)
    return np.clip(np.rint(true[:, None] + rng.normal(0, noise, (n, 2))), 1, 4)


def _table(rubric: Rubric, scores: np.ndarray, tag: str) -> RatingsTable:
    n = len(scores)
    sub = np.repeat([f"S{tag}{i:04d}" for i in range(n)], 2)
    rev = np.tile(["R001", "R002"], n)
    return RatingsTable(
        canonical_frame(sub, rev, ["c"] * (2 * n), scores.ravel().astype(int), rubric), rubric
    )


def _population_difference() -> float:
    rng = np.random.default_rng(12345)
    pop = {
        v: krippendorff_alpha(_scores(400_000, s, rng), level="ordinal").estimate
        for v, s in NOISE.items()
    }
    return pop["2.0"] - pop["1.0"]


def test_rows_per_version_and_their_difference():
    rng = np.random.default_rng(0)
    a, b = _scores(80, NOISE["1.0"], rng), _scores(60, NOISE["2.0"], rng)
    both = combine_versions([_table(V1, a, "a"), _table(V2, b, "b")])
    rows = reliability_table(
        both.ratings, by="rubric_version", coefficients=["krippendorff_alpha", "gwet_ac2"],
        bootstrap=300, rng=1, decision=False,
    )  # fmt: skip
    assert rows["rubric_version"].tolist() == ["1.0", "1.0", "2.0", "2.0", "2.0 - 1.0", "2.0 - 1.0"]
    one = rows.set_index(["coefficient", "rubric_version"])
    # each version's rows are the coefficient on that version's ratings alone
    alone = krippendorff_alpha(a, level="ordinal").estimate
    assert one.loc[("krippendorff_alpha", "1.0"), "estimate"] == pytest.approx(alone, abs=1e-12)
    diff = one.loc[("krippendorff_alpha", "2.0 - 1.0")]
    want = one.loc[("krippendorff_alpha", "2.0"), "estimate"] - alone
    assert diff["estimate"] == pytest.approx(want, abs=1e-12)
    assert diff["ci_low"] < diff["estimate"] < diff["ci_high"]
    assert diff["ci_method"] == "bootstrap-percentile" and diff["n_units"] == 140
    # without a bootstrap: the difference, no interval, and a note saying how to get one
    plain = reliability_table(
        both.ratings, by=("rubric_version",), coefficients="krippendorff_alpha", decision=False
    )
    last = plain.iloc[-1]
    assert last["rubric_version"] == "2.0 - 1.0" and np.isnan(last["ci_low"])
    assert "bootstrap=N" in last["note"]


def test_rubric_version_needs_the_column():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="rubric_version column"):
        reliability_table(_table(V1, _scores(20, 0.5, rng), "a"), by=("rubric_version",))


def test_difference_interval_covers_the_population_difference():
    # 200 seeds x 200 resamples, 60 and 50 submissions: measured coverage 96.0% (192/200), mean width 0.49,
    # population difference -0.221
    truth = _population_difference()
    assert -0.25 < truth < -0.1  # the versions do differ
    covered = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        both = combine_versions(
            [
                _table(V1, _scores(60, NOISE["1.0"], rng), "a"),
                _table(V2, _scores(50, NOISE["2.0"], rng), "b"),
            ]
        )
        rows = reliability_table(
            both.ratings, by=("rubric_version",), coefficients="krippendorff_alpha",
            bootstrap=200, rng=seed, decision=False,
        )  # fmt: skip
        d = rows.iloc[-1]
        covered.append(d["ci_low"] <= truth <= d["ci_high"])
    rate = float(np.mean(covered))
    # binomial SE at 95% over 200 seeds is 1.5%: 90-99% is more than 3 SE either side
    assert 0.90 <= rate <= 0.99, rate


def test_a_changed_criterion_is_analysed_in_its_version_without_a_difference():
    from ._split import RENAMED, split_program

    _, (old, new), _ = split_program(0)
    data = new.rubric.model_dump(mode="json")
    data["replaces"] = {"version": "1.0", "criteria": {RENAMED[0]: None}}
    changed = Rubric.model_validate(data)
    both = combine_versions([old, RatingsTable(new.frame, changed)])
    assert both.dropped[["rubric_version", "criterion_id"]].values.tolist() == [["1.0", RENAMED[0]]]
    rows = reliability_table(
        both, by=("criterion", "rubric_version"), coefficients="krippendorff_alpha",
        bootstrap=50, rng=0, decision=False,
    )  # fmt: skip
    keyed = rows.set_index(["criterion_id", "rubric_version"])
    own = keyed.loc[(RENAMED[0], "1.0")]
    assert "analysed within version 1.0 only" in own["note"]
    alone = krippendorff_alpha(old.select(criterion=RENAMED[0]), level="ordinal").estimate
    assert own["estimate"] == pytest.approx(alone, abs=1e-12)
    diffs = rows.loc[rows["rubric_version"] == "2.0 - 1.0", "criterion_id"].tolist()
    assert sorted(diffs) == ["overview", "reflection"]  # none for the changed criterion
