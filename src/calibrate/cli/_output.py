"""How every subcommand answers: a JSON document or a readable table, and an exit code.

The contract: ``--format json`` prints machine-readable JSON on stdout, ``--format table``
(the default) a readable table; exit 0 on success, 1 when the data has problems (all of
them listed), 2 on a usage error. Never a traceback for bad data.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from calibrate._problems import DataProblemError

if TYPE_CHECKING:  # numpy and pandas load with the first command, not with the parser
    import pandas as pd

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Arguments that do not fit together (exit code 2)."""


@dataclass
class Outcome:
    """What a subcommand produced: ``payload`` for JSON, ``text`` for people."""

    payload: Any
    text: str
    code: int = EXIT_OK
    stderr: list[str] = field(default_factory=list)


def _plain(obj: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, pd.Timestamp):
        return None if pd.isna(obj) else obj.isoformat()
    if obj is pd.NaT or obj is pd.NA:
        return None
    return obj


def to_json(payload: Any) -> str:
    """JSON with NaN as null and numpy scalars as numbers."""
    return json.dumps(_plain(payload), indent=2, ensure_ascii=False)


def emit(outcome: Outcome, fmt: str) -> int:
    for line in outcome.stderr:
        print(line, file=sys.stderr)
    if fmt == "json":
        print(to_json(outcome.payload))
    elif outcome.text:
        print(outcome.text)
    return outcome.code


def frame_text(frame: pd.DataFrame, *, max_rows: int = 60) -> str:
    """A DataFrame as a plain table for the terminal."""
    if frame.empty:
        return "(none)"
    return frame.to_string(index=False, max_rows=max_rows, float_format=lambda x: f"{x:.4g}")


def problems_outcome(exc: Exception, *, what: str) -> Outcome:
    """Data problems as an outcome with exit code 1 (every problem listed)."""
    if not isinstance(exc, DataProblemError):
        exc = DataProblemError(getattr(exc, "problems", ()))
    listed = [p for p in exc.problems if not p.more]
    n = exc.total
    payload = {
        "ok": False,
        "error": f"{n} problem(s) in the {what}",
        # the listed problems (at most 50 of a kind); problem_counts counts every kind
        "problems": [p.to_dict() for p in listed],
        "problem_counts": exc.problem_counts,
        "more": n - len(listed),
    }
    lines = [f"{n} problem(s) in the {what}:", *exc.lines()]
    hint = getattr(exc, "hint", None)  # how to go on (a store conflict: --supersede)
    if hint:
        payload["hint"] = hint
        lines.append(f"({hint})")
    return Outcome(payload, "\n".join(lines), EXIT_DATA)
