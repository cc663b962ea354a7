"""Submission and reviewer attributes (district, cohort, role, ...) in the store, with
their history: a changed value is refused, or with ``supersede`` kept as it was."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from calibrate._problems import Problem, RatingsError
from calibrate.store._base import check_sha
from calibrate.store._connection import now_iso
from calibrate.store._errors import ConflictError
from calibrate.store._imports import SUPERSEDE_HINT, ImportsMixin, check_supersede

__all__ = ["ATTRIBUTE_HISTORY_COLUMNS", "AttributesMixin", "AttributesReport"]

Facet = Literal["submission", "reviewer"]
#: facet -> (attributes table, id table, its key, its id column)
_TABLES: dict[str, tuple[str, str, str, str]] = {
    "submission": ("submission_attributes", "submissions", "submission_pk", "submission_id"),
    "reviewer": ("reviewer_attributes", "reviewers", "reviewer_pk", "reviewer_id"),
}
#: Columns of :meth:`AttributesMixin.attribute_history` after the id column.
ATTRIBUTE_HISTORY_COLUMNS = (
    "name",
    "value",
    "import_id",
    "superseded_at",
    "superseded_by",
    "reason",
)
_MAX_CONFLICTS = 1000


@dataclass(frozen=True)
class AttributesReport:
    """What one attribute import did.

    Attributes
    ----------
    values : int
        (id, attribute) values in the frames given (blank values are not counted).
    added, already_present, superseded : int
        New to the store; stored with the same value; stored with another value and
        replaced (``supersede``), the old value kept in the history.
    submissions, reviewers : int
        Ids with at least one value.
    import_id : int
        The import's number in the store's ``imports`` table (what = "attributes").
    source, reason : str or None
    """

    values: int
    added: int
    already_present: int
    superseded: int
    submissions: int
    reviewers: int
    import_id: int
    source: str | None = None
    reason: str | None = None

    def __str__(self) -> str:
        src = f"{self.source}: " if self.source else ""
        replaced = f", {self.superseded} superseded ({self.reason})" if self.superseded else ""
        return (
            f"{src}{self.values} attribute values of {self.submissions} submissions and "
            f"{self.reviewers} reviewers: {self.added} new, {self.already_present} already in "
            f"the store{replaced}"
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class AttributesMixin(ImportsMixin):
    """Attributes of submissions and reviewers: stored, read back, their history kept."""

    def import_attributes(
        self,
        *,
        submission: pd.DataFrame | None = None,
        reviewer: pd.DataFrame | None = None,
        source: str | None = None,
        sha256: str | None = None,
        supersede: bool = False,
        reason: str | None = None,
    ) -> AttributesReport:
        """Store submission and/or reviewer attributes in one transaction.

        Each frame has one row per id: a ``submission_id`` (or ``reviewer_id``) column
        and one column per attribute (the column name is the attribute's name), values
        as text (integers are written as text; a blank or missing value stores nothing
        and removes nothing). The frames of :func:`calibrate.io.read_submission_attributes`
        are of this shape. Ids new to the store are added.

        A value stored before with the same text is already present; another value is
        a :class:`ConflictError` naming the id, attribute and both values, unless
        ``supersede``: then the new value is current and the old one is kept in the
        history (:meth:`attribute_history`) with when, ``reason`` and this import.

        Raises
        ------
        TypeError
            A frame that is not a DataFrame, a value that is not text or an integer.
        RatingsError
            Every problem of the frames at once (no id column, a blank or repeated id, a
            blank or repeated attribute name); nothing is written.
        ConflictError
            Stored values that would change (without ``supersede``); nothing is written.
        """
        why = check_supersede(supersede, reason)
        if submission is None and reviewer is None:
            raise ValueError("give submission=DataFrame and/or reviewer=DataFrame; got neither")
        staged = {
            facet: _values(frame, facet, source)
            for facet, frame in (("submission", submission), ("reviewer", reviewer))
            if frame is not None
        }
        problems = [p for _, _, _, ps in staged.values() for p in ps]
        if problems:
            raise RatingsError(problems)
        return self._write(
            lambda: self._import_attributes(staged, source, check_sha(sha256), why),
            f"import attributes{' of ' + source if source else ''}",
        )

    def attributes(self, what: Facet = "submission") -> pd.DataFrame:
        """The current attributes of every submission (or reviewer) that has one: the
        id column and one text column per attribute name (sorted), None where an id has
        no value; rows sorted by id."""
        table, ids, pk, idcol = _facet(what)

        def read() -> pd.DataFrame:
            rows = self._c.execute(
                f"SELECT i.{idcol}, a.name, a.value FROM {table} a JOIN {ids} i USING ({pk})"
            ).fetchall()
            long = pd.DataFrame(rows, columns=[idcol, "name", "value"])
            if long.empty:
                return pd.DataFrame({idcol: pd.Series([], dtype=object)})
            wide = long.pivot(index=idcol, columns="name", values="value").sort_index()
            wide = wide.astype(object).where(wide.notna(), None)
            wide.columns.name = None
            return wide[sorted(wide.columns)].reset_index()

        return self._read(read)

    def attribute_history(self, what: Facet = "submission") -> pd.DataFrame:
        """Every version of the submission (or reviewer) attributes: the id column and
        :data:`ATTRIBUTE_HISTORY_COLUMNS`; ``superseded_at``, ``superseded_by`` and
        ``reason`` are empty for current values. Rows by id and name, oldest first."""
        table, ids, pk, idcol = _facet(what)

        def read() -> pd.DataFrame:
            rows = self._c.execute(
                f"SELECT i.{idcol}, v.name, v.value, v.import_pk, v.superseded_at, v.superseded_by, v.reason "
                f"FROM (SELECT {pk} AS id_pk, name, value, import_pk, NULL AS superseded_at, "
                f"NULL AS superseded_by, NULL AS reason, 1 AS cur FROM {table} "
                "UNION ALL SELECT id_pk, name, value, import_pk, superseded_at, superseded_by, reason, 0 "
                "FROM attribute_history WHERE what = ?) v "
                f"JOIN {ids} i ON i.{pk} = v.id_pk ORDER BY i.{idcol}, v.name, v.cur, v.superseded_at",
                (what,),
            ).fetchall()
            frame = pd.DataFrame(rows, columns=[idcol, *ATTRIBUTE_HISTORY_COLUMNS])
            for col in ("import_id", "superseded_by"):
                frame[col] = frame[col].astype("Int64")
            return frame

        return self._read(read)

    # ---- internals ---------------------------------------------------------------
    def _import_attributes(
        self,
        staged: dict[str, tuple[np.ndarray, list[str], list[str], list[Problem]]],
        source: str | None,
        sha256: str | None,
        reason: str | None,
    ) -> AttributesReport:
        c = self._c
        n = sum(len(v[1]) for v in staged.values())
        import_pk = self._record_import("attributes", None, source, sha256, n, reason)
        c.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _attrs (pos INTEGER PRIMARY KEY, id_pk INTEGER, "
            "name TEXT, value TEXT)"
        )
        added = superseded = 0
        problems: list[Problem] = []
        counts = {"submission": 0, "reviewer": 0}
        for facet, (id_names, names, values, _) in staged.items():
            table, ids, pk, idcol = _TABLES[facet]
            if not len(id_names):
                continue
            uniq, codes = np.unique(id_names, return_inverse=True)
            pks = self._intern(ids, pk, idcol, uniq.astype(object))[codes]
            counts[facet] = len(uniq)
            c.execute("DELETE FROM temp._attrs")
            c.executemany(
                "INSERT INTO temp._attrs VALUES (?, ?, ?, ?)",
                zip(range(len(names)), pks.tolist(), names, values, strict=True),
            )
            before = c.total_changes
            c.execute(
                f"INSERT INTO {table} ({pk}, name, value, import_pk) "
                f"SELECT id_pk, name, value, {import_pk} FROM temp._attrs WHERE true "
                "ON CONFLICT DO NOTHING"
            )
            added += c.total_changes - before
            pair = f"FROM temp._attrs x JOIN {table} a ON a.{pk} = x.id_pk AND a.name = x.name"
            join = f"{pair} WHERE a.value != x.value"
            if reason is None:
                total = c.execute(f"SELECT count(*) {join}").fetchone()[0]
                for id_, name, old, new, imp in c.execute(
                    f"SELECT i.{idcol}, x.name, a.value, x.value, a.import_pk {pair} "
                    f"JOIN {ids} i ON i.{pk} = x.id_pk WHERE a.value != x.value "
                    f"ORDER BY x.pos LIMIT {_MAX_CONFLICTS}"
                ):
                    problems.append(
                        Problem(
                            f"{facet} {id_!r} has {name!r} = {old!r} in the store (import #{imp}); "
                            f"this table has {new!r}",
                            file=source,
                            column=name,
                            value=new,
                        )
                    )
                if total > _MAX_CONFLICTS:
                    problems.append(
                        Problem(f"... and {total - _MAX_CONFLICTS} more changed {facet} values")
                    )
                continue
            c.execute(
                "INSERT INTO attribute_history (what, id_pk, name, value, import_pk, superseded_at, "
                f"superseded_by, reason) SELECT ?, a.{pk}, a.name, a.value, a.import_pk, ?, ?, ? {join}",
                (facet, now_iso(), import_pk, reason),
            )
            changed = c.execute(f"SELECT x.id_pk, x.name, x.value {join}").fetchall()
            c.executemany(
                f"UPDATE {table} SET value = ?, import_pk = ? WHERE {pk} = ? AND name = ?",
                [(v, import_pk, i, nm) for i, nm, v in changed],
            )
            superseded += len(changed)
        c.execute("DELETE FROM temp._attrs")
        if problems:
            raise ConflictError(problems, store=str(self._path), hint=SUPERSEDE_HINT)
        self._finish_import(import_pk, added, n - added - superseded, superseded)
        return AttributesReport(
            values=n,
            added=added,
            already_present=n - added - superseded,
            superseded=superseded,
            submissions=counts["submission"],
            reviewers=counts["reviewer"],
            import_id=import_pk,
            source=source,
            reason=reason,
        )


def _facet(what: object) -> tuple[str, str, str, str]:
    if what not in _TABLES:
        raise ValueError(f"what must be 'submission' or 'reviewer'; got {what!r}")
    return _TABLES[str(what)]


def _values(
    frame: object, facet: str, source: str | None
) -> tuple[np.ndarray, list[str], list[str], list[Problem]]:
    """A frame's (id, name, value) triples (blank values left out), and its problems."""
    idcol = _TABLES[facet][3]
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{facet} must be a pandas DataFrame with a {idcol} column and one column per "
            f"attribute; got {type(frame).__name__}"
        )
    problems: list[Problem] = []
    if idcol not in frame.columns:
        problems.append(
            Problem(
                f"the {facet} attributes have no {idcol} column (columns: {list(map(str, frame.columns))})",
                file=source,
                column=idcol,
            )
        )
        return np.array([], dtype=object), [], [], problems
    names = [c for c in frame.columns if c != idcol]
    for c in names:
        if not isinstance(c, str) or not c.strip():
            problems.append(
                Problem(f"an attribute name must be non-blank text; got {c!r}", file=source)
            )
    seen = [str(c).strip() for c in names]
    for c in sorted({c for c in seen if seen.count(c) > 1}):
        problems.append(Problem(f"attribute {c!r} is given twice", file=source, column=c))
    ids = [_text(v) for v in frame[idcol].tolist()]
    first: dict[str, int] = {}
    for pos, v in enumerate(ids):
        if not v:
            problems.append(Problem(f"table row {pos}: blank {idcol}", file=source, column=idcol))
        elif v in first:
            problems.append(
                Problem(
                    f"table row {pos}: {idcol} {v!r} is given twice (also table row {first[v]}); "
                    "give one row per id",
                    file=source,
                    column=idcol,
                    value=v,
                )
            )
        else:
            first[v] = pos
    out_ids: list[str] = []
    out_names: list[str] = []
    out_values: list[str] = []
    for c in names:
        for pos, v in enumerate(frame[c].tolist()):
            if isinstance(v, bool | np.bool_) or not (
                _missing(v) or isinstance(v, str | int | np.integer)
            ):
                problems.append(
                    Problem(
                        f"table row {pos}: attribute {str(c)!r} must be text or an integer; got {v!r}",
                        file=source,
                        column=str(c),
                        value=str(v),
                    )
                )
                continue
            text = _text(v)
            if text and ids[pos]:
                out_ids.append(ids[pos])
                out_names.append(str(c).strip())
                out_values.append(text)
    return np.array(out_ids, dtype=object), out_names, out_values, problems


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _text(v: object) -> str:
    return "" if _missing(v) else str(v).strip()
