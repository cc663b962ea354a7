"""Reading rubric YAML safely, with every problem named by file, field path and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from calibrate._checks import check_instance
from calibrate._problems import Problem, RubricError
from calibrate.rubric._model import ConsistencyError, Rubric, _dotted

__all__ = ["load_rubric", "parse_rubric", "rubric_to_yaml"]

Loc = tuple[str | int, ...]


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
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RubricError(
            [Problem(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", file=str(path))]
        ) from None
    return parse_rubric(text, source=str(path))


def parse_rubric(text: str, *, source: str = "<string>") -> Rubric:
    """Parse rubric YAML text. ``source`` names it in error messages."""
    check_instance("text", text, str, "rubric YAML text (str)")
    check_instance("source", source, str, "text naming the rubric's origin (str)")
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
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(_problems_from(exc, source, lines)) from None


def rubric_to_yaml(rubric: Rubric) -> str:
    """The rubric as YAML that :func:`parse_rubric` reads back to an equal rubric."""
    check_instance("rubric", rubric, Rubric)
    data = rubric.model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _problems_from(exc: ValidationError, source: str, lines: dict[Loc, int]) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors():
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
        shown = None if isinstance(value, dict | list) or err["type"] == "missing" else str(value)
        out.append(
            Problem(msg, file=source, field=_dotted(loc), line=_line(lines, loc), value=shown)
        )
    return out


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    for k in range(len(loc), -1, -1):
        if loc[:k] in lines:
            return lines[loc[:k]]
    return None


def _compose(text: str, source: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Safe-load YAML, keeping the line of every node and catching duplicate keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        return (
            None,
            {},
            [Problem(f"not valid YAML: {what}", file=source, line=mark.line + 1 if mark else None)],
        )
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
