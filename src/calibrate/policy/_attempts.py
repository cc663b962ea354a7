"""The program's decisions per attempt: how resubmissions fare, and whether a resubmission
went back to a reviewer of the educator's previous attempt."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate._checks import check_confidence_level, check_instance
from calibrate._intervals import wilson_interval
from calibrate.policy._decisions import Decisions, decide
from calibrate.policy._policy import Policy
from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric

__all__ = ["ATTEMPT_SUMMARY_COLUMNS", "attempt_summary"]

#: The columns of :func:`attempt_summary`, in order.
ATTEMPT_SUMMARY_COLUMNS = (
    "attempt",
    "submissions",
    "pass",
    "not_yet",
    "pending",
    "pass_rate",
    "pass_low",
    "pass_high",
    "with_previous",
    "same_reviewer",
    "same_reviewer_share",
)


def attempt_summary(
    table: RatingsTable,
    attempts: pd.DataFrame,
    policy: Policy | None = None,
    *,
    rubric: Rubric | None = None,
    confidence_level: float = 0.95,
    decisions: Decisions | None = None,
) -> pd.DataFrame:
    """Decisions per attempt number: how first attempts and resubmissions fare.

    Parameters
    ----------
    table : RatingsTable
        The program's ratings; its live submissions are decided by :func:`decide` (the
        policy simulator's own decision code).
    attempts : DataFrame
        ``submission_id``, ``educator_id`` and ``attempt`` (1, 2, ...) per submission, as
        :func:`calibrate.io.resolve_attempts` gives them or the store keeps them
        (:meth:`Store.attributes`). Live submissions without an attempt are left out.
    policy : Policy, optional
        Default: the rubric's own.
    rubric : Rubric, optional
        Default: ``table.rubric``.
    confidence_level : float
        Of the Wilson intervals.
    decisions : Decisions, optional
        :func:`decide`'s result on the same table and policy, when the caller has it
        (it is not decided twice).

    Returns
    -------
    DataFrame
        One row per attempt number, columns :data:`ATTEMPT_SUMMARY_COLUMNS`: ``submissions``
        (live submissions of that attempt), ``pass`` / ``not_yet`` / ``pending``,
        ``pass_rate`` = pass / (pass + not yet) (pending ones are not decided yet) with
        its Wilson interval ``pass_low``, ``pass_high`` (NaN with none decided);
        ``with_previous``: attempts (>= 2) whose educator's previous attempt is in the
        table too, ``same_reviewer``: of those, how many had at least one reviewer who
        had reviewed that previous attempt, ``same_reviewer_share`` their ratio (NaN for
        attempt 1 or when no previous attempt is in the table).

    Notes
    -----
    The Wilson (1927) score interval is statsmodels'
    ``proportion_confint(method="wilson")``.

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.io import read_program
    >>> table = read_program("data/synthetic/pilot").ratings
    >>> live = sorted(table.frame.loc[table.frame["kind"] == "live", "submission_id"].unique())
    >>> attempts = pd.DataFrame({"submission_id": live,
    ...     "educator_id": [f"E{i % 40:02d}" for i in range(60)],
    ...     "attempt": ["1"] * 40 + ["2"] * 20})
    >>> attempt_summary(table, attempts)[["attempt", "submissions"]].values.tolist()
    [[1, 40], [2, 20]]
    """
    check_instance("table", table, RatingsTable)
    check_instance("attempts", attempts, pd.DataFrame, "a pandas DataFrame")
    cl = check_confidence_level(confidence_level)
    missing = [c for c in ("submission_id", "educator_id", "attempt") if c not in attempts.columns]
    if missing:
        raise ValueError(
            f"attempts must have the columns submission_id, educator_id and attempt; "
            f"missing {missing} (got {list(attempts.columns)})"
        )
    result = decisions if decisions is not None else decide(table, policy, rubric=rubric)
    check_instance("decisions", result, Decisions)
    known = attempts.dropna(subset=["educator_id", "attempt"])
    number: dict[str, int] = {}
    for sid, att in zip(known["submission_id"], known["attempt"], strict=True):
        text = str(att).strip()
        if not text.isdigit() or int(text) < 1:
            raise ValueError(
                f"attempt must be a whole number 1, 2, ...; got {att!r} for submission {sid!r}"
            )
        number[str(sid)] = int(text)
    educator = {
        str(s): str(e) for s, e in zip(known["submission_id"], known["educator_id"], strict=True)
    }
    rows = [r for r in result.rows if r["submission_id"] in number]
    reviewers = {r["submission_id"]: set(r["reviewers"]) for r in rows}
    by_attempt = {(educator[s], number[s]): s for s in reviewers}
    out = []
    for a in sorted({number[r["submission_id"]] for r in rows}):
        mine = [r for r in rows if number[r["submission_id"]] == a]
        dec = [r["decision"] for r in mine]
        passed, not_yet = dec.count("pass"), dec.count("not yet")
        with_previous = same = 0
        if a > 1:
            for r in mine:
                sid = r["submission_id"]
                prev = by_attempt.get((educator[sid], a - 1))
                if prev is None:
                    continue
                with_previous += 1
                same += bool(reviewers[sid] & reviewers[prev])
        out.append(
            {
                "attempt": a,
                "submissions": len(mine),
                "pass": passed,
                "not_yet": not_yet,
                "pending": dec.count("pending"),
                "with_previous": with_previous,
                "same_reviewer": same,
            }
        )
    if not out:
        return pd.DataFrame({c: pd.Series([], dtype=float) for c in ATTEMPT_SUMMARY_COLUMNS})
    frame = pd.DataFrame(out)
    decided = (frame["pass"] + frame["not_yet"]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["pass_rate"] = frame["pass"].to_numpy(dtype=float) / decided
        lo, hi = wilson_interval(frame["pass"], decided, cl)
        frame["same_reviewer_share"] = frame["same_reviewer"] / frame["with_previous"].where(
            frame["with_previous"] > 0
        )
    frame["pass_low"], frame["pass_high"] = lo, hi
    return frame[list(ATTEMPT_SUMMARY_COLUMNS)]
