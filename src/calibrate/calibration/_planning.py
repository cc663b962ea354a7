"""Planning a calibration round: the operating characteristic of the qualification rule.

How likely is a reviewer of true per-anchor agreement ``p`` to be qualified by
:func:`qualify` on ``N`` anchors, how often does the rule qualify a weak reviewer or fail
a good one, and how many anchors keep both errors below targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.calibration._qualify import QualificationRule
from calibrate.rubric import Rubric

__all__ = ["QualificationPlan", "qualification_plan", "score_anchors"]


def score_anchors(
    key_levels: np.ndarray,
    p: float | np.ndarray,
    n_levels: np.ndarray,
    rng: np.random.Generator,
    *,
    far_share: float = 0.1,
) -> np.ndarray:
    """Level indices a reviewer of per-score agreement ``p`` gives to anchors whose key
    level indices are ``key_levels`` (``(..., n_criteria)``; ``p`` broadcasts against its
    leading axes): the key's level with probability ``p``; else a miss, two levels away
    with probability ``far_share`` and one level away otherwise, up or down at random,
    turned back inwards at the ends of the scale (a miss two away that fits neither way,
    as from the middle of three levels, is one away)."""
    key = np.asarray(key_levels, dtype=np.int64)
    K = np.broadcast_to(np.asarray(n_levels, dtype=np.int64), key.shape)
    u_hit, u_far, u_dir = rng.random((3, *key.shape))
    p_arr = np.asarray(p, dtype=float).reshape(np.shape(p) + (1,) * (key.ndim - np.ndim(p)))
    miss = u_hit >= p_arr
    step = np.where(u_far < far_share, 2, 1)
    step = np.where((step == 2) & (key + 2 >= K) & (key - 2 < 0), 1, step)
    sign = np.where(u_dir < 0.5, -1, 1)
    sign = np.where(key + sign * step >= K, -1, sign)
    sign = np.where(key + sign * step < 0, 1, sign)
    out = np.where(miss, key + sign * step, key)
    return np.clip(out, 0, K - 1)  # two-level scales: a miss is the other level


@dataclass(frozen=True, eq=False)
class QualificationPlan:
    """The qualification rule's operating characteristic (:func:`qualification_plan`).

    Attributes
    ----------
    curve : DataFrame
        ``p, p_qualified, se``: the probability that a reviewer of true per-score
        agreement ``p`` is qualified on ``n_anchors`` anchors (``se``: its Monte Carlo
        standard error; 0 when computed exactly).
    false_pass, false_pass_se : the chance of qualifying a weak reviewer (``p = weak``).
    false_fail, false_fail_se : the chance of failing a good one (``p = good``).
    anchors_needed : the smallest number of anchors (up to ``max_anchors``) at which
        both chances are within the targets, or None.
    needed_table : DataFrame ``n_anchors, false_pass, false_fail, meets`` for every number
        of anchors tried.
    method : ``"exact"`` (multinomial enumeration) or ``"simulation"``.
    """

    rubric_id: str
    rule: QualificationRule
    n_anchors: int
    weak: float
    good: float
    max_false_pass: float
    max_false_fail: float
    far_share: float
    method: str
    n_sim: int
    curve: pd.DataFrame
    false_pass: float
    false_pass_se: float
    false_fail: float
    false_fail_se: float
    anchors_needed: int | None
    needed_table: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """The ``calibrate plan qualification --format json`` document."""
        return {
            "rubric_id": self.rubric_id,
            "n_anchors": self.n_anchors,
            "rule": self.rule.model_dump(),
            "model": {
                "reviewer": "each score equals the key with probability p; a miss is two "
                "levels away with probability far_share, else one level away",
                "anchors": "key levels independent and uniform over each criterion's levels",
                "far_share": self.far_share,
            },
            "method": self.method,
            "n_sim": self.n_sim if self.method == "simulation" else None,
            "weak": self.weak,
            "good": self.good,
            "false_pass": self.false_pass,
            "false_pass_se": self.false_pass_se,
            "false_fail": self.false_fail,
            "false_fail_se": self.false_fail_se,
            "max_false_pass": self.max_false_pass,
            "max_false_fail": self.max_false_fail,
            "anchors_needed": self.anchors_needed,
            "curve": self.curve.to_dict("records"),
        }


def _check_prob(name: str, v: Any, *, open_low: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"{name} must be a number in [0, 1]; got {v!r}")
    if not (0 < v <= 1 if open_low else 0 <= v <= 1):
        raise ValueError(
            f"{name} must be a number in {'(0, 1]' if open_low else '[0, 1]'}; got {v!r}"
        )
    return float(v)


def qualification_plan(
    rubric: Rubric,
    n_anchors: int,
    *,
    rule: QualificationRule | None = None,
    weak: float = 0.6,
    good: float = 0.9,
    max_false_pass: float = 0.05,
    max_false_fail: float = 0.05,
    far_share: float = 0.1,
    grid: np.ndarray | None = None,
    max_anchors: int = 60,
    method: Literal["auto", "exact", "simulation"] = "auto",
    n_sim: int = 4000,
    rng: np.random.Generator | int | None = None,
) -> QualificationPlan:
    """The operating characteristic of the qualification rule on ``n_anchors`` anchors.

    Parameters
    ----------
    rubric : Rubric
        Whose criteria, levels and pass rule the anchors are scored on.
    n_anchors : int
        Anchors every reviewer scores.
    rule : QualificationRule, optional
        The standard :func:`qualify` applies (default: 70% exact and 95% within one per
        criterion, 90% decisions).
    weak, good : float
        True per-score agreement of a reviewer who should not / should qualify.
    max_false_pass, max_false_fail : float
        Targets: the chance of qualifying the weak reviewer, of failing the good one.
    far_share : float
        Share of a reviewer's misses that are two levels from the key.
    grid : array of float, optional
        Values of ``p`` for the curve (default 0.5, 0.525, ..., 1).
    max_anchors : int
        Largest number of anchors tried for ``anchors_needed``.
    method : {"auto", "exact", "simulation"}
        ``"exact"`` enumerates the per-criterion multinomial counts; it needs the rule
        not to test decisions (``min_decision = 0``), since the pass / not-yet decision
        couples the criteria. ``"auto"``: exact when possible, else simulation.
    n_sim : int
        Simulated reviewers per value of ``p`` (simulation); the standard error of a
        probability ``P`` is ``sqrt(P (1 - P) / n_sim)``.
    rng : Generator or seed

    Notes
    -----
    The model: each (anchor, criterion) key level is uniform over the criterion's
    levels, independently; a reviewer's score equals the key with probability ``p``,
    otherwise it misses as :func:`score_anchors` says. :func:`qualify` then qualifies
    when, on every criterion, ``exact / N >= min_exact`` and ``within_one / N >=
    min_adjacent``, and the decisions (the rubric's pass rule on the reviewer's and on
    the key's scores of an anchor) agree on ``>= min_decision`` of the anchors. Exactly:
    per criterion the counts of (exact, one away, two away) are multinomial ``(N; p,
    (1 - p)(1 - f_c), (1 - p) f_c)`` with ``f_c`` the criterion's share of misses that can
    be two away, and criteria are independent, so ``P = prod_c sum_{counts meeting the
    standards} multinomial``. With the decision standard the criteria are coupled and
    ``P`` is estimated by simulating ``n_sim`` reviewers per ``p`` (common random
    numbers across ``p`` and the number of anchors). Checked in
    ``tests/calibration/test_planning.py`` against :func:`qualify` itself on simulated
    rounds (within 3 Monte Carlo standard errors at several ``p`` and ``N``) and, for the
    exact-agreement standard alone, against scipy's binomial tail.

    Examples
    --------
    >>> from calibrate.rubric import load_rubric
    >>> plan = qualification_plan(load_rubric("rubrics/evidence-4level.yaml"), 12, rng=0)
    >>> plan.method, plan.curve.columns.tolist()
    ('simulation', ['p', 'p_qualified', 'se'])
    >>> bool(plan.false_pass < 0.05)
    True
    """
    if not isinstance(rubric, Rubric):
        raise TypeError(f"rubric must be a calibrate.rubric.Rubric; got {type(rubric).__name__}")
    rule = QualificationRule() if rule is None else rule
    if not isinstance(rule, QualificationRule):
        raise TypeError(
            f"rule must be a calibrate.calibration.QualificationRule; got {type(rule).__name__}"
        )
    for name, v in (("n_anchors", n_anchors), ("max_anchors", max_anchors), ("n_sim", n_sim)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
    weak, good = _check_prob("weak", weak), _check_prob("good", good)
    if weak >= good:
        raise ValueError(f"weak must be below good; got weak={weak}, good={good}")
    max_false_pass = _check_prob("max_false_pass", max_false_pass)
    max_false_fail = _check_prob("max_false_fail", max_false_fail)
    far_share = _check_prob("far_share", far_share)
    if method not in ("auto", "exact", "simulation"):
        raise ValueError(f"method must be 'auto', 'exact' or 'simulation'; got {method!r}")
    if method == "exact" and rule.min_decision > 0:
        raise ValueError(
            "method='exact' needs a rule without the decision standard (min_decision=0): "
            "the pass / not-yet decision couples the criteria; use method='simulation'"
        )
    use = (
        "exact"
        if method == "exact" or (method == "auto" and rule.min_decision == 0)
        else "simulation"
    )
    grid = np.round(np.linspace(0.5, 1.0, 21), 6) if grid is None else np.asarray(grid, float)
    if grid.ndim != 1 or not len(grid) or ((grid < 0) | (grid > 1)).any():
        raise ValueError("grid must be a non-empty 1-d array of probabilities in [0, 1]")
    rng = np.random.default_rng(rng)
    n_levels = np.array([len(c.levels) for c in rubric.criteria], dtype=np.int64)

    if use == "exact":

        def probs(ps: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
            P = np.array([_exact(rubric, rule, float(x), n, far_share) for x in ps])
            return P, np.zeros_like(P)

    else:
        seeds = rng.integers(0, 2**63, size=2)

        def probs(ps: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
            # the same seed for every n and p: common random numbers
            g = np.random.default_rng([int(seeds[0]), n])
            P = _simulated(rubric, rule, ps, n, n_sim, n_levels, far_share, g)
            return P, np.sqrt(P * (1 - P) / n_sim)

    P, se = probs(grid, int(n_anchors))
    curve = pd.DataFrame({"p": grid, "p_qualified": P, "se": se})
    (fp, ff), (fp_se, ff_se) = probs(np.array([weak, good]), int(n_anchors))
    rows, needed = [], None
    for n in range(1, int(max_anchors) + 1):
        (a, b), _ = probs(np.array([weak, good]), n)
        meets = bool(a <= max_false_pass and 1 - b <= max_false_fail)
        rows.append({"n_anchors": n, "false_pass": a, "false_fail": 1 - b, "meets": meets})
        if meets:
            needed = n
            break
    return QualificationPlan(
        rubric_id=rubric.id,
        rule=rule,
        n_anchors=int(n_anchors),
        weak=weak,
        good=good,
        max_false_pass=max_false_pass,
        max_false_fail=max_false_fail,
        far_share=far_share,
        method=use,
        n_sim=int(n_sim),
        curve=curve,
        false_pass=float(fp),
        false_pass_se=float(fp_se),
        false_fail=float(1 - ff),
        false_fail_se=float(ff_se),
        anchors_needed=needed,
        needed_table=pd.DataFrame(rows),
    )


def _far_possible(K: int) -> float:
    """Share of a criterion's levels (uniform) from which a miss can be two levels away."""
    return float(np.mean([(k + 2 < K) or (k - 2 >= 0) for k in range(K)]))


def _exact(rubric: Rubric, rule: QualificationRule, p: float, n: int, far_share: float) -> float:
    """P(qualified) by enumerating each criterion's (exact, one-away) counts."""
    e = np.arange(n + 1)
    total = 1.0
    for c in rubric.criteria:
        f = far_share * _far_possible(len(c.levels))
        p_near = (1 - p) * (1 - f)
        ok_exact = e / n >= rule.min_exact  # the comparison qualify makes on k / n
        pe = stats.binom.pmf(e, n, p)
        # given e exact, the n - e misses split into one-away a ~ Bin(n - e, p_near / (1 - p))
        q = p_near / (1 - p) if p < 1 else 1.0
        prob = 0.0
        for k in e[ok_exact]:
            a = np.arange(n - k + 1)
            ok_adj = (k + a) / n >= rule.min_adjacent
            prob += pe[k] * float(stats.binom.pmf(a[ok_adj], n - k, q).sum())
        total *= prob
    return float(total)


def _simulated(
    rubric: Rubric,
    rule: QualificationRule,
    ps: np.ndarray,
    n: int,
    n_sim: int,
    n_levels: np.ndarray,
    far_share: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """P(qualified) at each ``p``, from ``n_sim`` simulated reviewers on ``n`` anchors
    each (the same key draws and uniforms at every ``p``)."""
    C = len(n_levels)
    key = np.floor(rng.random((n_sim, n, C)) * n_levels).astype(np.int64)
    score_tables = [np.asarray(c.scores, dtype=float) for c in rubric.criteria]

    def as_scores(lv: np.ndarray) -> np.ndarray:
        return np.stack([score_tables[j][lv[..., j]] for j in range(C)], axis=-1)

    key_pass = rubric.decide(as_scores(key).reshape(-1, C)).reshape(n_sim, n)
    state = rng.bit_generator.state
    out = np.empty(len(ps))
    for i, p in enumerate(ps):
        g = np.random.default_rng()
        g.bit_generator.state = state  # the same uniforms at every p
        lv = score_anchors(key, float(p), n_levels, g, far_share=far_share)
        steps = np.abs(lv - key)
        exact = (steps == 0).sum(axis=1) / n  # (n_sim, C)
        within = (steps <= 1).sum(axis=1) / n
        mine = rubric.decide(as_scores(lv).reshape(-1, C)).reshape(n_sim, n)
        dec = (mine == key_pass).sum(axis=1) / n
        ok = (exact >= rule.min_exact).all(axis=1) & (within >= rule.min_adjacent).all(axis=1)
        ok &= dec >= rule.min_decision
        out[i] = ok.mean()
    return out
