"""The tidy reliability table: columns, values equal to the direct coefficient calls,
breakdowns, decision reliability, bands, pair agreement and the plots."""

from __future__ import annotations

import math

import krippendorff
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from calibrate.io import read_program, read_ratings
from calibrate.reliability import (
    TABLE_COLUMNS,
    CodedRatings,
    bootstrap,
    cohen_kappa_table,
    decision_ratings,
    interpretation_band,
    pair_agreement,
    reliability_table,
)
from calibrate.reliability._bootstrap import COEFFICIENTS


@pytest.fixture(scope="module")
def district():
    return read_program("data/synthetic/district")


@pytest.fixture(scope="module")
def live(district):
    return district.ratings.select(kind="live")


@pytest.fixture(scope="module")
def table(live):
    return reliability_table(live)


# A hand-made program: the evidence rubric's pass rule is "every criterion >= 3".
HAND = """submission_id,reviewer_id,criterion_id,score
S1,R1,overview,3
S1,R1,artifacts,3
S1,R1,reflection,3
S1,R2,overview,3
S1,R2,artifacts,2
S1,R2,reflection,3
S2,R1,overview,4
S2,R1,artifacts,4
S2,R1,reflection,3
S2,R2,overview,3
S2,R2,artifacts,3
S2,R2,reflection,4
S3,R1,overview,1
S3,R1,artifacts,2
S3,R1,reflection,2
S3,R2,overview,2
S3,R2,artifacts,2
S3,R2,reflection,1
S4,R1,overview,3
S4,R1,artifacts,3
S4,R1,reflection,3
S4,R2,overview,3
S4,R2,artifacts,3
S5,R2,overview,4
S5,R2,artifacts,4
S5,R2,reflection,4
S5,R3,overview,4
S5,R3,artifacts,3
S5,R3,reflection,3
"""


@pytest.fixture
def hand(tmp_path, evidence_rubric):
    path = tmp_path / "hand.csv"
    path.write_text(HAND)
    return read_ratings(path, evidence_rubric)


# ---- shape -------------------------------------------------------------------------------
def test_columns_and_rows(table, live) -> None:
    keyless = [
        c
        for c in TABLE_COLUMNS
        if c not in ("round_id", "reviewer_a", "reviewer_b", "rubric_version")
    ]
    assert list(table.columns) == keyless
    criteria = [*live.rubric.criterion_ids, "decision"]
    assert list(dict.fromkeys(table["criterion_id"])) == criteria
    assert set(table["coefficient"]) <= set(COEFFICIENTS)
    per = table[table["criterion_id"] == "goals"]
    assert per[["coefficient", "level"]].values.tolist() == [
        ["krippendorff_alpha", "ordinal"],
        ["percent_agreement", "exact"],
        ["percent_agreement", "within_one"],
        ["fleiss_kappa", "quadratic"],
        ["conger_kappa", "quadratic"],
        ["gwet_ac2", "quadratic"],
        ["brennan_prediger", "quadratic"],
        ["icc", "ICC(2,1)"],
    ]
    dec = table[table["criterion_id"] == "decision"]
    assert dec[["coefficient", "level"]].values.tolist() == [
        ["krippendorff_alpha", "nominal"],
        ["percent_agreement", "exact"],
        ["fleiss_kappa", "identity"],
        ["conger_kappa", "identity"],
        ["gwet_ac1", "identity"],
        ["brennan_prediger", "identity"],
    ]
    assert (table["n_units"] == 600).all()
    assert set(table["ci_method"]) == {"analytic", "F-approximate"}


# ---- values equal the direct calls -------------------------------------------------------
DIRECT = [
    ("krippendorff_alpha", "ordinal", {"level": "ordinal"}),
    ("percent_agreement", "exact", {"level": "exact"}),
    ("percent_agreement", "within_one", {"level": "within_one"}),
    ("fleiss_kappa", "quadratic", {"weights": "quadratic"}),
    ("conger_kappa", "quadratic", {"weights": "quadratic"}),
    ("gwet_ac2", "quadratic", {"weights": "quadratic"}),
    ("brennan_prediger", "quadratic", {"weights": "quadratic"}),
    ("icc", "ICC(2,1)", {"form": "ICC(2,1)"}),
]


@pytest.mark.parametrize(
    ("name", "level", "options"), DIRECT, ids=[f"{n}-{lv}" for n, lv, _ in DIRECT]
)
def test_rows_equal_the_direct_calls(table, live, name: str, level: str, options: dict) -> None:
    for criterion in live.rubric.criterion_ids:
        direct = COEFFICIENTS[name](CodedRatings.from_ratings_table(live, criterion), **options)
        row = table[
            (table["criterion_id"] == criterion)
            & (table["coefficient"] == name)
            & (table["level"] == level)
        ].iloc[0]
        assert row["estimate"] == pytest.approx(direct.estimate, abs=1e-12)
        assert row["se"] == pytest.approx(direct.se, abs=1e-12, nan_ok=True)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(direct.ci, abs=1e-12)
        assert row["n_units"] == direct.n_units and row["n_pairable"] == direct.n_pairable
        band = tuple(v if isinstance(v, str) else None for v in (row["band"], row["band_source"]))
        assert band == interpretation_band(name, direct.estimate)


def test_decision_rows_equal_the_direct_calls(table, live) -> None:
    coded = CodedRatings.from_ratings_table(decision_ratings(live))
    for name, level, options in [
        ("krippendorff_alpha", "nominal", {"level": "nominal"}),
        ("gwet_ac1", "identity", {}),
        ("conger_kappa", "identity", {}),
    ]:
        row = table[(table["criterion_id"] == "decision") & (table["coefficient"] == name)].iloc[0]
        assert row["level"] == level
        assert row["estimate"] == pytest.approx(
            COEFFICIENTS[name](coded, **options).estimate, abs=1e-12
        )


def test_overall_pools_criteria(live) -> None:
    """by=(): a unit is a submission's criterion; checked against a pivot and krippendorff."""
    overall = reliability_table(live, by=(), coefficients=["krippendorff_alpha"], decision=False)
    assert overall[["criterion_id", "coefficient"]].values.tolist() == [
        ["all", "krippendorff_alpha"]
    ]
    f = live.frame
    wide = f.pivot_table(
        index=["submission_id", "criterion_id"],
        columns="reviewer_id",
        values="score",
        observed=True,
    )
    theirs = krippendorff.alpha(reliability_data=wide.to_numpy().T, level_of_measurement="ordinal")
    assert overall["estimate"].iloc[0] == pytest.approx(theirs, abs=1e-9)
    assert overall["n_units"].iloc[0] == len(wide)


def test_by_round_treats_each_round_apart(district) -> None:
    anchors = district.ratings.select(kind="anchor")
    rounds = reliability_table(
        anchors,
        by="criterion,round",
        coefficients=["krippendorff_alpha", "fleiss_kappa"],
        level="interval",
    )
    assert list(rounds.columns[:4]) == ["coefficient", "level", "criterion_id", "round_id"]
    assert set(rounds["round_id"]) == set(anchors.rounds)
    r2 = anchors.select(round_id="R2")
    row = rounds[
        (rounds["criterion_id"] == "norms")
        & (rounds["round_id"] == "R2")
        & (rounds["coefficient"] == "krippendorff_alpha")
    ].iloc[0]
    assert row["level"] == "interval"
    direct = COEFFICIENTS["krippendorff_alpha"](
        CodedRatings.from_ratings_table(r2, "norms"), level="interval"
    )
    assert row["estimate"] == pytest.approx(direct.estimate, abs=1e-12)
    # without 'round' a unit is still a submission within a round
    pooled = reliability_table(anchors, coefficients=["krippendorff_alpha"], decision=False)
    per_round = anchors.frame.groupby(["round_id", "submission_id"], observed=True).ngroups
    assert (pooled["n_units"] == per_round).all()


def test_the_same_anchor_in_two_rounds_is_two_units(evidence_rubric, tmp_path) -> None:
    path = tmp_path / "rounds.csv"
    rows = ["submission_id,reviewer_id,criterion_id,score,round_id"]
    for rnd, scores in (("R1", (3, 3, 2, 2, 4, 3)), ("R2", (3, 3, 2, 3, 4, 4))):
        for i, anchor in enumerate(("A1", "A2", "A3")):
            rows += [
                f"{anchor},R1,overview,{scores[2 * i]},{rnd}",
                f"{anchor},R2,overview,{scores[2 * i + 1]},{rnd}",
            ]
    path.write_text("\n".join(rows) + "\n")
    ratings = read_ratings(path, evidence_rubric)
    out = reliability_table(ratings, coefficients=["percent_agreement"], decision=False)
    assert out["level"].tolist() == ["exact", "within_one"] and out["n_units"].tolist() == [6, 6]
    assert out["estimate"].iloc[0] == pytest.approx(4 / 6)


def test_pair_rows_equal_cohen_kappa_of_the_pair_table(live) -> None:
    pairs = reliability_table(live, by=["criterion", "pair"], min_pair_units=15, decision=False)
    rows = pairs[pairs["reviewer_a"].notna()]
    assert len(rows) > 0 and set(rows["coefficient"]) == {"cohen_kappa"}
    assert (rows["n_units"] >= 15).all() and (rows["reviewer_a"] < rows["reviewer_b"]).all()
    for _, row in rows.head(5).iterrows():
        t = live.pair_table(row["reviewer_a"], row["reviewer_b"], row["criterion_id"])
        direct = cohen_kappa_table(t, weights="quadratic")
        assert row["estimate"] == pytest.approx(direct.estimate, abs=1e-12)
        assert row["n_units"] == direct.n_units
    group_rows = pairs[pairs["reviewer_a"].isna()]
    assert "cohen_kappa" not in set(group_rows["coefficient"])  # 30 reviewers per criterion


def test_nominal_level_switches_coefficients(live) -> None:
    nominal = reliability_table(live, level="nominal", decision=False)
    goals = nominal[nominal["criterion_id"] == "goals"]
    assert goals[["coefficient", "level"]].values.tolist() == [
        ["krippendorff_alpha", "nominal"],
        ["percent_agreement", "exact"],
        ["fleiss_kappa", "identity"],
        ["conger_kappa", "identity"],
        ["gwet_ac1", "identity"],
        ["brennan_prediger", "identity"],
    ]


def test_bootstrap_rows(live) -> None:
    small = live.select(criterion=["goals", "norms"])
    a = reliability_table(
        small, coefficients=["krippendorff_alpha", "gwet_ac2"], bootstrap=100, rng=3, decision=False
    )
    b = reliability_table(
        small, coefficients=["krippendorff_alpha", "gwet_ac2"], bootstrap=100, rng=3, decision=False
    )
    assert (a["ci_method"] == "bootstrap-bca").all()
    pd.testing.assert_frame_equal(a, b)
    assert ((a["ci_low"] <= a["estimate"]) & (a["estimate"] <= a["ci_high"])).all()
    pct = reliability_table(
        small,
        coefficients=["krippendorff_alpha"],
        bootstrap=100,
        method="percentile",
        rng=3,
        decision=False,
    )
    assert (pct["ci_method"] == "bootstrap-percentile").all()


def test_a_groups_intervals_do_not_depend_on_the_other_coefficients(live) -> None:
    """One seed per group: Conger's kappa's bootstrap interval is the same asked alone or
    beside alpha and the ICC (which draws the resamples Conger's kappa then reuses), and
    each row equals bootstrap() with the group's seed (ordinal: quadratic weights)."""
    small = live.select(criterion=["goals", "norms"])
    common = {"bootstrap": 60, "rng": 5, "decision": False}
    alone = reliability_table(small, coefficients=["conger_kappa"], **common)
    beside = reliability_table(
        small, coefficients=["krippendorff_alpha", "icc", "conger_kappa"], **common
    )
    beside = beside[beside["coefficient"] == "conger_kappa"].reset_index(drop=True)
    cols = ["criterion_id", "estimate", "se", "ci_low", "ci_high", "ci_method", "note"]
    pd.testing.assert_frame_equal(alone[cols], beside[cols])
    seeds = np.random.default_rng(5).integers(0, 2**63, size=2)
    for seed, crit in zip(seeds, ["goals", "norms"], strict=True):
        coded = CodedRatings.from_ratings_table(small, crit)
        direct = bootstrap(
            "conger_kappa", coded, n_resamples=60, rng=int(seed), weights="quadratic"
        )
        row = alone[alone["criterion_id"] == crit].iloc[0]
        assert (row["ci_low"], row["ci_high"]) == direct.ci


# ---- decisions ---------------------------------------------------------------------------
def test_decision_ratings_on_a_hand_made_example(hand) -> None:
    dec = decision_ratings(hand)
    got = {
        (s, r): v
        for s, r, v in dec.frame[["submission_id", "reviewer_id", "score"]].itertuples(index=False)
    }
    # S4/R2 left out: reflection unscored
    assert got == {
        ("S1", "R1"): 1,
        ("S1", "R2"): 0,
        ("S2", "R1"): 1,
        ("S2", "R2"): 1,
        ("S3", "R1"): 0,
        ("S3", "R2"): 0,
        ("S4", "R1"): 1,
        ("S5", "R2"): 1,
        ("S5", "R3"): 1,
    }
    assert dec.rubric.criterion_ids == ("decision",)
    rows = reliability_table(hand, by=(), coefficients=["krippendorff_alpha", "percent_agreement"])
    dec_rows = rows[rows["criterion_id"] == "decision"].set_index("coefficient")
    # coincidences: S1 (1, 0), S2 (1, 1), S3 (0, 0), S5 (1, 1): o = [[2, 1], [1, 4]], n = 8;
    # alpha = 1 - (2/8) / (2 * 3 * 5 / (8 * 7)) = 16/30
    assert dec_rows.loc["krippendorff_alpha", "estimate"] == pytest.approx(16 / 30, abs=1e-12)
    assert dec_rows.loc["percent_agreement", "estimate"] == pytest.approx(0.75, abs=1e-12)
    assert dec_rows.loc["krippendorff_alpha", "n_units"] == 5
    assert (
        "1 reviewer score set(s) with a criterion unscored left out of the decisions"
        in dec_rows.loc["krippendorff_alpha", "note"]
    )
    wide = np.array([[1, 0], [1, 1], [0, 0], [1, np.nan], [1, 1]], dtype=float)
    assert 16 / 30 == pytest.approx(
        krippendorff.alpha(reliability_data=wide.T, level_of_measurement="nominal"), abs=1e-12
    )


def test_decision_ratings_rubric_must_match(hand, hybrid_rubric) -> None:
    with pytest.raises(ValueError, match="rubric must have the ratings' criteria"):
        decision_ratings(hand, hybrid_rubric)


# ---- bands -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("coefficient", "value", "band"),
    [
        ("krippendorff_alpha", 0.6669, "unacceptable (< .667)"),
        ("krippendorff_alpha", 0.667, "tentative (.667-.800)"),
        ("krippendorff_alpha", 0.8, "acceptable (>= .800)"),
        ("fleiss_kappa", -0.1, "poor (< 0)"),
        ("cohen_kappa", 0.2, "slight (0-.20)"),
        ("gwet_ac1", 0.2001, "fair (.21-.40)"),
        ("conger_kappa", 0.8, "substantial (.61-.80)"),
        ("brennan_prediger", 0.95, "almost perfect (.81-1)"),
        ("icc", 0.49, "poor (< .50)"),
        ("icc", 0.75, "good (.75-.90)"),
        ("icc", 0.95, "excellent (> .90)"),
        ("percent_agreement", 0.9, None),
        ("krippendorff_alpha", math.nan, None),
    ],
)
def test_interpretation_bands(coefficient: str, value: float, band: str | None) -> None:
    got, source = interpretation_band(coefficient, value)
    assert got == band
    assert (source is None) == (band is None)


def test_band_sources_are_named() -> None:
    assert interpretation_band("krippendorff_alpha", 0.7)[1].startswith("Krippendorff (2004)")
    assert interpretation_band("gwet_ac2", 0.7)[1] == "Landis & Koch (1977)"
    assert interpretation_band("icc", 0.7)[1] == "Koo & Li (2016)"


# ---- bad options -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"level": "ordnial"},
            "level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got 'ordnial'",
        ),
        (
            {"by": "criterion,reviewer"},
            "by must be one of 'criterion', 'round', 'pair', 'rubric_version', 'attempt'; got 'reviewer'",
        ),
        ({"coefficients": ["alpha"]}, "coefficients must be one of 'krippendorff_alpha'"),
        ({"bootstrap": -5}, "bootstrap must be a number of resamples >= 0; got -5"),
        ({"bootstrap": 1}, "bootstrap must be 0 (no bootstrap) or at least 2 resamples; got 1"),
        ({"method": "basic"}, "method must be one of 'bca', 'percentile'; got 'basic'"),
        ({"confidence_level": 95}, "confidence_level must be between 0 and 1"),
        ({"min_pair_units": 0}, "min_pair_units must be a whole number >= 1; got 0"),
    ],
)
def test_bad_options_are_named(hand, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        reliability_table(hand, **kwargs)


def test_undefined_rows_say_why(evidence_rubric, tmp_path) -> None:
    path = tmp_path / "same.csv"
    path.write_text(
        "submission_id,reviewer_id,criterion_id,score\nS1,R1,overview,3\nS1,R2,overview,3\nS2,R1,overview,3\nS2,R2,overview,3\n"
    )
    rows = reliability_table(
        read_ratings(path, evidence_rubric), coefficients=["krippendorff_alpha"], decision=False
    )
    row = rows.iloc[0]
    assert math.isnan(row["estimate"]) and "no variation" in row["note"] and pd.isna(row["band"])


# ---- pair agreement and plots ----------------------------------------------------------------
def test_pair_agreement_on_the_hand_example(hand) -> None:
    pairs = pair_agreement(hand).set_index(["reviewer_a", "reviewer_b"])
    # R1-R2 share S1-S4: 11 items (S4 reflection only R1); exact on 5 of them
    r12 = pairs.loc[("R1", "R2")]
    assert r12["n_submissions"] == 4 and r12["n_shared"] == 11
    assert r12["exact"] == pytest.approx(5 / 11)
    assert r12["within_one"] == pytest.approx(11 / 11)
    assert pairs.loc[("R2", "R3"), "n_shared"] == 3
    assert pair_agreement(hand, min_shared=2).index.size == 1
    with pytest.raises(ValueError, match="min_shared must be a whole number >= 1; got 0"):
        pair_agreement(hand, min_shared=0)


def test_plots(table, live) -> None:
    from calibrate.plots import plot_pair_agreement, plot_reliability_forest

    fig = plot_reliability_forest(table, coefficients=["krippendorff_alpha", "gwet_ac2"])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        *live.rubric.criterion_ids,
        "decision",
    ]
    plt.close(fig)
    fig = plot_pair_agreement(live, top=12, measure="within_one")
    assert len(fig.axes[0].get_xticks()) == 12
    plt.close(fig)
    with pytest.raises(ValueError, match="measure must be one of 'exact', 'within_one'"):
        plot_pair_agreement(live, measure="kappa")
    with pytest.raises(ValueError, match="coefficients must be among those in the table"):
        plot_reliability_forest(table, coefficients=["icc", "nope"])
    with pytest.raises(TypeError, match="table must be a reliability_table"):
        plot_reliability_forest(pd.DataFrame({"x": [1]}))
