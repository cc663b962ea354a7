"""``kill -9`` during ``calibrate import --supersede``: the store is as before (ratings,
history, imports), passes SQLite's check, and running the import again succeeds.

Reuses the fault-injecting child process of ``tests/hardening/test_store_faults.py``
(the process kills itself at a named step), with the supersede steps added."""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import sys

import pytest

from calibrate.cli import main
from tests.hardening import test_store_faults as faults

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not hasattr(signal, "SIGKILL"), reason="POSIX faults (Linux)"
)

_STEPS = """
elif step == "mid-staging":
    after(_imports, "insert_rows", nth=5)  # (3 chunks of ratings, then the staging)
elif step == "after-history":
    after(ImportsMixin, "_keep_superseded")
elif step == "after-update":
    after(ImportsMixin, "_make_current")
elif step == "finished-import":
    after(ImportsMixin, "_finish_import")
elif step == "after-withdraw":
    from calibrate.store._history import HistoryMixin
    after(HistoryMixin, "_withdraw")
elif step == "after-retract":
    from calibrate.store._history import HistoryMixin
    after(HistoryMixin, "_retract")
"""
CHILD = faults.CHILD.replace(
    "from calibrate.cli import main\n", _STEPS + "from calibrate.cli import main\n", 1
)
STEPS = [
    "mid-ratings",
    "mid-staging",
    "after-history",
    "after-update",
    "finished-import",
    "after-commit",
]


def state(store) -> tuple:
    """Every row a reader can see: ratings, history and imports (after quick_check)."""
    with contextlib.closing(sqlite3.connect(store)) as c:
        assert c.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        return tuple(
            c.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4, 5").fetchall()
            for t in ("ratings", "rating_history", "imports")
        )


def test_kill_during_a_supersede_import(tmp_path, monkeypatch):
    rubric = str(faults.RUBRIC)
    (tmp_path / "a.csv").write_text(faults.ratings_csv("A", 100))  # 600 ratings
    # the same keys with every score moved one level (1..4 -> 2..4,1): 600 corrections
    lines = (tmp_path / "a.csv").read_text().splitlines()
    moved = [lines[0]] + [
        ",".join([*f[:3], str(int(f[3]) % 4 + 1), f[4]])
        for f in (ln.split(",") for ln in lines[1:])
    ]
    (tmp_path / "b.csv").write_text("\n".join(moved) + "\n")
    store = tmp_path / "s.sqlite"
    assert main(["import", str(tmp_path / "a.csv"), "--store", str(store), "--rubric", rubric]) == 0
    before = state(store)
    monkeypatch.setattr(faults, "CHILD", CHILD)
    procs = {}
    for step in STEPS:  # one store copy and one killed process per step, all at once
        work = tmp_path / step
        work.mkdir()
        shutil.copyfile(store, work / "s.sqlite")
        argv = ["import", str(tmp_path / "b.csv"), "--supersede", "--reason", "moderation"]
        procs[step] = faults.run_child(
            work, step, [*argv, "--store", str(work / "s.sqlite"), "--rubric", rubric]
        )
    for step, proc in procs.items():
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == -signal.SIGKILL, (step, err)
    for step in STEPS[:-1]:
        assert state(tmp_path / step / "s.sqlite") == before, step
    done = state(tmp_path / "after-commit" / "s.sqlite")
    assert len(done[0]) == 600 and len(done[1]) == 600 and len(done[2]) == 2
    # a store whose import was killed takes it afterwards, the same as an uninterrupted one
    again = tmp_path / "after-update" / "s.sqlite"
    argv = ["import", str(tmp_path / "b.csv"), "--supersede", "--reason", "moderation"]
    assert main([*argv, "--store", str(again), "--rubric", rubric]) == 0
    got = state(again)
    assert got[0] == done[0]  # same current values, same import id
    assert [r[:10] + r[11:] for r in got[1]] == [r[:10] + r[11:] for r in done[1]]  # (times differ)
    assert len(got[2]) == 2


def test_kill_during_a_retract(tmp_path, monkeypatch):
    """``calibrate retract`` killed after withdrawing (before restoring), or after all its
    writes (before the commit): the store is as before, and retracting again succeeds."""
    rubric = str(faults.RUBRIC)
    (tmp_path / "a.csv").write_text(faults.ratings_csv("A", 20))
    (tmp_path / "b.csv").write_text(
        faults.ratings_csv("A", 20, reviewers=("R1",)).replace(",anchor", ",seeded")
    )
    lines = (tmp_path / "b.csv").read_text().splitlines()
    moved = [lines[0]] + [
        ",".join([*f[:3], str(int(f[3]) % 4 + 1), f[4]])
        for f in (ln.split(",") for ln in lines[1:])
    ]
    (tmp_path / "b.csv").write_text("\n".join(moved) + "\n")
    store = tmp_path / "s.sqlite"
    for argv in (
        ["import", str(tmp_path / "a.csv")],
        ["import", str(tmp_path / "b.csv"), "--supersede", "--reason", "r"],
    ):
        assert main([*argv, "--store", str(store), "--rubric", rubric]) == 0
    before = state(store)
    monkeypatch.setattr(faults, "CHILD", CHILD)
    retract = ["retract", "--import", "2", "--reason", "wrong file"]
    procs = {}
    for step in ("after-withdraw", "after-retract"):
        work = tmp_path / step
        work.mkdir()
        shutil.copyfile(store, work / "s.sqlite")
        procs[step] = faults.run_child(work, step, [*retract, "--store", str(work / "s.sqlite")])
    for step, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, (step, err)
        assert state(tmp_path / step / "s.sqlite") == before, step
    again = tmp_path / "after-withdraw" / "s.sqlite"
    assert main([*retract, "--store", str(again)]) == 0
    ratings, history, imports = state(again)
    assert len(ratings) == 120 and len(history) == 60 + 60 and len(imports) == 3
