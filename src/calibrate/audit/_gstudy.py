"""Generalizability (G) and decision (D) studies on sparse, unbalanced rating designs.

Variance components come from Henderson's method 1 -- Brennan's "analogous ANOVA" with
analogous T terms, the procedure of urGENOVA -- computed from sparse sums with
``np.bincount``; intervals come from a parametric bootstrap on the observed design.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_confidence_level

__all__ = ["DStudyResult", "GStudyResult", "ReviewerDesign", "d_study", "g_study", "g_study_frame"]

ReviewerDesign = Literal["crossed", "nested"]
_REVIEWER_DESIGNS: tuple[str, ...] = get_args(ReviewerDesign)

#: Facet names of a RatingsTable G-study, and their columns.
_TABLE_FACETS = {
    "submission": "submission_id",
    "reviewer": "reviewer_id",
    "criterion": "criterion_id",
}


# ----------------------------------------------------------------------------------------
# The design: integer codes of every effect
# ----------------------------------------------------------------------------------------


def _effects(facets: Sequence[str], nested: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Every random effect of a design: the non-empty facet sets closed under nesting.

    A facet nested in another (``nested={"i": "h"}`` for i:h) only appears together with
    its outer facet, so i:h is the set ``{i, h}`` and there is no effect ``{i}``.
    """
    out = []
    for k in range(1, len(facets) + 1):
        for combo in itertools.combinations(facets, k):
            if all(nested[f] in combo for f in combo if f in nested):
                out.append(combo)
    return out


def _effect_name(effect: tuple[str, ...], nested: Mapping[str, str]) -> str:
    """Brennan's notation in words: ``submission x reviewer``, ``reviewer:submission``."""
    inner = [f for f in effect if f in nested]
    hosts = list(dict.fromkeys(nested[f] for f in inner))
    crossed = [f for f in effect if f not in inner and f not in hosts]
    left = " x ".join(crossed + inner)
    return f"{left}:{' x '.join(hosts)}" if hosts else left


def _compact_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Codes 0..L-1 of the distinct combinations of integer code columns."""
    code = columns[0].astype(np.int64, copy=False)
    n = int(code.max()) + 1 if code.size else 0
    for col in columns[1:]:
        width = int(col.max()) + 1 if col.size else 0
        code, uniques = pd.factorize(code * width + col, sort=False)
        code = code.astype(np.int64, copy=False)
        n = len(uniques)
    return code, n


@dataclass(frozen=True)
class _Fit:
    effects: list[tuple[str, ...]]
    codes: list[np.ndarray]  # per effect: level code of every rating
    counts: list[np.ndarray]  # per effect: ratings per level
    K: np.ndarray  # E[T_a - T_mu] = K @ sigma2
    t_centred: np.ndarray  # T_a - T_mu of the data
    t_raw: np.ndarray  # T_a, and T_mu last
    n_ratings: int


def _prepare(
    codes: Mapping[str, np.ndarray], effects: list[tuple[str, ...]]
) -> tuple[list, list, np.ndarray]:
    """Level codes and counts of each effect, and the T-term coefficient matrix K."""
    n = len(next(iter(codes.values())))
    cache: dict[frozenset[str], tuple[np.ndarray, np.ndarray]] = {}

    def cell(fs: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        if fs not in cache:
            order = [f for f in codes if f in fs]
            code, size = _compact_codes([codes[f] for f in order])
            cache[fs] = (code, np.bincount(code, minlength=size))
        return cache[fs]

    eff_codes, eff_counts = [], []
    for e in effects:
        c, m = cell(frozenset(e))
        eff_codes.append(c)
        eff_counts.append(m)
    # E[T_a] = N mu^2 + sum_b sigma2_b * sum_{cells of a u b} n_cell^2 / n_(a-level of cell)
    # (Henderson 1953, method 1; Searle et al. 1992, sec. 5.3). T_mu = (sum y)^2 / N.
    q = len(effects)
    K = np.empty((q, q))
    k_mu = np.array([float(np.sum(eff_counts[b].astype(np.float64) ** 2)) / n for b in range(q)])
    for a, ea in enumerate(effects):
        for b, eb in enumerate(effects):
            code_u, n_u = cell(frozenset(ea) | frozenset(eb))
            first = np.empty(n_u.size, dtype=np.int64)
            first[code_u[::-1]] = np.arange(n - 1, -1, -1)
            parent = eff_codes[a][first]
            K[a, b] = float(np.sum(n_u.astype(np.float64) ** 2 / eff_counts[a][parent])) - k_mu[b]
    return eff_codes, eff_counts, K


def _t_terms(
    y: np.ndarray, eff_codes: list[np.ndarray], eff_counts: list[np.ndarray]
) -> np.ndarray:
    """T_a - T_mu for centred scores (the differences do not depend on the mean)."""
    return np.array(
        [
            float(np.sum(np.bincount(c, weights=y, minlength=m.size) ** 2 / m))
            for c, m in zip(eff_codes, eff_counts, strict=True)
        ]
    )


def _fit(codes: Mapping[str, np.ndarray], y: np.ndarray, effects: list[tuple[str, ...]]) -> _Fit:
    eff_codes, eff_counts, K = _prepare(codes, effects)
    finest = eff_counts[-1]
    if finest.max(initial=0) > 1:
        raise ValueError(
            "each combination of " + ", ".join(effects[-1]) + " must be scored at most once; got "
            f"{int((finest > 1).sum())} repeated cells. Select one round or kind of ratings first."
        )
    rank = np.linalg.matrix_rank(K, tol=1e-9 * max(1.0, float(np.abs(K).max(initial=0))))
    if rank < len(effects):
        raise ValueError(
            "the design does not separate every variance component (e.g. each reviewer scored a "
            "single submission, or a facet has one level); use design='nested' for reviewers "
            "nested in submissions, or more varied data"
        )
    mean = float(y.mean())
    yc = y - mean
    t_c = _t_terms(yc, eff_codes, eff_counts)
    t_mu = y.size * mean**2
    return _Fit(effects, eff_codes, eff_counts, K, t_c, np.append(t_c + t_mu, t_mu), int(y.size))


def _solve(fit: _Fit, t_centred: np.ndarray) -> np.ndarray:
    return np.linalg.solve(fit.K, t_centred)


def _bootstrap(fit: _Fit, sigma2: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Parametric bootstrap: redraw scores from the fitted normal random-effects model on
    the same design (negative components drawn as 0) and re-estimate."""
    sd = np.sqrt(np.clip(sigma2, 0.0, None))
    out = np.empty((n_boot, len(fit.effects)))
    for b in range(n_boot):
        y = np.zeros(fit.n_ratings)
        for s, c, m in zip(sd, fit.codes, fit.counts, strict=True):
            if s > 0:
                y += s * rng.standard_normal(m.size)[c]
        y -= y.mean()
        out[b] = _solve(fit, _t_terms(y, fit.codes, fit.counts))
    return out


# ----------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------


def _coefficients(
    sigma2: np.ndarray,
    effects: Sequence[tuple[str, ...]],
    target: str,
    sizes: Mapping[str, float],
    fold_into_target: Sequence[str] = (),
    fixed: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Universe-score, relative- and absolute-error variance and (E rho^2, Phi).

    Brennan's (2001, sec. 4.4) rules: each effect's component is divided by the product of
    the D-study sample sizes of its facets other than the target. An effect with the
    target and only fixed facets besides is universe score; with the target and a random
    facet, relative (and absolute) error; without the target but with a random facet,
    absolute error only; effects of fixed facets alone drop out. Facets in
    ``fold_into_target`` are nested in the target in the D-study: effects containing
    them gain the target facet.
    """
    s = np.clip(np.asarray(sigma2, dtype=np.float64), 0.0, None)
    if s.ndim == 1:
        s = s[None, :]
    tau = np.zeros(s.shape[0])
    rel = np.zeros(s.shape[0])
    absolute = np.zeros(s.shape[0])
    for j, e in enumerate(effects):
        facets = set(e)
        if facets & set(fold_into_target):
            facets.add(target)
        others = facets - {target}
        div = math.prod(float(sizes[f]) for f in others)
        random = others - set(fixed)
        if target in facets and not random:
            tau += s[:, j] / div
        elif random:
            absolute += s[:, j] / div
            if target in facets:
                rel += s[:, j] / div
    with np.errstate(invalid="ignore", divide="ignore"):
        g_rel = tau / (tau + rel)
        g_abs = tau / (tau + absolute)
    return tau, rel, absolute, (g_rel, g_abs)


def _interval(x: np.ndarray, level: float) -> tuple[float, float]:
    if x.size == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    lo, hi = np.quantile(x, [a, 1 - a])
    return (float(lo), float(hi))


@dataclass(frozen=True)
class GStudyResult:
    """Variance components of a G-study, with bootstrap standard errors and intervals.

    Attributes
    ----------
    design : str
        The G-study design in Brennan's notation, e.g. ``"p x r x c"`` or ``"(r:p) x c"``.
    target : str
        The object of measurement (``"submission"``).
    facets : tuple of str
        Every facet, the target first.
    nested : dict
        ``{inner: outer}`` for nested facets.
    effects : tuple of tuple of str
        The facet set of each variance component, in the order of ``variance``.
    names : tuple of str
        Each component's name (``"submission x reviewer"``, ``"reviewer:submission"``).
        The last is confounded with residual error.
    variance : tuple of float
        Estimated variance components, as estimated (negative values are not truncated
        here; :meth:`d_study` and ``share`` use them as 0, Brennan's convention).
    se : tuple of float
        Parametric-bootstrap standard errors (NaN when ``n_boot=0``).
    ci : tuple of (float, float)
        Percentile intervals at ``confidence_level``.
    t_terms : dict
        Brennan's T terms of each effect and of the mean (``"mean"``).
    n_ratings : int
    n_levels : dict
        Levels observed of each facet (nested facets: distinct (inner, outer) pairs).
    sample_sizes : dict
        The G-study's own sample sizes per target level: the D-study default.
    method : str
    n_boot : int
    confidence_level : float
    note : str
    """

    design: str
    target: str
    facets: tuple[str, ...]
    nested: dict[str, str]
    effects: tuple[tuple[str, ...], ...]
    names: tuple[str, ...]
    variance: tuple[float, ...]
    se: tuple[float, ...]
    ci: tuple[tuple[float, float], ...]
    t_terms: dict[str, float]
    n_ratings: int
    n_levels: dict[str, int]
    sample_sizes: dict[str, float]
    method: str = "henderson1"
    n_boot: int = 0
    confidence_level: float = 0.95
    note: str = ""
    replicates: np.ndarray = field(
        default_factory=lambda: np.empty((0, 0)), repr=False, compare=False
    )

    def component(self, name: str) -> float:
        """The estimate of one component by name."""
        if name not in self.names:
            raise ValueError(f"name must be one of {list(self.names)}; got {name!r}")
        return self.variance[self.names.index(name)]

    def to_frame(self) -> pd.DataFrame:
        """One row per component: ``facet``, ``variance``, ``share`` (of the total with
        negative estimates as 0), ``se``, ``ci_low``, ``ci_high``, ``negative``."""
        v = np.asarray(self.variance)
        pos = np.clip(v, 0, None)
        total = pos.sum()
        return pd.DataFrame(
            {
                "facet": list(self.names),
                "variance": v,
                "share": pos / total if total > 0 else np.full(v.size, np.nan),
                "se": list(self.se),
                "ci_low": [c[0] for c in self.ci],
                "ci_high": [c[1] for c in self.ci],
                "negative": v < 0,
            }
        )

    def coefficients(self, sizes: Mapping[str, float] | None = None) -> tuple[float, float]:
        """(E rho^2, Phi) for the G-study design itself, or for other ``sizes``."""
        use = {**self.sample_sizes, **(sizes or {})}
        *_, (g_rel, g_abs) = _coefficients(
            np.asarray(self.variance), self.effects, self.target, use
        )
        return float(g_rel[0]), float(g_abs[0])

    def d_study(self, **kwargs: object) -> DStudyResult:
        """Shorthand for :func:`d_study` on this result."""
        return d_study(self, **kwargs)  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r.facet)}</td><td>{r.variance:.4f}</td><td>{r.share:.1%}</td>"
            f"<td>{'' if math.isnan(r.se) else f'{r.se:.4f}'}</td></tr>"
            for r in self.to_frame().itertuples()
        )
        note = f"<p><em>{html.escape(self.note)}</em></p>" if self.note else ""
        return (
            f"<div><strong>G-study</strong> {html.escape(self.design)}: {self.n_ratings} ratings "
            f"({html.escape(self.method)})<table><tr><th>facet</th><th>variance</th><th>share</th>"
            f"<th>se</th></tr>{rows}</table>{note}</div>"
        )


@dataclass(frozen=True)
class DStudyResult:
    """Projected generalizability (E rho^2) and dependability (Phi) coefficients.

    ``table`` has a row per combination of sample sizes with ``n_reviewers``,
    ``n_criteria``, ``g_relative``, ``g_absolute``, their interval bounds
    (``*_low``, ``*_high``) and the error variances ``var_relative``, ``var_absolute``.
    """

    table: pd.DataFrame
    reviewers: str
    confidence_level: float
    n_boot: int
    criteria: str = "random"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def needed(
        self,
        *,
        target: float = 0.80,
        coefficient: Literal["g_absolute", "g_relative"] = "g_absolute",
        n_criteria: int | None = None,
        conservative: bool = False,
    ) -> int | None:
        """Fewest reviewers whose projected coefficient reaches ``target`` (None if none do).

        With ``conservative=True`` the interval's lower bound must reach it.
        """
        check_choice("coefficient", coefficient, ("g_absolute", "g_relative"))
        t = self.table
        if n_criteria is not None:
            t = t[t["n_criteria"] == n_criteria]
        col = f"{coefficient}_low" if conservative else coefficient
        ok = t[t[col] >= target]
        return None if ok.empty else int(ok["n_reviewers"].min())

    def _repr_html_(self) -> str:
        return (
            f"<div><strong>D-study</strong> (reviewers {html.escape(self.reviewers)})"
            + self.table.to_html(index=False, float_format=lambda x: f"{x:.3f}")
            + "</div>"
        )


# ----------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------


def _check_n_boot(n_boot: object) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer; got {n_boot!r}")
    return int(n_boot)


def g_study_frame(
    frame: pd.DataFrame,
    *,
    score: str,
    target: str,
    facets: Sequence[str],
    nested: Mapping[str, str] | None = None,
    n_boot: int = 200,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> GStudyResult:
    r"""G-study of any random-effects design given as a long frame (one score per row).

    Parameters
    ----------
    frame : DataFrame
        One row per observation, with a column per facet and ``score``.
    score : str
        Column of the scores.
    target : str
        Column of the object of measurement (persons, submissions).
    facets : sequence of str
        Columns of the other facets (raters, items, occasions, criteria).
    nested : mapping, optional
        ``{inner: outer}`` for nested facets, e.g. ``{"r": "t"}`` for raters nested in
        tasks (p x (r:t)). An inner facet's labels may repeat across outer levels.
    n_boot : int, default 200
        Parametric-bootstrap replicates for standard errors and intervals; 0 for none.
    confidence_level : float, default 0.95
    rng : int or numpy Generator, optional

    Returns
    -------
    GStudyResult

    Notes
    -----
    All facets are random. With :math:`T_\alpha = \sum_a y_{a\cdot}^2 / n_a` over the
    levels of effect :math:`\alpha` and :math:`T_\mu = y_{\cdot\cdot}^2 / N`, Henderson's
    method 1 equates :math:`T_\alpha - T_\mu` to its expectation under the model,

    .. math:: E[T_\alpha - T_\mu] = \sum_\beta \Big(\sum_{a,b} \frac{n_{ab}^2}{n_a}
              - \sum_b \frac{n_b^2}{N}\Big)\,\sigma^2_\beta,

    with :math:`n_{ab}` the ratings in level a of :math:`\alpha` and b of :math:`\beta`,
    and solves the square system. On balanced data these are the ANOVA (expected mean
    square) estimates; on unbalanced data with missing cells they are Brennan's (2001,
    ch. 7) analogous-ANOVA estimates, unbiased under the random model. The counts come
    from ``np.bincount`` on integer codes, so the cost is linear in the number of ratings.
    The last (all-facet) component is confounded with residual error: each cell must be
    scored at most once.

    Standard errors and intervals come from a parametric bootstrap: scores are redrawn
    from the normal random-effects model with the estimated components (negative ones as
    0) on the same design and the components re-estimated. They reflect sampling under
    that model; ordinal scores are not normal, so read them as approximate.

    Validated against Brennan (2001): Synthetic Data Set No. 3 (p x i x o, Table 3.1),
    No. 4 (p x (r:t), Table 3.2) and the unbalanced p x (i:h) example of chapter 7:
    T terms, components and coefficients to the published 4 decimals.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer. (Ch. 3-4, 7.)
    .. [2] Henderson, C. R. (1953). Estimation of variance and covariance components.
       Biometrics, 9(2), 226-252.
    .. [3] Searle, S. R., Casella, G., & McCulloch, C. E. (1992). Variance Components.
       Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from calibrate.audit import g_study_frame
    >>> scores = [[2, 3, 3], [4, 4, 5], [1, 2, 1], [3, 5, 4]]  # persons x raters
    >>> long = pd.DataFrame([(p, r, s) for p, row in enumerate(scores) for r, s in enumerate(row)],
    ...                     columns=["p", "r", "y"])
    >>> res = g_study_frame(long, score="y", target="p", facets=["r"], n_boot=0)
    >>> res.to_frame()[["facet", "variance"]].round(3)
       facet  variance
    0      p     1.778
    1      r     0.194
    2  p x r     0.306
    """
    nested = dict(nested or {})
    cols = [target, *facets]
    for c in [*cols, score]:
        if c not in frame.columns:
            raise ValueError(
                f"column {c!r} (from target/facets/score) is not in the frame; columns are {list(frame.columns)}"
            )
    if len(set(cols)) != len(cols):
        raise ValueError(f"target and facets must be distinct columns; got {cols}")
    for inner, outer in nested.items():
        if inner not in cols or outer not in cols:
            raise ValueError(
                f"nested must map facets to facets among {cols}; got {inner!r}: {outer!r}"
            )
    n_boot = _check_n_boot(n_boot)
    level = check_confidence_level(confidence_level)
    y = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.isfinite(y)
    if keep.sum() < 2:
        raise ValueError(f"a G-study needs at least 2 scores; got {int(keep.sum())}")
    codes: dict[str, np.ndarray] = {}
    for c in cols:
        col = frame[c]
        raw = (
            col.cat.codes.to_numpy()
            if isinstance(col.dtype, pd.CategoricalDtype)
            else pd.factorize(col)[0]
        )
        codes[c] = raw[keep].astype(np.int64)
        if (codes[c] < 0).any():
            raise ValueError(f"column {c!r} must not have missing values where a score is given")
    # Nesting: the inner facet's levels are (outer, inner) pairs, so labels may repeat.
    for inner, outer in nested.items():
        codes[inner] = _compact_codes([codes[outer], codes[inner]])[0]
    for c in cols:
        codes[c] = pd.factorize(codes[c])[0].astype(np.int64)
    y = y[keep]
    effects = _effects(cols, nested)
    fit = _fit(codes, y, effects)
    sigma2 = _solve(fit, fit.t_centred)
    gen = np.random.default_rng(rng)
    reps = _bootstrap(fit, sigma2, n_boot, gen) if n_boot else np.empty((0, len(effects)))
    se = reps.std(axis=0, ddof=1) if n_boot > 1 else np.full(len(effects), np.nan)
    ci = [_interval(reps[:, j], level) for j in range(len(effects))]
    names = [_effect_name(e, nested) for e in effects]
    sizes: dict[str, float] = {}
    for f in facets:
        # Average number of levels of f per level of its host (the target when crossed).
        host = nested.get(f, target)
        pair = _compact_codes([codes[host], codes[f]])[0]
        first = np.unique(pair, return_index=True)[1]
        sizes[f] = float(np.mean(np.bincount(codes[host][first])))
    hosts = set(nested.values())
    design = " x ".join(f"({f}:{nested[f]})" if f in nested else f for f in cols if f not in hosts)
    note = ""
    if (sigma2 < 0).any():
        neg = [n for n, v in zip(names, sigma2, strict=True) if v < 0]
        note = (
            "negative estimates (sampling error around a small component) count as 0 in shares and D-studies: "
            + ", ".join(neg)
        )
    return GStudyResult(
        design=design,
        target=target,
        facets=tuple(cols),
        nested=nested,
        effects=tuple(effects),
        names=tuple(names),
        variance=tuple(float(v) for v in sigma2),
        se=tuple(float(v) for v in se),
        ci=tuple(ci),
        t_terms={
            **{n: float(t) for n, t in zip(names, fit.t_raw[:-1], strict=True)},
            "mean": float(fit.t_raw[-1]),
        },
        n_ratings=fit.n_ratings,
        n_levels={c: int(codes[c].max()) + 1 for c in cols},
        sample_sizes=sizes,
        n_boot=n_boot,
        confidence_level=level,
        note=note,
        replicates=reps,
    )


def g_study(
    ratings: object,
    *,
    design: ReviewerDesign = "crossed",
    n_boot: int = 200,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> GStudyResult:
    """G-study of a ratings table: submission, reviewer, criterion and their interactions.

    Parameters
    ----------
    ratings : RatingsTable
        One score per (submission, reviewer, criterion); select one round or kind first.
    design : {"crossed", "nested"}, default "crossed"
        ``"crossed"``: p x r x c with missing cells -- reviewers score many submissions,
        each submission a few reviewers -- giving seven components (submission, reviewer,
        criterion, the three two-way interactions, and the three-way interaction with
        error). ``"nested"``: (r:p) x c, reviewers treated as different for every
        submission (when reviewer ids are not comparable across submissions); the
        reviewer and submission x reviewer components are then one, ``reviewer:submission``.
    n_boot, confidence_level, rng
        As in :func:`g_study_frame`.

    Returns
    -------
    GStudyResult
        Facets are named ``submission``, ``reviewer`` and ``criterion``.

    Notes
    -----
    The estimator, its validation and the bootstrap are described in :func:`g_study_frame`.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer.
    .. [2] Shavelson, R. J., & Webb, N. M. (1991). Generalizability Theory: A Primer. Sage.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import g_study
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> res = g_study(live, n_boot=0)
    >>> res.design, res.names[0], len(res.names)
    ('p x r x c', 'submission', 7)
    """
    from calibrate.ratings import RatingsTable

    if not isinstance(ratings, RatingsTable):
        raise TypeError(f"ratings must be a RatingsTable; got {type(ratings).__name__}")
    design = check_choice("design", design, _REVIEWER_DESIGNS)  # type: ignore[assignment]
    f = ratings.frame
    frame = pd.DataFrame({name: f[col] for name, col in _TABLE_FACETS.items()})
    frame["score"] = f["score"].to_numpy()
    nested = {"reviewer": "submission"} if design == "nested" else {}
    res = g_study_frame(
        frame,
        score="score",
        target="submission",
        facets=["reviewer", "criterion"],
        nested=nested,
        n_boot=n_boot,
        confidence_level=confidence_level,
        rng=rng,
    )
    short = "p x r x c" if design == "crossed" else "(r:p) x c"
    return _replace(res, design=short)


def _replace(res: GStudyResult, **changes: object) -> GStudyResult:
    from dataclasses import replace

    return replace(res, **changes)  # type: ignore[arg-type]


def d_study(
    gstudy: GStudyResult,
    *,
    n_reviewers: Sequence[int] | int = (1, 2, 3, 4, 5, 6),
    n_criteria: Sequence[int] | int | None = None,
    reviewers: ReviewerDesign = "nested",
    criteria: Literal["random", "fixed"] = "random",
    sizes: Mapping[str, Sequence[float] | float] | None = None,
    fixed: Sequence[str] = (),
) -> DStudyResult:
    r"""Project E rho^2 and Phi for other numbers of reviewers and criteria.

    Parameters
    ----------
    gstudy : GStudyResult
        From :func:`g_study` (or :func:`g_study_frame` with ``sizes``).
    n_reviewers : int or sequence of int, default 1..6
        Reviewers per submission.
    n_criteria : int or sequence of int, optional
        Criteria on the rubric; default: the number in the G-study.
    reviewers : {"nested", "crossed"}, default "nested"
        D-study design. ``"nested"`` ((R:p) x C): every submission gets its own reviewers,
        as in live review, so reviewer severity is relative error. ``"crossed"``
        (p x R x C): the same reviewers score every submission. Phi is the same for both.
    criteria : {"random", "fixed"}, default "random"
        ``"random"``: the rubric's criteria stand for criteria like them (needed to project
        other numbers of criteria; submission x criterion variance is error).
        ``"fixed"``: the rubric's criteria are the only ones of interest; submission x
        criterion variance is then part of the universe score.
    sizes : mapping, optional
        For designs from :func:`g_study_frame`: sample sizes per facet (values or
        sequences, all combinations are projected); overrides ``n_reviewers``,
        ``n_criteria`` and ``reviewers``.
    fixed : sequence of str, optional
        With ``sizes``: the facets that are fixed in the D-study.

    Returns
    -------
    DStudyResult

    Notes
    -----
    With :math:`n'_r` reviewers and :math:`n'_c` criteria, crossed:

    .. math:: \sigma^2(\delta) = \frac{\sigma^2_{pr}}{n'_r} + \frac{\sigma^2_{pc}}{n'_c}
              + \frac{\sigma^2_{prc,e}}{n'_r n'_c}, \quad
              \sigma^2(\Delta) = \sigma^2(\delta) + \frac{\sigma^2_r}{n'_r}
              + \frac{\sigma^2_c}{n'_c} + \frac{\sigma^2_{rc}}{n'_r n'_c},

    :math:`E\rho^2 = \sigma^2_p / (\sigma^2_p + \sigma^2(\delta))` and
    :math:`\Phi = \sigma^2_p / (\sigma^2_p + \sigma^2(\Delta))`. Nested reviewers move
    :math:`\sigma^2_r` and :math:`\sigma^2_{rc}` into :math:`\sigma^2(\delta)`. Negative
    components count as 0. With fixed criteria, :math:`\sigma^2_{pc}/n'_c` joins the
    universe score and :math:`\sigma^2_c`, :math:`\sigma^2_{pc}` leave the errors.
    Intervals are percentiles of the coefficients over the
    G-study's bootstrap replicates.

    References
    ----------
    .. [1] Brennan, R. L. (2001). Generalizability Theory. Springer. (Ch. 4.)

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.audit import g_study, d_study
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> ds = d_study(g_study(live, n_boot=0), n_reviewers=[1, 2, 3])
    >>> list(ds.to_frame().columns[:4])
    ['n_reviewers', 'n_criteria', 'g_relative', 'g_absolute']
    """
    if not isinstance(gstudy, GStudyResult):
        raise TypeError(f"gstudy must be a GStudyResult; got {type(gstudy).__name__}")
    reviewers = check_choice("reviewers", reviewers, _REVIEWER_DESIGNS)  # type: ignore[assignment]
    check_choice("criteria", criteria, ("random", "fixed"))
    bad = [f for f in fixed if f not in gstudy.facets[1:]]
    if bad:
        raise ValueError(f"fixed must name facets among {list(gstudy.facets[1:])}; got {bad}")
    fixed_facets = tuple(fixed)

    def as_list(name: str, v: object) -> list[float]:
        vals = [v] if isinstance(v, int | float | np.integer | np.floating) else list(v)  # type: ignore[call-overload]
        if not vals or any(
            isinstance(x, bool)
            or not isinstance(x, int | float | np.integer | np.floating)
            or not x >= 1
            for x in vals
        ):
            raise ValueError(
                f"{name} must be a number >= 1 or a non-empty sequence of them; got {v!r}"
            )
        return [float(x) for x in vals]

    fold: tuple[str, ...] = ()
    if sizes is not None:
        grid_names = list(sizes)
        unknown = [f for f in grid_names if f not in gstudy.facets[1:]]
        if unknown:
            raise ValueError(
                f"sizes must name facets among {list(gstudy.facets[1:])}; got {unknown}"
            )
        grid = {f: as_list(f"sizes[{f!r}]", sizes[f]) for f in grid_names}
    else:
        if set(gstudy.facets) != set(_TABLE_FACETS):
            raise ValueError("for a design from g_study_frame, pass sizes={facet: n, ...}")
        grid = {
            "reviewer": as_list("n_reviewers", n_reviewers),
            "criterion": as_list(
                "n_criteria", gstudy.n_levels["criterion"] if n_criteria is None else n_criteria
            ),
        }
        if reviewers == "nested" and "reviewer" not in gstudy.nested:
            fold = ("reviewer",)
        if criteria == "fixed":
            fixed_facets = ("criterion",)
    rows = []
    reps = gstudy.replicates
    level = gstudy.confidence_level
    for combo in itertools.product(*grid.values()):
        use = {**gstudy.sample_sizes, **dict(zip(grid, combo, strict=True))}
        _, rel, ab, (g_rel, g_abs) = _coefficients(
            np.asarray(gstudy.variance), gstudy.effects, gstudy.target, use, fold, fixed_facets
        )
        row: dict[str, float] = {}
        for f, n in zip(grid, combo, strict=True):
            key = {"reviewer": "n_reviewers", "criterion": "n_criteria"}.get(f, f"n_{f}")
            row[key] = int(n) if float(n).is_integer() else n
        row.update(g_relative=float(g_rel[0]), g_absolute=float(g_abs[0]))
        if reps.size:
            *_, (br, ba) = _coefficients(
                reps, gstudy.effects, gstudy.target, use, fold, fixed_facets
            )
            row["g_relative_low"], row["g_relative_high"] = _interval(br[np.isfinite(br)], level)
            row["g_absolute_low"], row["g_absolute_high"] = _interval(ba[np.isfinite(ba)], level)
        else:
            row["g_relative_low"] = row["g_relative_high"] = math.nan
            row["g_absolute_low"] = row["g_absolute_high"] = math.nan
        row.update(var_relative=float(rel[0]), var_absolute=float(ab[0]))
        rows.append(row)
    return DStudyResult(
        pd.DataFrame(rows),
        reviewers if sizes is None else "as given",
        level,
        gstudy.n_boot,
        criteria
        if sizes is None
        else ("fixed: " + ", ".join(fixed_facets) if fixed_facets else "random"),
    )
