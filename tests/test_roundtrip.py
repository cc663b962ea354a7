"""Round trips across the whole foundation: file -> store -> export -> file, equal."""

from __future__ import annotations

import pandas as pd
import pytest

from calibrate.io import export_table, read_key, read_program, read_ratings
from calibrate.store import Store

from .conftest import ROOT

PROGRAMS = sorted(p.parent.name for p in (ROOT / "data" / "synthetic").glob("*/manifest.json"))
# Every program through CSV; the Excel leg on the two small ones (openpyxl is slow).
CASES = [(name, ".csv") for name in PROGRAMS] + [("pilot", ".xlsx"), ("binary", ".xlsx")]


@pytest.mark.parametrize(("name", "suffix"), CASES, ids=[f"{n}-{s[1:]}" for n, s in CASES])
def test_import_export_import_is_equal(tmp_path, name, suffix):
    program = read_program(ROOT / "data" / "synthetic" / name)
    with Store.open(tmp_path / "s.db") as store:
        store.add_rubric(program.rubric)
        store.import_ratings(program.ratings)
        store.import_key(program.key)
        back = store.ratings(program.rubric.id)
        key_back = store.answer_key(program.rubric.id)
    out = export_table(back, tmp_path / f"ratings{suffix}")
    key_out = export_table(key_back, tmp_path / f"key{suffix}")
    again = read_ratings(out, program.rubric)
    key_again = read_key(key_out, program.rubric, ratings=again)

    def canon(f: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        return f.sort_values(cols, ignore_index=True)

    cols = ["round_id", "submission_id", "reviewer_id", "criterion_id"]
    pd.testing.assert_frame_equal(canon(again.frame, cols), canon(program.ratings.frame, cols))
    pd.testing.assert_frame_equal(
        canon(key_again.frame, ["submission_id", "criterion_id"]),
        canon(program.key.frame, ["submission_id", "criterion_id"]),
    )
