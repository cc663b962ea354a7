"""Issue 17: ``calibrate fairness`` on 1,000,000 ratings (100,000 submissions, 400
reviewers) with a 50-value attribute: the many-facet Rasch fit, the group table and
20,000 reviewer x group bias terms (target: under 60 s and under 2 GB). Measured twice: the
``fairness()`` call on arrays in memory, and the whole command as a process on a CSV with a
``school`` column (reading and checking the file, the attributes, the JSON output)."""

from __future__ import annotations

import time

import numpy as np
from _data import RUBRIC, state_scale_csv
from _harness import measure, row
from bench_severity import _arrays


def ours_fairness(path: str) -> dict:
    import pandas as pd

    from calibrate.fairness import fairness
    from calibrate.ratings import RatingsTable, canonical_frame
    from calibrate.rubric import load_rubric

    d = np.load(path)
    rubric = load_rubric(RUBRIC)
    t = time.perf_counter()

    def cat(codes, ids):
        return pd.Categorical.from_codes(codes, categories=pd.Index(ids.astype(object)))

    frame = canonical_frame(
        cat(d["sub"], d["sub_ids"]),
        cat(d["rev"], d["rev_ids"]),
        np.asarray(d["crit_ids"], dtype=object)[d["crit"]],
        d["score"],
        rubric,
    )
    group = np.random.default_rng(17).integers(0, 50, size=len(d["sub_ids"]))
    attrs = pd.DataFrame(
        {"submission_id": d["sub_ids"].astype(object), "school": [f"K{g:02d}" for g in group]}
    )
    result = fairness(RatingsTable(frame, rubric), by="school", attributes=attrs)
    cells = result.reviewer_groups
    return {
        "seconds": time.perf_counter() - t,
        "n": len(frame),
        "groups": len(result.groups),
        "cells": len(cells),
        "tested": int(cells["tested"].sum()),
        "flagged": int(cells["flagged"].sum()),
    }


def _school_csv() -> str:
    """The state-scale archive with a ``school`` column (50 values, one per submission)."""
    import pandas as pd
    from _harness import WORK

    out = WORK / "state-scale-schools.csv"
    if not out.is_file():
        frame = pd.read_csv(state_scale_csv(), dtype=str, keep_default_na=False)
        subs = frame["submission_id"].unique()
        group = np.random.default_rng(17).integers(0, 50, size=len(subs))
        school = dict(zip(subs, [f"K{g:02d}" for g in group], strict=True))
        frame["school"] = frame["submission_id"].map(school)
        frame.to_csv(out, index=False)
    return str(out)


def run() -> list[dict]:
    import sys

    state_scale_csv()
    path = _arrays()
    csv = _school_csv()
    cmd = [sys.executable, "-m", "calibrate", "fairness", csv, "--rubric", str(RUBRIC)]
    cmd += ["--by", "school", "--format", "json"]
    whole = measure("bench_cli:run_process", cmd)
    m = measure("bench_fairness:ours_fairness", path)
    print(
        f"   fairness: {m.info['n']} ratings, {m.info['groups']} groups, {m.info['cells']} cells "
        f"({m.info['tested']} tested, {m.info['flagged']} flagged)"
    )
    ok = m.seconds < 60 and m.peak_mb < 2048
    seconds, peak_mb = whole.info[0], whole.info[1]
    from _harness import Measurement

    proc = Measurement(seconds, peak_mb, None)
    return [
        row(
            "fairness",
            "calibrate fairness CSV --by school (50 values), whole process, 1M ratings",
            proc,
            target="< 60 s, < 2 GB",
            ok=seconds < 60 and peak_mb < 2048,
        ),
        row(
            "fairness",
            "fairness(), 1M ratings, 50-value attribute",
            m,
            target="< 60 s, < 2 GB",
            ok=ok,
        ),
    ]
