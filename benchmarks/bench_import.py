"""Issue 2: validate and import 1,000,000 ratings (target: under 10 s, under 1.5 GB).

Compared in the same run with the plain approach a user would otherwise write
(``pandas.read_csv`` + ``DataFrame.to_sql`` into SQLite, no validation at all), and with
the floor of just parsing the CSV (Arrow engine).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from _data import RUBRIC, state_scale_csv
from _harness import measure, row


def calibrate_validate_import(csv: str) -> int:
    from calibrate.io import read_ratings
    from calibrate.rubric import load_rubric
    from calibrate.store import Store, file_sha256

    table = read_ratings(csv, load_rubric(RUBRIC))
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        store.add_rubric(table.rubric)
        report = store.import_ratings(table, source=csv, sha256=file_sha256(csv))
    return report.added


def pandas_to_sql(csv: str) -> int:
    import pandas as pd

    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "plain.db")
        try:
            frame.to_sql("ratings", conn, index=False, chunksize=100_000)
            conn.commit()
        finally:
            conn.close()
    return len(frame)


def parse_only(csv: str) -> int:
    import pandas as pd

    return len(pd.read_csv(csv, dtype=str, keep_default_na=False, engine="pyarrow"))


def run() -> list[dict]:
    csv = str(state_scale_csv())
    ours = measure("bench_import:calibrate_validate_import", csv, repeat=2)
    plain = measure("bench_import:pandas_to_sql", csv)
    floor = measure("bench_import:parse_only", csv)
    n = ours.info
    return [
        row(
            "import",
            f"calibrate validate + import, {n:,} ratings",
            ours,
            reference=plain,
            target="< 10 s and < 1.5 GB; ratio vs read_csv+to_sql (no validation)",
            ok=ours.seconds < 10 and ours.peak_mb < 1536,
        ),
        row("import", "floor: parse the CSV only (pyarrow)", floor),
    ]
