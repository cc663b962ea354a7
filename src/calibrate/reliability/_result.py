"""The result every reliability coefficient returns."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

__all__ = ["ReliabilityResult"]


@dataclass(frozen=True)
class ReliabilityResult:
    """A reliability coefficient with its uncertainty and what it was computed from.

    Numbers are never rounded here. When the coefficient is undefined for the data
    (no variation, fewer than two pairable values), ``estimate`` is NaN and ``note``
    says why in words.

    Attributes
    ----------
    coefficient : str
        ``krippendorff_alpha``, ``cohen_kappa``, ``fleiss_kappa``, ``conger_kappa``,
        ``gwet_ac1``, ``gwet_ac2``, ``brennan_prediger``, ``icc`` or ``percent_agreement``.
    level : str
        The level of measurement, weighting or form: ``nominal``, ``ordinal``,
        ``quadratic``, ``ICC(2,1)``, ``exact``, ``within_one`` ...
    estimate : float
    ci : tuple of float
        ``(low, high)``; ``(nan, nan)`` when no interval was computed.
    se : float
        Standard error (analytic or bootstrap); NaN when not computed.
    n_units : int
        Units (submissions) that entered the computation.
    n_pairable : int
        Pairable values (ratings on units with at least two ratings).
    method : str
        How the interval was obtained (``analytic``, ``bootstrap-percentile``,
        ``bootstrap-bca``, ``F``) or ``none``.
    confidence_level : float
    note : str
        Why the coefficient is undefined, or caveats; empty when none.
    extra : dict
        Coefficient-specific details (observed and expected agreement, p-value ...).
    n_resamples : int
        Bootstrap resamples behind ``ci`` and ``se`` (0 when not bootstrapped).
    p_value : float
        P-value of the coefficient's test of H0: coefficient = 0, as its reference
        implementation reports it (each coefficient's Returns section says which test):
        R irrCAC's one-sided t test for percent agreement and Gwet's family, Conger's
        kappa and Krippendorff's alpha; the two-sided z test under H0 for Cohen's and
        Light's kappa (R irr); the F test for the ICC. NaN when there is none.
    bootstrap_estimates : ndarray of shape (n_resamples,) or None
        The coefficient in each bootstrap resample (NaN where a resample left it
        undefined); None when not bootstrapped. Not part of :meth:`to_dict`.
    """

    coefficient: str
    level: str
    estimate: float
    ci: tuple[float, float] = (math.nan, math.nan)
    se: float = math.nan
    n_units: int = 0
    n_pairable: int = 0
    method: str = "none"
    confidence_level: float = 0.95
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)
    n_resamples: int = 0
    p_value: float = math.nan
    bootstrap_estimates: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.estimate)

    def to_dict(self) -> dict[str, object]:
        d = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("ci", "extra", "bootstrap_estimates")
        }
        d["ci_low"], d["ci_high"] = self.ci
        return d

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy frame (columns as in the CLI's JSON rows)."""
        return pd.DataFrame([self.to_dict()])

    def _repr_html_(self) -> str:
        lo, hi = self.ci
        ci = (
            ""
            if math.isnan(lo)
            else f" [{lo:.3f}, {hi:.3f}] ({self.confidence_level:.0%}, {html.escape(self.method)})"
        )
        est = "undefined" if not self.defined else f"{self.estimate:.4f}"
        note = f"<br><em>{html.escape(self.note)}</em>" if self.note else ""
        return (
            f"<div><strong>{html.escape(self.coefficient)}</strong> ({html.escape(self.level)}): "
            f"{est}{ci}; {self.n_units} units, {self.n_pairable} pairable values{note}</div>"
        )
