"""The synthetic programs committed in ``data/synthetic/``, and the command that writes them.

``python -m calibrate.synth.programs data/synthetic`` (``make data``) rewrites every
program byte for byte; ``--check`` only compares and exits 1 when a file differs (or is
missing); naming programs after the folder limits the run to them.

Examples
--------
>>> from calibrate.synth.programs import PROGRAMS, build
>>> sorted(PROGRAMS)
['binary', 'district', 'pilot']
>>> PROGRAMS["pilot"].rubric_path
'rubrics/evidence-4level.yaml'
>>> build("pilot").manifest["counts"]["submissions"]
60
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from calibrate.rubric import load_rubric
from calibrate.synth._generate import SyntheticProgram, generate
from calibrate.synth._spec import SynthSpec
from calibrate.synth._write import program_files, write_program

__all__ = ["PROGRAMS", "NamedProgram", "build", "main", "write_programs"]


@dataclass(frozen=True)
class NamedProgram:
    """A committed program: its name, rubric file (relative to the repository root),
    what it is for, and the settings it is generated from."""

    name: str
    rubric_path: str
    description: str
    spec: SynthSpec


#: The committed programs by name (folder names under ``data/synthetic/``).
PROGRAMS: dict[str, NamedProgram] = {
    p.name: p
    for p in [
        NamedProgram(
            "pilot",
            "rubrics/evidence-4level.yaml",
            "A district pilot: 60 teachers, 8 reviewers, two calibration rounds of 6 anchors, "
            "a few seeded anchors, no drift. Small enough to read whole.",
            SynthSpec(
                seed=20260914,
                n_submissions=60,
                n_reviewers=8,
                n_rounds=2,
                n_anchors=6,
                n_seeded_anchors=4,
                seeded_rate=0.1,
                window_weeks=8,
            ),
        ),
        NamedProgram(
            "district",
            "rubrics/discussion-hybrid.yaml",
            "A district program on a six-criterion hybrid rubric: 600 submissions, 30 reviewers, "
            "three calibration rounds, seeded anchors; three reviewers grow lenient "
            "(0.75 score points) from mid-window on.",
            SynthSpec(
                seed=20261005,
                n_submissions=600,
                n_reviewers=30,
                n_rounds=3,
                n_anchors=8,
                n_seeded_anchors=10,
                seeded_rate=0.05,
                window_weeks=16,
                severity_sd=0.35,
                n_drifting=3,
                drift_size=-0.75,
                drift_onset=0.5,
            ),
        ),
        NamedProgram(
            "binary",
            "rubrics/met-not-yet.yaml",
            "A met / not-yet program: 200 submissions, 12 reviewers, two calibration rounds, "
            "seeded anchors, no drift.",
            SynthSpec(
                seed=20261102,
                n_submissions=200,
                n_reviewers=12,
                n_rounds=2,
                n_anchors=8,
                n_seeded_anchors=6,
                seeded_rate=0.08,
                window_weeks=10,
                severity_sd=0.15,
                noise_range=(0.1, 0.3),
                central_tendency_range=(0.0, 0.0),
                halo_range=(0.0, 0.15),
            ),
        ),
    ]
}


def _rubric_file(rubric_path: str) -> Path:
    """The rubric file, looked up from the working folder and from this package's folders
    upwards (so the command works from anywhere inside a checkout)."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        if (base / rubric_path).is_file():
            return base / rubric_path
    raise FileNotFoundError(
        f"rubric {rubric_path!r} not found from {Path.cwd()} or above {Path(__file__).parent}; run from the repository root"
    )


def build(name: str) -> SyntheticProgram:
    """Generate the committed program ``name`` (one of :data:`PROGRAMS`)."""
    if name not in PROGRAMS:
        raise ValueError(f"name must be one of {sorted(PROGRAMS)}; got {name!r}")
    p = PROGRAMS[name]
    return generate(
        load_rubric(_rubric_file(p.rubric_path)),
        p.spec,
        name=p.name,
        description=p.description,
        rubric_path=p.rubric_path,
    )


def write_programs(
    out_dir: str | Path, names: Sequence[str] | None = None, *, check: bool = False
) -> list[str]:
    """Write (or, with ``check``, compare) programs into ``out_dir/<name>/``.

    Returns the files that differed from what is on disk before the call (missing ones
    included), as ``"<name>/<file>"``. The programs keep naming their rubric by its path
    relative to the repository root, so ``out_dir`` belongs inside the checkout.
    """
    changed = []
    for name in names or list(PROGRAMS):
        program = build(name)
        folder = Path(out_dir) / name
        for file, data in program_files(program).items():
            path = folder / file
            if not path.is_file() or path.read_bytes() != data:
                changed.append(f"{name}/{file}")
        if not check:
            write_program(program, folder, copy_rubric=False)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m calibrate.synth.programs OUT_DIR [NAME ...] [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m calibrate.synth.programs", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "out_dir",
        nargs="?",
        default="data/synthetic",
        help="folder holding one folder per program (default: data/synthetic)",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"programs to write (default: all of {', '.join(PROGRAMS)})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with the files on disk instead of writing; exit 1 if any differs",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in PROGRAMS]
    if unknown:
        parser.error(f"unknown program(s) {', '.join(unknown)}; choose from {', '.join(PROGRAMS)}")
    changed = write_programs(args.out_dir, args.names, check=args.check)
    for name in args.names or PROGRAMS:
        print(f"{'checked' if args.check else 'wrote'} {Path(args.out_dir) / name}")
    if args.check and changed:
        print("differ from the generator: " + ", ".join(changed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
