"""Drift of the whole group against the key, and each reviewer's severity per time window
with a test for change."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

__all__ = ["GroupDrift", "group_drift_test", "window_codes", "window_tests"]

_MEDIAN_SD = np.sqrt(np.pi / 2)  # SD of the median of n N(0,1) is about 1.2533 / sqrt(n)


def json_value(v: Any) -> Any:
    """A value as strict JSON takes it: times as ISO text, NaT / NaN / None as None, numpy
    scalars as Python ones."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if np.isnan(v) else float(v)
    return v


@dataclass(frozen=True)
class GroupDrift:
    """Whether the whole group of reviewers moved against the key.

    Attributes
    ----------
    tested : bool
        False when there were too few key-referenced ratings (``reason`` says why).
    drifted : bool
        The change-point test is significant (``p_value <= alpha``) *and* the group's
        median shift is at least ``min_shift`` score points.
    onset : Timestamp or None
        Estimated start of the group's drift (the best split of the key ratings).
    direction : {'more_lenient', 'harsher'} or None
    magnitude : float
        Size of the median reviewer's shift at the onset, in score points (NaN: untested).
    shift : float
        The same, signed: positive = higher scores (more lenient).
    p_value : float
        Permutation p-value of the max-over-splits statistic.
    share_moved : float
        Share of the reviewers tested whose own shift has the group's sign.
    n_reviewers : int
        Reviewers with key ratings on both sides of the onset.
    alpha, min_shift : float
        The decision settings.
    windows : DataFrame
        Per time window: ``window, start, end, n_reviewers, n_steps, change`` (mean over
        reviewers of their window mean minus their own overall mean, score points),
        ``low``, ``high`` (95% normal interval across reviewers).
    reason : str
        Why the group was not tested, or a one-line summary.
    """

    tested: bool
    drifted: bool
    onset: pd.Timestamp | None
    direction: str | None
    magnitude: float
    shift: float
    p_value: float
    share_moved: float
    n_reviewers: int
    alpha: float
    min_shift: float
    windows: pd.DataFrame = field(repr=False)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: the onset and window edges as ISO text, NaN as None."""

        return {
            "tested": self.tested,
            "drifted": self.drifted,
            "onset": json_value(self.onset),
            "direction": self.direction,
            "magnitude": json_value(self.magnitude),
            "shift": json_value(self.shift),
            "p_value": json_value(self.p_value),
            "share_moved": json_value(self.share_moved),
            "n_reviewers": self.n_reviewers,
            "alpha": self.alpha,
            "min_shift": self.min_shift,
            "reason": self.reason,
            "windows": [
                {k: json_value(v) for k, v in r.items()}
                for r in self.windows.to_dict(orient="records")
            ],
        }

    def _repr_html_(self) -> str:
        return f"<div><strong>Group drift</strong><p>{html.escape(self.reason)}</p></div>"


def window_codes(time: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Window index of each time (int64 ns) for window ``edges`` (n_windows + 1)."""
    return np.clip(np.searchsorted(edges, time, side="right") - 1, 0, len(edges) - 2)


def _untested(reason: str, alpha: float, min_shift: float, windows: pd.DataFrame) -> GroupDrift:
    return GroupDrift(
        False,
        False,
        None,
        None,
        float("nan"),
        float("nan"),
        float("nan"),
        float("nan"),
        0,
        alpha,
        min_shift,
        windows,
        reason,
    )


def _group_windows(
    rev: np.ndarray, time: np.ndarray, y: np.ndarray, edges: np.ndarray
) -> pd.DataFrame:
    n_rev = int(rev.max(initial=-1)) + 1
    n_win = len(edges) - 1
    win = window_codes(time, edges)
    centre = np.bincount(rev, weights=y, minlength=n_rev) / np.maximum(
        np.bincount(rev, minlength=n_rev), 1
    )
    cell = rev * n_win + win
    cnt = np.bincount(cell, minlength=n_rev * n_win).reshape(n_rev, n_win)
    tot = np.bincount(cell, weights=y - centre[rev], minlength=n_rev * n_win).reshape(n_rev, n_win)
    rows = []
    for w in range(n_win):
        has = cnt[:, w] > 0
        vals = tot[has, w] / cnt[has, w]
        m = float(vals.mean()) if has.any() else float("nan")
        se = float(vals.std(ddof=1) / np.sqrt(has.sum())) if has.sum() > 1 else float("nan")
        rows.append(
            {
                "window": w,
                "start": pd.Timestamp(int(edges[w]), tz="UTC"),
                "end": pd.Timestamp(int(edges[w + 1]), tz="UTC"),
                "n_reviewers": int(has.sum()),
                "n_steps": int(cnt[:, w].sum()),
                "change": m,
                "low": m - 1.959964 * se,
                "high": m + 1.959964 * se,
            }
        )
    return pd.DataFrame(rows)


def _reviewer_scales(rev: np.ndarray, y: np.ndarray, n_rev: int) -> np.ndarray:
    """Successive-difference SD of each reviewer's steps (``rev`` sorted), the pooled one
    where a reviewer has no pair, floored at a quarter of the pooled one."""
    same = rev[1:] == rev[:-1]
    d2 = np.diff(y) ** 2
    ssd = np.bincount(rev[1:][same], weights=d2[same], minlength=n_rev)
    nsd = np.bincount(rev[1:][same], minlength=n_rev)
    pooled = np.sqrt(ssd.sum() / max(2 * nsd.sum(), 1)) if nsd.sum() else 0.5
    scale = np.where(nsd > 0, np.sqrt(ssd / np.maximum(2 * nsd, 1)), pooled)
    return np.maximum(scale, max(pooled, 1e-6) / 4)


def _reason(
    drifted: bool,
    shift: float,
    onset: pd.Timestamp,
    share: float,
    n_moved: int,
    p_value: float,
    alpha: float,
    min_shift: float,
) -> str:
    """The sentence that says whether the group drifted, and why (not)."""
    if drifted:
        direction = "more_lenient" if shift > 0 else "harsher"
        return (
            f"the group drifted: {direction.replace('_', ' ')} by {abs(shift):.2f} score points "
            f"(median reviewer) from about {onset:%Y-%m-%d}; {share:.0%} of {n_moved} "
            f"reviewers moved that way (permutation p = {p_value:.3f})"
        )
    why = (
        f"p = {p_value:.3f} > {alpha:g}"
        if p_value > alpha
        else f"median shift {abs(shift):.2f} < {min_shift:g} score points"
    )
    return (
        f"no group drift ({why}); best split {onset:%Y-%m-%d}, median reviewer shift "
        f"{shift:+.2f} score points"
    )


def group_drift_test(
    rev: np.ndarray,
    time: np.ndarray,
    y: np.ndarray,
    edges: np.ndarray,
    *,
    alpha: float,
    min_shift: float,
    n_permutations: int,
    rng: np.random.Generator,
    n_splits: int = 24,
    min_reviewers: int = 5,
) -> GroupDrift:
    """Change-point test for a shift shared by most reviewers, on key-referenced steps.

    Parameters
    ----------
    rev, time, y : arrays, one entry per step, sorted by reviewer then time
        Reviewer codes, times (int64 ns) and mean residuals (score points).
    edges : array of int64
        Time-window edges for the group's window table.

    Notes
    -----
    For a candidate onset ``tau`` each reviewer ``r`` with at least two steps on either
    side gets ``d_r = mean(after) - mean(before)`` and ``t_r = d_r / (s_r sqrt(1/n_b +
    1/n_a))`` (``s_r``: the reviewer's successive-difference SD, von Neumann 1941). The
    group statistic is the *median* ``t_r`` scaled to N(0, 1), ``Z(tau) = median(t_r)
    sqrt(R) / 1.2533``: one or a few drifting reviewers hardly move a median, a group
    that moves together does. ``max |Z(tau)|`` over ``n_splits`` candidate onsets (key
    step times between the 10% and 90% quantiles) is referred to its permutation
    distribution, each reviewer's residuals shuffled over that reviewer's own times
    (which keeps every reviewer's severity and workload pattern). The onset is the best
    split; the magnitude the median ``d_r`` there.

    Anchors of different calibration rounds differ, and every reviewer scores a round's
    anchors at the same time, so a key that is harsher on one round's anchors than on
    another's looks like group drift; ``min_shift`` keeps such small differences from
    being called drift. Seeded anchors reused over the window are free of this.
    """
    windows = _group_windows(rev, time, y, edges) if len(rev) else pd.DataFrame()
    if len(rev) == 0:
        return _untested(
            "no key-referenced ratings: group drift needs anchors or seeded anchors with a key",
            alpha,
            min_shift,
            windows,
        )
    n_rev = int(rev.max()) + 1
    qs = np.unique(np.quantile(time, np.linspace(0.1, 0.9, n_splits), method="lower"))
    scale = _reviewer_scales(rev, y, n_rev)
    # steps are sorted by reviewer then time: "after" a split is a tail of each block
    ends = np.searchsorted(rev, np.arange(n_rev), side="right")
    n_after = np.stack([np.bincount(rev, weights=time >= q, minlength=n_rev) for q in qs])
    n_all = np.bincount(rev, minlength=n_rev)[None, :]
    n_before = n_all - n_after
    eligible = (n_before >= 2) & (n_after >= 2)
    n_elig = eligible.sum(axis=1)
    tail = (ends[None, :] - n_after).astype(np.int64)  # first "after" position per block

    def statistic(yy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = np.concatenate([[0.0], np.cumsum(yy)])
        s_all = np.bincount(rev, weights=yy, minlength=n_rev)[None, :]
        s_after = c[ends][None, :] - c[tail]
        with np.errstate(invalid="ignore", divide="ignore"):
            d = s_after / n_after - (s_all - s_after) / n_before
            t = d / (scale * np.sqrt(1 / n_before + 1 / n_after))
        t = np.where(eligible, t, np.nan)
        med = np.zeros(len(qs))
        some = n_elig > 0
        med[some] = np.nanmedian(t[some], axis=1)
        z = np.where(n_elig >= min_reviewers, med * np.sqrt(n_elig) / _MEDIAN_SD, 0.0)
        return z, d

    if not (n_elig >= min_reviewers).any():
        return _untested(
            f"fewer than {min_reviewers} reviewers have key-referenced ratings on both sides "
            "of any candidate onset: group drift not tested",
            alpha,
            min_shift,
            windows,
        )
    z, d = statistic(y)
    best = int(np.argmax(np.abs(z)))
    observed = float(np.abs(z[best]))
    exceed = 0
    for _ in range(n_permutations):
        perm = np.lexsort((rng.random(len(y)), rev))  # shuffle within each reviewer
        zb, _ = statistic(y[perm])
        exceed += float(np.abs(zb).max()) >= observed - 1e-12
    p_value = (1 + exceed) / (1 + n_permutations)
    d_best = d[best][eligible[best]]
    shift = float(np.median(d_best))
    share = float(np.mean(np.sign(d_best) == np.sign(shift))) if shift != 0 else 0.0
    onset = pd.Timestamp(int(qs[best]), tz="UTC")
    drifted = bool(p_value <= alpha and abs(shift) >= min_shift)
    direction = "more_lenient" if shift > 0 else "harsher"
    reason = _reason(drifted, shift, onset, share, len(d_best), p_value, alpha, min_shift)
    return GroupDrift(
        True,
        drifted,
        onset,
        direction,
        abs(shift),
        shift,
        p_value,
        share,
        len(d_best),
        alpha,
        min_shift,
        windows,
        reason,
    )


def window_tests(
    stream: np.ndarray,
    window: np.ndarray,
    y: np.ndarray,
    n: np.ndarray,
    n_streams: int,
    n_windows: int,
    *,
    alpha: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per stream and window: scorings, ratings and mean residual; and per stream a
    one-way ANOVA F test of equal step means across windows, Holm-adjusted.

    Returns (windows, tests) frames indexed by stream code (the caller names them).
    """
    cell = stream * n_windows + window
    size = n_streams * n_windows
    cnt = np.bincount(cell, minlength=size).astype(float)
    nr = np.bincount(cell, weights=n, minlength=size)
    sy = np.bincount(cell, weights=y, minlength=size)
    syn = np.bincount(cell, weights=y * n, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_w = sy / cnt
        mean_rating = syn / nr
    win_frame = pd.DataFrame(
        {
            "stream": np.repeat(np.arange(n_streams), n_windows),
            "window": np.tile(np.arange(n_windows), n_streams),
            "n_scorings": cnt.astype(np.int64),
            "n_ratings": nr.astype(np.int64),
            "mean_residual": mean_rating,
        }
    )
    win_frame = win_frame.loc[win_frame["n_scorings"] > 0].reset_index(drop=True)
    # ANOVA pieces
    n_s = np.bincount(stream, minlength=n_streams).astype(float)
    mean_s = np.bincount(stream, weights=y, minlength=n_streams) / np.maximum(n_s, 1)
    ssw = np.bincount(stream, weights=(y - mean_w[cell]) ** 2, minlength=n_streams)
    ssb = np.bincount(
        np.repeat(np.arange(n_streams), n_windows),
        weights=np.where(
            cnt > 0, cnt * (np.nan_to_num(mean_w) - np.repeat(mean_s, n_windows)) ** 2, 0
        ),
        minlength=n_streams,
    )
    k = (cnt.reshape(n_streams, n_windows) > 0).sum(axis=1)
    df1, df2 = k - 1, n_s - k
    ok = (df1 >= 1) & (df2 >= 1) & (ssw > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (ssb / np.maximum(df1, 1)) / (ssw / np.maximum(df2, 1))
    p = np.where(
        ok, stats.f.sf(np.where(ok, f, 0.0), np.maximum(df1, 1), np.maximum(df2, 1)), np.nan
    )
    m = mean_w.reshape(n_streams, n_windows)
    has = cnt.reshape(n_streams, n_windows) > 0
    first = np.argmax(has, axis=1)
    last = n_windows - 1 - np.argmax(has[:, ::-1], axis=1)
    rows = np.arange(n_streams)
    change = np.where(k >= 2, m[rows, last] - m[rows, first], np.nan)
    tests = pd.DataFrame(
        {
            "stream": rows,
            "n_scorings": n_s.astype(np.int64),
            "n_windows": k,
            "f": np.where(ok, f, np.nan),
            "df1": df1,
            "df2": df2.astype(np.int64),
            "p_value": p,
            "change": change,
        }
    )
    tests["p_holm"] = _holm(tests["p_value"].to_numpy())
    tests["changed"] = tests["p_holm"] <= alpha
    return win_frame, tests


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (statsmodels' ``multipletests``, clipped at
    1); NaN stays NaN and is not counted among the tests."""
    out = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out
