"""The result of a drift check as plain tables and JSON-ready values (DriftReport)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from calibrate.drift._group import GroupDrift, json_value

__all__ = ["DriftReport"]

_SUMMARY = (
    "reviewer_id",
    "onset",
    "signal_at",
    "direction",
    "magnitude",
    "chart",
    "source",
    "n_evidence",
    "false_alarm_rate",
    "relative_to_group",
)
_NOT_BRIEF = ("signal_at", "relative_to_group")
_TIMES = ("onset", "signal_at")


@dataclass(frozen=True)
class DriftReport:
    """What a :class:`~calibrate.drift.DriftMonitor` found, as plain tables and JSON-ready
    values.

    Attributes
    ----------
    flags : DataFrame
        One row per flagged reviewer (see :attr:`~calibrate.drift.DriftMonitor.flags_`).
    evidence : dict of str to DataFrame
        Per flagged reviewer, the ratings from the onset to the signal.
    checked : DataFrame
        Every reviewer: ratings per source, status and reason, limits, flagged.
    group : GroupDrift
    window_tests : DataFrame
        Per reviewer and source: the test for a change of severity across time windows.
    settings : dict
    """

    flags: pd.DataFrame
    evidence: dict[str, pd.DataFrame] = field(repr=False)
    checked: pd.DataFrame = field(repr=False)
    group: GroupDrift = field(repr=False)
    window_tests: pd.DataFrame = field(repr=False)
    settings: dict[str, Any] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The flags table (a copy)."""
        return self.flags.copy()

    @property
    def n_checked(self) -> int:
        """How many reviewers were charted (status ``'checked'``)."""
        return int((self.checked["status"] == "checked").sum())

    def flag_summary(self, *, brief: bool = False) -> pd.DataFrame:
        """The flags' main columns for a table on a page or a terminal, the times as
        ``YYYY-MM-DD HH:MM`` text: ``reviewer_id, onset, signal_at, direction, magnitude,
        chart, source, n_evidence, false_alarm_rate, relative_to_group`` (``brief``:
        without ``signal_at`` and ``relative_to_group``).

        >>> from calibrate.io import read_program
        >>> from calibrate.drift import detect_drift
        >>> program = read_program("data/synthetic/district")
        >>> summary = detect_drift(program.ratings, program.key, rng=0).flag_summary(brief=True)
        >>> list(summary.columns[:4])
        ['reviewer_id', 'onset', 'direction', 'magnitude']
        >>> bool(summary["onset"].str.fullmatch(r"\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d").all())
        True
        """
        columns = [c for c in _SUMMARY if not (brief and c in _NOT_BRIEF)]
        shown = self.flags[columns]
        return shown.assign(
            **{c: shown[c].dt.strftime("%Y-%m-%d %H:%M") for c in _TIMES if c in columns}
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"flags": [...], "reviewers_checked": [...], "group": {...},
        "window_tests": [...], "settings": {...}}`` with times as ISO text; each flag
        carries its evidence rows."""

        flags = []
        for rec in self.flags.to_dict(orient="records"):
            row = {k: json_value(v) for k, v in rec.items()}
            ev = self.evidence.get(str(rec["reviewer_id"]))
            row["evidence"] = (
                []
                if ev is None
                else [
                    {k: json_value(v) for k, v in r.items()} for r in ev.to_dict(orient="records")
                ]
            )
            flags.append(row)
        checked = [
            {k: json_value(v) for k, v in r.items()} for r in self.checked.to_dict(orient="records")
        ]
        tests = [
            {k: json_value(v) for k, v in r.items()}
            for r in self.window_tests.to_dict(orient="records")
        ]
        return {
            "flags": flags,
            "reviewers_checked": checked,
            "group": self.group.to_dict(),
            "window_tests": tests,
            "settings": dict(self.settings),
        }

    def _repr_html_(self) -> str:
        shown = self.flags[
            [
                c
                for c in ("reviewer_id", "onset", "direction", "magnitude", "chart", "source")
                if c in self.flags
            ]
        ]
        return (
            f"<div><strong>Drift</strong><p>{len(self.flags)} of {self.n_checked} reviewers checked "
            f"flagged. {html.escape(self.group.reason)}</p>"
            + shown.to_html(index=False, float_format=lambda x: f"{x:.3f}")
            + "</div>"
        )
