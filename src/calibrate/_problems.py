"""Problems found in user data, reported all at once.

Every reader in the kit collects :class:`Problem` records instead of stopping at the
first one, then raises a single :class:`DataProblemError` that lists them all. Each
problem names where it is (file, row, column or field path, line) and what was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = ["DataProblemError", "Problem", "RatingsError", "RubricError"]

#: How many problems ``str(error)`` spells out; all of them stay in ``error.problems``.
_SHOWN = 50


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


class DataProblemError(ValueError):
    """Raised when an input has problems; ``.problems`` lists every one of them."""

    kind = "data"

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the {self.kind}:"
        lines = [f"  - {p}" for p in self.problems[:_SHOWN]]
        if n > _SHOWN:
            lines.append(f"  ... and {n - _SHOWN} more (all are in the error's .problems)")
        return "\n".join([head, *lines])


class RubricError(DataProblemError):
    """A rubric file that cannot be used."""

    kind = "rubric"


class RatingsError(DataProblemError):
    """A ratings, answer-key or wide-sheet file that does not fit its rubric."""

    kind = "ratings"
