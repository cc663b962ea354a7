"""Issue 17: ``calibrate.fairness`` on 1,000,000 ratings (100,000 submissions, 400
reviewers) with a 50-value attribute: the many-facet Rasch fit, the group table and
20,000 reviewer x group bias terms (target: under 60 s and under 2 GB)."""

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


def run() -> list[dict]:
    state_scale_csv()
    path = _arrays()
    m = measure("bench_fairness:ours_fairness", path)
    print(
        f"   fairness: {m.info['n']} ratings, {m.info['groups']} groups, {m.info['cells']} cells "
        f"({m.info['tested']} tested, {m.info['flagged']} flagged)"
    )
    ok = m.seconds < 60 and m.peak_mb < 2048
    return [
        row(
            "fairness",
            "fairness(), 1M ratings, 50-value attribute",
            m,
            target="< 60 s, < 2 GB",
            ok=ok,
        )
    ]
