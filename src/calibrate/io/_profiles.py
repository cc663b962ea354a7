"""Import profiles: which column of an export is what, as a strict YAML model.

A profile names the reviewer, submission, time, round and kind columns, the criterion
columns (exact headers or a pattern whose ``criterion`` group is matched against the
rubric's criterion ids and names), the comment columns (for one criterion or for the whole
row; they become rationales) and the attribute columns of the submission or reviewer.
Every column reference is a *selector*: a header (matched ignoring case, spaces and
hyphens), ``{contains: TEXT}`` (case-insensitive) or ``{pattern: REGEX}`` (a full,
case-insensitive match); a list of selectors means "the first that finds a column".

The YAML is read with the rubric loader's safe composition (no aliases, no tags, limited
depth, duplicate keys refused, every node's line kept), and validated by frozen pydantic
models with ``extra="forbid"``: an unknown key is an error naming the key, its path and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from calibrate._checks import check_instance
from calibrate._problems import Problem, RatingsError
from calibrate.io._times import ISO, check_timezone
from calibrate.rubric import compose_yaml  # the kit's one safe YAML reader

__all__ = [
    "BUILTIN_PROFILES",
    "CommentColumns",
    "CriterionColumns",
    "Profile",
    "ProfileError",
    "Selector",
    "TimeSpec",
    "get_profile",
    "load_profile",
    "parse_profile",
    "profile_to_yaml",
]

#: The largest profile file read (a profile is a page of YAML).
MAX_PROFILE_BYTES = 64 * 1024


class ProfileError(RatingsError):
    """A profile file that cannot be used."""

    kind = "profile"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selector(_Frozen):
    """One way to find a column: exactly one of ``column``, ``contains``, ``pattern``.

    Written in YAML as a bare header (``Reviewer ID``) or a one-key mapping.
    """

    column: str | None = None
    contains: str | None = None
    pattern: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one(self) -> Selector:
        given = [k for k in ("column", "contains", "pattern") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a column selector is a header, {contains: TEXT} or {pattern: REGEX}: give "
                f"exactly one of column, contains, pattern (got {', '.join(given) or 'none'})"
            )
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"pattern {self.pattern!r} is not a regular expression: {exc}"
                ) from None
        for k in given:
            if not str(getattr(self, k)).strip():
                raise ValueError(f"{k} is empty")
        return self

    def describe(self) -> str:
        if self.column is not None:
            return repr(self.column)
        if self.contains is not None:
            return f"a header containing {self.contains!r}"
        return f"a header matching {self.pattern!r}"


def _selectors(value: Any) -> Any:
    """A selector or a list of them: always a list."""
    return value if isinstance(value, list) else [value]


class TimeSpec(_Frozen):
    """The time column and how its cells are written.

    ``format``: ``strptime`` formats tried in order (``%m/%d/%Y %H:%M:%S``), or ``iso``.
    ``decide_day_month``: whether the column may swap a leading ``%m/%d`` (``%d/%m``) when
    its values show the other order (a first field above 12 means day first).
    ``timezone``: the zone of naive times when ``--timezone`` is not given (default: the
    machine's).
    """

    column: list[Selector]
    format: list[str] = Field(default_factory=lambda: [ISO])
    decide_day_month: bool = True
    timezone: str | None = None

    _col = field_validator("column", mode="before")(_selectors)

    @field_validator("format", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("format")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("format needs at least one format")
        for f in value:
            if f != ISO and "%" not in f:
                raise ValueError(
                    f"format {f!r} is neither 'iso' nor a strptime format such as '%m/%d/%Y %H:%M:%S'"
                )
        return value


class CriterionColumns(_Frozen):
    """Criterion columns: ``column`` (one header) with ``criterion`` (its criterion id or
    name), or ``pattern``, a regular expression with a ``criterion`` group matched against
    the rubric's criterion ids and names (``.*\\[(?P<criterion>.+)\\]``)."""

    column: str | None = None
    criterion: str | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> CriterionColumns:
        if (self.column is None) == (self.pattern is None):
            raise ValueError("give either column (with criterion) or pattern")
        if self.column is not None and self.criterion is None:
            raise ValueError(f"column {self.column!r} needs criterion: the criterion id or name")
        if self.pattern is not None:
            if self.criterion is not None:
                raise ValueError("pattern takes its criterion from its (?P<criterion>...) group")
            _check_group(self.pattern, required=True)
        return self


class CommentColumns(_Frozen):
    """Comment columns (they become rationales): ``column`` (for ``criterion``, or for
    every criterion of the row when none is given), or ``pattern``, whose optional
    ``criterion`` group names the criterion (none: the whole row)."""

    column: str | None = None
    criterion: str | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> CommentColumns:
        if (self.column is None) == (self.pattern is None):
            raise ValueError("give either column or pattern")
        if self.pattern is not None:
            if self.criterion is not None:
                raise ValueError("pattern takes its criterion from its (?P<criterion>...) group")
            _check_group(self.pattern, required=False)
        return self


def _check_group(pattern: str, *, required: bool) -> None:
    try:
        groups = re.compile(pattern).groupindex
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a regular expression: {exc}") from None
    if required and "criterion" not in groups:
        raise ValueError(f"pattern {pattern!r} needs a (?P<criterion>...) group")


#: The profile fields naming one column each.
_SINGLE_COLUMNS = (
    "submission",
    "reviewer",
    "criterion",
    "score",
    "round",
    "kind",
    "educator",
    "attempt",
    "resubmission_of",
)


class Profile(_Frozen):
    """How to read one kind of export (see the module docstring and the README)."""

    name: str
    description: str = ""
    #: ``wide``: a row per review, a column per criterion; ``long``: a row per score, with
    #: ``criterion`` and ``score`` columns.
    layout: Literal["wide", "long"] = "wide"
    submission: list[Selector]
    reviewer: list[Selector]
    criterion: list[Selector] | None = None
    score: list[Selector] | None = None
    time: TimeSpec | None = None
    round: list[Selector] | None = None
    kind: list[Selector] | None = None
    #: Resubmissions: the educator, the attempt number (1, 2, ...) or the earlier
    #: submission this one resubmits; stored as submission attributes ``educator_id``
    #: and ``attempt`` (:func:`calibrate.io.resolve_attempts`).
    educator: list[Selector] | None = None
    attempt: list[Selector] | None = None
    resubmission_of: list[Selector] | None = None
    criteria: list[CriterionColumns] = Field(default_factory=list)
    comments: list[CommentColumns] = Field(default_factory=list)
    submission_attributes: dict[str, list[Selector]] = Field(default_factory=dict)
    reviewer_attributes: dict[str, list[Selector]] = Field(default_factory=dict)
    ignore: list[Selector] = Field(default_factory=list)
    #: What a column no rule claims becomes: a submission attribute named by its
    #: snake-cased header, or an unmapped column (listed, not imported).
    other_columns: Literal["submission_attribute", "unmapped"] = "unmapped"

    _sel = field_validator(*_SINGLE_COLUMNS, mode="before")(_selectors)

    @field_validator("submission_attributes", "reviewer_attributes", mode="before")
    @classmethod
    def _attr_selectors(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _selectors(v) for k, v in value.items()}
        return value

    @field_validator("submission_attributes", "reviewer_attributes")
    @classmethod
    def _attr_names(cls, value: dict[str, list[Selector]]) -> dict[str, list[Selector]]:
        for k in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", k):
                raise ValueError(
                    f"attribute name {k!r} must be snake_case (a-z, 0-9, _; starting with a letter)"
                )
        return value

    @model_validator(mode="after")
    def _layout(self) -> Profile:
        if self.layout == "long":
            if self.criterion is None or self.score is None:
                raise ValueError("layout long needs criterion and score columns")
            if self.criteria:
                raise ValueError(
                    "layout long reads criteria from its criterion column: drop criteria"
                )
        else:
            if self.criterion is not None or self.score is not None:
                raise ValueError("criterion and score columns are for layout long")
            if not self.criteria:
                raise ValueError("layout wide needs criteria: the criterion columns")
        return self


def _builtin(data: dict[str, Any]) -> Profile:
    return Profile.model_validate(data)


#: Google Forms and Microsoft Forms share the reviewer and submission rules.
_REVIEWER = [{"contains": "reviewer"}]
_SUBMISSION = [{"contains": "submission"}]
_COMMENT_WORDS = r"(?=.*(?:comment|feedback|rationale))"
#: Resubmission columns, where a header says so.
_ATTEMPTS = {
    "educator": [{"contains": "educator"}],
    "attempt": [{"contains": "attempt"}],
    "resubmission_of": [{"contains": "resubmission"}],
}

BUILTIN_PROFILES: dict[str, Profile] = {
    # "long" and "wide" are today's formats, read by read_ratings and read_wide
    "long": _builtin(
        {
            "name": "long",
            "description": "a row per score: submission_id, reviewer_id, criterion_id, score[, rated_at, round_id, kind] (calibrate.io.read_ratings)",
            "layout": "long",
            "submission": "submission_id",
            "reviewer": "reviewer_id",
            "criterion": "criterion_id",
            "score": "score",
        }
    ),
    "wide": _builtin(
        {
            "name": "wide",
            "description": "a row per review, a column per criterion named by its id or name (calibrate.io.read_wide)",
            "submission": "submission_id",
            "reviewer": "reviewer_id",
            "criteria": [{"pattern": "(?P<criterion>.+)"}],
        }
    ),
    "google-forms": _builtin(
        {
            "name": "google-forms",
            "description": "Google Forms responses sheet (CSV): Timestamp in local time, grid columns '<question> [<criterion>]'",
            "submission": _SUBMISSION,
            "reviewer": [*_REVIEWER, "Email Address"],
            "time": {
                "column": "Timestamp",
                # the CSV download; then 12-hour locales; then the .xlsx download (cells)
                "format": [
                    "%m/%d/%Y %H:%M:%S",
                    "%m/%d/%Y %H:%M",
                    "%m/%d/%Y %I:%M:%S %p",
                    "%Y-%m-%d %H:%M:%S",
                ],
            },
            "comments": [{"pattern": _COMMENT_WORDS + r"(?:.*\[(?P<criterion>[^\]]+)\]\s*|.*)"}],
            "criteria": [{"pattern": r".*\[(?P<criterion>[^\]]+)\]\s*"}],
            "reviewer_attributes": {"email": "Email Address"},
            **_ATTEMPTS,
            "other_columns": "submission_attribute",
        }
    ),
    "microsoft-forms": _builtin(
        {
            "name": "microsoft-forms",
            "description": "Microsoft Forms responses workbook (.xlsx): ID, Start time, Completion time, Email, Name",
            "submission": _SUBMISSION,
            "reviewer": [*_REVIEWER, "Email"],
            "time": {
                "column": "Completion time",
                "format": [
                    "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%d %H:%M:%S.%f",
                    "%m/%d/%Y %H:%M:%S",
                    "%m/%d/%Y %H:%M",
                ],
            },
            "comments": [{"pattern": _COMMENT_WORDS + r"(?:.*\.(?P<criterion>[^.]+)|.*)"}],
            "criteria": [
                {"pattern": "(?P<criterion>.+)"},
                {"pattern": r".+\.(?P<criterion>[^.]+)"},
            ],
            "reviewer_attributes": {"email": "Email", "name": "Name"},
            "ignore": ["ID", "Start time", "Last modified time"],
            **_ATTEMPTS,
            "other_columns": "submission_attribute",
        }
    ),
}


def get_profile(profile: str | Path | Profile) -> Profile:
    """A :class:`Profile` from a built-in name, a YAML path or a profile."""
    if isinstance(profile, Profile):
        return profile
    if not isinstance(profile, str | Path):
        raise TypeError(
            "profile must be a built-in profile name, a YAML path or a calibrate.io.Profile; "
            f"got {type(profile).__name__}"
        )
    if isinstance(profile, str) and profile in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[profile]
    path = Path(profile)
    if path.suffix.casefold() in (".yaml", ".yml") or path.is_file():
        return load_profile(path)
    raise ValueError(
        f"profile must be one of {', '.join(map(repr, BUILTIN_PROFILES))} or a profile YAML file; got {str(profile)!r}"
    )


def load_profile(path: str | Path) -> Profile:
    """Read a profile YAML file. Raises :class:`ProfileError` listing every problem (file,
    field path, line), FileNotFoundError for a missing file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such profile file: {path}")
    data = path.read_bytes()[: MAX_PROFILE_BYTES + 1]
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError(
            [
                Problem(
                    f"larger than {MAX_PROFILE_BYTES // 1024} KiB: is this a profile?",
                    file=str(path),
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(
            [Problem(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", file=str(path))]
        ) from None
    return parse_profile(text, source=str(path))


def parse_profile(text: str, *, source: str = "<string>") -> Profile:
    """Parse profile YAML text; ``source`` names it in the problems."""
    check_instance("text", text, str, "profile YAML text (str)")
    data, line_of, dotted, problems = compose_yaml(text, source=source)
    problems = [
        Problem(
            p.message.replace("in a rubric", "in a profile").split(": write the value out")[0],
            file=p.file,
            line=p.line,
            field=p.field,
        )
        for p in problems
    ]
    if problems:
        raise ProfileError(problems)
    if not isinstance(data, dict):
        raise ProfileError(
            [
                Problem(
                    "a profile file must be a mapping with name, submission, reviewer and criteria",
                    file=source,
                    line=1,
                )
            ]
        )
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            loc = tuple(
                p
                for p in err["loc"]
                if not (isinstance(p, str) and p.startswith(("function-", "list[")))
            )
            if err["type"] == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r} (the keys of a profile are listed in the README's import-profile section)"
            elif err["type"] == "missing":
                msg = f"required key {loc[-1]!r} is missing"
            else:
                msg = str(err["msg"]).removeprefix("Value error, ")
            value = err.get("input")
            shown = (
                None
                if isinstance(value, dict | list) or value is None or err["type"] == "missing"
                else str(value)
            )
            out.append(
                Problem(
                    msg,
                    file=source,
                    field=dotted(loc) or None,
                    line=line_of(loc),
                    value=shown,
                )
            )
        raise ProfileError(out) from None


def _plain_selectors(sels: list[Selector]) -> Any:
    out = [s.column if s.column is not None else s.model_dump(exclude_none=True) for s in sels]
    return out[0] if len(out) == 1 else out


def profile_to_yaml(profile: Profile) -> str:
    """The profile as YAML that :func:`parse_profile` reads back to an equal profile."""
    check_instance("profile", profile, Profile)
    data: dict[str, Any] = {}
    for name, info in Profile.model_fields.items():
        value = getattr(profile, name)
        if value == info.get_default(call_default_factory=True) and name not in ("name",):
            continue
        if name in (*_SINGLE_COLUMNS, "ignore"):
            data[name] = (
                _plain_selectors(value)
                if name != "ignore"
                else [
                    s.column if s.column is not None else s.model_dump(exclude_none=True)
                    for s in value
                ]
            )
        elif name == "time":
            t = value.model_dump(exclude_defaults=True)
            t["column"] = _plain_selectors(value.column)
            t["format"] = value.format[0] if len(value.format) == 1 else list(value.format)
            data[name] = t
        elif name in ("submission_attributes", "reviewer_attributes"):
            data[name] = {k: _plain_selectors(v) for k, v in value.items()}
        elif name in ("criteria", "comments"):
            data[name] = [c.model_dump(exclude_none=True) for c in value]
        else:
            data[name] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
