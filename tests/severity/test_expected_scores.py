"""ManyFacetRasch.expected_scores: the expected rubric score per criterion at average severity."""

from __future__ import annotations

import numpy as np
import pytest

from calibrate.severity import ManyFacetRasch
from calibrate.synth import SynthSpec, generate


@pytest.fixture(scope="module")
def fitted():
    program = generate(
        "rubrics/evidence-4level.yaml", SynthSpec(n_submissions=120, n_reviewers=6, seed=5)
    )
    return ManyFacetRasch().fit(program.ratings_table())


def test_mean_over_criteria_is_the_fair_average(fitted):
    s = fitted.submissions_
    got = fitted.expected_scores(s["ability"].to_numpy()).mean(axis=1)
    np.testing.assert_allclose(got, s["fair_average"].to_numpy(), atol=1e-12)


def test_monotone_and_bounded(fitted):
    e = fitted.expected_scores(np.linspace(-30, 30, 61)).sum(axis=1)
    assert np.all(np.diff(e) > 0)
    assert e[0] == pytest.approx(3.0, abs=1e-6) and e[-1] == pytest.approx(12.0, abs=1e-6)
    assert fitted.expected_scores(0.0).shape == (1, 3)


def test_unfitted_says_so():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        ManyFacetRasch().expected_scores(0.0)
