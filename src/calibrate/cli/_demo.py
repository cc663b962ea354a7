"""``calibrate demo``: the main job on the synthetic programs, end to end.

Builds the store from every program in ``data/synthetic/`` and prints what it loaded.
Later workflows (calibration report, reliability, drift, policy) add their steps here;
the drift step writes ``<program>-drift.html`` with the flags and control charts.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from calibrate.cli._main import command
from calibrate.cli._options import add_store
from calibrate.cli._output import Outcome
from calibrate.cli._policy import DEFAULT_GRID
from calibrate.cli._store import prepare_write, summary_text
from calibrate.drift import DriftMonitor
from calibrate.io import read_program
from calibrate.policy import (
    best_policy,
    best_reviewer_expert,
    policy_grid,
    population_from_truth,
    sweep,
)
from calibrate.report import drift_report, round_report
from calibrate.store import Store, file_sha256
from calibrate.synth import ReviewerModel


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        default="data/synthetic",
        metavar="DIR",
        help="folder of program folders (default: data/synthetic)",
    )
    add_store(p)
    p.add_argument(
        "--reports",
        default="build/reports",
        metavar="DIR",
        help="folder for the HTML reports (default: build/reports)",
    )
    p.add_argument(
        "--policy-n",
        type=int,
        default=5000,
        help="simulated submissions per policy for the recommendation (default 5000)",
    )


@command(
    "demo", "Build the store from the synthetic programs and summarise what it holds.", _demo_args
)
def _demo(args: argparse.Namespace) -> Outcome:
    data = Path(args.data)
    folders = sorted(p.parent for p in data.glob("*/manifest.json"))
    if not folders:
        raise FileNotFoundError(
            f"no program folders (with manifest.json) in {data}; run `make data`"
        )
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    programs = [read_program(folder) for folder in folders]
    loaded: list[dict[str, Any]] = []
    existed = Path(args.store).is_file() and Path(args.store).stat().st_size > 0
    with Store.open(args.store) as store, ExitStack() as writing:
        prepare_write(store, existed=existed, backup=True)
        writing.enter_context(store.transaction(f"load the programs of {data}"))
        for folder, program in zip(folders, programs, strict=True):
            store.add_rubric(program.rubric)
            imports = [
                store.import_ratings(
                    program.ratings,
                    source=str(folder / "ratings.csv"),
                    sha256=file_sha256(folder / "ratings.csv"),
                )
            ]
            if program.key is not None:
                imports.append(
                    store.import_key(
                        program.key,
                        source=str(folder / "key.csv"),
                        sha256=file_sha256(folder / "key.csv"),
                    )
                )
            loaded.append(
                {
                    "program": program.name,
                    "folder": str(folder),
                    "rubric": program.rubric.id,
                    "imports": [r.to_dict() for r in imports],
                }
            )
        writing.close()  # commit: every program, or none
        summary = store.summary()
    reports: list[dict[str, str]] = []
    for program in programs:  # a calibration round report for the last round of each program
        if program.key is None or not program.ratings.rounds:
            continue
        last = program.ratings.rounds[-1]
        path = Path(args.reports) / f"{program.name}-round-{last}.html"
        round_report(program.ratings, program.key, round_id=last).write(path)
        reports.append({"program": program.name, "round_id": last, "report": str(path)})
    policies: list[dict[str, Any]] = []
    for (
        program
    ) in programs:  # the recommended decision policy, simulated with the program's reviewers
        if program.truth is None:
            continue
        reviewers = ReviewerModel.from_truth(program.truth["reviewers"])
        population = population_from_truth(program.truth)
        table = sweep(
            program.rubric,
            policy_grid(program.rubric, DEFAULT_GRID),
            reviewers,
            population,
            n=args.policy_n,
            rng=0,
            # the command's default: an expert as accurate as the best reviewer, not perfect
            expert=best_reviewer_expert(reviewers, program.rubric, population, rng=0),
        )
        choice = best_policy(table, max_false_pass=0.02)
        pick, why = choice.policy, choice.why
        policies.append(
            {
                "program": program.name,
                "recommendation": why,
                "policy": None
                if pick is None
                else {
                    k: pick[k]
                    for k in (
                        "reviewers",
                        "resolution",
                        "min_total",
                        "min_level",
                        "accuracy",
                        "false_pass_rate",
                        "reviews_per_submission",
                    )
                },
            }
        )
    drift: list[dict[str, Any]] = []
    for program in programs:  # reviewers drifting over the scoring window
        monitor = DriftMonitor(rng=0).fit(program.ratings, program.key)
        path = Path(args.reports) / f"{program.name}-drift.html"
        drift_report(monitor, title=f"Reviewer drift: {program.name}").write(path)
        drift.append(
            {
                "program": program.name,
                "report": str(path),
                "reviewers_checked": int((monitor.checked_["status"] == "checked").sum()),
                "group": monitor.group_.reason,
                "flags": [
                    {
                        "reviewer_id": f["reviewer_id"],
                        "onset": f["onset"].isoformat(),
                        "direction": f["direction"],
                        "magnitude": float(f["magnitude"]),
                        "chart": f["chart"],
                        "source": f["source"],
                    }
                    for f in monitor.flags_.to_dict(orient="records")
                ],
            }
        )
    lines = [f"Loaded {len(loaded)} synthetic program(s) from {data} into {args.store}:"]
    lines += [
        f"  - {p['program']} ({p['rubric']}): "
        + "; ".join(f"{i['what']} {i['rows']} rows, {i['added']} new" for i in p["imports"])
        for p in loaded
    ]
    lines += ["", summary_text(summary), "", "Calibration round reports:"]
    lines += [f"  - {r['program']} round {r['round_id']}: {r['report']}" for r in reports]
    lines += [
        "",
        f"Recommended decision policy (false pass <= 2%, {args.policy_n} simulated submissions per policy):",
    ]
    lines += [f"  - {p['program']}: {p['recommendation']}" for p in policies]
    lines += ["", "Reviewer drift (CUSUM, 5% false-alarm rate per reviewer over the record):"]
    for d in drift:
        flagged = (
            ", ".join(
                f"{f['reviewer_id']} {f['direction'].replace('_', ' ')} by {f['magnitude']:.2f} "
                f"from {f['onset'][:10]}"
                for f in d["flags"]
            )
            or "none flagged"
        )
        lines.append(
            f"  - {d['program']}: {len(d['flags'])} of {d['reviewers_checked']} reviewers "
            f"flagged ({flagged}); {d['report']}"
        )
    return Outcome(
        {
            "ok": True,
            "store": str(args.store),
            "programs": loaded,
            "summary": summary,
            "reports": reports,
            "policies": policies,
            "drift": drift,
        },
        "\n".join(lines),
    )
