"""Writing a synthetic program folder, byte for byte reproducibly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibrate._atomic import write_atomic
from calibrate.ratings import RATING_COLUMNS
from calibrate.rubric import rubric_to_yaml
from calibrate.synth._generate import SyntheticProgram

__all__ = ["program_files", "write_program"]

# A JSON list of numbers (or nulls) spread over lines by indent=1, to be put on one line.
_SCALAR_LIST = re.compile(
    r"\[\n\s*((?:-?[0-9][0-9.eE+-]*|null)(?:,\n\s*(?:-?[0-9][0-9.eE+-]*|null))*)\n\s*\]"
)


def _json(data: Any) -> bytes:
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
    text = _SCALAR_LIST.sub(
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",\n")) + "]", text
    )
    return (text + "\n").encode("utf-8")


def _ratings_csv(frame: pd.DataFrame, attributes: pd.DataFrame | None = None) -> bytes:
    times = frame["rated_at"]
    codes, uniques = pd.factorize(times)  # format each distinct time once
    stamps = np.datetime_as_string(
        pd.DatetimeIndex(uniques).tz_convert(None).to_numpy().astype("datetime64[s]"), unit="s"
    )
    text = np.char.add(stamps.astype(str), "Z").astype(object)
    out = frame.loc[:, list(RATING_COLUMNS)].copy()
    out["rated_at"] = np.where(codes >= 0, text[np.maximum(codes, 0)] if len(text) else "", "")
    if attributes is not None:  # group columns: blank for anchors
        for col in attributes.columns.drop("submission_id"):
            got = attributes.set_index("submission_id")[col]
            out[col] = got.reindex(out["submission_id"].astype(str)).to_numpy()
    return out.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


def _key_csv(frame: pd.DataFrame) -> bytes:
    cols = ["submission_id", "criterion_id", "key_score", "rationale"]
    return frame.loc[:, cols].to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


def program_files(program: SyntheticProgram, *, copy_rubric: bool = False) -> dict[str, bytes]:
    """The files of a program folder as bytes, by file name.

    ``ratings.csv``, ``key.csv`` (unless there are no anchors), ``truth.json`` and
    ``manifest.json``, plus ``rubric.yaml`` with ``copy_rubric`` or when the program
    names no rubric file (the manifest then names ``rubric.yaml``). CSV and JSON use ``"\\n"`` line ends, JSON has
    sorted keys and floats rounded to 6 decimals, and nothing depends on when or where
    the files are made.
    """
    manifest = program.manifest
    copy = copy_rubric or program.rubric_path is None
    if copy:
        rubric = {**manifest["rubric"], "path": "rubric.yaml"}
        if program.rubric_path is not None:
            rubric["copied_from"] = program.rubric_path
        manifest = {**manifest, "rubric": rubric, "files": [*manifest["files"], "rubric.yaml"]}
    files = {"ratings.csv": _ratings_csv(program.ratings, program.attributes)}
    if len(program.key):
        files["key.csv"] = _key_csv(program.key)
    files["truth.json"] = _json(program.truth)
    files["manifest.json"] = _json(manifest)
    if copy:
        files["rubric.yaml"] = rubric_to_yaml(program.rubric).encode("utf-8")
    return files


def _resolves(folder: Path, rubric_path: str) -> bool:
    """Whether :func:`calibrate.io.read_program` finds ``rubric_path`` from ``folder``
    (it looks in the folder and every folder above it)."""
    candidate = Path(rubric_path)
    if candidate.is_absolute():
        return candidate.is_file()
    return any((base / candidate).is_file() for base in (folder, *folder.resolve().parents))


def write_program(
    program: SyntheticProgram, out_dir: str | Path, *, copy_rubric: bool | None = None
) -> Path:
    """Write a program folder: ``ratings.csv``, ``key.csv``, ``truth.json``, ``manifest.json``.

    Parameters
    ----------
    program : SyntheticProgram
        From :func:`generate`.
    out_dir : path
        The folder (created if missing). Existing files of the same names are replaced;
        each is written under a temporary name and moved into place, so an interrupted
        write leaves no half-written file.
    copy_rubric : bool, optional
        Also write the rubric as ``rubric.yaml`` and name that in the manifest, so the
        folder reads on its own. By default only when the manifest's rubric path would
        not be found from ``out_dir`` (readers look in the folder and the folders above
        it: a program under the repository finds ``rubrics/...``).

    Returns
    -------
    Path
        ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from calibrate.io import read_program
    >>> from calibrate.synth import SynthSpec, generate, write_program
    >>> program = generate("rubrics/met-not-yet.yaml", SynthSpec(n_submissions=30, n_reviewers=5, seed=3))
    >>> folder = write_program(program, tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['key.csv', 'manifest.json', 'ratings.csv', 'rubric.yaml', 'truth.json']
    >>> read_program(folder).ratings.n_submissions == program.ratings_table().n_submissions
    True
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if copy_rubric is None:
        copy_rubric = program.rubric_path is None or not _resolves(out, program.rubric_path)
    files = program_files(program, copy_rubric=copy_rubric)
    for name, data in files.items():
        write_atomic(out / name, data)
    if "key.csv" not in files:  # a key left from an earlier program would be read as this one's
        (out / "key.csv").unlink(missing_ok=True)
    return out
