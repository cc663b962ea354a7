"""Issue 3: a 1,000-resample bootstrap interval for Krippendorff's alpha on the state-scale
archive (~1,000,000 ratings, 100,000 submissions, 400 reviewers, 2-3 per submission,
4 criteria), side by side with the reference in the same run.

- Ours: ``bootstrap("krippendorff_alpha", ...)`` on one criterion (250,000 ratings of
  100,000 submissions), BCa (its leave-one-submission-out jackknife included), timed from
  the ratings table (codes built inside the timed part).
- Reference: 1,000 calls of ``krippendorff.alpha(value_counts=...)`` on resampled
  submissions x levels counts (the counts built once, before timing; each call draws the
  resample and computes alpha), percentile interval. Its BCa would need 100,000 more
  calls for the jackknife, so it is not run. With ``REFERENCE_CALLS`` below 1,000 the
  reference time is extrapolated linearly and the row says so.

Targets: at least 10x faster than the reference and under 5 s; peak memory under 1.5 GB
(the process's peak, the 1M-rating table loaded included).

Issue 14: the ICC(2,1) (Henderson III) and Conger's kappa bootstraps on the same criterion,
1,000 resamples, BCa (grouped jackknife), through the weighted-unit-sum engines; the
reference is the index engine (refit per resample) timed on ``INDEX_RESAMPLES`` resamples
and extrapolated. Target: the whole ``reliability_table(by="criterion", bootstrap=1000)``
(the CLI's library call, all default coefficients, 4 criteria) under 20 s, < 1.5 GB.
"""

from __future__ import annotations

import time

from _harness import measure, row
from bench_reliability import _load, _table_pickle

N_RESAMPLES = 1000
REFERENCE_CALLS = 1000  # set lower to extrapolate (~28 ms per call on the dev machine)
CRITERION = "overview"


def ours_bootstrap(path: str) -> dict:
    from calibrate.reliability import CodedRatings, bootstrap

    table = _load(path)
    t = time.perf_counter()
    coded = CodedRatings.from_ratings_table(table, CRITERION)
    res = bootstrap(
        "krippendorff_alpha",
        coded,
        level="ordinal",
        n_resamples=N_RESAMPLES,
        method="bca",
        rng=20261123,
        progress=False,
    )
    seconds = time.perf_counter() - t
    boot = res.bootstrap_estimates
    return {
        "seconds": seconds,
        "estimate": res.estimate,
        "ci": res.ci,
        "mean": float(boot.mean()),
        "sd": float(boot.std(ddof=1)),
    }


def reference_bootstrap(path: str, calls: int) -> dict:
    import krippendorff
    import numpy as np

    from calibrate.reliability import CodedRatings

    table = _load(path)
    counts = CodedRatings.from_ratings_table(table, CRITERION).value_counts()
    domain = list(table.rubric.criterion(CRITERION).scores)
    estimate = float(
        krippendorff.alpha(value_counts=counts, level_of_measurement="ordinal", value_domain=domain)
    )
    gen = np.random.default_rng(1)
    n = len(counts)
    t = time.perf_counter()
    values = [
        float(
            krippendorff.alpha(
                value_counts=counts[gen.integers(0, n, n)],
                level_of_measurement="ordinal",
                value_domain=domain,
            )
        )
        for _ in range(calls)
    ]
    seconds = time.perf_counter() - t
    boot = np.asarray(values)
    return {
        "seconds": seconds * N_RESAMPLES / calls,
        "measured_seconds": seconds,
        "estimate": estimate,
        "ci": tuple(np.quantile(boot, [0.025, 0.975]).tolist()),
        "mean": float(boot.mean()),
        "sd": float(boot.std(ddof=1)),
    }


INDEX_RESAMPLES = 3


def ours_sum_bootstraps(path: str) -> dict:
    from calibrate.reliability import CodedRatings, bootstrap

    table = _load(path)
    coded = CodedRatings.from_ratings_table(table, CRITERION)
    out = {}
    for name, options in (
        ("icc", {"form": "ICC(2,1)"}),
        ("conger_kappa", {"weights": "quadratic"}),
    ):
        t = time.perf_counter()
        res = bootstrap(name, coded, n_resamples=N_RESAMPLES, rng=1, progress=False, **options)
        out[name] = {"seconds": time.perf_counter() - t, "estimate": res.estimate, "ci": res.ci}
    return out


def index_sum_bootstraps(path: str) -> dict:
    import numpy as np

    from calibrate.reliability import CodedRatings, conger_kappa, icc
    from calibrate.reliability._bootstrap import _IndexEngine, _Progress

    table = _load(path)
    coded = CodedRatings.from_ratings_table(table, CRITERION)
    out = {}
    for name, fn, options in (
        ("icc", icc, {"form": "ICC(2,1)"}),
        ("conger_kappa", conger_kappa, {"weights": "quadratic"}),
    ):
        engine = _IndexEngine(coded, fn, options)
        t = time.perf_counter()
        engine.resample(INDEX_RESAMPLES, np.random.default_rng(1), _Progress(1, False, ""))
        # resamples plus the 1,000-group jackknife the index engine also refits
        per = (time.perf_counter() - t) / INDEX_RESAMPLES
        out[name] = {"seconds": per * (N_RESAMPLES + 1000)}
    return out


def ours_table(path: str) -> dict:
    from calibrate.reliability import reliability_table

    table = _load(path)
    t = time.perf_counter()
    frame = reliability_table(table, by="criterion", bootstrap=N_RESAMPLES, rng=1, progress=False)
    return {"seconds": time.perf_counter() - t, "rows": len(frame)}


def run() -> list[dict]:
    path = str(_table_pickle())
    ours = measure("bench_bootstrap:ours_bootstrap", path, repeat=3)
    ref = measure("bench_bootstrap:reference_bootstrap", path, REFERENCE_CALLS)
    o, r = ours.info, ref.info
    same = abs(o["estimate"] - r["estimate"])
    sd_ratio = o["sd"] / r["sd"]
    extrapolated = (
        f"{REFERENCE_CALLS} calls timed, x{N_RESAMPLES // REFERENCE_CALLS} extrapolated"
        if REFERENCE_CALLS < N_RESAMPLES
        else f"{N_RESAMPLES} calls timed"
    )
    print(
        f"  alpha {o['estimate']:.6f} (krippendorff {r['estimate']:.6f}); BCa interval "
        f"[{o['ci'][0]:.4f}, {o['ci'][1]:.4f}]; reference percentile [{r['ci'][0]:.4f}, "
        f"{r['ci'][1]:.4f}]; bootstrap SD ours {o['sd']:.5f}, reference {r['sd']:.5f}"
    )
    m_ours = type(ours)(o["seconds"], ours.peak_mb, None)
    m_ref = type(ref)(r["seconds"], ref.peak_mb, None)
    sums = measure("bench_bootstrap:ours_sum_bootstraps", path)
    slow = measure("bench_bootstrap:index_sum_bootstraps", path)
    whole = measure("bench_bootstrap:ours_table", path)
    extra_rows = []
    for name in ("icc", "conger_kappa"):
        s_ours, s_ref = sums.info[name], slow.info[name]
        print(
            f"  {name} {s_ours['estimate']:.6f} BCa [{s_ours['ci'][0]:.4f}, {s_ours['ci'][1]:.4f}]"
        )
        extra_rows.append(
            row(
                "bootstrap",
                f"{name} BCa, {N_RESAMPLES} resamples, 100k submissions (ref: index engine, "
                f"{INDEX_RESAMPLES} resamples timed, extrapolated)",
                type(sums)(s_ours["seconds"], sums.peak_mb, None),
                reference=type(slow)(s_ref["seconds"], slow.peak_mb, None),
                target=">= 10x the index engine; < 1.5 GB",
                ok=s_ref["seconds"] / s_ours["seconds"] >= 10 and sums.peak_mb < 1536,
            )
        )
    extra_rows.append(
        row(
            "bootstrap",
            f"reliability_table by criterion, all default coefficients, {N_RESAMPLES} resamples",
            type(whole)(whole.info["seconds"], whole.peak_mb, None),
            target="< 20 s; < 1.5 GB",
            ok=whole.info["seconds"] < 20 and whole.peak_mb < 1536,
        )
    )
    return extra_rows + [
        row(
            "bootstrap",
            f"alpha BCa, {N_RESAMPLES} resamples, 100k submissions (ref: {extrapolated})",
            m_ours,
            reference=m_ref,
            target=">= 10x krippendorff loop; < 5 s; < 1.5 GB",
            ok=r["seconds"] / o["seconds"] >= 10
            and o["seconds"] < 5
            and ours.peak_mb < 1536
            and same < 1e-9
            and 0.8 < sd_ratio < 1.25,
        )
    ]
