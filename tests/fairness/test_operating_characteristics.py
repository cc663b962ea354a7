"""Operating characteristics of the reviewer x group bias flags over 20 seeds: two of 12
reviewers score group G1 half a level harder (tests/fairness/_simulate.py)."""

from __future__ import annotations

import numpy as np

from calibrate.fairness import fairness
from calibrate.rubric import load_rubric

from ._simulate import planted_program

SEEDS = range(20)


def test_planted_cells_flagged_unbiased_cells_not():
    # Issue 17: planted cells flagged at >= 90%, unbiased cells at <= 5% over >= 20 seeds.
    # Measured (seeds 0-19): planted 40/40 = 100%, unbiased 2/680 = 0.29%; 15 s.
    # (At 2400 submissions power was 90%: the anchored bias terms share part of a planted
    # bias with the reviewer's severity and the group's abilities, so cells must be large.)
    rubric = load_rubric("rubrics/evidence-4level.yaml")
    planted_hits, other_hits = [], []
    for seed in SEEDS:
        table, attrs = planted_program(rubric, seed=seed, n_submissions=3000, n_reviewers=12)
        cells = fairness(table, by="district", attributes=attrs, min_ratings=20).reviewer_groups
        planted = cells["reviewer_id"].isin(["R00", "R01"]) & (cells["group"] == "G1")
        planted_hits += cells.loc[planted, "flagged"].tolist()
        other_hits += cells.loc[~planted, "flagged"].tolist()
    power, false_rate = np.mean(planted_hits), np.mean(other_hits)
    msg = f"planted {power:.3f} of {len(planted_hits)}, unbiased {false_rate:.4f} of {len(other_hits)}"
    assert power >= 0.90, msg
    assert false_rate <= 0.05, msg
