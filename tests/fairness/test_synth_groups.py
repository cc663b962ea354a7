"""``calibrate synth`` with group attributes and planted reviewer x group bias."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from calibrate.fairness import fairness
from calibrate.synth import SynthSpec, generate, program_files, write_program

RUBRIC = "rubrics/evidence-4level.yaml"
BASE = SynthSpec(n_submissions=300, n_reviewers=8, seed=11)


def test_no_groups_is_byte_for_byte_the_old_program():
    # the group fields at their defaults leave the spec's dict, truth and files alone
    assert "n_groups" not in BASE.to_dict() and "group_bias" not in BASE.to_dict()
    plain = program_files(generate(RUBRIC, BASE))
    assert b"group" not in plain["truth.json"] and b"group" not in plain["ratings.csv"]


def test_groups_without_bias_leave_every_score_unchanged():
    plain = generate(RUBRIC, BASE)
    grouped = generate(RUBRIC, dataclasses.replace(BASE, n_groups=4))
    pd.testing.assert_frame_equal(plain.ratings, grouped.ratings)
    assert sorted(set(grouped.attributes["group"])) == ["G1", "G2", "G3", "G4"]
    assert len(grouped.attributes) == BASE.n_submissions


def test_planted_bias_lowers_the_biased_reviewers_scores_on_g1_only(tmp_path):
    spec = SynthSpec(
        n_submissions=3000, n_reviewers=12, seed=5, n_groups=3, n_group_biased=2, group_bias=0.5
    )
    plain = generate(RUBRIC, dataclasses.replace(spec, n_group_biased=0))
    biased = generate(RUBRIC, spec)
    who = biased.truth["groups"]["biased_reviewers"]
    assert len(who) == 2 and biased.truth["groups"]["biased_against"] == "G1"
    group = biased.attributes.set_index("submission_id")["group"]
    # the first two reviews of a live submission are drawn the same way in both programs
    # (who reviews after them may differ): join the live scores on who scored what
    keys = ["submission_id", "reviewer_id", "criterion_id"]
    a = plain.ratings[plain.ratings["kind"] == "live"]
    b = biased.ratings[biased.ratings["kind"] == "live"]
    both = (
        a[keys + ["score"]]
        .astype({k: str for k in keys})
        .merge(b[keys + ["score"]].astype({k: str for k in keys}), on=keys, suffixes=("_a", "_b"))
    )
    hit = both["reviewer_id"].isin(who) & (both["submission_id"].map(group) == "G1")
    drop = both["score_a"] - both["score_b"]
    assert drop[hit].mean() > 0.3  # half a point before rounding and clipping
    assert (drop[~hit] == 0).mean() > 0.95
    folder = write_program(biased, tmp_path / "p")
    head = (folder / "ratings.csv").read_text().splitlines()[0]
    assert head.endswith(",group")
    result = fairness(biased.ratings_table(), by="group", attributes=biased.attributes)
    flagged = set(map(tuple, result.flagged[["reviewer_id", "group"]].to_numpy().tolist()))
    # (a strong bias against a large group also flags other reviewers' cells: the anchored
    # bias terms are contrasts with the group's abilities, which absorb part of it)
    # (a strong bias against a large group also flags other reviewers' cells: the anchored
    # bias terms are contrasts with the group's abilities, which absorb part of it)
    assert flagged == {(r, "G1") for r in who}


def test_group_settings_are_checked():
    with pytest.raises(ValueError, match="n_group_biased needs n_groups"):
        SynthSpec(n_group_biased=1)
    with pytest.raises(ValueError, match="n_group_biased must be at most"):
        SynthSpec(n_reviewers=4, n_groups=2, n_group_biased=5)
