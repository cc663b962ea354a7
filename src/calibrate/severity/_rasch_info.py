"""Full-information (joint) covariance of the many-facet Rasch facets under JML, with the
submission parameters absorbed by a Schur complement and the centring constraints imposed
by a constrained parametrisation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def sum_zero_basis(n: int) -> np.ndarray:
    """An orthonormal basis (n x (n - 1)) of the vectors summing to 0."""
    if n <= 1:
        return np.zeros((n, 0))
    a = np.vstack([np.eye(n - 1), -np.ones((1, n - 1))])
    q, _ = np.linalg.qr(a)
    return q


def constrained_covariance(info: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``B (B' I B)^-1 B'``: the covariance of parameters constrained to the column space
    of ``B`` (the same for every basis of that space)."""
    h = basis.T @ info @ basis
    try:
        inv = np.linalg.inv(h)
        if not np.isfinite(inv).all():
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(h)
    return basis @ inv @ basis.T


def facet_basis(
    n_rev: int, n_crit: int, present: np.ndarray, tau_sizes: Sequence[int]
) -> np.ndarray:
    """Block-diagonal basis for ``(severity[R], difficulty[C], tau groups...)``: severities
    sum to 0, the used criteria's difficulties sum to 0 (unused ones are fixed), and each
    threshold group's steps sum to 0."""
    blocks = [sum_zero_basis(n_rev)]
    bc = np.zeros((n_crit, max(len(present) - 1, 0)))
    bc[present] = sum_zero_basis(len(present))
    blocks.append(bc)
    blocks += [sum_zero_basis(k) for k in tau_sizes]
    rows = sum(b.shape[0] for b in blocks)
    cols = sum(b.shape[1] for b in blocks)
    out = np.zeros((rows, cols))
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def jml_joint_se(
    sub: np.ndarray,
    rev: np.ndarray,
    crit: np.ndarray,
    p: np.ndarray,
    keep: np.ndarray,
    n_sub: int,
    n_rev: int,
    n_crit: int,
    present: np.ndarray,
    groups: Sequence[np.ndarray],
    n_levels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Joint SEs of the severities and difficulties under JML.

    The information of all free parameters (abilities of the non-extreme submissions,
    severities, difficulties, thresholds) is ``Σ_i G_i' Cov(T_i) G_i`` with ``T = (X, -1[X>=1],
    ..., -1[X>=K-1])`` the sufficient statistic of a rating (the Rasch model is an exponential
    family, so observed = expected information). The abilities' block is diagonal and is
    absorbed by the Schur complement; the constraints (severities, difficulties and each
    threshold set summing to 0) enter through ``B (B' S B)^-1 B'``. Parameters without
    information (a reviewer whose ratings all went to extreme submissions) get ``inf``.
    """
    kmask = keep > 0
    sub, rev, crit, p = sub[kmask], rev[kmask], crit[kmask], p[kmask]
    kmax = p.shape[1]
    lv = np.arange(kmax, dtype=float)
    e = p @ lv
    v = np.maximum(p @ (lv * lv) - e * e, 1e-12)
    surv = np.cumsum(p[:, ::-1], axis=1)[:, ::-1][:, 1:]  # S_j = P(X >= j), j = 1..K-1
    xu = np.cumsum((p * lv)[:, ::-1], axis=1)[:, ::-1][:, 1:]  # E[X 1[X >= j]]
    cov_xu = xu - e[:, None] * surv  # Cov(X, U_j)
    tau_sizes = [int(n_levels[g[0]]) - 1 for g in groups]
    grp_of = np.full(n_crit, -1)
    for gi, g in enumerate(groups):
        grp_of[g] = gi
    offs = n_rev + n_crit + np.concatenate([[0], np.cumsum(tau_sizes)]).astype(int)
    n_par = int(offs[-1])
    j_pp = np.zeros((n_par, n_par))
    ri, ci = np.arange(n_rev), n_rev + np.arange(n_crit)
    j_pp[ri, ri] = np.bincount(rev, weights=v, minlength=n_rev)
    j_pp[ci, ci] = np.bincount(crit, weights=v, minlength=n_crit)
    cross = np.bincount(rev * n_crit + crit, weights=v, minlength=n_rev * n_crit)
    j_pp[:n_rev, n_rev : n_rev + n_crit] = cross.reshape(n_rev, n_crit)
    # the abilities' cross terms, as a sparse (n_par x n_sub) matrix: -V to severity and
    # difficulty, -Cov(X, U_j) to each threshold
    rows_l, cols_l, vals_l = [rev, n_rev + crit], [sub, sub], [-v, -v]
    for gi in range(len(groups)):
        k1 = tau_sizes[gi]
        in_g = grp_of[crit] == gi
        if k1 == 0 or not in_g.any():
            continue
        s_g, r_g, c_g = sub[in_g], rev[in_g], crit[in_g]
        cx, sv = cov_xu[in_g, :k1], surv[in_g, :k1]
        tcols = offs[gi] + np.arange(k1)
        for j in range(k1):
            t = int(tcols[j])
            j_pp[ri, t] = np.bincount(r_g, weights=cx[:, j], minlength=n_rev)
            j_pp[ci, t] = np.bincount(c_g, weights=cx[:, j], minlength=n_crit)
            rows_l.append(np.full(len(s_g), t))
            cols_l.append(s_g)
            vals_l.append(-cx[:, j])
        idx = np.maximum.outer(np.arange(k1), np.arange(k1))
        j_pp[np.ix_(tcols, tcols)] = sv.sum(axis=0)[idx] - sv.T @ sv
    upper = np.triu(j_pp, 1)
    j_pp = np.triu(j_pp) + upper.T
    j_ps = sparse.csr_matrix(
        (np.concatenate(vals_l), (np.concatenate(rows_l), np.concatenate(cols_l))),
        shape=(n_par, n_sub),
    )
    info_s = np.bincount(sub, weights=v, minlength=n_sub)
    inv_s = np.where(info_s > 0, 1.0 / np.where(info_s > 0, info_s, 1.0), 0.0)
    schur = j_pp - (j_ps @ sparse.diags(inv_s) @ j_ps.T).toarray()
    cov = constrained_covariance(schur, facet_basis(n_rev, n_crit, present, tau_sizes))
    var = np.diag(cov)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.maximum(var, 0.0))
    dead = np.diag(j_pp) <= 0
    se = np.where(dead, np.inf, se)
    se_r = se[:n_rev]
    se_c = np.where(np.isin(np.arange(n_crit), present), se[n_rev : n_rev + n_crit], np.nan)
    return se_r, se_c
