"""The store's rubrics: stored once per (id, version), read back parsed and cached."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from calibrate._checks import check_instance
from calibrate._problems import Problem
from calibrate.rubric import Rubric, parse_rubric, revision_maps, rubric_to_yaml
from calibrate.store._base import StoreBase, new_pk
from calibrate.store._connection import now_iso
from calibrate.store._errors import ConflictError

__all__ = ["RubricsMixin"]


@functools.lru_cache(maxsize=64)
def _parse_stored_rubric(text: str, source: str) -> Rubric:
    # A stored rubric never changes under its (id, version) and Rubric is frozen, so
    # parsing once per text is safe; dashboards read the rubric on every refresh.
    return parse_rubric(text, source=source)


class RubricsMixin(StoreBase):
    """Rubrics: each stored once per (id, version), with its criteria in rubric order."""

    def add_rubric(self, rubric: Rubric) -> bool:
        """Store a rubric; return True if it was new, False if already stored.

        Adding the same id, version and content again does nothing. Different content
        under a stored id and version is a :class:`ConflictError`: give the changed
        rubric a new ``version``.
        """
        check_instance("rubric", rubric, Rubric)
        return self._write(lambda: self._ensure_rubric(rubric)[2], f"add rubric {rubric.id!r}")

    def rubric(self, rubric_id: str, version: str | None = None) -> Rubric:
        """The stored rubric ``rubric_id`` (the most recently added version if not given)."""

        def read() -> Rubric:
            pk = self._rubric_pk(rubric_id, version)
            return self._rubric_at(pk)

        return self._read(read)

    def rubrics(self) -> pd.DataFrame:
        """Every stored rubric version: rubric_id, version, title, criteria, added_at."""
        rows = self._read(
            lambda: self._c.execute(
                "SELECT r.rubric_id, r.version, r.title, "
                "(SELECT count(*) FROM criteria c WHERE c.rubric_pk = r.rubric_pk), r.added_at "
                "FROM rubrics r ORDER BY r.rubric_id, r.rubric_pk"
            ).fetchall()
        )
        return pd.DataFrame(rows, columns=["rubric_id", "version", "title", "criteria", "added_at"])

    # ---- internals ---------------------------------------------------------------
    def _ensure_rubric(self, rubric: Rubric) -> tuple[int, np.ndarray, bool]:
        """(rubric_pk, criterion_pk by rubric position, whether it was added)."""
        c = self._c
        text = rubric_to_yaml(rubric)
        row = c.execute(
            "SELECT rubric_pk, yaml FROM rubrics WHERE rubric_id = ? AND version = ?",
            (rubric.id, rubric.version),
        ).fetchone()
        added = row is None
        if added:
            self._check_revision(rubric)
        if added:
            pk = new_pk(
                c.execute(
                    "INSERT INTO rubrics (rubric_id, version, title, yaml, added_at) VALUES (?, ?, ?, ?, ?)",
                    (rubric.id, rubric.version, rubric.title, text, now_iso()),
                )
            )
            c.executemany(
                "INSERT INTO criteria (rubric_pk, criterion_id, position) VALUES (?, ?, ?)",
                [(pk, cid, i) for i, cid in enumerate(rubric.criterion_ids)],
            )
        else:
            pk, stored_text = row
            if stored_text != text:
                stored = parse_rubric(
                    stored_text, source=f"{self._path} (rubric {rubric.id} v{rubric.version})"
                )
                differ = _rubric_differences(stored, rubric)
                if differ:
                    raise ConflictError(
                        [
                            Problem(
                                f"rubric {rubric.id!r} version {rubric.version!r} is already stored with different "
                                f"{', '.join(differ)}; a changed rubric needs a new version (the stored ratings were "
                                "scored on the stored one)",
                                field=differ[0],
                            )
                        ],
                        store=str(self._path),
                    )
        crit = dict(
            c.execute(
                "SELECT position, criterion_pk FROM criteria WHERE rubric_pk = ?", (pk,)
            ).fetchall()
        )
        return (
            int(pk),
            np.array([crit[i] for i in range(len(rubric.criteria))], dtype=np.int64),
            added,
        )

    def _check_revision(self, rubric: Rubric) -> None:
        """A revised rubric's ``replaces`` must fit the version it names, if that is stored
        (:func:`calibrate.rubric.revision_maps` raises a RubricError listing every problem)."""
        if rubric.replaces is None:
            return
        row = self._c.execute(
            "SELECT rubric_pk FROM rubrics WHERE rubric_id = ? AND version = ?",
            (rubric.id, rubric.replaces.version),
        ).fetchone()
        if row is not None:
            revision_maps(rubric, self._rubric_at(int(row[0])))

    def _rubric_pk(self, rubric_id: str, version: str | None, *, table: str | None = None) -> int:
        """The rubric_pk of ``rubric_id`` at ``version``.

        Without a version: with ``table``, the one version that has rows there (an error
        if several do; the newest if none); without, the most recently added version.
        """
        c = self._c
        rows = c.execute(
            "SELECT rubric_pk, version FROM rubrics WHERE rubric_id = ? ORDER BY rubric_pk",
            (rubric_id,),
        ).fetchall()
        if not rows:
            known = [
                r[0] for r in c.execute("SELECT DISTINCT rubric_id FROM rubrics ORDER BY rubric_id")
            ]
            listed = ", ".join(map(repr, known)) if known else "none yet"
            raise ValueError(
                f"rubric {rubric_id!r} is not in the store {self._path} (stored rubrics: {listed})"
            )
        if version is not None:
            for pk, v in rows:
                if v == str(version):
                    return int(pk)
            raise ValueError(
                f"rubric {rubric_id!r} has no version {version!r} in the store; stored versions: {[v for _, v in rows]}"
            )
        if table is not None and len(rows) > 1:
            used = [
                (pk, v)
                for pk, v in rows
                if c.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {table} WHERE rubric_pk = ?)", (pk,)
                ).fetchone()[0]
            ]
            if len(used) == 1:
                return int(used[0][0])
            if len(used) > 1:
                counts = [
                    f"{v} ({c.execute(f'SELECT count(*) FROM {table} WHERE rubric_pk = ?', (pk,)).fetchone()[0]} rows)"
                    for pk, v in used
                ]
                raise ValueError(
                    f"rubric {rubric_id!r} has {table.replace('_', ' ')} under several versions: {', '.join(counts)}; "
                    "name one with version=..."
                )
        return int(rows[-1][0])

    def _rubric_at(self, rubric_pk: int) -> Rubric:
        rubric_id, version, text = self._c.execute(
            "SELECT rubric_id, version, yaml FROM rubrics WHERE rubric_pk = ?", (rubric_pk,)
        ).fetchone()
        return _parse_stored_rubric(text, f"{self._path} (rubric {rubric_id} v{version})")


def _rubric_differences(a: Rubric, b: Rubric) -> list[str]:
    """Top-level fields in which two rubrics differ (``scale`` only feeds the levels)."""
    da, db = a.model_dump(exclude={"scale"}), b.model_dump(exclude={"scale"})
    return [k for k in da if da[k] != db.get(k)]
