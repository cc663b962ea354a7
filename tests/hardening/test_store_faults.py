"""Faults a store meets on real machines, each in its own process: ``kill -9`` at every
step of ``calibrate import --key``, two importers at once, a full disk (a file-size
limit), read-only files and folders, and a damaged store restored from its snapshot.

What must hold after each: the store passes ``PRAGMA quick_check`` and holds all of the
interrupted import or none of it; a refused write leaves the file byte-for-byte as it was.
(``tests/test_store.py`` covers the library-level cases: a killed ``import_ratings`` and
concurrent writer processes.)
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calibrate.cli import main
from tests.hardening.corpus import RUBRIC, digest, leftovers

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not hasattr(signal, "SIGKILL"), reason="POSIX faults (Linux)"
)
SRC = Path(__file__).resolve().parents[2] / "src"

#: Runs ``calibrate`` with a fault injected at one named step (argv[1]); the rest of
#: argv is the command line. Steps patch the store's private functions so that the
#: process kills itself exactly there (or sleeps there, holding the write lock).
CHILD = r"""
import os, signal, sys, time
from calibrate.store import _backup, _base, _imports, _keys, _store
from calibrate.store._rubrics import RubricsMixin
from calibrate.store._imports import ImportsMixin

step, argv = sys.argv[1], sys.argv[2:]
_imports.CHUNK_ROWS = 200          # many chunks from a small file
_keys.CHUNK_ROWS = 2

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def after(obj, name, nth=1, action=die):
    orig, calls = getattr(obj, name), [0]
    def wrapped(*a, **k):
        out = orig(*a, **k)
        calls[0] += 1
        if calls[0] == nth:
            action()
        return out
    setattr(obj, name, wrapped)

if step == "mid-snapshot":
    _backup.os = type("os", (), {"replace": staticmethod(lambda *a: die()), "getpid": os.getpid})
elif step == "after-snapshot":
    after(_store, "write_backup")
elif step == "after-rubric":
    after(RubricsMixin, "_ensure_rubric")
elif step == "mid-ratings":
    after(_imports, "insert_rows", nth=3)
elif step == "after-ratings":
    after(ImportsMixin, "_finish_import", nth=1)
elif step == "mid-key":
    after(_keys, "insert_rows", nth=2)
elif step == "before-commit":
    after(ImportsMixin, "_finish_import", nth=2)
elif step == "after-commit":
    after(_store.Store, "close")
elif step == "hold-lock":   # keep the write lock a second, so two writers overlap
    after(ImportsMixin, "_finish_import", nth=1, action=lambda: time.sleep(1.0))
from calibrate.cli import main
sys.exit(main(argv))
"""

HEAD = "submission_id,reviewer_id,criterion_id,score,kind\n"
CRITERIA = ("overview", "artifacts", "reflection")


def ratings_csv(prefix: str, n_subs: int, reviewers=("R1", "R2")) -> str:
    return HEAD + "".join(
        f"{prefix}{s:04d},{r},{c},{1 + (s + len(r) + i) % 4},anchor\n"
        for s in range(n_subs)
        for r in reviewers
        for i, c in enumerate(CRITERIA)
    )


def key_csv(prefix: str, n_subs: int) -> str:
    return "submission_id,criterion_id,key_score\n" + "".join(
        f"{prefix}{s:04d},{c},{1 + (s + i) % 4}\n"
        for s in range(n_subs)
        for i, c in enumerate(CRITERIA)
    )


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1"}


def counts(store: Path) -> tuple[int, int, int, int]:
    """(ratings, key scores, imports, rubrics), after SQLite's own check of the file."""
    with contextlib.closing(sqlite3.connect(store)) as c:  # (it removes its -wal on closing)
        assert c.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        row = c.execute(
            "SELECT (SELECT count(*) FROM ratings), (SELECT count(*) FROM answer_keys), "
            "(SELECT count(*) FROM imports), (SELECT count(*) FROM rubrics)"
        ).fetchone()
    return tuple(row)  # type: ignore[return-value]


def run_child(tmp_path: Path, step: str, argv: list[str], **kw) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), step, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=tmp_path,
        **kw,
    )


@pytest.fixture
def first_import(tmp_path) -> Path:
    """A store with one import with a key (the state a killed second import must keep)."""
    (tmp_path / "a.csv").write_text(ratings_csv("A", 50))
    (tmp_path / "ka.csv").write_text(key_csv("A", 50))
    store = tmp_path / "s.sqlite"
    argv = ["import", str(tmp_path / "a.csv"), "--key", str(tmp_path / "ka.csv")]
    assert main([*argv, "--store", str(store), "--rubric", str(RUBRIC)]) == 0
    (tmp_path / "b.csv").write_text(ratings_csv("B", 300))
    (tmp_path / "kb.csv").write_text(key_csv("B", 300))
    return store


def second_import(tmp_path: Path, store: Path) -> list[str]:
    b, kb = str(tmp_path / "b.csv"), str(tmp_path / "kb.csv")
    return ["import", b, "--key", kb, "--store", str(store), "--rubric", str(RUBRIC)]


STEPS = [
    "mid-snapshot",
    "after-snapshot",
    "after-rubric",
    "mid-ratings",
    "after-ratings",
    "mid-key",
    "before-commit",
    "after-commit",
]


def test_kill_at_every_step_of_an_import_with_key(tmp_path, first_import):
    """kill -9 at each step: afterwards the store holds all of the import or none."""
    store = first_import
    none = counts(store)
    assert none == (300, 150, 2, 1)
    every = (300 + 1800, 150 + 900, 4, 1)
    procs = {}
    for step in STEPS:  # one store copy and one process per step, all at once
        work = tmp_path / step
        work.mkdir()
        shutil.copyfile(store, work / "s.sqlite")
        procs[step] = run_child(work, step, second_import(tmp_path, work / "s.sqlite"))
    seen = {}
    for step, proc in procs.items():
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == -signal.SIGKILL, (step, err)
        got = counts(tmp_path / step / "s.sqlite")  # (quick_check inside)
        assert got in (none, every), (step, got)
        seen[step] = got == every
    assert seen == {s: s == "after-commit" for s in STEPS}
    # and a store whose import was killed takes the same import afterwards, every row
    copy = tmp_path / "mid-key" / "s.sqlite"
    assert main(second_import(tmp_path, copy)) == 0
    assert counts(copy) == every


def test_kill_after_a_delay(tmp_path, first_import):
    """kill -9 of an unmodified ``calibrate import --key`` at 40% and 80% of its run time
    (whatever it is doing then)."""
    store = first_import
    none = counts(store)
    probe = tmp_path / "probe.sqlite"
    shutil.copyfile(store, probe)
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "calibrate", *second_import(tmp_path, probe)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    every = counts(probe)
    for fraction in (0.4, 0.8):
        copy = tmp_path / f"s{fraction}.sqlite"
        shutil.copyfile(store, copy)
        proc = subprocess.Popen(
            [sys.executable, "-m", "calibrate", *second_import(tmp_path, copy)],
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(took * fraction)
        proc.kill()
        proc.wait(timeout=60)
        assert counts(copy) in (none, every), fraction


def test_two_importers_at_once_both_finish(tmp_path, first_import):
    """Two ``import --key`` processes on one store, each holding the write lock a second:
    the second waits, both finish, nothing of either is lost."""
    store = first_import
    for p in ("C", "D"):
        (tmp_path / f"{p}.csv").write_text(ratings_csv(p, 40, reviewers=("R7",)))
        (tmp_path / f"k{p}.csv").write_text(key_csv(p, 40))
    procs = [
        run_child(
            tmp_path,
            "hold-lock",
            [
                "import",
                str(tmp_path / f"{p}.csv"),
                "--key",
                str(tmp_path / f"k{p}.csv"),
                "--store",
                str(store),
                "--rubric",
                str(RUBRIC),
                "--format",
                "json",
            ],
        )
        for p in ("C", "D")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err
        assert [r["added"] for r in json.loads(out)["imports"]] == [120, 120]
    assert leftovers(tmp_path) == []
    assert counts(store) == (300 + 240, 150 + 240, 6, 1)


def _limit_file_size(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


@pytest.mark.parametrize(
    ("where", "extra", "says"),
    [
        ("snapshot", [], "could not write the backup"),
        ("import", ["--no-backup"], "The disk is full, a file-size limit was reached"),
        ("import-after-snapshot", [], "The disk is full, a file-size limit was reached"),
    ],
)
def test_disk_full(tmp_path, first_import, where, extra, says):
    """A file-size limit below what the write needs: a clear error, the store unchanged,
    nothing half-written left beside it."""
    store = first_import
    size = store.stat().st_size
    limit = size // 2 if where == "snapshot" else size + 8192
    (tmp_path / "big.csv").write_text(ratings_csv("E", 2000))
    before = digest(store)
    bak = store.with_name(store.name + ".bak")
    bak_before = digest(bak)
    argv = [
        "import",
        str(tmp_path / "big.csv"),
        "--store",
        str(store),
        "--rubric",
        str(RUBRIC),
        *extra,
    ]
    done = subprocess.run(
        [sys.executable, "-m", "calibrate", *argv],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size(limit),
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert says in done.stderr and str(store) in done.stderr
    assert "nothing was written" in done.stderr or "the store was not changed" in done.stderr
    assert digest(store) == before
    if where == "snapshot":
        assert digest(bak) == bak_before  # the old snapshot is kept whole
    assert leftovers(tmp_path) == []
    counts(store)


# ---- read-only files and folders ----------------------------------------------------------
_PR_CAPBSET_DROP = 24
_DAC_CAPS = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


def _no_permission_override() -> None:
    """Run the child as one whom file modes bind: as root (where chmod does not stop
    writes), drop the capabilities that override them from the bounding set, so the
    program exec'd runs without them."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in _DAC_CAPS:
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _bound_by_modes(folder: Path) -> bool:
    """Whether a child can be made to obey file modes (try writing in a 0555 folder)."""
    probe = folder / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        done = subprocess.run(
            [sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"],
            capture_output=True,
            preexec_fn=_no_permission_override,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        probe.chmod(0o755)
    return done.returncode != 0 and b"PermissionError" in done.stderr


def _calibrate(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "calibrate", *argv],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_no_permission_override,
    )


@pytest.mark.parametrize("what", ["file", "folder"])
def test_reads_work_on_a_read_only_store(tmp_path, first_import, what):
    """summary, export and backup read a store whose file and/or folder is not writable
    (mode=ro, immutable=1); import is refused clearly; nothing is created beside it."""
    if not _bound_by_modes(tmp_path):
        pytest.skip(
            "cannot run a child bound by file modes here (root without CAP_SETPCAP): "
            "the read-only path is covered by test_read_only_store_is_never_written"
        )
    ro = tmp_path / "ro"
    ro.mkdir()
    store = ro / "s.sqlite"
    shutil.copyfile(first_import, store)
    before = digest(store)
    if what in ("file", "both"):
        store.chmod(0o444)
    if what in ("folder", "both"):
        ro.chmod(0o555)
    out, copy = tmp_path / "out.csv", tmp_path / "copy.sqlite"
    commands = {
        "summary": ["summary", "--store", str(store), "--format", "json"],
        "export": ["export", str(out), "--store", str(store), "--rubric-id", "evidence-4level"],
        "backup": ["backup", "--store", str(store), "--to", str(copy)],
        "import": [
            "import",
            str(tmp_path / "b.csv"),
            "--store",
            str(store),
            "--rubric",
            str(RUBRIC),
        ],
    }
    try:
        names = sorted(p.name for p in ro.iterdir())
        procs = {k: _calibrate(*argv) for k, argv in commands.items()}
        done = {k: (p.wait(timeout=180), *p.communicate()) for k, p in procs.items()}
        for k in ("summary", "export", "backup"):
            assert done[k][0] == 0, (k, done[k][2])
        assert json.loads(done["summary"][1])["totals"]["ratings"] == 300
        assert len(out.read_text().splitlines()) == 301
        assert counts(copy)[:2] == (300, 150)
        code, _, err = done["import"]
        assert code == 1 and "Traceback" not in err
        assert f"could not open {store} for writing" in err
        assert ("the file is read-only" if what != "folder" else "is not writable") in err
        assert "Reading commands (summary, export, backup) still work" in err
        assert sorted(p.name for p in ro.iterdir()) == names  # no -wal, -shm or snapshot
    finally:
        ro.chmod(0o755)
        store.chmod(0o644)
    assert digest(store) == before


def test_read_only_store_is_never_written(tmp_path, first_import):
    """In process (root or not): a store opened read only refuses writes, and its bytes
    and folder stay as they were after reads."""
    from calibrate.store import Store, StoreError

    before, names = digest(first_import), sorted(p.name for p in tmp_path.iterdir())
    with Store.open(first_import, read_only=True) as s:
        assert s.read_only
        assert s.summary()["totals"]["keys"] == 150
        with pytest.raises(StoreError, match="opened read only"):
            s.add_round("evidence-4level", "R9")
        with pytest.raises(StoreError, match="opened read only"):
            with s.transaction():
                pass
    assert digest(first_import) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_damaged_store_is_refused_then_restored_from_its_snapshot(tmp_path, first_import):
    """The whole path: a write refreshes the snapshot; the store is damaged; the next write
    is refused naming the snapshot; ``backup --restore`` puts it back; writing works."""
    store = first_import
    (tmp_path / "c.csv").write_text(ratings_csv("C", 10))
    assert (
        main(["import", str(tmp_path / "c.csv"), "--store", str(store), "--rubric", str(RUBRIC)])
        == 0
    )
    bak = store.with_name(store.name + ".bak")
    assert counts(bak)[:2] == (300, 150)  # the state before that import
    data = bytearray(store.read_bytes())
    mid = len(data) // 2 // 4096 * 4096
    data[mid : mid + 4096] = b"\x00" * 4096
    store.write_bytes(bytes(data))
    damaged = digest(store)
    argv = ["import", str(tmp_path / "b.csv"), "--store", str(store), "--rubric", str(RUBRIC)]
    done = subprocess.run(
        [sys.executable, "-m", "calibrate", *argv],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"the store {store} is damaged" in done.stderr
    assert f"{bak} (calibrate backup --restore --store {store})" in done.stderr
    assert digest(store) == damaged and counts(bak)[:2] == (300, 150)
    assert main(["backup", "--restore", "--store", str(store)]) == 0
    assert digest(store.with_name(store.name + ".before-restore")) == damaged
    assert counts(store)[:2] == (300, 150)
    assert (
        main(["import", str(tmp_path / "c.csv"), "--store", str(store), "--rubric", str(RUBRIC)])
        == 0
    )
    assert counts(store)[:2] == (360, 150)
