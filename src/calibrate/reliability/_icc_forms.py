"""The Shrout & Fleiss / McGraw & Wong ICC forms: their names, values from variance components, F tests and intervals."""

from __future__ import annotations

import math
from functools import partial
from typing import Literal, get_args

from calibrate.reliability._dist import f_ppf, f_sf
from calibrate.reliability._icc_anova import _Components
from calibrate.reliability._icc_design import _Design
from calibrate.reliability._result import ReliabilityResult

ICCForm = Literal[
    "ICC(1,1)",
    "ICC(2,1)",
    "ICC(3,1)",
    "ICC(1,k)",
    "ICC(2,k)",
    "ICC(3,k)",
    "ICC(1)",
    "ICC(A,1)",
    "ICC(C,1)",
    "ICC(k)",
    "ICC(A,k)",
    "ICC(C,k)",
]
#: Every accepted spelling of ``form``: Shrout & Fleiss names, then McGraw & Wong names.
ICC_FORMS: tuple[str, ...] = get_args(ICCForm)
_SF_FORMS = ICC_FORMS[:6]
#: McGraw & Wong name of each Shrout & Fleiss form.
_MCGRAW_WONG = dict(zip(_SF_FORMS, ICC_FORMS[6:], strict=True))
_CANONICAL = {**{f: f for f in _SF_FORMS}, **{mw: sf for sf, mw in _MCGRAW_WONG.items()}}


def _spearman_brown(rho: float, k: float) -> float:
    """Reliability of the mean of k ratings from single-rating reliability rho."""
    if rho == 1.0:
        return 1.0
    denom = 1.0 + (k - 1.0) * rho
    if denom <= 0.0:
        # Single-rating bound below -1/(k-1): the average-rating bound is unbounded below.
        return -math.inf
    return k * rho / denom


def _f_quantile(q: float, df1: float, df2: float) -> float:
    return f_ppf(q, df1, df2)


def _single_interval(sf: str, c: _Components, alpha: float) -> tuple[tuple[float, float], float]:
    """F interval for the single-rating form, and the interval df2 (Satterthwaite for ICC(2,1))."""
    if sf == "ICC(2,1)":
        return _agreement_interval(c, alpha)
    ms_num, ms_den = c.ms_unit, c.ms_residual
    df1, df2 = c.df_unit, c.df_residual
    if ms_den == 0.0:
        return ((1.0, 1.0) if ms_num > 0 else (math.nan, math.nan)), float(df2)
    f0 = ms_num / ms_den
    fl = f0 / _f_quantile(1 - alpha / 2, df1, df2)
    fu = f0 * _f_quantile(1 - alpha / 2, df2, df1)
    k = c.c_unit
    return ((fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)), float(df2)


def _agreement_interval(c: _Components, alpha: float) -> tuple[tuple[float, float], float]:
    """McGraw & Wong (1996) interval for ICC(A,1), written for general E[MS] coefficients.

    E[MS_s] = a E[MS_r] + b E[MS_e] at rho (a, b as in McGraw & Wong, with k and n replaced
    by the coefficients c_s, c_r); v is Satterthwaite's df for a MS_r + b MS_e at rho-hat.
    """
    ms_s, ms_r, ms_e = c.ms_unit, c.ms_rater, c.ms_residual
    cs, cr = c.c_unit, c.c_rater
    rho = _icc_value("ICC(2,1)", c)
    if not math.isfinite(rho) or not math.isfinite(ms_r):
        return (math.nan, math.nan), math.nan
    if rho >= 1.0:
        return (1.0, 1.0), math.nan
    # a, b multiplied by (1 - rho): v is invariant to the common scale.
    a = cs * rho / cr
    b = (1.0 - rho) + cs * rho * (1.0 - 1.0 / cr)
    num = (a * ms_r + b * ms_e) ** 2
    den = (a * ms_r) ** 2 / c.df_rater + (b * ms_e) ** 2 / c.df_residual
    if not den > 0:
        return (math.nan, math.nan), math.nan
    v = num / den
    fl = _f_quantile(1 - alpha / 2, c.df_unit, v)
    fu = _f_quantile(1 - alpha / 2, v, c.df_unit)
    scale = cs * (ms_r / cr + ms_e * (1.0 - 1.0 / cr))

    def solve(f: float) -> float:
        # rho solving MS_s = f (a(rho) MS_r + b(rho) MS_e): t = rho / (1 - rho)
        num_t = ms_s - f * ms_e
        return num_t / (num_t + f * scale)

    return (solve(fl), solve(1.0 / fu)), float(v)


def _icc_value(sf: str, c: _Components, k: float = 1.0) -> float:
    """ICC of form ``sf`` from the components; NaN when the denominator is not positive."""
    if sf.startswith("ICC(1"):
        error = c.var_residual
    elif sf.startswith("ICC(2"):
        error = c.var_rater + c.var_residual
    else:
        error = c.var_residual
    per = k if sf.endswith("k)") else 1.0
    denom = c.var_unit + error / per
    if not (math.isfinite(denom) and denom > 0):
        return math.nan
    return c.var_unit / denom


def _one_result(
    sf: str, c: _Components, d: _Design, k: float, level: float, estimator: str
) -> ReliabilityResult:
    average = sf.endswith("k)")
    base = partial(
        ReliabilityResult,
        coefficient="icc",
        level=sf,
        n_units=d.n_units,
        n_pairable=d.n_pairable,
        confidence_level=level,
    )
    if not math.isfinite(c.var_residual) or (
        sf.startswith("ICC(2") and not math.isfinite(c.var_rater)
    ):
        return base(estimate=math.nan, note=f"ICC undefined: {c.note}")
    estimate = _icc_value(sf, c, k)
    extra: dict[str, float] = {
        "var_unit": c.var_unit,
        "var_residual": c.var_residual,
        "k": float(k),
        "n_raters": float(d.n_raters),
        "n_ratings": float(d.n_ratings),
    }
    if c.model == "twoway":
        extra["var_rater"] = c.var_rater
    if math.isnan(estimate):
        return base(
            estimate=math.nan,
            note=(
                "ICC undefined: the estimated variance in the denominator is not positive "
                "(no variation between submissions or in rating error)"
            ),
            extra=extra,
        )
    notes = [c.note] if c.note else []
    if estimator == "reml":
        extra["n_iter"] = float(c.n_iter)
        notes.append(
            "REML variance components; no analytic interval (use a bootstrap over submissions)"
        )
        return base(estimate=estimate, method="none", note="; ".join(notes), extra=extra)

    # F test of ICC = 0 (exact under the model, also on incomplete designs) and the interval.
    ms_den = c.ms_residual
    f0 = c.ms_unit / ms_den if ms_den > 0 else math.inf
    extra.update(
        {
            "ms_unit": c.ms_unit,
            "ms_residual": c.ms_residual,
            "F": f0,
            "df1": float(c.df_unit),
            "df2": float(c.df_residual),
            "p_value": f_sf(f0, c.df_unit, c.df_residual) if math.isfinite(f0) else 0.0,
        }
    )
    if c.model == "twoway":
        extra["ms_rater"] = c.ms_rater
    alpha = 1.0 - level
    (low, high), df_interval = _single_interval(sf.replace("k)", "1)"), c, alpha)
    if sf.startswith("ICC(2"):
        extra["df2_interval"] = df_interval
    if average:
        low, high = _spearman_brown(low, k), _spearman_brown(high, k)
    if not d.complete:
        notes.append(
            "incomplete design: variance components by Henderson's method III; "
            "the F interval is an approximation"
        )
    if average and not (d.complete and k == d.n_raters):
        notes.append(f"average-measure form for k = {k:.4g} ratings per submission")
    ci = (float(low), float(high))
    ci_method = "F" if d.complete else "F-approximate"
    if math.isnan(low) or math.isnan(high):
        ci, ci_method = (math.nan, math.nan), "none"
        notes.append("no interval: the F interval is undefined for these mean squares")
    return base(
        estimate=estimate,
        ci=ci,
        method=ci_method,
        note="; ".join(notes),
        extra=extra,
        p_value=extra["p_value"],
    )
