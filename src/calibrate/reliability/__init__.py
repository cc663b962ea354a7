"""Inter-rater reliability: how far scores depend on the submission rather than the reviewer.

Every coefficient takes ``data`` first -- a units x raters array or DataFrame (NaN =
missing), a :class:`CodedRatings` (the fast path for long data: integer unit, rater and
value codes) or a one-criterion :class:`~calibrate.ratings.RatingsTable` -- with options
keyword-only and named alike across coefficients (``weights=``, ``categories=``,
``confidence_level=``), and returns a :class:`ReliabilityResult`. A coefficient that the
data leave undefined (no variation, one rater, nothing pairable) returns a result whose
estimate is NaN and whose ``note`` says why.
"""

from calibrate.reliability._agreement import (
    brennan_prediger,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    percent_agreement,
)
from calibrate.reliability._alpha import (
    alpha_from_counts,
    coincidences,
    distance_matrix,
    krippendorff_alpha,
)
from calibrate.reliability._anova_table import ANOVA_COLUMNS, anova_table
from calibrate.reliability._bands import interpretation_band
from calibrate.reliability._bootstrap import BOOTSTRAP_METHODS, COEFFICIENTS, bootstrap
from calibrate.reliability._classification import (
    CLASSIFICATION_METHODS,
    ClassificationResult,
    livingston_lewis,
    rudner,
)
from calibrate.reliability._cohen import cohen_kappa, cohen_kappa_table
from calibrate.reliability._conger import conger_kappa
from calibrate.reliability._data import CodedRatings
from calibrate.reliability._decision_classes import CLASSIFICATION_COLUMNS, review_totals
from calibrate.reliability._decisions import decision_ratings
from calibrate.reliability._icc import ICC_FORMS, ICCForm, icc, icc_all, icc_all_long, icc_long
from calibrate.reliability._light import light_kappa
from calibrate.reliability._pairs import pair_agreement
from calibrate.reliability._result import ReliabilityResult
from calibrate.reliability._table import BREAKDOWNS, TABLE_COLUMNS, reliability_table
from calibrate.reliability._weights import WEIGHT_NAMES, agreement_weights

__all__ = [
    "ANOVA_COLUMNS",
    "BOOTSTRAP_METHODS",
    "BREAKDOWNS",
    "CLASSIFICATION_COLUMNS",
    "CLASSIFICATION_METHODS",
    "COEFFICIENTS",
    "ICC_FORMS",
    "TABLE_COLUMNS",
    "WEIGHT_NAMES",
    "ICCForm",
    "ClassificationResult",
    "CodedRatings",
    "ReliabilityResult",
    "agreement_weights",
    "alpha_from_counts",
    "anova_table",
    "bootstrap",
    "brennan_prediger",
    "coincidences",
    "cohen_kappa",
    "cohen_kappa_table",
    "conger_kappa",
    "decision_ratings",
    "distance_matrix",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "icc",
    "icc_all",
    "icc_all_long",
    "icc_long",
    "interpretation_band",
    "krippendorff_alpha",
    "light_kappa",
    "livingston_lewis",
    "pair_agreement",
    "percent_agreement",
    "reliability_table",
    "review_totals",
    "rudner",
]
