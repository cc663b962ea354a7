"""``calibrate assign`` (also spelled ``calibrate round assign``): assign a calibration
round's anchors to its reviewers and store the assignment."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_no_backup, add_round, add_rubric_id, add_store
from calibrate.cli._output import Outcome, frame_text

if TYPE_CHECKING:
    from calibrate.store import Store


def _assign_args(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_rubric_id(p, help="the stored rubric of the round")
    add_round(p, help="the round (created, open, if new)", required=True)
    p.add_argument(
        "--anchors",
        metavar="A1,A2,...|FILE",
        help="the round's anchors: ids separated by commas, or a file (.csv, .tsv, .xlsx) "
        "with a submission_id column",
    )
    p.add_argument(
        "--from-key",
        metavar="KEY",
        help="instead of --anchors: choose --n-anchors anchors from this answer key, covering "
        "every level of every criterion and both sides of the pass line (choose_anchors)",
    )
    p.add_argument(
        "--n-anchors",
        type=int,
        metavar="N",
        help="with --from-key: how many anchors to choose",
    )
    p.add_argument(
        "--reviewers",
        required=True,
        metavar="R1,R2,...|FILE",
        help="the reviewers: ids separated by commas, or a file with a reviewer_id column",
    )
    p.add_argument(
        "--k", type=int, required=True, help="reviewers per anchor (at most the reviewers given)"
    )
    p.add_argument(
        "--seed",
        type=int,
        help="random seed: the same seed and inputs give the same assignment "
        "(default: a fresh one, printed so the run can be repeated)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace the round's stored assignment even though ratings were entered under it",
    )
    add_no_backup(p)


def id_list(value: str, what: str) -> list[str]:
    """Ids from the command line: a file (a ``{what}_id`` column) if ``value`` names one,
    else ids separated by commas (blanks dropped, order kept)."""
    path = Path(value)
    if path.is_file():
        from calibrate.io import read_submission_attributes

        return read_submission_attributes(path, id_column=f"{what}_id")[f"{what}_id"].tolist()
    ids = [v.strip() for v in value.split(",") if v.strip()]
    if not ids:
        raise UsageError(f"no {what} ids in {value!r}: give ids separated by commas or a file")
    return ids


@command(
    "assign",
    "Assign a calibration round's anchors to reviewers (each anchor to k, loads balanced, a "
    "random order per reviewer) and store it; also `calibrate round assign`.",
    _assign_args,
)
def _assign(args: argparse.Namespace) -> Outcome:
    from calibrate.calibration import assign_anchors, choose_anchors
    from calibrate.cli._store import prepare_write
    from calibrate.store import Store

    if (args.anchors is None) == (args.from_key is None):
        raise UsageError("give the anchors with --anchors A1,A2,...|FILE or --from-key KEY (one)")
    if (args.n_anchors is None) != (args.from_key is None):
        raise UsageError("--n-anchors N goes with --from-key KEY (how many anchors to choose)")
    store_path = Path(args.store)
    if not store_path.is_file():
        raise FileNotFoundError(f"no store at {args.store}: import the rubric first")
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    reviewers = id_list(args.reviewers, "reviewer")
    notes = [] if args.seed is not None else [f"seed: {seed} (give --seed {seed} to repeat)"]
    with Store.open(store_path, create=False) as store:
        rubric = store.rubric(args.rubric_id)  # an unknown rubric is an error here
        if args.from_key is not None:
            from calibrate.io import read_key

            key = read_key(args.from_key, rubric)
            try:
                anchors = choose_anchors(key, args.n_anchors, rng=seed)
            except ValueError as exc:
                raise UsageError(f"--n-anchors: {exc}") from None
        else:
            anchors = id_list(args.anchors, "submission")
            notes += _unkeyed(store, args.rubric_id, anchors)
        try:
            assignment = assign_anchors(anchors, reviewers, args.k, rng=seed)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        snapshot = prepare_write(store, existed=True, backup=not args.no_backup)
        with store.transaction(f"assign the anchors of round {args.round_id}"):
            done = store.assign_anchors(
                args.rubric_id, args.round_id, assignment, replace=args.replace
            )
    rows = assignment.to_records()
    loads = sorted({int(r["n"]) for r in rows})  # type: ignore[call-overload]
    lines = [
        f"Round {args.round_id}: {len(anchors)} anchors to {len(reviewers)} reviewers, "
        f"{args.k} per anchor ({' or '.join(map(str, loads))} each); {done}",
        "",
        frame_text(assignment.to_frame(), max_rows=500),
        "",
        f"store: {args.store}" + (f" (its state before: {snapshot})" if snapshot else ""),
    ]
    if args.format == "json":  # the rows are the contract; what happened goes to stderr
        notes.append(f"calibrate assign: round {args.round_id} {done}")
    return Outcome(rows, "\n".join(lines), stderr=notes)


def _unkeyed(store: Store, rubric_id: str, anchors: list[str]) -> list[str]:
    """Warnings for anchors the store holds no answer key for (their scores cannot be
    compared with a key until one is imported)."""
    try:
        keyed = set(store.answer_key(rubric_id).anchors)
    except ValueError:  # no key stored for the rubric yet
        keyed = set()
    missing = [a for a in anchors if a not in keyed]
    if not missing:
        return []
    return [
        f"warning: the store holds no answer key for anchors {missing} of rubric {rubric_id!r} "
        "(import one before qualifying the round)"
    ]
