"""The reviewer model's likelihood and the EM steps of :class:`ProgramModel` (joint and
mixture populations)."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, sparse, special

from calibrate.policy._program_data import ProgramData

_FLOOR = 1e-300  # probabilities below this are treated as this (log of 0 otherwise)
# Bounds of the reviewer parameters: severity (levels), noise SD (levels), central
# tendency (share; negative spreads scores away from the middle), halo SD (levels).
_BOUNDS = ((-4.0, 4.0), (0.05, 5.0), (-0.5, 0.9), (0.0, 3.0))
_CHUNK = 4_000_000  # live reviews x joint classes x nodes held at once in the E-step


def _cuts(n_levels: np.ndarray, kmax: int) -> tuple[np.ndarray, np.ndarray]:
    """(C, kmax) lower and upper bounds of each given level on the reviewer's scale
    (levels past a criterion's top get an empty interval)."""
    j = np.arange(kmax, dtype=float)
    lo = np.broadcast_to(j - 0.5, (len(n_levels), kmax)).copy()
    hi = lo + 1.0
    lo[:, 0] = -np.inf
    for c, k in enumerate(n_levels):
        hi[c, k - 1] = np.inf
        lo[c, k:] = np.inf  # never given
        hi[c, k:] = np.inf
    return lo, hi


def _probs(
    theta: np.ndarray, mid: np.ndarray, lo: np.ndarray, hi: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``P[r, c, k, j, q]``: reviewer r gives level j on criterion c to true level k at
    halo node q; and the pieces of its derivatives."""
    sev, sig, ct, eta = (theta[:, i][:, None, None, None] for i in range(4))
    a = 1.0 - ct
    kmax = lo.shape[1]
    k = np.arange(kmax, dtype=float)[None, None, :, None]
    m = mid[None, :, None, None]
    dev = k - sev + eta * x[None, None, None, :] - m  # (R, C, K, Q)
    mu = (m + a * dev)[:, :, :, None, :]  # (R, C, K, 1, Q)
    s = (a * sig)[..., None]  # (R, 1, 1, 1, 1)
    u_hi = (hi[None, :, None, :, None] - mu) / s
    u_lo = (lo[None, :, None, :, None] - mu) / s
    with np.errstate(invalid="ignore"):
        upper_tail = u_lo > 0  # difference of upper tails is the accurate one there
        P = np.where(
            upper_tail,
            special.ndtr(-u_lo) - special.ndtr(-u_hi),
            special.ndtr(u_hi) - special.ndtr(u_lo),
        )
    P = np.where(np.isnan(P), 0.0, P)  # empty intervals past the top
    return P, {"u_hi": u_hi, "u_lo": u_lo, "s": s, "a": a, "sig": sig, "dev": dev}


def _neg_q(
    flat: np.ndarray,
    counts: np.ndarray,
    mid: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Minus the expected complete-data log-likelihood of the reviewers' parameters, and
    its gradient."""
    theta = flat.reshape(-1, 4)
    P, p = _probs(theta, mid, lo, hi, x)
    ok = P > _FLOOR
    Pf = np.where(ok, P, _FLOOR)
    value = -float(np.sum(counts * np.log(Pf)))
    g = np.where(ok, counts / Pf, 0.0)

    def pdf_times(u: np.ndarray, times_u: bool) -> np.ndarray:
        fin = np.isfinite(u)
        uu = np.where(fin, u, 0.0)
        out = np.exp(-0.5 * uu * uu) / math.sqrt(2 * math.pi)
        if times_u:
            out = out * uu
        return np.where(fin, out, 0.0)

    s = p["s"]
    dP_dmu = -(pdf_times(p["u_hi"], False) - pdf_times(p["u_lo"], False)) / s
    dP_ds = -(pdf_times(p["u_hi"], True) - pdf_times(p["u_lo"], True)) / s
    G_mu = (g * dP_dmu).sum(axis=3)  # (R, C, K, Q)
    G_s = (g * dP_ds).sum(axis=(1, 2, 3, 4))  # (R,)
    a = p["a"][:, 0, 0, 0]
    sig = p["sig"][:, 0, 0, 0]
    grad = np.empty_like(theta)
    grad[:, 0] = -a * G_mu.sum(axis=(1, 2, 3))
    grad[:, 1] = a * G_s
    grad[:, 2] = -(G_mu * p["dev"]).sum(axis=(1, 2, 3)) - sig * G_s
    grad[:, 3] = a * (G_mu * x[None, None, None, :]).sum(axis=(1, 2, 3))
    return value, -grad.ravel()


def _m_step(
    theta: np.ndarray,
    counts: np.ndarray,
    mid: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x: np.ndarray,
) -> np.ndarray:
    R = theta.shape[0]
    res = optimize.minimize(
        _neg_q,
        theta.ravel(),
        args=(counts, mid, lo, hi, x),
        jac=True,
        method="L-BFGS-B",
        bounds=list(_BOUNDS) * R,
        options={"maxiter": 10},
    )
    return np.asarray(res.x).reshape(R, 4)


def _review_factors(P: np.ndarray, rev: np.ndarray, lv: np.ndarray) -> np.ndarray:
    """``A[i, c, k, q]`` = P(review i's level on c | true level k, node q); 1 where the
    review has no score on c."""
    n, C = lv.shape
    A = P[rev[:, None], np.arange(C)[None, :], :, np.maximum(lv, 0), :]  # (n, C, K, Q)
    return np.where((lv < 0)[:, :, None, None], 1.0, A)


def _joint(A: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
    """(n, Z, Q): the product over criteria for every joint class (rubric order, last
    criterion fastest, as ``itertools.product``)."""
    L = A[:, 0, : n_levels[0], :]
    for c in range(1, len(n_levels)):
        L = (L[:, :, None, :] * A[:, c, None, : n_levels[c], :]).reshape(len(A), -1, A.shape[-1])
    return L


def _e_step_keyed(
    d: ProgramData, P: np.ndarray, n_levels: np.ndarray, w: np.ndarray, R: int, kmax: int
) -> tuple[np.ndarray, float]:
    """Expected counts and log-likelihood of the keyed anchors' reviews: the class is
    known, only the halo node is latent."""
    C, Q = len(n_levels), len(w)
    counts = np.zeros((R, C, kmax, kmax, Q))
    ll = 0.0
    if len(d.key_rev):
        A = _review_factors(P, d.key_rev, d.key_lv)
        Ak = np.take_along_axis(A, d.key_true[:, :, None, None], axis=2)[:, :, 0, :]  # (n,C,Q)
        Lq = Ak.prod(axis=1) * w  # (n, Q)
        L = np.maximum(Lq.sum(axis=1), _FLOOR)
        ll += float(np.log(L).sum())
        Wq = Lq / L[:, None]
        for c in range(C):
            seen = np.flatnonzero(d.key_lv[:, c] >= 0)
            Wc = np.zeros((len(seen), int(n_levels[c]), Q))
            Wc[np.arange(len(seen)), d.key_true[seen, c]] = Wq[seen]  # the known level only
            _add_counts(counts, c, d.key_rev[seen], d.key_lv[seen, c], Wc, kmax)
    return counts, ll


def _e_step(
    d: ProgramData,
    P: np.ndarray,
    prior: np.ndarray,
    classes: np.ndarray,
    n_levels: np.ndarray,
    w: np.ndarray,
    R: int,
    kmax: int,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Expected counts ``N[r, c, k, j, q]``, summed class posteriors of the live
    submissions, and the log-likelihood."""
    C, Z, Q = len(n_levels), len(classes), len(w)
    counts, ll = _e_step_keyed(d, P, n_levels, w, R, kmax)

    post_sum = np.zeros(Z)
    n, U = len(d.live_rev), len(d.pat_rev)
    if n == 0:
        return counts, post_sum, ll
    step = max(1, _CHUNK // (Z * Q))
    logL = np.empty((U, Z))  # log L(pattern | class), the halo summed out
    for a in range(0, U, step):
        b = min(U, a + step)
        L = _joint(_review_factors(P, d.pat_rev[a:b], d.pat_lv[a:b]), n_levels) @ w
        logL[a:b] = np.log(np.maximum(L, _FLOOR))
    per_sub = np.add.reduceat(logL[d.pat_of], d.live_starts, axis=0)
    per_sub += np.log(np.maximum(prior, _FLOOR))
    top = per_sub.max(axis=1, keepdims=True)
    norm = top[:, 0] + np.log(np.exp(per_sub - top).sum(axis=1))
    ll += float(norm.sum())
    post = np.exp(per_sub - norm[:, None])  # (n_sub, Z)
    post_sum = post.sum(axis=0)
    # each pattern's summed class posteriors over its reviews, divided by its likelihood
    rho = np.asarray(d.pat_sum @ post[d.live_sub]) * np.exp(-logL)  # (U, Z)
    shape = (-1, *n_levels.tolist(), Q)
    for a in range(0, U, step):
        b = min(U, a + step)
        Lzq = _joint(_review_factors(P, d.pat_rev[a:b], d.pat_lv[a:b]), n_levels)
        W = (Lzq * rho[a:b, :, None] * w).reshape(shape)  # (m, K_1, ..., K_C, Q)
        rev = d.pat_rev[a:b]
        for c in range(C):
            Wc = W.sum(axis=tuple(1 + i for i in range(C) if i != c))  # (m, K_c, Q)
            lv_c = d.pat_lv[a:b, c]
            scored = lv_c >= 0
            _add_counts(counts, c, rev[scored], lv_c[scored], Wc[scored], kmax)
    return counts, post_sum, ll


def _start_mixture(d: ProgramData, n_levels: np.ndarray, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Starting mixture: the live submissions in ``G`` groups of their mean observed level
    (quantiles), each group's level frequencies per criterion (smoothed)."""
    C, kmax = len(n_levels), int(n_levels.max())
    valid = np.arange(kmax)[None, :] < n_levels[:, None]  # (C, K)
    if d.n_live == 0:
        probs = np.broadcast_to(valid / n_levels[:, None], (G, C, kmax)).copy()
        return np.full(G, 1.0 / G), probs
    lv = np.where(d.live_lv >= 0, d.live_lv, np.nan)
    sums = np.add.reduceat(np.nan_to_num(lv), d.live_starts, axis=0)
    cnt = np.add.reduceat(~np.isnan(lv), d.live_starts, axis=0)
    mean = np.where(cnt > 0, sums / np.maximum(cnt, 1), (n_levels - 1) / 2)  # (n_sub, C)
    idx = np.clip(np.rint(mean), 0, n_levels - 1).astype(np.int64)
    rel = (mean / np.maximum(n_levels - 1, 1)).mean(axis=1)
    order = np.argsort(rel, kind="stable")
    group = np.empty(d.n_live, dtype=np.int64)
    group[order] = np.arange(d.n_live) * G // d.n_live
    probs = np.full((G, C, kmax), 0.5) * valid
    for c in range(C):
        np.add.at(probs[:, c, :], (group, idx[:, c]), 1.0)
    probs /= probs.sum(axis=2, keepdims=True)
    weights = np.bincount(group, minlength=G) + 0.5
    return weights / weights.sum(), probs


def _e_step_mixture(
    d: ProgramData,
    P: np.ndarray,
    weights: np.ndarray,
    probs: np.ndarray,
    n_levels: np.ndarray,
    w: np.ndarray,
    R: int,
    kmax: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The E-step under a latent-class population: expected counts ``N[r, c, k, j, q]``,
    the summed posteriors of the mixture classes ``(G,)`` and of each class's true levels
    ``(G, C, K)``, and the log-likelihood.

    For a submission with ``m`` reviews and each combination of their halo nodes
    ``(q_1, ..., q_m)``, the criteria are independent given the class ``g``: the
    likelihood is ``prod_c F_c(g, q)``, ``F_c(g, q) = sum_k probs[g, c, k] prod_i
    P(s_ic | k, q_i)``. Submissions are grouped by ``m`` (``Q ** m`` node combinations).
    """
    C, Q, G = len(n_levels), len(w), len(weights)
    counts, ll = _e_step_keyed(d, P, n_levels, w, R, kmax)
    w_sum = np.zeros(G)
    level_sum = np.zeros((G, C, kmax))
    n = len(d.live_rev)
    if n == 0:
        return counts, w_sum, level_sum, ll
    A_all = _review_factors(P, d.live_rev, d.live_lv)  # (n, C, K, Q)
    W_rev = np.empty((n, C, kmax, Q))  # posterior of (true level, node) per review
    size = np.diff(np.r_[d.live_starts, n])
    log_weights = np.log(np.maximum(weights, _FLOOR))
    for m in np.unique(size).tolist():
        subs = np.flatnonzero(size == m)
        Qm = Q**m
        log_w = np.log(w)
        log_wm = log_w
        for _ in range(m - 1):
            log_wm = (log_wm[:, None] + log_w[None, :]).ravel()
        step = max(1, _CHUNK // (C * max(G, kmax) * Qm))
        for a in range(0, len(subs), step):
            rix = d.live_starts[subs[a : a + step]][:, None] + np.arange(m)  # (s, m)
            s = len(rix)
            A = A_all[rix].transpose(2, 0, 3, 1, 4)  # (C, s, K, m, Q)
            B = A[:, :, :, 0, :]
            for i in range(1, m):  # node combinations, the first review's slowest
                B = (B[..., :, None] * A[:, :, :, i, None, :]).reshape(C, s, kmax, -1)
            F = np.matmul(probs.transpose(1, 0, 2)[:, None], B)  # (C, s, G, Qm)
            F = np.maximum(F, _FLOOR)
            logL = np.log(F).sum(axis=0) + log_weights[None, :, None] + log_wm  # (s, G, Qm)
            top = logL.max(axis=(1, 2), keepdims=True)
            norm = top[:, 0, 0] + np.log(np.exp(logL - top).sum(axis=(1, 2)))
            ll += float(norm.sum())
            post = np.exp(logL - norm[:, None, None])  # (s, G, Qm)
            w_sum += post.sum(axis=(0, 2))
            H = post[None] / F  # (C, s, G, Qm)
            # summed over classes: the posterior of (true level, node combination)
            Wc = np.matmul(probs.transpose(1, 2, 0)[:, None], H) * B  # (C, s, K, Qm)
            level_sum += probs * np.einsum("csgq,cskq->gck", H, B, optimize=True)
            Wc = Wc.reshape(C, s, kmax, *([Q] * m))
            for i in range(m):
                other = tuple(3 + j for j in range(m) if j != i)
                W_rev[rix[:, i]] = Wc.sum(axis=other).transpose(1, 0, 2, 3)
    for c in range(C):
        lv_c = d.live_lv[:, c]
        scored = lv_c >= 0
        kc = int(n_levels[c])
        _add_counts(counts, c, d.live_rev[scored], lv_c[scored], W_rev[scored, c, :kc, :], kmax)
    return counts, w_sum, level_sum, ll


def _add_counts(
    counts: np.ndarray, c: int, rev: np.ndarray, lv: np.ndarray, Wc: np.ndarray, kmax: int
) -> None:
    """``counts[rev, c, :K_c, lv, :] += Wc`` for every row (repeated cells add up)."""
    R = counts.shape[0]
    kc, Q = Wc.shape[1], Wc.shape[2]
    group = rev * kmax + lv
    M = sparse.csr_matrix(
        (np.ones(len(group)), (group, np.arange(len(group)))), shape=(R * kmax, len(group))
    )
    add = np.asarray(M @ Wc.reshape(len(group), -1)).reshape(R, kmax, kc, Q)
    counts[:, c, :kc, :, :] += add.transpose(0, 2, 1, 3)


def _start(d: ProgramData, R: int) -> np.ndarray:
    """Starting values: severity from the mean deviation from the key, the rest neutral."""
    theta = np.tile([0.0, 0.5, 0.0, 0.1], (R, 1))
    if len(d.key_rev):
        seen = d.key_lv >= 0
        dev = np.where(seen, d.key_lv - d.key_true, 0).sum(axis=1)
        num = np.bincount(d.key_rev, weights=dev, minlength=R)
        den = np.bincount(d.key_rev, weights=seen.sum(axis=1), minlength=R)
        theta[:, 0] = np.clip(-num / np.maximum(den, 1), -3, 3)
    return theta


def _start_prior(d: ProgramData, classes: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
    """The joint classes of the live submissions' rounded mean levels, smoothed."""
    Z = len(classes)
    if d.n_live == 0:
        return np.full(Z, 1.0 / Z)
    lv = np.where(d.live_lv >= 0, d.live_lv, np.nan)
    sums = np.add.reduceat(np.nan_to_num(lv), d.live_starts, axis=0)
    cnt = np.add.reduceat(~np.isnan(lv), d.live_starts, axis=0)
    mean = np.where(cnt > 0, sums / np.maximum(cnt, 1), (n_levels - 1) / 2)
    idx = np.clip(np.rint(mean), 0, n_levels - 1).astype(np.int64)
    code = np.ravel_multi_index(tuple(idx.T), tuple(n_levels.tolist()))
    prior = np.bincount(code, minlength=Z) + 0.5
    return prior / prior.sum()
