"""Qualifying reviewers for live review from a calibration round, with reasons in words."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from calibrate.calibration._anchors import anchor_coverage
from calibrate.calibration._compare import (
    compare_keyed,
    decisions_keyed,
    keyed_scores,
    wilson_interval,
)
from calibrate.ratings import AnswerKey, RatingsTable

__all__ = ["QualificationRule", "RoundResult", "anchors_needed", "group_lean", "qualify"]


class QualificationRule(BaseModel):
    """The standard a reviewer must meet on the anchors to score live work.

    Defaults are the common operational standard: at least 70% exact and 95%
    exact-or-adjacent agreement with the key on every criterion, and the pass / not-yet
    decision matching the key on at least 90% of anchors.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_exact: float = Field(
        0.70, ge=0, le=1, description="exact agreement with the key, per criterion"
    )
    min_adjacent: float = Field(
        0.95, ge=0, le=1, description="agreement within one level, per criterion"
    )
    min_decision: float = Field(0.90, ge=0, le=1, description="pass / not-yet decision agreement")
    confidence_level: float = Field(
        0.95, gt=0, lt=1, description="for the Wilson intervals behind 'shaky' warnings"
    )


def anchors_needed(
    rate: float, threshold: float, *, confidence_level: float = 0.95, max_n: int = 10_000
) -> int | None:
    """Smallest number of anchors at which an observed agreement ``rate`` has a Wilson
    interval that excludes ``threshold`` (so the call is no longer shaky).

    None when no number up to ``max_n`` suffices (the rate sits at the threshold).

    >>> anchors_needed(0.8, 0.7)  # 80% agreement against a 70% standard
    81
    """
    if rate == threshold:
        return None

    def excludes(n: np.ndarray) -> np.ndarray:
        lo, hi = wilson_interval(rate * n, n, confidence_level)
        return (lo > threshold) | (hi < threshold)

    # At a fixed rate the interval narrows as n grows: find a bracket by doubling, then
    # bisect. Each stage's candidates are tested in one vectorised call, then walked in the
    # order of the sequential search.
    doubling = [1]
    while doubling[-1] < max_n:
        doubling.append(min(2 * doubling[-1], max_n))
    found = np.flatnonzero(excludes(np.array(doubling)))
    if not found.size:
        return None
    hi_n = doubling[found[0]]
    lo_n = hi_n // 2 + 1 if hi_n > 1 else 1
    first = lo_n
    bracket = excludes(np.arange(first, hi_n + 1))
    while lo_n < hi_n:
        mid = (lo_n + hi_n) // 2
        lo_n, hi_n = (lo_n, mid) if bracket[mid - first] else (mid + 1, hi_n)
    return hi_n


@dataclass(frozen=True, eq=False)
class RoundResult:
    """Qualification of every reviewer in a round.

    ``reviewers`` has one row per reviewer: status (``qualified`` or ``recalibrate``),
    exact_agreement, adjacent_agreement, decision_agreement, mean_difference (overall),
    n_anchors, n_decisions (anchors whose decision could be compared), reasons (list of sentences), warnings (list of sentences), anchors_missed.
    ``criteria`` is :func:`compare_to_key`'s per-criterion table. ``warnings`` holds
    round-level warnings (too few anchors for the standard to be decidable; anchors that
    leave a level of a criterion or a side of the pass line uncovered, by
    :func:`anchor_coverage`).
    """

    round_id: str | None
    rule: QualificationRule
    reviewers: pd.DataFrame
    criteria: pd.DataFrame
    n_anchors: int
    warnings: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.reviewers.copy()

    def to_records(self) -> list[dict[str, object]]:
        """The reviewer rows as JSON-ready dicts (the ``calibrate round`` contract)."""
        return [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in self.reviewers.to_dict("records")
        ]

    def short_on(self) -> pd.Series:
        """Per reviewer (index: reviewer id), the standards they fell short of as short
        flags, one per criterion (``"norms: exact 25%, within one 88%"``) and one for the
        decision (``"decision 88%"``); the sentences are in ``reasons``."""
        rule, c = self.rule, self.criteria
        per = c[c["criterion_id"] != "overall"]
        flags: dict[str, list[str]] = {str(r): [] for r in self.reviewers["reviewer_id"]}
        for r in per.itertuples():
            missed = [f"exact {_pct(r.exact)}"] if r.exact < rule.min_exact else []
            if r.adjacent < rule.min_adjacent:
                missed.append(f"within one {_pct(r.adjacent)}")
            if missed:
                flags[str(r.reviewer_id)].append(f"{r.criterion_id}: {', '.join(missed)}")
        for r in self.reviewers.itertuples():
            d = r.decision_agreement
            if int(r.n_decisions) == 0:
                flags[str(r.reviewer_id)].append("decision: none comparable")
            elif d < rule.min_decision:
                flags[str(r.reviewer_id)].append(f"decision {_pct(d)}")
        return pd.Series(flags, name="short_on", dtype=object)

    def _repr_html_(self) -> str:
        """A compact table for notebooks: one line per reviewer, the overall rates with their
        intervals, short flags of the standards missed, and the full reasons and shaky calls
        one click away (``<details>``)."""
        n_q = int((self.reviewers["status"] == "qualified").sum())
        level = f"{self.rule.confidence_level:.0%}"
        head = (
            f"<p><strong>Round {html.escape(str(self.round_id or 'all'))}</strong>: {n_q} of {len(self.reviewers)} reviewers qualified "
            f"on {self.n_anchors} anchors (standard: exact &ge; {self.rule.min_exact:.0%}, within one &ge; {self.rule.min_adjacent:.0%} "
            f"per criterion; decision &ge; {self.rule.min_decision:.0%}). Rates over all criteria with {level} intervals.</p>"
        )
        warn = (
            "<details><summary>"
            + html.escape(f"{len(self.warnings)} round warning(s)")
            + "</summary><ul>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
            + "</ul></details>"
            if self.warnings
            else ""
        )
        return head + warn + self.reviewer_table_html()

    def reviewer_table_html(self) -> str:
        """The reviewers as an HTML table (text escaped): one line per reviewer with the
        overall rates and their intervals, short flags of the standards missed, and the
        reasons and shaky calls one click away (``<details>``)."""
        overall = self.criteria[self.criteria["criterion_id"] == "overall"].set_index(
            self.criteria.loc[self.criteria["criterion_id"] == "overall", "reviewer_id"].astype(str)
        )
        short = self.short_on()

        def rate(rid: str, name: str) -> str:
            if rid not in overall.index:
                return ""
            o = overall.loc[rid]
            return f"{_pct(o[name])} ({_pct(o[name + '_low'])}&ndash;{_pct(o[name + '_high'])})"

        lines = []
        for r in self.reviewers.itertuples():
            rid = str(r.reviewer_id)
            d = r.decision_agreement
            dec = ""
            if int(r.n_decisions):
                n = int(r.n_decisions)
                lo, hi = wilson_interval(d * n, n, self.rule.confidence_level)
                dec = f"{_pct(d)} ({_pct(float(lo))}&ndash;{_pct(float(hi))})"
            md = r.mean_difference
            lean = "" if isinstance(md, float) and math.isnan(md) else f"{md:+.2f}"
            flags = short.get(rid, [])
            if len(flags) > 3:  # the rest are one click away, with the reasons
                flags = [*flags[:3], f"and {len(flags) - 3} more"]
            why = list(r.reasons) + list(r.warnings)
            details = (
                "<details><summary>"
                + html.escape(f"{len(r.reasons)} reason(s), {len(r.warnings)} shaky call(s)")
                + "</summary><ul>"
                + "".join(f"<li>{html.escape(w)}</li>" for w in why)
                + "</ul></details>"
                if why
                else ""
            )
            status = "qualified" if r.status == "qualified" else "recalibrate"
            lines.append(
                f"<tr><td>{html.escape(rid)}</td><td>{status}</td><td>{rate(rid, 'exact')}</td>"
                f"<td>{rate(rid, 'adjacent')}</td><td>{dec}</td><td>{lean}</td>"
                f"<td>{html.escape(', '.join(flags))}</td><td>{details}</td></tr>"
            )
        table = (
            "<table><thead><tr><th>reviewer</th><th>status</th><th>exact</th><th>within one</th>"
            "<th>decision</th><th>mean &minus; key</th><th>short on</th><th>why</th></tr></thead>"
            "<tbody>" + "".join(lines) + "</tbody></table>"
        )
        return table


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def qualify(
    ratings: RatingsTable,
    key: AnswerKey,
    *,
    round_id: str | None = None,
    rule: QualificationRule | None = None,
) -> RoundResult:
    """Give each reviewer ``qualified`` or ``recalibrate`` with the reasons in words.

    A reviewer qualifies when, on every criterion, exact and within-one agreement with
    the key reach the rule's standards and their decisions match the key's often enough.
    A standard that lies inside the Wilson interval of the reviewer's rate is flagged as
    a shaky call, with how many anchors would settle it at that rate.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> p = read_program("data/synthetic/pilot")
    >>> result = qualify(p.ratings, p.key, round_id="R1")
    >>> sorted(set(result.reviewers["status"])) <= ["qualified", "recalibrate"]
    True
    """
    rule = rule or QualificationRule()
    ks = keyed_scores(ratings, key, round_id=round_id)  # once: both tables below read it
    crit = compare_keyed(ks, ratings.rubric, confidence_level=rule.confidence_level)
    dec = decisions_keyed(ks, key).set_index("reviewer_id")
    names = {c.id: c.name for c in ratings.rubric.criteria}
    n_anchors = int(ks["submission_id"].nunique())
    rows = []
    records = crit.to_dict("records")  # plain dicts: far cheaper than slicing frames per reviewer
    by_reviewer: dict[str, list[dict]] = {}
    for rec in records:
        by_reviewer.setdefault(rec["reviewer_id"], []).append(rec)
    for rid in sorted(by_reviewer):
        per = [
            SimpleNamespace(**rec) for rec in by_reviewer[rid] if rec["criterion_id"] != "overall"
        ]
        overall = next(
            SimpleNamespace(**rec) for rec in by_reviewer[rid] if rec["criterion_id"] == "overall"
        )
        reasons, warnings = [], []
        for r in per:
            name = names.get(r.criterion_id, r.criterion_id)
            for what, rate, lo, hi, std in (
                ("exact", r.exact, r.exact_low, r.exact_high, rule.min_exact),
                ("within-one", r.adjacent, r.adjacent_low, r.adjacent_high, rule.min_adjacent),
            ):
                k = round(rate * r.n)
                if rate < std:
                    reasons.append(
                        f"{what} agreement on {name} is {_pct(rate)} ({k} of {r.n}), below the {_pct(std)} standard"
                    )
                if lo <= std <= hi and rate != std:
                    need = anchors_needed(rate, std, confidence_level=rule.confidence_level)
                    more = f"; about {need} anchors would settle it at this rate" if need else ""
                    warnings.append(
                        f"{what} agreement on {name} ({_pct(rate)} of {r.n}) is a shaky call: its {_pct(rule.confidence_level)} interval "
                        f"{_pct(lo)}-{_pct(hi)} includes the {_pct(std)} standard{more}"
                    )
        d = dec.loc[rid] if rid in dec.index else None
        dec_rate = float(d["decision_agreement"]) if d is not None else math.nan
        n_dec = int(d["n_decisions"]) if d is not None else 0
        missed = list(d["anchors_missed"]) if d is not None else []
        if n_dec == 0:
            reasons.append(
                "no anchor was scored on every criterion, so no pass / not-yet decision can be compared with the key"
            )
        elif dec_rate < rule.min_decision:
            reasons.append(
                f"the pass / not-yet decision matched the key on {round(dec_rate * n_dec)} of {n_dec} anchors ({_pct(dec_rate)}), below the {_pct(rule.min_decision)} standard"
            )
        status = "recalibrate" if reasons else "qualified"
        if not reasons:
            reasons.append(
                f"meets every standard: exact >= {_pct(rule.min_exact)} and within one level >= {_pct(rule.min_adjacent)} on every criterion, "
                f"decision agreement {_pct(dec_rate)}"
            )
        rows.append(
            {
                "reviewer_id": rid,
                "status": status,
                "exact_agreement": float(overall.exact),
                "adjacent_agreement": float(overall.adjacent),
                "decision_agreement": dec_rate,
                "mean_difference": float(overall.mean_difference),
                "n_anchors": max(int(r.n) for r in per),
                "n_decisions": n_dec,
                "reasons": reasons,
                "warnings": warnings,
                "anchors_missed": missed,
            }
        )
    round_warnings = []
    smallest = int(crit.loc[crit["criterion_id"] != "overall", "n"].min())
    if rule.min_adjacent > 0 and smallest < 1 / max(1 - rule.min_adjacent, 1e-12):
        need = math.ceil(1 / (1 - rule.min_adjacent)) if rule.min_adjacent < 1 else None
        round_warnings.append(
            f"with {smallest} anchors per criterion a single anchor scored two levels from the key drops within-one agreement to "
            f"{_pct((smallest - 1) / smallest)}, below the {_pct(rule.min_adjacent)} standard"
            + (f": at least {need} anchors make one such miss tolerable" if need else "")
        )
    coverage = anchor_coverage(key, list(pd.unique(ks["submission_id"])))
    if not coverage.complete:
        round_warnings.append(
            f"the {n_anchors} anchors do not cover every level of every criterion and both sides "
            "of the pass line, so agreement there is untested: " + "; ".join(coverage.missing)
        )
    return RoundResult(round_id, rule, pd.DataFrame(rows), crit, n_anchors, round_warnings)


def group_lean(
    ratings: RatingsTable,
    key: AnswerKey,
    *,
    round_id: str | None = None,
    confidence_level: float = 0.95,
) -> dict[str, object]:
    """The group's overall lean against the key: the mean over reviewers of their mean
    (score - key), with a t interval across reviewers, and its direction in words."""
    from scipy import stats

    ks = keyed_scores(ratings, key, round_id=round_id)
    per_reviewer = ks.groupby("reviewer_id")["difference"].mean()
    m, n = float(per_reviewer.mean()), len(per_reviewer)
    if n > 1:
        half = float(
            stats.t.ppf(0.5 + confidence_level / 2, n - 1) * per_reviewer.std(ddof=1) / np.sqrt(n)
        )
        lo, hi = m - half, m + half
    else:
        lo = hi = math.nan
    if n > 1 and hi < 0:
        direction = "harsher than the key"
    elif n > 1 and lo > 0:
        direction = "more lenient than the key"
    else:
        direction = "in line with the key (the interval includes 0)"
    per_criterion = (
        ks.groupby("criterion_id")["difference"].mean().reindex(list(ratings.rubric.criterion_ids))
    )
    return {
        "mean_difference": m,
        "ci_low": lo,
        "ci_high": hi,
        "n_reviewers": n,
        "direction": direction,
        "per_criterion": {str(k): float(v) for k, v in per_criterion.dropna().items()},
    }
