"""The reviewer-drift page: flags, the group's drift, severity per window, control charts."""

from __future__ import annotations

from calibrate._checks import check_instance, check_int
from calibrate.drift import DriftMonitor
from calibrate.report._html import HtmlReport

__all__ = ["drift_report"]


def drift_report(
    monitor: DriftMonitor, *, title: str = "Reviewer drift", max_charts: int = 8
) -> HtmlReport:
    """The drift found by a fitted :class:`~calibrate.drift.DriftMonitor` as one HTML
    report: the flags, the group's drift, severity changes per window, and a control
    chart per flagged reviewer (the first ``max_charts``). Write it with ``.write(path)``.

    >>> from calibrate.io import read_program
    >>> from calibrate.drift import DriftMonitor
    >>> p = read_program("data/synthetic/district")
    >>> page = drift_report(DriftMonitor(rng=0).fit(p.ratings, p.key), max_charts=1)
    >>> page.render().count("<h2>Control chart: ")
    1
    """
    from calibrate.plots import plot_control_chart, plot_group_drift

    check_instance("monitor", monitor, DriftMonitor, "a fitted calibrate.drift.DriftMonitor")
    check_int("max_charts", max_charts, 0)
    report = monitor.report()  # raises when the monitor is not fitted
    flags, checked, settings = report.flags, report.checked, report.settings
    page = HtmlReport(title)
    design = (
        f"in-control ARL {settings['arl']:g} ratings per chart"
        if settings["arl"] is not None
        else f"a steady reviewer is flagged with probability {settings['false_alarm_rate']:g} "
        + (
            f"within {settings['horizon']} ratings"
            if settings["horizon"] is not None
            else "over their whole record"
        )
    )
    page.paragraph(
        f"{len(flags)} of {report.n_checked} reviewers checked are flagged. Charts: "
        f"{', '.join(settings['charts'])} on self-starting scores of each reviewer's "
        f"residuals (against the key and co-reviewers); limits set so that {design}. "
        "'More lenient' means higher scores than the reference; the size is in score points, "
        "its interval conditional on the onset the chart chose. A flag is evidence for a "
        "conversation with the reviewer, not a verdict."
    )
    page.heading("Flags")
    shown = report.flag_readable()
    if len(shown):
        page.table(shown)
    else:
        page.paragraph("No reviewer is flagged.")
    page.heading("The whole group")
    page.paragraph(report.group.reason, css="warn" if report.group.drifted else "")
    if report.group.tested:
        page.figure(plot_group_drift(monitor), alt="group drift per time window")
    page.heading("Severity per time window")
    tests = report.window_tests
    changed = tests.loc[tests["changed"]]
    page.paragraph(
        f"{len(changed)} reviewer-reference pairs changed severity across "
        f"{settings['n_windows']} time windows (one-way F test, Holm-adjusted)."
    )
    if len(changed):
        page.table(changed[["reviewer_id", "source", "change", "p_value", "p_holm"]], digits=4)
    short = checked.loc[checked["status"] != "checked", ["reviewer_id", "reason"]]
    if len(short):
        page.heading("Not checked")
        page.table(short)
    for rid in flags["reviewer_id"].head(max_charts):
        page.heading(f"Control chart: {rid}")
        page.figure(plot_control_chart(monitor, rid), alt=f"control chart of {rid}")
    return page
