"""The reliability page: every coefficient per criterion (and for the pass decision) with its
interval and published band, a forest plot, and what the figures mean in plain words."""

from __future__ import annotations

import math

import pandas as pd

from calibrate._checks import check_instance
from calibrate.report._html import HtmlReport

__all__ = ["COEFFICIENT_NAMES", "reliability_report"]

#: Plain names of the coefficients of :func:`calibrate.reliability.reliability_table`.
COEFFICIENT_NAMES = {
    "krippendorff_alpha": "Krippendorff's alpha",
    "percent_agreement": "percent agreement",
    "cohen_kappa": "Cohen's kappa",
    "fleiss_kappa": "Fleiss' kappa",
    "conger_kappa": "Conger's kappa",
    "light_kappa": "Light's kappa",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "brennan_prediger": "Brennan-Prediger coefficient",
    "icc": "intraclass correlation (ICC)",
    "livingston_lewis": "Livingston-Lewis classification consistency",
    "rudner": "Rudner classification consistency",
}
_CLASSIFICATION = ("livingston_lewis", "rudner")

#: Which coefficient a criterion's plain-words sentence is about, first found first.
_HEADLINE = ("krippendorff_alpha", "icc", "gwet_ac2", "fleiss_kappa", "conger_kappa")


def _name(coefficient: str) -> str:
    return COEFFICIENT_NAMES.get(coefficient, coefficient.replace("_", " "))


def _number(v: object) -> float:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return x


def _sentence(row: pd.Series) -> str:
    """One criterion's headline in words: the estimate, its interval and band, and whether
    the interval lets one say which band it is in."""
    where = "the pass decision" if row["criterion_id"] == "decision" else str(row["criterion_id"])
    est, lo, hi = _number(row["estimate"]), _number(row["ci_low"]), _number(row["ci_high"])
    if math.isnan(est):
        return f"{where}: {_name(row['coefficient'])} could not be computed ({row.get('note') or 'no data'})."
    level = _number(row.get("confidence_level"))
    ci = (
        f" ({level:.0%} interval {lo:.2f} to {hi:.2f})"
        if not (math.isnan(lo) or math.isnan(hi) or math.isnan(level))
        else ""
    )
    band = row.get("band")
    said = f"{where}: {_name(row['coefficient'])} {est:.2f}{ci}"
    if isinstance(band, str) and band:
        source = str(row.get("band_source") or "its published bands").split(":")[0]
        said += f", {band} by {source}"
    if ci and hi - lo > 0.2:
        said += "; the interval is wide: more doubly-scored submissions would pin it down"
    return said + "."


def reliability_report(
    rows: pd.DataFrame, *, title: str = "Inter-rater reliability", what: str | None = None
) -> HtmlReport:
    """A :func:`~calibrate.reliability.reliability_table` as one HTML page (plots embedded,
    text escaped): a sentence per criterion in plain words, the forest plot of every
    coefficient with its interval, the full table (intervals, bands, F tests of the ICCs),
    reviewer-pair rows when present, and the table's notes. Write it with ``.write(path)``.

    ``what`` is a line saying what was analysed (e.g. ``"1,240 live ratings by criterion"``).

    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import reliability_table
    >>> live = read_program("data/synthetic/district").ratings.select(kind="live")
    >>> page = reliability_report(reliability_table(live)).render()
    >>> "<h2>In plain words</h2>" in page and "goals: Krippendorff" in page
    True
    """
    from calibrate.plots import plot_reliability_forest

    check_instance("rows", rows, pd.DataFrame)
    missing = {"coefficient", "criterion_id", "estimate", "ci_low", "ci_high"} - set(rows.columns)
    if missing:
        raise ValueError(
            "rows must come from calibrate.reliability.reliability_table; missing column(s) "
            + ", ".join(sorted(missing))
        )
    page = HtmlReport(title)
    if what:
        page.paragraph(what)
    pair = rows["reviewer_a"].notna() if "reviewer_a" in rows.columns else None
    units = rows if pair is None else rows[~pair]
    classes = units[units["coefficient"].isin(_CLASSIFICATION)]
    units = units[~units["coefficient"].isin(_CLASSIFICATION)]
    page.heading("In plain words")
    page.paragraph(
        "Each line gives one criterion's headline coefficient, its interval (the range the "
        "data cannot tell apart) and the published band it falls in. An interval that spans "
        "two bands means the data do not say which of the two holds."
    )
    lines = []
    for _, group in units.groupby("criterion_id", sort=False, dropna=False):
        for name in _HEADLINE:
            pick = group[group["coefficient"] == name]
            if len(pick):
                lines.append(_sentence(pick.iloc[0]))
                break
    page.bullets(lines or ["no coefficient could be computed"])
    drawable = units[units["estimate"].map(_number).notna()]
    if len(drawable):
        page.heading("Every coefficient with its interval")
        page.figure(plot_reliability_forest(drawable), alt="forest plot of the coefficients")
    if len(classes):
        page.heading("How often the pass decision is right, and repeatable")
        page.paragraph(
            "Accuracy: the chance that a submission's decision equals the one its true "
            "level calls for; consistency: the chance that two independent reviews decide "
            "alike. Livingston-Lewis is about one reviewer's total score against the cut, "
            "Rudner about the decision from all of a submission's ratings (its Rasch "
            "measure), so Rudner's figures are higher."
        )
        cols = ["coefficient", "accuracy", "consistency", "kappa", "false_pass", "false_fail"]
        cols += ["pass_rate", "cut", "reliability_used", "effective_length", "note"]
        page.table(classes[[c for c in cols if c in classes.columns]], digits=3)
    page.heading("The table")
    shown = [
        c
        for c in (
            "criterion_id",
            "round_id",
            "coefficient",
            "level",
            "weights",
            "form",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "ci_method",
            "n_units",
            "band",
            "F",
            "df1",
            "df2",
            "p",
        )
        if c in units.columns and units[c].notna().any()
    ]
    page.table(units[shown], digits=3)
    sources = sorted({str(s) for s in units.get("band_source", pd.Series()).dropna() if s})
    if sources:
        page.paragraph("Bands: " + "; ".join(sources), css="note")
    if pair is not None and pair.any():
        page.heading("Reviewer pairs")
        cols = [
            c
            for c in ("criterion_id", "reviewer_a", "reviewer_b", "coefficient", "estimate")
            + ("ci_low", "ci_high", "n_units", "band")
            if c in rows.columns
        ]
        page.table(rows.loc[pair, cols], digits=3)
    if "note" in units.columns:
        notes = units.loc[units["note"].fillna("").astype(bool)]
        if len(notes):
            page.heading("Notes")
            page.bullets(
                sorted(
                    {
                        f"{r.criterion_id}, {_name(str(r.coefficient))}: {r.note}"
                        for r in notes.itertuples()
                    }
                ),
                css="note",
            )
    return page
