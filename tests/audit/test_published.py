"""Published G-study examples (Brennan 2001): T terms, variance components, E rho^2 and Phi.

Every value is checked to half a unit of its last published decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from calibrate.audit import d_study, g_study_frame

DATA = Path(__file__).parent / "data"
SETS = sorted(p.name for p in DATA.iterdir() if (p / "expected.json").is_file())


def _tolerance(value: float) -> float:
    """Half a unit in the last decimal the book prints."""
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return 0.5 * 10.0 ** min(int(exponent), 0) + 1e-12


def _fit(name: str):
    expected = json.loads((DATA / name / "expected.json").read_text())
    frame = pd.read_csv(DATA / name / "data.csv")
    design = expected["design"]
    res = g_study_frame(
        frame,
        score="score",
        target=design["target"],
        facets=design["facets"],
        nested=design["nested"],
        n_resamples=0,
    )
    return res, expected


def test_three_examples_are_stored():
    assert len(SETS) == 3


@pytest.mark.parametrize("name", SETS, ids=SETS)
def test_t_terms(name):
    res, expected = _fit(name)
    for effect, value in expected["t_terms"].items():
        assert res.t_terms[effect] == pytest.approx(value, abs=_tolerance(value)), effect


@pytest.mark.parametrize("name", SETS, ids=SETS)
def test_variance_components(name):
    res, expected = _fit(name)
    assert set(res.names) == set(expected["variance"])
    overrides = expected.get("tolerance_overrides", {})  # each explained in expected.json
    for effect, value in expected["variance"].items():
        tol = overrides.get(effect, _tolerance(value))
        assert res.component(effect) == pytest.approx(value, abs=tol), effect


@pytest.mark.parametrize("name", SETS, ids=SETS)
def test_coefficients(name):
    res, expected = _fit(name)
    ds = expected["d_study"]
    g_rel, g_abs = res.coefficients(ds["sizes"])
    assert g_rel == pytest.approx(ds["g_relative"], abs=_tolerance(ds["g_relative"]))
    assert g_abs == pytest.approx(ds["g_absolute"], abs=_tolerance(ds["g_absolute"]))
    table = d_study(res, sizes=ds["sizes"]).to_frame()
    assert table["g_relative"].iloc[0] == pytest.approx(g_rel)
    assert table["g_absolute"].iloc[0] == pytest.approx(g_abs)


def test_balanced_sample_sizes_are_the_design():
    res, _ = _fit("brennan2001_synthetic4_px_r_in_t")
    assert res.sample_sizes == {"t": 3.0, "r": 4.0}
    assert res.design == "p x (r:t)"


def test_fixed_facet_coefficients():
    """Brennan (2001) ch. 4: Synthetic Data Set No. 3 with items fixed, n'_i = 4, n'_o = 2."""
    res, expected = _fit("brennan2001_synthetic3_pxixo")
    ds = expected["d_study_fixed"]
    row = d_study(res, sizes=ds["sizes"], fixed=ds["fixed"]).to_frame().iloc[0]
    assert row["g_relative"] == pytest.approx(ds["g_relative"], abs=_tolerance(ds["g_relative"]))
    assert row["g_absolute"] == pytest.approx(ds["g_absolute"], abs=_tolerance(ds["g_absolute"]))
