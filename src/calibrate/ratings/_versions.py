"""Ratings scored under several versions of a rubric, read under the newest one.

A revised rubric's ``replaces`` (see :class:`calibrate.rubric.Replaces`) says how the
ratings of the version it revises read under it. :func:`combine_versions` follows that
chain (1.0 -> 1.1 -> 2.0) from every older version to the newest and gives one table
under the newest rubric that keeps, per row, the ``rubric_version`` it was scored under.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate._problems import Problem, RatingsError, RubricError
from calibrate.ratings._table import RatingsTable, canonical_frame
from calibrate.rubric import Revision, Rubric, revision_maps

__all__ = ["VERSION_COLUMN", "VersionedRatings", "combine_versions"]

#: The column of a combined table (and of ``calibrate export``) naming each row's version.
VERSION_COLUMN = "rubric_version"


@dataclass(frozen=True, eq=False)
class VersionedRatings:
    """Ratings of several rubric versions, the carried-over criteria under the newest one.

    Attributes
    ----------
    ratings : RatingsTable
        Under the newest rubric: every rating of a criterion carried over to it, renamed
        and rescored through the ``replaces`` chain, and its frame's extra column
        ``rubric_version`` (categorical, versions oldest first) keeping the version each
        was scored under. Severity, drift and reliability read it as any table.
    versions : tuple of str
        The versions, oldest first.
    tables : dict of str to RatingsTable
        Each version's own ratings under its own rubric (where the criteria that were not
        carried over are analysed).
    revisions : tuple of Revision
        The checked steps of the chain, oldest first.
    dropped : DataFrame
        ``rubric_version, criterion_id, reason, ratings``: the old criteria left out of
        ``ratings`` (reason ``changed in V`` or ``retired in V``, V the version that
        changed or retired it) with how many ratings each had.
    """

    ratings: RatingsTable
    versions: tuple[str, ...]
    tables: dict[str, RatingsTable]
    revisions: tuple[Revision, ...]
    dropped: pd.DataFrame

    @property
    def newest(self) -> Rubric:
        return self.ratings.rubric

    def notes(self) -> list[str]:
        """One sentence per criterion left out of the combined table."""
        return [
            f"criterion {r.criterion_id!r} of version {r.rubric_version} ({r.ratings} ratings) "
            f"was {r.reason}: analysed within version {r.rubric_version} only"
            for r in self.dropped.itertuples()
        ]


def _chain(rubrics: dict[str, Rubric]) -> tuple[list[str], list[Problem]]:
    """The versions oldest first along the ``replaces`` chain ending at the newest."""
    named = {r.replaces.version for r in rubrics.values() if r.replaces is not None}
    tips = [v for v in rubrics if v not in named]
    if len(tips) != 1:
        what = (
            f"versions {', '.join(tips)} are each replaced by none of the others"
            if tips
            else "every version is replaced by another (a cycle)"
        )
        return [], [
            Problem(
                f"the rubric versions given do not form one revision chain: {what}; the newest "
                "version's replaces must lead, step by step, to every older one",
                field="replaces.version",
            )
        ]
    order = [tips[0]]
    while True:
        rep = rubrics[order[-1]].replaces
        if rep is None or rep.version not in rubrics or rep.version in order:
            break
        order.append(rep.version)
    left = [v for v in rubrics if v not in order]
    if left:
        steps = " -> ".join(reversed(order))
        return [], [
            Problem(
                f"versions {', '.join(left)} are not on the revision chain {steps} (each "
                "version's replaces names the one it revises)",
                field="replaces.version",
            )
        ]
    return order[::-1], []


def combine_versions(tables: Sequence[RatingsTable]) -> VersionedRatings:
    """One table under the newest rubric from ratings scored under several versions.

    Parameters
    ----------
    tables : sequence of RatingsTable
        One table per version of one rubric, each under its own version (any order).
        The newest version's ``replaces`` must lead through the others (1.0 -> 1.1 ->
        2.0); a single table is returned as it is, with its version in the column.

    Returns
    -------
    VersionedRatings
        ``ratings``: each old rating of a criterion carried over along the whole chain,
        under its newest id and score; criteria changed (``replaces.criteria`` maps them
        to null) or retired on the way are left out of it, listed in ``dropped``, and
        analysed within their version (``tables``). Criteria new in a version have no
        ratings from the versions before it.

    Raises
    ------
    RubricError
        The versions do not form one chain, or a step's ``replaces`` does not fit the
        version it revises (every problem of every step at once).
    RatingsError
        The same (submission, reviewer, criterion, round) was rated under two versions.

    >>> from calibrate.io import read_program
    >>> from calibrate.ratings import combine_versions
    >>> table = read_program("data/synthetic/pilot").ratings
    >>> combined = combine_versions([table])
    >>> combined.versions, combined.ratings.frame["rubric_version"].unique().tolist()
    (('1.0',), ['1.0'])
    """
    tables = list(tables)
    if not tables:
        raise ValueError("tables must hold at least one RatingsTable; got none")
    for i, t in enumerate(tables):
        if not isinstance(t, RatingsTable):
            raise TypeError(f"tables[{i}] must be a RatingsTable; got {type(t).__name__}")
    ids = sorted({t.rubric.id for t in tables})
    if len(ids) > 1:
        raise ValueError(f"tables must all be of one rubric; got rubrics {ids}")
    by_version: dict[str, RatingsTable] = {}
    for t in tables:
        v = t.rubric.version
        if v in by_version:
            raise ValueError(f"tables holds version {v!r} of rubric {ids[0]!r} twice")
        by_version[v] = t
    order, problems = _chain({v: t.rubric for v, t in by_version.items()})
    if problems:
        raise RubricError(problems)
    steps: list[Revision] = []
    for old, new in zip(order, order[1:], strict=False):
        try:
            steps.append(revision_maps(by_version[new].rubric, by_version[old].rubric))
        except RubricError as exc:
            problems += exc.problems
    if problems:
        raise RubricError(problems)
    newest = by_version[order[-1]].rubric
    parts, dropped = [], []
    for k, v in enumerate(order):
        frame = by_version[v].frame
        crit = frame["criterion_id"].astype(str).to_numpy()
        score = frame["score"].to_numpy(dtype=np.int64).copy()
        new_crit = crit.astype(object)
        keep = np.ones(len(frame), dtype=bool)
        for cid in by_version[v].rubric.criterion_ids:
            rows = crit == cid
            target: str | None = cid
            lookup = {s: s for s in by_version[v].rubric.criterion(cid).scores}
            for step in steps[k:]:
                if target not in step.criteria:
                    reason = step.not_carried.get(target, "retired")  # type: ignore[arg-type]
                    dropped.append((v, cid, f"{reason} in {step.new_version}", int(rows.sum())))
                    target = None
                    break
                lookup = {s: step.levels[target][t] for s, t in lookup.items()}
                target = step.criteria[target]
            if target is None:
                keep &= ~rows
                continue
            new_crit[rows] = target
            score[rows] = pd.Series(score[rows]).map(lookup).to_numpy(dtype=np.int64)
        sub = frame.loc[keep]
        parts.append(
            pd.DataFrame(
                {
                    "submission_id": sub["submission_id"].astype(object).to_numpy(),
                    "reviewer_id": sub["reviewer_id"].astype(object).to_numpy(),
                    "criterion_id": new_crit[keep],
                    "score": score[keep],
                    "rated_at": sub["rated_at"].to_numpy(),
                    "round_id": sub["round_id"].astype(object).to_numpy(),
                    "kind": sub["kind"].astype(object).to_numpy(),
                    VERSION_COLUMN: v,
                }
            )
        )
    both = pd.concat(parts, ignore_index=True)
    _check_unique(both)
    frame = canonical_frame(
        both["submission_id"],
        both["reviewer_id"],
        both["criterion_id"],
        both["score"].to_numpy(),
        newest,
        rated_at=both["rated_at"],
        round_id=both["round_id"].where(both["round_id"].notna(), None),
        kind=both["kind"].where(both["kind"].notna(), None),
    )
    frame[VERSION_COLUMN] = pd.Categorical(both[VERSION_COLUMN], categories=order)
    sources = sorted({t.source for t in tables if t.source})
    table = RatingsTable(frame, newest, "; ".join(sources) or None)
    return VersionedRatings(
        ratings=table,
        versions=tuple(order),
        tables={v: by_version[v] for v in order},
        revisions=tuple(steps),
        dropped=pd.DataFrame(
            dropped, columns=[VERSION_COLUMN, "criterion_id", "reason", "ratings"]
        ),
    )


def _check_unique(both: pd.DataFrame) -> None:
    key = ["submission_id", "reviewer_id", "criterion_id", "round_id"]
    filled = both[key].astype(object).where(both[key].notna(), "")
    dup = filled.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    seen = both.loc[dup].assign(**{c: filled.loc[dup, c] for c in key})
    problems = [
        Problem(
            f"submission {s!r}, reviewer {r!r}, criterion {c!r}"
            + (f", round {rnd!r}" if rnd else "")
            + f" is rated under versions {', '.join(map(str, g[VERSION_COLUMN].unique()))}: "
            "one rating per score (supersede the old one in the store, or drop it)",
            kind="rated under two versions",
        )
        for (s, r, c, rnd), g in seen.groupby(key, sort=True)
    ]
    raise RatingsError(problems)
