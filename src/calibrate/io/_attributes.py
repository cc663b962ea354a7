"""Reading submission attributes (district, school, cohort, ...) from extra columns of a ratings file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._problems import PER_KIND, Problem, RatingsError, more_like_this, shown_value

__all__ = ["attribute_frame", "read_submission_attributes"]


def _norm(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def read_submission_attributes(
    path: str | Path,
    columns: Sequence[str] | str | None = None,
    *,
    id_column: str = "submission_id",
) -> pd.DataFrame:
    """One row per submission with its group attributes, from columns of a ratings file
    (or of a file of attributes: ``calibrate import --submissions FILE``).

    Until the store keeps group attributes, they travel as extra columns of the long
    ratings file (repeated on every row of a submission). Header names are matched
    ignoring case, spaces and hyphens, as :func:`read_ratings` does.

    Parameters
    ----------
    path : path of the ratings file (CSV, TSV, Excel or Parquet; the suffix says which).
    columns : the attribute column name(s); None: every column but ``id_column``.
    id_column : the id column, ``submission_id`` (default) or ``reviewer_id`` (a file of
        reviewer attributes, ``calibrate import --reviewers FILE``).

    Returns
    -------
    DataFrame
        ``submission_id`` and one column per attribute (named as asked, values as text),
        one row per submission, sorted by ``submission_id``. A blank value is NaN.

    Raises
    ------
    RatingsError
        Every problem at once: a missing column, a blank ``submission_id``, a submission
        given two different values of an attribute (naming file, row, column and value).
    FileNotFoundError

    References
    ----------
    Linacre, J. M. (1989). *Many-facet Rasch measurement*. MESA Press (group facets).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = f.write_text("submission_id,reviewer_id,score,District\\nS1,R1,3,north\\nS1,R2,2,north\\nS2,R1,1,south\\n")
    >>> read_submission_attributes(f, ["district"])
      submission_id district
    0            S1    north
    1            S2    south
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such ratings file: {p}")
    if id_column not in ("submission_id", "reviewer_id"):
        raise ValueError(f"id_column must be 'submission_id' or 'reviewer_id'; got {id_column!r}")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        raw = pd.read_excel(p, dtype=str)
    elif suffix == ".parquet":
        raw = pd.read_parquet(p).astype("string").astype(object)
    else:
        raw = pd.read_csv(
            p, dtype=str, keep_default_na=False, sep="\t" if suffix == ".tsv" else ","
        )
    by_norm = {_norm(c): c for c in raw.columns}
    if columns is None:
        wanted = [str(c).strip() for c in raw.columns if _norm(c) != id_column]
    else:
        wanted = [columns] if isinstance(columns, str) else list(columns)
    problems: list[Problem] = []
    file = str(p)
    for name in [id_column, *wanted]:
        if _norm(name) not in by_norm:
            problems.append(
                Problem(
                    f"no column {name!r} (columns: {', '.join(map(str, raw.columns))})",
                    file=file,
                    column=name,
                )
            )
    if problems:
        raise RatingsError(problems)
    sub = raw[by_norm[id_column]].astype(object).where(raw[by_norm[id_column]].notna(), "")
    sub = sub.map(lambda v: str(v).strip())
    rows = np.arange(2, len(raw) + 2)
    for i in rows[(sub == "").to_numpy()].tolist():
        problems.append(Problem(f"blank {id_column}", file=file, row=int(i), column=id_column))
    values = {}
    for name in wanted:
        header = str(by_norm[_norm(name)])
        vals = raw[by_norm[_norm(name)]].map(
            lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v).strip()
        )
        values[name] = (vals.to_numpy(dtype=object), header)
    result, clashes = attribute_frame(
        sub.to_numpy(dtype=object),
        values,
        rows,
        id_column=id_column,
        what=id_column.removesuffix("_id"),
        source=file,
    )
    problems += clashes
    if problems:
        raise RatingsError(problems)
    return result.where(result.notna(), np.nan)


def attribute_frame(
    ids: np.ndarray,
    values: dict[str, tuple[np.ndarray, str]],
    rows: np.ndarray,
    *,
    id_column: str,
    what: str,
    source: str,
) -> tuple[pd.DataFrame, list[Problem]]:
    """One row per id (sorted) with each attribute's value; an id given two values of an
    attribute is a problem per row that differs from the id's first, naming both rows."""
    given_id = ids != ""
    codes, uniques = pd.factorize(ids[given_id], sort=True)
    out: dict[str, object] = {id_column: np.asarray(uniques, dtype=object)}
    problems: list[Problem] = []
    id_rows = rows[given_id]
    for name, (vals, header) in values.items():
        v = vals[given_id]
        has = v != ""
        col = np.full(len(uniques), None, dtype=object)
        if has.any():
            c, vv, rr = codes[has], v[has], id_rows[has]
            first_at = pd.Series(np.arange(len(c))).groupby(c).transform("first").to_numpy()
            col[c[first_at]] = vv[first_at]
            clash = np.flatnonzero(vv != vv[first_at])
            listed = [
                Problem(
                    f"{what} {uniques[c[i]]!r} has two values of {name!r}: "
                    f"{vv[first_at[i]]!r} (row {int(rr[first_at[i]])}) and {vv[i]!r}",
                    file=source,
                    row=int(rr[i]),
                    column=header,
                    value=shown_value(vv[i]),
                    kind=f"{what}s with two values of an attribute",
                )
                for i in clash[:PER_KIND]
            ]
            if len(clash) > PER_KIND:
                listed.append(more_like_this(listed[0], len(clash) - PER_KIND))
            problems += listed
        out[name] = col
    return pd.DataFrame(out), problems
