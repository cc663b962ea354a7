"""Every plot draws on the caller's Axes when given one (``ax=``) and returns the figure
it drew on; without one it makes and returns a new Figure. Bad ``ax`` is a named error.

The default figures are unchanged by ``ax=``: the SHA-256 of the PNG and SVG of 48
figures over all 13 plots matched before and after (checked when ``ax=`` was added)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from calibrate import plots as P
from calibrate.audit import rubric_audit
from calibrate.calibration import qualify, round_trends
from calibrate.drift import DriftMonitor
from calibrate.fairness import fairness
from calibrate.io import read_program
from calibrate.reliability import reliability_table
from calibrate.severity import ManyFacetRasch


@pytest.fixture(scope="module")
def pilot():
    return read_program("data/synthetic/pilot")


@pytest.fixture(scope="module")
def monitor():
    d = read_program("data/synthetic/district")
    return DriftMonitor(rng=0).fit(d.ratings, d.key)


@pytest.fixture(scope="module")
def one_panel(pilot, monitor):
    """Each one-panel plot as a function of ``ax``."""
    live = pilot.ratings.select(kind="live")
    rasch = ManyFacetRasch().fit(live)
    table = reliability_table(live)
    audit = rubric_audit(live, rng=0, n_resamples=0)
    result = qualify(pilot.ratings, pilot.key)
    trends = round_trends(pilot.ratings, pilot.key)
    subs = sorted(live.frame["submission_id"].astype(str).unique())
    attrs = pd.DataFrame(
        {
            "submission_id": subs,
            "district": ["north", "south"] * (len(subs) // 2) + ["north"] * (len(subs) % 2),
        }
    )
    fair = fairness(live, by="district", attributes=attrs)
    return {
        "severity": lambda ax: P.plot_severity(rasch, ax=ax),
        "severity_bias": lambda ax: P.plot_severity_bias(rasch, t_limit=1.0, ax=ax),
        "reliability_forest": lambda ax: P.plot_reliability_forest(table, ax=ax),
        "pair_agreement": lambda ax: P.plot_pair_agreement(live, ax=ax),
        "reviewer_agreement": lambda ax: P.plot_reviewer_agreement(result, ax=ax),
        "round_trends": lambda ax: P.plot_round_trends(trends, ax=ax),
        "group_drift": lambda ax: P.plot_group_drift(monitor, ax=ax),
        "variance_components": lambda ax: P.plot_variance_components(audit.gstudy, ax=ax),
        "d_study": lambda ax: P.plot_d_study(audit.dstudy, ax=ax),
        "level_use": lambda ax: P.plot_level_use(audit.level_use, ax=ax),
        "criterion_correlations": lambda ax: P.plot_criterion_correlations(audit.structure, ax=ax),
        "fairness_bias": lambda ax: P.plot_fairness_bias(fair, ax=ax),
    }


NAMES = [
    "severity",
    "severity_bias",
    "reliability_forest",
    "pair_agreement",
    "reviewer_agreement",
    "round_trends",
    "group_drift",
    "variance_components",
    "d_study",
    "level_use",
    "criterion_correlations",
    "fairness_bias",
]


@pytest.mark.parametrize("name", NAMES)
def test_draws_on_the_given_axes(one_panel, name) -> None:
    fig, (left, right) = plt.subplots(1, 2)
    before = plt.get_fignums()
    try:
        got = one_panel[name](right)
        assert got is fig
        assert plt.get_fignums() == before  # no figure of its own
        assert right.has_data() or right.images or right.collections or right.patches
        assert not left.has_data()  # only the given axes is drawn on
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", NAMES)
def test_makes_its_own_figure_without_ax(one_panel, name) -> None:
    from matplotlib.figure import Figure

    fig = one_panel[name](None)
    try:
        assert isinstance(fig, Figure) and fig.axes
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", ["severity", "group_drift", "d_study"])
def test_a_wrong_ax_is_a_type_error(one_panel, name) -> None:
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes; got str"):
        one_panel[name]("left")


def test_control_chart_takes_one_axes_per_panel(monitor) -> None:
    reviewer = str(monitor.checked_["reviewer_id"].iloc[0])
    fig, axes = plt.subplots(3, 2)
    try:
        got = P.plot_control_chart(monitor, reviewer, ax=axes[:, 1])
        assert got is fig
        assert all(a.has_data() for a in axes[:, 1]) and not any(a.has_data() for a in axes[:, 0])
        assert P.plot_control_chart(monitor, reviewer, ewma=False, ax=axes[:2, 0]) is fig
        with pytest.raises(ValueError, match="ax must be 3 Axes for this plot .*got 2"):
            P.plot_control_chart(monitor, reviewer, ax=axes[:2, 0])
        with pytest.raises(ValueError, match="ax must be 1 Axes .*got 2"):
            P.plot_control_chart(monitor, reviewer, ewma=False, residuals=False, ax=axes[0])
        assert (
            P.plot_control_chart(monitor, reviewer, ewma=False, residuals=False, ax=axes[0, 0])
            is fig
        )
        with pytest.raises(TypeError, match=r"ax\[1\] must be a matplotlib Axes; got int"):
            P.plot_control_chart(monitor, reviewer, ax=[axes[0, 0], 1, axes[1, 0]])
        with pytest.raises(TypeError, match="ax must be a matplotlib Axes or a sequence of 3"):
            P.plot_control_chart(monitor, reviewer, ax=3)
    finally:
        plt.close(fig)
    other = plt.figure()
    fig, axes = plt.subplots(2, 1)
    try:
        with pytest.raises(ValueError, match="one figure"):
            P.plot_control_chart(monitor, reviewer, ewma=False, ax=[axes[0], other.add_subplot()])
    finally:
        plt.close(fig)
        plt.close(other)


def test_control_chart_makes_its_panels_without_ax(monitor) -> None:
    reviewer = str(monitor.checked_["reviewer_id"].iloc[0])
    fig = P.plot_control_chart(monitor, reviewer, residuals=False)
    try:
        assert len(fig.axes) == 2
    finally:
        plt.close(fig)


def test_score_distribution_takes_one_axes_per_criterion(pilot) -> None:
    n = len(pilot.ratings.rubric.criteria)
    fig, axes = plt.subplots(1, n + 1)
    try:
        assert P.plot_score_distribution(pilot.ratings, ax=axes[1:]) is fig
        assert not axes[0].patches and all(a.patches for a in axes[1:])
        with pytest.raises(ValueError, match=f"ax must be {n} Axes .*got 1"):
            P.plot_score_distribution(pilot.ratings, ax=axes[0])
    finally:
        plt.close(fig)
    own = P.plot_score_distribution(pilot.ratings)
    try:
        assert sum(a.get_visible() for a in own.axes) == n
    finally:
        plt.close(own)
