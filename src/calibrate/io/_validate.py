"""Validating text cells against a rubric: every problem at once, vectorised.

The checks run on whole columns (factorised ids, a lookup table of score spellings per
criterion), so a million ratings validate in about a second; each failing cell becomes
one :class:`Problem` naming its file, row, column and value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate._problems import PER_KIND, Problem, RatingsError, more_like_this, shown_value
from calibrate.io._files import RawTable
from calibrate.ratings import (
    KINDS,
    MAX_ID_LENGTH,
    AnswerKey,
    RatingsTable,
    canonical_frame,
    id_problem,
    normalise_id,
)
from calibrate.rubric import Criterion, Rubric

__all__ = ["validate_key", "validate_ratings"]

_BAD = np.int64(-(2**62))  # sentinel: this (criterion, spelling) is not a level
#: What a spreadsheet runs as a formula; our exports put ``'`` before such text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
#: A score as typed: ASCII digits, an optional sign, an optional decimal point (or one
#: decimal comma). Not ``3_0``, not full-width or Arabic-Indic digits, not ``1e400``,
#: ``nan`` or ``inf``, which ``float()`` also takes.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")


def _guarded(text: str) -> bool:
    """Whether ``text`` is formula-like text behind our exports' ``'`` guard."""
    return text.startswith("'") and text.lstrip("'").startswith(_FORMULA)


def _unquote(s: pd.Series) -> pd.Series:
    """Undo the quote our CSV/Excel exports add before formula-like text (round trips)."""
    quoted = s.str.startswith("'")
    if not quoted.any():
        return s
    codes, uniques = pd.factorize(s)
    fixed = np.array([u[1:] if _guarded(u) else u for u in uniques] + [""], dtype=object)
    return pd.Series(fixed[codes], index=s.index, dtype=s.dtype)


#: The public name of :func:`_unquote`, for readers of exported text outside ``io``.
unquote_formulas = _unquote


def _rows_problems(
    raw: RawTable,
    mask: np.ndarray,
    column: str,
    message: str,
    values: pd.Series | None = None,
    kind: str | None = None,
) -> list[Problem]:
    """One problem per marked row, the first :data:`PER_KIND` of them listed and the rest
    counted (a million bad rows build 51 records, not a million)."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    vals = (values if values is not None else raw.frame[column]).iloc[idx[:PER_KIND]]
    listed = [
        Problem(
            message,
            file=raw.source,
            row=int(raw.rows[i]),
            column=column,
            value=shown_value(v),
            kind=kind,
        )
        for i, v in zip(idx[:PER_KIND], vals.to_numpy(dtype=object), strict=True)
    ]
    if len(idx) > PER_KIND:
        listed.append(more_like_this(listed[0], len(idx) - PER_KIND))
    return listed


_ID_NAMES = {
    "submission_id": "submission id",
    "reviewer_id": "reviewer id",
    "criterion_id": "criterion",
    "round_id": "round id",
}


def _special(uniques: object) -> np.ndarray:
    """Which distinct spellings need a closer look (not ASCII, a leading ', an ASCII
    control, too long): one vectorised pass, so a million plain ids cost no Python loop."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
    look = pc.or_(
        pc.or_(pc.invert(pc.string_is_ascii(cells)), pc.starts_with(cells, "'")),
        pc.or_(
            pc.greater(pc.utf8_length(cells), MAX_ID_LENGTH),
            pc.match_substring_regex(cells, r"[\x00-\x1f\x7f]"),
        ),
    )
    return np.asarray(look.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True)
class _IdColumn:
    """A column of ids, factorised once: ``text`` (one id per row, as the table keeps it),
    ``codes`` (each row's position in ``uniques``) and ``uniques`` (the distinct ids, sorted,
    as an object array; ``""`` is an empty cell)."""

    text: pd.Series
    codes: np.ndarray
    uniques: np.ndarray

    def empty(self) -> np.ndarray:
        """Rows whose id is empty."""
        return (self.uniques == "")[self.codes]

    def category(self, *, empty_is_missing: bool = False) -> pd.Categorical:
        """The ids as a categorical over the sorted distinct ids (``empty_is_missing``: an
        empty cell is NaN and no category)."""
        codes, uniques = self.codes, self.uniques
        if empty_is_missing:
            keep = uniques != ""
            position = np.cumsum(keep) - 1
            position[~keep] = -1
            codes, uniques = position[codes], uniques[keep]
        return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))


def _ids(raw: RawTable, column: str) -> tuple[_IdColumn, list[Problem]]:
    """The ids of ``column``: each distinct spelling unquoted (our exports' formula guard),
    stripped and NFC-normalised once; spellings that are no id (control or invisible
    characters, too long) and two spellings that would become one id only through the
    guard (``'=x`` and ``=x``) are problems: an id is what the file says. The column is
    factorised once here; everything later works from its codes."""
    s = raw.frame[column]
    codes, uniques = pd.factorize(s, sort=True)
    what = _ID_NAMES.get(column, column)
    look = np.flatnonzero(_special(uniques))
    if not len(look):
        return _IdColumn(s, codes, np.asarray(uniques, dtype=object)), []
    text = {int(k): str(uniques[k]) for k in look}
    ids = {k: normalise_id(t[1:] if _guarded(t) else t) for k, t in text.items()}
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    reasons: dict[int, str] = {}
    for k, t in ids.items():
        why = id_problem(t)
        if why is not None:
            bad[k] = True
            reasons[k] = why
    problems: list[Problem] = []
    if reasons:
        rows = np.flatnonzero(bad[codes])
        for i in rows[:PER_KIND]:
            problems.append(
                Problem(
                    f"{what} {shown_value(text[int(codes[i])])!r} {reasons[int(codes[i])]}",
                    file=raw.source,
                    row=int(raw.rows[i]),
                    column=column,
                    value=shown_value(text[int(codes[i])]),
                    kind=f"{what}s with control or invisible characters, or too long",
                )
            )
        if len(rows) > PER_KIND:
            problems.append(more_like_this(problems[0], len(rows) - PER_KIND))
    # the guard must not merge ids: '=x (exported =x) beside a plain =x is ambiguous
    guarded = [k for k, t in text.items() if _guarded(t)]
    if guarded:
        position = {str(u): k for k, u in enumerate(uniques)}
        first_row = pd.Series(raw.rows).groupby(codes).min()
        for k in guarded:
            other = position.get(ids[k])
            if other is None or _guarded(str(uniques[other])):
                continue
            problems.append(
                Problem(
                    f"{what} {text[k]!r} (row {int(first_row[k])}) and {ids[k]!r} (row "
                    f"{int(first_row[other])}) would be one id once the ' that spreadsheet "
                    f"exports put before formula-like text is removed: write {ids[k]!r} the "
                    "same way in every row",
                    file=raw.source,
                    row=int(first_row[k]),
                    column=column,
                    value=text[k],
                    kind=f"{what}s written two ways",
                )
            )
    changed = {k: t for k, t in ids.items() if t != text[k]}
    if not changed:
        return _IdColumn(s, codes, np.asarray(uniques, dtype=object)), problems
    fixed = np.asarray(uniques, dtype=object).copy()
    for k, t in changed.items():
        fixed[k] = t
    # two spellings may be one id once normalised, and the order may change: re-sort the
    # (few) distinct ids, not the column
    remap, distinct = pd.factorize(fixed, sort=True)
    codes = remap[codes]
    distinct = np.asarray(distinct, dtype=object)
    return _IdColumn(
        pd.Series(distinct[codes], index=s.index, dtype=s.dtype), codes, distinct
    ), problems


def _empty(s: pd.Series) -> np.ndarray:
    return (s == "").to_numpy(dtype=bool)


def _require(raw: RawTable, required: Sequence[str], what: str) -> list[Problem]:
    missing = [c for c in required if c not in raw.frame.columns]
    if not missing:
        return []
    have = ", ".join(raw.frame.columns)
    return [
        Problem(
            f"required column {c!r} is missing from the {what} (columns found: {have})",
            file=raw.source,
            row=1,
            column=c,
        )
        for c in missing
    ]


def _criterion_index(
    raw: RawTable, rubric: Rubric, column: str = "criterion_id"
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """Rubric criterion position of every row (-1 where unknown or empty), and a key per
    row that tells unknown criteria apart (for the duplicate check)."""
    if column not in raw.frame.columns:
        zeros = np.zeros(len(raw.frame), dtype=np.int64)
        return zeros, zeros, []
    ids, problems = _ids(raw, column)
    text, codes, uniques = ids.text, ids.codes, ids.uniques
    by_key: dict[str, int] = {}
    for i, c in enumerate(rubric.criteria):
        by_key.setdefault(c.name.casefold(), i)
    for i, c in enumerate(rubric.criteria):
        by_key[c.id.casefold()] = i  # ids win over names
    lookup = np.array([by_key.get(str(u).casefold(), -1) for u in uniques] + [-1], dtype=np.int64)
    idx = lookup[codes]  # codes == -1 never happens (no NaN): cells are strings
    key = np.where(idx >= 0, idx, len(rubric.criteria) + codes)
    empty = ids.empty()
    problems += _rows_problems(raw, empty, column, "criterion is empty")
    unknown = (idx < 0) & ~empty
    n_given, n_unknown = int((~empty).sum()), int(unknown.sum())
    known = f"criteria: {', '.join(rubric.criterion_ids)}"
    if n_given and n_unknown == n_given and n_given > 1:
        # not a million "not a criterion" lines: one, saying what is likely wrong
        others = [str(u) for u in uniques if str(u) and by_key.get(str(u).casefold(), -1) < 0]
        first = int(raw.rows[np.flatnonzero(unknown)[0]])
        problems.append(
            Problem(
                f"0 of {n_given:,} criterion ids are in the rubric {rubric.id!r} ({known}); "
                f"the file has {len(others):,} other criterion id(s): "
                f"{', '.join(map(repr, others[:10]))}{', ...' if len(others) > 10 else ''}: "
                "is this the right rubric?",
                file=raw.source,
                row=first,
                column=column,
                value=shown_value(others[0]),
                kind="wrong rubric",
            )
        )
    else:
        problems += _rows_problems(
            raw, unknown, column, f"not a criterion of rubric {rubric.id!r} ({known})", text
        )
    return idx, key, problems


def _parse_score(token: str, crit: Criterion) -> int | str:
    """The level score a spelling means for ``crit``, or why it means none."""
    t = token.strip()
    if not t:
        return "score is empty"
    labels = {lv.label.casefold(): lv.score for lv in crit.levels}
    if t.casefold() in labels:
        return labels[t.casefold()]
    if not _PLAIN_NUMBER.fullmatch(t) or (t.count(",") == 1 and "." in t):
        try:
            float(t)
        except ValueError:
            return f"not a level of criterion {crit.id!r}: use a score or a label ({_levels_text(crit)})"
        return (
            f"not a plain number: a score is written with the digits 0-9, an optional sign "
            f"and decimal point ({_levels_text(crit)})"
        )
    x = float(t.replace(",", "."))
    if not math.isfinite(x) or x != round(x):
        return f"not a level of criterion {crit.id!r}: level scores are whole numbers ({_levels_text(crit)})"
    if int(x) not in crit.scores:
        lo, hi = crit.min_score, crit.max_score
        where = "out of range" if not lo <= x <= hi else "not a level"
        return f"score {int(x)} is {where} for criterion {crit.id!r} ({_levels_text(crit)})"
    return int(x)


def _levels_text(crit: Criterion) -> str:
    return "levels " + ", ".join(f"{lv.score} {lv.label}" for lv in crit.levels)


def _scores(
    raw: RawTable,
    rubric: Rubric,
    crit_idx: np.ndarray,
    column: str,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Problem]]:
    """Resolve score spellings per criterion through a (criteria x spellings) table."""
    codes, uniques = pd.factorize(raw.frame[column])
    table = np.empty((len(rubric.criteria), len(uniques)), dtype=np.int64)
    reasons: dict[tuple[int, int], str] = {}
    used = np.zeros((len(rubric.criteria), len(uniques)), dtype=bool)
    ok_rows = crit_idx >= 0
    used[crit_idx[ok_rows], codes[ok_rows]] = True
    for ci, ui in zip(*np.nonzero(used), strict=True):
        got = _parse_score(str(uniques[ui]), rubric.criteria[ci])
        if isinstance(got, str):
            table[ci, ui] = _BAD
            reasons[(int(ci), int(ui))] = got
        else:
            table[ci, ui] = got
    scores = np.full(len(codes), _BAD, dtype=np.int64)
    scores[ok_rows] = table[crit_idx[ok_rows], codes[ok_rows]]
    bad = ok_rows & (scores == _BAD)
    problems: list[Problem] = []
    bad_rows = np.flatnonzero(bad)
    for ci in np.unique(crit_idx[bad_rows]):
        rows = bad_rows[crit_idx[bad_rows] == ci]  # the first PER_KIND per criterion listed
        kind = f"scores that are not levels of criterion {rubric.criteria[ci].id!r}"
        listed = [
            Problem(
                reasons[(int(ci), int(codes[i]))],
                file=raw.source,
                row=int(raw.rows[i]),
                column=column if labels is None else str(labels[i]),
                value=shown_value(uniques[codes[i]]),
                kind=kind,
            )
            for i in rows[:PER_KIND]
        ]
        if len(rows) > PER_KIND:
            listed.append(more_like_this(listed[0], len(rows) - PER_KIND))
        problems += listed
    return scores, problems


def _duplicates(
    raw: RawTable, keys: list[np.ndarray], what: str, column_labels: np.ndarray | None = None
) -> list[Problem]:
    """One problem per repeated key, naming the row it repeats."""
    if not len(raw.frame) or _all_distinct(keys):
        return []
    key_frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
    dup = key_frame.duplicated(keep="first").to_numpy()
    if not dup.any():
        return []
    first = key_frame.groupby(list(key_frame.columns), sort=False).ngroup().to_numpy()
    first_row = pd.Series(np.arange(len(first))).groupby(first).transform("min").to_numpy()
    rows = np.flatnonzero(dup)
    listed = [
        Problem(
            f"duplicate {what}: the same as row {int(raw.rows[first_row[i]])}",
            file=raw.source,
            row=int(raw.rows[i]),
            column=None if column_labels is None else str(column_labels[i]),
            kind=f"duplicate {what}",
        )
        for i in rows[:PER_KIND]
    ]
    if len(rows) > PER_KIND:
        listed.append(more_like_this(listed[0], len(rows) - PER_KIND))
    return listed


def _all_distinct(keys: list[np.ndarray]) -> bool:
    """Whether no two rows have the same keys, from one int64 key per row (one hash pass
    instead of a frame's); False also when that key could overflow (then the caller's
    general check decides)."""
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    room = 1
    for k in keys:
        k = np.asarray(k, dtype=np.int64)
        lo = int(k.min())
        span = int(k.max()) - lo + 1
        room *= span
        if room >= 2**62:
            return False
        combined = combined * span + (k - lo)
    return bool(pd.Index(combined).is_unique)


def _kind_codes(raw: RawTable) -> tuple[np.ndarray, np.ndarray]:
    """Position in :data:`KINDS` of each row's kind (casefolded; -1 where empty or not a
    kind) and where it is not a kind; each distinct spelling is casefolded once."""
    codes, uniques = pd.factorize(raw.frame["kind"])
    folded = [str(u).casefold() for u in uniques]
    position = np.array([KINDS.index(u) if u in KINDS else -1 for u in folded] + [-1])
    blank = np.array([u == "" for u in folded] + [False])
    kind_codes = position[codes]
    return kind_codes, ~blank[codes] & (kind_codes < 0)


#: The usual spelling of a review time (what exports write), years 1900-2199 only.
_UTC_SECONDS = (
    r"^(19|20|21)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"
)


def _utc_seconds(text: pd.Series) -> pd.Series | None:
    """``rated_at`` parsed by Arrow when every cell is ``YYYY-MM-DDTHH:MM:SSZ`` of a real
    date (what pandas' ISO 8601 parser gives them, in a tenth of the time); None otherwise,
    and the general parser decides."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(text.array, pd.arrays.ArrowStringArray):
        return None
    # Each review's criteria share its time: parse each distinct text once.
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        return None  # a blank time: the general parser says what to do with it
    distinct = uniques.array
    cells = (
        pa.array(distinct)
        if isinstance(distinct, pd.arrays.ArrowStringArray)
        else pa.array(np.asarray(distinct, dtype=object), type=pa.string())
    )
    if isinstance(cells, pa.Array):
        cells = pa.chunked_array([cells])
    if not pc.all(pc.match_substring_regex(cells, _UTC_SECONDS)).as_py():
        return None
    when = pc.strptime(cells, format="%Y-%m-%dT%H:%M:%SZ", unit="ns", error_is_null=True)
    # a day past the month's end (2026-02-30) would roll over into the next month
    day = pc.cast(pc.utf8_slice_codeunits(cells, 8, 10), pa.int64())
    if when.null_count or not pc.all(pc.equal(pc.day(when), day)).as_py():
        return None
    ns = np.asarray(when.to_numpy(), dtype="datetime64[ns]").view(np.int64)[codes]
    stamps = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")
    return pd.Series(stamps, index=text.index, dtype="datetime64[ns, UTC]")


def validate_ratings(
    raw: RawTable, rubric: Rubric, *, score_labels: np.ndarray | None = None
) -> RatingsTable:
    """Check text cells against ``rubric`` and build the canonical :class:`RatingsTable`.

    Raises :class:`RatingsError` listing every problem. ``score_labels`` (one per row)
    names the column a score came from, for sheets with a column per criterion.
    """
    f = raw.frame
    required = ["submission_id", "reviewer_id", "score"]
    if len(rubric.criteria) > 1:
        required.insert(2, "criterion_id")
    problems = list(raw.problems) + _require(raw, required, "ratings file")
    for i, q in enumerate(problems):
        if q.column == "criterion_id":  # say why this column is needed here
            problems[i] = Problem(
                f"{q.message}; only a file scored on a one-criterion rubric may leave it out, and {rubric.id!r} has {len(rubric.criteria)} criteria",
                file=q.file,
                row=q.row,
                column=q.column,
            )
    if any(q.row == 1 for q in problems):
        raise RatingsError(problems)

    sub, p = _ids(raw, "submission_id")
    problems += p
    rev, p = _ids(raw, "reviewer_id")
    problems += p
    problems += _rows_problems(raw, sub.empty(), "submission_id", "submission id is empty")
    problems += _rows_problems(raw, rev.empty(), "reviewer_id", "reviewer id is empty")
    crit_idx, crit_key, p = _criterion_index(raw, rubric)
    problems += p
    scores, p = _scores(raw, rubric, crit_idx, "score", score_labels)
    problems += p

    rated_at = None
    if "rated_at" in f.columns:
        text = f["rated_at"]
        given = ~_empty(text)
        rated_at = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns, UTC]")
        fast = _utc_seconds(text) if given.all() else None
        if fast is not None:  # every cell YYYY-MM-DDTHH:MM:SSZ, a real date from 1900 to 2199
            rated_at = fast
        elif given.any():
            parsed = pd.to_datetime(text[given], format="ISO8601", utc=True, errors="coerce")
            # A bare "-1" or "12" is ISO 8601 for a year; a review date is none of those.
            plausible = parsed.notna() & parsed.dt.year.between(1900, 2199)
            rated_at[given] = parsed.where(plausible).astype("datetime64[ns, UTC]")
            bad = np.zeros(len(f), dtype=bool)
            bad[np.flatnonzero(given)] = ~plausible.to_numpy(dtype=bool)
            problems += _rows_problems(
                raw,
                bad,
                "rated_at",
                "not an ISO 8601 date or date-time from 1900 to 2199 (e.g. 2026-09-14T10:32:00Z)",
            )

    kind = None
    if "kind" in f.columns:
        kind, bad = _kind_codes(raw)
        problems += _rows_problems(
            raw, bad, "kind", f"kind must be one of {', '.join(KINDS)} (or empty)"
        )

    round_id = None
    round_codes = np.zeros(len(f), dtype=np.int64)
    if "round_id" in f.columns:
        round_id, p = _ids(raw, "round_id")
        problems += p
        round_codes = round_id.codes  # an empty round is one more value: "no round"

    dup_p = _duplicates(
        raw,
        [round_codes, sub.codes, rev.codes, crit_key],
        "rating (same submission, reviewer, criterion and round)",
        score_labels,
    )
    problems += dup_p
    if problems:
        problems.sort(key=lambda q: (q.row or 0, q.column or ""))
        raise RatingsError(problems)

    # object categories: canonical_frame keeps them as they are
    criterion = pd.Categorical.from_codes(
        crit_idx, categories=pd.Index(list(rubric.criterion_ids), dtype=object)
    )
    frame = canonical_frame(
        sub.category(),
        rev.category(),
        criterion,
        scores,
        rubric,
        rated_at=rated_at,
        round_id=None if round_id is None else round_id.category(empty_is_missing=True),
        kind=None
        if kind is None
        else pd.Categorical.from_codes(kind, categories=pd.Index(list(KINDS), dtype=object)),
    )
    return RatingsTable(frame, rubric, raw.source)


def validate_key(
    raw: RawTable, rubric: Rubric, *, ratings: RatingsTable | None = None
) -> AnswerKey:
    """Check an answer-key file; with ``ratings``, also that each keyed submission is an anchor."""
    f = raw.frame
    problems = list(raw.problems) + _require(
        raw, ["submission_id", "criterion_id", "key_score"], "answer key"
    )
    if any(q.row == 1 for q in problems):
        raise RatingsError(problems)
    ids, p = _ids(raw, "submission_id")
    sub = ids.text
    problems += p
    problems += _rows_problems(raw, ids.empty(), "submission_id", "submission id is empty")
    crit_idx, crit_key, p = _criterion_index(raw, rubric)
    problems += p
    scores, p = _scores(raw, rubric, crit_idx, "key_score")
    problems += p
    problems += _duplicates(raw, [ids.codes, crit_key], "key score (same submission and criterion)")
    if ratings is not None and ratings.frame["kind"].notna().any():
        rf = ratings.frame
        anchor_like = set(
            rf.loc[rf["kind"].isin(["anchor", "seeded"]), "submission_id"].astype(str)
        )
        live = set(rf.loc[rf["kind"] == "live", "submission_id"].astype(str)) - anchor_like
        bad = sub.isin(live).to_numpy(dtype=bool)
        problems += _rows_problems(
            raw,
            bad,
            "submission_id",
            "has a key but is not an anchor: the ratings score it only as a live submission",
            sub,
        )
    if problems:
        problems.sort(key=lambda q: (q.row or 0, q.column or ""))
        raise RatingsError(problems)
    rationale = (
        _unquote(f["rationale"]) if "rationale" in f.columns else pd.Series("", index=f.index)
    )
    frame = pd.DataFrame(
        {
            "submission_id": pd.Categorical(sub.to_numpy(dtype=object)),
            "criterion_id": pd.Categorical(
                np.asarray(rubric.criterion_ids, dtype=object)[crit_idx],
                categories=list(rubric.criterion_ids),
            ),
            "key_score": scores.astype(np.int64),
            "rationale": rationale.to_numpy(dtype=object),
        }
    )
    return AnswerKey(frame, rubric, raw.source)
