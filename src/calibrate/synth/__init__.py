"""Synthetic review programs with known truth.

:func:`generate` draws a program for a rubric from a :class:`SynthSpec`: submissions with
true levels per criterion, reviewers with severity, noise, central tendency, halo and
drift, calibration rounds, seeded anchors and live reviews with third reviews where the
rubric's trigger fires. :func:`write_program` writes it as a program folder
(``ratings.csv``, ``key.csv``, ``truth.json``, ``manifest.json``) that
:func:`calibrate.io.read_program` reads. The programs committed in ``data/synthetic/``
are listed in :mod:`calibrate.synth.programs`.
"""

from calibrate.synth._comments import PASTED_COMMENT, synth_comments
from calibrate.synth._generate import SyntheticProgram, generate
from calibrate.synth._reviewers import ReviewerModel
from calibrate.synth._spec import SynthSpec
from calibrate.synth._write import program_files, write_program

__all__ = [
    "PASTED_COMMENT",
    "ReviewerModel",
    "SynthSpec",
    "SyntheticProgram",
    "generate",
    "program_files",
    "synth_comments",
    "write_program",
]
