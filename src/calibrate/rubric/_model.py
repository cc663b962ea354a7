"""Typed, frozen rubric models.

A rubric is criteria with ordered levels, a pass rule that turns criterion scores into
pass / not yet, and a review policy (how many reviewers, when a third review is
triggered, how the result is resolved). Models are strict: an unknown key is an error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "Criterion",
    "Level",
    "PassRule",
    "Replaces",
    "ReviewPolicy",
    "Rubric",
    "ThirdReviewTrigger",
]

#: The most criteria a rubric may have (rubrics people score have a handful; a file with
#: thousands is a mistake, e.g. a ratings sheet given as the rubric).
MAX_CRITERIA = 100
#: The most levels a criterion (or the shared scale) may have.
MAX_LEVELS = 20

Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
    ),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ConsistencyError(ValueError):
    """Cross-field problems of a rubric, each with the field path it concerns.

    Raised inside the rubric's validator so pydantic wraps it; the YAML loader unpacks
    ``items`` into one problem per path (with its line number).
    """

    def __init__(self, items: list[tuple[tuple[str | int, ...], str]]):
        self.items = items
        super().__init__("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in items))


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Level(_Frozen):
    """One level of a criterion: its score, a short label and the descriptor reviewers read."""

    score: int
    label: NonEmptyText
    descriptor: Text = ""


class Criterion(_Frozen):
    """A rubric criterion with at least two levels, in increasing score order."""

    id: Identifier
    name: NonEmptyText
    description: Text = ""
    levels: tuple[Level, ...] = Field(min_length=2, max_length=MAX_LEVELS)

    @field_validator("levels")
    @classmethod
    def _ordered_unique(cls, levels: tuple[Level, ...]) -> tuple[Level, ...]:
        scores = [lv.score for lv in levels]
        if len(set(scores)) != len(scores):
            dup = sorted({s for s in scores if scores.count(s) > 1})
            raise ValueError(f"level scores must be unique; {dup} appear more than once")
        if scores != sorted(scores):
            raise ValueError(
                f"levels must be listed in increasing score order; got scores {scores}"
            )
        labels = [lv.label.casefold() for lv in levels]
        if len(set(labels)) != len(labels):
            repeated = sorted({lv.label for lv in levels if labels.count(lv.label.casefold()) > 1})
            raise ValueError(f"level labels must be unique (ignoring case); {repeated} repeat")
        return levels

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(lv.score for lv in self.levels)

    @property
    def min_score(self) -> int:
        return self.levels[0].score

    @property
    def max_score(self) -> int:
        return self.levels[-1].score

    def level(self, score: int) -> Level:
        for lv in self.levels:
            if lv.score == score:
                return lv
        raise KeyError(
            f"criterion {self.id!r} has no level with score {score}; levels are {list(self.scores)}"
        )


class PassRule(_Frozen):
    """Pass / not yet from criterion scores.

    ``min_total`` alone is compensatory (total >= cut); ``min_level`` (every criterion)
    and/or ``min_levels`` (per criterion) alone are conjunctive; both kinds together are
    a hybrid rule: the submission must satisfy all of them.
    """

    min_total: float | None = None
    min_level: int | None = None
    min_levels: dict[Identifier, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_empty(self) -> PassRule:
        if self.min_total is None and self.min_level is None and not self.min_levels:
            raise ValueError(
                "a pass rule needs min_total (compensatory), min_level / min_levels (conjunctive), or both (hybrid)"
            )
        return self

    @property
    def kind(self) -> Literal["compensatory", "conjunctive", "hybrid"]:
        conj = self.min_level is not None or bool(self.min_levels)
        if self.min_total is not None and conj:
            return "hybrid"
        return "conjunctive" if conj else "compensatory"


class ThirdReviewTrigger(_Frozen):
    """When a third review is requested; any trigger that is set and fires is enough."""

    decision_differs: bool = False
    total_differs_by: float | None = Field(default=None, gt=0)
    criterion_differs_by: int | None = Field(default=None, ge=1)
    total_within: float | None = Field(default=None, ge=0)

    @property
    def any(self) -> bool:
        return (
            self.decision_differs
            or self.total_differs_by is not None
            or self.criterion_differs_by is not None
            or self.total_within is not None
        )


class ReviewPolicy(_Frozen):
    """How many reviewers score a submission, when a third is called and how results combine."""

    reviewers: int = Field(default=2, ge=1, le=3)
    third_review: ThirdReviewTrigger = ThirdReviewTrigger(decision_differs=True)
    resolution: Literal["majority", "average", "replace_farthest", "expert"] = "majority"
    read_behind: float = Field(default=0.0, ge=0.0, le=1.0)


class Replaces(_Frozen):
    """What a revised rubric replaces: the version it revises and how that version's
    ratings read under this one.

    ``criteria`` maps an old criterion id to the id it has in this version (a rename, or
    the same id), or to ``null``: the criterion changed, so its ratings are not comparable
    across the revision and are analysed within their own version only. An old criterion
    not listed is carried over under its own id when this version has a criterion of that
    id, and is retired (analysed within its version only) when it has not.

    ``levels`` maps, per criterion of *this* version (its new id), an old level score to
    the new score its ratings take (``{artifacts: {0: 1}}``); a carried-over criterion not
    listed keeps its scores, each of which must then be a level here. Scores not listed
    keep their value. The old ids and scores are checked against the old version when
    ratings are combined (:func:`calibrate.rubric.revision_maps`); this model checks what
    the rubric itself can: the new ids and new scores.
    """

    version: NonEmptyText
    criteria: dict[Identifier, Identifier | None] = Field(default_factory=dict)
    levels: dict[Identifier, dict[int, int]] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


class Rubric(_Frozen):
    """A scoring rubric: criteria with ordered levels, a pass rule and a review policy.

    Build one with :func:`calibrate.rubric.load_rubric` from YAML, or directly:

    >>> from calibrate.rubric import Rubric
    >>> r = Rubric.model_validate({
    ...     "id": "demo", "title": "Demo", "version": "1",
    ...     "scale": [{"score": 0, "label": "Not yet"}, {"score": 1, "label": "Met"}],
    ...     "criteria": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
    ...     "pass_rule": {"min_level": 1},
    ... })
    >>> r.pass_rule.kind, r.criterion_ids, r.max_total
    ('conjunctive', ('a', 'b'), 2)
    """

    id: Identifier
    title: NonEmptyText
    version: NonEmptyText
    description: Text = ""
    scale: tuple[Level, ...] | None = Field(default=None, max_length=MAX_LEVELS)
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=MAX_CRITERIA)
    pass_rule: PassRule
    review_policy: ReviewPolicy = ReviewPolicy()
    replaces: Replaces | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: Any) -> Any:
        # YAML reads `version: 1.0` as a float; a version is text.
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @model_validator(mode="before")
    @classmethod
    def _levels_from_scale(cls, data: Any) -> Any:
        return merge_scale(data)

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        items = consistency_items(
            list(self.criteria),
            [c.id for c in self.criteria],
            self.pass_rule,
            self.review_policy,
        )
        if self.replaces is not None:
            items += replaces_items(self.replaces, list(self.criteria), self.version)
        if items:
            raise ConsistencyError(items)
        return self

    # ---- derived views -------------------------------------------------------
    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    @property
    def min_total(self) -> int:
        return sum(c.min_score for c in self.criteria)

    @property
    def max_total(self) -> int:
        return sum(c.max_score for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(
            f"rubric {self.id!r} has no criterion {criterion_id!r}; criteria are {list(self.criterion_ids)}"
        )

    def decide(self, scores: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Apply the pass rule to complete score vectors.

        Parameters
        ----------
        scores : DataFrame with one column per criterion id, or array of shape
            (n, n_criteria) in the rubric's criterion order. NaN marks a missing score.

        Returns
        -------
        ndarray of float, shape (n,)
            1.0 pass, 0.0 not yet, NaN where a criterion score is missing.

        >>> import numpy as np
        >>> from calibrate.rubric import load_rubric
        >>> r = load_rubric("rubrics/evidence-4level.yaml")
        >>> r.decide(np.array([[3, 3, 3], [4, 4, 1], [3, np.nan, 3]]))
        array([ 1.,  0., nan])
        """
        if isinstance(scores, pd.DataFrame):
            missing = [c for c in self.criterion_ids if c not in scores.columns]
            if missing:
                raise ValueError(
                    f"scores lack columns for criteria {missing}; expected one column per criterion id {list(self.criterion_ids)}"
                )
            arr = scores.loc[:, list(self.criterion_ids)].to_numpy(dtype=float)
        else:
            arr = np.asarray(scores, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != len(self.criteria):
                raise ValueError(
                    f"scores must have shape (n, {len(self.criteria)}); got {arr.shape}"
                )
        rule = self.pass_rule
        # One sum and one min per row; both propagate NaN, which marks a missing score.
        total = arr.sum(axis=1)
        ok = np.ones(arr.shape[0], dtype=bool)
        if rule.min_total is not None:
            ok &= total >= rule.min_total
        if rule.min_level is not None:
            ok &= arr.min(axis=1) >= rule.min_level
        for cid, lvl in rule.min_levels.items():
            ok &= arr[:, self.criterion_ids.index(cid)] >= lvl
        out = ok.astype(float)
        out[np.isnan(total)] = np.nan
        return out

    def third_review_fires(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether the review policy's third-review trigger fires on two reviewers' scores.

        ``a`` and ``b`` are ``(n, n_criteria)`` level scores in rubric order. Any set
        trigger is enough: decisions differ, totals differ by at least
        ``total_differs_by``, a criterion differs by at least ``criterion_differs_by``, or
        either total is within ``total_within`` of the cut. The synthetic generator and
        the policy simulator both use this one rule.

        >>> import numpy as np
        >>> from calibrate.rubric import load_rubric
        >>> r = load_rubric("rubrics/evidence-4level.yaml")  # third review when decisions differ
        >>> r.third_review_fires(np.array([[3, 3, 3], [3, 3, 3]]), np.array([[3, 3, 2], [4, 3, 3]])).tolist()
        [True, False]
        """
        trig = self.review_policy.third_review
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        fire = np.zeros(len(a), dtype=bool)
        ta, tb = a.sum(axis=1), b.sum(axis=1)
        if trig.decision_differs:
            fire |= self.decide(a) != self.decide(b)
        if trig.total_differs_by is not None:
            fire |= np.abs(ta - tb) >= trig.total_differs_by
        if trig.criterion_differs_by is not None:
            fire |= (np.abs(a - b) >= trig.criterion_differs_by).any(axis=1)
        if trig.total_within is not None and self.pass_rule.min_total is not None:
            cut = self.pass_rule.min_total
            fire |= (np.abs(ta - cut) <= trig.total_within) | (
                np.abs(tb - cut) <= trig.total_within
            )
        return fire

    def to_frame(self) -> pd.DataFrame:
        """One row per (criterion, level): criterion_id, criterion, score, label, descriptor."""
        rows = [
            {
                "criterion_id": c.id,
                "criterion": c.name,
                "score": lv.score,
                "label": lv.label,
                "descriptor": lv.descriptor,
            }
            for c in self.criteria
            for lv in c.levels
        ]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        import html

        rule = self.pass_rule
        parts = []
        if rule.min_total is not None:
            parts.append(f"total &ge; {rule.min_total:g}")
        if rule.min_level is not None:
            parts.append(f"every criterion &ge; {rule.min_level}")
        parts += [f"{html.escape(k)} &ge; {v}" for k, v in rule.min_levels.items()]
        head = (
            f"<p><strong>{html.escape(self.title)}</strong> ({html.escape(self.id)} v{html.escape(self.version)}): "
            f"{len(self.criteria)} criteria; pass ({rule.kind}) when {' and '.join(parts)}; "
            f"{self.review_policy.reviewers} reviewers per submission.</p>"
        )
        return head + self.to_frame().to_html(index=False, escape=True)

    def label_of(self) -> dict[str, dict[str, int]]:
        """Per criterion, the accepted spellings of each level (casefolded label -> score)."""
        return {c.id: {lv.label.casefold(): lv.score for lv in c.levels} for c in self.criteria}


def merge_scale(data: Any) -> Any:
    """A rubric may give one shared ``scale``; criteria without ``levels`` use it."""
    if (
        isinstance(data, dict)
        and data.get("scale") is not None
        and isinstance(data.get("criteria"), list | tuple)
    ):
        data = dict(data)
        data["criteria"] = [
            {**c, "levels": data["scale"]} if isinstance(c, dict) and "levels" not in c else c
            for c in data["criteria"]
        ]
    return data


def consistency_items(
    criteria: list[Criterion | None],
    ids: list[str | None],
    rule: PassRule | None,
    policy: ReviewPolicy | None,
) -> list[tuple[tuple[str | int, ...], str]]:
    """The cross-field problems of a rubric's parts, each with its field path.

    A part that did not validate is ``None`` (and ``ids[i]`` the raw id text of criterion
    ``i``, or ``None``): every check whose parts are all valid still runs, so a loader can
    list these problems beside the field problems, and no check runs on a broken part (no
    false follow-on problem).
    """
    items: list[tuple[tuple[str | int, ...], str]] = []
    for i, cid in enumerate(ids):
        if cid is not None and ids.index(cid) != i:
            items.append((("criteria", i, "id"), f"criterion id {cid!r} is used more than once"))
    if rule is None:
        return items
    valid = [c for c in criteria if c is not None]
    complete = len(valid) == len(criteria)
    by_id = {c.id: c for c in valid}
    if rule.min_total is not None and complete and valid:
        hi = sum(c.max_score for c in valid)
        if rule.min_total > hi:
            items.append(
                (
                    ("pass_rule", "min_total"),
                    f"cut {rule.min_total:g} can never be reached: the highest possible total is {hi}",
                )
            )
    if rule.min_level is not None:
        for c in valid:
            if rule.min_level > c.max_score:
                items.append(
                    (
                        ("pass_rule", "min_level"),
                        f"level {rule.min_level} can never be reached on criterion {c.id!r} (its highest level is {c.max_score})",
                    )
                )
    known = [cid for cid in ids if cid is not None]
    for cid, lvl in rule.min_levels.items():
        if cid not in known:
            if complete or all(isinstance(x, str) for x in ids):
                items.append(
                    (
                        ("pass_rule", "min_levels", cid),
                        f"names criterion {cid!r}, which the rubric does not have (criteria: {', '.join(dict.fromkeys(known))})",
                    )
                )
        elif cid in by_id and lvl not in by_id[cid].scores:
            items.append(
                (
                    ("pass_rule", "min_levels", cid),
                    f"{lvl} is not a level of criterion {cid!r} (levels {list(by_id[cid].scores)})",
                )
            )
    if (
        policy is not None
        and policy.third_review.total_within is not None
        and rule.min_total is None
    ):
        items.append(
            (
                ("review_policy", "third_review", "total_within"),
                "a band around the cut needs a compensatory cut (pass_rule.min_total)",
            )
        )
    return items


def replaces_items(
    replaces: Replaces, criteria: list[Criterion | None], version: str | None
) -> list[tuple[tuple[str | int, ...], str]]:
    """The problems of a rubric's ``replaces`` that the rubric alone shows: new criterion
    ids it does not have, a new criterion replacing two old ones, new scores that are not
    levels, and a rubric replacing its own version. ``None`` criteria did not validate and
    are not checked against."""
    items: list[tuple[tuple[str | int, ...], str]] = []
    by_id = {c.id: c for c in criteria if c is not None}
    complete = all(c is not None for c in criteria)
    listed = ", ".join(by_id)
    if version is not None and replaces.version == version:
        items.append(
            (
                ("replaces", "version"),
                f"a rubric cannot replace its own version {version!r}; name the version it revises",
            )
        )
    targets: dict[str, list[str]] = {}
    for old, new in replaces.criteria.items():
        if new is None:
            continue
        targets.setdefault(new, []).append(old)
        if new not in by_id and complete:
            items.append(
                (
                    ("replaces", "criteria", old),
                    f"maps old criterion {old!r} to {new!r}, which this version does not have "
                    f"(criteria: {listed})",
                )
            )
    for new, olds in targets.items():
        if len(olds) > 1:
            items.append(
                (
                    ("replaces", "criteria"),
                    f"old criteria {', '.join(map(repr, olds))} all map to {new!r}; a criterion "
                    "can replace at most one old criterion (its ratings would be counted twice)",
                )
            )
    for new, scores in replaces.levels.items():
        crit = by_id.get(new)
        if crit is None:
            if complete:
                items.append(
                    (
                        ("replaces", "levels", new),
                        f"names criterion {new!r}, which this version does not have (criteria: "
                        f"{listed}); levels are keyed by the new criterion id",
                    )
                )
            continue
        bad = sorted({s for s in scores.values() if s not in crit.scores})
        if bad:
            items.append(
                (
                    ("replaces", "levels", new),
                    f"new score(s) {bad} are not levels of criterion {new!r} (levels "
                    f"{list(crit.scores)})",
                )
            )
    return items
