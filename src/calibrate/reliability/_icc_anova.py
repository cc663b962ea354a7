"""ANOVA variance components of the ICC models: the one-way ANOVA and the two-way Henderson method III."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.csgraph
import scipy.sparse.linalg
from threadpoolctl import ThreadpoolController

from calibrate.reliability._icc_design import _Design

# Above this many reviewers the reviewer-by-reviewer system is solved sparsely.
_DENSE_RATERS = 3000


@dataclass(frozen=True)
class _Components:
    """Variance components and the ANOVA quantities that give F tests and intervals.

    ``var_rater`` is NaN for the one-way model. ``c_unit``/``c_rater`` are the coefficients
    of the variance components in the expected mean squares (k and n on complete data).
    """

    model: Literal["oneway", "twoway"]
    var_unit: float
    var_rater: float
    var_residual: float
    ms_unit: float
    ms_rater: float
    ms_residual: float
    df_unit: int
    df_rater: int
    df_residual: int
    c_unit: float
    c_rater: float
    note: str = ""
    n_iter: int = 0


def _undefined_components(model: Literal["oneway", "twoway"], note: str) -> _Components:
    nan = math.nan
    return _Components(model, nan, nan, nan, nan, nan, nan, 0, 0, 0, nan, nan, note)


def _size_problem(d: _Design) -> str:
    if d.n_ratings == 0:
        return "there are no ratings"
    if d.n_units < 2:
        return "only one submission was rated, so variance between submissions cannot be estimated"
    if d.n_pairable == 0:
        return (
            "no submission has two or more ratings (e.g. a single reviewer), so rating error "
            "cannot be separated from differences between submissions"
        )
    if np.ptp(d.y) == 0:
        return "all ratings are equal: there is no variance to apportion"
    return ""


def _oneway_anova(d: _Design) -> _Components:
    problem = _size_problem(d)
    if problem:
        return _undefined_components("oneway", problem)
    n, N = d.n_units, d.n_ratings
    unit_mean = np.bincount(d.unit, weights=d.y, minlength=n) / d.n_i
    ss_within = float(np.sum((d.y - unit_mean[d.unit]) ** 2))
    ss_within = 0.0 if ss_within <= 1e-12 * float(d.y @ d.y) else ss_within  # round-off
    ss_between = float(np.sum(d.n_i * unit_mean**2))  # y is centred
    df_b, df_w = n - 1, N - n
    ms_b, ms_w = ss_between / df_b, ss_within / df_w
    k0 = (N - float(np.sum(d.n_i.astype(np.float64) ** 2)) / N) / df_b
    return _Components(
        model="oneway",
        var_unit=(ms_b - ms_w) / k0,
        var_rater=math.nan,
        var_residual=ms_w,
        ms_unit=ms_b,
        ms_rater=math.nan,
        ms_residual=ms_w,
        df_unit=df_b,
        df_rater=0,
        df_residual=df_w,
        c_unit=k0,
        c_rater=math.nan,
    )


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's thread pools, looked up once (a lookup costs ~2 ms; a limit ~0.1 ms)."""
    return ThreadpoolController()


def _rater_system(d: _Design, unit_weight: np.ndarray) -> sp.csr_matrix:
    """``N' diag(w) N``: reviewer-by-reviewer sums of unit weights over shared units."""
    N = d.incidence
    return (N.T @ sp.diags(unit_weight) @ N).tocsr()


def _twoway_anova(d: _Design) -> _Components:
    problem = _size_problem(d) or (
        "reviewer identities are unknown (ratings built from counts), so only the one-way "
        "forms ICC(1,1) and ICC(1,k) are defined"
        if d.anonymous
        else ""
    )
    if problem:
        return _undefined_components("twoway", problem)
    n, m, N = d.n_units, d.n_raters, d.n_ratings
    unit_mean = np.bincount(d.unit, weights=d.y, minlength=n) / d.n_i
    rater_mean = np.bincount(d.rater, weights=d.y, minlength=m) / d.n_j
    ss_within_units = float(np.sum((d.y - unit_mean[d.unit]) ** 2))
    ss_within_raters = float(np.sum((d.y - rater_mean[d.rater]) ** 2))

    # Reduced normal equations for reviewer effects after absorbing submission effects:
    # C beta = b, C = D_r - N' D_s^-1 N (singular once per connected block of the design).
    shared = _rater_system(d, 1.0 / d.n_i)
    n_blocks, block = scipy.sparse.csgraph.connected_components(shared, directed=False)
    C = (sp.diags(d.n_j.astype(np.float64)) - shared).tocsr()
    b = np.bincount(d.rater, weights=d.y - unit_mean[d.unit], minlength=m)
    # One reference reviewer per block (effect fixed at 0) makes the system positive definite;
    # residuals do not depend on the choice.
    _, first = np.unique(block, return_index=True)
    free = np.ones(m, dtype=bool)
    free[first] = False
    beta = np.zeros(m)
    if free.any():
        C_free = C[free][:, free]
        if m <= _DENSE_RATERS:
            # One BLAS thread: the same digits on every machine (a multi-threaded solve
            # changes the last ones with the thread count), and faster at this size
            # than threads contending for a loaded machine's cores.
            with _blas().limit(limits=1, user_api="blas"):
                beta[free] = scipy.linalg.solve(C_free.toarray(), b[free], assume_a="pos")
        else:
            beta[free] = scipy.sparse.linalg.spsolve(C_free.tocsc(), b[free])
    alpha = unit_mean - np.bincount(d.unit, weights=beta[d.rater], minlength=n) / d.n_i
    sse = float(np.sum((d.y - alpha[d.unit] - beta[d.rater]) ** 2))

    df_s, df_r, df_e = n - n_blocks, m - n_blocks, N - n - m + n_blocks
    if df_e <= 0:
        return _undefined_components(
            "twoway",
            "the design leaves no residual degrees of freedom (every rating is explained by "
            "submission and reviewer effects), so rating error cannot be estimated",
        )
    # Henderson's method III (fitting constants): R(s | mu, r), R(r | mu, s) and SSE.
    # Snap round-off to zero so exact fits (perfect agreement, pure reviewer offsets) are exact.
    tiny = 1e-12 * float(d.y @ d.y)
    sse = 0.0 if sse <= tiny else sse
    r_units = ss_within_raters - sse
    r_units = 0.0 if abs(r_units) <= tiny else r_units
    r_raters = ss_within_units - sse
    r_raters = 0.0 if abs(r_raters) <= tiny else r_raters
    ms_e = sse / df_e
    ms_s = r_units / df_s
    # Coefficients of the components in E[MS]: tr(Z_s' M_r Z_s) / df, tr(Z_r' M_s Z_r) / df
    # (N - m and N - n when each cell holds at most one rating).
    c_s = (N - m) / df_s
    if df_r > 0:
        ms_r = r_raters / df_r
        c_r = (N - n) / df_r
        var_r = (ms_r - ms_e) / c_r
    else:
        ms_r = c_r = var_r = math.nan
    return _Components(
        model="twoway",
        var_unit=(ms_s - ms_e) / c_s,
        var_rater=var_r,
        var_residual=ms_e,
        ms_unit=ms_s,
        ms_rater=ms_r,
        ms_residual=ms_e,
        df_unit=df_s,
        df_rater=df_r,
        df_residual=df_e,
        c_unit=c_s,
        c_rater=c_r,
        note=""
        if df_r > 0
        else "reviewer variance is not estimable: no two reviewers share a submission",
    )
