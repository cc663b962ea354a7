"""The many-facet Rasch model (rating scale or partial credit) by joint maximum likelihood,
vectorised over the long ratings arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_int, check_positive
from calibrate.ratings import RatingCodes, RatingsTable
from calibrate.severity._common import (
    check_choice,
    check_table,
    level_tables,
    true_level_positions,
)
from calibrate.severity._dawid_skene import _reviewer_positions
from calibrate.severity._rasch_core import (
    _MAX_STEP,
    _category_probs,
    _level_locations,
    _moments,
    _separation,
    bias_terms,
)
from calibrate.severity._rasch_info import jml_joint_se
from calibrate.severity._rasch_mml import fit_from_jml

__all__ = ["ManyFacetRasch"]


class ManyFacetRasch:
    """Many-facet Rasch model: submission ability, criterion difficulty, reviewer severity
    and level thresholds, fitted by joint maximum likelihood (JMLE).

    ``log P(k) / P(k-1) = ability[s] - difficulty[c] - severity[r] - tau[k]`` (rating
    scale: thresholds shared by all criteria) or ``- tau[c, k]`` (partial credit).

    Parameters
    ----------
    model : {'rating_scale', 'partial_credit'}
        Thresholds shared by the criteria (they must have the same number of levels) or
        one set per criterion.
    max_iter : int
        Most JMLE sweeps.
    tol : float
        Stop when no parameter moves by more than this (logits) in a sweep.
    extreme_adjustment : float
        Score points moved in from an extreme raw score (all lowest or all highest
        levels) so that its element gets a finite measure (FACETS' default 0.3).
    estimator : {'jml', 'mml'}
        Joint maximum likelihood (abilities as parameters) or marginal maximum likelihood
        (abilities integrated out under a normal population ``N(mu, sigma^2)``); see Notes.
    n_nodes : int
        Gauss-Hermite nodes per submission for ``estimator='mml'`` (adaptive quadrature).

    Attributes
    ----------
    severity_ : Series
        Reviewer severity in logits, indexed by ``reviewer_id``, centred at 0;
        positive = harsher.
    severity_se_ : Series
        Its standard error (from the information, other parameters held fixed), over the
        ratings that entered the estimate (not those of extreme submissions). Under MML
        the joint SE (``se_joint``).
    difficulty_, difficulty_se_ : Series
        Criterion difficulty (logits, centred at 0) and SE, by ``criterion_id``.
    ability_, ability_se_ : Series
        Submission ability (logits) and SE, by ``submission_id``.
    thresholds_ : DataFrame
        Criteria x steps (``tau_1 .. tau_{K-1}``, summing to 0 per row; NaN where a
        criterion has fewer levels). Under the rating scale model every row is the same.
    reviewers_ : DataFrame
        ``reviewer_id, n, observed_average, fair_average, severity, se, infit, outfit,
        se_joint``. ``se_joint`` is the full-information SE: the square root of the
        diagonal of ``B (B' I B)^-1 B'``, ``I`` the information of all free parameters
        (under JML with the non-extreme submissions' abilities absorbed by the Schur
        complement; under MML the observed information of the marginal likelihood, with
        ``mu`` and ``sigma``) and ``B`` an orthonormal basis of the centring constraints
        (severities, difficulties and each threshold set summing to 0): the covariance of
        the constrained estimates, whatever basis is used.
    criteria_ : DataFrame
        ``criterion_id, n, observed_average, difficulty, se, infit, outfit, se_joint``.
    submissions_ : DataFrame
        ``submission_id, n, observed_average, fair_average, ability, se, infit, outfit,
        extreme``.
    separation_ : DataFrame
        Per facet (reviewers, criteria, submissions): ``sd, rmse, true_sd, separation,
        reliability``.
    bias_ : DataFrame
        Reviewer x criterion interactions: ``reviewer_id, criterion_id, n,
        observed_average, expected_average, bias, se, t`` (bias in logits, positive =
        harsher on that criterion than the reviewer's overall severity).
    level_locations_ : ndarray, shape (n_criteria, K)
        Where a submission at each true level sits on the ``ability - difficulty`` scale:
        the point where an average-severity reviewer's expected level is that level
        (0.25 level in from the ends). Used by :meth:`sample_scores`.
    log_likelihood_ : float
        Joint log-likelihood (JML) or marginal log-likelihood (MML).
    population_mean_, population_sd_ : float
        MML only (NaN under JML): the fitted ability distribution ``N(mu, sigma^2)``.
    n_iter_ : int
    converged_ : bool

    Notes
    -----
    Each JMLE sweep takes one Newton-Raphson step for abilities, severities and
    difficulties together, then one for the thresholds (on the sum-to-zero subspace, with
    the exact information ``Cov(1[X>=k], 1[X>=h])``). The abilities' block of the
    information is diagonal, so it is eliminated (Schur complement) and only an
    ``(R + C) x (R + C)`` system is solved; every sum runs as ``np.bincount`` or a sparse
    product over the long rating arrays (no submissions x reviewers matrix). Steps are
    clipped at 1 logit. After each sweep severities and difficulties
    are centred at 0 (abilities absorb the shift). SEs are ``1 / sqrt(Σ V)``. Fit mean
    squares use standardised residuals ``z = (x - E) / sqrt(V)``: outfit = mean z², infit
    = Σ(x - E)² / Σ V (information-weighted); both have expectation 1. Separation
    reliability is ``(SD² - RMSE²) / SD²`` with RMSE the root mean square SE.
    A fair average is the expected score with the reviewer's severity set to 0 (the
    mean), averaged over the rubric's criteria; a reviewer's fair average is that of a
    submission of mean ability scored by that reviewer.

    JMLE estimates are inconsistent for a fixed number of ratings per submission: with
    ``L`` ratings per submission the spread of the measures is inflated by about
    ``L / (L - 1)`` (Wright & Douglas 1977). Estimates here are *not* corrected (on the
    sirt essays the reviewer spread is about 5% wider than conditional ML's). Submissions
    with an extreme raw score are left out of the other facets' estimates and measured
    from their raw score moved in by ``extreme_adjustment``.

    With ``estimator='mml'`` the abilities are integrated out: the marginal likelihood
    ``Π_s ∫ Π_i P(x_i | θ) N(θ; mu, sigma²) dθ`` is computed by adaptive Gauss-Hermite
    quadrature (nodes re-centred on each submission's posterior mean and SD) and maximised
    over severities, difficulties, thresholds, ``mu`` and ``log sigma`` (BFGS on the
    analytic gradient, started from the BHHH information; a Hessian from forward differences of the
    gradient gives the SEs). Identification is as under JML (severities and
    difficulties centred at 0; the population mean ``mu`` is free), so the two are on the
    same scale. MML is consistent for a fixed number of ratings per submission, so its
    severities do not have JML's inflation. After the fit, submission ``ability`` is the
    EAP (posterior mean) and its ``se`` the posterior SD; fit mean squares, bias terms and
    fair averages use these EAPs (so submission fit is only approximate: EAPs are shrunk
    towards ``mu``), a reviewer's fair average is taken at ``mu``, and the submissions'
    separation row is the EAP reliability ``var(EAP) / (var(EAP) + mean PSD²)`` (its
    ``sd`` is the square root of that denominator). Extreme submissions are not set
    aside under MML (``extreme`` still flags them).

    Validated against an independent direct maximisation of the same likelihood (SciPy
    L-BFGS on all parameters) on the sirt ``data.ratings1`` essays, and against
    conditional maximum likelihood (statsmodels ``ConditionalLogit``) on the same data
    dichotomised; MML against R's TAM ``tam.mml.mfr`` on the same essays (severities and
    centred difficulties within 1e-3 logits), against brute-force quadrature of the
    marginal likelihood and against direct optimisation of it; see ``tests/severity``.

    References
    ----------
    Linacre, J. M. (1989). *Many-facet Rasch measurement*. MESA Press.
    Wright, B. D., & Masters, G. N. (1982). *Rating scale analysis*. MESA Press.
    Bock, R. D., & Aitkin, M. (1981). Marginal maximum likelihood estimation of item
    parameters. *Psychometrika*, 46(4), 443-459.
    Liu, Q., & Pierce, D. A. (1994). A note on Gauss-Hermite quadrature. *Biometrika*,
    81(3), 624-629.
    Adams, R. J. (2005). Reliability as a measurement design effect. *Studies in
    Educational Evaluation*, 31, 162-172.
    Wright, B. D., & Douglas, G. A. (1977). Best procedures for sample-free item analysis.
    *Applied Psychological Measurement*, 1(2), 281-295.
    Andrich, D. (1978). A rating formulation for ordered response categories.
    *Psychometrika*, 43(4), 561-573.

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> from calibrate.severity import ManyFacetRasch
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=300, n_reviewers=8, seed=3))
    >>> mfrm = ManyFacetRasch().fit(program.ratings_table())
    >>> bool(mfrm.converged_), round(float(mfrm.severity_.mean()), 6)
    (True, 0.0)
    >>> list(mfrm.reviewers_.columns[:4])
    ['reviewer_id', 'n', 'observed_average', 'fair_average']
    """

    def __init__(
        self,
        *,
        model: Literal["rating_scale", "partial_credit"] = "rating_scale",
        max_iter: int = 200,
        tol: float = 1e-5,
        extreme_adjustment: float = 0.3,
        estimator: Literal["jml", "mml"] = "jml",
        n_nodes: int = 21,
    ) -> None:
        self.model = model
        self.max_iter = max_iter
        self.tol = tol
        self.extreme_adjustment = extreme_adjustment
        self.estimator = estimator
        self.n_nodes = n_nodes

    def _check(self) -> None:
        check_choice("model", self.model, ("rating_scale", "partial_credit"))
        check_int("max_iter", self.max_iter, 1)
        check_positive("tol", self.tol)
        check_choice("estimator", self.estimator, ("jml", "mml"))
        check_int("n_nodes", self.n_nodes, 3)
        adj = check_positive("extreme_adjustment", self.extreme_adjustment, allow_zero=True)
        if adj >= 0.5:
            raise ValueError(f"extreme_adjustment must be below 0.5 score points; got {adj}")

    # ---- fitting -------------------------------------------------------------------
    def fit(self, ratings: RatingsTable) -> ManyFacetRasch:
        """Fit on a ratings table (all kinds and rounds pooled). Returns ``self``."""
        self._check()
        table = check_table(ratings)
        rubric = table.rubric
        coded = table.codes
        n_levels, score_of = level_tables(rubric)
        present = np.unique(coded.criterion)
        if self.model == "rating_scale" and len(set(n_levels[present].tolist())) > 1:
            raise ValueError(
                "model='rating_scale' needs criteria with the same number of levels; "
                f"these have {sorted(set(n_levels[present].tolist()))}: use model='partial_credit'"
            )
        order = np.argsort(coded.criterion, kind="stable")  # criteria as contiguous slices
        sub, rev, crit, x = (
            coded.submission[order],
            coded.reviewer[order],
            coded.criterion[order],
            coded.level[order].astype(float),
        )
        n_sub, n_rev, n_crit = (
            len(coded.submission_ids),
            len(coded.reviewer_ids),
            len(coded.criterion_ids),
        )
        kmax = int(n_levels.max())
        groups = [present] if self.model == "rating_scale" else [np.array([c]) for c in present]
        bounds = np.searchsorted(crit, np.arange(n_crit + 1))
        slices = [[slice(bounds[c], bounds[c + 1]) for c in g] for g in groups]
        # every level of a threshold group must be observed, or its threshold is infinite
        for g in groups:
            k = int(n_levels[g[0]])
            seen = np.bincount(coded.level[np.isin(coded.criterion, g)], minlength=k)
            if (seen == 0).any():
                missing = [int(score_of[g[0], j]) for j in np.flatnonzero(seen == 0)]
                where = (
                    f"criterion {coded.criterion_ids[g[0]]!r}" if len(g) == 1 else "any criterion"
                )
                raise ValueError(
                    f"no rating uses level score(s) {missing} of {where}: its threshold cannot be estimated; "
                    + (
                        "merge the level or use model='rating_scale'"
                        if len(g) == 1
                        else "merge the level"
                    )
                )

        adj = self.extreme_adjustment

        def targets(
            codes: np.ndarray, size: int, w: np.ndarray | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
            raw = np.bincount(codes, weights=x if w is None else x * w, minlength=size)
            levels = (n_levels[crit] - 1).astype(float)
            top = np.bincount(codes, weights=levels if w is None else levels * w, minlength=size)
            low_ex, high_ex = raw <= 0, raw >= top
            raw = np.where(low_ex, raw + adj, np.where(high_ex, raw - adj, raw))
            return raw, low_ex | high_ex

        # Submissions with an extreme raw score carry no information about the other facets
        # (Wright & Masters 1982): they are left out of the reviewer, criterion and threshold
        # estimates and measured afterwards from their adjusted raw score.
        raw_s, ext_s = targets(sub, n_sub)
        keep = (~ext_s[sub]).astype(float)
        raw_r, _ = targets(rev, n_rev, keep)
        raw_c, _ = targets(crit, n_crit, keep)
        theta = np.zeros(n_sub)
        alpha = np.zeros(n_rev)
        delta = np.zeros(n_crit)
        tau = np.zeros((n_crit, kmax - 1))  # tau[c, k-1]: step to level k
        # start abilities from the log-odds of the mean level (a cheap PROX-like start)
        cnt_s = np.bincount(sub, minlength=n_sub).astype(float)
        top_s = np.bincount(sub, weights=(n_levels[crit] - 1).astype(float), minlength=n_sub)
        frac = np.clip(raw_s / np.maximum(top_s, 1), 0.02, 0.98)
        theta = np.log(frac / (1 - frac))

        def cumtau_of(t: np.ndarray) -> np.ndarray:
            out = np.full((n_crit, kmax), np.inf)
            for c in range(n_crit):
                k = int(n_levels[c])
                out[c, 0] = 0.0
                out[c, 1:k] = np.cumsum(t[c, : k - 1])
            return out

        def probs() -> np.ndarray:
            return _category_probs(theta[sub] - delta[crit] - alpha[rev], cumtau_of(tau), crit)

        # Newton steps for abilities, severities and difficulties together: the abilities'
        # block of the information is diagonal, so it is eliminated (Schur complement) and
        # only an (R + C) x (R + C) system is solved. Plain alternating steps crawl on
        # sparse reviewer networks (each submission links only 2-3 reviewers).
        from scipy import sparse

        sr_cells, sr_inv = np.unique(sub * n_rev + rev, return_inverse=True)
        sc_cells, sc_inv = np.unique(sub * n_crit + crit, return_inverse=True)
        a_rows = np.concatenate([sr_cells // n_rev, sc_cells // n_crit])
        a_cols = np.concatenate([sr_cells % n_rev, n_rev + sc_cells % n_crit])
        rc = rev * n_crit + crit
        n_par = n_rev + n_crit

        def joint_newton(e: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            w = v * keep
            info_s = np.bincount(sub, weights=v, minlength=n_sub)
            info_s = np.where(info_s > 0, info_s, 1.0)
            a = sparse.csr_matrix(
                (
                    np.concatenate(
                        [np.bincount(sr_inv, weights=w), np.bincount(sc_inv, weights=w)]
                    ),
                    (a_rows, a_cols),
                ),
                shape=(n_sub, n_par),
            )
            j = np.zeros((n_par, n_par))
            j[np.arange(n_rev), np.arange(n_rev)] = np.bincount(rev, weights=w, minlength=n_rev)
            j[n_rev + np.arange(n_crit), n_rev + np.arange(n_crit)] = np.bincount(
                crit, weights=w, minlength=n_crit
            )
            cross = np.bincount(rc, weights=w, minlength=n_rev * n_crit).reshape(n_rev, n_crit)
            j[:n_rev, n_rev:] = cross
            j[n_rev:, :n_rev] = cross.T
            schur = j - (a.T @ sparse.diags(1.0 / info_s) @ a).toarray()
            g_s = raw_s - np.bincount(sub, weights=e, minlength=n_sub)
            ek = e * keep
            g_p = np.concatenate(
                [
                    raw_r - np.bincount(rev, weights=ek, minlength=n_rev),
                    raw_c - np.bincount(crit, weights=ek, minlength=n_crit),
                ]
            )
            # the system is singular along the two translations (severity + a, ability - a;
            # difficulty + b, ability - b): least squares gives the minimum-norm step
            d_p = np.linalg.lstsq(schur, g_p - a.T @ (g_s / info_s), rcond=None)[0]
            d_s = (g_s - a @ d_p) / info_s
            d_s[cnt_s == 0] = 0.0
            return (
                np.clip(d_s, -_MAX_STEP, _MAX_STEP),
                np.clip(d_p[:n_rev], -_MAX_STEP, _MAX_STEP),
                np.clip(d_p[n_rev:], -_MAX_STEP, _MAX_STEP),
            )

        n_iter, converged = 0, False
        for _ in range(self.max_iter):
            n_iter += 1
            before = np.concatenate([theta, alpha, delta, tau.ravel()])
            p = probs()
            e, v = _moments(p)
            step_s, step_r, step_c = joint_newton(e, v)
            theta += step_s
            alpha -= step_r
            delta -= step_c
            # identification: severities and (used) difficulties centred at 0
            ma, md = alpha.mean(), delta[present].mean()
            alpha -= ma
            delta[present] -= md
            theta -= ma + md

            p = probs()
            step_t = np.zeros_like(tau)
            for g, sl in zip(groups, slices, strict=True):
                k = int(n_levels[g[0]])
                if k < 3:
                    continue  # one threshold, fixed at 0 by the sum-to-zero constraint
                grad = np.zeros(k - 1)
                info = np.zeros((k - 1, k - 1))
                obs = np.zeros(k - 1)
                for s in sl:
                    ps = p[s, :k][keep[s] > 0]
                    surv = np.cumsum(ps[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(X >= k), k = 1..K-1
                    ssum = surv.sum(axis=0)
                    grad += ssum
                    obs += np.bincount(x[s].astype(np.int64), weights=keep[s], minlength=k)[
                        ::-1
                    ].cumsum()[::-1][1:]
                    idx = np.maximum.outer(np.arange(k - 1), np.arange(k - 1))
                    info += ssum[idx] - surv.T @ surv
                grad -= obs
                basis = np.vstack([np.eye(k - 2), -np.ones((1, k - 2))])  # sum-to-zero directions
                h = basis.T @ info @ basis
                step = basis @ np.linalg.solve(h, basis.T @ grad)
                step = np.clip(step, -_MAX_STEP, _MAX_STEP)
                step -= step.mean()
                for c in g:
                    step_t[c, : k - 1] = step
            tau += step_t
            change = np.abs(np.concatenate([theta, alpha, delta, tau.ravel()]) - before).max()
            if change < self.tol:
                converged = True
                break

        self.n_iter_, self.converged_ = n_iter, converged
        self.population_mean_ = self.population_sd_ = float("nan")
        if self.estimator == "jml":
            se_joint = jml_joint_se(
                sub, rev, crit, probs(), keep, n_sub, n_rev, n_crit, present, groups, n_levels
            )
            mml = None
        else:
            mml = fit_from_jml(
                sub, rev, crit, x, n_levels, present, groups, theta, alpha, delta, tau, ext_s, self
            )
            self.population_mean_, self.population_sd_ = mml["mu"], mml["sigma"]
            self.n_iter_ += mml["n_iter"]
            self.converged_ = mml["converged"]
            theta, alpha, delta, tau = mml["theta"], mml["alpha"], mml["delta"], mml["tau"]
            se_joint = mml["se_r"], mml["se_c"]
        self._finish(
            table,
            coded,
            n_levels,
            score_of,
            sub,
            rev,
            crit,
            x,
            theta,
            alpha,
            delta,
            tau,
            ext_s,
            cumtau_of(tau),
            se_joint,
            mml,
        )
        return self

    def _finish(
        self,
        table: RatingsTable,
        coded: RatingCodes,
        n_levels: np.ndarray,
        score_of: np.ndarray,
        sub: np.ndarray,
        rev: np.ndarray,
        crit: np.ndarray,
        x: np.ndarray,
        theta: np.ndarray,
        alpha: np.ndarray,
        delta: np.ndarray,
        tau: np.ndarray,
        ext_s: np.ndarray,
        cumtau: np.ndarray,
        se_joint: tuple[np.ndarray, np.ndarray],
        mml: dict[str, Any] | None,
    ) -> None:
        n_sub, n_rev, n_crit = len(theta), len(alpha), len(delta)
        eta = theta[sub] - delta[crit] - alpha[rev]
        p = _category_probs(eta, cumtau, crit)
        e, v = _moments(p)
        resid = x - e
        z2 = resid * resid / v
        xi = x.astype(np.int64)
        self.log_likelihood_ = float(np.log(np.maximum(p[np.arange(len(xi)), xi], 1e-300)).sum())
        given = score_of[crit, xi].astype(float)

        # The SEs of reviewers and criteria come from the ratings that entered their
        # estimates: those of submissions with an extreme raw score were left out of them.
        entered = v * ~ext_s[sub]

        def facet(codes: np.ndarray, size: int, se_weights: np.ndarray) -> dict[str, np.ndarray]:
            n = np.bincount(codes, minlength=size).astype(float)
            info = np.bincount(codes, weights=v, minlength=size)
            with np.errstate(invalid="ignore", divide="ignore"):
                return {
                    "n": n.astype(np.int64),
                    "observed_average": np.bincount(codes, weights=given, minlength=size) / n,
                    "se": 1.0 / np.sqrt(np.bincount(codes, weights=se_weights, minlength=size)),
                    "infit": np.bincount(codes, weights=resid * resid, minlength=size) / info,
                    "outfit": np.bincount(codes, weights=z2, minlength=size) / n,
                }

        crit_ids, rev_ids, sub_ids = coded.criterion_ids, coded.reviewer_ids, coded.submission_ids
        used_c = np.bincount(crit, minlength=n_crit) > 0
        scores_f = score_of.astype(float)

        def expected_score(eta_c: np.ndarray) -> np.ndarray:
            """Expected *score* on every criterion at ``eta_c`` (shape (m, n_crit))."""
            m = eta_c.shape[0]
            cc = np.tile(np.arange(n_crit), m)
            pp = _category_probs(eta_c.ravel(), cumtau, cc)
            return (pp * scores_f[cc]).sum(axis=1).reshape(m, n_crit)

        # fair averages: severity at its mean (0), averaged over the criteria with ratings
        fair_s = expected_score(theta[:, None] - delta[None, :])[:, used_c].mean(axis=1)
        centre = theta[~ext_s].mean() if (~ext_s).any() else theta.mean()
        if mml is not None:
            centre = self.population_mean_
        fair_r = expected_score(centre - delta[None, :] - alpha[:, None])[:, used_c].mean(axis=1)

        fs, fr, fc = facet(sub, n_sub, v), facet(rev, n_rev, entered), facet(crit, n_crit, entered)
        if mml is not None:
            self.log_likelihood_ = float(mml["log_likelihood"])
            fr["se"], fc["se"], fs["se"] = se_joint[0], se_joint[1], mml["psd"]
        self.severity_ = pd.Series(
            alpha, index=pd.Index(rev_ids, name="reviewer_id"), name="severity"
        )
        self.severity_se_ = pd.Series(fr["se"], index=self.severity_.index, name="se")
        self.difficulty_ = pd.Series(
            np.where(used_c, delta, np.nan),
            index=pd.Index(crit_ids, name="criterion_id"),
            name="difficulty",
        )
        self.difficulty_se_ = pd.Series(
            np.where(used_c, fc["se"], np.nan), index=self.difficulty_.index, name="se"
        )
        self.ability_ = pd.Series(
            theta, index=pd.Index(sub_ids, name="submission_id"), name="ability"
        )
        self.ability_se_ = pd.Series(fs["se"], index=self.ability_.index, name="se")
        kmax = cumtau.shape[1]
        thr = np.where(np.arange(1, kmax)[None, :] < n_levels[:, None], tau, np.nan)
        self.thresholds_ = pd.DataFrame(
            thr,
            index=pd.Index(crit_ids, name="criterion_id"),
            columns=[f"tau_{k}" for k in range(1, kmax)],
        )
        self.reviewers_ = pd.DataFrame(
            {
                "reviewer_id": list(rev_ids),
                "n": fr["n"],
                "observed_average": fr["observed_average"],
                "fair_average": fair_r,
                "severity": alpha,
                "se": fr["se"],
                "infit": fr["infit"],
                "outfit": fr["outfit"],
                "se_joint": se_joint[0],
            }
        )
        self.criteria_ = pd.DataFrame(
            {
                "criterion_id": list(crit_ids),
                "n": fc["n"],
                "observed_average": fc["observed_average"],
                "difficulty": self.difficulty_.to_numpy(),
                "se": self.difficulty_se_.to_numpy(),
                "infit": fc["infit"],
                "outfit": fc["outfit"],
                "se_joint": np.where(used_c, se_joint[1], np.nan),
            }
        )
        self.submissions_ = pd.DataFrame(
            {
                "submission_id": list(sub_ids),
                "n": fs["n"],
                "observed_average": fs["observed_average"],
                "fair_average": fair_s,
                "ability": theta,
                "se": fs["se"],
                "infit": fs["infit"],
                "outfit": fs["outfit"],
                "extreme": ext_s,
            }
        )
        self.separation_ = pd.DataFrame(
            [
                _separation(name, m, s)
                for name, m, s in (
                    ("reviewers", alpha, fr["se"]),
                    ("criteria", delta[used_c], fc["se"][used_c]),
                    ("submissions", theta[~ext_s], fs["se"][~ext_s]),
                )
            ]
        ).set_index("facet")
        if mml is not None:  # EAP reliability (Adams 2005): EAPs are shrunk, not noisy
            v_eap, m_psd2 = float(np.var(theta)), float(np.mean(fs["se"] ** 2))
            self.separation_.loc["submissions"] = [
                np.sqrt(v_eap + m_psd2),
                np.sqrt(m_psd2),
                np.sqrt(v_eap),
                np.sqrt(v_eap / m_psd2) if m_psd2 > 0 else np.inf,
                v_eap / (v_eap + m_psd2) if v_eap + m_psd2 > 0 else np.nan,
            ]
        self.bias_ = bias_terms(
            sub,
            rev,
            crit,
            x,
            eta,
            cumtau,
            given,
            rev_ids,
            crit_ids,
            n_levels,
            score_of,
            self.extreme_adjustment,
        )
        self.level_locations_ = _level_locations(cumtau, n_levels)
        self._cumtau, self._n_levels, self._score_of = cumtau, n_levels, score_of
        self.reviewer_ids_ = tuple(str(r) for r in rev_ids)
        self.criterion_ids_ = tuple(str(c) for c in crit_ids)

    # ---- use as a generative model ---------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "severity_"):
            raise RuntimeError("this ManyFacetRasch is not fitted yet; call fit(ratings) first")

    def expected_scores(self, ability: Any) -> np.ndarray:
        """Expected score on each criterion (order of ``criterion_ids_``) that a reviewer of
        average severity (0) gives a submission of the given ability (logits).

        Parameters
        ----------
        ability : float or array-like of float, shape (m,)

        Returns
        -------
        ndarray of float, shape (m, n_criteria): rubric scores, not level indices.
        """
        self._fitted()
        theta = np.atleast_1d(np.asarray(ability, dtype=float))
        delta = self.difficulty_.to_numpy()
        n_crit = len(delta)
        cc = np.tile(np.arange(n_crit), len(theta))
        eta = (theta[:, None] - delta[None, :]).ravel()
        p = _category_probs(eta, self._cumtau, cc)
        scores = np.nan_to_num(self._score_of.astype(float))
        return (p * scores[cc]).sum(axis=1).reshape(len(theta), n_crit)

    @property
    def n_reviewers(self) -> int:
        self._fitted()
        return len(self.reviewer_ids_)

    def score(
        self,
        true: np.ndarray,
        rev: np.ndarray,
        n_levels: Any = None,
        rng: np.random.Generator | None = None,
        t: Any = None,
    ) -> np.ndarray:
        """Level indices given by reviewers at positions ``rev`` (order of ``reviewer_ids_``)
        to submissions with true level indices ``true`` (shape (m, n_criteria)): the
        policy simulator's reviewer protocol."""
        self._fitted()
        gen = np.random.default_rng(rng)
        true = np.asarray(true, dtype=np.int64)
        m, n_crit = true.shape
        cc = np.tile(np.arange(n_crit), m)
        eta = self.level_locations_[cc, true.ravel()] - np.repeat(
            self.severity_.to_numpy()[np.asarray(rev)], n_crit
        )
        p = _category_probs(eta, self._cumtau, cc)
        u = gen.random(len(eta))
        got = (u[:, None] > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)
        return got.reshape(m, n_crit)

    def sample_scores(
        self,
        true_levels: np.ndarray,
        reviewer_ids: Sequence[str],
        rng: int | np.random.Generator | None = None,
    ) -> np.ndarray:
        """Draw the scores reviewers give to submissions at the given true levels.

        Parameters
        ----------
        true_levels : array of int, shape (m, n_criteria)
            True level scores (rubric scores), criteria in rubric order.
        reviewer_ids : sequence of str, length m
            Who scores each row (reviewers the model was fitted on).
        rng : int, Generator or None

        Returns
        -------
        ndarray of int64, shape (m, n_criteria): the scores given.

        Notes
        -----
        A submission at level ``k`` of criterion ``c`` is placed at
        ``level_locations_[c, k]``; reviewer ``r`` then scores from the model's category
        probabilities at ``location - severity_r``.
        """
        self._fitted()
        n_crit = len(self.criterion_ids_)
        idx = true_level_positions(
            true_levels,
            [self._score_of[c, : self._n_levels[c]] for c in range(n_crit)],
            self.criterion_ids_,
        )
        rev = _reviewer_positions(self.reviewer_ids_, reviewer_ids, len(idx))
        got = self.score(idx, rev, None, np.random.default_rng(rng))
        return self._score_of[np.arange(n_crit)[None, :], got]
