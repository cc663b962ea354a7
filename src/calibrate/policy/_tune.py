"""Sweeping policies, the accuracy / cost frontier, and the best policy under constraints."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from joblib import Parallel, delayed

from calibrate._problems import Problem, RubricError
from calibrate.policy._choices import AnchorModels, CutChoice, PolicyChoice
from calibrate.policy._costs import ReviewCosts, add_costs, pareto_front, standard_change
from calibrate.policy._expert import _describe_scorer
from calibrate.policy._policy import Policy, explain
from calibrate.policy._simulate import ReviewerScorer, draw_replications, evaluate
from calibrate.rubric import Rubric

__all__ = [
    "PERTURBATIONS",
    "best_policy",
    "choice_sensitivity",
    "models_from_anchors",
    "pareto_front",
    "policy_grid",
    "population_from_truth",
    "read_grid",
    "read_policy",
    "sweep",
    "tune_cut",
]


def policy_grid(rubric: Rubric, grid: Mapping[str, Sequence[Any]]) -> list[Policy]:
    """Every combination of the listed values (fields as in :meth:`Policy.from_rubric`),
    starting from the rubric's own policy. Combinations the rubric cannot take (a cut
    nobody reaches) are errors, listed all at once.

    >>> from calibrate.rubric import load_rubric
    >>> r = load_rubric("rubrics/discussion-hybrid.yaml")
    >>> len(policy_grid(r, {"min_total": [16, 17, 18], "reviewers": [2, 3]}))
    6
    """
    names = list(grid)
    values = [list(v) if isinstance(v, list | tuple) else [v] for v in grid.values()]
    policies, problems = [], []
    for combo in itertools.product(*values):
        changes = dict(zip(names, combo, strict=True))
        try:
            p = Policy.from_rubric(rubric, **changes)
            p.apply_to(rubric)
        except ValueError as exc:  # pydantic's ValidationError is one
            problems.append(f"{changes}: {explain(exc)}")
            continue
        policies.append(p)
    if problems:
        raise ValueError(
            f"{len(problems)} grid combination(s) cannot be used:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return policies


def _read_mapping(path: Path, what: str) -> dict[Any, Any]:
    """A YAML file holding a non-empty mapping; every failure a problem naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RubricError(
            [
                Problem(
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    file=str(path),
                    line=mark.line + 1 if mark else None,
                )
            ]
        ) from None
    if not isinstance(data, dict) or not data:
        raise RubricError([Problem(what, file=str(path))])
    return data


def read_grid(path: str | Path) -> dict[str, list[Any]]:
    """A grid YAML: a mapping of policy field -> list of values (``null`` for off).

    ``min_total: [16, 17, 18]`` / ``reviewers: [2, 3]`` / ``resolution: [majority, average]``
    """
    data = _read_mapping(
        Path(path), "a grid file maps policy fields to lists of values, e.g. 'reviewers: [2, 3]'"
    )
    return {str(k): (v if isinstance(v, list) else [v]) for k, v in data.items()}


def read_policy(path: str | Path, rubric: Rubric) -> Policy:
    """A policy YAML: the rubric's own policy with the fields the file sets changed (the
    fields of :meth:`Policy.from_rubric`, e.g. ``reviewers: 2``, ``resolution: average``,
    ``total_differs_by: 2``; ``null`` for off). A field the policy does not have, or a value
    it cannot take, is an error naming the file.

    >>> import tempfile, pathlib
    >>> from calibrate.rubric import load_rubric
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "policy.yaml"
    >>> _ = f.write_text("{resolution: average, criterion_differs_by: 2}")
    >>> p = read_policy(f, load_rubric("rubrics/evidence-4level.yaml"))
    >>> p.review.resolution, p.review.third_review.criterion_differs_by
    ('average', 2)
    """
    path = Path(path)
    data = _read_mapping(
        path, "a policy file maps policy fields to values, e.g. 'resolution: average'"
    )
    try:
        policy = Policy.from_rubric(rubric, **{str(k): v for k, v in data.items()})
        policy.apply_to(rubric)
    except ValueError as exc:  # pydantic's ValidationError is one
        raise RubricError([Problem(f"bad policy: {explain(exc)}", file=str(path))]) from None
    return policy


def population_from_truth(truth: Mapping[str, Any]) -> np.ndarray:
    """True level scores of the live submissions of a synthetic program's ``truth.json``
    (anchors, chosen to spread over the levels, are left out)."""
    anchors = set(truth.get("seeded_anchors", []))
    for r in truth.get("rounds", {}).values():
        anchors |= set(r.get("anchors", []))
    rows = [v for k, v in truth["true_levels"].items() if k not in anchors]
    return np.array(rows)


def sweep(
    rubric: Rubric,
    policies: Sequence[Policy],
    reviewers: ReviewerScorer,
    population: np.ndarray,
    *,
    n: int = 10_000,
    rng: np.random.Generator | int | None = None,
    n_jobs: int = 1,
    shares: Sequence[float] | np.ndarray | None = None,
    expert: Any = None,
    costs: ReviewCosts | None = None,
) -> pd.DataFrame:
    """Simulate every policy; one row per policy with its fields and outcomes.

    The submissions and their reviews are drawn once and every policy is evaluated on
    the same draws (common random numbers), so differences between policies are not
    blurred by different draws, and a sweep costs one simulation plus cheap decisions. ``n_jobs`` runs
    policies in parallel through joblib (a Dask cluster can take them through joblib's
    ``dask`` backend: ``with joblib.parallel_backend("dask"): sweep(...)``). ``shares``:
    reviewers' workload shares (see :func:`simulate`); None draws them uniformly.

    ``expert``: the adjudicator (expert resolution, read-behind), an :class:`ExpertModel`
    or a reviewer model; None assumes a perfect one. Every row says which in
    ``expert_model``. ``costs``: the money of one review (:class:`ReviewCosts`); given, the
    rows gain ``cost_per_submission`` and ``pareto_cost`` (:func:`add_costs`). Every row
    has ``changes_standard``: whether its pass rule differs from the rubric's (then
    ``standard_change`` says how), since such a policy changes what passes, not only how
    it is reviewed.
    """
    draws = draw_replications(
        rubric, reviewers, population, n=n, rng=rng, shares=shares, expert=expert
    )
    if n_jobs == 1:
        outcomes = [evaluate(rubric, p, draws) for p in policies]
    else:
        outcomes = Parallel(n_jobs=n_jobs)(delayed(evaluate)(rubric, p, draws) for p in policies)
    said = _describe_scorer(expert)
    rows = []
    for i, (p, o) in enumerate(zip(policies, outcomes, strict=True)):
        change = standard_change(p.pass_rule, rubric.pass_rule)
        rows.append(
            {
                "policy": i,
                **p.describe(),
                **o.to_dict(),
                "changes_standard": change is not None,
                "standard_change": change,
                "expert_model": said,
            }
        )
    table = pd.DataFrame(rows)
    table["pareto"] = pareto_front(table)
    return table if costs is None else add_costs(table, costs)


def best_policy(
    table: pd.DataFrame,
    *,
    max_false_pass: float | None = None,
    max_false_not_yet: float | None = None,
    max_third_review: float | None = None,
    max_reviews: float | None = None,
    max_cost: float | None = None,
) -> PolicyChoice:
    """The most accurate policy meeting every constraint (cheapest among near-ties within
    one Monte Carlo standard error), and a sentence saying why or why none qualifies.

    "Cheapest" is in money when the table has ``cost_per_submission`` (a sweep with
    ``costs``), in reviews otherwise; ``max_cost`` (money per submission) needs the money.
    The sentence gives the cost in reviews and money, the expert model a policy relying
    on an expert adjudicator was simulated with (``expert_model``), and says when the
    policy's pass rule is not the rubric's (``changes_standard``).
    """
    money = "cost_per_submission" in table.columns
    if max_cost is not None and not money:
        raise ValueError(
            "max_cost needs the money cost per submission: sweep(..., costs=ReviewCosts(reviewer=..., expert=...))"
        )
    ok = np.ones(len(table), dtype=bool)
    said = []
    for col, limit, what in (
        ("false_pass_rate", max_false_pass, "false pass"),
        ("false_not_yet_rate", max_false_not_yet, "false not-yet"),
        ("third_review_rate", max_third_review, "third reviews"),
        ("reviews_per_submission", max_reviews, "reviews per submission"),
        ("cost_per_submission", max_cost, "cost per submission"),
    ):
        if limit is not None:
            ok &= table[col].to_numpy() <= limit
            said.append(f"{what} <= {limit:g}")
    if not ok.any():
        return PolicyChoice(
            None,
            "no policy in the grid meets "
            + " and ".join(said)
            + "; widen the grid or relax a constraint",
        )
    cand = table[ok]
    top = cand["accuracy"].max()
    near = cand[cand["accuracy"] >= top - cand["mc_se"].max()]
    cheap = (
        ["cost_per_submission", "reviews_per_submission"] if money else ["reviews_per_submission"]
    )
    pick = near.sort_values([*cheap, "accuracy"], ascending=[True] * len(cheap) + [False]).iloc[0]
    label = f"{int(pick['reviewers'])} reviewer{'s' if pick['reviewers'] > 1 else ''}, {str(pick['resolution']).replace('_', ' ')}"
    if pick.get("min_total") is not None and not pd.isna(pick.get("min_total")):
        label += f", total >= {pick['min_total']:g}"
    if pick.get("min_level") is not None and not pd.isna(pick.get("min_level")):
        label += f", every criterion >= {pick['min_level']:g}"
    expert_used = pick["resolution"] == "expert" or float(pick.get("read_behind") or 0) > 0
    if not expert_used:
        expert_said = ""
    elif "expert_model" in pick.index:
        expert_said = f"; it relies on an expert adjudicator (expert model: {pick['expert_model']})"
    else:
        expert_said = "; it relies on an expert adjudicator, simulated as always right unless an expert model is given"
    why = (
        f"policy {int(pick['policy'])} ({label}): accuracy {pick['accuracy']:.3f} at {pick['reviews_per_submission']:.2f} reviews per submission"
        + (f" ({pick['cost_per_submission']:.2f} per submission in money)" if money else "")
        + (f", meeting {' and '.join(said)}" if said else "")
        + (
            f"; the cheapest of {len(near)} policies within one Monte Carlo SE of the best accuracy"
            if len(near) > 1
            else ""
        )
        + expert_said
        + (
            f"; it changes the standard (pass rule {pick['standard_change']}), not only the review procedure"
            if bool(pick.get("changes_standard", False))
            else ""
        )
    )
    return PolicyChoice(pick, why)


def models_from_anchors(ratings: Any, key: Any) -> AnchorModels:
    """A reviewer model and a population estimated from anchor ratings and their key.

    Each reviewer's severity is minus their mean deviation from the key and their noise
    the SD of that deviation (in levels; at least 0.2); central tendency and halo are not
    estimated. The population is the live submissions' median level per criterion (the
    key's levels when there are no live ratings). A moment estimate for when no fitted
    severity model is at hand.
    """
    from calibrate.calibration import keyed_scores
    from calibrate.synth import ReviewerModel

    ks = keyed_scores(ratings, key)
    if ks.empty:
        raise ValueError(
            "no anchor ratings match the key: a reviewer model needs reviewers' scores of keyed anchors"
        )
    g = ks.groupby("reviewer_id")["steps"]
    ids = tuple(str(r) for r in g.mean().index)
    severity = -g.mean().to_numpy(dtype=float)
    noise = np.maximum(g.std(ddof=1).fillna(0.0).to_numpy(dtype=float), 0.2)
    z = np.zeros(len(ids))
    model = ReviewerModel(ids, severity, noise, z, z, z, np.full(len(ids), np.iinfo(np.int64).max))
    f = ratings.frame
    live = f[f["kind"] == "live"] if f["kind"].notna().any() else f.iloc[0:0]
    if len(live):
        med = (
            live.groupby(["submission_id", "criterion_id"], observed=True)["score"]
            .median()
            .unstack()
        )
        med = med.reindex(columns=list(ratings.rubric.criterion_ids)).dropna()
        crit_scores = [np.asarray(c.scores) for c in ratings.rubric.criteria]
        population = np.column_stack(
            [
                s[np.abs(s[None, :] - med[c.id].to_numpy()[:, None]).argmin(axis=1)]
                for s, c in zip(crit_scores, ratings.rubric.criteria, strict=True)
            ]
        )
    else:
        population = key.wide().dropna().to_numpy()
    return AnchorModels(model, population)


#: Reviewer-model perturbations for :func:`choice_sensitivity`: name -> (noise factor,
#: severity spread factor, severity shift in levels).
PERTURBATIONS: dict[str, tuple[float, float, float]] = {
    "noisier reviewers (noise x 1.25)": (1.25, 1.0, 0.0),
    "steadier reviewers (noise x 0.8)": (0.8, 1.0, 0.0),
    "wider severity spread (x 1.5)": (1.0, 1.5, 0.0),
    "group 0.25 level harsher": (1.0, 1.0, 0.25),
    "group 0.25 level more lenient": (1.0, 1.0, -0.25),
}


def choice_sensitivity(
    rubric: Rubric,
    policies: Sequence[Policy],
    reviewers: Any,
    population: np.ndarray,
    *,
    n: int = 10_000,
    rng: int | None = 0,
    perturbations: Mapping[str, tuple[float, float, float]] | None = None,
    **constraints: float | None,
) -> pd.DataFrame:
    """How the best policy under ``constraints`` (those of :func:`best_policy`) changes when
    the reviewer model is off: noisier or steadier reviewers, a wider severity spread, the
    whole group harsher or more lenient.

    Returns one row per scenario (the first is the model as given): the policy picked, whether it
    is the baseline's pick, and the baseline pick's accuracy and false pass rate under
    that scenario.
    """
    import dataclasses

    from calibrate.synth import ReviewerModel

    if not isinstance(reviewers, ReviewerModel):
        raise TypeError(
            f"reviewers must be a calibrate.synth.ReviewerModel to perturb; got {type(reviewers).__name__}"
        )
    scenarios = {"as estimated": (1.0, 1.0, 0.0), **(perturbations or PERTURBATIONS)}
    rows, base_pick = [], None
    for name, (noise_f, spread_f, shift) in scenarios.items():
        mean = reviewers.severity.mean()
        model = dataclasses.replace(
            reviewers,
            noise=reviewers.noise * noise_f,
            severity=mean + spread_f * (reviewers.severity - mean) + shift,
        )
        table = sweep(rubric, policies, model, population, n=n, rng=rng)
        pick, _ = best_policy(table, **constraints)
        if base_pick is None:
            base_pick = None if pick is None else int(pick["policy"])
        base_row = table[table["policy"] == base_pick].iloc[0] if base_pick is not None else None
        rows.append(
            {
                "scenario": name,
                "picked": None if pick is None else int(pick["policy"]),
                "same_as_baseline": pick is not None and int(pick["policy"]) == base_pick,
                "baseline_accuracy": None if base_row is None else float(base_row["accuracy"]),
                "baseline_false_pass_rate": None
                if base_row is None
                else float(base_row["false_pass_rate"]),
            }
        )
    return pd.DataFrame(rows)


def tune_cut(ratings: Any, key: Any, *, max_false_pass: float | None = None) -> CutChoice:
    """Tune a compensatory cut on anchors with keys, ROC-style (scikit-learn's ``roc_curve``).

    Each reviewer's total on each fully scored anchor is a score; the key's decision
    under the rubric's pass rule is the truth. For every candidate cut the table gives the
    share of truly passing anchors passed (``true_pass_rate``) and of truly not-yet
    anchors passed (``false_pass_rate``, among not-yet anchors), and Youden's J. The
    recommendation is the cut with the highest J, or with ``max_false_pass`` the most
    passing cut whose false pass rate stays within it.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    from calibrate.calibration import keyed_scores

    rubric = ratings.rubric
    ks = keyed_scores(ratings, key)
    ks = ks.assign(
        round_id=ks["round_id"].astype(object).fillna("")
    )  # no round is a round too (pivots drop NaN keys)
    wide = ks.pivot_table(
        index=["reviewer_id", "submission_id", "round_id"],
        columns="criterion_id",
        values="score",
        aggfunc="first",
        observed=True,
    )
    wide = wide.reindex(columns=list(rubric.criterion_ids)).dropna()
    if wide.empty:
        raise ValueError(
            "no keyed anchor was scored on every criterion: a cut needs reviewers' totals"
        )
    key_wide = key.wide()
    key_wide.index = key_wide.index.astype(str)
    truth = (
        rubric.decide(
            key_wide.loc[wide.index.get_level_values("submission_id")].to_numpy(dtype=float)
        )
        == 1
    )
    totals = wide.to_numpy(dtype=float).sum(axis=1)
    if truth.all() or not truth.any():
        raise ValueError(
            "the keyed anchors are all on one side of the pass line: a cut cannot be tuned (add anchors on both sides)"
        )
    fpr, tpr, thresholds = roc_curve(truth, totals)
    table = pd.DataFrame(
        {"cut": thresholds, "true_pass_rate": tpr, "false_pass_rate": fpr, "youden_j": tpr - fpr}
    )
    table = table[np.isfinite(table["cut"])].reset_index(drop=True)
    auc = float(roc_auc_score(truth, totals))
    if max_false_pass is None:
        best = table.loc[table["youden_j"].idxmax()]
        why = f"cut {best['cut']:g} maximises Youden's J ({best['youden_j']:.2f})"
    else:
        ok = table[table["false_pass_rate"] <= max_false_pass]
        if ok.empty:
            return CutChoice(
                table,
                f"no cut keeps the false pass rate within {max_false_pass:g} on these anchors",
            )
        best = ok.loc[ok["true_pass_rate"].idxmax()]
        why = f"cut {best['cut']:g} passes {best['true_pass_rate']:.0%} of passing anchors with false pass {best['false_pass_rate']:.0%} (limit {max_false_pass:g})"
    return CutChoice(table, f"{why}; AUC {auc:.3f} over {len(totals)} anchor scorings")
