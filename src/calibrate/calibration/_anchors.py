"""Choosing anchors for a round: cover every level of every criterion, both sides of the
pass line, and say what is not covered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.ratings import AnswerKey

__all__ = ["AnchorCoverage", "anchor_coverage", "choose_anchors"]


@dataclass(frozen=True)
class AnchorCoverage:
    """How a set of anchors covers the rubric: ``levels`` counts anchors per (criterion,
    level score); ``passing`` / ``not_yet`` count the anchors on each side of the pass
    line (by the key); ``missing`` says in words what no anchor covers."""

    anchors: tuple[str, ...]
    levels: pd.DataFrame
    passing: int
    not_yet: int
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def anchor_coverage(key: AnswerKey, anchors: Sequence[str] | None = None) -> AnchorCoverage:
    """Which levels and which side of the pass line ``anchors`` (default: all keyed) cover.

    >>> from calibrate.io import read_program
    >>> key = read_program("data/synthetic/pilot").key
    >>> anchor_coverage(key, key.anchors[:1]).complete
    False
    """
    rubric = key.rubric
    wide = key.wide()
    wide.index = wide.index.astype(str)
    chosen = list(wide.index) if anchors is None else [str(a) for a in anchors]
    unknown = [a for a in chosen if a not in wide.index]
    if unknown:
        raise ValueError(f"anchors must be keyed submissions; these have no key: {unknown}")
    sub = wide.loc[chosen]
    rows, missing = [], []
    for c in rubric.criteria:
        for lv in c.levels:
            n = int((sub[c.id] == lv.score).sum())
            rows.append({"criterion_id": c.id, "score": lv.score, "label": lv.label, "anchors": n})
            if n == 0:
                missing.append(f"no anchor at level {lv.score} ({lv.label}) of {c.name}")
    decided = rubric.decide(sub.to_numpy(dtype=float))
    passing, not_yet = int((decided == 1).sum()), int((decided == 0).sum())
    if passing == 0:
        missing.append("no anchor passes: add one above the pass line")
    if not_yet == 0:
        missing.append("no anchor is 'not yet': add one below the pass line")
    return AnchorCoverage(tuple(chosen), pd.DataFrame(rows), passing, not_yet, tuple(missing))


def choose_anchors(
    key: AnswerKey,
    n: int,
    *,
    exclude: Sequence[str] = (),
    rng: np.random.Generator | int | None = None,
) -> list[str]:
    """Pick ``n`` keyed anchors greedily: each pick covers the most (criterion, level)
    cells not yet covered, then keeps the pass / not-yet sides balanced; ties are broken
    at random (``rng``). ``exclude`` (e.g. anchors used in earlier rounds) is skipped.

    >>> from calibrate.io import read_program
    >>> key = read_program("data/synthetic/pilot").key
    >>> len(choose_anchors(key, 4, rng=0))
    4
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive number of anchors; got {n!r}")
    rng = np.random.default_rng(rng)
    rubric = key.rubric
    wide = key.wide()
    wide.index = wide.index.astype(str)
    pool = [a for a in wide.index if a not in set(map(str, exclude))]
    if n > len(pool):
        raise ValueError(
            f"n must be at most the {len(pool)} keyed anchors available (after exclude); got {n}"
        )
    cells = {
        a: {
            (c.id, int(wide.loc[a, c.id]))
            for c in rubric.criteria
            if not np.isnan(wide.loc[a, c.id])
        }
        for a in pool
    }
    passes = dict(zip(pool, rubric.decide(wide.loc[pool].to_numpy(dtype=float)), strict=True))
    chosen: list[str] = []
    covered: set[tuple[str, int]] = set()
    for _ in range(n):
        n_pass = sum(passes[a] == 1 for a in chosen)
        want_pass = n_pass <= len(chosen) - n_pass  # keep the sides even
        best = max(
            (a for a in pool if a not in chosen),
            key=lambda a: (len(cells[a] - covered), (passes[a] == 1) == want_pass, rng.random()),
        )
        chosen.append(best)
        covered |= cells[best]
    return chosen
