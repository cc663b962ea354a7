"""Public readers: ratings (against a rubric, or scores as levels), answer keys, form exports."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_instance
from calibrate._problems import Problem, RatingsError
from calibrate.io._files import RawTable, load_cells, normalise_header
from calibrate.io._validate import validate_key, validate_ratings
from calibrate.ratings import (
    VERSION_COLUMN,
    AnswerKey,
    RatingsTable,
    VersionedRatings,
    combine_versions,
)
from calibrate.rubric import Rubric

__all__ = [
    "DECIMAL_SCORES_RUBRIC",
    "SCORES_ONLY_CRITERION",
    "SCORES_RUBRIC",
    "read_key",
    "read_ratings",
    "read_ratings_without_rubric",
    "read_versioned_ratings",
    "read_wide",
]

#: Criterion id given to the scores of a file without a criterion_id column (and no rubric).
SCORES_ONLY_CRITERION = "score"
#: Id of the rubric :func:`read_ratings_without_rubric` builds for whole-number scores or labels.
SCORES_RUBRIC = "scores-as-given"
#: Id of the rubric it builds for decimal scores: each level's score is its position and its
#: label the decimal value (``float(label)``), which is what the statistics use.
DECIMAL_SCORES_RUBRIC = "decimal-scores-as-given"
_NO_RUBRIC_LEVELS = ("nominal", "ordinal", "interval", "ratio")


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

    What is refused, each with its file, row, column and value:

    * ids (submission, reviewer, criterion, round) holding control or invisible format
      characters (Unicode Cc/Cf: U+200B, U+200D, U+FEFF, U+2060, bidi controls) or longer
      than :data:`calibrate.ratings.MAX_ID_LENGTH` (200) characters; ids are stripped and
      NFC-normalised (composed and decomposed "Renée" are one reviewer), nothing else;
    * one id written both as ``'=x`` (the ``'`` our exports put before formula-like text)
      and ``=x``: they would become one id;
    * scores that are no plain number (``3_0``, full-width or Arabic-Indic digits,
      ``1e400``, ``nan``, ``inf``, ``3e0``) and are no level label;
    * rows with more or fewer fields than the header ("row 2 has 9 fields where the header
      has 7"), repeated header names, more than :data:`MAX_COLUMNS` (1,000) columns, a
      cell over :data:`MAX_FIELD_CHARS` (100,000) characters, NUL bytes, bytes that are
      neither UTF-8 nor Windows-1252 (UTF-16 with a byte-order mark is read);
    * Excel cells holding a formula with no saved result (named with the sheet, the cell
      and the formula), an empty first sheet (the sheets with data are named).

    Problems of one kind are listed up to 50 times, then counted (``more``).

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


def read_versioned_ratings(
    path: str | Path, rubrics: Sequence[Rubric], *, sheet: str | int | None = None
) -> VersionedRatings:
    """Read a ratings file scored under several versions of a rubric (as ``calibrate
    export`` writes one: a ``rubric_version`` column) and combine them under the newest.

    Each row is validated against the rubric of its ``rubric_version`` (its row numbers
    are the file's), then :func:`calibrate.ratings.combine_versions` reads the older
    versions' ratings under the newest through the ``replaces`` chain. A file without the
    column is read under the one rubric given.

    Parameters
    ----------
    path : path of the file (CSV, TSV, Excel or Parquet, as :func:`read_ratings`).
    rubrics : one :class:`~calibrate.rubric.Rubric` per version in the file (any order).
    sheet : for Excel, the sheet name or position.

    Raises
    ------
    RatingsError
        Every problem at once: rows with no version or a version no rubric given has
        (file, row, column and value), and every row problem of every version.
    RubricError
        The rubrics do not form one revision chain, or a step does not fit.
    """
    rubrics = list(rubrics)
    if not rubrics:
        raise ValueError("rubrics must hold at least one Rubric; got none")
    for i, r in enumerate(rubrics):
        check_instance(f"rubrics[{i}]", r, Rubric)
    _check_sheet(sheet)
    raw = _cells(path, sheet)
    by_version = {r.version: r for r in rubrics}
    if len(by_version) != len(rubrics):
        raise ValueError(f"rubrics gives a version twice: {[r.version for r in rubrics]}")
    f = raw.frame
    if VERSION_COLUMN not in f.columns:
        if len(rubrics) > 1:
            raise RatingsError(
                [
                    Problem(
                        f"no {VERSION_COLUMN} column: with several rubric versions each row "
                        "must say which it was scored under",
                        file=raw.source,
                        row=1,
                    )
                ]
            )
        return combine_versions([validate_ratings(raw, rubrics[0])])
    text = f[VERSION_COLUMN].astype(str).str.strip()
    problems: list[Problem] = list(raw.problems)
    given = ", ".join(by_version)
    known = text.isin(list(by_version)).to_numpy()
    for j in np.flatnonzero(~known):
        empty = text.iat[j] == ""
        problems.append(
            Problem(
                "rubric version is empty"
                if empty
                else f"no rubric of this version was given (versions given: {given})",
                file=raw.source,
                row=int(raw.rows[j]),
                column=VERSION_COLUMN,
                value=None if empty else text.iat[j],
                kind="rubric version is empty" if empty else "unknown rubric version",
            )
        )
    tables = []
    for v, rubric in by_version.items():
        mask = (text == v).to_numpy()
        if not mask.any():
            continue
        part = RawTable(f.loc[mask].reset_index(drop=True), raw.rows[mask], raw.header, raw.source)
        try:
            tables.append(validate_ratings(part, rubric))
        except RatingsError as exc:
            problems += exc.problems
    if problems:
        raise RatingsError(problems)
    newest = [r for r in rubrics if r.version not in {t.rubric.version for t in tables}]
    tips = [
        r
        for r in newest
        if not any(o.replaces is not None and o.replaces.version == r.version for o in rubrics)
    ]
    if tips:  # the newest version has no ratings here: it still gives the criteria
        empty_part = RawTable(f.iloc[:0], raw.rows[:0], raw.header, raw.source)
        tables += [validate_ratings(empty_part, r) for r in tips]
    return combine_versions(tables)


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


def _problem(raw: RawTable, i: int, value: str, message: str) -> Problem:
    return Problem(message, file=raw.source, row=int(raw.rows[i]), column="score", value=value)


#: A number as a score is written: ASCII digits, an optional sign and decimal point.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _classify(text: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct score text: its number (NaN for a label), whether it is a label, and
    whether it is neither: text ``float()`` reads that is no plain number (``3_0``,
    full-width digits, ``1e400``, ``nan``, ``inf``)."""
    numbers = np.full(len(text), np.nan)
    label = np.zeros(len(text), dtype=bool)
    odd = np.zeros(len(text), dtype=bool)
    for k, t in enumerate(text):
        if _PLAIN_NUMBER.fullmatch(t):
            numbers[k] = float(t)
            continue
        try:
            float(t)
        except ValueError:
            label[k] = True
        else:
            odd[k] = True
    return numbers, label, odd


def _order_levels(order: object) -> list[str]:
    if isinstance(order, str):
        items = [t.strip() for t in order.split(",")]
    elif isinstance(order, list | tuple):
        items = [str(t).strip() for t in order]
    else:
        raise TypeError(
            f"order must be None, a comma-separated str or a list of labels; got {type(order).__name__}"
        )
    if any(not t for t in items):
        raise ValueError(f"order has an empty label; got {order!r}")
    folded = [t.casefold() for t in items]
    dup = sorted({t for t in items if folded.count(t.casefold()) > 1})
    if dup:
        raise ValueError(
            f"order lists {', '.join(repr(d) for d in dup)} more than once (labels match ignoring case)"
        )
    if len(items) < 2:
        raise ValueError(f"order needs at least two labels, lowest first; got {order!r}")
    return items


def read_ratings_without_rubric(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    level: str | None = None,
    order: str | list[str] | tuple[str, ...] | None = None,
) -> RatingsTable:
    """Read a ratings file that comes without a rubric: the scores are the levels.

    The file needs ``submission_id``, ``reviewer_id`` and ``score``; with a
    ``criterion_id`` column every criterion gets the levels that occur in the file, without
    one the scores are one criterion named ``score``. ``round_id``, ``kind`` and
    ``rated_at`` are read as by :func:`read_ratings`. The rubric built for it has a
    placeholder pass rule: decisions are not meaningful.

    What a score may be depends on ``level``:

    ========== ==================================================================
    level      scores
    ========== ==================================================================
    None       whole numbers (the levels are the numbers that occur)
    nominal    whole numbers, or labels (``a``, ``Proficient``, ``met``; a file with
               any label takes every score as a label, matched ignoring case, levels in
               sorted order). Decimals are refused (measurements, not categories).
    ordinal    whole numbers, or labels with ``order`` (labels are not ordered by
               themselves). Decimals are refused: give ``order`` to use them as labels.
    interval,  whole numbers or decimals (``2.5``; the levels are the distinct values)
    ratio
    ========== ==================================================================

    With ``order`` (nominal or ordinal) every score is a label and ``order`` lists the
    levels, lowest first, matched ignoring case and surrounding spaces.

    Whole numbers are the level scores, as in a rubric. Labels get their position in the
    level list (0, 1, ...) as score and keep their text as the level label (rubric id
    :data:`SCORES_RUBRIC`). Decimals also get their position as score, with the value as
    the label (rubric id :data:`DECIMAL_SCORES_RUBRIC`): :func:`reliability_table
    <calibrate.reliability.reliability_table>` computes with the values.

    Parameters
    ----------
    path : path of the file (CSV, TSV, Excel or Parquet); its suffix says its format.
    sheet : for Excel, the sheet name or position (default: the first).
    level : {'nominal', 'ordinal', 'interval', 'ratio'}, optional
        The level of measurement the scores will be analysed at (see above).
    order : str (comma-separated) or list of str, optional
        The labels in order, lowest first (nominal or ordinal only).

    The problems name the options of ``calibrate reliability`` (``--rubric``,
    ``--level``, ``--order``) that read files this way when no rubric is given.

    Raises
    ------
    RatingsError
        Every problem at once, each naming file, row, column and value (missing columns,
        scores that the level does not allow, labels not in ``order``, criterion ids that
        cannot be used, fewer than two distinct scores).
    FileNotFoundError
    TypeError, ValueError
        For a wrong ``level`` or ``order``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = path.write_text("submission_id,reviewer_id,score\\nS1,R1,3\\nS1,R2,2\\nS2,R1,5\\n")
    >>> table = read_ratings_without_rubric(path)
    >>> table.rubric.criterion_ids, table.rubric.criteria[0].scores
    (('score',), (2, 3, 5))
    >>> _ = path.write_text("submission_id,reviewer_id,score\\nS1,R1,low\\nS1,R2,high\\n")
    >>> table = read_ratings_without_rubric(path, level="ordinal", order="low,mid,high")
    >>> [(lv.score, lv.label) for lv in table.rubric.criteria[0].levels]
    [(0, 'low'), (1, 'mid'), (2, 'high')]

    References
    ----------
    Stevens, S. S. (1946). On the theory of scales of measurement. *Science*, 103(2684),
    677-680.
    """
    _check_sheet(sheet)
    if level is not None:
        check_choice("level", level, _NO_RUBRIC_LEVELS)
    levels_in_order = None if order is None else _order_levels(order)
    if levels_in_order is not None and level not in ("nominal", "ordinal"):
        raise ValueError(
            f"order names the levels of labels, at level 'nominal' or 'ordinal'; got level {level!r}"
        )
    raw, problems = load_cells(path, sheet=sheet)
    if raw is None:
        raise RatingsError(problems)
    raw.problems = problems  # structural problems of some lines, reported with the rest
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
    # every decision is taken on the distinct spellings, then spread to the rows
    codes, uniques = pd.factorize(f["score"], sort=False, use_na_sentinel=False)
    spelled = [str(u).strip() for u in uniques]
    merged, distinct = pd.factorize(pd.Index(spelled, dtype=object), sort=False)
    codes = merged[codes]  # spellings equal once stripped are one
    text = [str(u) for u in distinct]
    numbers, label, odd = _classify(text)
    blank = np.array([t == "" for t in text], dtype=bool)
    label &= ~blank
    finite = np.isfinite(numbers)
    whole = finite & (numbers == np.round(numbers))
    decimal = finite & ~whole
    bad_reason: dict[int, str] = {}
    if levels_in_order is not None:
        mode = "labels"
    elif level is None:
        mode = "whole"
        for u in np.flatnonzero(~whole & ~blank):
            bad_reason[int(u)] = (
                "without --rubric a score must be a whole number (the levels are the scores "
                "that occur); give --rubric to use level labels, or --level"
            )
    elif level == "nominal":
        mode = "labels" if label.any() else "whole"
        for u in np.flatnonzero(decimal | (~finite & ~label & ~blank)):
            bad_reason[int(u)] = (
                "a decimal score is a measurement, not a category: use --level interval or "
                "ratio, or name the categories with --order"
            )
    elif level == "ordinal":
        mode = "whole"
        for u in np.flatnonzero(label):
            bad_reason[int(u)] = (
                "a label at --level ordinal needs --order L1,L2,... (the labels, lowest "
                "first): labels are not ordered by themselves"
            )
        for u in np.flatnonzero(decimal | (~finite & ~label & ~blank)):
            bad_reason[int(u)] = (
                "at --level ordinal a score must be a whole number or a label in --order; "
                "use --level interval or ratio for decimals"
            )
    else:
        mode = "decimal" if decimal.any() else "whole"
        for u in np.flatnonzero(label | (~finite & ~label & ~blank)):
            bad_reason[int(u)] = (
                f"at --level {level} a score must be a finite number; give --level nominal "
                "(or ordinal with --order) for labels"
            )

    if levels_in_order is None:
        for u in np.flatnonzero(odd):
            bad_reason[int(u)] = (
                "not a plain number: a score is written with the digits 0-9, an optional "
                "sign and decimal point (not 3_0, full-width digits, 1e400, nan or inf)"
            )
    # the levels, and the score text each spelling becomes: the label of its level, which
    # validate_ratings resolves before any number
    new_text = np.array(text, dtype=object)
    if mode == "labels":
        if levels_in_order is None:
            firsts: dict[str, str] = {}
            for t in text:
                if t:
                    firsts.setdefault(t.casefold(), t)
            names = [firsts[k] for k in sorted(firsts)]
        else:
            names = levels_in_order
        position = {n.casefold(): i for i, n in enumerate(names)}
        for k, t in enumerate(text):
            if not t:
                continue
            if t.casefold() in position:
                new_text[k] = names[position[t.casefold()]]
            else:
                bad_reason[k] = (
                    f"{t!r} is not a label in --order ({', '.join(names)}); labels match "
                    "ignoring case"
                )
        scale = [{"score": i, "label": n} for i, n in enumerate(names)]
    elif mode == "decimal":
        values = np.unique(numbers[finite & ~blank])
        value_labels = [np.format_float_positional(v, trim="-") for v in values]
        pos = np.searchsorted(values, numbers)
        for u in np.flatnonzero(finite):
            new_text[u] = value_labels[int(pos[u])]
        scale = [{"score": i, "label": lab} for i, lab in enumerate(value_labels)]
    else:
        ints = sorted({int(v) for v in numbers[whole]})
        scale = [{"score": s, "label": str(s)} for s in ints]
    if bad_reason:
        bad = np.zeros(len(text), dtype=bool)
        bad[list(bad_reason)] = True
        rows = np.flatnonzero(bad[codes])
        problems.extend(
            _problem(raw, int(i), text[codes[i]], bad_reason[int(codes[i])]) for i in rows[:50]
        )
        if len(rows) > 50:
            problems.append(
                Problem(
                    f"{len(rows) - 50} more score(s) like these are left out of this list",
                    file=raw.source,
                    column="score",
                    kind="scores the level does not allow",
                    more=len(rows) - 50,
                )
            )
        raise RatingsError(problems)
    if len(scale) < 2:
        raise RatingsError(
            [
                Problem(
                    f"every score is {scale[0]['label'] if scale else 'blank'}: reliability needs at "
                    "least two different scores, or give --rubric with the full scale",
                    file=raw.source,
                    column="score",
                )
            ]
        )
    if "criterion_id" in f.columns:
        # one strip per distinct id, not per row
        distinct = pd.unique(f["criterion_id"].astype(str))  # on the column's own storage
        ids = sorted({str(c).strip() for c in distinct if str(c).strip()})
    else:
        ids = [SCORES_ONLY_CRITERION]
    try:
        rubric = Rubric.model_validate(
            {
                "id": DECIMAL_SCORES_RUBRIC if mode == "decimal" else SCORES_RUBRIC,
                "title": "Scores as given (no rubric)",
                "version": "1",
                "scale": scale,
                "criteria": [{"id": c, "name": c} for c in ids],
                "pass_rule": {"min_level": scale[0]["score"]},
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
    if mode != "whole":
        raw.frame = f.assign(score=new_text[codes] if len(codes) else f["score"])
    return validate_ratings(raw, rubric)
