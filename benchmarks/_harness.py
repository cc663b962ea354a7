"""Measure a function in a fresh process: wall time and that process's peak memory.

Each measurement runs in its own spawned interpreter, so the peak resident set is the
work's own (plus the interpreter and imports, which a user pays too), and one case's
caches cannot flatter the next.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_mb: float
    info: Any


def _run(target: str, args: tuple[Any, ...]) -> tuple[float, float, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    module, name = target.rsplit(":", 1)
    fn = getattr(importlib.import_module(module), name)
    t = time.perf_counter()
    info = fn(*args)
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return seconds, peak_mb, info


def measure(target: str, *args: Any, repeat: int = 1) -> Measurement:
    """Run ``module:function(*args)`` in a fresh process ``repeat`` times; best time, max peak."""
    ctx = mp.get_context("spawn")
    best, peak, info = float("inf"), 0.0, None
    for _ in range(repeat):
        # not a multiprocessing.Pool: its workers are daemons, in which joblib's loky
        # backend refuses to start workers (and silently runs one job)
        with ProcessPoolExecutor(1, mp_context=ctx) as pool:
            seconds, peak_mb, info = pool.submit(_run, target, args).result()
        best, peak = min(best, seconds), max(peak, peak_mb)
    return Measurement(best, peak, info)


def row(
    benchmark: str,
    what: str,
    m: Measurement,
    *,
    reference: Measurement | None = None,
    target: str = "",
    ok: bool | None = None,
) -> dict[str, Any]:
    """One line of the report; ``ratio`` is reference time / our time (higher is better)."""
    return {
        "benchmark": benchmark,
        "what": what,
        "seconds": round(m.seconds, 3),
        "peak_mb": round(m.peak_mb, 1),
        "reference_seconds": None if reference is None else round(reference.seconds, 3),
        "ratio": None if reference is None else round(reference.seconds / m.seconds, 2),
        "target": target,
        "met": ok,
    }
