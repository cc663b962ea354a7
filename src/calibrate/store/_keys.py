"""The store's answer keys: importing a key in one transaction and reading it back."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate._problems import Problem
from calibrate.ratings import AnswerKey
from calibrate.store._base import (
    CHUNK_ROWS,
    Progress,
    check_progress,
    check_sha,
    insert_rows,
)
from calibrate.store._errors import ConflictError
from calibrate.store._imports import ImportReport, ImportsMixin, check_rows, row_of
from calibrate.store._prepare import PreparedKey, prepare_key

__all__ = ["KeysMixin"]


class KeysMixin(ImportsMixin):
    """Answer keys: the key score (and rationale) of each anchor and criterion."""

    def import_key(
        self,
        key: AnswerKey,
        *,
        source: str | None = None,
        sha256: str | None = None,
        progress: Progress | None = None,
        rows: Sequence[int] | np.ndarray | None = None,
    ) -> ImportReport:
        """Add an answer key to the store in one transaction.

        A key score already stored with the same value is already present (its
        rationale stays as first stored); a different value is a :class:`ConflictError`
        naming the key file's row (``rows``), submission, criterion and both scores.
        Parameters and errors are those of :meth:`import_ratings`.
        """
        check_progress(progress)
        file_rows = check_rows(rows, len(key))
        prepared = prepare_key(key)
        source = key.source if source is None else str(source)
        return self._write(
            lambda: self._import_key(prepared, source, check_sha(sha256), progress, file_rows),
            f"import {source or 'answer key'}",
        )

    def answer_key(self, rubric_id: str, *, version: str | None = None) -> AnswerKey:
        """The stored answer key of a rubric (rows by submission, then criterion)."""
        return self._read(lambda: self._read_key(rubric_id, version))

    # ---- internals ---------------------------------------------------------------
    def _import_key(
        self,
        p: PreparedKey,
        source: str | None,
        sha256: str | None,
        progress: Progress | None,
        file_rows: np.ndarray | None = None,
    ) -> ImportReport:
        c = self._c
        n = len(p)
        rubric_pk, crit_pks, _ = self._ensure_rubric(p.rubric)
        sub_pk = self._intern("submissions", "submission_pk", "submission_id", p.sub_names)[
            p.sub_codes
        ]
        crit_pk = crit_pks[p.crit]
        import_pk = self._record_import("key", rubric_pk, source, sha256, n)
        before = c.total_changes
        head = "INSERT INTO answer_keys (rubric_pk, submission_pk, criterion_pk, key_score, rationale, import_pk) VALUES"
        row = f"({rubric_pk}, ?, ?, ?, ?, {import_pk})"
        for lo in range(0, n, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, n)
            insert_rows(
                c,
                head,
                row,
                "ON CONFLICT DO NOTHING",
                [
                    sub_pk[lo:hi].tolist(),
                    crit_pk[lo:hi].tolist(),
                    p.score[lo:hi].tolist(),
                    p.rationale[lo:hi].tolist(),
                ],
            )
            if progress is not None:
                progress(hi, n)
        added = c.total_changes - before
        if added < n:
            stored = dict(
                ((s, k), (v, imp))
                for s, k, v, imp in c.execute(
                    "SELECT submission_pk, criterion_pk, key_score, import_pk FROM answer_keys WHERE rubric_pk = ?",
                    (rubric_pk,),
                )
            )
            problems = []
            for i in range(n):
                v, imp = stored[(int(sub_pk[i]), int(crit_pk[i]))]
                if v != p.score[i]:
                    file_row, at = row_of(p.pos[i], file_rows)
                    origin = f"import #{imp}"
                    problems.append(
                        Problem(
                            f"{at}the key for submission {str(p.sub_names[p.sub_codes[i]])!r}, criterion "
                            f"{p.rubric.criterion_ids[p.crit[i]]!r} is stored with score {v} ({origin}); this key has {int(p.score[i])}",
                            file=source,
                            row=file_row,
                            column="key_score",
                            value=str(int(p.score[i])),
                        )
                    )
            if problems:
                raise ConflictError(problems, store=str(self._path))
        self._finish_import(import_pk, added, n - added)
        return ImportReport(
            rows=n,
            added=added,
            already_present=n - added,
            rubric_id=p.rubric.id,
            source=source,
            rubric_version=p.rubric.version,
            what="key",
            sha256=sha256,
            import_id=import_pk,
        )

    def _read_key(self, rubric_id: str, version: str | None) -> AnswerKey:
        c = self._c
        rubric_pk = self._rubric_pk(rubric_id, version, table="answer_keys")
        rubric = self._rubric_at(rubric_pk)
        rows = c.execute(
            "SELECT k.submission_pk, c.position, k.key_score, k.rationale FROM answer_keys AS k "
            "JOIN criteria AS c USING (criterion_pk) WHERE k.rubric_pk = ?",
            (rubric_pk,),
        ).fetchall()
        sub_pk = np.array([r[0] for r in rows], dtype=np.int64)
        crit = np.array([r[1] for r in rows], dtype=np.int64)
        score = np.array([r[2] for r in rows], dtype=np.int64)
        rationale = np.array([r[3] for r in rows], dtype=object)
        sub, sub_codes = self._categorical("submissions", "submission_pk", "submission_id", sub_pk)
        order = np.lexsort((crit, sub_codes))
        frame = pd.DataFrame(
            {
                "submission_id": pd.Categorical.from_codes(sub_codes[order], dtype=sub.dtype),
                "criterion_id": pd.Categorical.from_codes(
                    crit[order], categories=list(rubric.criterion_ids)
                ),
                "key_score": score[order],
                "rationale": rationale[order],
            }
        )
        return AnswerKey(frame, rubric, str(self._path))
