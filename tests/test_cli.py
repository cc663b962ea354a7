"""The command-line contract: --format json/table, exit codes 0/1/2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from calibrate.cli import build_parser, main

RUBRIC = "rubrics/evidence-4level.yaml"
GOOD = "submission_id,reviewer_id,criterion_id,score\nA1,R1,overview,3\nA1,R2,overview,Emerging\n"
BAD = "submission_id,reviewer_id,criterion_id,score\nA1,R1,overveiw,3\nA1,R2,overview,9\n"


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.csv").write_text(GOOD)
    (tmp_path / "bad.csv").write_text(BAD)
    return tmp_path


def test_validate_ok_json(files, capsys):
    code, out, _ = run(
        ["validate", str(files / "good.csv"), "--rubric", RUBRIC, "--format", "json"], capsys
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True and doc["ratings"] == 2 and doc["reviewers"] == 2
    assert doc["rubric"]["id"] == "evidence-4level"


def test_validate_ok_table(files, capsys):
    code, out, _ = run(["validate", str(files / "good.csv"), "--rubric", RUBRIC], capsys)
    assert code == 0
    assert out.startswith(f"OK: {files / 'good.csv'} has 2 valid ratings")


def test_validate_lists_every_problem_with_exit_1(files, capsys):
    code, out, _ = run(
        ["validate", str(files / "bad.csv"), "--rubric", RUBRIC, "--format", "json"], capsys
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert [(p["row"], p["column"], p["value"]) for p in doc["problems"]] == [
        (2, "criterion_id", "overveiw"),
        (3, "score", "9"),
    ]


def test_problems_in_ratings_and_key_are_listed_together(files, capsys):
    (files / "key.csv").write_text("submission_id,criterion_id,key_score\nA1,overview,8\n")
    code, out, _ = run(
        ["validate", str(files / "bad.csv"), "--rubric", RUBRIC, "--key", str(files / "key.csv")],
        capsys,
    )
    assert code == 1
    assert out.startswith("3 problem(s) in the ratings:")
    assert "key.csv, row 2, column 'key_score', value '8'" in out


def test_bad_rubric_is_a_data_problem(files, capsys):
    (files / "r.yaml").write_text("id: x\ntitle: X\nversion: '1'\n")
    code, out, _ = run(
        ["validate", str(files / "good.csv"), "--rubric", str(files / "r.yaml")], capsys
    )
    assert code == 1
    assert "required key 'criteria' is missing" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["validate"],
        ["validate", "x.csv"],
        ["nosuchcommand"],
        ["validate", "x.csv", "--rubric", RUBRIC, "--format", "xml"],
    ],
    ids=["no-args", "no-rubric", "unknown-command", "bad-format"],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_missing_file_exits_2(tmp_path, capsys):
    code, _, err = run(["validate", str(tmp_path / "none.csv"), "--rubric", RUBRIC], capsys)
    assert code == 2
    assert "no such file" in err


def test_every_subcommand_has_help():
    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command")
    assert {"validate", "import", "summary", "synth", "demo"} <= set(subs.choices)
    for name, sub in subs.choices.items():
        text = sub.format_help()
        assert "--format" in text, name
        assert sub.description, name


def test_console_script_runs_without_traceback(files):
    proc = subprocess.run(
        [sys.executable, "-m", "calibrate", "validate", str(files / "bad.csv"), "--rubric", RUBRIC],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout


def test_synth_writes_a_program_that_validates(tmp_path, capsys):
    out = tmp_path / "prog"
    code, text, _ = run(
        [
            "synth",
            "--out",
            str(out),
            "--seed",
            "3",
            "--submissions",
            "40",
            "--reviewers",
            "6",
            "--drifting",
            "1",
            "--drift-size",
            "-0.5",
        ],
        capsys,
    )
    assert code == 0, text
    assert {p.name for p in out.iterdir()} >= {
        "ratings.csv",
        "key.csv",
        "truth.json",
        "manifest.json",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["drifting_reviewers"] == 1
    rubric = str(out / "rubric.yaml") if (out / "rubric.yaml").exists() else RUBRIC
    code, text, _ = run(
        [
            "validate",
            str(out / "ratings.csv"),
            "--rubric",
            rubric,
            "--key",
            str(out / "key.csv"),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0 and json.loads(text)["ratings"] == manifest["counts"]["ratings"]


def test_synth_same_seed_same_bytes(tmp_path, capsys):
    for d in ("a", "b"):
        assert (
            run(
                ["synth", "--out", str(tmp_path / d), "--seed", "11", "--submissions", "30"], capsys
            )[0]
            == 0
        )
    for name in ("ratings.csv", "key.csv", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reviewers", "2"], "n_reviewers must be at least 3"),
        (["--noise-range", "0.9", "0.1"], "noise_range must be two numbers"),
    ],
    ids=["too-few-reviewers", "reversed-range"],
)
def test_synth_bad_settings_are_usage_errors(tmp_path, capsys, argv, message):
    code, _, err = run(["synth", "--out", str(tmp_path / "x"), *argv], capsys)
    assert code == 2
    assert message in err
    assert not (tmp_path / "x").exists()


def test_export_from_the_store_with_pseudonyms(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CALIBRATE_PSEUDONYM_KEY", "test-key")
    store = tmp_path / "s.db"
    pilot = "data/synthetic/pilot"
    assert (
        run(
            [
                "import",
                f"{pilot}/ratings.csv",
                "--rubric",
                RUBRIC,
                "--key",
                f"{pilot}/key.csv",
                "--store",
                str(store),
            ],
            capsys,
        )[0]
        == 0
    )
    out = tmp_path / "r.csv"
    code, text, _ = run(
        [
            "export",
            str(out),
            "--store",
            str(store),
            "--rubric-id",
            "evidence-4level",
            "--round",
            "R1",
            "--pseudonymize",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0 and json.loads(text)["rows"] > 0
    frame = pd.read_csv(out, dtype=str)
    assert frame["reviewer_id"].str.fullmatch(r"R-[A-Z2-7]{16}").all()
    assert frame["submission_id"].str.fullmatch(r"S-[A-Z2-7]{16}").all()
    code, _, err = run(
        [
            "export",
            str(tmp_path / "r.txt"),
            "--store",
            str(store),
            "--rubric-id",
            "evidence-4level",
        ],
        capsys,
    )
    assert code == 2 and "OUT must end in .csv or .xlsx" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "none.csv", "--rubric", RUBRIC], "no such file"),
        (["reliability", "none.csv", "--level", "ordnial"], "invalid choice: 'ordnial'"),
        (["validate", "--rubric", RUBRIC], "the following arguments are required: RATINGS"),
        (["policy", "--rubric", RUBRIC], "give either --truth"),
    ],
    ids=["missing-file", "argparse-choice", "argparse-missing", "usage-error"],
)
@pytest.mark.parametrize("spelling", [["--format", "json"], ["--format=json"]])
def test_usage_errors_are_json_with_format_json(argv, message, spelling, capsys):
    """Every failure under --format json is one JSON document on stdout (exit 2), and the
    message stays on stderr for people."""
    try:
        code = main([*argv, *spelling])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out = capsys.readouterr()
    assert code == 2
    doc = json.loads(out.out)
    assert doc["ok"] is False and message in doc["error"] and doc["problems"] == []
    assert message in out.err


def test_a_closed_pipe_ends_quietly():
    """``calibrate ... --format json | head -1``: no traceback, the SIGPIPE exit code."""
    argv = [sys.executable, "-m", "calibrate", "reliability", "data/synthetic/pilot/ratings.csv"]
    argv += ["--rubric", RUBRIC, "--by", "criterion,round,pair", "--min-pair-units", "1"]
    proc = subprocess.Popen(  # unbuffered: read(1) takes one byte off the pipe, no more
        [*argv, "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == b"["
    # the reader goes away while the document (about 200 KB, over the 64 KB a pipe holds)
    # is still being written
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_importing_the_cli_loads_no_numerics():
    """``import calibrate.cli`` stays light (the parser is built before any command runs):
    numpy, pandas, scipy, statsmodels and matplotlib load with the first command only."""
    code = "import sys, calibrate.cli; print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'statsmodels', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_reliability_command_loads_only_what_it_uses(tmp_path):
    """``calibrate reliability`` (the whole-process speed target of issue 14) runs without
    scipy.stats, scipy.optimize, statsmodels, matplotlib or ipywidgets: each costs up to
    seconds of import on a loaded machine."""
    path = tmp_path / "scores.csv"
    path.write_text(
        "submission_id,reviewer_id,score\n"
        + "".join(f"S{i},R{j},{(i + j) % 4 + 1}\n" for i in range(12) for j in range(3))
    )
    heavy = ("scipy.stats", "scipy.optimize", "statsmodels", "matplotlib", "ipywidgets")
    code = (
        "import sys, io, contextlib\n"
        "from calibrate.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['reliability', {str(path)!r}, '--level', 'ordinal', '--format', 'json'])\n"
        f"print(rc, sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr
