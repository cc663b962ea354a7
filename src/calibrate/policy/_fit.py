"""A program's reviewers and population fitted by maximum likelihood, for the simulator.

The reviewer model is the synthetic generator's (:class:`calibrate.synth.ReviewerModel`):
reviewer ``r`` reports ``clip(rint(mid + (1 - ct_r) * (k - severity_r + h + e - mid)))``
for a true level index ``k``, with a halo ``h ~ N(0, halo_r)`` shared by the criteria of
one review and noise ``e ~ N(0, noise_r)`` per criterion. The population is a free
distribution over the joint true levels of all criteria (the *joint classes*) on small
rubrics, a latent-class mixture (criteria independent given the class) on large ones.
Both are fitted on all of a program's ratings at once: anchors and seeded anchors with
their key as known true levels, live submissions with latent true levels.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import optimize, sparse, special

from calibrate.ratings import AnswerKey, RatingsTable, level_codes
from calibrate.rubric import Rubric

if TYPE_CHECKING:
    from calibrate.synth import ReviewerModel

__all__ = ["ProgramModel", "fit_program_model"]

_NEVER = np.iinfo(np.int64).max
_FLOOR = 1e-300  # probabilities below this are treated as this (log of 0 otherwise)
# Bounds of the reviewer parameters: severity (levels), noise SD (levels), central
# tendency (share; negative spreads scores away from the middle), halo SD (levels).
_BOUNDS = ((-4.0, 4.0), (0.05, 5.0), (-0.5, 0.9), (0.0, 3.0))
_CHUNK = 4_000_000  # live reviews x joint classes x nodes held at once in the E-step
_JOINT_SHOWN = 1 << 16  # a fitted mixture is also listed as joint classes up to this many


class ProgramModel:
    """Reviewers (severity, noise, central tendency, halo), workload shares and the
    population of true levels, fitted on a program's ratings by maximum likelihood.

    Parameters
    ----------
    max_iter : int
        EM iterations at most.
    tol : float
        Convergence threshold on the change of the log-likelihood per review.
    n_quadrature : int
        Gauss-Hermite nodes integrating each review's halo out.
    max_classes : int
        Largest joint class space (product of the criteria's numbers of levels) fitted
        with a free prior (``population="joint"``); ``"auto"`` fits larger rubrics with the
        mixture, ``"joint"`` refuses them.
    population : {"auto", "joint", "mixture"}
        The population model: a free prior over the joint classes, a latent-class mixture
        ``P(levels) = sum_g weight_g prod_c probs[g, c, level_c]``, or ``"auto"``: joint up to
        ``max_classes`` classes, the mixture above.
    n_mixture : int
        Latent classes of the mixture (fewer when there are fewer live submissions).
    n_quadrature_mixture : int
        Gauss-Hermite nodes per review in the mixture's E-step (its cost grows as their
        power of the number of reviews of a submission).
    tol_mixture : float
        ``tol`` for the mixture (its EM creeps along directions of the classes' split of
        the population that leave the predictions unchanged).

    Attributes
    ----------
    reviewers_ : calibrate.synth.ReviewerModel
        The fitted reviewers (steady state: no drift), in ``reviewer_ids_`` order.
    reviewer_ids_ : tuple of str
    shares_ : ndarray, shape (n_reviewers,)
        Workload shares: the probability of being drawn first for a live submission's
        review, estimated from the live reviews (zero for reviewers with none).
    population_ : str
        The population model fitted: ``"joint"`` or ``"mixture"``.
    classes_ : ndarray, shape (n_classes, n_criteria), or None
        Every combination of true level scores (criteria in rubric order); None for a
        mixture over more than 65,536 joint classes.
    prior_ : ndarray, shape (n_classes,), or None
        The fitted share of live submissions in each joint class (for a mixture: the
        share it implies); None with ``classes_``.
    mixture_weights_ : ndarray, shape (n_mixture,), or None
        The mixture's class weights (None for the joint population).
    mixture_probs_ : ndarray, shape (n_mixture, n_criteria, max_levels), or None
        ``probs[g, c, k]``: the probability of level index ``k`` on criterion ``c`` in
        class ``g`` (zero past a criterion's levels).
    parameters_ : DataFrame
        One row per reviewer: ``reviewer_id, severity, noise, central_tendency, halo,
        share, live_reviews, keyed_reviews``.
    log_likelihood_ : float
        Of all used ratings (halo integrated out, classes summed out).
    n_iter_ : int
    converged_ : bool
    n_live_, n_keyed_ : int
        Live submissions and keyed anchors fitted on.

    Notes
    -----
    The likelihood of a review with level indices ``s`` of a submission in joint class
    ``z`` is ``∫ prod_c P(s_c | z_c, h) φ(h / halo) dh``, where ``P(j | k, h)`` is the
    probability that ``N(mid + a (k - severity + h - mid), (a noise)^2)`` falls in
    ``[j - 1/2, j + 1/2)`` (open at the ends of the scale), ``a = 1 - ct``: the
    generator's rounding and clipping, in closed form. A submission's likelihood is
    ``sum_z prior_z prod_reviews L(review | z)`` (live) or ``prod_reviews L(review |
    key)`` (keyed anchors; they do not inform the prior, being chosen to cover the
    levels). EM alternates the posteriors of each live submission's joint class and each
    review's halo node (Gauss-Hermite) with a weighted maximum-likelihood step for all
    reviewers' parameters (L-BFGS-B with the analytic gradient) and the class prior.

    Third reviews called by a trigger on the first two reviews are missing at random
    given the observed scores, so fitting them with the rest is valid likelihood
    inference. Workload shares come from how often each reviewer is among a live
    submission's first ``reviewers`` (the rubric's policy): the shares of successive
    draws without replacement whose inclusion probabilities match those counts. Drift is
    not modelled (the fit describes the window's average reviewer). On a two-level
    criterion central tendency changes nothing (the middle is the cut between the two
    levels): it stays at 0 when every criterion has two levels. Without live ratings the
    prior stays uniform and the shares equal: pass a population of your own then.

    The E-step costs live reviews x joint classes x nodes; reviews by one reviewer with
    the same scores share their likelihood, so a large program on a small rubric fits in
    seconds (3,500 submissions on 4 levels x 3 criteria: 1-5 s). Above ``max_classes``
    (by default a six-criterion, 4-level rubric: 4,096 classes) the population is the
    latent-class mixture. Given a submission's class and its reviews' halo nodes, the
    criteria are independent, so the E-step enumerates the ``Q ** m`` node combinations of
    a submission's ``m`` reviews and multiplies per-criterion sums over the true level:
    submissions x classes x criteria x levels x ``Q ** m``. The posteriors of (true level,
    node) per review give the reviewers' expected counts; the mixture's weights and
    level probabilities have closed-form updates. 3,000-3,500 submissions on
    ``discussion-hybrid`` (6 x 4 levels, 20 reviewers, ~45% third reviews) fit in 10-25 s
    (60-130 iterations).

    Validated against the generator (``tests/policy/test_prediction.py``): fitted on a
    program of 3,500 submissions and 20 reviewers, the accuracy that :func:`simulate`
    predicts under the rubric's policy was within 0.1-0.8 percentage points of the
    accuracy realised on a fresh draw of 40,000 submissions (4 seeds of
    ``evidence-4level``, the generator's default reviewers) and within 0.2 points on
    ``met-not-yet`` (2 seeds, quieter reviewers). With the defaults' noisy reviewers on a
    two-level rubric (a quarter of components misjudged) the fit is weakly identified
    and missed by up to 2.3 points. With the mixture on ``discussion-hybrid`` (3,000
    submissions, 2 seeds; the policy without its read-behind, which the generator does
    not run) the prediction was within 0.2-0.7 points; on ``evidence-4level`` the forced
    mixture predicted within 0.03-0.14 points of the joint prior.

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=400, n_reviewers=8, seed=3))
    >>> fit = ProgramModel().fit(program.ratings_table(), program.answer_key())
    >>> fit.classes_.shape, round(float(fit.prior_.sum()), 6), bool(fit.converged_)
    ((64, 3), 1.0, True)
    >>> fit.parameters_.columns.tolist()
    ['reviewer_id', 'severity', 'noise', 'central_tendency', 'halo', 'share', 'live_reviews', 'keyed_reviews']
    >>> true = [program.truth["reviewers"][r]["severity"] for r in fit.reviewer_ids_]
    >>> bool(np.corrcoef(true, fit.parameters_["severity"])[0, 1] > 0.9)
    True
    """

    def __init__(
        self,
        *,
        max_iter: int = 500,
        tol: float = 1e-6,
        n_quadrature: int = 11,
        max_classes: int = 1024,
        population: str = "auto",
        n_mixture: int = 8,
        n_quadrature_mixture: int = 5,
        tol_mixture: float = 1e-5,
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.n_quadrature = n_quadrature
        self.max_classes = max_classes
        self.population_model = population
        self.n_mixture = n_mixture
        self.n_quadrature_mixture = n_quadrature_mixture
        self.tol_mixture = tol_mixture

    def _check(self) -> None:
        for name, low in (
            ("max_iter", 1),
            ("n_quadrature", 1),
            ("max_classes", 2),
            ("n_mixture", 1),
            ("n_quadrature_mixture", 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {v!r}")
        for name in ("tol", "tol_mixture"):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (math.isfinite(v) and v >= 0)
            ):
                raise ValueError(f"{name} must be a non-negative finite number; got {v!r}")
        if self.population_model not in ("auto", "joint", "mixture"):
            raise ValueError(
                f"population must be 'auto', 'joint' or 'mixture'; got {self.population_model!r}"
            )

    # ---- fitting -----------------------------------------------------------------
    def fit(self, ratings: RatingsTable, key: AnswerKey) -> ProgramModel:
        """Fit on a program's ratings with the key of its anchors. Returns ``self``.

        Parameters
        ----------
        ratings : RatingsTable
            Anchor, seeded and live ratings (rows of no kind outside a calibration round
            count as live). Anchors not in the key (or keyed on some criteria only) are
            left out.
        key : AnswerKey
            The anchors' key: their true levels. At least one keyed anchor must have
            been scored: without one, severity cannot be told from the population.
        """
        self._check()
        if not isinstance(ratings, RatingsTable):
            raise TypeError(
                f"ratings must be a calibrate.ratings.RatingsTable; got {type(ratings).__name__}"
            )
        if not isinstance(key, AnswerKey):
            raise TypeError(f"key must be a calibrate.ratings.AnswerKey; got {type(key).__name__}")
        rubric = ratings.rubric
        n_levels = np.array([len(c.levels) for c in rubric.criteria], dtype=np.int64)
        n_classes = math.prod(n_levels.tolist())
        kind = self.population_model
        if kind == "auto":
            kind = "joint" if n_classes <= self.max_classes else "mixture"
        if kind == "joint" and n_classes > self.max_classes:
            raise ValueError(
                f"rubric {rubric.id!r} has {n_classes} joint classes of true levels "
                f"({' x '.join(map(str, n_levels))}); max_classes is {self.max_classes}: "
                "raise it (memory and time grow with it), fit fewer criteria or fit "
                "population='mixture'"
            )
        data = _encode(ratings, key, rubric)
        if kind == "joint":
            self._fit(data, rubric, n_levels)
        else:
            self._fit_mixture(data, rubric, n_levels)
        return self

    def _fit(self, d: _Data, rubric: Rubric, n_levels: np.ndarray) -> None:
        R = len(d.reviewer_ids)
        kmax = int(n_levels.max())
        x, w = np.polynomial.hermite_e.hermegauss(self.n_quadrature)
        w = w / w.sum()
        classes = np.array(list(itertools.product(*(range(k) for k in n_levels))), dtype=np.int64)
        lo, hi = _cuts(n_levels, kmax)
        mid = (n_levels - 1) / 2

        theta = _start(d, R)
        prior = _start_prior(d, classes, n_levels)
        n_reviews = len(d.live_rev) + len(d.key_rev)
        ll_old = -np.inf
        converged, n_iter = False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            P = _probs(theta, mid, lo, hi, x)[0]
            counts, post_sum, ll = _e_step(d, P, prior, classes, n_levels, w, R, kmax)
            if d.n_live:
                prior = post_sum / d.n_live
            theta = _m_step(theta, counts, mid, lo, hi, x)
            if abs(ll - ll_old) <= self.tol * n_reviews:
                converged = True
                break
            ll_old = ll
        P = _probs(theta, mid, lo, hi, x)[0]
        _, _, ll = _e_step(d, P, prior, classes, n_levels, w, R, kmax)
        self.population_ = "joint"
        self.mixture_weights_: np.ndarray | None = None
        self.mixture_probs_: np.ndarray | None = None
        self._store(d, rubric, n_levels, theta, classes, prior, ll, n_iter, converged)

    def _fit_mixture(self, d: _Data, rubric: Rubric, n_levels: np.ndarray) -> None:
        R, C = len(d.reviewer_ids), len(n_levels)
        kmax = int(n_levels.max())
        x, w = np.polynomial.hermite_e.hermegauss(self.n_quadrature_mixture)
        w = w / w.sum()
        lo, hi = _cuts(n_levels, kmax)
        mid = (n_levels - 1) / 2
        G = max(1, min(self.n_mixture, d.n_live))

        theta = _start(d, R)
        weights, probs = _start_mixture(d, n_levels, G)
        n_reviews = len(d.live_rev) + len(d.key_rev)
        ll_old = -np.inf
        converged, n_iter = False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            P = _probs(theta, mid, lo, hi, x)[0]
            counts, w_sum, level_sum, ll = _e_step_mixture(
                d, P, weights, probs, n_levels, w, R, kmax
            )
            if d.n_live:
                weights = w_sum / w_sum.sum()
                total = level_sum.sum(axis=2, keepdims=True)
                probs = np.where(total > 0, level_sum / np.maximum(total, _FLOOR), probs)
            theta = _m_step(theta, counts, mid, lo, hi, x)
            if abs(ll - ll_old) <= self.tol_mixture * n_reviews:
                converged = True
                break
            ll_old = ll
        P = _probs(theta, mid, lo, hi, x)[0]
        ll = _e_step_mixture(d, P, weights, probs, n_levels, w, R, kmax)[3]
        self.population_ = "mixture"
        self.mixture_weights_ = weights
        self.mixture_probs_ = probs
        classes: np.ndarray | None = None
        prior: np.ndarray | None = None
        if math.prod(n_levels.tolist()) <= _JOINT_SHOWN:
            classes = np.array(
                list(itertools.product(*(range(k) for k in n_levels))), dtype=np.int64
            )
            prior = weights @ np.prod(probs[:, np.arange(C), classes], axis=2)  # (Z,)
        self._store(d, rubric, n_levels, theta, classes, prior, ll, n_iter, converged)

    def _store(
        self,
        d: _Data,
        rubric: Rubric,
        n_levels: np.ndarray,
        theta: np.ndarray,
        classes: np.ndarray | None,
        prior: np.ndarray | None,
        ll: float,
        n_iter: int,
        converged: bool,
    ) -> None:
        R, C = len(d.reviewer_ids), len(n_levels)
        kmax = int(n_levels.max())
        from calibrate.synth import ReviewerModel

        ids = tuple(d.reviewer_ids)
        self.reviewer_ids_ = ids
        self.reviewers_ = ReviewerModel(
            ids,
            theta[:, 0].copy(),
            theta[:, 1].copy(),
            theta[:, 2].copy(),
            theta[:, 3].copy(),
            np.zeros(R),
            np.full(R, _NEVER),
        )
        self.shares_ = _shares(d.first_counts, d.n_first, rubric.review_policy.reviewers)
        score_of = np.array(
            [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in rubric.criteria]
        )
        self._score_of = score_of
        self.classes_ = None if classes is None else score_of[np.arange(C), classes]
        self.prior_ = prior
        self.parameters_ = pd.DataFrame(
            {
                "reviewer_id": list(ids),
                "severity": theta[:, 0],
                "noise": theta[:, 1],
                "central_tendency": theta[:, 2],
                "halo": theta[:, 3],
                "share": self.shares_,
                "live_reviews": np.bincount(d.live_rev, minlength=R),
                "keyed_reviews": np.bincount(d.key_rev, minlength=R),
            }
        )
        self.log_likelihood_ = float(ll)
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.n_live_ = d.n_live
        self.n_keyed_ = d.n_keyed

    # ---- use ---------------------------------------------------------------------
    def _fitted(self) -> None:
        if not hasattr(self, "reviewers_"):
            raise RuntimeError("this ProgramModel is not fitted yet; call fit(ratings, key) first")

    def population(self, size: int = 100_000) -> np.ndarray:
        """The fitted population as ``size`` rows of true level scores, each joint class
        repeated in proportion to its prior (largest remainders; no randomness): the
        ``population`` argument of :func:`simulate` and :func:`sweep`. A mixture over too
        many joint classes to list gives each class its share of rows and draws their
        levels (a fixed seed: the same rows on every call)."""
        self._fitted()
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"size must be a positive integer; got {size!r}")
        if self.prior_ is not None and self.classes_ is not None:
            return np.repeat(self.classes_, _apportion(self.prior_, size), axis=0)
        # a mixture over too many joint classes to list: each class's share of rows, its
        # criteria's levels drawn independently (fixed seed: the same rows every call)
        if self.mixture_weights_ is None or self.mixture_probs_ is None:
            raise RuntimeError(
                "this ProgramModel holds neither a joint prior nor a mixture; refit it"
            )
        rng = np.random.default_rng(0)
        score_of = self._score_of
        C, kmax = score_of.shape
        rows = []
        for g, m in enumerate(_apportion(self.mixture_weights_, size).tolist()):
            cum = np.cumsum(self.mixture_probs_[g], axis=1)  # (C, K)
            u = rng.random((m, C, 1))
            lv = np.minimum((u > cum[None]).sum(axis=2), kmax - 1)
            rows.append(score_of[np.arange(C), lv])
        return np.concatenate(rows, axis=0)


def _apportion(shares: np.ndarray, size: int) -> np.ndarray:
    """``size`` split in proportion to ``shares`` (largest remainders)."""
    exact = shares * size
    counts = np.floor(exact).astype(np.int64)
    short = size - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def fit_program_model(
    ratings: RatingsTable, key: AnswerKey, **settings: Any
) -> tuple[ReviewerModel, np.ndarray, np.ndarray]:
    """Fit :class:`ProgramModel` and return what the simulator takes: the reviewer model,
    a population of true level scores and the reviewers' workload shares.

    ``settings`` are :class:`ProgramModel`'s (``max_iter``, ``tol``, ``n_quadrature``,
    ``max_classes``, ``population``, ``n_mixture``, ``n_quadrature_mixture``,
    ``tol_mixture``).

    Examples
    --------
    >>> from calibrate.policy import Policy, simulate
    >>> from calibrate.synth import SynthSpec, generate
    >>> program = generate("rubrics/met-not-yet.yaml", SynthSpec(n_submissions=300, n_reviewers=8, seed=2))
    >>> reviewers, population, shares = fit_program_model(program.ratings_table(), program.answer_key())
    >>> reviewers.n_reviewers, population.shape, round(float(shares.sum()), 6)
    (8, (100000, 4), 1.0)
    >>> out = simulate(program.rubric, Policy.from_rubric(program.rubric), reviewers, population,
    ...                n=5000, rng=0, shares=shares)
    >>> 0.5 < out.accuracy <= 1
    True
    """
    fit = ProgramModel(**settings).fit(ratings, key)
    return fit.reviewers_, fit.population(), fit.shares_


# ---- data ----------------------------------------------------------------------------


class _Data:
    """Reviews as integer arrays: live ones (latent class) and keyed ones (known)."""

    reviewer_ids: list[str]
    live_rev: np.ndarray  # (n,) reviewer codes of live reviews, sorted by submission
    live_lv: np.ndarray  # (n, C) level indices, -1 where not scored
    live_starts: np.ndarray  # first review of each live submission
    live_sub: np.ndarray  # (n,) live submission position of each live review
    pat_rev: np.ndarray  # (U,) reviewer of each distinct (reviewer, levels) pattern
    pat_lv: np.ndarray  # (U, C) its levels
    pat_of: np.ndarray  # (n,) pattern of each live review
    pat_sum: Any  # sparse (U, n): sums reviews into their patterns
    n_live: int
    key_rev: np.ndarray
    key_lv: np.ndarray
    key_true: np.ndarray  # (n, C) the key's level indices
    n_keyed: int
    first_counts: np.ndarray  # per reviewer: among a live submission's first reviews
    n_first: int


def _encode(ratings: RatingsTable, key: AnswerKey, rubric: Rubric) -> _Data:
    f = ratings.frame
    crit_ids = list(rubric.criterion_ids)
    C = len(crit_ids)
    kind = f["kind"].astype(object)
    live_row = ((kind == "live") | (kind.isna() & f["round_id"].isna())).to_numpy()

    kw = key.wide().reindex(columns=crit_ids).dropna()
    kw.index = kw.index.astype(str)
    sub = f["submission_id"].astype(str).to_numpy()
    keyed_row = pd.Index(kw.index).get_indexer(sub) >= 0
    use = live_row | keyed_row
    if not keyed_row.any():
        raise ValueError(
            "no keyed anchor was scored: fitting reviewers needs anchors with a key "
            "(complete on every criterion) to place their severities"
        )
    f = f.loc[use]
    keyed_row = keyed_row[use]
    crit = pd.Categorical(f["criterion_id"].astype(str), categories=crit_ids).codes.astype(np.int64)
    lv = level_codes(rubric, crit, f["score"].to_numpy(dtype=np.int64))
    rev_codes, rev_ids = pd.factorize(f["reviewer_id"].astype(str), sort=True)
    rounds = f["round_id"].astype(object).fillna("").astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "sub": f["submission_id"].astype(str).to_numpy(),
            "rev": rev_codes,
            "round": rounds,
            "crit": crit,
            "lv": lv,
            "at": f["rated_at"].to_numpy(),
            "row": np.arange(len(f)),
            "keyed": keyed_row,
        }
    )
    g = frame.groupby(["sub", "rev", "round"], sort=True)
    review = g.ngroup().to_numpy()
    n_rev = int(review.max()) + 1 if len(review) else 0
    levels = np.full((n_rev, C), -1, dtype=np.int64)
    levels[review, frame["crit"].to_numpy()] = frame["lv"].to_numpy()
    head = g.agg(
        sub=("sub", "first"),
        rev=("rev", "first"),
        keyed=("keyed", "first"),
        at=("at", "min"),
        row=("row", "min"),
    ).reset_index(drop=True)

    keyed = head["keyed"].to_numpy(dtype=bool)
    k_sub = head["sub"].to_numpy()[keyed]
    key_true = level_codes(
        rubric,
        np.tile(np.arange(C), int(keyed.sum())),
        kw.loc[k_sub].to_numpy(dtype=np.int64).ravel(),
    ).reshape(-1, C)

    live = head.loc[~keyed].assign(lv=list(levels[~keyed]))
    live = live.sort_values(["sub", "at", "row"], na_position="last", kind="stable")
    live_sub = live["sub"].to_numpy()
    starts = (
        np.flatnonzero(np.r_[True, live_sub[1:] != live_sub[:-1]])
        if len(live)
        else np.zeros(0, dtype=np.int64)
    )
    live_rev = live["rev"].to_numpy(dtype=np.int64)
    R = len(rev_ids)
    first = rubric.review_policy.reviewers
    slot = np.arange(len(live)) - np.repeat(starts, np.diff(np.r_[starts, len(live)]))
    d = _Data()
    d.reviewer_ids = [str(r) for r in rev_ids]
    d.live_rev = live_rev
    d.live_lv = np.stack(live["lv"].to_list()) if len(live) else np.zeros((0, C), np.int64)
    d.live_starts = starts
    d.n_live = len(starts)
    d.key_rev = head["rev"].to_numpy(dtype=np.int64)[keyed]
    d.key_lv = levels[keyed]
    d.key_true = key_true
    d.n_keyed = len(np.unique(k_sub))
    d.first_counts = np.bincount(live_rev[slot < first], minlength=R).astype(float)
    d.live_sub = np.repeat(np.arange(d.n_live), np.diff(np.r_[starts, len(live)]))
    # Reviews by the same reviewer with the same levels have the same likelihood: the
    # E-step works on these patterns (far fewer than reviews in a large program).
    pats, d.pat_of = np.unique(np.column_stack([live_rev, d.live_lv]), axis=0, return_inverse=True)
    d.pat_of = d.pat_of.ravel()
    d.pat_rev, d.pat_lv = pats[:, 0], pats[:, 1:]
    d.pat_sum = sparse.csr_matrix(
        (np.ones(len(live)), (d.pat_of, np.arange(len(live)))), shape=(len(pats), len(live))
    )
    d.n_first = d.n_live
    return d


# ---- the model's pieces -------------------------------------------------------------


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
    d: _Data, P: np.ndarray, n_levels: np.ndarray, w: np.ndarray, R: int, kmax: int
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
    d: _Data,
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


def _start_mixture(d: _Data, n_levels: np.ndarray, G: int) -> tuple[np.ndarray, np.ndarray]:
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
    d: _Data,
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


def _start(d: _Data, R: int) -> np.ndarray:
    """Starting values: severity from the mean deviation from the key, the rest neutral."""
    theta = np.tile([0.0, 0.5, 0.0, 0.1], (R, 1))
    if len(d.key_rev):
        seen = d.key_lv >= 0
        dev = np.where(seen, d.key_lv - d.key_true, 0).sum(axis=1)
        num = np.bincount(d.key_rev, weights=dev, minlength=R)
        den = np.bincount(d.key_rev, weights=seen.sum(axis=1), minlength=R)
        theta[:, 0] = np.clip(-num / np.maximum(den, 1), -3, 3)
    return theta


def _start_prior(d: _Data, classes: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
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


def _shares(counts: np.ndarray, n_subs: int, k: int) -> np.ndarray:
    """Shares p whose successive sampling of ``k`` distinct reviewers includes each
    reviewer as often as observed (``counts`` over ``n_subs`` submissions)."""
    total = counts.sum()
    if total == 0:
        return np.full(len(counts), 1.0 / len(counts))
    target = counts / max(n_subs, 1)
    p = counts / total
    for _ in range(200):
        incl = _inclusion(p, k)
        new = np.where(incl > 0, p * target / np.maximum(incl, 1e-300), 0.0)
        new /= new.sum()
        if np.max(np.abs(new - p)) < 1e-12:
            p = new
            break
        p = new
    return p


def _inclusion(p: np.ndarray, k: int) -> np.ndarray:
    """P(reviewer r is among k drawn one after another in proportion to p, without
    replacement), k <= 3, exactly."""
    incl = p.copy()
    if k < 2:
        return incl
    rest = np.maximum(1.0 - p, 1e-300)
    # second draw: someone else s first, then r from what is left
    q = p / rest  # p_s / (1 - p_s)
    second = p * (q.sum() - q)
    incl = incl + second
    if k < 3:
        return incl
    # third: s, then t, then r: p_s / 1 * p_t / (1 - p_s) * p_r / (1 - p_s - p_t)
    m = (q[:, None] * p[None, :]) / np.maximum(1.0 - p[:, None] - p[None, :], 1e-300)
    np.fill_diagonal(m, 0.0)
    # sum over s != t, both != r: everything minus the row and the column of r
    third = p * (m.sum() - m.sum(axis=1) - m.sum(axis=0))
    return incl + third
