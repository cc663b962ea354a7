"""Classification accuracy and consistency of a pass / not yet decision: Livingston & Lewis
(1995) from total scores and a reliability, Rudner (2001, 2005) from measures and their SEs."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_number

__all__ = ["CLASSIFICATION_METHODS", "ClassificationResult", "livingston_lewis", "rudner"]

#: The classification methods, as named in ``reliability_table(coefficients=...)``.
CLASSIFICATION_METHODS: tuple[str, ...] = ("livingston_lewis", "rudner")


@dataclass(frozen=True)
class ClassificationResult:
    """Accuracy and consistency of one pass cut under a measurement model.

    Numbers are never rounded here. Proportions are of all units (submissions or reviews).

    Attributes
    ----------
    method : str
        ``livingston_lewis`` or ``rudner``.
    accuracy : float
        P(observed class = true class).
    consistency : float
        P(two independent parallel measurements give the same class).
    kappa : float
        Cohen's kappa of the two parallel classifications (``(consistency - chance) /
        (1 - chance)``); NaN where the method does not define it (Rudner).
    chance_consistency : float
        Agreement of two independent classifications with the model's pass rate (the
        kappa's chance term; NaN for Rudner).
    false_pass, false_fail : float
        P(observed pass and true not yet), P(observed not yet and true pass).
    pass_rate : float
        P(observed pass): the model's (Livingston-Lewis), the share of measures at or
        above the cut (Rudner).
    cut : float
        The cut on the scale the method uses (total score for Livingston-Lewis, logits for
        Rudner); pass is ``score >= cut``.
    n_units : int
        Scores (LL) or measures (Rudner) the estimates come from.
    reliability : float
        The reliability used (LL: given; Rudner: NaN).
    effective_length : float
        LL's effective test length before rounding (NaN for Rudner); ``parameters`` has
        the rounded one the binomial error uses.
    parameters : dict
        The fitted model: for LL ``true_model`` ('4P' or '2P'), ``l``, ``u``, ``alpha``,
        ``beta``, ``etl_rounded``, ``pass_count`` (the effective-score cut).
    note : str
        Caveats (e.g. the four-parameter fit fell back to two), or why undefined.
    """

    method: str
    accuracy: float
    consistency: float
    kappa: float
    chance_consistency: float
    false_pass: float
    false_fail: float
    pass_rate: float
    cut: float
    n_units: int
    reliability: float = math.nan
    effective_length: float = math.nan
    parameters: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_frame(self) -> pd.DataFrame:
        """One row; ``parameters`` spread into columns."""
        d = self.to_dict()
        params = d.pop("parameters")
        return pd.DataFrame([d | {f"param_{k}": v for k, v in params.items()}])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.to_dict().items()
        )
        return f"<table>{rows}</table>"


def _undefined(method: str, cut: float, n: int, note: str, **kw: Any) -> ClassificationResult:
    nan = math.nan
    return ClassificationResult(method, nan, nan, nan, nan, nan, nan, nan, cut, n, note=note, **kw)


# ----------------------------------------------------------------------------------------
# Livingston & Lewis
# ----------------------------------------------------------------------------------------
def _falling(x: np.ndarray, r: int) -> np.ndarray:
    """``x (x-1) ... (x-r+1)``, 0 where ``x < r`` (as betafunctions' ``dfac``: exact for
    whole scores, and it keeps effective scores below ``r`` from adding negative terms)."""
    if r == 0:
        return np.ones_like(x)
    out = np.where(x < r, 0.0, x)
    for i in range(1, r):
        out = out * (x - i)
    return np.where(x < r, 0.0, out)


def _true_moments(x: np.ndarray, n: float) -> np.ndarray:
    """First four raw moments of the proportional true score (Lord 1965, eq. 37, k = 0)."""
    m = np.empty(4)
    m[0] = x.mean() / n
    n2 = n * (n - 1)
    for r in (2, 3, 4):
        m[r - 1] = _falling(x, r).mean() / (float(_falling(np.array([n - 2]), r - 2)[0]) * n2)
    return m


def _fit_beta(
    m: np.ndarray, true_model: str, l0: float, u0: float
) -> tuple[dict[str, float], str, str]:
    """(l, u, alpha, beta), the model used and a note. 4P: Hanson's (1991) moment solution;
    2P: alpha and beta from mean and variance with bounds ``l0``, ``u0``."""
    s2 = m[1] - m[0] ** 2
    note = ""
    if true_model == "4P" and s2 > 0:
        g3 = (m[2] - 3 * m[0] * m[1] + 2 * m[0] ** 3) / s2**1.5
        g4 = (m[3] - 4 * m[0] * m[2] + 6 * m[0] ** 2 * m[1] - 3 * m[0] ** 4) / s2**2
        with np.errstate(invalid="ignore", divide="ignore"):
            r = 6 * (g4 - g3**2 - 1) / (6 + 3 * g3**2 - 2 * g4)
            root = np.sqrt(1 - 24 * (r + 1) / ((r + 2) * (r + 3) * g4 - 3 * (r - 6) * (r + 1)))
            big, small = r / 2 * (1 + root), r / 2 * (1 - root)
            a, b = (big, small) if g3 < 0 else (small, big)
            lo = m[0] - a * np.sqrt(s2 * (a + b + 1)) / np.sqrt(a * b)
            hi = m[0] + b * np.sqrt(s2 * (a + b + 1)) / np.sqrt(a * b)
        p4 = {"l": float(lo), "u": float(hi), "alpha": float(a), "beta": float(b)}
        ok = all(math.isfinite(v) for v in p4.values()) and a > 0 and b > 0
        if ok and p4["l"] >= 0 and p4["u"] <= 1:
            return p4, "4P", note
        note = (
            "the four-parameter beta fit gave impermissible bounds or shapes "
            f"(l={p4['l']:.4g}, u={p4['u']:.4g}, alpha={p4['alpha']:.4g}, beta={p4['beta']:.4g}); "
            f"the two-parameter fit on [{l0:g}, {u0:g}] is used"
        )
    mean = (m[0] - l0) / (u0 - l0)
    var = s2 / (u0 - l0) ** 2
    common = mean * (1 - mean) / var - 1 if var > 0 else math.nan
    a, b = mean * common, (1 - mean) * common
    if not (a > 0 and b > 0):
        raise _Undefined(
            f"no beta true-score distribution fits (true-score mean {m[0]:.4g}, variance "
            f"{s2:.4g} on the proportion scale)"
        )
    return {"l": l0, "u": u0, "alpha": float(a), "beta": float(b)}, "2P", note


class _Undefined(Exception):
    pass


def _beta_integral(g: Any, p: dict[str, float], lo: float, hi: float) -> float:
    """``∫_lo^hi f(x) g(x) dx`` for the four-parameter beta density ``f``, on the standard
    scale with the density's algebraic end behaviour as QUADPACK weights (exact for
    alpha or beta < 1, where the density is unbounded at an end)."""
    from scipy import integrate, special  # imported when used: the CLI starts fast

    bottom, top, a, b = p["l"], p["u"], p["alpha"], p["beta"]
    width = top - bottom
    t0 = min(max((lo - bottom) / width, 0.0), 1.0)
    t1 = min(max((hi - bottom) / width, 0.0), 1.0)
    if t1 <= t0:
        return 0.0
    lb = special.betaln(a, b)

    def h(t: float) -> float:
        return float(g(bottom + width * t))

    opts = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 200}
    if t0 == 0.0 and t1 == 1.0:
        v = integrate.quad(h, 0.0, 1.0, weight="alg", wvar=(a - 1, b - 1), **opts)[0]
    elif t0 == 0.0:
        v = integrate.quad(
            lambda t: h(t) * (1 - t) ** (b - 1), 0.0, t1, weight="alg", wvar=(a - 1, 0), **opts
        )[0]
    elif t1 == 1.0:
        v = integrate.quad(
            lambda t: h(t) * t ** (a - 1), t0, 1.0, weight="alg", wvar=(0, b - 1), **opts
        )[0]
    else:
        v = integrate.quad(lambda t: h(t) * t ** (a - 1) * (1 - t) ** (b - 1), t0, t1, **opts)[0]
    return v / math.exp(lb)


def livingston_lewis(
    scores: object,
    *,
    cut: float,
    min_score: float,
    max_score: float,
    reliability: float,
    true_model: Literal["4P", "2P"] = "4P",
    failsafe: bool = True,
) -> ClassificationResult:
    r"""Classification accuracy and consistency of ``score >= cut`` by Livingston & Lewis.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        Observed total scores, each in ``[min_score, max_score]``.
    cut : float
        Pass when the score is at least ``cut`` (observed and true scores alike).
    min_score, max_score : float
        The lowest and highest possible total.
    reliability : float
        Reliability of one observed score, in (0, 1).
    true_model : {'4P', '2P'}, default '4P'
        True-score distribution: the four-parameter beta with the first four moments of
        the estimated true scores, or the two-parameter beta on ``[0, 1]`` (proportion
        scale) with their mean and variance.
    failsafe : bool, default True
        With '4P', fall back to '2P' when the four-parameter fit is impermissible (bounds
        outside [0, 1], or no real solution); without it such a fit is an error.

    Returns
    -------
    ClassificationResult

    Notes
    -----
    The effective test length (Livingston & Lewis 1995, eq. 3) is
    ``n = ((mu - a)(b - mu) - rho s^2) / (s^2 (1 - rho))`` with ``mu`` and ``s^2`` the
    observed mean and variance (``n - 1`` denominator), ``a, b`` the score bounds and
    ``rho`` the reliability. Scores are rescaled to effective scores
    ``x' = n (x - a) / (b - a)``; the first four raw moments of the proportional true
    score follow from Lord's (1965) eq. 37 with binomial error (``k = 0``), and a
    four-parameter beta is matched to them (Hanson 1991). Given true proportion ``tau``
    the effective score is binomial ``(round(n), tau)``; the observed pass is an effective
    score of at least ``round(round(n) c)`` with ``c = (cut - a) / (b - a)`` and the true
    pass ``tau >= c``. Accuracy is ``P(true pass, observed pass) + P(true fail, observed
    fail)``, integrated over the beta; consistency (Hanson 1991) is
    ``∫ f(tau) [P(fail|tau)^2 + P(pass|tau)^2] dtau``, and kappa uses the chance agreement
    of two classifications with the model's marginal pass rate.

    This is what R betafunctions 1.9.0 ``LL.CA`` computes, with one difference: for the
    consistency matrix ``LL.CA`` takes the second classification's cut as
    ``floor(round(n) c)`` (the first as ``round(...)``); here both use ``round``, so
    that the two parallel measurements classify alike. They agree whenever
    ``round(n) c`` has a fractional part below .5. Checked against ``LL.CA`` on its
    documented example and on kit data to 1e-6 (``tests/reliability/test_classification.py``).

    References
    ----------
    Livingston, S. A., & Lewis, C. (1995). Estimating the consistency and accuracy of
    classifications based on test scores. *Journal of Educational Measurement*, 32(2),
    179-197.

    Hanson, B. A. (1991). *Method of moments estimates for the four-parameter beta
    compound binomial model and the calculation of classification consistency indexes*
    (ACT Research Report 91-5).

    Lord, F. M. (1965). A strong true-score theory, with applications. *Psychometrika*,
    30(3), 239-270.

    Examples
    --------
    >>> import numpy as np
    >>> from calibrate.reliability import livingston_lewis
    >>> rng = np.random.default_rng(1)
    >>> scores = rng.binomial(20, rng.beta(6, 3, size=500))
    >>> r = livingston_lewis(scores, cut=12, min_score=0, max_score=20, reliability=0.8)
    >>> bool(0.5 < r.consistency <= r.accuracy < 1), r.parameters["true_model"]
    (True, '2P')
    >>> r.note.split(";")[1].strip()
    'the two-parameter fit on [0, 1] is used'
    """
    from scipy import stats  # imported when used: the CLI starts fast

    x = np.asarray(scores, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"scores must be one-dimensional; got shape {x.shape}")
    lo = check_number("min_score", min_score)
    hi = check_number("max_score", max_score)
    if hi <= lo:
        raise ValueError(f"max_score must be above min_score; got {min_score!r} and {max_score!r}")
    c = check_number("cut", cut, low=lo, high=hi)
    rho = check_number("reliability", reliability, low=0, high=1, low_open=True, high_open=True)
    tm = check_choice("true_model", true_model, ("4P", "2P"))
    if not isinstance(failsafe, bool):
        raise TypeError(f"failsafe must be True or False; got {failsafe!r}")
    bad = ~np.isfinite(x) | (x < lo) | (x > hi)
    if bad.any():
        raise ValueError(
            f"scores must be finite and within [{lo:g}, {hi:g}]; "
            f"{int(bad.sum())} are not (first at position {int(np.flatnonzero(bad)[0])}: "
            f"{float(x[bad][0])!r})"
        )
    n = len(x)
    name = "livingston_lewis"
    if n < 2 or x.var() == 0:
        return _undefined(name, c, n, "needs at least two scores that differ", reliability=rho)
    mean, var = float(x.mean()), float(x.var(ddof=1))
    etl = ((mean - lo) * (hi - mean) - rho * var) / (var * (1 - rho))
    if not etl > 1:
        return _undefined(
            name,
            c,
            n,
            f"the effective test length is {etl:.4g} (needs > 1): the scores vary more than "
            "the reliability allows",
            reliability=rho,
            effective_length=etl,
        )
    moments = _true_moments((x - lo) / (hi - lo) * etl, etl)
    try:
        params, used, note = _fit_beta(moments, tm, 0.0, 1.0)
    except _Undefined as exc:
        return _undefined(name, c, n, str(exc), reliability=rho, effective_length=etl)
    if used != tm and not failsafe:
        raise ValueError(f"{note.split(';')[0]}; set failsafe=True to fall back to '2P'")
    big_n = int(np.round(etl))
    cp = (c - lo) / (hi - lo)
    k = int(np.round(big_n * cp))  # effective scores >= k pass

    def fail(t: float) -> float:
        return float(stats.binom.cdf(k - 1, big_n, t))

    true_pass = _beta_integral(lambda t: 1.0, params, cp, 1.0)
    tp = _beta_integral(lambda t: 1.0 - fail(t), params, cp, 1.0)
    fp = _beta_integral(lambda t: 1.0 - fail(t), params, 0.0, cp)
    ff = true_pass - tp
    tf = (1.0 - true_pass) - fp
    both_fail = _beta_integral(lambda t: fail(t) ** 2, params, 0.0, 1.0)
    both_pass = _beta_integral(lambda t: (1.0 - fail(t)) ** 2, params, 0.0, 1.0)
    pass_rate = tp + fp
    consistency = both_fail + both_pass
    chance = pass_rate**2 + (1 - pass_rate) ** 2
    return ClassificationResult(
        name,
        accuracy=tp + tf,
        consistency=consistency,
        kappa=(consistency - chance) / (1 - chance) if chance < 1 else math.nan,
        chance_consistency=chance,
        false_pass=fp,
        false_fail=ff,
        pass_rate=pass_rate,
        cut=c,
        n_units=n,
        reliability=rho,
        effective_length=etl,
        parameters={"true_model": used, **params, "etl_rounded": big_n, "pass_count": k},
        note=note,
    )


# ----------------------------------------------------------------------------------------
# Rudner
# ----------------------------------------------------------------------------------------
def rudner(theta: object, se: object, *, cut: float) -> ClassificationResult:
    r"""Classification accuracy and consistency of ``theta >= cut`` by Rudner's method.

    Parameters
    ----------
    theta : array-like of float, shape (n,)
        Each unit's estimated measure (e.g. a submission's ability in logits).
    se : array-like of float, shape (n,)
        Their standard errors (> 0).
    cut : float
        Pass when the measure is at least ``cut``.

    Returns
    -------
    ClassificationResult
        ``kappa`` and ``chance_consistency`` are NaN (Rudner defines no kappa);
        ``reliability`` and ``effective_length`` are NaN.

    Notes
    -----
    The true measure of unit ``i`` is taken as ``N(theta_i, se_i^2)``;
    ``p_i = P(true >= cut) = 1 - Phi((cut - theta_i) / se_i)``. A unit observed to pass
    is correctly classified with probability ``p_i``, one observed to fail with
    ``1 - p_i``; accuracy is the mean over units. Consistency, two independent
    measurements agreeing, is the mean of ``p_i^2 + (1 - p_i)^2``. The false pass
    rate is the mean of ``1 - p_i`` over observed passes, divided by all units (a joint
    proportion); false fail likewise. This is R cacIRT 1.4 ``Rud.P`` (``class.Rud`` with
    given ability and se), matched to 1e-12.

    References
    ----------
    Rudner, L. M. (2001). Computing the expected proportions of misclassified examinees.
    *Practical Assessment, Research & Evaluation*, 7(14).

    Rudner, L. M. (2005). Expected classification accuracy. *Practical Assessment,
    Research & Evaluation*, 10(13).

    Lathrop, Q. N. (2015). cacIRT: Classification accuracy and consistency under item
    response theory. R package version 1.4.

    Examples
    --------
    >>> from calibrate.reliability import rudner
    >>> r = rudner([-1.0, 0.2, 1.5], [0.5, 0.5, 0.5], cut=0.0)
    >>> round(r.accuracy, 4), round(r.consistency, 4)
    (0.8771, 0.8337)
    """
    from scipy import stats  # imported when used: the CLI starts fast

    t = np.asarray(theta, dtype=float)
    s = np.asarray(se, dtype=float)
    if t.ndim != 1 or s.shape != t.shape:
        raise ValueError(
            f"theta and se must be one-dimensional and of the same length; got shapes "
            f"{t.shape} and {s.shape}"
        )
    c = check_number("cut", cut)
    bad_t = ~np.isfinite(t)
    bad_s = ~np.isfinite(s) | (s <= 0)
    if bad_t.any() or bad_s.any():
        parts = []
        if bad_t.any():
            i = int(np.flatnonzero(bad_t)[0])
            parts.append(
                f"{int(bad_t.sum())} theta not finite (first at position {i}: {float(t[i])!r})"
            )
        if bad_s.any():
            i = int(np.flatnonzero(bad_s)[0])
            parts.append(
                f"{int(bad_s.sum())} se not finite and > 0 (first at position {i}: {float(s[i])!r})"
            )
        raise ValueError("; ".join(parts))
    n = len(t)
    if n == 0:
        return _undefined("rudner", c, 0, "no measures")
    p = stats.norm.sf(c, loc=t, scale=s)  # P(true >= cut)
    observed_pass = t >= c
    false_pass = float(np.where(observed_pass, 1 - p, 0.0).mean())
    false_fail = float(np.where(observed_pass, 0.0, p).mean())
    consistency = float((p**2 + (1 - p) ** 2).mean())
    return ClassificationResult(
        "rudner",
        accuracy=1.0 - false_pass - false_fail,
        consistency=consistency,
        kappa=math.nan,
        chance_consistency=math.nan,
        false_pass=false_pass,
        false_fail=false_fail,
        pass_rate=float(observed_pass.mean()),
        cut=c,
        n_units=n,
    )
