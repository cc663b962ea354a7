"""The named results of the tuning helpers: a policy choice, a cut choice, fitted models."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from calibrate.policy._simulate import ReviewerScorer

__all__ = ["AnchorModels", "CutChoice", "PolicyChoice", "ProgramModels"]


class _Unpacks:
    """Unpacks into its fields in order (``pick, why = best_policy(...)`` keeps working)."""

    def __iter__(self) -> Iterator[Any]:
        return iter(getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class PolicyChoice(_Unpacks):
    """The recommended policy of a sweep (:func:`best_policy`).

    Attributes
    ----------
    policy : the table row of the policy picked, or None when no policy meets the
        constraints.
    why : a sentence saying why it was picked, or why none qualifies.
    """

    policy: pd.Series | None
    why: str

    @property
    def found(self) -> bool:
        return self.policy is not None


@dataclass(frozen=True, eq=False)
class CutChoice(_Unpacks):
    """A compensatory cut tuned on keyed anchors (:func:`tune_cut`).

    Attributes
    ----------
    table : every candidate cut with its true and false pass rates and Youden's J.
    why : the recommendation in a sentence (the cut, its rates, the AUC), or why no cut
        meets the limit.
    """

    table: pd.DataFrame
    why: str


@dataclass(frozen=True, eq=False)
class AnchorModels(_Unpacks):
    """What the simulator takes, estimated from anchor scores (:func:`models_from_anchors`).

    Attributes
    ----------
    reviewers : the reviewer model (severity and noise per reviewer).
    population : the true levels of the simulated submissions (rows) per criterion.
    """

    reviewers: ReviewerScorer
    population: np.ndarray


@dataclass(frozen=True, eq=False)
class ProgramModels(_Unpacks):
    """What the simulator takes, fitted on a program's ratings (:func:`fit_program_model`).

    Attributes
    ----------
    reviewers : the fitted reviewer model.
    population : true levels drawn from the fitted population (rows x criteria).
    shares : each reviewer's share of the workload.
    """

    reviewers: ReviewerScorer
    population: np.ndarray
    shares: np.ndarray
