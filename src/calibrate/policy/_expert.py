"""The expert adjudicator as a model: fitted on the experts' own key agreement, given as an
accuracy or as reviewer parameters, or (stated, never silent) the best reviewer's."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from calibrate._checks import check_fraction
from calibrate._problems import Problem, RubricError
from calibrate.policy._simulate import ConfusionReviewerModel, ReviewerScorer, _Levels
from calibrate.rubric import Rubric

if TYPE_CHECKING:
    from calibrate.policy._fit import ProgramModel
    from calibrate.ratings import AnswerKey, RatingsTable
    from calibrate.synth import ReviewerModel

__all__ = [
    "ExpertModel",
    "best_reviewer_expert",
    "expert_accuracy",
    "fitted_experts",
    "read_expert_model",
]


@dataclass(frozen=True, eq=False)
class ExpertModel:
    """Who adjudicates (expert resolution, read-behind) and how well, in words.

    Attributes
    ----------
    scorer : the expert's reviewer model (one or more experts; an adjudication is drawn
        from one of them, uniformly), or None for an expert who sees the true levels.
    description : where the model came from, for the recommendation and the JSON's
        ``expert_model`` field ("fitted from 120 expert scores on 30 anchors", "given:
        accuracy 0.95", ...).
    """

    scorer: ReviewerScorer | None
    description: str

    @classmethod
    def perfect(cls) -> ExpertModel:
        """An expert who always gives the true level (an assumption, and said so)."""
        return cls(None, "assumed perfect: the expert always gives the true level")

    @classmethod
    def given(cls, accuracy: float, rubric: Rubric) -> ExpertModel:
        """An expert who gives the true level with probability ``accuracy`` on every
        criterion score and otherwise a level one away (either side with equal
        probability; the only neighbour at the ends of the scale).

        >>> from calibrate.rubric import load_rubric
        >>> e = ExpertModel.given(0.9, load_rubric("rubrics/evidence-4level.yaml"))
        >>> e.description, e.scorer.confusion[0, 0, 1].round(2).tolist()
        ('given: accuracy 0.9', [0.05, 0.9, 0.05, 0.0])
        """
        p = check_fraction("accuracy", accuracy)
        n_levels = [len(c.levels) for c in rubric.criteria]
        kmax = max(n_levels)
        m = np.zeros((1, len(n_levels), kmax, kmax))
        for c, k in enumerate(n_levels):
            m[0, c] = np.eye(kmax)
            for i in range(k):
                near = [j for j in (i - 1, i + 1) if 0 <= j < k]
                if not near:  # a one-level criterion: nothing to miss
                    continue
                m[0, c, i] = 0.0
                m[0, c, i, i] = p
                m[0, c, i, near] = (1 - p) / len(near)
        return cls(ConfusionReviewerModel(m), f"given: accuracy {p:g}")


def _subset(model: ReviewerModel, idx: Sequence[int]) -> ReviewerModel:
    """The reviewers ``idx`` of a reviewer model, as a model of their own."""
    i = np.asarray(idx, dtype=np.int64)
    return dataclasses.replace(
        model,
        reviewer_ids=tuple(model.reviewer_ids[j] for j in i),
        **{
            name: np.asarray(getattr(model, name))[i]
            for name in ("severity", "noise", "central_tendency", "halo", "drift", "onset")
        },
    )


def expert_accuracy(
    scorer: ReviewerScorer | None,
    rubric: Rubric,
    population: np.ndarray,
    *,
    n: int = 20_000,
    rng: np.random.Generator | int | None = 0,
) -> float:
    """The share of an expert's criterion scores that equal the true level, on submissions
    drawn from ``population`` (Monte Carlo over ``n`` submissions; 1 for None)."""
    if scorer is None:
        return 1.0
    rng = np.random.default_rng(rng)
    levels = _Levels(rubric)
    pop = levels.indices(np.asarray(population))
    true = pop[rng.integers(0, len(pop), n)]
    rev = rng.integers(0, scorer.n_reviewers, n)
    return float(np.mean(scorer.score(true, rev, levels.n_levels, rng) == true))


def best_reviewer_expert(
    reviewers: ReviewerModel,
    rubric: Rubric,
    population: np.ndarray,
    *,
    n: int = 20_000,
    rng: np.random.Generator | int | None = 0,
) -> ExpertModel:
    """The default when no expert model is given: an expert as accurate as the most
    accurate reviewer of the model (the share of criterion scores at the true level,
    over ``population``). Cautious, since experts are chosen among good reviewers, and
    stated in the description."""
    acc = [
        expert_accuracy(_subset(reviewers, [r]), rubric, population, n=n, rng=rng)
        for r in range(reviewers.n_reviewers)
    ]
    best = int(np.argmax(acc))
    return ExpertModel(
        _subset(reviewers, [best]),
        f"assumed: as accurate as the best reviewer of the model ({reviewers.reviewer_ids[best]}: "
        f"the true level on {acc[best]:.3f} of criterion scores)",
    )


def fitted_experts(
    fit: ProgramModel, experts: Sequence[str], ratings: RatingsTable, key: AnswerKey
) -> tuple[ExpertModel, ReviewerModel, np.ndarray]:
    """Split a :class:`ProgramModel` fitted on all ratings (experts' included) into the
    experts' model and the other reviewers' (with their workload shares, renormalised).

    The experts' severity, noise, central tendency and halo are fitted with everyone
    else's, by the same maximum likelihood, their keyed anchor scores against the key
    (and their live scores, if any). The description counts the expert scores of keyed
    anchors the fit used.
    """
    ids = list(fit.reviewer_ids_)
    wanted = [str(e) for e in experts]
    unknown = [e for e in wanted if e not in ids]
    if unknown:
        raise ValueError(f"experts not among the reviewers of the ratings: {', '.join(unknown)}")
    if len(set(wanted)) == len(ids):
        raise ValueError("every reviewer is an expert: no reviewers are left to simulate")
    # the scores the fit takes as known truth: of anchors keyed on every criterion, of any
    # kind (seeded anchors included), as ProgramModel encodes them
    f = ratings.frame
    keyed = key.wide().reindex(columns=list(ratings.rubric.criterion_ids)).dropna().index
    ks = f[
        f["reviewer_id"].astype(str).isin(wanted).to_numpy(dtype=bool)
        & f["submission_id"].astype(str).isin(keyed.astype(str)).to_numpy(dtype=bool)
    ]
    missing = [e for e in wanted if e not in set(ks["reviewer_id"].astype(str))]
    if missing:
        raise ValueError(
            f"experts without scores of keyed anchors (their accuracy cannot be fitted): {', '.join(missing)}"
        )
    e_idx = [ids.index(e) for e in dict.fromkeys(wanted)]
    r_idx = [i for i in range(len(ids)) if i not in e_idx]
    shares = np.asarray(fit.shares_, dtype=float)[r_idx]
    shares = shares / shares.sum() if shares.sum() > 0 else np.full(len(r_idx), 1 / len(r_idx))
    live = int(fit.parameters_["live_reviews"].to_numpy()[e_idx].sum())
    description = (
        f"fitted from {len(ks)} expert scores on {ks['submission_id'].nunique()} anchors "
        f"({len(e_idx)} expert{'s' if len(e_idx) > 1 else ''}: {', '.join(ids[i] for i in e_idx)}"
        + (f"; and {live} live reviews" if live else "")
        + ")"
    )
    return (
        ExpertModel(_subset(fit.reviewers_, e_idx), description),
        _subset(fit.reviewers_, r_idx),
        shares,
    )


_EXPERT_FIELDS = ("severity", "noise", "central_tendency", "halo")


def read_expert_model(path: str | Path, rubric: Rubric) -> ExpertModel:
    """An expert model YAML: ``accuracy: 0.95`` (see :meth:`ExpertModel.given`), or the
    reviewer model's parameters on the level-index scale: ``severity`` (levels; positive
    is harsh), ``noise`` (SD in levels) and optionally ``central_tendency`` and ``halo``
    (0 if left out). Errors name the file.

    >>> import tempfile, pathlib
    >>> from calibrate.rubric import load_rubric
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "expert.yaml"
    >>> _ = f.write_text("{severity: 0.1, noise: 0.3}")
    >>> read_expert_model(f, load_rubric("rubrics/evidence-4level.yaml")).description
    'given in expert.yaml: severity 0.1, noise 0.3, central tendency 0, halo 0'
    """
    from calibrate.policy._tune import _read_mapping
    from calibrate.synth import ReviewerModel

    path = Path(path)
    data = _read_mapping(
        path, "an expert model file maps 'accuracy' (or severity, noise, ...) to numbers"
    )
    allowed = ("accuracy", *_EXPERT_FIELDS)
    problems = [
        Problem(f"unknown field {k!r}; allowed: {', '.join(allowed)}", file=str(path))
        for k in data
        if k not in allowed
    ]
    for k, v in data.items():
        if k in allowed and (isinstance(v, bool) or not isinstance(v, int | float)):
            problems.append(Problem(f"{k} must be a number; got {v!r}", file=str(path)))
    if "accuracy" in data and set(data) & set(_EXPERT_FIELDS):
        problems.append(
            Problem("give either accuracy or the reviewer parameters, not both", file=str(path))
        )
    if not problems and "accuracy" in data:
        if not 0 <= data["accuracy"] <= 1:
            problems.append(
                Problem(
                    f"accuracy must be between 0 and 1; got {data['accuracy']!r}", file=str(path)
                )
            )
    elif not problems:
        if "noise" not in data or "severity" not in data:
            problems.append(Problem("severity and noise are both needed", file=str(path)))
        elif data["noise"] < 0 or data.get("halo", 0) < 0:
            problems.append(Problem("noise and halo must be non-negative", file=str(path)))
        elif not 0 <= data.get("central_tendency", 0) < 1:
            problems.append(Problem("central_tendency must be in [0, 1)", file=str(path)))
    if problems:
        raise RubricError(problems)
    if "accuracy" in data:
        given = ExpertModel.given(float(data["accuracy"]), rubric)
        return ExpertModel(given.scorer, f"given in {path.name}: accuracy {data['accuracy']:g}")
    v = {k: float(data.get(k, 0.0)) for k in _EXPERT_FIELDS}
    model = ReviewerModel(
        ("expert",),
        severity=np.array([v["severity"]]),
        noise=np.array([v["noise"]]),
        central_tendency=np.array([v["central_tendency"]]),
        halo=np.array([v["halo"]]),
        drift=np.zeros(1),
        onset=np.full(1, np.iinfo(np.int64).max),
    )
    said = ", ".join(f"{k.replace('_', ' ')} {v[k]:g}" for k in _EXPERT_FIELDS)
    return ExpertModel(model, f"given in {path.name}: {said}")


def _describe_scorer(expert: Any) -> str:
    """``expert_model`` for a bare scorer or None (the library's default: a perfect
    expert, said so)."""
    if isinstance(expert, ExpertModel):
        return expert.description
    if expert is None:
        return ExpertModel.perfect().description
    return f"given: a {type(expert).__name__}"
