"""``calibrate profile``, and what ``calibrate import --profile`` shows: the column mapping,
the dry run (what would be added, nothing written) and the attributes read."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calibrate._problems import Problem, RatingsError
from calibrate.cli._main import command
from calibrate.cli._options import add_rubric, add_sheet
from calibrate.cli._output import EXIT_DATA, Outcome

if TYPE_CHECKING:
    import pandas as pd

    from calibrate.io import ProfileRead
    from calibrate.ratings import RatingsTable

#: How many problems a dry run spells out (all are counted).
_FIRST_PROBLEMS = 20


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file", metavar="FILE", help="the export to read the headers of (.csv, .xlsx ...)"
    )
    add_rubric(
        p,
        required=False,
        help="rubric YAML: criterion columns are matched to its criteria (default: [...] or "
        ".x suffixes are taken as criterion names)",
    )
    add_sheet(p)


@command(
    "profile",
    "Print an import profile (YAML) inferred from an export's headers, for --profile; edit it first.",
    _configure,
)
def _profile(args: argparse.Namespace) -> Outcome:
    from calibrate.io import infer_profile, profile_to_yaml
    from calibrate.rubric import load_rubric

    rubric = load_rubric(args.rubric) if args.rubric else None
    profile = infer_profile(args.file, rubric, sheet=args.sheet)
    text = profile_to_yaml(profile)
    return Outcome({"ok": True, "file": str(args.file), "profile": text}, text.rstrip("\n"))


def _attribute_names(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns[1:]]


def attribute_info(read: ProfileRead, *, stored: bool) -> dict[str, Any]:
    """What ``import --profile`` says of the attributes it read from the file's columns:
    their names and how many submissions and reviewers have them, and whether they were
    stored (with the import's other attributes, in its transaction)."""
    sub, rev = read.submission_attributes, read.reviewer_attributes
    counts = {
        "submission_attributes": _attribute_names(sub),
        "reviewer_attributes": _attribute_names(rev),
        "submissions": read.summary()["submissions_with_attributes"],
        "reviewers": read.summary()["reviewers_with_attributes"],
    }
    if not (counts["submission_attributes"] or counts["reviewer_attributes"]):
        return {**counts, "stored": False, "why": "no attribute columns"}
    return {**counts, "stored": stored, **({} if stored else {"why": "not imported"})}


def _mapping_lines(mapping: list[dict[str, Any]], unmapped: list[dict[str, str]]) -> list[str]:
    lines = ["columns:"]
    for m in mapping:
        target = f" {m['target']}" if m["target"] else ""
        lines.append(f"  {m['column']!r} -> {m['role']}{target}")
    for u in unmapped:
        lines.append(f"  {u['column']!r} -> unmapped: {u['why']}")
    return lines


def profile_summary(
    read: ProfileRead, attributes: dict[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """What ``import --profile`` adds to its JSON and text."""
    s = read.summary()
    payload = {
        "profile": s["profile"],
        "timezone": read.timezone,
        "mapping": read.mapping,
        "unmapped": read.unmapped,
        "rationales": s["rationales"],
        "attributes": attributes,
    }
    lines = [
        f"profile {s['profile']}: {s['ratings']:,} ratings, {s['rationales']:,} with a rationale"
    ]
    if read.timezone is not None:
        lines.append(
            f"times without a zone were read as {read.timezone} local time and stored in UTC"
        )
    if read.unmapped:
        lines.append(
            "not imported (unmapped): " + ", ".join(repr(u["column"]) for u in read.unmapped)
        )
    if attributes and (attributes["submission_attributes"] or attributes["reviewer_attributes"]):
        said = "stored" if attributes["stored"] else f"not stored: {attributes['why']}"
        whose = [
            f"{attributes[n]} {n} ({', '.join(attributes[k])})"
            for n, k in (
                ("submissions", "submission_attributes"),
                ("reviewers", "reviewer_attributes"),
            )
            if attributes[k]
        ]
        lines.append(f"attributes of {' and '.join(whose)}: {said}")
    return payload, lines


def _against_store(path: Path, table: RatingsTable, rows: Any) -> dict[str, Any]:
    """How many of ``table``'s ratings the store already has (same key and score) or has
    with another score (the first of those listed, with their file row when known), read
    with the store opened read-only (nothing is created)."""
    import numpy as np
    import pandas as pd

    from calibrate.store import Store

    nothing: dict[str, Any] = {"already_present": 0, "conflicting": 0, "conflicts": []}
    if not path.is_file() or path.stat().st_size == 0:
        return {"store": "new", **nothing}
    with Store.open(path, create=False, read_only=True) as store:
        rubrics = {r["rubric_id"] for r in store.summary()["rubrics"]}
        if table.rubric.id not in rubrics:
            return {"store": "exists, without this rubric", **nothing}
        stored = store.ratings(table.rubric.id).frame
    keys = ["round_id", "submission_id", "reviewer_id", "criterion_id"]

    def keyed(f: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {k: f[k].astype(object).where(f[k].notna(), "").astype(str) for k in keys}
            | {"score": f["score"].to_numpy()}
        )

    mine = keyed(table.frame)
    mine["row"] = rows if rows is not None else np.full(len(mine), None, dtype=object)
    both = mine.merge(keyed(stored), on=keys, how="inner", suffixes=("", "_stored"))
    differs = both[both["score"] != both["score_stored"]]
    conflicts = [
        {
            "row": None if r.row is None else int(r.row),
            **{k: getattr(r, k) or None for k in keys},
            "score": int(r.score),
            "stored_score": int(r.score_stored),
        }
        for r in differs.head(_FIRST_PROBLEMS).itertuples(index=False)
    ]
    return {
        "store": "exists",
        "already_present": len(both) - len(differs),
        "conflicting": len(differs),
        "conflicts": conflicts,
    }


def dry_run(args: argparse.Namespace, profile: str) -> Outcome:
    """``calibrate import --dry-run``: everything the import would do, nothing written."""
    from calibrate.cli._inputs import load_profile_inputs
    from calibrate.io import ProfileReadError, infer_profile, profile_to_yaml
    from calibrate.rubric import load_rubric

    problems: list[Problem] = []
    total = 0
    read = key = None
    mapping: list[dict[str, Any]] = []
    unmapped: list[dict[str, str]] = []
    zone = None
    try:
        _, read, key = load_profile_inputs(args, profile)
    except ProfileReadError as exc:
        problems, total = list(exc.problems), exc.total
        mapping, unmapped, zone = exc.mapping, exc.unmapped, exc.timezone
    except RatingsError as exc:
        problems, total = list(exc.problems), exc.total
    if read is not None:
        mapping, unmapped, zone = read.mapping, read.unmapped, read.timezone
    store = Path(args.store)
    would: dict[str, Any] = {}
    found: dict[str, Any] = {}
    versus: dict[str, Any] = {
        "store": None,
        "already_present": None,
        "conflicting": None,
        "conflicts": [],
    }
    if read is not None:
        versus = _against_store(store, read.table, read.rows)
        s = read.summary()
        found = {
            k: s[k]
            for k in (
                "ratings",
                "rationales",
                "submissions_with_attributes",
                "reviewers_with_attributes",
            )
        }
        would = {
            "ratings": s["ratings"] - versus["already_present"] - versus["conflicting"],
            "key_scores": 0 if key is None else len(key),
        }
    inferred = None
    if args.format == "json":
        try:
            rubric = load_rubric(args.rubric)
            inferred = profile_to_yaml(infer_profile(args.ratings, rubric, sheet=args.sheet))
        except (RatingsError, ValueError):
            inferred = None  # the problems above say why the file cannot be read
    listed = [p for p in problems if not p.more][:_FIRST_PROBLEMS]
    payload = {
        "ok": not problems and not versus.get("conflicting"),
        "dry_run": True,
        "file": str(args.ratings),
        "profile": profile,
        "timezone": zone,
        "mapping": mapping,
        "unmapped": unmapped,
        "would_add": would,
        "read": found,
        "already_present": versus["already_present"],
        "conflicting": versus["conflicting"],
        "conflicts": versus["conflicts"],
        "store": {"path": str(store), "state": versus["store"]},
        "problems": [p.to_dict() for p in listed],
        "problem_total": total,
        "inferred_profile": inferred,
    }
    lines = [f"dry run: {args.ratings} read with profile {profile}; nothing was written", ""]
    lines += _mapping_lines(mapping, unmapped)
    if zone is not None:
        lines.append(f"times without a zone are read as {zone} local time (stored in UTC)")
    if would:
        lines.append(
            f"read {found['ratings']:,} ratings ({found['rationales']:,} with a rationale), "
            f"attributes of {found['submissions_with_attributes']} submissions and "
            f"{found['reviewers_with_attributes']} reviewers"
        )
        lines.append(
            f"would add {would['ratings']:,} new ratings"
            + (f" and {would['key_scores']} key scores" if would["key_scores"] else "")
        )
        lines.append(
            f"store {store}: {versus['store']}; {versus['already_present']:,} already present, "
            f"{versus['conflicting']:,} with another score"
            + (" (conflicts: the import would be refused)" if versus["conflicting"] else "")
        )
        for c in versus["conflicts"]:
            where = f"row {c['row']}: " if c["row"] is not None else ""
            lines.append(
                f"  - {where}{c['submission_id']} / {c['reviewer_id']} / {c['criterion_id']}: "
                f"score {c['score']}, stored {c['stored_score']}"
            )
    if problems:
        lines.append(f"{total:,} problem(s); the first {len(listed)}:")
        lines += [f"  - {p}" for p in listed]
    code = EXIT_DATA if problems or versus.get("conflicting") else 0
    return Outcome(payload, "\n".join(lines), code)
