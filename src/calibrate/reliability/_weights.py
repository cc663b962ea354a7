"""Agreement weights between score categories (Gwet 2014, ch. 3; R irrCAC ``weights.gen``)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from calibrate._checks import check_choice

__all__ = ["WEIGHT_NAMES", "WeightName", "agreement_weights", "resolve_weights"]

WeightName = Literal[
    "identity", "linear", "quadratic", "ordinal", "radical", "ratio", "circular", "bipolar"
]
#: The named weightings, as in R irrCAC (``"identity"`` is its ``"unweighted"``).
WEIGHT_NAMES: tuple[str, ...] = (
    "identity",
    "linear",
    "quadratic",
    "ordinal",
    "radical",
    "ratio",
    "circular",
    "bipolar",
)


def agreement_weights(kind: WeightName, categories: Any) -> np.ndarray:
    """Agreement weights ``w[k, l]`` in [0, 1] between categories, 1 on the diagonal.

    Parameters
    ----------
    kind : {'identity', 'linear', 'quadratic', 'ordinal', 'radical', 'ratio', 'circular', 'bipolar'}
        The weighting, as defined by Gwet (2014, ch. 3) and R irrCAC ``weights.gen``.
    categories : array_like of float, shape (q,)
        The possible scores, increasing. All but ``identity`` and ``ordinal`` use the
        scores' numeric values, so unused levels at the ends of the scale matter.

    Returns
    -------
    ndarray, shape (q, q)

    Notes
    -----
    With scores :math:`x_k`, range :math:`x_{max} - x_{min}` and :math:`s = x_k + x_l`:

    - identity: :math:`1[k = l]`
    - linear: :math:`1 - |x_k - x_l| / (x_{max} - x_{min})`
    - quadratic: :math:`1 - (x_k - x_l)^2 / (x_{max} - x_{min})^2`
    - radical: :math:`1 - \\sqrt{|x_k - x_l|} / \\sqrt{x_{max} - x_{min}}`
    - ratio: :math:`1 - ((x_k - x_l)/s)^2 / ((x_{max} - x_{min})/(x_{max} + x_{min}))^2`
    - ordinal: with :math:`m = |k - l| + 1` on level positions, :math:`1 - \\binom{m}{2} / \\max \\binom{m}{2}`
    - circular: :math:`1 - \\sin^2(\\pi (x_k - x_l) / U) / \\max`, :math:`U = x_{max} - x_{min} + 1`
    - bipolar: :math:`1 - \\frac{(x_k - x_l)^2}{(s - 2x_{min})(2x_{max} - s)} / \\max`

    These are Gwet's weights: 'ordinal' here is not Krippendorff's ordinal metric.
    Every weighting reproduces R irrCAC's coefficients on ``cac.raw4raters``.

    References
    ----------
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.), ch. 3.
    Advanced Analytics.

    Examples
    --------
    >>> from calibrate.reliability import agreement_weights
    >>> agreement_weights("linear", [1, 2, 3, 4])
    array([[1.        , 0.66666667, 0.33333333, 0.        ],
           [0.66666667, 1.        , 0.66666667, 0.33333333],
           [0.33333333, 0.66666667, 1.        , 0.66666667],
           [0.        , 0.33333333, 0.66666667, 1.        ]])
    """
    check_choice("weights", kind, WEIGHT_NAMES)
    x = np.asarray(categories, dtype=float)
    q = len(x)
    if kind == "identity" or q < 2:
        return np.eye(q)
    diff = x[:, None] - x[None, :]
    span = x[-1] - x[0]
    if kind == "linear":
        return 1.0 - np.abs(diff) / span
    if kind == "quadratic":
        return 1.0 - diff**2 / span**2
    if kind == "radical":
        return 1.0 - np.sqrt(np.abs(diff)) / np.sqrt(span)
    if kind == "ratio":
        if x[0] < 0:
            raise ValueError(f"ratio weights need non-negative scores; got categories {x.tolist()}")
        total = x[:, None] + x[None, :]
        rel = np.divide(diff, total, out=np.zeros_like(diff), where=total != 0)
        return 1.0 - rel**2 / (span / (x[-1] + x[0])) ** 2
    if kind == "ordinal":
        pos = np.arange(q)
        m = np.abs(pos[:, None] - pos[None, :]) + 1
        raw = m * (m - 1) / 2.0
        return 1.0 - raw / raw.max()
    if kind == "circular":
        raw = np.sin(np.pi * diff / (span + 1.0)) ** 2
        return 1.0 - raw / raw.max()
    # bipolar
    total = x[:, None] + x[None, :]
    den = (total - 2 * x[0]) * (2 * x[-1] - total)
    off = ~np.eye(q, dtype=bool)
    raw = np.zeros((q, q))
    raw[off] = diff[off] ** 2 / den[off]
    return 1.0 - raw / raw.max()


def resolve_weights(weights: Any, categories: np.ndarray) -> tuple[np.ndarray, str]:
    """The weight matrix for a ``weights=`` option and the name the result reports.

    A matrix must be q x q for the q categories, with entries in [0, 1] and ones on
    the diagonal (full agreement of a score with itself). It may be asymmetric; the
    coefficients use it as R irrCAC does.
    """
    if isinstance(weights, str) or weights is None:
        name = check_choice("weights", weights, WEIGHT_NAMES)
        return agreement_weights(name, categories), name  # type: ignore[arg-type]
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"weights must be one of {', '.join(repr(n) for n in WEIGHT_NAMES)} or a q x q matrix; got {weights!r}"
        ) from exc
    q = len(categories)
    if w.shape != (q, q):
        raise ValueError(
            f"weights as a matrix must be {q} x {q} (one row and column per category {categories.tolist()}); got shape {w.shape}"
        )
    if not np.all(np.isfinite(w)) or (w < 0).any() or (w > 1).any():
        raise ValueError("weights as a matrix must hold agreement weights between 0 and 1")
    if not np.allclose(np.diag(w), 1.0):
        raise ValueError(
            f"weights as a matrix must have ones on the diagonal (a score fully agrees with itself); got diagonal {np.diag(w).tolist()}"
        )
    return w, "custom"
