"""REML variance components of the ICC models (the mixed model's restricted likelihood, maximised)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from calibrate.reliability import _icc_anova
from calibrate.reliability._icc_anova import (
    _Components,
    _oneway_anova,
    _rater_system,
    _twoway_anova,
    _undefined_components,
)
from calibrate.reliability._icc_design import _Design

# REML keeps one reviewer x reviewer matrix per distinct number of ratings per unit up to
# this many entries in all.
_REML_GROUP_ENTRIES = 20_000_000


class _Reml:
    """Restricted likelihood of y = mu + s_i (+ r_j) + e with the residual variance profiled out.

    With gamma = var / var_residual, V / var_residual = I + Z Gamma Z'. Absorbing the
    (diagonal) submission block leaves an m x m reviewer system
    S = I + g_r D_r - g_s g_r N' diag(1 / a) N, a_i = 1 + g_s n_i, so that
    log|V| = sum log a_i + log|S| and, by Woodbury's identity,
    x'V^-1 z = x'z - g_s sum_i X_i Z_i / a_i - g_r u_x' S^-1 u_z with
    u_x = N'x - g_s N' (X / a) (X_i the unit totals of x). Since a_i depends on a unit only
    through n_i, all sums are pre-grouped by the distinct values of n_i: an evaluation
    costs O(distinct n_i x reviewers^2) plus one reviewers^3 Cholesky factorisation.
    """

    def __init__(self, d: _Design, twoway: bool) -> None:
        self.twoway = twoway
        self.n_ratings = d.n_ratings
        unit_total = np.bincount(d.unit, weights=d.y, minlength=d.n_units)
        self.yy = float(d.y @ d.y)
        self.sum_y = float(d.y.sum())
        counts, group = np.unique(d.n_i, return_inverse=True)
        self.c = counts.astype(np.float64)
        g = len(counts)
        self.units_c = np.bincount(group, minlength=g).astype(np.float64)
        self.sum_t_c = np.bincount(group, weights=unit_total, minlength=g)
        self.sum_t2_c = np.bincount(group, weights=unit_total**2, minlength=g)
        if twoway:
            m = d.n_raters
            self.n_j = d.n_j.astype(np.float64)
            self.rater_total = np.bincount(d.rater, weights=d.y, minlength=m)
            rating_group = group[d.unit]
            # Per group of n_i: N_c' T (reviewer sums of unit totals) and N_c' 1.
            cell = rating_group * m + d.rater
            self.t_by_rater = np.bincount(
                cell, weights=unit_total[d.unit], minlength=g * m
            ).reshape(g, m)
            self.units_by_rater = np.bincount(cell, minlength=g * m).reshape(g, m).astype(float)
            self.design, self.group = d, group
            # N_c' N_c per group costs g x m^2 memory; past _REML_GROUP_ENTRIES (many
            # distinct n_i) N' diag(1/a) N is recomputed sparsely at each evaluation.
            self.shared: list | None = None
            if g * m * m <= _REML_GROUP_ENTRIES:
                self.shared = []
                for gi in range(g):
                    N_c = d.incidence[np.flatnonzero(group == gi)]
                    N_cN_c = (N_c.T @ N_c).tocsr()
                    self.shared.append(
                        N_cN_c.toarray() if m <= _icc_anova._DENSE_RATERS else N_cN_c
                    )

    def _forms(self, g_s: float, g_r: float) -> tuple[float, float, float, float]:
        """log|V|, y'V^-1 y, 1'V^-1 y, 1'V^-1 1 (V scaled by the residual variance)."""
        a = 1.0 + g_s * self.c
        w = self.units_c / a
        logdet = float(self.units_c @ np.log(a))
        q_yy = self.yy - g_s * float(np.sum(self.sum_t2_c / a))
        q_1y = self.sum_y - g_s * float(np.sum(self.c * self.sum_t_c / a))
        q_11 = self.n_ratings - g_s * float(w @ self.c**2)
        if self.twoway and g_r > 0:
            u_y = self.rater_total - g_s * ((1.0 / a) @ self.t_by_rater)
            u_1 = self.n_j - g_s * ((self.c / a) @ self.units_by_rater)
            if self.shared is not None:
                S = sum((-g_s * g_r / a_c) * G for a_c, G in zip(a, self.shared, strict=True))
            else:
                S = -g_s * g_r * _rater_system(self.design, 1.0 / a[self.group])
            S = np.array(S.toarray() if sp.issparse(S) else S)
            S[np.diag_indices_from(S)] += 1.0 + g_r * self.n_j
            cho = scipy.linalg.cho_factor(S)
            logdet += 2.0 * float(np.sum(np.log(np.diag(cho[0]))))
            S_y = scipy.linalg.cho_solve(cho, u_y)
            q_yy -= g_r * float(u_y @ S_y)
            q_1y -= g_r * float(u_1 @ S_y)
            q_11 -= g_r * float(u_1 @ scipy.linalg.cho_solve(cho, u_1))
        return logdet, q_yy, q_1y, q_11

    def _gammas(self, tau: np.ndarray) -> tuple[float, float]:
        return float(tau[0]) ** 2, (float(tau[1]) ** 2 if self.twoway else 0.0)

    def deviance(self, tau: np.ndarray) -> float:
        """-2 restricted log-likelihood (up to a constant) at gamma = tau**2."""
        logdet, q_yy, q_1y, q_11 = self._forms(*self._gammas(tau))
        dof = self.n_ratings - 1
        quad = q_yy - q_1y**2 / q_11
        if not (quad > 0 and q_11 > 0):
            return math.inf  # round-off far from the optimum; steer the simplex away
        return dof * math.log(quad / dof) + logdet + math.log(q_11)

    def sigma2(self, tau: np.ndarray) -> float:
        _, q_yy, q_1y, q_11 = self._forms(*self._gammas(tau))
        return (q_yy - q_1y**2 / q_11) / (self.n_ratings - 1)


def _reml(d: _Design, twoway: bool) -> _Components:
    """REML variance components, started from the method-III estimates."""
    start = _twoway_anova(d) if twoway else _oneway_anova(d)
    model: Literal["oneway", "twoway"] = "twoway" if twoway else "oneway"
    if not math.isfinite(start.var_residual):
        return _undefined_components(model, start.note)
    if not start.var_residual > 0:
        # Zero residual variance is the REML boundary too; the ratios would be unbounded.
        note = "no residual variation: REML reduces to the method-III (ANOVA) estimates"
        return replace(start, note="; ".join(filter(None, [start.note, note])))
    obj = _Reml(d, twoway)
    s2 = start.var_residual
    tau0 = [math.sqrt(max(start.var_unit / s2, 0.01))]
    if twoway:
        tau0.append(
            math.sqrt(max(start.var_rater / s2, 0.01) if math.isfinite(start.var_rater) else 0.01)
        )
    import scipy.optimize  # here: the default (ANOVA) estimator never needs it

    opt = scipy.optimize.minimize(
        obj.deviance,
        np.asarray(tau0),
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000},
    )
    tau = np.abs(opt.x)
    s2 = obj.sigma2(tau)
    return _Components(
        model=model,
        var_unit=float(tau[0] ** 2 * s2),
        var_rater=float(tau[1] ** 2 * s2) if twoway else math.nan,
        var_residual=s2,
        ms_unit=math.nan,
        ms_rater=math.nan,
        ms_residual=math.nan,
        df_unit=start.df_unit,
        df_rater=start.df_rater,
        df_residual=start.df_residual,
        c_unit=math.nan,
        c_rater=math.nan,
        note="" if opt.success else f"REML optimiser did not converge: {opt.message}",
        n_iter=int(opt.nit),
    )
