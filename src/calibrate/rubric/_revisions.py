"""How a revised rubric's ``replaces`` reads the ratings of the version it revises."""

from __future__ import annotations

from dataclasses import dataclass

from calibrate._checks import check_instance
from calibrate._problems import Problem, RubricError
from calibrate.rubric._model import Rubric

__all__ = ["Revision", "revision_maps"]


@dataclass(frozen=True)
class Revision:
    """One step of a rubric's revision chain, checked against both versions.

    ``criteria`` maps each carried-over old criterion id to its id in the new version;
    ``levels`` maps, per carried-over old criterion id, every old level score to its new
    score; ``not_carried`` lists the old criteria analysed within the old version only,
    each with why (``"changed"``: ``replaces.criteria`` maps it to null; ``"retired"``:
    the new version has no criterion of its id and the map does not name it).
    """

    old_version: str
    new_version: str
    criteria: dict[str, str]
    levels: dict[str, dict[int, int]]
    not_carried: dict[str, str]


def revision_maps(new: Rubric, old: Rubric) -> Revision:
    """Check ``new.replaces`` against the rubric ``old`` it names and give the maps.

    Raises
    ------
    RubricError
        Listing every problem at once, each with its field path in the new rubric:
        ``new`` has no ``replaces`` or names another version, an old criterion id that
        ``old`` does not have, levels given for a criterion that is not carried over, old
        scores that are not levels of the old criterion, an old score that has no level
        in the new criterion (and is not mapped), or a map that reverses the order of
        the levels (a higher old level scored lower).

    >>> from calibrate.rubric import parse_rubric, revision_maps
    >>> old = parse_rubric('''
    ... {id: r, title: R, version: "1.0", scale: [{score: 0, label: Not yet}, {score: 1, label: Met}],
    ...  criteria: [{id: plan, name: Plan}, {id: talk, name: Talk}], pass_rule: {min_level: 1}}''')
    >>> new = parse_rubric('''
    ... {id: r, title: R, version: "2.0", scale: [{score: 1, label: Not yet}, {score: 2, label: Met}],
    ...  criteria: [{id: planning, name: Plan}, {id: talk, name: Talk}], pass_rule: {min_level: 2},
    ...  replaces: {version: "1.0", criteria: {plan: planning},
    ...             levels: {planning: {0: 1, 1: 2}, talk: {0: 1, 1: 2}}}}''')
    >>> step = revision_maps(new, old)
    >>> step.criteria, step.levels["plan"]
    ({'plan': 'planning', 'talk': 'talk'}, {0: 1, 1: 2})
    """
    check_instance("new", new, Rubric)
    check_instance("old", old, Rubric)
    source = f"rubric {new.id} v{new.version}"
    rep = new.replaces
    if rep is None:
        raise RubricError(
            [Problem(f"has no replaces: it does not revise version {old.version!r}", file=source)]
        )
    problems: list[Problem] = []

    def problem(field: str, message: str) -> None:
        problems.append(Problem(message, file=source, field=field))

    if new.id != old.id:
        problem("id", f"revises rubric {old.id!r}, but is rubric {new.id!r}")
    if rep.version != old.version:
        problem(
            "replaces.version",
            f"replaces version {rep.version!r}, but the older rubric given is version "
            f"{old.version!r}",
        )
    old_ids = old.criterion_ids
    for cid in rep.criteria:
        if cid not in old_ids:
            problem(
                f"replaces.criteria.{cid}",
                f"names old criterion {cid!r}, which version {old.version} does not have "
                f"(criteria: {', '.join(old_ids)})",
            )
    criteria: dict[str, str] = {}
    not_carried: dict[str, str] = {}
    for cid in old_ids:
        if cid in rep.criteria:
            target = rep.criteria[cid]
            if target is None:
                not_carried[cid] = "changed"
            else:
                criteria[cid] = target
        elif cid in new.criterion_ids:
            criteria[cid] = cid
        else:
            not_carried[cid] = "retired"
    new_to_old = {v: k for k, v in criteria.items()}
    levels: dict[str, dict[int, int]] = {}
    for new_id in rep.levels:
        if new_id in new.criterion_ids and new_id not in new_to_old:
            problem(
                f"replaces.levels.{new_id}",
                f"gives levels for criterion {new_id!r}, which no criterion of version "
                f"{old.version} is carried over to",
            )
    for old_id, new_id in criteria.items():
        if new_id not in new.criterion_ids:
            continue  # reported by the rubric's own checks
        old_scores = old.criterion(old_id).scores
        new_scores = new.criterion(new_id).scores
        given = rep.levels.get(new_id, {})
        bad = sorted(s for s in given if s not in old_scores)
        if bad:
            problem(
                f"replaces.levels.{new_id}",
                f"old score(s) {bad} are not levels of criterion {old_id!r} in version "
                f"{old.version} (levels {list(old_scores)})",
            )
        mapped = {s: given.get(s, s) for s in old_scores}
        unplaced = [s for s, t in mapped.items() if t not in new_scores]
        if unplaced:
            problem(
                f"replaces.levels.{new_id}",
                f"old score(s) {unplaced} of criterion {old_id!r} have no level in version "
                f"{new.version} (levels {list(new_scores)}); map them under "
                f"replaces.levels.{new_id}",
            )
        elif any(a > b for a, b in zip(mapped.values(), list(mapped.values())[1:], strict=False)):
            problem(
                f"replaces.levels.{new_id}",
                f"the map {mapped} scores a higher old level of {old_id!r} lower: levels must "
                "keep their order across a revision",
            )
        levels[old_id] = mapped
    if problems:
        raise RubricError(problems)
    return Revision(old.version, new.version, criteria, levels, not_carried)
