"""The reviewer x group heat map shows each cell's own numbers (and refuses bad input)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from calibrate.fairness import fairness
from calibrate.plots import plot_fairness_bias
from calibrate.synth import SynthSpec, generate

SPEC = SynthSpec(n_submissions=300, n_reviewers=6, seed=4, n_groups=3, n_group_biased=1)


@pytest.fixture(scope="module")
def result():
    program = generate("rubrics/evidence-4level.yaml", SPEC)
    attrs = program.attributes.copy()
    attrs["tiny"] = np.where(np.arange(len(attrs)) < 4, "rare", "common")
    return fairness(program.ratings_table(), by=["group", "tiny"], attributes=attrs)


def test_cells_are_drawn_where_they_belong_with_their_numbers(result):
    fig = plot_fairness_bias(result)
    try:
        ax = fig.axes[0]
        cells = result.reviewer_groups[result.reviewer_groups["attribute"] == "group"]
        grid = ax.images[0].get_array()
        reviewers = [t.get_text() for t in ax.get_yticklabels()]
        groups = [t.get_text() for t in ax.get_xticklabels()]
        assert grid.shape == (len(reviewers), len(groups)) == (6, 3)
        texts = {
            (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
        }
        for row in cells.itertuples(index=False):
            i, j = reviewers.index(row.reviewer_id), groups.index(row.group)
            assert grid[i, j] == pytest.approx(row.estimate)
            assert texts[(i, j)].startswith(f"{row.estimate:+.2f}")
    finally:
        plt.close(fig)


def test_small_cells_show_their_count_not_an_estimate(result):
    fig = plot_fairness_bias(result, attribute="tiny")
    try:
        cells = result.reviewer_groups
        small = cells[(cells["attribute"] == "tiny") & ~cells["tested"]]
        assert len(small) > 0
        shown = {t.get_text() for t in fig.axes[0].texts}
        assert {f"n={n}" for n in small["n_ratings"]} <= shown
    finally:
        plt.close(fig)


def test_bad_input_is_named(result):
    with pytest.raises(
        ValueError, match=r"attribute must be one of \['group', 'tiny'\]; got 'school'"
    ):
        plot_fairness_bias(result, attribute="school")
    with pytest.raises(TypeError, match="result must be a calibrate.fairness.FairnessResult"):
        plot_fairness_bias(result.reviewer_groups)
