"""``calibrate export --history``: every version with superseded_at, superseded_by and
reason (empty for current values), formula-like text neutralised."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calibrate.store import Store
from tests.store_history.conftest import cli

COLUMNS = [
    "round_id",
    "submission_id",
    "reviewer_id",
    "criterion_id",
    "score",
    "rated_at",
    "kind",
    "import_id",
    "superseded_at",
    "superseded_by",
    "reason",
]


@pytest.fixture
def corrected(store_a, files) -> Path:
    reason = '=HYPERLINK("http://x.example","moderated")'  # formula-like on purpose
    assert cli("import", str(files["b"]), "--supersede", "--reason", reason, store=store_a) == 0
    assert (
        cli("retract", "--import", "2", "--reason", "+wrong file", store=store_a, rubric=False) == 0
    )
    return store_a


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_history_writes_every_version(corrected, tmp_path, suffix, capsys):
    out = tmp_path / f"h{suffix}"
    argv = ("export", str(out), "--history", "--rubric-id", "evidence-4level", "--format", "json")
    capsys.readouterr()
    assert cli(*argv, store=corrected, rubric=False) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 12 + 2 + 3
    f = (
        pd.read_csv(out, dtype=str, keep_default_na=False)
        if suffix == ".csv"
        else (pd.read_excel(out, dtype=str).fillna(""))
    )
    assert f.columns.tolist() == COLUMNS
    current = f[f["superseded_at"] == ""]
    assert len(current) == 12 and (current["superseded_by"] == "").all()
    assert (current["reason"] == "").all()
    old = f[f["superseded_by"] == "2"]
    assert old["reason"].tolist() == ['\'=HYPERLINK("http://x.example","moderated")'] * 2
    gone = f[f["superseded_by"] == "3"]
    assert len(gone) == 3 and set(gone["reason"]) == {"'+wrong file"}
    assert set(gone["import_id"]) == {"2"}
    one = f[
        (f["submission_id"] == "S0001")
        & (f["reviewer_id"] == "R001")
        & (f["criterion_id"] == "overview")
    ]
    # 3 (import 1), superseded by 4 (import 2), withdrawn; 3 current again
    assert one["score"].tolist() == ["3", "4", "3"]
    assert one["superseded_by"].tolist() == ["2", "3", ""]


def test_export_history_pseudonymised_and_refusals(corrected, tmp_path):
    out = tmp_path / "h.csv"
    argv = ["export", str(out), "--history", "--rubric-id", "evidence-4level"]
    key = ["--pseudonymize", "--pseudonym-key", str(tmp_path / "key")]  # created on first use
    assert cli(*argv, *key, store=corrected, rubric=False) == 0
    f = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert not f["reviewer_id"].str.startswith("R00").any()
    assert f["reviewer_id"].nunique() == 2 and f["submission_id"].nunique() == 3
    assert cli(*argv, "--what", "key", store=corrected, rubric=False) == 2
    with Store.open(corrected, read_only=True) as s:
        with pytest.raises(ValueError, match="round_id must name one round"):
            s.rating_history("evidence-4level", round_id=["a", "b"])
