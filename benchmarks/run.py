"""Run the benchmarks and print their figures: ``make bench`` (or ``python benchmarks/run.py``).

Every benchmark measures the kit and the reference approach in the same run and prints the
ratio (reference seconds / calibrate seconds). ``--only NAME`` runs one benchmark;
``--json PATH`` also writes the rows as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BENCHMARKS = [
    "bench_import",
    "bench_import_forms",
    "bench_dashboard",
    "bench_audit",
    "bench_policy",
    "bench_reliability",
    "bench_severity",
    "bench_bootstrap",
    "bench_drift",
    "bench_feedback",
    "bench_cli",
    "bench_fairness",
    "bench_session",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", choices=BENCHMARKS, action="append", help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the result rows to this JSON file")
    args = parser.parse_args(argv)
    rows = []
    for name in args.only or BENCHMARKS:
        print(f"== {name}", flush=True)
        rows += importlib.import_module(name).run()
    print()
    header = f"{'benchmark':<14} {'what':<52} {'seconds':>8} {'peak MB':>8} {'ref s':>8} {'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    for r in rows:
        ref = "" if r["reference_seconds"] is None else f"{r['reference_seconds']:.2f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        met = "" if r["met"] is None else ("  met" if r["met"] else "  NOT MET")
        print(
            f"{r['benchmark']:<14} {r['what']:<52} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f} {ref:>8} {ratio:>7}  {r['target']}{met}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["met"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
