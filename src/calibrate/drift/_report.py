"""The result of a drift check as plain tables and JSON-ready values (DriftReport)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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

    def flag_readable(self) -> pd.DataFrame:
        """The flags in plain words, for people: who, since when, which way and by how
        much (score points, with the 95% interval of the shift, conditional on the onset
        the chart chose), on what evidence, and whether the whole group moved too.

        >>> from calibrate.io import read_program
        >>> from calibrate.drift import detect_drift
        >>> program = read_program("data/synthetic/district")
        >>> words = detect_drift(program.ratings, program.key, rng=0).flag_readable()
        >>> list(words.columns)
        ['reviewer', 'drift', 'since', 'flagged on', 'evidence', 'whole group moved too']
        >>> words["drift"].iloc[0]
        'more lenient by 0.42 points (95% interval 0.23 to 0.62)'
        """
        f = self.flags
        ways = {"more_lenient": "more lenient", "harsher": "harsher"}
        names = {"key": "anchor key", "co_reviewers": "co-reviewers", "model": "model"}

        def drift(r: Any) -> str:
            way = ways.get(str(r.direction), str(r.direction).replace("_", " "))
            lo, hi = sorted((abs(r.shift_low), abs(r.shift_high)))
            if (r.shift_low > 0) != (r.shift_high > 0):  # the interval spans no change
                lo = 0.0
            return f"{way} by {r.magnitude:.2f} points (95% interval {lo:.2f} to {hi:.2f})"

        def evidence(r: Any) -> str:
            against = " and ".join(names.get(x, x) for x in str(r.source).split("+"))
            return f"{r.n_evidence} ratings since onset, against the {against} ({r.chart})"

        return pd.DataFrame(
            {
                "reviewer": f["reviewer_id"].astype(str),
                "drift": [drift(r) for r in f.itertuples()],
                "since": f["onset"].dt.strftime("%Y-%m-%d"),
                "flagged on": f["signal_at"].dt.strftime("%Y-%m-%d"),
                "evidence": [evidence(r) for r in f.itertuples()],
                "whole group moved too": np.where(f["relative_to_group"], "yes", "no"),
            }
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
        rate = self.settings.get("false_alarm_rate")
        design = f" (a steady reviewer is flagged with probability {rate:g})" if rate else ""
        return (
            f"<div><strong>Drift</strong><p>{len(self.flags)} of {self.n_checked} reviewers checked "
            f"flagged{html.escape(design)}. {html.escape(self.group.reason)}</p>"
            + self.flag_readable().to_html(index=False, escape=True)
            + "</div>"
        )
