"""Issue 15: read a 1,000,000-rating Google Forms export through its profile (target: under
15 s and 1.5 GB).

The export: 250,000 responses x 4 grid columns (``3 - Proficient`` style cells), 2 comment
columns (one for a criterion, one for the whole row), 3 submission attributes, a local
``M/D/YYYY H:MM:SS`` Timestamp and an e-mail column. Measured: :func:`read_profile` in a fresh
process, and the whole ``calibrate import --dry-run`` process (read, map, compare with the
store: none here). Compared in the same run with what a user writes without the kit:
``pandas.read_csv`` + ``melt`` + a regex for the leading number + ``to_datetime`` and
``tz_localize`` (no checks at all).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from _harness import WORK, measure, row
from bench_cli import _best

RUBRIC = Path(__file__).resolve().parent / "state-scale.yaml"
NAMES = ["Overview questions", "Classroom artifacts", "Student work", "Reflection"]
LABELS = {1: "Not yet evident", 2: "Emerging", 3: "Proficient", 4: "Exemplary"}
ZONE = "America/Chicago"


def forms_csv(seed: int = 20261204, n_rows: int = 250_000) -> Path:
    """The benchmark export (made on first use)."""
    path = WORK / f"google-forms-{n_rows}-{seed}.csv"
    if path.is_file():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_sub, n_rev = n_rows // 2, 400
    sub = np.repeat(np.arange(n_sub), 2)[:n_rows]
    rev = (rng.integers(0, n_rev, n_sub).repeat(2) + np.tile([0, 137], n_sub))[:n_rows] % n_rev
    # instants shown as local wall time, as the form tool does (the spring-forward gap is
    # never shown; the repeated November hour is outside January-May)
    when = (
        (
            pd.Timestamp("2026-01-05 14:00:00Z")
            + pd.to_timedelta(np.sort(rng.integers(0, 120 * 86400, n_rows)), unit="s")
        )
        .tz_convert(ZONE)
        .tz_localize(None)
    )
    frame = {
        "Timestamp": [
            f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}:{t.second:02d}" for t in when
        ],
        "Email Address": np.char.add(np.char.add("r", rev.astype(str)), "@example.org"),
        "Reviewer ID": np.char.add("R", rev.astype(str)),
        "Submission ID": np.char.add("S", sub.astype(str)),
    }
    district = rng.choice(["North", "South", "East", "West"], n_sub)[sub]
    school = np.char.add("SCH-", rng.integers(1, 300, n_sub).astype(str))[sub]
    band = rng.choice(["K-5", "6-8", "9-12"], n_sub)[sub]
    frame |= {"District": district, "School": school, "Grade band": band}
    spelled = np.array([f"{k} - {v}" for k, v in LABELS.items()], dtype=object)
    for name in NAMES:
        frame[f"Rate the evidence [{name}]"] = spelled[rng.integers(0, 4, n_rows)]
    notes = np.array(["", "Questions are open but not sequenced.", "Clear plan."], dtype=object)
    frame["Comments [Overview questions]"] = notes[rng.integers(0, 3, n_rows)]
    frame["Overall feedback"] = notes[rng.integers(0, 3, n_rows)]
    tmp = path.with_suffix(".partial")
    pd.DataFrame(frame).to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def calibrate_read_profile(csv: str) -> int:
    from calibrate.io import read_profile
    from calibrate.rubric import load_rubric

    read = read_profile(csv, load_rubric(RUBRIC), "google-forms", timezone=ZONE)
    return len(read.table)


def pandas_melt(csv: str) -> int:
    """The user's way: no validation, no problems named, labels not checked."""
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    grid = [c for c in frame.columns if c.startswith("Rate the evidence [")]
    long = frame.melt(
        id_vars=["Timestamp", "Reviewer ID", "Submission ID", "Comments [Overview questions]"],
        value_vars=grid,
        var_name="criterion",
        value_name="cell",
    )
    long = long[long["cell"] != ""]
    long["score"] = long["cell"].str.extract(r"^(\d+)", expand=False).astype(int)
    long["criterion"] = long["criterion"].str.extract(r"\[(.+)\]", expand=False)
    when = pd.to_datetime(long["Timestamp"], format="%m/%d/%Y %H:%M:%S")
    long["rated_at"] = when.dt.tz_localize(ZONE).dt.tz_convert("UTC")
    return len(long)


def run() -> list[dict]:
    csv = str(forms_csv())
    ours = measure("bench_import_forms:calibrate_read_profile", csv)
    plain = measure("bench_import_forms:pandas_melt", csv)
    work = WORK / "forms-dry-run.db"
    work.unlink(missing_ok=True)
    cli = [sys.executable, "-c", "import sys; from calibrate.cli import main; sys.exit(main())"]
    cmd = [*cli, "import", csv, "--rubric", str(RUBRIC), "--profile", "google-forms"]
    cmd += ["--timezone", ZONE, "--store", str(work), "--dry-run", "--format", "json"]
    process, _ = _best(cmd, 1)
    dry_run_wrote = work.exists()
    # the import itself: ratings, rationales and attributes into a new store
    store = WORK / "forms-import.db"
    for leftover in (store, store.with_name(store.name + ".bak")):
        leftover.unlink(missing_ok=True)
    cmd = [*cli, "import", csv, "--rubric", str(RUBRIC), "--profile", "google-forms"]
    cmd += ["--timezone", ZONE, "--store", str(store), "--format", "json"]
    imported, out = _best(cmd, 1)
    added = json.loads(out)["imports"][0]["added"]  # the ratings; then the attributes
    n = ours.info
    return [
        row(
            "import_forms",
            f"read_profile google-forms, {n:,} ratings (250k rows)",
            ours,
            reference=plain,
            target="< 15 s and < 1.5 GB; ratio vs read_csv+melt+regex+tz (no checks)",
            ok=ours.seconds < 15 and ours.peak_mb < 1536 and n == plain.info,
        ),
        row(
            "import_forms",
            "calibrate import --dry-run --format json, process",
            process,
            reference=plain,
            target="< 15 s and < 1.5 GB",
            ok=process.seconds < 15 and process.peak_mb < 1536 and not dry_run_wrote,
        ),
        row(
            "import_forms",
            f"calibrate import --profile google-forms into a new store, process ({added:,} ratings added)",
            imported,
            reference=plain,
            target="< 15 s and < 1.5 GB",
            ok=imported.seconds < 15 and imported.peak_mb < 1536 and added == n,
        ),
    ]
