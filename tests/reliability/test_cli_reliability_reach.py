"""``calibrate reliability`` without a rubric on labels, whole numbers and decimals; --weights,
--icc and --coefficients all: the row sets scripts rely on, and values equal to the direct calls.
"""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.io import DECIMAL_SCORES_RUBRIC, read_ratings_without_rubric
from calibrate.reliability import (
    WEIGHT_NAMES,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac2,
    icc,
    percent_agreement,
    reliability_table,
)
from calibrate.reliability._table import _DECIMAL_SCORES_RUBRIC

# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges, published ICCs (two decimals) and
# mean squares BMS 11.24, WMS 6.26, EMS 1.02 (Table 3).
SF = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)
SF_PUBLISHED = {
    "ICC(1,1)": 0.17,
    "ICC(2,1)": 0.29,
    "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(2,k)": 0.62,
    "ICC(3,k)": 0.91,
}
MW = {
    "ICC(1,1)": "ICC(1)",
    "ICC(2,1)": "ICC(A,1)",
    "ICC(3,1)": "ICC(C,1)",
    "ICC(1,k)": "ICC(k)",
    "ICC(2,k)": "ICC(A,k)",
    "ICC(3,k)": "ICC(C,k)",
}
NEW_FIELDS = {"weights", "form", "form_mcgraw_wong", "F", "df1", "df2", "p", "p_value"}


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def write_long(path, wide: np.ndarray | list[list[object]], fmt=str) -> None:
    lines = ["submission_id,reviewer_id,score"]
    for i, row in enumerate(wide):
        for j, v in enumerate(row):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            lines.append(f"S{i + 1},R{j + 1},{fmt(v)}")
    path.write_text("\n".join(lines) + "\n")


# labels, 8 submissions x 3 reviewers (one missing), their positions in the order low < mid < high
LABELS = [
    ["low", "low", "mid"],
    ["mid", "mid", "mid"],
    ["high", "High", "mid"],
    ["low", "mid", None],
    ["high", "high", "high"],
    ["mid", "low", "low"],
    ["low", "low", "low"],
    ["high", "mid", "high"],
]
POSITION = {"low": 0.0, "mid": 1.0, "high": 2.0}
DECIMALS = np.array(
    [
        [2.5, 2.75, 3.0],
        [1.0, 1.25, 1.5],
        [4.0, 3.5, 3.75],
        [0.5, 1.0, np.nan],
        [3.25, 3.25, 2.5],
        [2.0, 1.5, 2.25],
    ]
)


def label_matrix() -> np.ndarray:
    return np.array([[np.nan if v is None else POSITION[v.lower()] for v in row] for row in LABELS])


@pytest.fixture
def labels(tmp_path):
    path = tmp_path / "labels.csv"
    write_long(path, LABELS)
    return path


@pytest.fixture
def decimals(tmp_path):
    path = tmp_path / "decimals.csv"
    write_long(path, DECIMALS, fmt=lambda v: f"{v:g}")
    return path


@pytest.fixture
def integers(tmp_path):
    path = tmp_path / "integers.csv"
    write_long(path, SF, fmt=lambda v: str(int(v)))
    return path


def test_the_decimal_rubric_id_is_the_readers() -> None:
    assert _DECIMAL_SCORES_RUBRIC == DECIMAL_SCORES_RUBRIC


def test_labels_at_nominal(labels, capsys) -> None:
    code, rows = run_json(["reliability", str(labels), "--level", "nominal"], capsys)
    assert code == 0
    alpha = next(r for r in rows if r["coefficient"] == "krippendorff_alpha")
    # nominal: any coding of the categories gives the same alpha
    assert alpha["estimate"] == pytest.approx(
        krippendorff.alpha(reliability_data=label_matrix().T, level_of_measurement="nominal"),
        abs=1e-12,
    )
    fleiss = next(r for r in rows if r["coefficient"] == "fleiss_kappa")
    assert fleiss["weights"] == "identity" and fleiss["level"] == "identity"
    assert fleiss["estimate"] == pytest.approx(fleiss_kappa(label_matrix()).estimate, abs=1e-12)


def test_labels_at_ordinal_need_order(labels, capsys) -> None:
    code, doc = run_json(["reliability", str(labels), "--level", "ordinal"], capsys)
    assert code == 1 and doc["ok"] is False
    assert len(doc["problems"]) == 23  # every rating named
    assert all("--order" in p["message"] and p["column"] == "score" for p in doc["problems"])
    code, rows = run_json(
        ["reliability", str(labels), "--level", "ordinal", "--order", "low,mid,high"], capsys
    )
    assert code == 0
    alpha = next(r for r in rows if r["coefficient"] == "krippendorff_alpha")
    assert alpha["estimate"] == pytest.approx(
        krippendorff.alpha(reliability_data=label_matrix().T, level_of_measurement="ordinal"),
        abs=1e-12,
    )
    ac2 = next(r for r in rows if r["coefficient"] == "gwet_ac2")
    assert ac2["weights"] == "quadratic"
    assert ac2["estimate"] == pytest.approx(
        gwet_ac2(label_matrix(), weights="quadratic", categories=[0, 1, 2]).estimate, abs=1e-12
    )


def test_a_label_outside_order_names_file_row_column_value(labels, capsys) -> None:
    code, doc = run_json(
        ["reliability", str(labels), "--level", "ordinal", "--order", "low,high"], capsys
    )
    assert code == 1
    found = [(p["file"], p["row"], p["column"], p["value"]) for p in doc["problems"]]
    mids = [i for i, r in enumerate(r for s in LABELS for r in s if r) if r == "mid"]
    assert found == [(str(labels), i + 2, "score", "mid") for i in mids]
    assert "not a label in --order (low, high)" in doc["problems"][0]["message"]


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_decimals_at_nominal_or_ordinal_are_refused(decimals, capsys, level) -> None:
    code, doc = run_json(["reliability", str(decimals), "--level", level], capsys)
    assert code == 1
    assert doc["problems"] and all(
        "--level interval or ratio" in p["message"] for p in doc["problems"]
    )
    assert doc["problems"][0]["row"] == 2 and doc["problems"][0]["value"] == "2.5"


@pytest.mark.parametrize("level", ["interval", "ratio"])
def test_decimals_at_interval_and_ratio_use_the_values(decimals, capsys, level) -> None:
    code, rows = run_json(
        ["reliability", str(decimals), "--level", level, "--icc", "ICC(3,k),ICC(A,1)"], capsys
    )
    assert code == 0
    alpha = next(r for r in rows if r["coefficient"] == "krippendorff_alpha")
    assert alpha["estimate"] == pytest.approx(
        krippendorff.alpha(reliability_data=DECIMALS.T, level_of_measurement=level), abs=1e-12
    )
    cats = np.unique(DECIMALS[~np.isnan(DECIMALS)])
    weights = "quadratic" if level == "interval" else "ratio"
    conger = next(r for r in rows if r["coefficient"] == "conger_kappa")
    assert conger["weights"] == weights
    assert conger["estimate"] == pytest.approx(
        conger_kappa(DECIMALS, weights=weights, categories=cats).estimate, abs=1e-12
    )
    iccs = {r["form"]: r for r in rows if r["coefficient"] == "icc"}
    assert set(iccs) == {"ICC(2,1)", "ICC(3,k)"}
    for form, r in iccs.items():
        direct = icc(DECIMALS, form=form)
        assert r["estimate"] == pytest.approx(direct.estimate, abs=1e-12)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(direct.ci, abs=1e-12)


def test_labels_at_interval_are_refused(labels, capsys) -> None:
    code, doc = run_json(["reliability", str(labels), "--level", "interval"], capsys)
    assert code == 1 and "a finite number" in doc["problems"][0]["message"]


def test_icc_forms_against_shrout_fleiss(integers, capsys) -> None:
    code, rows = run_json(
        ["reliability", str(integers), "--level", "interval", "--coefficients", "icc", "--icc",
         ",".join(SF_PUBLISHED)],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert [r["form"] for r in rows] == list(SF_PUBLISHED)
    for r in rows:
        assert r["level"] == r["form"]  # as the ICC(2,1) row always had
        assert r["form_mcgraw_wong"] == MW[r["form"]]
        assert r["estimate"] == pytest.approx(SF_PUBLISHED[r["form"]], abs=0.006)
        direct = icc(SF, form=r["form"])
        assert r["estimate"] == pytest.approx(direct.estimate, abs=1e-12)
        assert [r["F"], r["df1"], r["df2"], r["p"]] == pytest.approx(
            [direct.extra[k] for k in ("F", "df1", "df2", "p_value")], abs=1e-12
        )
        # Shrout & Fleiss Table 3: F = BMS / WMS (one-way) or BMS / EMS (two-way)
        published_f = 11.24 / 6.26 if r["form"].startswith("ICC(1") else 11.24 / 1.02
        assert r["F"] == pytest.approx(published_f, rel=0.01)
        assert (r["df1"], r["df2"]) == ((5, 18) if r["form"].startswith("ICC(1") else (5, 15))
        assert r["weights"] is None


def test_weights_give_a_row_per_family(decimals, capsys) -> None:
    code, rows = run_json(
        ["reliability", str(decimals), "--level", "interval", "--weights", "linear,radical"],
        capsys,
    )
    assert code == 0
    cats = np.unique(DECIMALS[~np.isnan(DECIMALS)])
    got = {(r["coefficient"], r["weights"]): r["estimate"] for r in rows if r["weights"]}
    assert set(got) == {
        (c, w)
        for c in (
            "fleiss_kappa",
            "conger_kappa",
            "gwet_ac2",
            "brennan_prediger",
            "percent_agreement",
        )
        for w in ("linear", "radical")
    }
    assert got["percent_agreement", "radical"] == pytest.approx(
        percent_agreement(DECIMALS, weights="radical", categories=cats).estimate, abs=1e-12
    )
    assert got["gwet_ac2", "linear"] == pytest.approx(
        gwet_ac2(DECIMALS, weights="linear", categories=cats).estimate, abs=1e-12
    )
    assert got["fleiss_kappa", "radical"] == pytest.approx(
        fleiss_kappa(DECIMALS, weights="radical", categories=cats).estimate, abs=1e-12
    )
    assert all(NEW_FIELDS <= set(r) for r in rows)


def _custom(path, body: str) -> str:
    path.write_text(body)
    return f"custom:{path}"


def test_custom_weights_with_and_without_header(labels, tmp_path, capsys) -> None:
    m = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.8], [0.0, 0.8, 1.0]])
    plain = "\n".join(",".join(f"{v:g}" for v in row) for row in m) + "\n"
    for body in (plain, "low,mid,high\n" + plain):
        spec = _custom(tmp_path / "w.csv", body)
        code, rows = run_json(
            ["reliability", str(labels), "--level", "ordinal", "--order", "low,mid,high",
             "--coefficients", "fleiss_kappa,gwet_ac2", "--weights", f"quadratic,{spec}"],
            capsys,
        )  # fmt: skip
        assert code == 0
        got = {(r["coefficient"], r["weights"]): r for r in rows}
        assert set(got) == {
            (c, w) for c in ("fleiss_kappa", "gwet_ac2") for w in ("quadratic", spec)
        }
        assert got["gwet_ac2", spec]["level"] == "custom"
        assert got["gwet_ac2", spec]["estimate"] == pytest.approx(
            gwet_ac2(label_matrix(), weights=m, categories=[0, 1, 2]).estimate, abs=1e-12
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,0.5\n0.5,1\n", "must be 3 x 3"),
        ("1,0.5,0\n0.5,1,0.5\n", "must be square"),
        ("1,0.5,0\n0.5,1,1.5\n0,0.5,1\n", "between 0 and 1"),
        ("1,0.5,0\n0.5,0.9,0.5\n0,0.5,1\n", "diagonal must be 1"),
        ("a,b,c\n1,0.5,0\n0.5,1,0.5\n0,0.5,1\n", "the header row names levels a, b, c"),
    ],
    ids=["size", "square", "range", "diagonal", "header"],
)
def test_bad_custom_weights_name_the_file(labels, tmp_path, capsys, body, message) -> None:
    spec = _custom(tmp_path / "w.csv", body)
    code, doc = run_json(
        ["reliability", str(labels), "--level", "ordinal", "--order", "low,mid,high",
         "--weights", spec],
        capsys,
    )  # fmt: skip
    assert code == 1
    assert any(message in p["message"] for p in doc["problems"])
    assert all(p["file"] == str(tmp_path / "w.csv") for p in doc["problems"])


def test_cohen_pairs_and_two_raters_get_every_family(tmp_path, capsys) -> None:
    two = SF[:, :2]
    path = tmp_path / "two.csv"
    write_long(path, two, fmt=lambda v: str(int(v)))
    code, rows = run_json(
        ["reliability", str(path), "--level", "ordinal", "--coefficients", "cohen_kappa",
         "--weights", "ordinal,bipolar"],
        capsys,
    )  # fmt: skip
    assert code == 0
    cats = np.unique(two)
    assert [(r["weights"], r["estimate"]) for r in rows] == [
        (w, pytest.approx(cohen_kappa(two, weights=w, categories=cats).estimate, abs=1e-12))
        for w in ("ordinal", "bipolar")
    ]


# ----------------------------------------------------------------------------------------
# --coefficients all: the contract
# ----------------------------------------------------------------------------------------
FAMILIES = {
    "nominal": ["identity"],
    "ordinal": ["identity", "linear", "quadratic", "ordinal", "radical", "circular", "bipolar"],
    "interval": ["identity", "linear", "quadratic", "ordinal", "radical", "circular", "bipolar"],
    "ratio": list(WEIGHT_NAMES),
}
WEIGHTED = [
    "cohen_kappa",
    "fleiss_kappa",
    "conger_kappa",
    "gwet_ac2",
    "brennan_prediger",
    "percent_agreement",
    "light_kappa",
]


def expected_all(level: str, n_raters: int) -> set[tuple[str, str | None]]:
    alpha_level = level
    out: set[tuple[str, str | None]] = {
        ("krippendorff_alpha", alpha_level),
        ("percent_agreement", "exact"),
        ("gwet_ac1", "identity"),
    }
    if level != "nominal":
        out.add(("percent_agreement", "within_one"))
        out |= {("icc", f) for f in SF_PUBLISHED}
    for c in WEIGHTED:
        if c == "cohen_kappa" and n_raters != 2:
            continue
        out |= {(c, w) for w in FAMILIES[level]}
    return out


def key(r: dict) -> tuple[str, str | None]:
    if r["coefficient"] == "icc":
        return ("icc", r["form"])
    return (r["coefficient"], r["weights"] or r["level"])


CASES = [
    ("labels", "nominal", []),
    ("labels", "ordinal", ["--order", "low,mid,high"]),
    ("integers", "nominal", []),
    ("integers", "ordinal", []),
    ("integers", "interval", []),
    ("integers", "ratio", []),
    ("decimals", "interval", []),
    ("decimals", "ratio", []),
    ("two", "ordinal", []),
]


@pytest.mark.parametrize(("data", "level", "extra"), CASES, ids=[f"{d}-{lv}" for d, lv, _ in CASES])
def test_coefficients_all_rows(request, tmp_path, capsys, data, level, extra) -> None:
    if data == "two":
        path = tmp_path / "two.csv"
        write_long(path, SF[:, :2], fmt=lambda v: str(int(v)))
        n_raters = 2
    else:
        path = request.getfixturevalue(data)
        n_raters = 4 if data == "integers" else 3
    code, rows = run_json(
        ["reliability", str(path), "--level", level, "--coefficients", "all", *extra], capsys
    )
    assert code == 0
    keys = [key(r) for r in rows]
    assert len(keys) == len(set(keys))  # one row each
    assert set(keys) == expected_all(level, n_raters)
    assert all(NEW_FIELDS <= set(r) for r in rows)
    for r in rows:
        if r["coefficient"] == "icc":
            assert r["form_mcgraw_wong"] == MW[r["form"]] and r["df1"] is not None
        else:
            assert r["form"] is None and r["F"] is None


def test_all_equals_the_direct_calls_with_integers(integers, capsys) -> None:
    code, rows = run_json(
        ["reliability", str(integers), "--level", "ordinal", "--coefficients", "all"], capsys
    )
    assert code == 0
    got = {key(r): r["estimate"] for r in rows}
    cats = np.unique(SF)  # the levels are the integers that occur
    for w in FAMILIES["ordinal"]:
        assert got["gwet_ac2", w] == pytest.approx(
            gwet_ac2(SF, weights=w, categories=cats).estimate, abs=1e-12
        )
        assert got["conger_kappa", w] == pytest.approx(
            conger_kappa(SF, weights=w, categories=cats).estimate, abs=1e-12
        )
    for f in SF_PUBLISHED:
        assert got["icc", f] == pytest.approx(icc(SF, form=f).estimate, abs=1e-12)


def test_table_keywords_and_defaults_unchanged(integers) -> None:
    table = read_ratings_without_rubric(integers, level="interval")
    default = reliability_table(table, level="interval", by=None)
    assert default["weights"].iloc[:2].isna().all()  # alpha, percent agreement
    assert (default.loc[default["coefficient"] == "icc", "form"] == "ICC(2,1)").all()
    assert default.columns[: len(default.columns) - len(NEW_FIELDS)].tolist() == [
        c for c in default.columns if c not in NEW_FIELDS
    ]
    weighted = reliability_table(
        table, level="interval", by=None, coefficients="gwet_ac2", decision=False,
        weights=["linear", ("mine", np.eye(10))], icc_forms="ICC(1,k)",
    )  # fmt: skip
    assert weighted["weights"].tolist() == ["linear", "mine"]
    with pytest.raises(ValueError, match="weights"):
        reliability_table(table, level="interval", weights="squared")
    with pytest.raises(ValueError, match="icc_forms"):
        reliability_table(table, level="interval", icc_forms="ICC(4,1)")
    pd.testing.assert_frame_equal(
        reliability_table(
            table, level="interval", by=None, coefficients="icc", icc_forms="ICC(2,1)"
        ),
        reliability_table(table, level="interval", by=None, coefficients="icc"),
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--level", "ordinal", "--weights", "squared"], "--weights takes identity"),
        (["--level", "ordinal", "--icc", "ICC(4,1)"], "--icc takes ICC(1,1)"),
        (["--level", "interval", "--order", "a,b"], "--order names the order of score labels"),
    ],
    ids=["weights", "icc", "order"],
)
def test_bad_new_options_exit_2(labels, capsys, extra, message) -> None:
    code = main(["reliability", str(labels), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err


def test_all_at_ratio_leaves_out_ratio_weights_for_negative_scores(tmp_path, capsys) -> None:
    path = tmp_path / "negative.csv"
    write_long(path, SF - 5, fmt=lambda v: str(int(v)))
    code, rows = run_json(
        ["reliability", str(path), "--level", "interval", "--coefficients", "all"], capsys
    )
    assert code == 0
    assert {r["weights"] for r in rows if r["weights"]} == set(FAMILIES["interval"])
    table = reliability_table(
        read_ratings_without_rubric(path, level="ratio"),
        level="ratio", by=None, coefficients="all", decision=False,
    )  # fmt: skip
    assert set(table["weights"].dropna()) == set(FAMILIES["interval"])  # all but ratio


def test_weights_that_do_not_fit_the_scores_are_a_usage_error(tmp_path, capsys) -> None:
    path = tmp_path / "negative.csv"
    write_long(path, SF - 5, fmt=lambda v: str(int(v)))
    code = main(["reliability", str(path), "--level", "interval", "--weights", "ratio"])
    err = capsys.readouterr().err
    assert code == 2 and "--weights ratio: ratio weights need non-negative scores" in err


def test_every_row_carries_the_coefficients_p_value(integers, capsys) -> None:
    """``p_value`` is the direct call's (irrCAC's one-sided t test for AC2, the F test for
    the ICC, where ``p`` carries it too)."""
    code, rows = run_json(
        ["reliability", str(integers), "--level", "interval", "--weights", "linear"], capsys
    )
    assert code == 0
    cats = np.unique(SF[~np.isnan(SF)])
    by = {(r["coefficient"], r["weights"] or r["level"]): r for r in rows}
    ac2 = by["gwet_ac2", "linear"]
    assert ac2["p_value"] == pytest.approx(
        gwet_ac2(SF, weights="linear", categories=cats).p_value, abs=1e-12
    )
    assert by["icc", "ICC(2,1)"]["p_value"] == by["icc", "ICC(2,1)"]["p"]


def test_the_clis_names_are_the_librarys() -> None:
    """The CLI module keeps its own copy of the weight and ICC names so that building the
    parser imports no numerics; the copies must not drift from the library's."""
    from calibrate.cli import _reliability
    from calibrate.reliability import ICC_FORMS

    assert _reliability._WEIGHT_NAMES == WEIGHT_NAMES
    assert _reliability._ICC_NAMES == ICC_FORMS[:6]  # the Shrout-Fleiss names
