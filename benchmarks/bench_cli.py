"""Issue 14 (speed): the whole ``calibrate reliability`` command on the state-scale archive
(~1,000,000 ratings, 100,000 submissions, 400 reviewers, 4 criteria), as a process, side by
side in the same run with what a user would otherwise write: ``pandas.read_csv``, a
reviewers x submissions pivot per criterion and ``krippendorff.alpha`` (ordinal) for each.

Both sides are whole processes (interpreter start, imports, reading the file, output),
run in turns (ours, the user's script, ours, ...) so that load on a shared machine falls
on both alike; each figure is the best of its runs.
Target: the default command (every coefficient that fits the level: alpha, percent
agreement, Fleiss, Conger, AC2, Brennan-Prediger, ICC, plus the decision rows) at least 2x
faster than the script; the same command with ``--bootstrap 1000`` under 20 s; the
alpha-only command (``--coefficients krippendorff_alpha``) is measured too. Peak memory is the command's own (``ru_maxrss`` of the child process).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from _data import RUBRIC, state_scale_csv
from _harness import ROOT, WORK, Measurement, measure, row

USER_SCRIPT = """\
import json, sys
import krippendorff
import pandas as pd

df = pd.read_csv(sys.argv[1])
out = {}
for criterion, g in df.groupby("criterion_id"):
    matrix = g.pivot_table(
        index="reviewer_id", columns="submission_id", values="score", aggfunc="first"
    )
    out[criterion] = float(
        krippendorff.alpha(reliability_data=matrix.to_numpy(), level_of_measurement="ordinal")
    )
print(json.dumps(out))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return env


def run_process(cmd: list[str]) -> list[object]:
    """Run ``cmd`` (in this fresh worker, its only child): wall seconds, the child's peak
    resident set in MB, and its stdout."""
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    return [seconds, peak_mb, done.stdout]


def _best(cmd: list[str], repeat: int) -> tuple[Measurement, str]:
    """``cmd`` run ``repeat`` times: the best time, the largest peak, the first stdout."""
    runs = [measure("bench_cli:run_process", cmd).info for _ in range(repeat)]
    seconds = min(r[0] for r in runs)
    return Measurement(seconds, max(r[1] for r in runs), None), runs[0][2]


def _interleaved(
    cmds: dict[str, list[str]], repeat: dict[str, int]
) -> dict[str, tuple[Measurement, str]]:
    """Each command run ``repeat[name]`` times, the commands taking turns (ours, the user's
    script, ours, ...), so that a change of load on a shared machine falls on both sides
    alike; per command the best time and the largest peak."""
    runs: dict[str, list[list[object]]] = {name: [] for name in cmds}
    for i in range(max(repeat.values())):
        for name, cmd in cmds.items():
            if i < repeat[name]:
                runs[name].append(measure("bench_cli:run_process", cmd).info)
    return {
        name: (
            Measurement(min(r[0] for r in rs), max(r[1] for r in rs), None),
            str(rs[0][2]),
        )
        for name, rs in runs.items()
    }


def run() -> list[dict]:
    csv = str(state_scale_csv())
    script = WORK / "user_way_alpha.py"
    script.write_text(USER_SCRIPT)
    cli = [sys.executable, "-c", "import sys; from calibrate.cli import main; sys.exit(main())"]
    base = [*cli, "reliability", csv, "--rubric", str(RUBRIC), "--format", "json"]
    # the command: a long CSV and a level, no rubric
    plain = [*cli, "reliability", csv, "--level", "ordinal", "--by", "criterion"]
    plain += ["--format", "json"]
    got = _interleaved(
        {
            "plain": plain,
            "ref": [sys.executable, str(script), csv],
            "base": base,
            "alpha": [*base, "--coefficients", "krippendorff_alpha"],
            "all": [*plain, "--coefficients", "all", "--weights", "linear,quadratic"],
            "boot": [*plain, "--bootstrap", "1000"],
        },
        {"plain": 5, "ref": 5, "base": 3, "alpha": 3, "all": 2, "boot": 1},
    )
    ours_plain, out_plain = got["plain"]
    ours, out = got["base"]
    alpha_only, out_alpha = got["alpha"]
    everything, out_all = got["all"]
    boot, out_boot = got["boot"]
    ref, out_ref = got["ref"]
    boot_rows = json.loads(out_boot)
    boot_ok = all(
        r["ci_method"] == "bootstrap-bca" for r in boot_rows if r["estimate"] == r["estimate"]
    )
    theirs = json.loads(out_ref)
    n_all = len(json.loads(out_all))
    gaps = []
    for text in (out_plain, out, out_alpha, out_all):
        mine = {
            r["criterion_id"]: r["estimate"]
            for r in json.loads(text)
            if r["coefficient"] == "krippendorff_alpha"
        }
        gaps.append(max(abs(mine[c] - theirs[c]) for c in theirs))
    return [
        row(
            "cli",
            f"reliability --level ordinal --by criterion (default set), process; |alpha diff| {gaps[0]:.0e}",
            ours_plain,
            reference=ref,
            target=">= 2x read_csv + pivot + krippendorff.alpha",
            ok=ref.seconds / ours_plain.seconds >= 2 and gaps[0] < 1e-9,
        ),
        row(
            "cli",
            f"reliability --rubric (default set, decision rows too); |alpha diff| {gaps[1]:.0e}",
            ours,
            reference=ref,
            target="(the rubric's checks and the decision rows too; for comparison)",
            ok=None if gaps[1] < 1e-9 else False,
        ),
        row(
            "cli",
            f"reliability --coefficients all --weights linear,quadratic ({n_all} rows); "
            f"|alpha diff| {gaps[3]:.0e}",
            everything,
            target="< 10 s; < 1.5 GB",
            ok=everything.seconds < 10 and everything.peak_mb < 1536 and gaps[3] < 1e-9,
        ),
        row(
            "cli",
            f"reliability --level ordinal --by criterion --bootstrap 1000 (BCa, {len(boot_rows)} rows, ICC included)",
            boot,
            target="< 20 s",
            ok=boot.seconds < 20 and boot_ok,
        ),
        row(
            "cli",
            f"reliability --coefficients krippendorff_alpha; |diff| {gaps[2]:.0e}",
            alpha_only,
            reference=ref,
            target="(alpha only; for comparison)",
            ok=None if gaps[2] < 1e-9 else False,
        ),
        row("cli", "  user's script (read_csv + pivot + alpha)", ref),
    ]
