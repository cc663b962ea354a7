"""The tables of a fitted set of charts: flags with their evidence, the reviewers checked, and the chart steps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibrate.drift._chart_fit import ChartFit
from calibrate.drift._limits import CHARTS
from calibrate.drift._residuals import SOURCES, Residuals, Steps
from calibrate.ratings import KINDS, RatingCodes, RatingsTable

__all__ = ["FLAG_COLUMNS", "chart_table", "checked_table", "flag_frame", "flag_rows"]

#: The columns of :attr:`DriftMonitor.flags_ <calibrate.drift.DriftMonitor.flags_>`.
FLAG_COLUMNS = (
    "reviewer_id",
    "onset",
    "signal_at",
    "direction",
    "magnitude",
    "shift",
    "shift_se",
    "shift_low",
    "shift_high",
    "chart",
    "source",
    "n_evidence",
    "ratings_after_onset",
    "sources_in_size",
    "false_alarm_rate",
    "false_alarm_rate_record",
    "arl",
    "limit",
    "k",
    "relative_to_group",
    "cusum_signal_at",
    "ewma_signal_at",
)
_EMPTY_TYPES = {
    "magnitude": float,
    "shift": float,
    "shift_se": float,
    "shift_low": float,
    "shift_high": float,
    "n_evidence": np.int64,
    "ratings_after_onset": np.int64,
    "false_alarm_rate": float,
    "false_alarm_rate_record": float,
    "arl": float,
    "limit": float,
    "k": float,
    "relative_to_group": bool,
}


#: The normal quantile of a 95% interval.
_Z95 = 1.959963984540054


def _time_at(times: np.ndarray, step: int) -> pd.Timestamp:
    """The time of a reviewer's step, NaT when the chart never signalled."""
    if step >= len(times):
        return pd.NaT
    return pd.Timestamp(int(times[step]), tz="UTC")


def _size(
    times: np.ndarray,
    src: np.ndarray,
    n: np.ndarray,
    y: np.ndarray,
    onset_ns: int,
    scale: np.ndarray,
) -> tuple[float, float, list[str]]:
    """Mean residual per rating after the onset minus before, per source, combined by
    inverse variance (a step's variance ``scale[source]**2``), and its standard error
    ``1 / sqrt(sum of weights)``: conditional on the onset, which the chart chose where the
    excursion began, so it understates the uncertainty of a fresh estimate."""
    est, weight, used = [], [], []
    for c in np.unique(src):
        m = src == c
        before, after = m & (times < onset_ns), m & (times >= onset_ns)
        if not before.any() or not after.any():
            continue
        mb = float((y[before] * n[before]).sum() / n[before].sum())
        ma = float((y[after] * n[after]).sum() / n[after].sum())
        var = scale[c] ** 2 * (1 / before.sum() + 1 / after.sum())
        est.append(ma - mb)
        weight.append(1 / var)
        used.append(SOURCES[int(c)])
    if not est:
        return float("nan"), float("nan"), []
    w = np.asarray(weight)
    return float(np.dot(w, est) / w.sum()), float(1 / np.sqrt(w.sum())), used


def _kind_text(codes: np.ndarray) -> np.ndarray:
    kinds = np.asarray([*KINDS, ""], dtype=object)
    return kinds[np.where(codes < 0, len(KINDS), codes)]


def _onset(path: np.ndarray, s: int) -> int:
    """Start of the CUSUM excursion that ended at (or spans) the signal at step ``s``:
    the step after the last zero before it."""
    zeros = np.flatnonzero((path[: s + 1] == 0) | np.isnan(path[: s + 1]))
    on = int(zeros[-1]) + 1 if len(zeros) else 0
    return min(on, s)


def _evidence(codes: RatingCodes, res: Residuals, window: np.ndarray) -> pd.DataFrame:
    """The residual ratings at positions ``window`` as an evidence table, in time order."""
    rows = res.row[window]
    ev = pd.DataFrame(
        {
            "submission_id": np.asarray(codes.submission_ids, dtype=object)[codes.submission[rows]],
            "criterion_id": np.asarray(codes.criterion_ids, dtype=object)[codes.criterion[rows]],
            "rated_at": pd.to_datetime(codes.time[rows], utc=True),
            "kind": _kind_text(codes.kind[rows]),
            "source": np.asarray(SOURCES, dtype=object)[res.source[window]],
            "score": res.score[window],
            "reference": res.reference[window],
            "residual": res.residual[window],
        }
    )
    ev = ev.sort_values(["rated_at", "submission_id", "criterion_id"], kind="stable")
    return ev.reset_index(drop=True)


def _ratings_by_reviewer(res: Residuals, reviewers: np.ndarray) -> dict[int, np.ndarray]:
    """Positions of the residual ratings of each of ``reviewers``."""
    pos = np.flatnonzero(np.isin(res.rev, reviewers))
    return {r: pos[i] for r, i in pd.Series(pos).groupby(res.rev[pos]).indices.items()}


def flag_rows(
    fit: ChartFit, res: Residuals, steps: Steps, codes: RatingCodes, group_drifted: bool
) -> tuple[list[dict[str, Any]], dict[str, pd.DataFrame]]:
    """One record per flagged reviewer (the columns of :data:`FLAG_COLUMNS`) and, per
    flagged reviewer id, the evidence: their ratings from the onset to the signal."""
    p, sig, lim = fit.paths, fit.signals, fit.limits
    rev_ids = codes.reviewer_ids
    rating_step_pos = p.pos[steps.step_of_rating]
    flagged = np.flatnonzero(sig.chart >= 0)
    by_rev = _ratings_by_reviewer(res, flagged)
    rows: list[dict[str, Any]] = []
    evidence: dict[str, pd.DataFrame] = {}
    for r in flagged:
        s, side = int(sig.step[r]), sig.side[r]
        on = _onset(p.up[r] if side > 0 else p.lo[r], s)
        mine = slice(p.starts[r], p.starts[r] + p.length[r])
        times_r, src_r = steps.time[mine], steps.source[mine]
        onset_ns, signal_ns = int(times_r[on]), int(times_r[s])
        shift, shift_se, used = _size(
            times_r, src_r, steps.n[mine], fit.y[mine], onset_ns, fit.scale_of_src
        )
        idx = by_rev.get(int(r), np.zeros(0, dtype=np.int64))
        ev = _evidence(codes, res, idx[(rating_step_pos[idx] >= on) & (rating_step_pos[idx] <= s)])
        evidence[str(rev_ids[r])] = ev
        chart = CHARTS[int(sig.chart[r])]
        srcs = sorted(set(ev["source"]), key=SOURCES.index) or [SOURCES[int(src_r[s])]]
        key_after = bool(((src_r == 0) & (times_r >= onset_ns)).any())
        rows.append(
            {
                "reviewer_id": str(rev_ids[r]),
                "onset": pd.Timestamp(onset_ns, tz="UTC"),
                "signal_at": pd.Timestamp(signal_ns, tz="UTC"),
                "direction": "more_lenient" if side > 0 else "harsher",
                "magnitude": abs(shift),
                "shift": shift,
                "shift_se": shift_se,
                "shift_low": shift - _Z95 * shift_se,
                "shift_high": shift + _Z95 * shift_se,
                "chart": chart,
                "source": "+".join(srcs),
                "n_evidence": len(ev),
                "ratings_after_onset": len(ev),
                "sources_in_size": "+".join(used),
                "false_alarm_rate": float(lim.fap[r]),
                "false_alarm_rate_record": float(lim.fap_record[r]),
                "arl": float(lim.arl_steps[chart][r] * fit.per_step[r]),
                "limit": float(lim.limits[chart][r]),
                "k": fit.k,
                "relative_to_group": bool(group_drifted and key_after),
                "cusum_signal_at": _time_at(times_r, sig.first_of["cusum"][r]),
                "ewma_signal_at": _time_at(times_r, sig.first_of["ewma"][r]),
            }
        )
    return rows, evidence


def flag_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The flags table from :func:`flag_rows`' records: typed even when empty, in order
    of onset, then reviewer."""
    flags = pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
    for col in ("onset", "signal_at", "cusum_signal_at", "ewma_signal_at"):
        flags[col] = pd.to_datetime(flags[col], utc=True)  # typed even when empty
    if flags.empty:
        flags = flags.astype(_EMPTY_TYPES)
    return flags.sort_values(["onset", "reviewer_id"], kind="stable").reset_index(drop=True)


def _reasons(fit: ChartFit, min_ratings: int, min_steps: int) -> list[str]:
    """Why each reviewer was not charted ("" where they were)."""
    reason = []
    for i in range(len(fit.ok)):
        if fit.ok[i]:
            reason.append("")
        elif fit.n_rat[i] == 0:
            reason.append(
                "no ratings with a time and a reference (key, or another reviewer on the same work)"
            )
        else:
            reason.append(
                f"{int(fit.n_rat[i])} referenced ratings in {int(fit.n_scored[i])} scored steps; "
                f"needs at least {min_ratings} ratings and {min_steps} steps"
            )
    return reason


def checked_table(
    fit: ChartFit, codes: RatingCodes, flags: pd.DataFrame, min_ratings: int, min_steps: int
) -> pd.DataFrame:
    """Every reviewer with a rating: counts per source, status and reason, limits and
    false-alarm rates, whether flagged."""
    all_ids = [str(v) for v in codes.reviewer_ids]
    present = np.bincount(codes.reviewer, minlength=len(all_ids))
    flagged = set(flags["reviewer_id"])
    lim = fit.limits
    checked = pd.DataFrame(
        {
            "reviewer_id": all_ids,
            "n_ratings": present,
            "n_referenced": fit.n_rat,
            "n_key": fit.n_by_src[0],
            "n_co_reviewers": fit.n_by_src[1],
            "n_model": fit.n_by_src[2],
            "n_steps": fit.paths.length,
            "status": np.where(fit.ok, "checked", "insufficient"),
            "reason": _reasons(fit, min_ratings, min_steps),
            "horizon_steps": np.where(fit.ok, lim.horizon_steps, 0),
            "cusum_limit": lim.limits["cusum"],
            "ewma_limit": lim.limits["ewma"],
            "false_alarm_rate": lim.fap,
            "false_alarm_rate_record": lim.fap_record,
            "flagged": [rid in flagged for rid in all_ids],
        }
    )
    return checked.loc[present > 0].reset_index(drop=True)


def _reviewer_categorical(table: RatingsTable, rev: np.ndarray) -> pd.Categorical:
    """Reviewer codes as a categorical over the table's reviewer categories (those without
    a rating included, as the frame has them)."""
    ids = table.codes.reviewer_ids
    col = table.frame["reviewer_id"]
    if not isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(rev, categories=ids)
    cats = pd.Index(col.cat.categories.astype(str), dtype=object)
    return pd.Categorical.from_codes(cats.get_indexer(ids)[rev], categories=cats)


def chart_table(fit: ChartFit, steps: Steps, table: RatingsTable) -> pd.DataFrame:
    """Every charted step with its residual, score and chart statistics (for plots)."""
    p, rev, pos = fit.paths, steps.rev, fit.paths.pos
    return pd.DataFrame(
        {
            "reviewer_id": _reviewer_categorical(table, rev),
            "step": pos,
            "rated_at": pd.to_datetime(steps.time, utc=True),
            "source": pd.Categorical.from_codes(
                steps.source, categories=pd.Index(SOURCES, dtype=object)
            ),
            "submission_id": np.asarray(table.codes.submission_ids, dtype=object)[steps.sub],
            "n_ratings": steps.n,
            "residual": fit.y,
            "score_z": fit.score_z,
            "cusum_upper": p.up[rev, pos],
            "cusum_lower": p.lo[rev, pos],
            "ewma": p.ew[rev, pos],
        }
    )
