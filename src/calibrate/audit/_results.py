"""The result objects of G- and D-studies, and Brennan's rules for the coefficients they
report (E rho^2 and Phi for given sample sizes)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice
from calibrate.audit._renamed import renamed_keywords

__all__ = ["DStudyResult", "GStudyResult"]


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
        Parametric-bootstrap standard errors (NaN when ``n_resamples=0``).
    ci : tuple of (float, float)
        Percentile intervals at ``confidence_level``.
    t_terms : dict
        Brennan's T terms of each effect and of the mean (``"mean"``).
    n_ratings : int
    n_levels : dict
        Levels observed of each facet (nested facets: distinct (inner, outer) pairs).
    sample_sizes : dict
        The G-study's own sample sizes per target level: the D-study default.
    estimator : str
        The estimator of the components: ``"henderson1"`` (``method``, its old name, is
        still readable).
    n_resamples : int
        Parametric-bootstrap replicates (``n_boot``, its old name, is still readable).
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
    estimator: str = "henderson1"
    n_resamples: int = 0
    confidence_level: float = 0.95
    note: str = ""
    replicates: np.ndarray = field(
        default_factory=lambda: np.empty((0, 0)), repr=False, compare=False
    )

    @property
    def n_boot(self) -> int:
        """Old name of :attr:`n_resamples` (deprecated)."""
        return self.n_resamples

    @property
    def method(self) -> str:
        """Old name of :attr:`estimator` (deprecated)."""
        return self.estimator

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
        from calibrate.audit._dstudy import d_study

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
            f"({html.escape(self.estimator)})<table><tr><th>facet</th><th>variance</th><th>share</th>"
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
    n_resamples: int
    criteria: str = "random"

    @property
    def n_boot(self) -> int:
        """Old name of :attr:`n_resamples` (deprecated)."""
        return self.n_resamples

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


# Constructed with the old keywords (n_boot=, method=) the result objects still build, and warn.
GStudyResult.__init__ = renamed_keywords(n_boot="n_resamples", method="estimator")(  # type: ignore[method-assign]
    GStudyResult.__init__
)
DStudyResult.__init__ = renamed_keywords(n_boot="n_resamples")(  # type: ignore[method-assign]
    DStudyResult.__init__
)
