"""``calibrate synth``: write a synthetic review program with known truth.

Every :class:`~calibrate.synth.SynthSpec` field is a flag (``n_submissions`` ->
``--n-submissions``; a ``*_range`` field takes two numbers), so the command line and the
Python API cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_rubric
from calibrate.cli._output import Outcome
from calibrate.rubric import load_rubric
from calibrate.synth import SynthSpec, generate, write_program
from calibrate.synth.programs import PROGRAMS

_ALIASES = {
    "n_submissions": ["--submissions"],
    "n_reviewers": ["--reviewers"],
    "n_rounds": ["--rounds"],
    "n_anchors": ["--anchors"],
    "n_drifting": ["--drifting"],
}


def _synth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder to write ratings.csv, key.csv, truth.json and manifest.json to",
    )
    add_rubric(
        p,
        required=False,
        help="rubric YAML to score (default: the --program's rubric, else rubrics/evidence-4level.yaml)",
    )
    p.add_argument(
        "--program", choices=sorted(PROGRAMS), help="start from the settings of a committed program"
    )
    p.add_argument(
        "--name", help="program name recorded in the manifest (default: the folder name)"
    )
    p.add_argument("--description", default=None, help="one line on what the program shows")
    spec_group = p.add_argument_group("program settings (defaults: --program's, else SynthSpec's)")
    for f in dataclasses.fields(SynthSpec):
        flags = [f"--{f.name.replace('_', '-')}", *_ALIASES.get(f.name, [])]
        default = f.default
        kind: Any = type(default[0]) if isinstance(default, tuple) else type(default)
        if default is None:  # an optional setting: its type is the annotation's first
            kind = float if str(f.type).startswith("float") else int
        if kind is int and f.name not in ("seed",) and isinstance(default, tuple):
            kind = float
        spec_group.add_argument(
            *flags,
            dest=f.name,
            type=float if kind is float else kind,
            default=None,
            nargs=2 if isinstance(default, tuple) else None,
            metavar=("LOW", "HIGH")
            if isinstance(default, tuple)
            else f.name.split("_")[-1].upper(),
            help=f"{f.metadata.get('help', '')}"
            + ("" if default is None else f" (default {default!r})"),
        )


@command(
    "synth",
    "Generate a synthetic review program with known truth (true levels, reviewer severity, drift).",
    _synth_args,
)
def _synth(args: argparse.Namespace) -> Outcome:
    base = PROGRAMS[args.program] if args.program else None
    spec = base.spec if base else SynthSpec()
    changes: dict[str, Any] = {
        f.name: (
            tuple(getattr(args, f.name)) if f.name.endswith("_range") else getattr(args, f.name)
        )
        for f in dataclasses.fields(SynthSpec)
        if getattr(args, f.name) is not None
    }
    try:
        spec = dataclasses.replace(spec, **changes)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    rubric_path = args.rubric or (base.rubric_path if base else "rubrics/evidence-4level.yaml")
    if not Path(rubric_path).is_file():
        raise FileNotFoundError(f"no such rubric file: {rubric_path}")
    out = Path(args.out)
    name = args.name or out.name or "synthetic"
    description = (
        args.description if args.description is not None else (base.description if base else "")
    )
    try:
        program = generate(
            load_rubric(rubric_path),
            spec,
            name=name,
            description=description,
            rubric_path=str(rubric_path),
        )
    except ValueError as exc:  # settings that do not fit the rubric's review policy
        raise UsageError(str(exc)) from None
    write_program(program, out)
    counts = program.manifest["counts"]
    text = (
        f"wrote {out}/: {counts['ratings']} ratings of {counts['submissions']} submissions by {counts['reviewers']} reviewers "
        f"({counts['rounds']} rounds, {counts['anchors']} anchors) on {program.rubric.id}; seed {spec.seed}"
    )
    return Outcome({"ok": True, "out": str(out), "manifest": program.manifest}, text)
