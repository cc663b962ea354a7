"""Reviewers as a generative model: how each one turns a true level into a score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ReviewerModel"]

_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class ReviewerModel:
    """Each reviewer's severity, noise, central tendency, halo and drift, on the rubric's
    level-index scale (0 = lowest level; one step = one level).

    A reviewer ``r`` scoring a submission whose true level indices are ``true`` reports
    ``true - (severity_r(t) - h) + e``, pulled toward the middle level by its central
    tendency, rounded and clipped to the levels, where ``h ~ N(0, halo_r)`` is shared by
    all criteria of the submission, ``e ~ N(0, noise_r)`` per criterion, and
    ``severity_r(t)`` gains ``drift_r`` from time ``onset_r`` on. This is the model the
    synthetic generator draws programs from and the policy simulator draws reviews from.
    """

    reviewer_ids: tuple[str, ...]
    severity: np.ndarray
    noise: np.ndarray
    central_tendency: np.ndarray
    halo: np.ndarray
    drift: np.ndarray
    onset: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.reviewer_ids)
        for name in ("severity", "noise", "central_tendency", "halo", "drift", "onset"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (n,):
                raise ValueError(
                    f"{name} must have one value per reviewer (shape ({n},)); got shape {arr.shape}"
                )
        if n < 1:
            raise ValueError("a reviewer model needs at least one reviewer")

    @property
    def n_reviewers(self) -> int:
        return len(self.reviewer_ids)

    @classmethod
    def from_truth(cls, reviewers: Mapping[str, Mapping[str, Any]]) -> ReviewerModel:
        """From ``truth.json``'s ``reviewers`` (steady state: drift is not applied)."""
        ids = tuple(sorted(reviewers))
        get = lambda key: np.array([float(reviewers[r][key]) for r in ids])  # noqa: E731
        return cls(
            ids,
            get("severity"),
            get("noise_sd"),
            get("central_tendency"),
            get("halo_sd"),
            np.zeros(len(ids)),
            np.full(len(ids), _NEVER),
        )

    @classmethod
    def perfect(cls, n_reviewers: int) -> ReviewerModel:
        """Reviewers who always give the true level."""
        z = np.zeros(n_reviewers)
        return cls(
            tuple(f"R{i + 1:03d}" for i in range(n_reviewers)),
            z,
            z,
            z,
            z,
            z,
            np.full(n_reviewers, _NEVER),
        )

    def score(
        self,
        true: np.ndarray,
        rev: np.ndarray,
        n_levels: Sequence[int] | np.ndarray,
        rng: np.random.Generator,
        t: np.ndarray | None = None,
        extra: np.ndarray | None = None,
    ) -> np.ndarray:
        """Level indices reviewers ``rev`` give to submissions with true level indices
        ``true`` (shape (m, n_criteria)) at times ``t`` (None: before any drift);
        ``extra`` adds to each scoring's severity (e.g. a planted reviewer x group bias)."""
        k = np.asarray(n_levels)
        mid, top = (k - 1) / 2, k - 1
        m = len(rev)
        severity = (
            self.severity[rev]
            if t is None
            else self.severity[rev] + np.where(t >= self.onset[rev], self.drift[rev], 0.0)
        )
        if extra is not None:
            severity = severity + extra
        halo = self.halo[rev] * rng.standard_normal(m)
        noise = self.noise[rev][:, None] * rng.standard_normal((m, true.shape[1]))
        x = true - (severity - halo)[:, None] + noise
        x = mid + (1.0 - self.central_tendency[rev])[:, None] * (x - mid)
        return np.clip(np.rint(x), 0, top).astype(np.int64)
