"""Reliability plots: coefficients with intervals per criterion (forest plot), and how well
each pair of reviewers agrees (heat map)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from calibrate.ratings import RatingsTable

__all__ = ["plot_pair_agreement", "plot_reliability_forest"]

# Published thresholds drawn as dashed lines: ((value, label), ...) and the source.
_Lines = tuple[tuple[tuple[float, str], ...], str]
_KRIPPENDORFF: _Lines = (((0.667, "α .667"), (0.800, "α .800")), "Krippendorff (2004)")
_KOO_LI: _Lines = (((0.50, ".50"), (0.75, ".75"), (0.90, ".90")), "Koo & Li (2016)")
_LANDIS_KOCH: _Lines = (((0.40, ".40"), (0.60, ".60"), (0.80, ".80")), "Landis & Koch (1977)")
_THRESHOLDS: dict[str, _Lines] = {
    "krippendorff_alpha": _KRIPPENDORFF,
    "icc": _KOO_LI,
    **{
        c: _LANDIS_KOCH
        for c in (
            "cohen_kappa",
            "fleiss_kappa",
            "conger_kappa",
            "gwet_ac1",
            "gwet_ac2",
            "brennan_prediger",
        )
    },
}
_COLOURS = (
    "#2b6cb0",
    "#dd6b20",
    "#38a169",
    "#805ad5",
    "#d53f8c",
    "#319795",
    "#718096",
    "#b7791f",
    "#c53030",
)


def plot_reliability_forest(
    table: pd.DataFrame,
    *,
    coefficients: Sequence[str] | None = None,
    bands: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Forest plot: each coefficient's estimate and interval, one row per criterion.

    Parameters
    ----------
    table : DataFrame
        From :func:`calibrate.reliability.reliability_table` (reviewer-pair rows are
        left out; with rounds, each criterion and round is a row).
    coefficients : list of str, optional
        Which coefficients to draw (default: all in the table except percent
        agreement, which is not chance-corrected).
    bands : str, optional
        Coefficient whose published thresholds are drawn as dashed lines (default:
        Krippendorff's alpha if drawn, else the first coefficient drawn).

    Returns
    -------
    Figure

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import reliability_table
    >>> from calibrate.plots import plot_reliability_forest
    >>> live = read_program("data/synthetic/pilot").ratings.select(kind="live")
    >>> fig = plot_reliability_forest(reliability_table(live))
    >>> len(fig.axes[0].get_yticks()) == len(live.rubric.criteria) + 1  # criteria + decision
    True
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """

    if not isinstance(table, pd.DataFrame) or not {
        "coefficient",
        "estimate",
        "ci_low",
        "ci_high",
    } <= set(table.columns):
        raise TypeError(
            "table must be a reliability_table() frame with coefficient, estimate, ci_low and ci_high columns"
        )
    t = table
    if "reviewer_a" in t.columns:
        t = t[t["reviewer_a"].isna()]
    present = list(dict.fromkeys(t["coefficient"]))
    if coefficients is None:
        chosen = [c for c in present if c != "percent_agreement"] or present
    else:
        unknown = [c for c in coefficients if c not in present]
        if unknown:
            raise ValueError(
                f"coefficients must be among those in the table {present}; got {unknown}"
            )
        chosen = list(coefficients)
    t = t[t["coefficient"].isin(chosen)]
    if t.empty:
        raise ValueError("the table has no rows to plot")
    keys = [k for k in ("criterion_id", "round_id") if k in t.columns]
    labels = t[keys].astype(object).where(t[keys].notna(), "-").astype(str).agg(" / ".join, axis=1)
    rows = list(dict.fromkeys(labels))
    # One colour per coefficient; per level too where a row has several (percent agreement
    # exact and within one). The decision rows' nominal forms share their coefficient's colour.
    several = t.assign(_row=labels).groupby(["_row", "coefficient"])["level"].nunique()
    split = set(several[several > 1].index.get_level_values("coefficient"))
    series = t.assign(
        _row=labels,
        _series=[
            f"{c} ({lv})" if c in split else c
            for c, lv in zip(t["coefficient"], t["level"].astype(str), strict=True)
        ],
    )
    names = list(dict.fromkeys(series["_series"]))
    height = 0.8 / max(len(names), 1)
    fig, ax, own = axes_for(ax, figsize=(9, 0.3 * len(rows) * max(1.5, len(names) / 2) + 1.6))
    for i, name in enumerate(names):
        s = series[series["_series"] == name]
        y = np.array([rows.index(r) for r in s["_row"]]) + (i - (len(names) - 1) / 2) * height
        colour = _COLOURS[i % len(_COLOURS)]
        est = s["estimate"].to_numpy(dtype=float)
        lo, hi = s["ci_low"].to_numpy(dtype=float), s["ci_high"].to_numpy(dtype=float)
        ok = ~np.isnan(lo) & ~np.isnan(hi)
        ax.hlines(y[ok], lo[ok], hi[ok], color=colour, lw=1.6)
        ax.plot(est, y, "o", color=colour, ms=4.5, label=name)
    band_of = bands or ("krippendorff_alpha" if "krippendorff_alpha" in chosen else chosen[0])
    lines = _THRESHOLDS.get(band_of)
    if lines is not None:
        cuts, source = lines
        for value, text in cuts:
            ax.axvline(value, color="#444", ls="--", lw=0.8)
            ax.annotate(
                text,
                (value, 1.0),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="bottom",
                fontsize=7,
            )
        ax.set_xlabel(f"estimate with interval (dashed: {source} thresholds for {band_of})")
    else:
        ax.set_xlabel("estimate with interval")
    ax.axvline(0, color="#999", lw=0.6)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return finish(fig, own)


def plot_pair_agreement(
    ratings: RatingsTable,
    *,
    criterion: str | Sequence[str] | None = None,
    measure: str = "exact",
    min_shared: int = 3,
    top: int = 25,
    ax: Axes | None = None,
) -> Figure:
    """Heat map of how often each pair of reviewers agrees on the items both scored.

    Parameters
    ----------
    ratings : RatingsTable
    criterion : str or list of str, optional
        Criteria to use (default: all).
    measure : {'exact', 'within_one'}, default 'exact'
        Share of shared items scored at the same level, or at most one level apart.
    min_shared : int, default 3
        Pairs sharing fewer submissions are left blank (grey).
    top : int, default 25
        Only the reviewers with the most ratings, for legibility.

    Returns
    -------
    Figure
        Reviewers on both axes; a cell is the pair's agreement, blank when the pair
        shares too few items (live review pairs most reviewers rarely).

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.plots import plot_pair_agreement
    >>> live = read_program("data/synthetic/pilot").ratings.select(kind="live")
    >>> fig = plot_pair_agreement(live, top=8)
    >>> len(fig.axes[0].get_xticks())
    8
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from calibrate.reliability import pair_agreement

    if measure not in ("exact", "within_one"):
        raise ValueError(f"measure must be one of 'exact', 'within_one'; got {measure!r}")
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 2:
        raise ValueError(f"top must be a whole number >= 2; got {top!r}")
    sub = ratings.select(criterion=criterion) if criterion is not None else ratings
    pairs = pair_agreement(sub, min_shared=min_shared)
    counts = sub.frame["reviewer_id"].astype(str).value_counts()
    keep = sorted(counts.index[:top])
    pos = {r: i for i, r in enumerate(keep)}
    grid = np.full((len(keep), len(keep)), np.nan)
    for a, b, v in zip(pairs["reviewer_a"], pairs["reviewer_b"], pairs[measure], strict=True):
        if a in pos and b in pos:
            grid[pos[a], pos[b]] = grid[pos[b], pos[a]] = v
    fig, ax, own = axes_for(ax, figsize=(0.28 * len(keep) + 2.6, 0.28 * len(keep) + 1.8))
    cmap = plt.get_cmap("viridis").with_extremes(bad="#e2e2e2")
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks(range(len(keep)), keep, rotation=90, fontsize=7)
    ax.set_yticks(range(len(keep)), keep, fontsize=7)
    what = "exact agreement" if measure == "exact" else "within-one agreement"
    ax.set_title(
        f"{what} per reviewer pair (grey: fewer than {min_shared} shared submissions)", fontsize=9
    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=what)
    return finish(fig, own)
