"""Public readers: ratings (against a rubric, or scores as levels), answer keys, form exports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._checks import check_instance
from calibrate._problems import Problem, RatingsError
from calibrate.io._files import RawTable, load_cells, normalise_header
from calibrate.io._validate import validate_key, validate_ratings
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.rubric import Rubric

__all__ = [
    "SCORES_ONLY_CRITERION",
    "read_key",
    "read_ratings",
    "read_ratings_without_rubric",
    "read_wide",
]

#: Criterion id given to the scores of a file without a criterion_id column (and no rubric).
SCORES_ONLY_CRITERION = "score"


def _check_sheet(sheet: object) -> None:
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, str | int)):
        raise TypeError(
            "sheet must be a sheet name (str), a sheet position (int) or None; "
            f"got {type(sheet).__name__}"
        )


def _cells(path: str | Path, sheet: str | int | None) -> RawTable:
    raw, problems = load_cells(path, sheet=sheet)
    if raw is None:
        raise RatingsError(problems)
    raw.problems = problems  # structural problems of some lines, reported with the rest
    return raw


def read_ratings(
    path: str | Path, rubric: Rubric, *, sheet: str | int | None = None
) -> RatingsTable:
    """Read and validate a long ratings file (CSV, TSV, Excel or Parquet).

    Columns (header names are matched ignoring case, spaces and hyphens):
    ``submission_id``, ``reviewer_id``, ``criterion_id`` (may be left out for a
    one-criterion rubric), ``score`` (a level score such as ``3``, ``3.0``, `` 3 `` or a
    level label such as ``Proficient``), and optionally ``rated_at`` (ISO 8601),
    ``round_id`` and ``kind`` (``anchor``, ``live`` or ``seeded``). Other columns are
    ignored. Criteria may be given by id or by name.

    Parameters
    ----------
    path : path of the file; its suffix says its format.
    rubric : the rubric the scores are checked against.
    sheet : for Excel, the sheet name or position (default: the first).

    Returns
    -------
    RatingsTable

    Raises
    ------
    RatingsError
        Every problem at once, each naming the file, row (the header is row 1), column,
        value and why. Nothing is returned when any row is bad.
    FileNotFoundError

    Examples
    --------
    >>> from calibrate.rubric import load_rubric
    >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
    >>> table = read_ratings("data/synthetic/pilot/ratings.csv", rubric)
    >>> table.frame.columns.tolist()
    ['submission_id', 'reviewer_id', 'criterion_id', 'score', 'rated_at', 'round_id', 'kind']
    """
    check_instance("rubric", rubric, Rubric)
    _check_sheet(sheet)
    return validate_ratings(_cells(path, sheet), rubric)


def read_key(
    path: str | Path,
    rubric: Rubric,
    *,
    ratings: RatingsTable | None = None,
    sheet: str | int | None = None,
) -> AnswerKey:
    """Read and validate an answer key: ``submission_id``, ``criterion_id``, ``key_score``
    and optionally ``rationale``.

    With ``ratings``, a key for a submission that the ratings score only as ``live`` is an
    error: keys belong to anchors. Raises :class:`RatingsError` listing every problem.
    """
    check_instance("rubric", rubric, Rubric)
    if ratings is not None:
        check_instance("ratings", ratings, RatingsTable, "None or a calibrate.ratings.RatingsTable")
    _check_sheet(sheet)
    return validate_key(_cells(path, sheet), rubric, ratings=ratings)


def read_wide(
    path: str | Path,
    rubric: Rubric,
    *,
    submission: str = "submission_id",
    reviewer: str = "reviewer_id",
    rated_at: str | None = None,
    round_id: str | None = None,
    kind: str | None = None,
    criteria: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> RatingsTable:
    """Read a form export: one row per (reviewer, submission), one column per criterion.

    Parameters
    ----------
    submission, reviewer, rated_at, round_id, kind : names of the columns holding them
        (matched ignoring case, spaces and hyphens; ``rated_at`` etc. are optional).
    criteria : mapping of sheet column -> criterion id. By default a column whose
        header is a criterion's id or name is that criterion's.

    A blank criterion cell is a criterion the reviewer did not score (no rating). Errors
    name the sheet row and the criterion's column. Raises :class:`RatingsError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from calibrate.rubric import load_rubric
    >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
    >>> sheet = pathlib.Path(tempfile.mkdtemp()) / "form.csv"
    >>> _ = sheet.write_text(
    ...     "Reviewer ID,Submission ID,Overview questions,Classroom artifacts,Reflection\\n"
    ...     "R1,S1,3,Proficient,4\\nR2,S1,2,3,\\n")
    >>> read_wide(sheet, rubric).frame[["reviewer_id", "criterion_id", "score"]].values.tolist()
    [['R1', 'overview', 3], ['R1', 'artifacts', 3], ['R1', 'reflection', 4], ['R2', 'overview', 2], ['R2', 'artifacts', 3]]
    """
    check_instance("rubric", rubric, Rubric)
    columns = {"submission": submission, "reviewer": reviewer}
    optional = {"rated_at": rated_at, "round_id": round_id, "kind": kind}
    for name, column in columns.items():
        check_instance(name, column, str, "a column name (str)")
    for name, maybe in optional.items():
        if maybe is not None:
            check_instance(name, maybe, str, "None or a column name (str)")
    if criteria is not None and not isinstance(criteria, Mapping):
        raise TypeError(
            "criteria must be None or a mapping of sheet column -> criterion id; "
            f"got {type(criteria).__name__}"
        )
    _check_sheet(sheet)
    raw = _cells(path, sheet)
    f = raw.frame
    header_of = dict(zip(f.columns, raw.header, strict=True))
    ids = {
        "submission_id": submission,
        "reviewer_id": reviewer,
        "rated_at": rated_at,
        "round_id": round_id,
        "kind": kind,
    }
    ids = {k: normalise_header(v) for k, v in ids.items() if v is not None}
    problems = [
        Problem(
            f"column {header!r} (for {k}) is not in the sheet (columns: {', '.join(raw.header)})",
            file=raw.source,
            row=1,
            column=header,
        )
        for k, header in ids.items()
        if header not in f.columns
    ]
    if criteria is None:
        known = {normalise_header(c.id): c.id for c in rubric.criteria} | {
            normalise_header(c.name): c.id for c in rubric.criteria
        }
        crit_cols = {
            col: known[col] for col in f.columns if col in known and col not in ids.values()
        }
    else:
        crit_cols = {}
        for col, cid in criteria.items():
            if normalise_header(col) not in f.columns:
                problems.append(
                    Problem(
                        f"criterion column {col!r} is not in the sheet",
                        file=raw.source,
                        row=1,
                        column=col,
                    )
                )
            elif cid not in rubric.criterion_ids:
                problems.append(
                    Problem(
                        f"criteria maps column {col!r} to {cid!r}, which is not a criterion of {rubric.id!r}",
                        file=raw.source,
                        row=1,
                        column=col,
                    )
                )
            else:
                crit_cols[normalise_header(col)] = cid
    if not crit_cols and not problems:
        problems.append(
            Problem(
                f"no column is a criterion of rubric {rubric.id!r} (looked for ids or names: {', '.join(rubric.criterion_ids)})",
                file=raw.source,
                row=1,
            )
        )
    if problems:
        raise RatingsError(problems)

    n, cols = len(f), list(crit_cols)
    cells = np.column_stack([f[c].to_numpy(dtype=object) for c in cols]).ravel()
    rows = np.repeat(np.arange(n), len(cols))
    keep = cells != ""
    long = pd.DataFrame({k: f[v].to_numpy(dtype=object)[rows[keep]] for k, v in ids.items()})
    long["criterion_id"] = np.tile(np.array([crit_cols[c] for c in cols], dtype=object), n)[keep]
    long["score"] = cells[keep]
    labels = np.tile(np.array([header_of[c] for c in cols], dtype=object), n)[keep]
    melted = RawTable(
        long.astype(str), raw.rows[rows[keep]], [*ids, "criterion_id", "score"], raw.source
    )
    return validate_ratings(melted, rubric, score_labels=labels)


def read_ratings_without_rubric(
    path: str | Path, *, sheet: str | int | None = None
) -> RatingsTable:
    """Read a ratings file that comes without a rubric: the scores are the levels.

    The file needs ``submission_id``, ``reviewer_id`` and ``score`` (whole numbers);
    with a ``criterion_id`` column each criterion gets the scores that occur in the
    file as its levels, without one the scores are one criterion named ``score``. The
    rubric built for it has a placeholder pass rule: decisions are not meaningful.

    The problems name ``--rubric``, the option of ``calibrate reliability`` that reads
    files this way when no rubric is given.

    Raises
    ------
    RatingsError
        Every problem at once (missing columns, scores that are not whole numbers,
        criterion ids that cannot be used, fewer than two distinct scores).
    FileNotFoundError

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = path.write_text("submission_id,reviewer_id,score\\nS1,R1,3\\nS1,R2,2\\nS2,R1,5\\n")
    >>> table = read_ratings_without_rubric(path)
    >>> table.rubric.criterion_ids, table.rubric.criteria[0].scores
    (('score',), (2, 3, 5))
    """
    _check_sheet(sheet)
    raw, problems = load_cells(path, sheet=sheet)
    if raw is None:
        raise RatingsError(problems)
    f = raw.frame
    missing = [c for c in ("submission_id", "reviewer_id", "score") if c not in f.columns]
    if missing:
        raise RatingsError(
            [
                *problems,
                Problem(
                    f"missing column(s) {', '.join(missing)} (found: {', '.join(raw.header)}); "
                    "without --rubric the file needs submission_id, reviewer_id and score",
                    file=raw.source,
                    row=1,
                ),
            ]
        )
    text = f["score"].astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    whole = np.isfinite(numbers) & (numbers == np.round(numbers))
    for i in np.flatnonzero(~whole & (text.to_numpy() != ""))[:50]:
        problems.append(
            Problem(
                "without --rubric a score must be a whole number (the levels are the scores "
                "that occur); give --rubric to use level labels",
                file=raw.source,
                row=int(raw.rows[i]),
                column="score",
                value=str(text.iloc[i]),
            )
        )
    levels = sorted({int(v) for v in numbers[whole]})
    if problems:
        raise RatingsError(problems)
    if len(levels) < 2:
        raise RatingsError(
            [
                Problem(
                    f"every score is {levels[0] if levels else 'blank'}: reliability needs at least two "
                    "different scores, or give --rubric with the full scale",
                    file=raw.source,
                    column="score",
                )
            ]
        )
    if "criterion_id" in f.columns:
        ids = sorted({c.strip() for c in f["criterion_id"].astype(str) if c.strip()})
    else:
        ids = [SCORES_ONLY_CRITERION]
    scale = [{"score": s, "label": str(s)} for s in levels]
    try:
        rubric = Rubric.model_validate(
            {
                "id": "scores-as-given",
                "title": "Scores as given (no rubric)",
                "version": "1",
                "scale": scale,
                "criteria": [{"id": c, "name": c} for c in ids],
                "pass_rule": {"min_level": levels[0]},
            }
        )
    except ValueError as exc:
        raise RatingsError(
            [
                Problem(
                    f"criterion ids cannot be used as they are ({exc.__class__.__name__}); "
                    "ids need letters, digits, '_', '.' or '-', or give --rubric",
                    file=raw.source,
                    column="criterion_id",
                )
            ]
        ) from None
    return read_ratings(path, rubric, sheet=sheet)
