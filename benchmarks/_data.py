"""State-scale benchmark data: ~1,000,000 ratings, 100,000 submissions, 400 reviewers,
2-3 reviewers per submission, 4 criteria. Written once per seed into benchmarks/_work/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from _harness import ROOT, WORK

RUBRIC = ROOT / "benchmarks" / "state-scale.yaml"
CRITERIA = ["overview", "artifacts", "student_work", "reflection"]


def state_scale_csv(
    seed: int = 20261123, n_submissions: int = 100_000, n_reviewers: int = 400
) -> Path:
    """Path of the benchmark CSV (made on first use): scores follow each submission's
    latent level plus reviewer severity and noise, as in a real program."""
    path = WORK / f"state-scale-{n_submissions}-{n_reviewers}-{seed}.csv"
    if path.is_file():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    per = rng.choice([2, 3], size=n_submissions, p=[0.5, 0.5])
    sub = np.repeat(np.arange(n_submissions), per)
    slot = np.arange(len(sub)) - np.repeat(np.cumsum(per) - per, per)
    # distinct reviewers within a submission: a random start plus a stride per slot
    rev = (np.repeat(rng.integers(0, n_reviewers, n_submissions), per) + slot * 137) % n_reviewers
    ability = rng.normal(0, 1, n_submissions)
    severity = rng.normal(0, 0.3, n_reviewers)
    n = len(sub) * len(CRITERIA)
    latent = np.repeat(ability[sub] - severity[rev], len(CRITERIA)) + rng.normal(0, 0.6, n) + 2.5
    score = np.clip(np.rint(latent), 1, 4).astype(int)
    start = pd.Timestamp("2026-01-05T08:00:00Z")
    when = start + pd.to_timedelta(
        np.repeat(rng.integers(0, 120 * 86400, len(sub)), len(CRITERIA)), unit="s"
    )
    frame = pd.DataFrame(
        {
            "submission_id": np.char.add("S", np.repeat(sub, len(CRITERIA)).astype(str)),
            "reviewer_id": np.char.add("R", np.repeat(rev, len(CRITERIA)).astype(str)),
            "criterion_id": np.tile(CRITERIA, len(sub)),
            "score": score,
            "rated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "round_id": "",
            "kind": "live",
        }
    )
    tmp = path.with_suffix(".partial")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return path
