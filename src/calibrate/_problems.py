"""Problems found in user data, reported all at once.

Every reader in the kit collects :class:`Problem` records instead of stopping at the
first one, then raises a single :class:`DataProblemError` that lists them all. Each
problem names where it is (file, row, column or field path, line) and what was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = [
    "PER_KIND",
    "DataProblemError",
    "Problem",
    "RatingsError",
    "RubricError",
    "group_problems",
    "more_like_this",
    "shown_value",
]

#: How many problems ``str(error)`` spells out; all of them stay in ``error.problems``.
_SHOWN = 50
#: How many problems of one kind are listed; the rest are counted ("... and 399,950 more
#: like this"), so a wrong rubric on a million rows is a page, not 150 MB.
PER_KIND = 50
#: How much of a value a problem quotes (a 10 MB cell is not printed back).
_VALUE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, and where it is.

    ``row`` counts as a spreadsheet does: the header is row 1, the first data row 2.
    ``field`` is a dotted path into a structured file (``criteria[2].levels[0].score``).
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    field: str | None = None
    line: int | None = None
    #: What sort of problem this is; problems of one kind are grouped (default: the message).
    kind: str | None = None
    #: When above 0, this record is not a problem itself: it stands for ``more`` further
    #: problems of its ``kind`` that are counted but not listed.
    more: int = 0

    @property
    def group(self) -> str:
        """The key problems are grouped by: ``kind``, or the message when there is none."""
        return self.kind or self.message

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field {self.field}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def shown_value(value: object) -> str:
    """A cell's text as a problem quotes it: whole when short, else its start and length."""
    text = str(value)
    if len(text) <= _VALUE_CHARS:
        return text
    return f"{text[:_VALUE_CHARS]}... ({len(text):,} characters)"


def more_like_this(first: Problem, n: int) -> Problem:
    """The record that stands for ``n`` further problems of ``first``'s kind."""
    return Problem(
        f"... and {n:,} more like this ({first.group})",
        file=first.file,
        column=first.column,
        kind=first.group,
        more=n,
    )


def group_problems(problems: Iterable[Problem], per_kind: int = PER_KIND) -> list[Problem]:
    """At most ``per_kind`` problems of each kind, in the order given, then one
    :func:`more_like_this` record per kind that had more (counts already in such records
    are kept, so grouping twice, or grouping joined lists, counts right)."""
    listed: list[Problem] = []
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    first: dict[str, Problem] = {}
    for p in problems:
        g = p.group
        if p.more:
            hidden[g] = hidden.get(g, 0) + p.more
            first.setdefault(g, p)
            continue
        first.setdefault(g, p)
        if shown.get(g, 0) < per_kind:
            shown[g] = shown.get(g, 0) + 1
            listed.append(p)
        else:
            hidden[g] = hidden.get(g, 0) + 1
    for g, n in hidden.items():
        p = first[g]
        listed.append(p if p.more == n else more_like_this(p, n))
    return listed


class DataProblemError(ValueError):
    """Raised when an input has problems; ``.problems`` lists them, at most
    :data:`PER_KIND` of a kind: a record with ``more > 0`` counts the rest of its kind.

    ``.problem_counts`` gives, per kind, how many problems there are and how many are
    listed; ``.total`` counts them all.
    """

    kind = "data"

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(group_problems(problems))
        super().__init__(self._summary())

    @property
    def total(self) -> int:
        """How many problems were found (listed or counted)."""
        return sum(p.more or 1 for p in self.problems)

    @property
    def problem_counts(self) -> list[dict[str, object]]:
        """Per kind of problem: ``{"kind", "count", "listed"}``, in order of first listing."""
        counts: dict[str, list[int]] = {}
        for p in self.problems:
            c = counts.setdefault(p.group, [0, 0])
            c[0] += p.more or 1
            c[1] += 0 if p.more else 1
        return [{"kind": k, "count": n, "listed": shown} for k, (n, shown) in counts.items()]

    def lines(self) -> list[str]:
        """The problems as lines: each kind's listed problems, then its "... and N more"."""
        if not any(p.more for p in self.problems):
            return [f"  - {p}" for p in self.problems]
        order: dict[str, list[Problem]] = {}
        for p in self.problems:
            order.setdefault(p.group, []).append(p)
        return [f"  - {p}" for group in order.values() for p in group]

    def _summary(self) -> str:
        n = self.total
        head = f"{n:,} problem{'s' if n != 1 else ''} in the {self.kind}:"
        lines = self.lines()
        if len(lines) > _SHOWN:
            lines = [
                *lines[:_SHOWN],
                f"  ... and {len(lines) - _SHOWN} more lines (all are in the error's .problems)",
            ]
        return "\n".join([head, *lines])


class RubricError(DataProblemError):
    """A rubric file that cannot be used."""

    kind = "rubric"


class RatingsError(DataProblemError):
    """A ratings, answer-key or wide-sheet file that does not fit its rubric."""

    kind = "ratings"
