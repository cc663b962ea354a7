"""Small ratings files and stores for the history tests (evidence-4level, synthetic ids)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calibrate.cli import main

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "evidence-4level.yaml"
HEAD = "submission_id,reviewer_id,criterion_id,score\n"
#: The first file: 2 submissions x 2 reviewers x 3 criteria.
A_ROWS = [
    ("S0001", "R001", "overview", 3),
    ("S0001", "R001", "artifacts", 2),
    ("S0001", "R001", "reflection", 4),
    ("S0001", "R002", "overview", 4),
    ("S0001", "R002", "artifacts", 2),
    ("S0001", "R002", "reflection", 3),
    ("S0002", "R001", "overview", 1),
    ("S0002", "R001", "artifacts", 2),
    ("S0002", "R001", "reflection", 2),
    ("S0002", "R002", "overview", 2),
    ("S0002", "R002", "artifacts", 1),
    ("S0002", "R002", "reflection", 2),
]
#: Corrections of A: file rows 2 and 5 change (S0001/R001/overview 3->4, S0001/R002/overview
#: 4->1), row 3 is unchanged, and one new row.
B_ROWS = [
    ("S0001", "R001", "overview", 4),
    ("S0001", "R001", "artifacts", 2),
    ("S0003", "R001", "overview", 3),
    ("S0001", "R002", "overview", 1),
]


def csv_text(rows) -> str:
    return HEAD + "".join(f"{s},{r},{c},{v}\n" for s, r, c, v in rows)


def cli(*argv: str, store: Path, rubric: bool = True) -> int:
    return main([*argv, "--store", str(store), *(["--rubric", str(RUBRIC)] if rubric else [])])


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {}
    for name, rows in (("a", A_ROWS), ("b", B_ROWS)):
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(csv_text(rows))
    return out


@pytest.fixture
def store_a(tmp_path, files) -> Path:
    """A store holding file a (import #1)."""
    store = tmp_path / "s.db"
    assert cli("import", str(files["a"]), store=store) == 0
    return store
