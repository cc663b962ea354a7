"""Issue 3 (part): reliability coefficients on the state-scale archive (~1,000,000 ratings,
100,000 submissions, 400 reviewers, 2-3 per submission, 4 criteria), side by side with the
reference libraries in the same run.

- Krippendorff's alpha (ordinal) for each criterion from the ratings table, against
  building the reviewers x submissions matrix and calling ``krippendorff.alpha`` (target:
  20x faster), and against one ``np.bincount`` pass over the same scores (the floor;
  target: within 5x). The table is read once outside the timed part.
- Gwet's AC2 (quadratic) with its standard error for one criterion, against irrCAC 0.4.4
  (installed by `make bench`) on the same units x raters frame (target: 20x faster).
  irrCAC is given the categories: left to find them itself it takes NaN for a category
  under pandas 3 (``DataFrame.stack`` keeps NaN there) and returns NaN for everything.
The bootstrap target (1,000 resamples of alpha) is in bench_bootstrap.py.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

from _data import RUBRIC, state_scale_csv
from _harness import WORK, measure, row


def _table_pickle() -> Path:
    path = WORK / "state-scale-table.pkl"
    if not path.is_file():
        from calibrate.io import read_ratings
        from calibrate.rubric import load_rubric

        table = read_ratings(state_scale_csv(), load_rubric(RUBRIC))
        with tempfile.NamedTemporaryFile(dir=WORK, delete=False) as tmp:
            pickle.dump(table, tmp)
        Path(tmp.name).replace(path)
    return path


def _load(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def ours_alpha(path: str) -> list[float]:
    from calibrate.reliability import CodedRatings, krippendorff_alpha

    table = _load(path)
    import time

    t = time.perf_counter()
    out = [
        krippendorff_alpha(CodedRatings.from_ratings_table(table, c), level="ordinal").estimate
        for c in table.rubric.criterion_ids
    ]
    return [time.perf_counter() - t, *out]


def reference_alpha(path: str) -> list[float]:
    import time

    import krippendorff

    table = _load(path)
    t = time.perf_counter()
    out = []
    for c in table.rubric.criterion_ids:
        matrix = table.to_matrix(c).to_numpy()
        out.append(
            float(
                krippendorff.alpha(
                    reliability_data=matrix,
                    level_of_measurement="ordinal",
                    value_domain=[1, 2, 3, 4],
                )
            )
        )
    return [time.perf_counter() - t, *out]


def floor_bincount(path: str) -> list[float]:
    import time

    import numpy as np

    f = _load(path).frame
    t = time.perf_counter()
    unit = f["submission_id"].cat.codes.to_numpy().astype(np.int64)
    crit = f["criterion_id"].cat.codes.to_numpy().astype(np.int64)
    score = f["score"].to_numpy() - 1
    n_units = int(unit.max()) + 1
    np.bincount((crit * n_units + unit) * 4 + score, minlength=4 * n_units * 4)
    return [time.perf_counter() - t]


def ours_ac2(path: str, subset: int) -> list[float]:
    import time

    from calibrate.reliability import CodedRatings, gwet_ac2

    table = _load(path)
    if subset:
        keep = table.frame["submission_id"].cat.codes < subset
        table = type(table)(table.frame[keep].reset_index(drop=True), table.rubric)
    t = time.perf_counter()
    res = gwet_ac2(CodedRatings.from_ratings_table(table, "overview"), weights="quadratic")
    return [time.perf_counter() - t, res.estimate, res.se]


def reference_ac2(path: str, subset: int) -> list[float]:
    import time

    from irrCAC.raw import CAC

    table = _load(path)
    sub = table
    if subset:
        keep = table.frame["submission_id"].cat.codes < subset
        sub = type(table)(table.frame[keep].reset_index(drop=True), table.rubric)
    frame = sub.to_matrix("overview").T  # units x raters, NaN where unrated
    t = time.perf_counter()
    res = CAC(frame, weights="quadratic", categories=[1.0, 2.0, 3.0, 4.0], digits=15).gwet()["est"]
    return [time.perf_counter() - t, float(res["coefficient_value"]), float(res["se"])]


def run() -> list[dict]:
    path = str(_table_pickle())
    ours = measure("bench_reliability:ours_alpha", path, repeat=3)
    ref = measure("bench_reliability:reference_alpha", path)
    floor = measure("bench_reliability:floor_bincount", path, repeat=3)
    agree = max(abs(a - b) for a, b in zip(ours.info[1:], ref.info[1:], strict=True))
    t_ours, t_ref, t_floor = ours.info[0], ref.info[0], floor.info[0]
    rows = [
        row(
            "reliability",
            f"alpha (ordinal), 4 criteria from the table; |diff| vs krippendorff {agree:.1e}",
            type(ours)(t_ours, ours.peak_mb, None),
            reference=type(ref)(t_ref, ref.peak_mb, None),
            target=">= 20x krippendorff (matrix + alpha); < 1.5 GB",
            ok=t_ref / t_ours >= 20 and ours.peak_mb < 1536 and agree < 1e-9,
        ),
        row(
            "reliability",
            f"  ... vs the floor: one bincount pass ({t_floor * 1000:.0f} ms)",
            type(ours)(t_ours, ours.peak_mb, None),
            reference=type(floor)(t_floor, floor.peak_mb, None),
            target="within 5x of the floor (ratio >= 0.2)",
            ok=t_floor / t_ours >= 0.2,
        ),
    ]
    ours2 = measure("bench_reliability:ours_ac2", path, 0, repeat=3)
    ref2 = measure("bench_reliability:reference_ac2", path, 0)
    gap = max(abs(a - b) for a, b in zip(ours2.info[1:], ref2.info[1:], strict=True))
    t2, r2 = ours2.info[0], ref2.info[0]
    rows.append(
        row(
            "reliability",
            f"AC2 (quadratic) + SE, one criterion, 100,000 submissions; |diff| vs irrCAC {gap:.1e}",
            type(ours2)(t2, ours2.peak_mb, None),
            reference=type(ref2)(r2, ref2.peak_mb, None),
            target=">= 20x irrCAC; < 1.5 GB",
            ok=r2 / t2 >= 20 and ours2.peak_mb < 1536 and gap < 1e-9,
        )
    )
    return rows
