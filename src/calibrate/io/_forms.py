"""Reading an export through an import profile: columns to roles, cells to levels, local
times to UTC, comments to rationales, extra columns to attributes; every problem at once.

The work is on whole columns: level cells and ids are resolved once per distinct text,
times once per distinct text, and the sheet is melted to the long table with numpy, so a
250,000-row Google Forms export (a million ratings) reads in a few seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_instance
from calibrate._problems import PER_KIND, Problem, RatingsError, more_like_this, shown_value
from calibrate.io._attributes import attribute_frame
from calibrate.io._files import RawTable, load_cells, normalise_header
from calibrate.io._profiles import (
    BUILTIN_PROFILES,
    CommentColumns,
    Profile,
    Selector,
    get_profile,
)
from calibrate.io._read import read_ratings, read_wide
from calibrate.io._times import NAT, check_timezone, local_timezone, parse_times
from calibrate.io._validate import _unquote, validate_ratings
from calibrate.ratings import KINDS, RatingsTable, normalise_id
from calibrate.rubric import Criterion, Rubric

__all__ = ["ProfileRead", "ProfileReadError", "infer_profile", "read_profile", "snake_case"]


@dataclass(frozen=True, eq=False)
class ProfileRead:
    """What :func:`read_profile` read.

    ``table`` holds the ratings (a ``rationale`` column after the canonical ones when the
    profile found comment columns); ``rows`` the file row of each table row (None for the ``long`` and ``wide``
    built-ins: count them as for a plain import);
    ``submission_attributes`` / ``reviewer_attributes`` one row per id (``submission_id``
    or ``reviewer_id``, then one text column per attribute, None where blank);
    ``mapping`` one ``{"column", "role", "target"}`` per mapped column (target: the
    criterion id, attribute name or None); ``unmapped`` the headers no rule claimed, with
    why; ``timezone`` the zone naive times were read in (None: the file had none).
    """

    table: RatingsTable
    rows: np.ndarray | None
    submission_attributes: pd.DataFrame
    reviewer_attributes: pd.DataFrame
    mapping: list[dict[str, str | None]]
    unmapped: list[dict[str, str]]
    timezone: str | None
    profile: str
    formats: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Counts and choices, as the import command reports them."""
        rationale = self.table.frame.get("rationale")
        return {
            "profile": self.profile,
            "ratings": len(self.table),
            "rationales": 0 if rationale is None else int((rationale != "").sum()),
            "submissions_with_attributes": _with_values(self.submission_attributes),
            "reviewers_with_attributes": _with_values(self.reviewer_attributes),
            "timezone": self.timezone,
        }


def _with_values(frame: pd.DataFrame) -> int:
    values = frame.iloc[:, 1:]
    return int(values.notna().any(axis=1).sum()) if values.shape[1] else 0


class ProfileReadError(RatingsError):
    """The problems of an export read through a profile, with what was mapped (so a dry
    run can show the mapping beside the problems)."""

    def __init__(
        self,
        problems: list[Problem],
        *,
        mapping: list[dict[str, str | None]] | None = None,
        unmapped: list[dict[str, str]] | None = None,
        timezone: str | None = None,
    ):
        super().__init__(problems)
        self.mapping = mapping or []
        self.unmapped = unmapped or []
        self.timezone = timezone


def snake_case(header: str) -> str:
    """``'Grade band (K-12)'`` -> ``'grade_band_k_12'``: an attribute name from a header."""
    name = re.sub(r"[^0-9a-z]+", "_", header.replace("\ufeff", "").casefold()).strip("_")
    if not name:
        return "column"
    return name if name[0].isalpha() else f"a_{name}"


# ---- columns to roles ------------------------------------------------------------------
def _criterion_keys(rubric: Rubric) -> dict[str, str]:
    keys = {normalise_header(c.name): c.id for c in rubric.criteria}
    keys.update({normalise_header(c.id): c.id for c in rubric.criteria})  # ids win
    return keys


def _matches(sel: Selector, header: str) -> bool:
    h = header.strip()
    if sel.column is not None:
        return normalise_header(h) == normalise_header(sel.column)
    if sel.contains is not None:
        return sel.contains.casefold() in h.casefold()
    return re.fullmatch(str(sel.pattern), h, flags=re.IGNORECASE) is not None


class _Mapper:
    """Assigns a role to every header, in the profile's order of precedence."""

    def __init__(
        self,
        header: list[str],
        rubric: Rubric,
        source: str,
        *,
        near_misses: bool,
        comments: list[CommentColumns] | None = None,
    ):
        self.near_misses = near_misses
        self.comments = comments or []
        self.header = header
        self.role: dict[int, tuple[str, str | None]] = {}
        self.unmapped: dict[int, str] = {}
        self.problems: list[Problem] = []
        self.keys = _criterion_keys(rubric)
        self.rubric = rubric
        self.source = source

    def is_comment(self, header: str) -> bool:
        """Whether a comment rule of the profile takes ``header``."""
        h = header.strip()
        for c in self.comments:
            if c.column is not None and normalise_header(h) == normalise_header(c.column):
                return True
            if c.pattern is not None and re.fullmatch(c.pattern, h, flags=re.IGNORECASE):
                return True
        return False

    def free(self) -> list[int]:
        return [i for i in range(len(self.header)) if i not in self.role and i not in self.unmapped]

    def one(self, what: str, sels: list[Selector] | None, *, required: bool) -> int | None:
        if sels is None:
            return None
        for sel in sels:
            found = [i for i in self.free() if _matches(sel, self.header[i])]
            if len(found) > 1:  # "Reviewer ID" and "Reviewer comments": the comment is one
                plain = [i for i in found if not self.is_comment(self.header[i])]
                found = plain or found
            if len(found) > 1 and not self.near_misses:  # guessing: the plainest header
                found = [min(found, key=lambda i: len(self.header[i]))]
            if len(found) > 1:
                self.problems.append(
                    Problem(
                        f"{len(found)} columns match the {what} column ({sel.describe()}): "
                        f"{', '.join(repr(self.header[i]) for i in found)}; name one in the profile",
                        file=self.source,
                        row=1,
                    )
                )
                return None
            if found:
                self.role[found[0]] = (what, None)
                return found[0]
        if required:
            looked = " or ".join(s.describe() for s in sels)
            self.problems.append(
                Problem(
                    f"no {what} column: looked for {looked} among the headers "
                    f"({', '.join(map(repr, self.header))})",
                    file=self.source,
                    row=1,
                )
            )
        return None

    def criterion_of(self, text: str) -> str | None:
        """The criterion id ``text`` names (an id or a name, ignoring case and spaces)."""
        return self.keys.get(normalise_header(text))

    def near_miss(self, i: int, name: str, what: str) -> None:
        """A column shaped like a criterion or comment column of no criterion: unmapped,
        with why (never silently an attribute), unless guessing a profile."""
        if not self.near_misses:
            return
        self.unmapped[i] = (
            f"looks like a {what} column, but {name!r} is not a criterion of rubric "
            f"{self.rubric.id!r} (criteria: {', '.join(f'{c.id} ({c.name})' for c in self.rubric.criteria)})"
        )


def _map_columns(
    raw: RawTable, profile: Profile, rubric: Rubric, *, guessing: bool = False
) -> tuple[_Mapper, dict[str, int | None]]:
    m = _Mapper(raw.header, rubric, raw.source, near_misses=not guessing, comments=profile.comments)
    # first, so that "Resubmission of" is not a second "submission" column
    for role, name in (
        ("resubmission_of", "resubmission_of"),
        ("educator", "educator_id"),
        ("attempt", "attempt"),
    ):
        column = m.one(role, getattr(profile, role), required=False)
        if column is not None:
            m.role[column] = ("submission_attribute", name)
    single = {
        "submission": m.one("submission", profile.submission, required=True),
        "reviewer": m.one("reviewer", profile.reviewer, required=True),
        "time": m.one(
            "time", None if profile.time is None else profile.time.column, required=not guessing
        ),
        "round": m.one("round", profile.round, required=False),
        "kind": m.one("kind", profile.kind, required=False),
        "criterion_id": m.one("criterion_id", profile.criterion, required=True),
        "score": m.one("score", profile.score, required=True),
    }
    for sel in profile.ignore:
        for i in m.free():
            if _matches(sel, m.header[i]):
                m.role[i] = ("ignored", None)
    for role, attrs in (
        ("submission_attribute", profile.submission_attributes),
        ("reviewer_attribute", profile.reviewer_attributes),
    ):
        for name, sels in attrs.items():
            for sel in sels:
                found = [i for i in m.free() if _matches(sel, m.header[i])]
                if found:
                    m.role[found[0]] = (role, name)
                    break
    for c in profile.comments:
        for i in m.free():
            h = m.header[i].strip()
            if c.column is not None:
                if normalise_header(h) != normalise_header(c.column):
                    continue
                target = None
                if c.criterion is not None:
                    target = m.criterion_of(c.criterion)
                    if target is None:
                        m.near_miss(i, c.criterion, "comment")
                        continue
                m.role[i] = ("comment", target)
                continue
            hit = re.fullmatch(str(c.pattern), h, flags=re.IGNORECASE)
            if hit is None:
                continue
            named = hit.groupdict().get("criterion")
            target = None if named is None else m.criterion_of(named.strip())
            if named is not None and target is None:
                m.near_miss(i, named.strip(), "comment")
                continue
            m.role[i] = ("comment", target)
    for cc in profile.criteria:
        for i in m.free():
            h = m.header[i].strip()
            if cc.column is not None:
                if normalise_header(h) != normalise_header(cc.column):
                    continue
                target = m.criterion_of(str(cc.criterion))
                if target is None:
                    m.near_miss(i, str(cc.criterion), "criterion")
                    continue
                m.role[i] = ("criterion", target)
                continue
            hit = re.fullmatch(str(cc.pattern), h, flags=re.IGNORECASE)
            if hit is None:
                continue
            named = hit.group("criterion").strip()
            target = m.criterion_of(named)
            if target is None:
                if named != h:  # literal text around the group: it was meant as one
                    m.near_miss(i, named, "criterion")
                continue
            m.role[i] = ("criterion", target)
    taken = {t for r, t in m.role.values() if r == "submission_attribute"}
    for i in m.free():
        if profile.other_columns == "submission_attribute" and m.header[i].strip():
            name = base = snake_case(m.header[i])
            k = 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
            m.role[i] = ("submission_attribute", name)
        else:
            m.unmapped[i] = "no rule of the profile claims it: it is not imported"
    by_crit: dict[str, list[int]] = {}
    for i, (r, t) in m.role.items():
        if r == "criterion" and t is not None:
            by_crit.setdefault(t, []).append(i)
    for cid, at in by_crit.items():
        if len(at) > 1:
            m.problems.append(
                Problem(
                    f"{len(at)} columns are criterion {cid!r}: "
                    f"{', '.join(repr(m.header[i]) for i in sorted(at))}; a row has one score per criterion",
                    file=raw.source,
                    row=1,
                )
            )
    if profile.layout == "wide" and not by_crit and not m.problems:
        m.problems.append(
            Problem(
                f"no column is a criterion of rubric {rubric.id!r} (criteria: "
                f"{', '.join(f'{c.id} ({c.name})' for c in rubric.criteria)}; headers: "
                f"{', '.join(map(repr, raw.header))})",
                file=raw.source,
                row=1,
            )
        )
    return m, single


def _mapping(m: _Mapper) -> tuple[list[dict[str, str | None]], list[dict[str, str]]]:
    mapping = [
        {"column": m.header[i], "role": r, "target": t} for i, (r, t) in sorted(m.role.items())
    ]
    unmapped = [{"column": m.header[i], "why": why} for i, why in sorted(m.unmapped.items())]
    return mapping, unmapped


# ---- cells to levels ---------------------------------------------------------------------
#: "3 - Proficient", "3 – Proficient" (en or em dash), "3: Proficient", "3. Proficient", "3) Proficient".
_NUMBER_LABEL = re.compile(r"^([+-]?\d+)\s*(?:[-\u2013\u2014:.)]|\s)\s*(\S.*)$")


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _level_text(text: str, crit: Criterion) -> tuple[str, str | None]:
    """The score text a cell means for ``crit`` and, when number and label disagree or the
    label is no level, why it means none. Other text is passed on for the long-file
    validation to judge (numbers, labels and its messages)."""
    folded = _fold(text)
    labels = {_fold(lv.label): lv.score for lv in crit.levels}
    if folded in labels:
        return str(labels[folded]), None
    hit = _NUMBER_LABEL.match(" ".join(text.split()))
    if hit is None:
        return text, None
    number, label = int(hit.group(1)), _fold(hit.group(2))
    if label not in labels:
        return text, (
            f"{hit.group(2)!r} after the number is not a level label of criterion {crit.id!r} "
            f"(levels {', '.join(f'{lv.score} {lv.label}' for lv in crit.levels)})"
        )
    if labels[label] != number:
        return text, (
            f"the number {number} and the label {hit.group(2)!r} disagree: in criterion "
            f"{crit.id!r} that label is level {labels[label]}"
        )
    return str(number), None


def _levels(
    crit_idx: np.ndarray, text: np.ndarray, rubric: Rubric
) -> tuple[np.ndarray, dict[int, str]]:
    """Score text of every cell, and the reason per cell position that means no level.
    Each distinct (criterion, text) pair is looked at once."""
    codes, uniques = pd.factorize(text)
    n_u = max(len(uniques), 1)
    pair = np.where(crit_idx >= 0, crit_idx.astype(np.int64) * n_u + codes, -1)
    pcodes, pairs = pd.factorize(pair)
    out = np.empty(len(pairs), dtype=object)
    why: dict[int, str] = {}
    for k, p in enumerate(pairs):
        if p < 0:
            out[k] = None
            continue
        ci, ui = divmod(int(p), n_u)
        got, reason = _level_text(str(uniques[ui]), rubric.criteria[ci])
        out[k] = got
        if reason is not None:
            why[k] = reason
            out[k] = str(rubric.criteria[ci].scores[0])  # a stand-in: the problem is named
    cells = out[pcodes]
    unknown = crit_idx < 0
    cells[unknown] = text[unknown]
    reasons = {}
    if why:
        bad = np.zeros(len(pairs), dtype=bool)
        bad[list(why)] = True
        for i in np.flatnonzero(bad[pcodes]):
            reasons[int(i)] = why[int(pcodes[i])]
    return cells, reasons


# ---- attributes ----------------------------------------------------------------------------
def _id_text(column: pd.Series) -> np.ndarray:
    """Ids as the ratings table has them (formula guard undone, stripped, NFC)."""
    codes, uniques = pd.factorize(_unquote(column))
    fixed = np.array([normalise_id(str(u)) for u in uniques] + [""], dtype=object)
    return fixed[codes]


def _joined(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Per row the non-empty texts of ``parts`` joined by a blank line."""
    if not parts:
        return np.full(n, "", dtype=object)
    out = pd.Series(parts[0], dtype=object)
    for p in parts[1:]:
        q = pd.Series(p, dtype=object)
        both = (out != "") & (q != "")
        out = out.where(q == "", q.where(~both, out + "\n\n" + q).where(out != "", q))
    return out.to_numpy(dtype=object)


# ---- the reader --------------------------------------------------------------------------------
def read_profile(
    path: str | Path,
    rubric: Rubric,
    profile: str | Path | Profile,
    *,
    timezone: str | None = None,
    round_id: str | None = None,
    kind: str | None = None,
    sheet: str | int | None = None,
) -> ProfileRead:
    """Read an export (Google Forms, Microsoft Forms, an LMS sheet ...) through a profile.

    Parameters
    ----------
    path : the export (CSV in UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252;
        ``,``, ``;`` or tab separated; or ``.xlsx``).
    rubric : the rubric the cells are checked against.
    profile : a built-in name (``long``, ``wide``, ``google-forms``, ``microsoft-forms``),
        a profile YAML path, or a :class:`~calibrate.io.Profile`.
    timezone : IANA zone of naive times (default: the profile's, else the machine's).
    round_id, kind : the round and kind of every rating (filling blanks of a round or
        kind column; a cell that says otherwise is a problem).
    sheet : for Excel, the sheet name or position.

    A level cell may be the level's score (``3``), its label (``Proficient``, ignoring
    case and spaces) or both (``3 - Proficient``, any dash, ``:``, ``.`` or ``)``); a
    number and a label that disagree are a problem naming the cell. A blank criterion cell
    is a criterion not scored. The ``long`` and ``wide`` built-ins are today's readers
    (:func:`read_ratings`, :func:`read_wide`) unchanged: ISO 8601 times, naive ones UTC.

    Returns
    -------
    ProfileRead

    Raises
    ------
    ProfileReadError
        Every problem at once (columns the profile cannot find, cells that are no level,
        times that are no time or do not exist locally, ids, duplicates, attributes with
        two values), each naming the file, row, column and value; ``.mapping`` says what
        was found.
    ProfileError
        A profile file that cannot be used.
    ValueError, TypeError
        A bad ``timezone``, ``kind`` or ``profile`` name.

    Examples
    --------
    >>> from calibrate.rubric import load_rubric
    >>> rubric = load_rubric("rubrics/evidence-4level.yaml")
    >>> got = read_profile("data/samples/google-forms.csv", rubric, "google-forms",
    ...                    timezone="America/Chicago")
    >>> got.table.frame.columns.tolist()[-1], got.timezone
    ('rationale', 'America/Chicago')
    """
    check_instance("rubric", rubric, Rubric)
    prof = get_profile(profile)
    if timezone is not None:
        check_timezone(timezone)
    if kind is not None:
        check_choice("kind", kind, KINDS)
    if round_id is not None:
        check_instance("round_id", round_id, str, "None or a round id (str)")
    if prof is BUILTIN_PROFILES["long"] or prof is BUILTIN_PROFILES["wide"]:
        return _today(
            path, rubric, prof, timezone=timezone, round_id=round_id, kind=kind, sheet=sheet
        )
    raw, problems = load_cells(path, sheet=sheet)
    if raw is None:
        raise ProfileReadError(problems)
    problems = list(problems)
    m, single = _map_columns(raw, prof, rubric)
    mapping, unmapped = _mapping(m)
    zone = None
    if single["time"] is not None and prof.time is not None:
        zone = timezone or prof.time.timezone or local_timezone()

    def fail(more: list[Problem]) -> ProfileReadError:
        found = sorted(problems + more, key=lambda q: (q.more > 0, q.row or 0, q.column or ""))
        return ProfileReadError(found, mapping=mapping, unmapped=unmapped, timezone=zone)

    if m.problems:
        raise fail(m.problems)
    f = raw.frame
    col = dict(enumerate(f.columns))
    n = len(f)

    def cells(i: int) -> np.ndarray:
        return f[col[i]].to_numpy(dtype=object)

    found = {k: v for k, v in single.items() if v is not None}  # the required ones are here

    formats: list[str] = []
    times = np.full(n, NAT, dtype=np.int64)
    if single["time"] is not None and prof.time is not None and zone is not None:
        times, p, formats = parse_times(
            f[col[single["time"]]],
            raw.rows,
            formats=list(prof.time.format),
            zone=zone,
            file=raw.source,
            column=raw.header[single["time"]],
            decide_day_month=prof.time.decide_day_month,
        )
        problems += p
    fixed: dict[str, np.ndarray] = {}
    for what, given, name in (("round_id", round_id, "round"), ("kind", kind, "kind")):
        i = single[name]
        if given is None:
            if i is not None:
                fixed[what] = cells(i)
            continue
        if i is None:
            fixed[what] = np.full(n, given, dtype=object)
            continue
        have = cells(i)
        same = pd.Series(have, dtype=object)
        same = same.str.casefold() == given.casefold() if name == "kind" else same == given
        differs = (have != "") & ~same.to_numpy(dtype=bool)
        listed = [
            Problem(
                f"the file says {have[r]!r} where --{name} says {given!r}",
                file=raw.source,
                row=int(raw.rows[r]),
                column=raw.header[i],
                value=shown_value(have[r]),
                kind=f"{name} cells other than --{name}",
            )
            for r in np.flatnonzero(differs)[:PER_KIND]
        ]
        if differs.sum() > PER_KIND:
            listed.append(more_like_this(listed[0], int(differs.sum()) - PER_KIND))
        problems += listed
        fixed[what] = np.where(have == "", given, have)

    keys = _criterion_keys(rubric)
    crit_pos = {c.id: k for k, c in enumerate(rubric.criteria)}
    if prof.layout == "wide":
        crit_cols = [(i, t) for i, (r, t) in sorted(m.role.items()) if r == "criterion"]
        stacked = np.column_stack([cells(i) for i, _ in crit_cols]).ravel()
        row_of = np.repeat(np.arange(n), len(crit_cols))
        keep = stacked != ""
        row_of, text = row_of[keep], stacked[keep]
        crit_ids = np.tile(np.array([t for _, t in crit_cols], dtype=object), n)[keep]
        crit_idx = np.tile(np.array([crit_pos[str(t)] for _, t in crit_cols]), n)[keep]
        labels = np.tile(np.array([raw.header[i] for i, _ in crit_cols], dtype=object), n)[keep]
    else:
        ci, si = found["criterion_id"], found["score"]
        crit_text, text = cells(ci), cells(si)
        row_of = np.arange(n)
        codes, uniques = pd.factorize(crit_text)
        look = np.array(
            [crit_pos.get(keys.get(normalise_header(str(u)), ""), -1) for u in uniques] + [-1]
        )
        crit_idx = look[codes]
        crit_ids = crit_text
        labels = np.full(n, raw.header[si], dtype=object)
    scores, reasons = _levels(crit_idx, text, rubric)
    problems += [
        Problem(
            why,
            file=raw.source,
            row=int(raw.rows[row_of[i]]),
            column=str(labels[i]),
            value=shown_value(text[i]),
            kind="level cells whose number and label do not fit the criterion",
        )
        for i, why in list(reasons.items())[:PER_KIND]
    ]
    if len(reasons) > PER_KIND:
        problems.append(more_like_this(problems[-1], len(reasons) - PER_KIND))
    sub_i, rev_i = found["submission"], found["reviewer"]
    long = {
        "submission_id": f[col[sub_i]].to_numpy(dtype=object)[row_of],
        "reviewer_id": f[col[rev_i]].to_numpy(dtype=object)[row_of],
        "criterion_id": crit_ids,
        "score": scores,
        **{k: v[row_of] for k, v in fixed.items()},
    }
    melted = RawTable(
        pd.DataFrame(long).astype(str),
        raw.rows[row_of],
        list(long),
        raw.source,
    )
    melted.problems = []
    # problems name the file's columns, not the long table's
    header_of = {
        name: raw.header[found[role]]
        for name, role in (
            ("submission_id", "submission"),
            ("reviewer_id", "reviewer"),
            ("round_id", "round"),
            ("kind", "kind"),
            ("criterion_id", "criterion_id"),
            ("score", "score"),
        )
        if role in found
    }
    table = None
    try:
        table = validate_ratings(melted, rubric, score_labels=labels)
    except RatingsError as exc:
        problems += [
            Problem(
                p.message,
                file=p.file,
                row=p.row,
                column=header_of.get(str(p.column), p.column),
                value=p.value,
                field=p.field,
                line=p.line,
                kind=p.kind,
                more=p.more,
            )
            for p in exc.problems
        ]

    sub_ids, rev_ids = _id_text(f[col[sub_i]]), _id_text(f[col[rev_i]])
    attrs: dict[str, dict[str, tuple[np.ndarray, str]]] = {
        "submission_attribute": {},
        "reviewer_attribute": {},
    }
    comments: dict[str | None, list[np.ndarray]] = {}
    for i, (r, t) in sorted(m.role.items()):
        if r in attrs:
            attrs[r][str(t)] = (_unquote(f[col[i]]).to_numpy(dtype=object), raw.header[i])
        elif r == "comment":
            comments.setdefault(t, []).append(_unquote(f[col[i]]).to_numpy(dtype=object))
    sub_attrs, p = attribute_frame(
        sub_ids,
        attrs["submission_attribute"],
        raw.rows,
        id_column="submission_id",
        what="submission",
        source=raw.source,
    )
    problems += p
    rev_attrs, p = attribute_frame(
        rev_ids,
        attrs["reviewer_attribute"],
        raw.rows,
        id_column="reviewer_id",
        what="reviewer",
        source=raw.source,
    )
    problems += p
    if problems or table is None:
        raise fail([])

    frame = table.frame
    if single["time"] is not None:
        stamps = pd.DatetimeIndex(times[row_of].view("datetime64[ns]")).tz_localize("UTC")
        frame = frame.assign(rated_at=stamps)
    if comments:
        row_comment = _joined(comments.get(None, []), n)[row_of]
        per_crit = np.full(len(row_of), "", dtype=object)
        for cid, parts in comments.items():
            if cid is None:
                continue
            at = crit_idx == crit_pos[cid]
            per_crit[at] = _joined(parts, n)[row_of[at]]
        frame = frame.assign(rationale=_joined([per_crit, row_comment], len(row_of)))
    return ProfileRead(
        table=RatingsTable(frame, rubric, raw.source),
        rows=raw.rows[row_of],
        submission_attributes=sub_attrs,
        reviewer_attributes=rev_attrs,
        mapping=mapping,
        unmapped=unmapped,
        timezone=zone,
        profile=prof.name,
        formats=formats,
    )


def _today(
    path: str | Path,
    rubric: Rubric,
    prof: Profile,
    *,
    timezone: str | None,
    round_id: str | None,
    kind: str | None,
    sheet: str | int | None,
) -> ProfileRead:
    """The ``long`` and ``wide`` built-ins: today's readers, exactly (``rows`` None: the
    file rows are counted as for a plain import)."""
    if timezone is not None:
        raise ValueError(
            f"the {prof.name} format takes ISO 8601 times (a time without an offset is UTC); "
            "timezone is for profiles with local times (google-forms, microsoft-forms, a YAML profile)"
        )
    reader = read_ratings if prof.name == "long" else read_wide
    table = reader(path, rubric, sheet=sheet)
    raw, _ = load_cells(path, sheet=sheet)  # read_ratings read it: it reads again
    if round_id is not None or kind is not None:
        frame = table.frame.copy()
        problems = []
        for name, given in (("round_id", round_id), ("kind", kind)):
            if given is None:
                continue
            col = frame[name].astype(object)
            differs = (col.notna() & (col != given)).to_numpy()
            # a long file's table rows are its rows in order (a wide sheet has no such columns)
            problems += [
                Problem(
                    f"the file says {col.iloc[i]!r} where --{name.removesuffix('_id')} says {given!r}",
                    file=table.source,
                    row=None if raw is None else int(raw.rows[i]),
                    column=name,
                    value=shown_value(col.iloc[i]),
                    kind=f"{name} cells other than the option",
                )
                for i in np.flatnonzero(differs)[:PER_KIND]
            ]
            if differs.sum() > PER_KIND:
                problems.append(more_like_this(problems[-1], int(differs.sum()) - PER_KIND))
            values = col.where(col.notna(), given)
            frame[name] = (
                pd.Categorical(values, categories=list(KINDS))
                if name == "kind"
                else pd.Categorical(values)
            )
        if problems:
            raise ProfileReadError(problems)
        table = RatingsTable(frame, rubric, table.source)
    header = [] if raw is None else raw.header
    keys = _criterion_keys(rubric)
    long_roles = {
        "submission_id": "submission",
        "reviewer_id": "reviewer",
        "criterion_id": "criterion_id",
        "score": "score",
        "rated_at": "time",
        "round_id": "round",
        "kind": "kind",
    }
    mapping: list[dict[str, str | None]] = []
    unmapped = []
    for h in header:
        key = normalise_header(h)
        if prof.name == "long" and key in long_roles:
            mapping.append({"column": h, "role": long_roles[key], "target": None})
        elif prof.name == "wide" and key in ("submission_id", "reviewer_id"):
            mapping.append({"column": h, "role": long_roles[key], "target": None})
        elif prof.name == "wide" and key in keys:
            mapping.append({"column": h, "role": "criterion", "target": keys[key]})
        else:
            unmapped.append(
                {"column": h, "why": f"not a column of the {prof.name} format: it is not imported"}
            )
    subs = sorted(map(str, table.frame["submission_id"].unique()))
    revs = sorted(map(str, table.frame["reviewer_id"].unique()))
    return ProfileRead(
        table=table,
        rows=None,
        submission_attributes=pd.DataFrame({"submission_id": pd.Series(subs, dtype=object)}),
        reviewer_attributes=pd.DataFrame({"reviewer_id": pd.Series(revs, dtype=object)}),
        mapping=mapping,
        unmapped=unmapped,
        timezone=None,
        profile=prof.name,
    )


# ---- a profile from the headers -------------------------------------------------------------
_GUESS_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y-%m-%d",
)
_WORDS = r"(?=.*(?:comment|feedback|rationale|notes))"
_GENERIC = {
    "name": "generic",
    "submission": [{"contains": w} for w in ("submission", "learner", "candidate", "evidence")],
    "reviewer": [{"contains": w} for w in ("reviewer", "rater", "grader", "scorer", "assessor")]
    + ["Email Address", "Email"],
    "time": {
        "column": ["Timestamp", "Completion time", "rated_at", {"contains": "graded"}]
        + [{"contains": w} for w in ("time", "date")]
    },
    "round": {"contains": "round"},
    "kind": "kind",
    "comments": [
        {"pattern": _WORDS + r".*\[(?P<criterion>[^\]]+)\]\s*"},
        {"pattern": _WORDS + r".+\.(?P<criterion>[^.]+)"},
        {"pattern": _WORDS + r".*"},
    ],
    "criteria": [
        {"pattern": "(?P<criterion>.+)"},
        {"pattern": r".*\[(?P<criterion>[^\]]+)\]\s*"},
        {"pattern": r".+\.(?P<criterion>[^.]+)"},
        {"pattern": r".+?[:\u2013\u2014-]\s*(?P<criterion>.+)"},
    ],
    "ignore": ["ID", "Start time", "Last modified time"],
    "reviewer_attributes": {"email": ["Email Address", "Email"], "name": "Name"},
    "other_columns": "submission_attribute",
}


def _guess_format(values: pd.Series) -> str:
    sample = values[values != ""].head(1000)
    if sample.empty:
        return "iso"
    for fmt in _GUESS_FORMATS:
        if pd.to_datetime(sample, format=fmt, errors="coerce").notna().all():
            return fmt
    return "iso"


def infer_profile(
    path: str | Path, rubric: Rubric | None = None, *, sheet: str | int | None = None
) -> Profile:
    """A profile with every column named explicitly, guessed from the headers (and the
    time column's values): a start for the user to check and edit.

    Criterion columns are headers that are a criterion's id or name, or end in one
    (``Q [Reflection]``, ``Q.Reflection``, ``Crit: reflection``); without ``rubric``, any
    ``[...]`` suffix is taken as a criterion name. Comment columns have "comment",
    "feedback", "rationale" or "notes" in their header; other columns become submission
    attributes. Raises :class:`ProfileReadError` when the file cannot be read or no
    reviewer, submission or criterion column is found (``.mapping`` holds the rest).
    """
    raw, problems = load_cells(path, sheet=sheet)
    if raw is None:
        raise ProfileReadError(problems)
    guess = Profile.model_validate(_GENERIC)
    if rubric is None:
        found = []
        for h in raw.header:
            hit = re.fullmatch(
                r".*\[(?P<c>[^\]]+)\]\s*|.+\.(?P<d>[^.]+)|.+?:\s*(?P<e>.+)", h.strip()
            )
            if hit and not re.search("comment|feedback|rationale|notes", h, re.IGNORECASE):
                found.append(next(g for g in hit.groups() if g is not None).strip())
        names = list(dict.fromkeys(found)) or ["criterion"]
        rubric = Rubric.model_validate(
            {
                "id": "inferred",
                "title": "criteria named in the headers",
                "version": "1",
                "scale": [{"score": 0, "label": "0"}, {"score": 1, "label": "1"}],
                "criteria": [
                    {"id": f"c{k}", "name": name} for k, name in enumerate(names, start=1)
                ],
                "pass_rule": {"min_level": 0},
            }
        )
        names_of = {c.id: c.name for c in rubric.criteria}
    else:
        names_of = {c.id: c.id for c in rubric.criteria}
    m, single = _map_columns(raw, guess, rubric, guessing=True)
    mapping, unmapped = _mapping(m)
    if m.problems:
        raise ProfileReadError(m.problems, mapping=mapping, unmapped=unmapped)
    data: dict[str, object] = {
        "name": f"inferred-{snake_case(Path(path).stem).replace('_', '-')}",
        "description": f"inferred by calibrate profile from the headers of {Path(path).name}: check it",
    }
    by_role: dict[str, list[tuple[str, str | None]]] = {}
    for i, (r, t) in sorted(m.role.items()):
        by_role.setdefault(r, []).append((raw.header[i].strip(), t))
    for role, key in (("submission", "submission"), ("reviewer", "reviewer")):
        data[key] = by_role[role][0][0]
    if "time" in by_role:
        header = by_role["time"][0][0]
        at = raw.header.index(header) if header in raw.header else 0
        data["time"] = {"column": header, "format": _guess_format(raw.frame.iloc[:, at])}
    for role in ("round", "kind"):
        if role in by_role:
            data[role] = by_role[role][0][0]
    data["criteria"] = [
        {"column": h, "criterion": names_of[str(t)]} for h, t in by_role.get("criterion", [])
    ]
    data["comments"] = [
        {"column": h} if t is None else {"column": h, "criterion": names_of[t]}
        for h, t in by_role.get("comment", [])
    ]
    ignore = [h for h, _ in by_role.get("ignored", [])]
    for role, owner in (("submission_attribute", "submission"), ("reviewer_attribute", "reviewer")):
        ids = raw.frame.iloc[:, raw.header.index(by_role[owner][0][0])]
        kept = {}
        for h, t in by_role.get(role, []):
            values = raw.frame.iloc[:, raw.header.index(h)]
            given = values != ""
            # a column that varies within one id is no attribute of it (a response id ...)
            if values[given].groupby(ids[given]).nunique().max() > 1:
                ignore.append(h)
            else:
                kept[str(t)] = h
        if kept:
            data[role + "s"] = kept
    if ignore:
        data["ignore"] = ignore
    return Profile.model_validate(data)
