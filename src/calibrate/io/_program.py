"""Reading a review program folder: ratings, answer key, and (for synthetic ones) truth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibrate._problems import Problem, RatingsError
from calibrate.io._read import read_key, read_ratings
from calibrate.ratings import AnswerKey, RatingsTable
from calibrate.rubric import Rubric, load_rubric

__all__ = ["ProgramData", "read_program"]


@dataclass(frozen=True, eq=False)
class ProgramData:
    """A program folder as validated objects: ``ratings``, ``key`` (None if the folder
    has no ``key.csv``), ``truth`` (the generator's truth for synthetic programs, else
    None) and its ``manifest``."""

    name: str
    rubric: Rubric
    ratings: RatingsTable
    key: AnswerKey | None
    manifest: dict[str, Any] = field(repr=False)
    truth: dict[str, Any] | None = field(default=None, repr=False)
    path: Path | None = None


def _find_rubric(folder: Path, rubric_path: str) -> Path | None:
    """A manifest names its rubric relative to the repository root: look upwards."""
    candidate = Path(rubric_path)
    if candidate.is_absolute():
        return candidate if candidate.is_file() else None
    for base in (folder, *folder.resolve().parents):
        if (base / candidate).is_file():
            return base / candidate
    return None


def read_program(path: str | Path) -> ProgramData:
    """Read ``manifest.json``, the rubric it names, ``ratings.csv``, ``key.csv`` and
    ``truth.json`` from a program folder (as written by ``calibrate synth``).

    Examples
    --------
    >>> program = read_program("data/synthetic/pilot")
    >>> program.rubric.id, program.key is not None
    ('evidence-4level', True)
    """
    folder = Path(path)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no manifest.json in {folder} (is it a program folder?)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RatingsError(
            [Problem(f"not valid JSON: {exc.msg}", file=str(manifest_path), line=exc.lineno)]
        ) from None
    rubric_ref = manifest.get("rubric") if isinstance(manifest, dict) else None
    rubric_path = rubric_ref.get("path") if isinstance(rubric_ref, dict) else rubric_ref
    if not isinstance(rubric_path, str):
        raise RatingsError(
            [
                Problem(
                    "the manifest must name its rubric file ('rubric': path, or {'path': ...})",
                    file=str(manifest_path),
                    field="rubric",
                )
            ]
        )
    found = _find_rubric(folder, rubric_path)
    if found is None:
        raise FileNotFoundError(
            f"{manifest_path} names rubric {rubric_path!r}, which was not found in {folder} or any folder above it"
        )
    rubric = load_rubric(found)
    problems: list[Problem] = []
    ratings = key = None
    try:
        ratings = read_ratings(folder / "ratings.csv", rubric)
    except RatingsError as exc:
        problems += exc.problems
    if (folder / "key.csv").is_file():
        try:
            key = read_key(folder / "key.csv", rubric, ratings=ratings)
        except RatingsError as exc:
            problems += exc.problems
    if problems or ratings is None:
        raise RatingsError(problems)
    truth_path = folder / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.is_file() else None
    return ProgramData(
        str(manifest.get("name", folder.name)), rubric, ratings, key, manifest, truth, folder
    )
