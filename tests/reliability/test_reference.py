"""Published reference values (papers, R irr / irrCAC output, SAS, scikit-learn tests).

Every value of ``expected.json`` in the reference collection that a coefficient of
:mod:`calibrate.reliability` covers is one test case, named
``<data set>/<expected id>/<coefficient>/<statistic>``. The data and ``expected.json`` are
read from the verbatim copies in ``tests/reliability/data/`` (attribution inside each
``expected.json``); :func:`test_copies_match_shared_reference` checks them against the
shared collection beside the checkout when it is there.

Tolerances: the coefficient, its SE and observed/expected agreement use the
``tolerance`` of the JSON entry. Statistics published with fewer digits than that (z,
p-values, intervals, per-unit agreement) use half a unit in the last published digit,
and never less than the entry's tolerance.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import toeplitz

from calibrate.reliability import (
    CodedRatings,
    ReliabilityResult,
    agreement_weights,
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_table,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    krippendorff_alpha,
    percent_agreement,
)

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).parents[3] / "shared" / "reference"


# ---- loading -------------------------------------------------------------------
@cache
def _expected(folder: str) -> dict[str, dict]:
    doc = json.loads((DATA / folder / "expected.json").read_text(encoding="utf-8"))
    return {e["id"]: e for e in doc["expected"]}


@cache
def _wide(folder: str) -> pd.DataFrame:
    return pd.read_csv(DATA / folder / "data_wide.csv").set_index("unit")


@cache
def _cohen1960_table(subset: str) -> np.ndarray:
    t = pd.read_csv(DATA / "cohen1960_tables" / "table.csv")
    t = t[t["subset"] == subset]
    table = np.zeros((3, 3))
    table[t["R1"] - 1, t["R2"] - 1] = t["count"]
    return table


def _pairs_from_table(table: np.ndarray) -> np.ndarray:
    """One row (rater 1 score, rater 2 score) per counted unit, scores 1..q."""
    q = table.shape[0]
    cells = np.array([(i + 1, j + 1) for i in range(q) for j in range(q)])
    return np.repeat(cells, table.ravel().astype(int), axis=0)


def _half_ulp(x: float) -> float:
    """Half a unit in the last digit of a published number."""
    return 0.5 * 10.0 ** Decimal(repr(float(x))).normalize().as_tuple().exponent


# ---- cases ---------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    dataset: str
    entry: str
    coefficient: str
    stat: str
    compute: Callable[[], float]
    expected: float
    tol: float
    xfail: str = ""

    @property
    def id(self) -> str:
        return f"{self.dataset}/{self.entry}/{self.coefficient}/{self.stat}"


def _stat(result: Callable[[], ReliabilityResult], name: str) -> Callable[[], float]:
    def get() -> float:
        res = result()
        if name == "value":
            return res.estimate
        if name == "se":
            return res.se
        if name == "ci_low":
            return res.ci[0]
        if name == "ci_high":
            return res.ci[1]
        return res.extra[name]

    return get


def _result_cases(
    dataset: str,
    entry: dict,
    coefficient: str,
    result: Callable[[], ReliabilityResult],
    stats: dict[str, tuple[float, float]],
    xfail: dict[str, str] | None = None,
) -> list[Case]:
    cached = cache(result)
    return [
        Case(
            dataset,
            entry["id"],
            coefficient,
            stat,
            _stat(cached, stat),
            expected,
            tol,
            (xfail or {}).get(stat, ""),
        )
        for stat, (expected, tol) in stats.items()
        if expected is not None
    ]


def _loose(entry: dict, published: float) -> float:
    return max(float(entry["tolerance"]), _half_ulp(published))


# irrcac_raw4raters: R irrCAC README (R_*) and python irrCAC tests (py_*) ----------------
IRRCAC = "irrcac_raw4raters"
_PY_KRIPP_SE = (
    "python irrCAC 0.4.4's SE for Krippendorff's alpha (0.145574) differs from R irrCAC's "
    "(0.14548, reproduced by R_krippendorff); we follow R"
)
_PY_KRIPP_CI = (
    "python irrCAC uses t with (units with 2+ ratings) - 1 df for alpha's interval; "
    "R irrCAC, which we follow (R_krippendorff), uses (rated units) - 1"
)


def _irrcac_weights(form: str) -> str | np.ndarray:
    if form.startswith("weights=custom:"):
        return np.array(json.loads(form.split(":", 1)[1]))
    if form.startswith("weights="):
        return form.split("=", 1)[1]
    return "identity"  # irrCAC's "unweighted"


def _irrcac_result(entry: dict) -> Callable[[], ReliabilityResult]:
    coef, w = entry["coefficient"], _irrcac_weights(entry["level_or_form"])

    def run() -> ReliabilityResult:
        data = _wide(IRRCAC)
        if coef == "percent_agreement":
            return percent_agreement(data)
        if coef == "gwet_ac1":
            return gwet_ac1(data)
        if coef == "gwet_ac1_ac2":
            return gwet_ac2(data, weights=w)
        if coef == "fleiss_kappa_generalized":
            return fleiss_kappa(data, weights=w)
        if coef == "conger_kappa":
            return conger_kappa(data, weights=w)
        if coef == "brennan_prediger":
            return brennan_prediger(data, weights=w)
        # Gwet's weighted alpha is Krippendorff's alpha with distance 1 - weight
        cats = np.unique(data.to_numpy()[~np.isnan(data.to_numpy())])
        matrix = agreement_weights(w, cats) if isinstance(w, str) else w
        return krippendorff_alpha(data, distance=1.0 - matrix)

    return run


def _irrcac_cases() -> list[Case]:
    cases = []
    for entry in _expected(IRRCAC).values():
        tol = float(entry["tolerance"])
        se_ci = entry["se_or_ci"]
        other = entry["other_stats"]
        lo, hi = se_ci["ci95"]
        stats = {
            "value": (entry["value"], tol),
            "se": (se_ci.get("se"), tol),
            "ci_low": (lo, max(tol, 5e-4)),  # intervals are printed to 3 decimals
            "ci_high": (hi, max(tol, 5e-4)),
            "p_o": (other.get("pa"), tol),
            "p_e": (other["pe"], tol),
        }
        if "p_value" in other:  # R irrCAC's one-sided t-based p-value
            stats["p_value_one_sided"] = (other["p_value"], _half_ulp(other["p_value"]))
        xfail = {}
        if entry["id"].startswith("py_krippendorff"):
            xfail["ci_low"] = _PY_KRIPP_CI
            if entry["id"] in ("py_krippendorff_identity", "py_krippendorff_custom"):
                xfail["se"] = _PY_KRIPP_SE
        name = {"gwet_ac1_ac2": "gwet_ac2", "fleiss_kappa_generalized": "fleiss_kappa"}.get(
            entry["coefficient"], entry["coefficient"]
        )
        cases += _result_cases(IRRCAC, entry, name, _irrcac_result(entry), stats, xfail)
    return cases


# krippendorff2011_4obs_12units ---------------------------------------------------------
def _kripp2011_cases() -> list[Case]:
    ds = "krippendorff2011_4obs_12units"
    cases = []
    for entry in _expected(ds).values():
        level = entry["level_or_form"]

        def run(level: str = level) -> ReliabilityResult:
            return krippendorff_alpha(_wide(ds), level=level)

        other = entry["other_stats"] or {}
        stats = {
            "value": (entry["value"], entry["tolerance"]),
            # DKPro asserts D_o and D_e to +-0.001
            "D_o": (other.get("D_o"), 1e-3),
            "D_e": (other.get("D_e"), 1e-3),
        }
        cases += _result_cases(ds, entry, "krippendorff_alpha", run, stats)
        if "percent_agreement_pairable" in other:
            # Krippendorff's pairable-value agreement is 1 - D_o of the nominal metric
            cases.append(
                Case(
                    ds,
                    entry["id"],
                    "krippendorff_alpha",
                    "1-D_o",
                    lambda: 1.0 - krippendorff_alpha(_wide(ds), level="nominal").extra["D_o"],
                    other["percent_agreement_pairable"],
                    1e-3,
                )
            )
    return cases


# cohen1960_tables ----------------------------------------------------------------------
def _cohen1960_cases() -> list[Case]:
    ds = "cohen1960_tables"
    exp = _expected(ds)
    cases = []
    for page in ("p37", "p45"):
        table = f"cohen1960_{page}"
        kappa_id = "p37_kappa_components" if page == "p37" else "p45_kappa"
        entry = exp[kappa_id]
        other = entry["other_stats"]
        tol = float(entry["tolerance"])
        stats = {
            "value": (entry["value"], tol),
            "p_o": (other["P_o"], tol),
            "p_e": (other["P_e"], tol),
            "kappa_max": (other["kappa_max"], _loose(entry, other["kappa_max"])),
            "p_o_max": (other.get("max_observed_agreement"), tol),
        }
        cases += _result_cases(
            ds,
            entry,
            "cohen_kappa",
            lambda table=table: cohen_kappa_table(_cohen1960_table(table)),
            stats,
        )
        for coef in ("ac1", "ac2"):
            entry = exp[f"{page}_{coef}"]
            tol = float(entry["tolerance"])
            if coef == "ac1":

                def run(table: str = table) -> ReliabilityResult:
                    return gwet_ac1(_pairs_from_table(_cohen1960_table(table)))
            else:

                def run(table: str = table) -> ReliabilityResult:
                    return gwet_ac2(_pairs_from_table(_cohen1960_table(table)), weights="quadratic")

            stats = {
                "value": (entry["value"], tol),
                "p_o": (entry["other_stats"]["pa"], tol),
                "p_e": (entry["other_stats"]["pe"], tol),
            }
            cases += _result_cases(ds, entry, f"gwet_{coef}", run, stats)
    return cases


# sas_kappa_3x3_statsmodels -------------------------------------------------------------
def _sas_cases() -> list[Case]:
    ds = "sas_kappa_3x3_statsmodels"
    cases = []
    for entry in _expected(ds).values():
        weights = "identity" if entry["id"] == "kappa_unweighted" else "linear"

        def run(weights: str = weights) -> ReliabilityResult:
            table = pd.read_csv(DATA / ds / "table.csv").set_index("row").to_numpy()
            return cohen_kappa_table(table, weights=weights)

        s = entry["se_or_ci"]
        tol = float(entry["tolerance"])
        stats = {
            "value": (entry["value"], tol),
            "se": (s["ase"], tol),
            "ci_low": (s["ci95"][0], tol),
            "ci_high": (s["ci95"][1], tol),
            "se_h0": (s["ase_H0"], tol),
            "z": (s["z"], _loose(entry, s["z"])),
            "p_value_two_sided": (s["p_two_sided"], _loose(entry, s["p_two_sided"])),
        }
        cases += _result_cases(ds, entry, "cohen_kappa", run, stats)
    return cases


# sklearn_weighted_kappa_vectors ----------------------------------------------------------
def _sklearn_cases() -> list[Case]:
    ds = "sklearn_weighted_kappa_vectors"
    weights = {
        "kappa_unweighted": "identity",
        "kappa_linear": "linear",
        "kappa_quadratic": "quadratic",
    }
    cases = []
    for entry in _expected(ds).values():

        def run(w: str = weights[entry["id"]]) -> ReliabilityResult:
            long = pd.read_csv(DATA / ds / "data_long.csv")
            return cohen_kappa(long.pivot(index="unit", columns="rater", values="value"), weights=w)

        cases += _result_cases(
            ds, entry, "cohen_kappa", run, {"value": (entry["value"], entry["tolerance"])}
        )
    return cases


# fleiss1971_diagnoses_30x6 ---------------------------------------------------------------
def _fleiss1971_cases() -> list[Case]:
    ds = "fleiss1971_diagnoses_30x6"
    exp = _expected(ds)
    cases = []

    entry = exp["fleiss_kappa"]
    s, o = entry["se_or_ci"], entry["other_stats"]
    stats = {
        "value": (entry["value"], entry["tolerance"]),
        "z": (s["z"], _loose(entry, s["z"])),
        "se_h0": (s["se0_derived"], _loose(entry, s["se0_derived"])),
        "p_value_two_sided": (s["p_value"], _loose(entry, s["p_value"])),
        # DKPro asserts P_o and P_e to +-0.001; its 0.2201 comes from Fleiss' p_j rounded
        # to 3 decimals (unrounded: 0.21994)
        "p_o": (o["P_o"], 1e-3),
        "p_e": (o["P_e"], 1e-3),
    }
    cases += _result_cases(ds, entry, "fleiss_kappa", lambda: fleiss_kappa(_wide(ds)), stats)

    entry = exp["fleiss_kappa_by_category"]
    by_cat = {
        f"kappa[{k}]": (v, entry["tolerance"])
        for k, v in zip(range(1, 6), entry["value"], strict=True)
    }
    cases += _result_cases(ds, entry, "fleiss_kappa", lambda: fleiss_kappa(_wide(ds)), by_cat)

    for eid in (
        "conger_exact_kappa",
        "iota_nominal",
    ):  # for one nominal variable iota = Conger's kappa
        entry = exp[eid]
        cases += _result_cases(
            ds,
            entry,
            "conger_kappa",
            lambda: conger_kappa(_wide(ds)),
            {"value": (entry["value"], entry["tolerance"])},
        )

    entry = exp["light_kappa"]  # Light's kappa = mean of the pairwise Cohen's kappas

    def light() -> float:
        data = _wide(ds)
        return float(
            np.mean(
                [
                    cohen_kappa(data.iloc[:, [a, b]]).estimate
                    for a, b in itertools.combinations(range(data.shape[1]), 2)
                ]
            )
        )

    cases.append(
        Case(
            ds,
            entry["id"],
            "cohen_kappa",
            "mean_pairwise",
            light,
            entry["value"],
            entry["tolerance"],
        )
    )

    entry = exp["cohen_kappa_rater2_rater3"]
    stats = {
        "value": (entry["value"], entry["tolerance"]),
        "z": (entry["se_or_ci"]["z"], _loose(entry, entry["se_or_ci"]["z"])),
    }
    cases += _result_cases(
        ds, entry, "cohen_kappa", lambda: cohen_kappa(_wide(ds)[["rater2", "rater3"]]), stats
    )

    entry = exp["item_percent_agreement"]  # Fleiss' P_i = percent agreement of one unit
    for i, p_i in enumerate(entry["value"]):
        cases.append(
            Case(
                ds,
                entry["id"],
                "percent_agreement",
                f"unit{i + 1}",
                lambda i=i: percent_agreement(_wide(ds).iloc[[i]]).estimate,
                p_i,
                entry["tolerance"],
            )
        )
    return cases


# fleiss_wikipedia_10x14 ------------------------------------------------------------------
def _wikipedia_cases() -> list[Case]:
    ds = "fleiss_wikipedia_10x14"
    entry = _expected(ds)["fleiss_kappa"]

    def counts() -> pd.DataFrame:
        return pd.read_csv(DATA / ds / "counts.csv").set_index("unit")

    cases = _result_cases(
        ds,
        entry,
        "fleiss_kappa",
        lambda: fleiss_kappa(CodedRatings.from_counts(counts())),
        {"value": (entry["value"], entry["tolerance"])},
    )
    for i, p_i in enumerate(entry["other_stats"]["P_i"]):
        cases.append(
            Case(
                ds,
                entry["id"],
                "percent_agreement",
                f"unit{i + 1}",
                lambda i=i: (
                    percent_agreement(CodedRatings.from_counts(counts().iloc[[i]])).estimate
                ),
                p_i,
                _loose(entry, p_i),
            )
        )
    return cases


# irr_anxiety_20x3: R irr kappa2 ----------------------------------------------------------
def _irr_weights(scores: list[float]) -> np.ndarray:
    """R irr kappa2's weight vector (disagreement per rank distance) as agreement weights."""
    v = np.asarray(scores, dtype=float)
    return toeplitz(1.0 - (v - v.min()) / (v.max() - v.min()))


def _anxiety_cases() -> list[Case]:
    ds = "irr_anxiety_20x3"
    exp = _expected(ds)
    # irr kappa2 weighs by the rank of the levels the two raters used: raters 1 and 2
    # used 1..6 (ranks = scores), raters 2 and 3 used 1,2,3,4,6 (5 ranks)
    specs = {
        "kappa2_r1r2_squared": (["rater1", "rater2"], "quadratic"),
        "kappa2_r2r3_unweighted": (["rater2", "rater3"], "identity"),
        "kappa2_r2r3_equal": (["rater2", "rater3"], _irr_weights([0, 1, 2, 3, 4])),
        "kappa2_r2r3_squared": (["rater2", "rater3"], _irr_weights([0, 1, 4, 9, 16])),
        "kappa2_r2r3_custom": (["rater2", "rater3"], _irr_weights([0, 0, 1, 1, 2])),
        "kappa2_r1r2_custom_000111": (["rater1", "rater2"], _irr_weights([0, 0, 0, 1, 1, 1])),
        "kappa2_r1r2_custom_001122": (["rater1", "rater2"], _irr_weights([0, 0, 1, 1, 2, 2])),
    }
    cases = []
    for eid, (cols, weights) in specs.items():
        entry = exp[eid]
        s = entry["se_or_ci"]

        def run(cols: list[str] = cols, weights: object = weights) -> ReliabilityResult:
            return cohen_kappa(_wide(ds)[cols], weights=weights)

        stats = {
            "value": (entry["value"], entry["tolerance"]),
            "z": (s["z"], _loose(entry, s["z"])),
            "p_value_two_sided": (s["p_value"], _loose(entry, s["p_value"])),
        }
        cases += _result_cases(ds, entry, "cohen_kappa", run, stats)
    return cases


CASES = (
    _irrcac_cases()
    + _kripp2011_cases()
    + _cohen1960_cases()
    + _sas_cases()
    + _sklearn_cases()
    + _fleiss1971_cases()
    + _wikipedia_cases()
    + _anxiety_cases()
)


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_reference_value(case: Case) -> None:
    got = case.compute()
    assert math.isfinite(got), f"{case.id}: got {got}"
    assert abs(got - case.expected) <= case.tol + 1e-12, (
        f"{case.id}: got {got!r}, published {case.expected!r} (tolerance {case.tol})"
    )


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_irrcac_raw4raters_entry_is_covered() -> None:
    covered = {c.entry for c in CASES if c.dataset == IRRCAC and c.stat == "value"}
    assert covered == set(_expected(IRRCAC)), set(_expected(IRRCAC)) - covered
    assert len(covered) == 51


#: Folders written by this repository's own R scripts (``r/``), not copies of the shared
#: reference collection.
GENERATED = {"classification"}


@pytest.mark.parametrize(
    "folder", sorted(p.name for p in DATA.iterdir() if p.is_dir() and p.name not in GENERATED)
)
def test_copies_match_shared_reference(folder: str) -> None:
    shared = SHARED / folder
    if not shared.is_dir():
        pytest.skip(f"shared reference collection not found at {SHARED}")
    for copy in sorted((DATA / folder).iterdir()):
        assert copy.read_bytes() == (shared / copy.name).read_bytes(), (
            f"{folder}/{copy.name} differs from {shared / copy.name}"
        )
