"""Issue 7: the G-study on 1,000,000 ratings (target: under 30 s and under 2 GB).

Ours: read and validate the CSV, then ``g_study`` (p x r x c with missing cells,
Henderson's method 1) with 200 parametric-bootstrap replicates; the G-study's own time is
reported from inside the run too. Reference in the same run: statsmodels ``MixedLM`` REML
of the same seven-component model on a subset (crossed random effects as variance
components of a single group), with the time extrapolated to the full data as linear in
the number of ratings -- a lower bound, since its dense design matrices grow faster.
"""

from __future__ import annotations

import time

from _data import RUBRIC, state_scale_csv
from _harness import measure, row

REFERENCE_SUBMISSIONS = 50


def calibrate_gstudy(csv: str) -> dict:
    from calibrate.audit import g_study
    from calibrate.io import read_ratings
    from calibrate.rubric import load_rubric

    table = read_ratings(csv, load_rubric(RUBRIC))
    t = time.perf_counter()
    res = g_study(table, n_resamples=200, rng=0)
    return {
        "n": res.n_ratings,
        "gstudy_seconds": time.perf_counter() - t,
        "variance": dict(zip(res.names, res.variance, strict=True)),
    }


def statsmodels_reml_subset(csv: str) -> dict:
    import warnings

    import pandas as pd
    import statsmodels.formula.api as smf

    frame = pd.read_csv(csv, usecols=["submission_id", "reviewer_id", "criterion_id", "score"])
    keep = frame["submission_id"].isin(
        frame["submission_id"].drop_duplicates().iloc[:REFERENCE_SUBMISSIONS]
    )
    sub = frame[keep].copy()
    sub["g"] = 1
    # interaction levels as single factors: C(a):C(b) would expand to every combination
    sub["pr"] = sub["submission_id"] + "|" + sub["reviewer_id"]
    sub["pc"] = sub["submission_id"] + "|" + sub["criterion_id"]
    sub["rc"] = sub["reviewer_id"] + "|" + sub["criterion_id"]
    vc = {
        "p": "0 + C(submission_id)",
        "r": "0 + C(reviewer_id)",
        "c": "0 + C(criterion_id)",
        "pr": "0 + C(pr)",
        "pc": "0 + C(pc)",
        "rc": "0 + C(rc)",
    }
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("score ~ 1", sub, groups="g", vc_formula=vc, re_formula="0").fit(
            reml=True
        )
    seconds = time.perf_counter() - t
    return {
        "n": len(sub),
        "fit_seconds": seconds,
        "n_total": len(frame),
        "variance": {
            **dict(zip(fit.model.exog_vc.names, fit.vcomp, strict=True)),
            "prc,e": float(fit.scale),
        },
    }


def run() -> list[dict]:
    csv = str(state_scale_csv())
    ours = measure("bench_audit:calibrate_gstudy", csv)
    ref = measure("bench_audit:statsmodels_reml_subset", csv)
    n, info = ours.info["n"], ref.info
    extrapolated = info["fit_seconds"] * info["n_total"] / info["n"]
    print(
        f"  calibrate G-study alone: {ours.info['gstudy_seconds']:.2f} s; components {ours.info['variance']}"
    )
    print(
        f"  statsmodels MixedLM REML on {info['n']:,} ratings: {info['fit_seconds']:.2f} s "
        f"(x{info['n_total'] / info['n']:.0f} linearly: >= {extrapolated:,.0f} s for all); components {info['variance']}"
    )
    return [
        row(
            "audit",
            f"read + G-study (200 bootstrap), {n:,} ratings",
            ours,
            target="< 30 s and < 2 GB",
            ok=ours.seconds < 30 and ours.peak_mb < 2048,
        ),
        row(
            "audit",
            f"statsmodels MixedLM REML, {info['n']:,} ratings (subset)",
            ref,
            target=f"extrapolated to all: >= {extrapolated:,.0f} s",
        ),
    ]
