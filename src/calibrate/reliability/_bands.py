"""Conventional interpretation bands of the coefficients (Krippendorff; Landis & Koch; Koo & Li)."""

from __future__ import annotations

import math

from calibrate._checks import check_choice
from calibrate.reliability._bootstrap import COEFFICIENTS

__all__ = ["interpretation_band"]

_KRIPPENDORFF = (
    "Krippendorff (2004): rely on alpha >= .800; .667-.800 for tentative conclusions only",
    (
        (0.667, "unacceptable (< .667)"),
        (0.800, "tentative (.667-.800)"),
        (math.inf, "acceptable (>= .800)"),
    ),
)
_LANDIS_KOCH = (
    "Landis & Koch (1977)",
    (
        (0.0, "poor (< 0)"),
        (0.20, "slight (0-.20)"),
        (0.40, "fair (.21-.40)"),
        (0.60, "moderate (.41-.60)"),
        (0.80, "substantial (.61-.80)"),
        (math.inf, "almost perfect (.81-1)"),
    ),
)
_KOO_LI = (
    "Koo & Li (2016)",
    (
        (0.50, "poor (< .50)"),
        (0.75, "moderate (.50-.75)"),
        (0.90, "good (.75-.90)"),
        (math.inf, "excellent (> .90)"),
    ),
)
_BANDS = {
    "krippendorff_alpha": _KRIPPENDORFF,
    "cohen_kappa": _LANDIS_KOCH,
    "fleiss_kappa": _LANDIS_KOCH,
    "conger_kappa": _LANDIS_KOCH,
    "light_kappa": _LANDIS_KOCH,
    "gwet_ac1": _LANDIS_KOCH,
    "gwet_ac2": _LANDIS_KOCH,
    "brennan_prediger": _LANDIS_KOCH,
    "icc": _KOO_LI,
}


def interpretation_band(coefficient: str, estimate: float) -> tuple[str | None, str | None]:
    """The conventional label of a coefficient's value and where the convention comes from.

    Parameters
    ----------
    coefficient : str
        A coefficient name (as in :data:`COEFFICIENTS`).
    estimate : float

    Returns
    -------
    (band, source) : tuple of str or None
        ``(None, None)`` for an undefined estimate or a coefficient without a published
        convention (percent agreement: programs set their own standards).

    Notes
    -----
    - Krippendorff's alpha: Krippendorff (2004, p. 241): rely on variables with
      alpha >= .800, draw only tentative conclusions from .667 <= alpha < .800.
    - Kappas, Gwet's AC1/AC2 and Brennan-Prediger: Landis & Koch (1977): < 0 poor,
      up to .20 slight, .40 fair, .60 moderate, .80 substantial, above almost perfect
      (Gwet 2014, ch. 6, applies the same scale to his coefficients).
    - ICC: Koo & Li (2016): < .50 poor, .50-.75 moderate, .75-.90 good, > .90 excellent.
      (Cicchetti's 1994 scale, .40 / .60 / .75, is the more lenient alternative.)

    References
    ----------
    Krippendorff, K. (2004). *Content Analysis: An Introduction to Its Methodology*
    (2nd ed.). Sage.
    Landis, J. R., & Koch, G. G. (1977). The measurement of observer agreement for
    categorical data. *Biometrics*, 33, 159-174.
    Koo, T. K., & Li, M. Y. (2016). A guideline of selecting and reporting intraclass
    correlation coefficients for reliability research. *Journal of Chiropractic
    Medicine*, 15, 155-163.

    Examples
    --------
    >>> from calibrate.reliability import interpretation_band
    >>> interpretation_band("krippendorff_alpha", 0.72)[0]
    'tentative (.667-.800)'
    >>> interpretation_band("fleiss_kappa", 0.55)
    ('moderate (.41-.60)', 'Landis & Koch (1977)')
    """
    check_choice("coefficient", coefficient, tuple(COEFFICIENTS))
    if coefficient not in _BANDS or not math.isfinite(estimate):
        return None, None
    source, cuts = _BANDS[coefficient]
    for upper, label in cuts:
        if estimate < upper or (
            upper != math.inf and _is_closed(coefficient) and estimate <= upper
        ):
            return label, source
    return cuts[-1][1], source  # pragma: no cover - the last cut is infinite


def _is_closed(coefficient: str) -> bool:
    """Landis & Koch's bands include their upper limits (.20 is slight); the others not."""
    return _BANDS[coefficient] is _LANDIS_KOCH
