"""The bad-input corpus's harness: one case is files + a command line + what must come back.

Every case is run in process through ``calibrate.cli.main`` and checked the same way:

* the exit code is the one promised (1 for bad data, 2 for a usage error);
* nothing on stderr is a Python traceback;
* the message (stdout and stderr together) contains every fragment in ``says`` -- the
  file, the row or line, the column or field, the value, whatever the case must name;
* when the case works on a store, the store file is byte-for-byte what it was before, and
  no journal or half-written file is left beside it.

Placeholders in ``argv`` and in ``says``: ``{dir}`` is the case's own folder, ``{store}``
a copy of a small store holding ten ratings (``template_store``), ``{rubric}`` the
four-level evidence rubric of the repository.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from calibrate.cli import main

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "rubrics" / "evidence-4level.yaml"
#: The ten ratings of the template store (criteria of evidence-4level).
GOOD_CSV = (
    "submission_id,reviewer_id,criterion_id,score\n"
    + "".join(
        f"S{s},R{r},{c},{1 + (s + r) % 4}\n"
        for s in range(1, 4)
        for r in (1, 2)
        for c in ("overview",)
    )
    + "S4,R1,overview,2\nS4,R2,overview,3\nS5,R1,overview,4\nS5,R2,overview,4\n"
)


@dataclass(frozen=True)
class BadInput:
    """One bad input: what is written, what is run, what must come back."""

    id: str
    argv: tuple[str, ...]
    files: Mapping[str, bytes | str] = field(default_factory=dict)
    rc: int = 1
    says: tuple[str, ...] = ()
    store: bool = False

    def param(self) -> object:
        return pytest.param(self, id=self.id)


def digest(path: Path) -> str | None:
    """The sha256 of a file's bytes, or None when there is no such file."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def leftovers(folder: Path) -> list[str]:
    """Files a failed write must not leave: SQLite journals and half-written outputs."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.endswith(("-journal", "-wal", ".partial", ".tmp")) or p.name.startswith(".tmp")
    )


def build_template_store(folder: Path) -> Path:
    """A small store with the ten ratings of ``GOOD_CSV`` (built once per session)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.csv").write_text(GOOD_CSV)
    store = folder / "template.sqlite"
    code = main(
        ["import", str(folder / "good.csv"), "--store", str(store), "--rubric", str(RUBRIC)]
    )
    if code != 0:
        raise RuntimeError(f"could not build the template store (exit {code})")
    return store


def run_case(case: BadInput, tmp_path: Path, template_store: Path, capsys) -> tuple[str, str]:
    """Run one case and check the promises above; return (stdout, stderr) for more checks."""
    for name, content in case.files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="")
    store = tmp_path / "store.sqlite"
    if case.store:
        shutil.copyfile(template_store, store)
    fill = {"dir": str(tmp_path), "store": str(store), "rubric": str(RUBRIC)}
    argv = [a.format(**fill) for a in case.argv]
    before = digest(store)
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    message = out.out + out.err
    assert code == case.rc, f"exit {code}, expected {case.rc}; output:\n{message[:3000]}"
    assert "Traceback" not in out.err, out.err[:3000]
    for fragment in case.says:
        wanted = fragment.format(**fill)
        assert wanted in message, f"{wanted!r} not in output:\n{message[:3000]}"
    if case.store:
        assert digest(store) == before, "the store changed"
        assert leftovers(tmp_path) == []
    return out.out, out.err
