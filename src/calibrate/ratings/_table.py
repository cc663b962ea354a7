"""The canonical long ratings table and the answer key, validated against a rubric.

One row per score: (submission, reviewer, criterion) with optional time, round and kind.
Every statistic in the kit reads this table; converters give the shapes formulas need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from calibrate.ratings._codes import RatingCodes, encode_table
from calibrate.rubric import Rubric

__all__ = ["KINDS", "RATING_COLUMNS", "AnswerKey", "RatingsTable"]

#: Column order of :attr:`RatingsTable.frame`.
RATING_COLUMNS = (
    "submission_id",
    "reviewer_id",
    "criterion_id",
    "score",
    "rated_at",
    "round_id",
    "kind",
)
#: The kinds of submission a rating can be of.
KINDS = ("anchor", "live", "seeded")


def canonical_frame(
    submission_id: Sequence[str] | pd.Series,
    reviewer_id: Sequence[str] | pd.Series,
    criterion_id: Sequence[str] | pd.Series,
    score: Sequence[int] | np.ndarray,
    rubric: Rubric,
    *,
    rated_at: Sequence[object] | pd.Series | None = None,
    round_id: Sequence[str] | pd.Series | None = None,
    kind: Sequence[str] | pd.Series | None = None,
) -> pd.DataFrame:
    """Build a frame with the canonical column dtypes from already-valid columns."""
    n = len(score)
    if rated_at is None:
        times = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    else:
        times = pd.to_datetime(
            pd.Series(rated_at).reset_index(drop=True), utc=True, format="ISO8601"
        ).astype("datetime64[ns, UTC]")

    def cat(values: object, categories: list[str] | None = None) -> pd.Categorical:
        # The contract: ids are categoricals over sorted *object* categories (criteria and
        # kinds in their fixed order), whether the table came from a file or the store, so
        # unit order -- and with it every resampling result -- does not depend on the source.
        if isinstance(values, pd.Categorical):
            cats = values.categories
            if cats.dtype == object and (
                list(cats) == categories if categories is not None else cats.is_monotonic_increasing
            ):
                return values  # already canonical: no copy, no re-factorising
        arr = np.asarray(values, dtype=object)
        if categories is None:
            present = pd.unique(pd.Series(arr).dropna())
            categories = sorted(str(v) for v in present)
        return pd.Categorical(arr, categories=pd.Index(categories, dtype=object))

    frame = pd.DataFrame(
        {
            "submission_id": cat(submission_id),
            "reviewer_id": cat(reviewer_id),
            "criterion_id": cat(criterion_id, list(rubric.criterion_ids)),
            "score": np.asarray(score, dtype=np.int64),
            "rated_at": times,
            "round_id": cat(round_id if round_id is not None else [None] * n),
            "kind": cat(kind if kind is not None else [None] * n, list(KINDS)),
        }
    )
    return frame


@dataclass(frozen=True, eq=False)
class RatingsTable:
    """Validated ratings: one row per (submission, reviewer, criterion[, round]) score.

    Build one with :func:`calibrate.io.read_ratings` (validates a file) or from the
    store. ``frame`` has the columns of :data:`RATING_COLUMNS`:

    ============== =========================== ==========================================
    column         dtype                       meaning
    ============== =========================== ==========================================
    submission_id  category                    the submission (teacher's evidence)
    reviewer_id    category                    the reviewer
    criterion_id   category (rubric order)     the rubric criterion
    score          int64                       the level's score (labels are resolved)
    rated_at       datetime64[ns, UTC]         when it was scored (NaT if unknown)
    round_id       category                    calibration round (NaN: none)
    kind           category anchor/live/seeded what was scored (NaN: not given)
    ============== =========================== ==========================================

    Id categories are sorted text (object dtype); criteria keep the rubric's order and
    kinds the order of :data:`KINDS`. A table from a file and the same table read back
    from the store are equal, categories included.
    """

    frame: pd.DataFrame
    rubric: Rubric
    source: str | None = None
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    # ---- basic views ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return (
            f"RatingsTable({len(self)} ratings, {self.n_submissions} submissions, "
            f"{self.n_reviewers} reviewers, rubric={self.rubric.id!r}"
            + (f", source={self.source!r}" if self.source else "")
            + ")"
        )

    @property
    def n_submissions(self) -> int:
        return int(self.frame["submission_id"].nunique())

    @property
    def n_reviewers(self) -> int:
        return int(self.frame["reviewer_id"].nunique())

    @property
    def rounds(self) -> list[str]:
        return sorted(self.frame["round_id"].dropna().unique().tolist())

    @property
    def latest_round(self) -> str | None:
        """The round rated most recently (latest ``rated_at``); without times, the last
        round in sorted order; None for a table without rounds."""
        rounds = self.rounds
        if not rounds:
            return None
        last = (
            self.frame.dropna(subset=["round_id"])
            .groupby("round_id", observed=True)["rated_at"]
            .max()
        )
        return str(last.idxmax()) if last.notna().any() else rounds[-1]

    def select(
        self,
        *,
        criterion: str | Sequence[str] | None = None,
        round_id: str | Sequence[str] | None = None,
        kind: Literal["anchor", "live", "seeded"] | Sequence[str] | None = None,
    ) -> RatingsTable:
        """A new table with only the rows matching every given filter."""
        mask = np.ones(len(self.frame), dtype=bool)
        for col, want in (("criterion_id", criterion), ("round_id", round_id), ("kind", kind)):
            if want is None:
                continue
            values = [want] if isinstance(want, str) else list(want)
            if col == "criterion_id":
                unknown = [v for v in values if v not in self.rubric.criterion_ids]
                if unknown:
                    raise ValueError(
                        f"criterion must be one of {list(self.rubric.criterion_ids)}; got {unknown}"
                    )
            if col == "kind":
                unknown = [v for v in values if v not in KINDS]
                if unknown:
                    raise ValueError(f"kind must be one of {list(KINDS)}; got {unknown}")
            mask &= self.frame[col].isin(values).to_numpy()
        return RatingsTable(self.frame.loc[mask].reset_index(drop=True), self.rubric, self.source)

    @property
    def codes(self) -> RatingCodes:
        """The table as integer codes (submissions, reviewers, criteria, levels, rounds,
        kinds, times, and the unit and review of each rating), built on first use and
        kept: the one encoding every estimator reads."""
        codes = self._cache.get("codes")
        if codes is None:
            codes = self._cache["codes"] = encode_table(self.frame, self.rubric)
        return codes  # type: ignore[return-value]

    def criterion_codes(self, criterion_id: str) -> RatingCodes:
        """The codes of one criterion's ratings, numbered over the submissions, reviewers
        and rounds that occur in them (as ``codes`` is over the whole table), built on
        first use and kept.

        Cheaper than ``codes`` when only some criteria are wanted: a fresh table encodes
        just these rows.
        """
        key = f"codes:{criterion_id}"
        codes = self._cache.get(key)
        if codes is None:
            position = self.rubric.criterion_ids.index(criterion_id)
            crit = self.frame["criterion_id"]
            if isinstance(crit.dtype, pd.CategoricalDtype) and list(crit.cat.categories) == list(
                self.rubric.criterion_ids
            ):
                rows = np.flatnonzero(np.asarray(crit.array.codes) == position)
            else:
                rows = np.flatnonzero((crit.astype(str) == criterion_id).to_numpy())
            codes = self._cache[key] = encode_table(self.frame, self.rubric, rows)
        return codes  # type: ignore[return-value]

    def to_frame(self) -> pd.DataFrame:
        """A copy of the canonical frame."""
        return self.frame.copy()

    def summary(self) -> dict[str, object]:
        """Counts a program lead checks first: ratings, submissions, reviewers, rounds,
        kinds, per-criterion ratings and mean score, and the time span."""
        f = self.frame
        per_crit = f.groupby("criterion_id", observed=False)["score"].agg(["size", "mean"])
        times = f["rated_at"].dropna()
        return {
            "rubric": {
                "id": self.rubric.id,
                "version": self.rubric.version,
                "title": self.rubric.title,
            },
            "ratings": len(f),
            "submissions": self.n_submissions,
            "reviewers": self.n_reviewers,
            "rounds": self.rounds,
            "kinds": {str(k): int(v) for k, v in f["kind"].value_counts().items() if v},
            "criteria": [
                {
                    "criterion_id": str(c),
                    "ratings": int(r["size"]),
                    "mean_score": float(r["mean"]) if r["size"] else None,
                }
                for c, r in per_crit.iterrows()
            ],
            "first_rated_at": times.min().isoformat() if len(times) else None,
            "last_rated_at": times.max().isoformat() if len(times) else None,
        }

    def reviewer_summary(self) -> pd.DataFrame:
        """One row per reviewer: submissions and ratings by kind, mean score, time span."""
        f = self.frame
        g = f.groupby("reviewer_id", observed=True)
        out = pd.DataFrame(
            {
                "submissions": g["submission_id"].nunique(),
                "ratings": g.size(),
                "mean_score": g["score"].mean(),
                "first_rated_at": g["rated_at"].min(),
                "last_rated_at": g["rated_at"].max(),
            }
        )
        kinds = f.pivot_table(
            index="reviewer_id",
            columns="kind",
            values="score",
            aggfunc="size",
            observed=True,
            fill_value=0,
        )
        out = out.join(kinds.add_prefix("ratings_"), how="left")
        return out.sort_index().reset_index()

    def round_summary(self) -> pd.DataFrame:
        """One row per calibration round: reviewers, anchors, ratings and dates."""
        f = self.frame.dropna(subset=["round_id"])
        g = f.groupby("round_id", observed=True)
        out = pd.DataFrame(
            {
                "reviewers": g["reviewer_id"].nunique(),
                "anchors": g["submission_id"].nunique(),
                "ratings": g.size(),
                "mean_score": g["score"].mean(),
                "first_rated_at": g["rated_at"].min(),
                "last_rated_at": g["rated_at"].max(),
            }
        )
        return out.reset_index()

    # ---- converters ----------------------------------------------------------
    def wide(self) -> pd.DataFrame:
        """One row per (round, submission, reviewer) scoring, one column per criterion.

        Missing criterion scores are NaN. The index is (round_id, submission_id, reviewer_id).
        """
        f = self.frame
        keyed = f.assign(
            round_id=f["round_id"].cat.add_categories([""]).fillna("")
            if f["round_id"].dtype == "category"
            else f["round_id"].fillna("")
        )
        out = keyed.pivot_table(
            index=["round_id", "submission_id", "reviewer_id"],
            columns="criterion_id",
            values="score",
            aggfunc="first",
            observed=True,
        )
        out = out.reindex(columns=list(self.rubric.criterion_ids)).astype(float)
        out.columns.name = None
        return out

    def decisions(self) -> pd.DataFrame:
        """Each reviewer's pass / not yet per submission (and round), from the pass rule.

        Returns the :meth:`wide` table with ``total`` and ``passed`` columns added:
        ``passed`` is 1.0 / 0.0, or NaN when a criterion score is missing.
        """
        w = self.wide()
        return w.assign(total=w.sum(axis=1, min_count=len(w.columns)), passed=self.rubric.decide(w))

    def to_matrix(self, criterion: str | None = None) -> pd.DataFrame:
        """Reviewers x submissions score matrix for one criterion (NaN where unscored).

        This is ``krippendorff.alpha``'s ``reliability_data`` layout. With several
        rounds, use :meth:`select` first: one reviewer scoring one anchor in two rounds
        cannot sit in one cell.
        """
        sub = self._one_criterion(criterion)
        self._check_unique_cells(sub)
        m = sub.pivot(index="reviewer_id", columns="submission_id", values="score")
        return m.astype(float)

    def value_counts(self, criterion: str | None = None) -> pd.DataFrame:
        """Submissions x levels: how many reviewers gave each level (the counts layout).

        Columns are all the criterion's level scores, including unused ones.
        """
        sub = self._one_criterion(criterion)
        crit = (
            self.rubric.criterion(str(sub["criterion_id"].iloc[0]))
            if len(sub)
            else self.rubric.criterion(criterion or self.rubric.criterion_ids[0])
        )
        codes = sub["submission_id"].cat.codes.to_numpy()
        used = np.unique(codes)
        level_index = {s: i for i, s in enumerate(crit.scores)}
        lv = (
            np.fromiter(
                (level_index[s] for s in sub["score"].to_numpy()), dtype=np.int64, count=len(sub)
            )
            if len(sub)
            else np.zeros(0, np.int64)
        )
        remap = np.full(len(sub["submission_id"].cat.categories), -1)
        remap[used] = np.arange(len(used))
        counts = np.zeros((len(used), len(crit.scores)), dtype=np.int64)
        np.add.at(counts, (remap[codes], lv), 1)
        return pd.DataFrame(
            counts,
            index=pd.Index(sub["submission_id"].cat.categories[used], name="submission_id"),
            columns=pd.Index(crit.scores, name="score"),
        )

    def pair_table(
        self, reviewer_a: str, reviewer_b: str, criterion: str | None = None
    ) -> pd.DataFrame:
        """Contingency table of two reviewers' scores on the submissions both scored.

        Rows are ``reviewer_a``'s levels, columns ``reviewer_b``'s, all levels shown.
        """
        sub = self._one_criterion(criterion)
        crit = self.rubric.criterion(str(criterion or self.rubric.criterion_ids[0]))
        for r in (reviewer_a, reviewer_b):
            if r not in set(sub["reviewer_id"].astype(str)):
                raise ValueError(f"reviewer {r!r} has no ratings on criterion {crit.id!r}")
        a = sub.loc[sub["reviewer_id"] == reviewer_a, ["submission_id", "score"]]
        b = sub.loc[sub["reviewer_id"] == reviewer_b, ["submission_id", "score"]]
        both = a.merge(b, on="submission_id", suffixes=("_a", "_b"))
        table = pd.crosstab(
            pd.Categorical(both["score_a"], categories=crit.scores),
            pd.Categorical(both["score_b"], categories=crit.scores),
            dropna=False,
        )
        table.index.name, table.columns.name = reviewer_a, reviewer_b
        return table

    # ---- helpers -------------------------------------------------------------
    def _one_criterion(self, criterion: str | None) -> pd.DataFrame:
        f = self.frame
        if criterion is None:
            present = f["criterion_id"].unique()
            if len(present) > 1:
                raise ValueError(
                    f"the table has {len(present)} criteria; name one with criterion=... (one of {list(self.rubric.criterion_ids)})"
                )
            return f
        if criterion not in self.rubric.criterion_ids:
            raise ValueError(
                f"criterion must be one of {list(self.rubric.criterion_ids)}; got {criterion!r}"
            )
        return f.loc[f["criterion_id"] == criterion]

    @staticmethod
    def _check_unique_cells(sub: pd.DataFrame) -> None:
        dup = sub.duplicated(["reviewer_id", "submission_id"])
        if dup.any():
            raise ValueError(
                f"{int(dup.sum())} (reviewer, submission) cells have more than one score "
                "(the same anchor in several rounds?); select one round first: table.select(round_id=...)"
            )


@dataclass(frozen=True, eq=False)
class AnswerKey:
    """Expert scores of anchor submissions: ``frame`` has submission_id, criterion_id,
    key_score (int64) and rationale (str, may be empty)."""

    frame: pd.DataFrame
    rubric: Rubric
    source: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return f"AnswerKey({self.frame['submission_id'].nunique()} anchors, {len(self)} key scores, rubric={self.rubric.id!r})"

    @property
    def anchors(self) -> list[str]:
        return sorted(self.frame["submission_id"].astype(str).unique().tolist())

    def wide(self) -> pd.DataFrame:
        """Anchors x criteria key scores (NaN where the key gives none)."""
        w = self.frame.pivot(index="submission_id", columns="criterion_id", values="key_score")
        w = w.reindex(columns=list(self.rubric.criterion_ids)).astype(float)
        w.columns.name = None
        return w
