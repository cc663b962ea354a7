"""Severity plots draw from a fitted model and reject an unfitted one."""

from __future__ import annotations

import pytest

from calibrate.plots import plot_severity, plot_severity_bias
from calibrate.severity import ManyFacetRasch


def test_plots(small_program) -> None:
    import matplotlib.pyplot as plt

    fit = ManyFacetRasch().fit(small_program.ratings_table())
    fig = plot_severity(fit, confidence_level=0.9)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == fit.severity_.idxmax()
    fig2 = plot_severity_bias(fit)
    assert fig2.axes[0].images[0].get_array().shape == (8, 3)
    plt.close("all")


def test_plot_errors(small_program) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        plot_severity(ManyFacetRasch())
    with pytest.raises(TypeError, match="ManyFacetRasch"):
        plot_severity_bias(object())
    fit = ManyFacetRasch().fit(small_program.ratings_table())
    with pytest.raises(ValueError, match="confidence_level must be between 0 and 1"):
        plot_severity(fit, confidence_level=95)
