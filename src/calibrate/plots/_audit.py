"""Rubric-audit plots: where score variance comes from, how many reviewers a rubric needs,
how the levels are used and how the criteria hang together."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from calibrate.plots._axes import axes_for, finish

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from calibrate.audit import CriterionStructure, DStudyResult, GStudyResult, LevelUse

__all__ = [
    "plot_criterion_correlations",
    "plot_d_study",
    "plot_level_use",
    "plot_variance_components",
]


def plot_variance_components(gstudy: GStudyResult, *, ax: Axes | None = None) -> Figure:
    """Horizontal bars: each component's share of score variance, with its interval.

    The submission bar is what the scores should measure; every other bar is error of
    some kind (reviewer severity, criterion difficulty, interactions, noise).
    """
    import matplotlib.pyplot as plt

    frame = gstudy.to_frame()
    total = float(np.clip(frame["variance"], 0, None).sum())
    y = np.arange(len(frame))[::-1]
    fig, ax, own = axes_for(ax, figsize=(7, 0.45 * len(frame) + 1.2))
    colours = ["#2b6cb0" if f == gstudy.target else "#a0aec0" for f in frame["facet"]]
    ax.barh(y, frame["share"], color=colours)
    if total > 0 and frame["ci_low"].notna().all():
        lo = np.clip(frame["ci_low"], 0, None) / total
        hi = np.clip(frame["ci_high"], 0, None) / total
        ax.errorbar(
            frame["share"],
            y,
            xerr=[np.clip(frame["share"] - lo, 0, None), np.clip(hi - frame["share"], 0, None)],
            fmt="none",
            ecolor="#333",
            capsize=3,
            lw=1,
        )
    ax.set_yticks(y, frame["facet"])
    ax.set_xlabel("share of score variance")
    ax.set_title(f"Variance components ({gstudy.design})")
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    return finish(fig, own)


def plot_d_study(
    dstudy: DStudyResult,
    *,
    target: float = 0.80,
    n_criteria: int | None = None,
    ax: Axes | None = None,
) -> Figure:
    """E rho^2 and Phi against the number of reviewers, with interval bands and the target."""

    t = dstudy.table
    if n_criteria is None and "n_criteria" in t:
        n_criteria = int(t["n_criteria"].max())
    if n_criteria is not None and "n_criteria" in t:
        t = t[t["n_criteria"] == n_criteria]
    fig, ax, own = axes_for(ax, figsize=(6.5, 4))
    for col, label, colour in (
        ("g_absolute", "Phi (absolute)", "#2b6cb0"),
        ("g_relative", "E rho^2 (relative)", "#dd6b20"),
    ):
        ax.plot(t["n_reviewers"], t[col], marker="o", color=colour, label=label)
        if t[f"{col}_low"].notna().all():
            ax.fill_between(
                t["n_reviewers"], t[f"{col}_low"], t[f"{col}_high"], color=colour, alpha=0.15
            )
    ax.axhline(target, color="#444", ls="--", lw=1, label=f"target {target:.2f}")
    ax.set_xlabel("reviewers per submission")
    ax.set_ylabel("coefficient")
    ax.set_ylim(0, 1)
    ax.set_xticks(t["n_reviewers"].unique())
    ax.set_title("D-study" + (f" ({n_criteria} criteria)" if n_criteria else ""))
    ax.legend(loc="lower right")
    return finish(fig, own)


def plot_level_use(use: LevelUse, *, ax: Axes | None = None) -> Figure:
    """Heatmap of the share of scores at each level of each criterion; unused levels marked."""

    lv = use.levels
    crits = list(dict.fromkeys(lv["criterion_id"]))
    scores = sorted(lv["score"].unique())
    grid = np.full((len(crits), len(scores)), np.nan)
    for r in lv.itertuples():
        grid[crits.index(r.criterion_id), scores.index(r.score)] = r.share
    fig, ax, own = axes_for(ax, figsize=(1.1 * len(scores) + 3, 0.45 * len(crits) + 1.5))
    im = ax.imshow(
        grid,
        cmap="Blues",
        vmin=0,
        vmax=max(0.5, float(np.nanmax(grid)) if np.isfinite(grid).any() else 1),
    )
    for i in range(len(crits)):
        for j in range(len(scores)):
            v = grid[i, j]
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    "unused" if v == 0 else f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="#c53030" if v == 0 else "#111",
                )
    ax.set_xticks(range(len(scores)), [str(s) for s in scores])
    ax.set_yticks(range(len(crits)), crits)
    ax.set_xlabel("level")
    ax.set_title("Level use (share of each criterion's scores)")
    fig.colorbar(im, ax=ax, fraction=0.04)
    return finish(fig, own)


def plot_criterion_correlations(
    structure: CriterionStructure, *, over: str = "scorings", ax: Axes | None = None
) -> Figure:
    """Heatmap of correlations between criteria, over scorings or submission means."""

    if over not in ("scorings", "submissions"):
        raise ValueError(f"over must be one of 'scorings', 'submissions'; got {over!r}")
    c = structure.correlations if over == "scorings" else structure.submission_correlations
    fig, ax, own = axes_for(ax, figsize=(0.7 * len(c) + 2.5, 0.6 * len(c) + 1.5))
    im = ax.imshow(c.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    for i in range(len(c)):
        for j in range(len(c)):
            v = c.iat[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(c)), c.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(c)), c.index)
    ax.set_title(f"Correlations between criteria (over {over})")
    fig.colorbar(im, ax=ax, fraction=0.04)
    return finish(fig, own)
