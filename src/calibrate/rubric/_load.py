"""Reading rubric YAML safely, with every problem named by file, field path and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from calibrate._checks import check_instance
from calibrate._problems import Problem, RubricError
from calibrate.rubric._model import (
    MAX_CRITERIA,
    MAX_LEVELS,
    ConsistencyError,
    Criterion,
    PassRule,
    Replaces,
    ReviewPolicy,
    Rubric,
    _dotted,
    consistency_items,
    merge_scale,
    replaces_items,
)

__all__ = [
    "MAX_RUBRIC_BYTES",
    "MAX_RUBRIC_DEPTH",
    "compose_yaml",
    "load_rubric",
    "parse_rubric",
    "rubric_to_yaml",
]

Loc = tuple[str | int, ...]

#: The largest rubric file read (1 MiB; the shipped rubrics are 2-4 KB). Larger files are
#: refused before they are read.
MAX_RUBRIC_BYTES = 1 << 20
#: The deepest nesting of mappings and lists a rubric may have (a rubric needs 5).
MAX_RUBRIC_DEPTH = 20
#: How many uses of a YAML alias are listed before the rest are counted.
_ALIASES_SHOWN = 20


def load_rubric(path: str | Path) -> Rubric:
    """Read a rubric YAML file into a :class:`Rubric`.

    Raises
    ------
    RubricError
        Listing every problem, each with the file, the field path and the line.
    FileNotFoundError
        When ``path`` does not exist.

    >>> load_rubric("rubrics/evidence-4level.yaml").criterion_ids
    ('overview', 'artifacts', 'reflection')
    """
    path = Path(path)
    where = str(path)
    if path.is_dir():
        raise RubricError([Problem("is a folder, not a rubric YAML file", file=where)])
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_RUBRIC_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RubricError(
            [Problem(f"cannot be read ({exc.strerror or exc})", file=where)]
        ) from None
    if len(raw) > MAX_RUBRIC_BYTES:
        raise RubricError([_too_big(where)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RubricError(
            [Problem(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", file=where)]
        ) from None
    return parse_rubric(text, source=str(path))


def parse_rubric(text: str, *, source: str = "<string>") -> Rubric:
    """Parse rubric YAML text. ``source`` names it in error messages."""
    check_instance("text", text, str, "rubric YAML text (str)")
    check_instance("source", source, str, "text naming the rubric's origin (str)")
    if len(text) > MAX_RUBRIC_BYTES or len(text.encode("utf-8")) > MAX_RUBRIC_BYTES:
        raise RubricError([_too_big(source)])
    data, lines, problems = _compose(text, source)
    if problems:
        raise RubricError(problems)
    if not isinstance(data, dict):
        raise RubricError(
            [
                Problem(
                    "a rubric file must be a mapping with id, title, version, criteria and pass_rule",
                    file=source,
                    line=1,
                )
            ]
        )
    problems = _counts(data, source, lines)
    if problems:
        raise RubricError(problems)
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_all_problems(exc, data, source, lines)) from None


def compose_yaml(
    text: str, *, source: str
) -> tuple[Any, Callable[[Loc], int | None], Callable[[Loc], str], list[Problem]]:
    """The rubric loader's safe YAML reading, for the kit's other YAML files (import
    profiles): no aliases (each use named), no tags, at most :data:`MAX_RUBRIC_DEPTH`
    levels, duplicate keys refused. Returns the data, a function giving the line of a field
    path, one giving its dotted name (``criteria[2].levels``) and the problems."""
    data, lines, problems = _compose(text, source)
    return data, lambda loc: _line(lines, loc), _dotted, problems


def _too_big(source: str) -> Problem:
    return Problem(
        f"larger than {MAX_RUBRIC_BYTES // 1024} KiB, the largest rubric file read "
        "(is this a rubric?)",
        file=source,
    )


def _counts(data: dict[Any, Any], source: str, lines: dict[Loc, int]) -> list[Problem]:
    """Too many criteria or levels: one problem each, before any is validated."""
    out: list[Problem] = []

    def check(loc: Loc, value: Any, most: int, what: str) -> None:
        if isinstance(value, list) and len(value) > most:
            out.append(
                Problem(
                    f"{len(value)} {what}; a rubric may have at most {most}",
                    file=source,
                    field=_dotted(loc),
                    line=_line(lines, loc),
                )
            )

    check(("criteria",), data.get("criteria"), MAX_CRITERIA, "criteria")
    check(("scale",), data.get("scale"), MAX_LEVELS, "levels in the scale")
    criteria = data.get("criteria")
    if isinstance(criteria, list) and len(criteria) <= MAX_CRITERIA:
        for i, c in enumerate(criteria):
            if isinstance(c, dict):
                check(("criteria", i, "levels"), c.get("levels"), MAX_LEVELS, "levels")
    return out


def _all_problems(
    exc: ValidationError, data: dict[Any, Any], source: str, lines: dict[Loc, int]
) -> list[Problem]:
    """Every problem of a rubric that did not validate, and no false follow-on one.

    pydantic reports every field problem, but (1) a list whose items failed is also "too
    short after validation", (2) a criterion that takes the shared scale repeats each of
    the scale's problems, and (3) the rubric's cross-field checks do not run. Here (1) and
    (2) are dropped, and (3) is run on the parts that are valid.
    """
    merged = merge_scale(data)
    from_scale = {
        i
        for i, c in enumerate(data.get("criteria") or [])
        if isinstance(c, dict) and "levels" not in c and data.get("scale") is not None
    }
    kept = []
    said: set[str] = set()
    for err in exc.errors():
        loc = tuple(err["loc"])
        if len(loc) >= 3 and loc[0] == "criteria" and loc[1] in from_scale and loc[2] == "levels":
            if len(loc) > 3:
                continue  # a problem of the scale's own levels, reported at scale[...]
            if err["msg"] in said:
                continue  # the scale's levels break the same rule for every criterion
            said.add(err["msg"])
        if err["type"] == "too_short":
            given = _at(merged, loc)
            least = (err.get("ctx") or {}).get("min_length")
            if isinstance(given, list) and least is not None and len(given) >= least:
                continue  # long enough as written: its items' problems are listed
            what = {"levels": "levels", "criteria": "criterion"}.get(str(loc[-1]), "items")
            if what == "criterion" and least != 1:
                what = "criteria"
            n = len(given) if isinstance(given, list) else 0
            err = {**err, "msg": f"needs at least {least} {what}; {n} given", "input": None}
        kept.append(err)
    out = _problems_from(kept, source, lines)
    if any(isinstance((e.get("ctx") or {}).get("error"), ConsistencyError) for e in kept):
        return out  # the whole rubric validated up to its cross-field checks
    seen = {(p.field, p.message) for p in out}
    for loc, msg in _partial_consistency(merged):
        p = Problem(msg, file=source, field=_dotted(loc), line=_line(lines, loc))
        if (p.field, p.message) not in seen:
            out.append(p)
    return out


def _at(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _valid(model: Any, value: Any) -> Any:
    try:
        return model.model_validate(value)
    except (ValidationError, TypeError, ValueError):
        return None


def _partial_consistency(data: dict[Any, Any]) -> list[tuple[Loc, str]]:
    """The rubric's cross-field checks on the parts of ``data`` that validate on their own."""
    raw = data.get("criteria")
    if not isinstance(raw, list):
        return []
    criteria = [_valid(Criterion, c) for c in raw]
    ids: list[str | None] = []
    for c in raw:
        cid = c.get("id") if isinstance(c, dict) else None
        ids.append(cid.strip() if isinstance(cid, str) else None)
    rule = _valid(PassRule, data["pass_rule"]) if "pass_rule" in data else None
    policy = _valid(ReviewPolicy, data.get("review_policy", {}))
    items = consistency_items(criteria, ids, rule, policy)
    replaces = _valid(Replaces, data["replaces"]) if data.get("replaces") is not None else None
    if replaces is not None:
        version = data.get("version")
        items += replaces_items(replaces, criteria, None if version is None else str(version))
    return items


def rubric_to_yaml(rubric: Rubric) -> str:
    """The rubric as YAML that :func:`parse_rubric` reads back to an equal rubric."""
    check_instance("rubric", rubric, Rubric)
    data = rubric.model_dump(mode="json", exclude_defaults=False)
    if data.get("replaces") is None:
        data.pop("replaces", None)  # a first version's text is as it was before revisions
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _problems_from(errors: list[Any], source: str, lines: dict[Loc, int]) -> list[Problem]:
    out: list[Problem] = []
    for err in errors:
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConsistencyError):
            for loc, msg in cause.items:
                out.append(Problem(msg, file=source, field=_dotted(loc), line=_line(lines, loc)))
            continue
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = (
                f"unknown key {loc[-1]!r} (allowed keys are listed in the README's rubric section)"
            )
        elif err["type"] == "missing":
            msg = f"required key {loc[-1]!r} is missing"
        msg = msg.removeprefix("Value error, ")
        value = err.get("input")
        shown = (
            None
            if value is None or isinstance(value, dict | list) or err["type"] == "missing"
            else str(value)
        )
        out.append(
            Problem(msg, file=source, field=_dotted(loc), line=_line(lines, loc), value=shown)
        )
    return out


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    for k in range(len(loc), -1, -1):
        if loc[:k] in lines:
            return lines[loc[:k]]
    return None


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line
        super().__init__(
            f"nested more than {MAX_RUBRIC_DEPTH} levels deep (a rubric needs 5): is this a rubric?"
        )


class _RubricLoader(yaml.SafeLoader):
    """Safe YAML composition that refuses aliases and deep nesting as it goes.

    An alias (``*name``) is never expanded: its use is recorded (name and line) and an
    empty node stands in, so nested aliases ("billion laughs") cost nothing and every use
    is listed. Rubrics need no aliases: a scale shared by the criteria is ``scale:``.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases: list[tuple[str, int]] = []
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            self.aliases.append((event.anchor, event.start_mark.line + 1))
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        self._depth += 1
        try:
            if self._depth > MAX_RUBRIC_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _alias_problems(aliases: list[tuple[str, int]], source: str) -> list[Problem]:
    """One problem per alias and line where it is used (with how many times)."""
    counts: dict[tuple[str, int], int] = {}
    for use in aliases:
        counts[use] = counts.get(use, 0) + 1
    out = [
        Problem(
            f"YAML alias *{name} is not allowed in a rubric"
            + (f" (used {n} times on this line)" if n > 1 else "")
            + ": write the value out (criteria sharing one set of levels can use the rubric's scale:)",
            file=source,
            line=line,
        )
        for (name, line), n in list(counts.items())[:_ALIASES_SHOWN]
    ]
    if len(counts) > _ALIASES_SHOWN:
        rest = sum(list(counts.values())[_ALIASES_SHOWN:])
        out.append(Problem(f"... and {rest} more uses of YAML aliases", file=source))
    return out


def _compose(text: str, source: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Safe-load YAML, keeping the line of every node and catching duplicate keys."""
    loader = _RubricLoader(text)
    try:
        node = loader.get_single_node()
    except _TooDeep as exc:
        return None, {}, [Problem(str(exc), file=source, line=exc.line)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        return (
            None,
            {},
            [Problem(f"not valid YAML: {what}", file=source, line=mark.line + 1 if mark else None)],
        )
    finally:
        loader.dispose()
    if loader.aliases:
        return None, {}, _alias_problems(loader.aliases, source)
    if node is None:
        return None, {}, [Problem("the file is empty", file=source)]
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    constructor = yaml.SafeLoader("")

    plain_tags = {
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
        yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    }

    def build(n: yaml.Node, loc: Loc) -> Any:
        lines[loc] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode | yaml.SequenceNode) and n.tag not in plain_tags:
            raise yaml.constructor.ConstructorError(
                None, None, f"tag {n.tag!r} is not allowed", n.start_mark
            )
        if isinstance(n, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in n.value:
                key = build(knode, loc + ("<key>",))
                if not isinstance(key, str | int):
                    problems.append(
                        Problem(
                            f"keys must be text; got {key!r}",
                            file=source,
                            field=_dotted(loc),
                            line=knode.start_mark.line + 1,
                        )
                    )
                    continue
                if key in out:
                    problems.append(
                        Problem(
                            f"key {key!r} appears twice",
                            file=source,
                            field=_dotted(loc + (key,)),
                            line=knode.start_mark.line + 1,
                        )
                    )
                    continue
                out[key] = build(vnode, loc + (key,))
            lines.pop(loc + ("<key>",), None)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, loc + (i,)) for i, v in enumerate(n.value)]
        return constructor.construct_object(n, deep=True)

    try:
        data = build(node, ())
    except yaml.YAMLError as exc:  # e.g. an unknown tag: safe loading refuses it
        mark = getattr(exc, "problem_mark", None)
        return (
            None,
            {},
            [
                Problem(
                    f"not allowed in a rubric: {getattr(exc, 'problem', exc)}",
                    file=source,
                    line=mark.line + 1 if mark else None,
                )
            ],
        )
    return data, lines, problems
