"""The severity page: each reviewer's severity with its interval and fit, accuracy against
the key, reviewer x criterion bias, and what the figures mean in plain words."""

from __future__ import annotations

import pandas as pd

from calibrate._checks import check_instance
from calibrate.report._html import HtmlReport
from calibrate.report._pseudonym import Pseudonymizer
from calibrate.severity import REVIEWER_TABLE_COLUMNS, SeveritySummary

__all__ = ["severity_report"]


def severity_report(
    summary: SeveritySummary,
    *,
    title: str = "Reviewer severity",
    pseudonymizer: Pseudonymizer | None = None,
    confidence_level: float = 0.95,
) -> HtmlReport:
    """A :func:`~calibrate.severity.severity_summary` as one HTML page (plots embedded, text
    escaped): the model and its separation, the harshest and most lenient reviewers in plain
    words, the caterpillar plot of severities with intervals, the reviewer table (severity,
    SEs, interval, fit, fair average, accuracy) and the reviewer x criterion bias heat map.
    Reviewer ids are pseudonymised with ``pseudonymizer``.

    >>> from calibrate.io import read_program
    >>> from calibrate.severity import severity_summary
    >>> p = read_program("data/synthetic/district")
    >>> page = severity_report(severity_summary(p.ratings, p.key)).render()
    >>> "<h2>In plain words</h2>" in page and "Reviewer separation" in page
    True
    """
    from scipy.stats import norm

    from calibrate.plots import plot_severity, plot_severity_bias

    check_instance("summary", summary, SeveritySummary)
    if not 0 < confidence_level < 1:
        raise ValueError(
            f"confidence_level must be between 0 and 1 (exclusive); got {confidence_level!r}"
        )
    rows, bias = summary.reviewers.copy(), summary.bias.copy()
    labels = None
    if pseudonymizer is not None:
        check_instance("pseudonymizer", pseudonymizer, Pseudonymizer)
        labels = pseudonymizer.mapping(rows["reviewer_id"], "R", what="reviewer_id")
        rows = pseudonymizer.frame(rows, {"reviewer_id": "R"})
        bias = pseudonymizer.frame(bias, {"reviewer_id": "R"})
    mfrm = summary.rasch
    sep = mfrm.separation_.loc["reviewers"]
    z = float(norm.ppf(0.5 + confidence_level / 2))
    if confidence_level != 0.95 or "ci_low" not in rows.columns:
        rows["ci_low"] = rows["severity"] - z * rows["se"]
        rows["ci_high"] = rows["severity"] + z * rows["se"]
    page = HtmlReport(title)
    page.paragraph(
        f"Many-facet Rasch model ({mfrm.model.replace('_', ' ')}, {summary.estimator.upper()}), "
        f"{int(rows['n'].sum()):,} ratings, "
        f"{'converged' if mfrm.converged_ else 'NOT converged'} in {mfrm.n_iter_} sweeps. "
        f"Reviewer separation {sep['separation']:.2f}, reliability {sep['reliability']:.2f}."
    )
    page.heading("In plain words")
    harsh = rows[rows["ci_low"] > 0]
    lenient = rows[rows["ci_high"] < 0]
    misfit = rows[~(rows["infit"].between(0.5, 1.5) & rows["outfit"].between(0.5, 1.5))]
    page.bullets(
        [
            "Severity is in logits: 0 is the average reviewer, positive is harsher. A reviewer "
            "whose interval lies wholly above 0 scores harder than the average reviewer on "
            "the same kind of work; the fair average is the score they would give an average "
            "submission.",
            f"{len(harsh)} of {len(rows)} reviewers are harsher than average beyond doubt"
            + (f" ({', '.join(map(str, harsh['reviewer_id'].head(8)))})" if len(harsh) else "")
            + f"; {len(lenient)} more lenient"
            + (f" ({', '.join(map(str, lenient['reviewer_id'].head(8)))})" if len(lenient) else "")
            + ".",
            f"{len(misfit)} reviewer(s) score erratically or too predictably (fit mean square "
            "outside 0.5-1.5): look at their ratings before reading their severity."
            if len(misfit)
            else "Every reviewer's fit mean squares are within 0.5-1.5.",
            "Severity says how hard a reviewer scores, not whether they are right: accuracy "
            "(Dawid-Skene) is P(score = true level)"
            + (", with the key's anchors as known truth." if summary.keyed else " (no key given)."),
        ]
    )
    page.heading("Severity with intervals")
    page.figure(
        plot_severity(mfrm, confidence_level=confidence_level, labels=labels),
        alt="reviewer severities with intervals",
    )
    page.heading("The reviewers")
    page.paragraph(
        f"Intervals are {confidence_level:.0%} (severity ± {z:.2f} se). se: from the "
        "reviewer's own information (JML) or the marginal information (MML); se_joint: "
        "from the inverse of the joint information of all parameters.",
        css="note",
    )
    cols = list(REVIEWER_TABLE_COLUMNS)
    page.table(rows[[c for c in cols if c in rows.columns]], digits=3)
    page.heading("Reviewer x criterion bias")
    if len(mfrm.bias_):
        page.figure(
            plot_severity_bias(mfrm, t_limit=summary.bias_t, labels=labels),
            alt="reviewer by criterion bias",
        )
    page.paragraph(
        f"Biases with |t| >= {summary.bias_t:g}: a reviewer scoring one criterion harder or "
        "softer than their own severity predicts.",
        css="note",
    )
    page.table(bias if len(bias) else pd.DataFrame({"bias": ["(none)"]}), digits=3)
    return page
