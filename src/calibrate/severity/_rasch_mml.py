"""Marginal maximum likelihood for the many-facet Rasch model: submission abilities
integrated out under a normal population by adaptive Gauss-Hermite quadrature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

from calibrate.severity._rasch_info import constrained_covariance, facet_basis

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


class MarginalRasch:
    """The marginal log-likelihood of the facets (and its gradient) on long rating arrays.

    Full parameter vector ``(severity[R], difficulty[C], steps of each threshold group...,
    mu, log sigma)``; the free parameters are its coordinates in :func:`facet_basis` (plus
    ``mu, log sigma``), so the centring constraints hold by construction. The quadrature
    nodes of submission ``s`` are ``m_s + s_s z_q`` (``z_q, w_q`` probabilists'
    Gauss-Hermite), held fixed while the parameters move and re-centred on the posterior
    (adaptive quadrature, Liu & Pierce 1994) between moves.
    """

    def __init__(
        self,
        sub: np.ndarray,
        rev: np.ndarray,
        crit: np.ndarray,
        x: np.ndarray,
        n_sub: int,
        n_rev: int,
        n_crit: int,
        n_levels: np.ndarray,
        present: np.ndarray,
        groups: Sequence[np.ndarray],
        n_nodes: int,
    ) -> None:
        self.sub, self.rev, self.crit, self.x = sub, rev, crit, x.astype(np.int64)
        self.xf = self.x.astype(float)
        self.n_sub, self.n_rev, self.n_crit = n_sub, n_rev, n_crit
        self.n_levels, self.groups = n_levels, list(groups)
        self.kmax = int(n_levels.max())
        self.tau_sizes = [int(n_levels[g[0]]) - 1 for g in self.groups]
        self.grp_of = np.full(n_crit, -1)
        for gi, g in enumerate(self.groups):
            self.grp_of[g] = gi
        fb = facet_basis(n_rev, n_crit, present, self.tau_sizes)
        self.basis = np.zeros((fb.shape[0] + 2, fb.shape[1] + 2))
        self.basis[: fb.shape[0], : fb.shape[1]] = fb
        self.basis[-2, -2] = self.basis[-1, -1] = 1.0
        self.tau_off = n_rev + n_crit + np.concatenate([[0], np.cumsum(self.tau_sizes)]).astype(int)
        z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
        self.z = z
        # log of w_q / phi(z_q), with w normalised to the standard normal
        self.lwz = np.log(w / w.sum()) + 0.5 * z * z + _LOG_SQRT_2PI
        n = len(x)
        self.a = sparse.csr_matrix((np.ones(n), (sub, np.arange(n))), shape=(n_sub, n))
        self.m = np.zeros(n_sub)
        self.s = np.ones(n_sub)
        self.ge = [self.x[:, None] >= np.arange(1, self.kmax)[None, :]]  # 1[x >= j]

    # ---- parameter maps --------------------------------------------------------------
    def unpack(self, full: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        r, c = self.n_rev, self.n_crit
        alpha, delta = full[:r], full[r : r + c]
        tau = np.zeros((c, self.kmax - 1))
        for gi, g in enumerate(self.groups):
            k1 = self.tau_sizes[gi]
            tau[g, :k1] = full[self.tau_off[gi] : self.tau_off[gi] + k1]
        return alpha, delta, tau, float(full[-2]), float(np.exp(full[-1]))

    def pack(
        self, alpha: np.ndarray, delta: np.ndarray, tau: np.ndarray, mu: float, sigma: float
    ) -> np.ndarray:
        parts = [alpha, delta]
        parts += [tau[g[0], : self.tau_sizes[gi]] for gi, g in enumerate(self.groups)]
        return np.concatenate([*parts, [mu, np.log(sigma)]])

    def cumtau(self, tau: np.ndarray) -> np.ndarray:
        out = np.full((self.n_crit, self.kmax), np.inf)
        for c in range(self.n_crit):
            k = int(self.n_levels[c])
            out[c, 0] = 0.0
            out[c, 1:k] = np.cumsum(tau[c, : k - 1])
        return out

    # ---- likelihood -----------------------------------------------------------------
    def _nodes(self, mu: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        th = self.m[:, None] + self.s[:, None] * self.z[None, :]
        u = (th - mu) / sigma
        lw = (
            self.lwz[None, :]
            + np.log(self.s)[:, None]
            - 0.5 * u * u
            - np.log(sigma)
            - _LOG_SQRT_2PI
        )
        return th, lw

    def evaluate(
        self, full: np.ndarray, grad: bool = True, scores: bool = False
    ) -> tuple[float, np.ndarray | None, np.ndarray, sparse.csr_matrix | None]:
        """Marginal log-likelihood, its gradient in the full coordinates, the posterior
        weights over the nodes (n_sub x Q) and (``scores=True``) each submission's score
        vector (the rows of a sparse n_sub x n_full matrix)."""
        alpha, delta, tau, mu, sigma = self.unpack(full)
        ct = self.cumtau(tau)
        th, lw = self._nodes(mu, sigma)
        lv = np.arange(self.kmax, dtype=float)
        eta = th[self.sub] - (alpha[self.rev] + delta[self.crit])[:, None]
        ctc = ct[self.crit]
        # levels first, so that every reduction over levels runs on contiguous slices
        psi = eta[None, :, :] * lv[:, None, None] - ctc.T[:, :, None]
        psi_x = eta * self.xf[:, None] - ctc[np.arange(len(self.x)), self.x][:, None]
        mx = np.maximum.reduce(psi, axis=0)
        psi -= mx
        np.exp(psi, out=psi)
        tot = np.add.reduce(psi, axis=0)
        lp = psi_x - mx - np.log(tot)
        ll = np.asarray(self.a @ lp) + lw
        top = ll.max(axis=1, keepdims=True)
        post = np.exp(ll - top)
        lsum = post.sum(axis=1, keepdims=True)
        post /= lsum
        value = float((np.log(lsum[:, 0]) + top[:, 0]).sum())
        if not grad:
            return value, None, post, None
        pi = post[self.sub] / tot  # posterior weight / normaliser: P-bar in one contraction
        ones = np.ones(pi.shape[1])
        p_bar = np.stack([(psi[k] * pi) @ ones for k in range(self.kmax)], axis=1)
        r = self.xf - p_bar @ lv
        s_bar = np.cumsum(p_bar[:, ::-1], axis=1)[:, ::-1][:, 1:] - self.ge[0]
        u = (th - mu) / sigma
        g_mu = (post * u).sum(axis=1) / sigma
        g_ls = (post * (u * u - 1.0)).sum(axis=1)
        rows = [self.sub, self.sub]
        cols = [self.rev, self.n_rev + self.crit]
        vals = [-r, -r]
        for gi in range(len(self.groups)):
            k1 = self.tau_sizes[gi]
            in_g = self.grp_of[self.crit] == gi
            if k1 == 0 or not in_g.any():
                continue
            for j in range(k1):
                rows.append(self.sub[in_g])
                cols.append(np.full(int(in_g.sum()), self.tau_off[gi] + j))
                vals.append(s_bar[in_g, j])
        n_full = len(full)
        rows += [np.arange(self.n_sub)] * 2
        cols += [np.full(self.n_sub, n_full - 2), np.full(self.n_sub, n_full - 1)]
        vals += [g_mu, g_ls]
        if scores:
            mat = sparse.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(self.n_sub, n_full),
            )
            return value, np.asarray(mat.sum(axis=0))[0], post, mat
        g = np.bincount(np.concatenate(cols), weights=np.concatenate(vals), minlength=n_full)
        return value, g, post, None

    def adapt(self, post: np.ndarray, mu: float, sigma: float) -> None:
        """Re-centre each submission's nodes on its posterior mean and SD."""
        th, _ = self._nodes(mu, sigma)
        m = (post * th).sum(axis=1)
        sd = np.sqrt(np.maximum((post * (th - m[:, None]) ** 2).sum(axis=1), 0.0))
        self.m, self.s = m, np.maximum(sd, 1e-3)

    def posterior(self, full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EAP and posterior SD of every submission at ``full``."""
        mu, sigma = self.unpack(full)[3:]
        for _ in range(3):
            post = self.evaluate(full, grad=False)[2]
            self.adapt(post, mu, sigma)
        return self.m.copy(), self.s.copy()


def fit_mml(
    model: MarginalRasch,
    start: np.ndarray,
    max_iter: int,
    tol: float,
) -> dict[str, Any]:
    """Maximise the marginal likelihood from ``start`` (full coordinates).

    BFGS on the analytic gradient, its inverse Hessian started from the inverse outer
    product of the submissions' score vectors (BHHH), then Newton steps on the Hessian from
    forward differences of the analytic gradient, the nodes re-adapted after every step.
    That Hessian (recomputed if Newton moved more than 1e-3) gives the covariance.
    """
    basis = model.basis
    scale = float(model.n_sub)
    _, _, _, mu0, sigma0 = model.unpack(start)
    model.m[:] = mu0
    model.s[:] = sigma0

    def fun(phi: np.ndarray) -> tuple[float, np.ndarray]:
        val, g, _, _ = model.evaluate(basis @ phi)
        return -val / scale, -(basis.T @ np.asarray(g)) / scale

    def grad(phi: np.ndarray) -> np.ndarray:
        return fun(phi)[1] * scale

    def hessian(phi: np.ndarray) -> np.ndarray:
        n, h = len(phi), 1e-6
        out = np.empty((n, n))
        g0 = grad(phi)
        for j in range(n):
            d = np.zeros(n)
            d[j] = h
            out[:, j] = (grad(phi + d) - g0) / h
        return (out + out.T) / 2

    phi = basis.T @ start
    n_iter, converged = 0, False
    model.adapt(model.evaluate(start, grad=False)[2], mu0, sigma0)
    # BFGS started from the inverse outer product of the submissions' scores (BHHH), then
    # Newton steps on the Hessian from forward differences, nodes re-adapted at each step
    _, _, _, mat = model.evaluate(basis @ phi, scores=True)
    gs = np.asarray(mat @ basis)
    h0 = np.linalg.inv(gs.T @ gs / scale + 1e-9 * np.eye(len(phi)))
    res = minimize(
        fun,
        phi,
        jac=True,
        method="BFGS",
        options={"maxiter": max_iter, "gtol": 1e-7, "hess_inv0": (h0 + h0.T) / 2},
    )
    n_iter += int(res.nit)
    phi = res.x
    full = basis @ phi
    model.adapt(model.evaluate(full, grad=False)[2], *model.unpack(full)[3:])
    hess, at = hessian(phi), phi.copy()
    for _ in range(max_iter):
        n_iter += 1
        step = np.clip(np.linalg.solve(hess, grad(phi)), -1.0, 1.0)
        phi = phi - step
        full = basis @ phi
        model.adapt(model.evaluate(full, grad=False)[2], *model.unpack(full)[3:])
        if np.abs(step).max() < min(tol, 1e-6):
            converged = True
            break
    if np.abs(phi - at).max() > 1e-3:  # the covariance from a Hessian at the optimum
        hess = hessian(phi)
    full = basis @ phi
    value = model.evaluate(full, grad=False)[0]
    cov = constrained_covariance(hess, np.eye(len(phi)))
    cov_full = basis @ cov @ basis.T
    eap, psd = model.posterior(full)
    return {
        "full": full,
        "log_likelihood": value,
        "cov": cov_full,
        "eap": eap,
        "psd": psd,
        "n_iter": n_iter,
        "converged": converged,
    }


def fit_from_jml(
    sub: np.ndarray,
    rev: np.ndarray,
    crit: np.ndarray,
    x: np.ndarray,
    n_levels: np.ndarray,
    present: np.ndarray,
    groups: list[np.ndarray],
    theta: np.ndarray,
    alpha: np.ndarray,
    delta: np.ndarray,
    tau: np.ndarray,
    ext_s: np.ndarray,
    options: Any,
) -> dict[str, Any]:
    """MML started from the JML estimates (``options``: the ``ManyFacetRasch`` settings)."""
    n_rev, n_crit = len(alpha), len(delta)
    mm = MarginalRasch(
        sub, rev, crit, x, len(theta), n_rev, n_crit, n_levels, present, groups, options.n_nodes
    )
    inner = theta[~ext_s] if (~ext_s).any() else theta
    sd0 = float(np.clip(np.std(inner) * 0.8, 0.2, 5.0))
    used = np.isin(np.arange(n_crit), present)
    start = mm.pack(alpha, np.where(used, delta, 0.0), tau, float(np.mean(inner)), sd0)
    res = fit_mml(mm, start, options.max_iter, options.tol)
    a, d, t, mu, sigma = mm.unpack(res["full"])
    se = np.sqrt(np.maximum(np.diag(res["cov"]), 0.0))
    return {
        "theta": res["eap"],
        "psd": res["psd"],
        "alpha": a.copy(),
        "delta": d.copy(),
        "tau": t,
        "mu": mu,
        "sigma": sigma,
        "se_r": se[:n_rev],
        "se_c": np.where(used, se[n_rev : n_rev + n_crit], np.nan),
        "log_likelihood": res["log_likelihood"],
        "n_iter": res["n_iter"],
        "converged": bool(res["converged"]),
        "cov": res["cov"],
    }
