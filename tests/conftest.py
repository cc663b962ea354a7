"""Shared fixtures. Tests run from any folder; paths are anchored at the repo root."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUBRICS = ROOT / "rubrics"


@pytest.fixture(autouse=True)
def _repo_root_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    # Docstring examples and CLI calls use repo-relative paths.
    monkeypatch.chdir(ROOT)


@pytest.fixture(autouse=True)
def _no_global_rng() -> None:
    """Fail any test that draws from numpy's global RNG (randomness goes through rng=)."""
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the guard itself reads it)
    yield
    if not np.array_equal(state, np.random.get_state()[1]):  # noqa: NPY002
        pytest.fail("the test touched numpy's global random state; pass rng= instead")


@pytest.fixture(scope="session")
def evidence_rubric():
    from calibrate.rubric import load_rubric

    return load_rubric(RUBRICS / "evidence-4level.yaml")


@pytest.fixture(scope="session")
def hybrid_rubric():
    from calibrate.rubric import load_rubric

    return load_rubric(RUBRICS / "discussion-hybrid.yaml")


@pytest.fixture(scope="session")
def binary_rubric():
    from calibrate.rubric import load_rubric

    return load_rubric(RUBRICS / "met-not-yet.yaml")


os.environ.setdefault("MPLBACKEND", "Agg")
