"""Shared data for the severity tests: small synthetic programs and the sirt essays."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def sirt_table():
    from calibrate.io import read_ratings
    from calibrate.rubric import load_rubric

    return read_ratings(DATA / "sirt_ratings1.csv", load_rubric(DATA / "sirt-ratings1.yaml"))


@pytest.fixture(scope="session")
def small_program():
    from calibrate.synth import SynthSpec, generate

    return generate(
        "rubrics/evidence-4level.yaml", SynthSpec(n_submissions=300, n_reviewers=8, seed=11)
    )
