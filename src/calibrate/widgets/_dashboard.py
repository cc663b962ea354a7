"""The lead's dashboard: completion, agreement with the key and what to discuss, live."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

from calibrate._checks import check_number
from calibrate.calibration import QualificationRule, discussion_ranking, qualify
from calibrate.ratings import AnswerKey
from calibrate.store import Store

__all__ = ["LeadDashboard", "agreement_bars", "round_status"]


def agreement_bars(result: Any) -> str:
    """Exact and within-one agreement per reviewer as an HTML bar chart, with the rule's
    standards as lines (the live counterpart of :func:`calibrate.plots.plot_reviewer_agreement`:
    plain HTML redraws at once, where a rendered image would take most of a refresh)."""
    rule = result.rule
    rows = []
    for r in result.reviewers.sort_values("exact_agreement", ascending=False).itertuples():
        colour = "#2b6cb0" if r.status == "qualified" else "#dd6b20"
        bars = "".join(
            f"<div title='{label} {value:.0%}' style='height:7px;margin:1px 0;width:{100 * value:.1f}%;background:{colour};opacity:{op}'></div>"
            for label, value, op in (
                ("exact", r.exact_agreement, 1.0),
                ("within one", r.adjacent_agreement, 0.45),
            )
        )
        lines = "".join(
            f"<div style='position:absolute;top:0;bottom:0;left:{100 * v:.1f}%;border-left:1px {style} #444'></div>"
            for v, style in ((rule.min_exact, "dashed"), (rule.min_adjacent, "dotted"))
        )
        rows.append(
            f"<tr><td style='font-size:85%;padding-right:6px'>{html.escape(str(r.reviewer_id))}</td>"
            f"<td style='width:420px'><div style='position:relative'>{bars}{lines}</div></td>"
            f"<td style='font-size:85%'>{r.exact_agreement:.0%} / {r.adjacent_agreement:.0%}</td></tr>"
        )
    legend = (
        f"<p style='font-size:85%'>Dark: exact, light: within one level; blue qualified, orange recalibrate; "
        f"dashed line {rule.min_exact:.0%}, dotted line {rule.min_adjacent:.0%}.</p>"
    )
    return legend + "<table>" + "".join(rows) + "</table>"


def round_status(
    store: str | Path,
    rubric_id: str,
    *,
    round_id: str,
    anchors: Sequence[str],
    reviewers: Sequence[str] | None = None,
    key: AnswerKey | None = None,
    rule: QualificationRule | None = None,
) -> dict[str, Any]:
    """What the dashboard shows, as plain data: completion per reviewer, the
    qualification table (reviewers who finished), and the discussion ranking."""
    with Store.open(store, create=False) as s:
        key = key if key is not None else s.answer_key(rubric_id)
        try:
            ratings = s.ratings(rubric_id, round_id=round_id)
        except ValueError:
            ratings = None
        rubric = s.rubric(rubric_id)
    n_crit = len(rubric.criteria)
    expected = len(anchors) * n_crit
    entered = (
        ratings.frame.groupby("reviewer_id", observed=True).size()
        if ratings is not None and len(ratings)
        else pd.Series(dtype=int)
    )
    who = list(reviewers) if reviewers is not None else sorted(entered.index.astype(str))
    completion = pd.DataFrame(
        {"reviewer_id": who, "entered": [int(entered.get(r, 0)) for r in who]}
    )
    completion["expected"] = expected
    completion["done"] = completion["entered"] / expected if expected else 0.0
    finished = set(completion.loc[completion["entered"] >= expected, "reviewer_id"])
    result = ranking = None
    if ratings is not None and finished:
        from calibrate.ratings import RatingsTable

        done = RatingsTable(
            ratings.frame[ratings.frame["reviewer_id"].astype(str).isin(finished)].reset_index(
                drop=True
            ),
            rubric,
        )
        result = qualify(done, key, round_id=round_id, rule=rule)
        ranking = discussion_ranking(done, key, round_id=round_id)
    return {"completion": completion, "result": result, "ranking": ranking}


class LeadDashboard:
    """Completion by reviewer, the agreement table and the discussion ranking of a round,
    refreshed from the store (entries may arrive from other processes).

    Call :meth:`refresh` (or press *Refresh*), or :meth:`start` to refresh every few
    seconds while the notebook runs. ``last_refresh_seconds`` says how long a refresh took.
    """

    def __init__(
        self,
        store: str | Path,
        rubric_id: str,
        *,
        round_id: str,
        anchors: Sequence[str],
        reviewers: Sequence[str] | None = None,
        rule: QualificationRule | None = None,
    ):
        self.store_path, self.rubric_id, self.round_id = Path(store), rubric_id, round_id
        self.anchors, self.reviewers, self.rule = [str(a) for a in anchors], reviewers, rule
        self.summary = w.HTML()
        self.completion = w.HTML()
        self.agreement = w.HTML()
        self.discussion = w.HTML()
        self.plot = w.HTML("<p>The plot is drawn when this tab is open.</p>")
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.widget = w.VBox(
            [
                w.HBox([self.refresh_button, self.summary]),
                w.Tab(
                    children=[self.completion, self.agreement, self.discussion, self.plot],
                    titles=("Completion", "Agreement with the key", "Discuss", "Plot"),
                ),
            ]
        )
        self.tabs = self.widget.children[1]
        self.tabs.observe(
            lambda change: self._draw_plot() if change["new"] == 3 else None, names="selected_index"
        )
        self.last_status: dict[str, Any] | None = None
        self.last_refresh_seconds = float("nan")
        self._task: asyncio.Task[None] | None = None
        self.refresh()

    @classmethod
    def for_round(
        cls,
        store: str | Path,
        rubric_id: str,
        round_id: str,
        *,
        rule: QualificationRule | None = None,
    ) -> LeadDashboard:
        """The dashboard of a round assigned in the store (:meth:`Store.assign_round`)."""
        with Store.open(store, create=False) as s:
            assigned = s.round_assignment(rubric_id, round_id)
        if not assigned["anchors"]:
            raise ValueError(
                f"round {round_id!r} has no anchors assigned; use Store.assign_round first"
            )
        return cls(
            store,
            rubric_id,
            round_id=round_id,
            anchors=assigned["anchors"],
            reviewers=assigned["reviewers"] or None,
            rule=rule,
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def refresh(self) -> dict[str, Any]:
        t = time.perf_counter()
        status = round_status(
            self.store_path,
            self.rubric_id,
            round_id=self.round_id,
            anchors=self.anchors,
            reviewers=self.reviewers,
            rule=self.rule,
        )
        comp, result, ranking = status["completion"], status["result"], status["ranking"]
        n_done = int((comp["done"] >= 1).sum())
        qualified = 0 if result is None else int((result.reviewers["status"] == "qualified").sum())
        self.summary.value = html.escape(
            f"Round {self.round_id}: {n_done} of {len(comp)} reviewers finished; {qualified} qualified so far."
        )
        self.completion.value = comp.to_html(index=False, float_format=lambda x: f"{x:.0%}")
        if result is None:
            self.agreement.value = "<p>No reviewer has finished the round yet.</p>"
            self.discussion.value = ""
        else:
            shown = result.reviewers.assign(reasons=result.reviewers["reasons"].map("; ".join))
            self.agreement.value = shown[
                [
                    "reviewer_id",
                    "status",
                    "exact_agreement",
                    "adjacent_agreement",
                    "decision_agreement",
                    "mean_difference",
                    "reasons",
                ]
            ].to_html(index=False, float_format=lambda x: f"{x:.2f}")
            self.discussion.value = ranking.head(12).to_html(
                index=False, float_format=lambda x: f"{x:.2f}"
            )
        self.last_status = status
        if self.tabs.selected_index == 3:  # draw the plot only while it is on screen
            self._draw_plot()
        self.last_refresh_seconds = time.perf_counter() - t
        return status

    def _draw_plot(self) -> None:
        result = None if self.last_status is None else self.last_status["result"]
        self.plot.value = (
            "<p>No reviewer has finished the round yet.</p>"
            if result is None
            else agreement_bars(result)
        )

    def start(self, every: float = 3.0) -> None:
        """Refresh every ``every`` seconds in the notebook's event loop until :meth:`stop`."""
        if check_number("every", every) <= 0:
            raise ValueError(f"every must be a positive number of seconds; got {every!r}")
        self.stop()

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                self.refresh()

        self._task = asyncio.get_event_loop().create_task(loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
