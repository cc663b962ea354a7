"""An interactive policy tuner: move the pass line and the tiebreak rules, watch accuracy
and cost move on the frontier."""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
from IPython.display import display

from calibrate.policy import (
    Policy,
    Replications,
    ReviewerScorer,
    draw_replications,
    evaluate,
    explain,
    pareto_front,
    policy_grid,
    sweep,
)
from calibrate.rubric import Rubric

__all__ = ["PolicyTuner"]


class PolicyTuner:
    """Sliders and menus for a policy; its outcomes and its place on the accuracy / cost
    frontier update as they move.

    ``frontier_grid`` (policy fields -> values) is the grid shown as the frontier behind
    the current policy (``frontier=False``: none). The submissions and reviews are
    simulated once (``n`` of them); a move re-evaluates
    the policy on those same draws, so it takes milliseconds and differences between
    settings are not simulation noise. ``last_update_seconds`` says how long a move took.
    """

    def __init__(
        self,
        rubric: Rubric,
        reviewers: ReviewerScorer,
        population: np.ndarray,
        *,
        n: int = 10_000,
        rng: np.random.Generator | int | None = 0,
        frontier_grid: dict[str, list[Any]] | None = None,
        frontier: bool = True,
    ):
        self.rubric = rubric
        self.draws: Replications = draw_replications(rubric, reviewers, population, n=n, rng=rng)
        rule, review, trig = (
            rubric.pass_rule,
            rubric.review_policy,
            rubric.review_policy.third_review,
        )
        style = {"description_width": "11em"}
        self.min_total = w.IntSlider(
            description="pass: total at least",
            min=rubric.min_total,
            max=rubric.max_total,
            value=int(rule.min_total) if rule.min_total is not None else rubric.min_total,
            style=style,
        )
        self.use_total = w.Checkbox(description="use a total cut", value=rule.min_total is not None)
        lowest, highest = (
            min(c.min_score for c in rubric.criteria),
            min(c.max_score for c in rubric.criteria),
        )
        self.min_level = w.IntSlider(
            description="pass: every criterion at least",
            min=lowest,
            max=highest,
            value=rule.min_level if rule.min_level is not None else lowest,
            style=style,
        )
        self.use_level = w.Checkbox(
            description="use a level for every criterion", value=rule.min_level is not None
        )
        self.reviewers = w.ToggleButtons(
            description="reviewers", options=[1, 2, 3], value=review.reviewers, style=style
        )
        self.decision_differs = w.Checkbox(
            description="third review when decisions differ", value=trig.decision_differs
        )
        self.criterion_differs_by = w.Dropdown(
            description="... or a criterion differs by",
            options=[("never", None), ("1", 1), ("2", 2), ("3", 3)],
            value=trig.criterion_differs_by,
            style=style,
        )
        self.resolution = w.Dropdown(
            description="resolution",
            options=["majority", "average", "replace_farthest", "expert"],
            value=review.resolution,
            style=style,
        )
        self.read_behind = w.FloatSlider(
            description="read-behind share",
            min=0.0,
            max=0.5,
            step=0.05,
            value=review.read_behind,
            style=style,
        )
        self.outcome = w.HTML()
        self.plot = w.Output()
        controls = [
            self.use_total,
            self.min_total,
            self.use_level,
            self.min_level,
            self.reviewers,
            self.decision_differs,
            self.criterion_differs_by,
            self.resolution,
            self.read_behind,
        ]
        for c in controls:
            c.observe(lambda _change: self.update(), names="value")
        grid = frontier_grid or {
            "reviewers": [1, 2, 3],
            "resolution": ["majority", "average", "expert"],
        }
        self.frontier = (
            sweep(rubric, policy_grid(rubric, grid), reviewers, population, n=n, rng=rng)
            if frontier
            else pd.DataFrame()
        )
        self.widget = w.HBox([w.VBox(controls), w.VBox([self.outcome, self.plot])])
        self.last_update_seconds = float("nan")
        self.current: dict[str, Any] = {}
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def policy(self) -> Policy:
        """The policy the controls describe."""
        return Policy.from_rubric(
            self.rubric,
            min_total=self.min_total.value if self.use_total.value else None,
            min_level=self.min_level.value if self.use_level.value else None,
            reviewers=self.reviewers.value,
            decision_differs=self.decision_differs.value,
            criterion_differs_by=self.criterion_differs_by.value,
            resolution=self.resolution.value,
            read_behind=round(self.read_behind.value, 4),
        )

    def update(self) -> dict[str, Any]:
        """Re-evaluate the policy the controls describe (what every move does)."""
        t = time.perf_counter()
        try:
            policy = self.policy()
            out = evaluate(self.rubric, policy, self.draws).to_dict()
        except ValueError as exc:
            self.outcome.value = (
                f"<p style='color:#c53030'>Not a usable policy: {html.escape(explain(exc))}</p>"
            )
            self.current = {}
            return {}
        self.current = {**policy.describe(), **out}
        self.outcome.value = (
            "<table>"
            + "".join(
                f"<tr><td>{html.escape(label)}</td><td style='text-align:right'><b>{fmt.format(out[key])}</b></td></tr>"
                for label, key, fmt in (
                    ("decision accuracy", "accuracy", "{:.1%}"),
                    ("false pass", "false_pass_rate", "{:.2%}"),
                    ("false not yet", "false_not_yet_rate", "{:.2%}"),
                    ("consistency", "consistency", "{:.1%}"),
                    ("third reviews", "third_review_rate", "{:.1%}"),
                    ("reviews per submission", "reviews_per_submission", "{:.2f}"),
                    ("reviewer minutes per submission", "minutes_per_submission", "{:.0f}"),
                    ("Monte Carlo SE", "mc_se", "{:.3f}"),
                )
            )
            + "</table>"
        )
        self._draw()
        self.last_update_seconds = time.perf_counter() - t
        return self.current

    def _draw(self) -> None:
        import matplotlib.pyplot as plt

        self.plot.clear_output(wait=True)
        with self.plot:
            fig, ax = plt.subplots(figsize=(5, 3.4))
            if len(self.frontier):
                f = self.frontier
                ax.scatter(
                    f["reviews_per_submission"],
                    f["accuracy"],
                    s=14,
                    color="#999",
                    label="policies in the grid",
                )
                front = f[pareto_front(f)].sort_values("reviews_per_submission")
                ax.plot(
                    front["reviews_per_submission"],
                    front["accuracy"],
                    color="#444",
                    lw=1,
                    label="frontier",
                )
            ax.scatter(
                [self.current["reviews_per_submission"]],
                [self.current["accuracy"]],
                s=60,
                color="#dd6b20",
                zorder=3,
                label="this policy",
            )
            ax.set_xlabel("reviews per submission")
            ax.set_ylabel("decision accuracy")
            ax.legend(fontsize=8, loc="lower right")
            fig.tight_layout()
            display(fig)
            plt.close(fig)
