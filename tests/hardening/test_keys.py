"""Bad rubrics, bad key files, pseudonym collisions, Ctrl-C and a full disk (issue 19).

Each ``BadInput`` runs through the corpus harness (exit code, no traceback, the message
names the file and the field or line, the store unchanged, nothing half-written left).
The fault tests run the command line in a subprocess: SIGINT during a long command, and a
file-size limit (``RLIMIT_FSIZE``, SIGXFSZ ignored) standing in for a full disk.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from calibrate.cli import main
from calibrate.report import PseudonymCollisionError, Pseudonymizer, load_or_create_key
from tests.hardening.corpus import REPO, BadInput, leftovers, run_case

RUBRIC_ID = "evidence-4level"
PILOT = REPO / "data" / "synthetic" / "pilot"
OK_CSV = "submission_id,reviewer_id,criterion_id,score\nS9,R1,a,2\n"

#: A small valid rubric; cases edit it.
BASE = """\
id: t
title: Test rubric
version: "1"
scale:
  - {score: 1, label: Low}
  - {score: 2, label: Mid}
  - {score: 3, label: High}
criteria:
  - id: a
    name: A
  - id: b
    name: B
pass_rule:
  min_total: 4
"""

LEVELS = """\
    levels:
      - {score: 1, label: Low}
      - {score: 2, label: High}
"""

BILLION_LAUGHS = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def edit(old: str, new: str, text: str = BASE) -> str:
    if old not in text:
        raise ValueError(f"{old!r} is not in the base rubric")
    return text.replace(old, new, 1)


def criteria(n: int, *, levels: str = "") -> str:
    return "".join(f"  - id: c{i}\n    name: C{i}\n{levels}" for i in range(n))


def rubric_case(id: str, text: str | bytes, says: tuple[str, ...]) -> BadInput:
    """Import a good ratings file with a bad rubric: refused, the store untouched."""
    return BadInput(
        id,
        ("import", "{dir}/ok.csv", "--store", "{store}", "--rubric", "{dir}/r.yaml"),
        files={"ok.csv": OK_CSV, "r.yaml": text},
        rc=1,
        says=("{dir}/r.yaml", *says),
        store=True,
    )


MANY_INVALID = """\
id: t
title: T
version: "1"
criteria:
  - id: a
    name: A
    levels:
      - {score: 1, label: Low}
      - {score: 1, label: High}
  - id: "bad id!"
    name: ""
    levels:
      - {score: x, label: Low}
  - id: a
    name: A again
    levels:
      - {score: 1, label: L}
      - {score: 2}
pass_rule:
  min_levels: {zz: 3}
"""

RUBRIC_CASES = [
    rubric_case("billion-laughs", BILLION_LAUGHS, ("line 2", "YAML alias *a is not allowed")),
    rubric_case(
        "alias-for-levels",
        edit("  - id: b\n    name: B\n", "  - id: b\n    name: B\n    levels: *lv\n").replace(
            "  - id: a\n    name: A\n", "  - id: a\n    name: A\n    levels: &lv\n" + LEVELS[11:]
        ),
        ("line 17", "YAML alias *lv is not allowed", "scale:"),
    ),
    rubric_case(
        "alias-merge-key",
        edit("pass_rule:\n  min_total: 4\n", "base: &b {min_total: 4}\npass_rule:\n  <<: *b\n"),
        ("line 15", "alias *b"),
    ),
    rubric_case(
        "oversize-rubric",
        BASE + "#" * (1 << 20) + "\n",
        ("larger than 1024 KiB, the largest rubric file read",),
    ),
    rubric_case(
        "too-many-criteria",
        edit("  - id: a\n    name: A\n  - id: b\n    name: B\n", criteria(101)),
        ("line 9", "field criteria", "101 criteria; a rubric may have at most 100"),
    ),
    rubric_case(
        "too-many-levels",
        edit(
            "  - id: a\n    name: A\n",
            "  - id: a\n    name: A\n    levels:\n"
            + "".join(f"      - {{score: {i}, label: L{i}}}\n" for i in range(21)),
        ),
        ("line 12", "field criteria[0].levels", "21 levels; a rubric may have at most 20"),
    ),
    rubric_case(
        "too-many-scale-levels",
        edit(
            "scale:\n  - {score: 1, label: Low}\n",
            "scale:\n" + "".join(f"  - {{score: {i}, label: L{i}}}\n" for i in range(30)),
        ),
        ("field scale", "32 levels in the scale"),
    ),
    rubric_case(
        "nested-too-deep",
        edit("pass_rule:", "notes: " + "[" * 30 + "]" * 30 + "\npass_rule:"),
        ("line 13", "nested more than 20 levels deep"),
    ),
    rubric_case(
        "many-invalid-criteria",
        MANY_INVALID,
        (
            "line 8, field criteria[0].levels: level scores must be unique",
            "line 10, field criteria[1].id, value 'bad id!'",
            "line 11, field criteria[1].name",
            "line 13, field criteria[1].levels[0].score, value 'x'",
            "field criteria[1].levels: needs at least 2 levels; 1 given",
            "line 14, field criteria[2].id: criterion id 'a' is used more than once",
            "line 18, field criteria[2].levels[1].label: required key 'label' is missing",
            "line 20, field pass_rule.min_levels.zz: names criterion 'zz'",
            "8 problem(s) in the rubric",
        ),
    ),
    rubric_case(
        "level-score-not-integer",
        edit("  - {score: 2, label: Mid}", "  - {score: two, label: Mid}"),
        ("line 6", "field scale[1].score", "value 'two'", "valid integer"),
    ),
    rubric_case(
        "level-without-label",
        edit(
            "  - id: a\n    name: A\n",
            "  - id: a\n    name: A\n" + LEVELS.replace(", label: High", ""),
        ),
        ("line 13", "field criteria[0].levels[1].label", "required key 'label' is missing"),
    ),
    rubric_case(
        "one-level-only",
        edit(
            "  - id: a\n    name: A\n",
            "  - id: a\n    name: A\n" + LEVELS[: LEVELS.index("      - {score: 2")],
        ),
        ("line 12", "field criteria[0].levels: needs at least 2 levels; 1 given"),
    ),
    rubric_case(
        "levels-not-a-list",
        edit("  - id: a\n    name: A\n", "  - id: a\n    name: A\n    levels: 3\n"),
        ("line 11", "field criteria[0].levels", "value '3'"),
    ),
    rubric_case(
        "duplicate-level-scores",
        edit("  - {score: 2, label: Mid}", "  - {score: 1, label: Mid}"),
        ("field criteria[0].levels", "level scores must be unique; [1]"),
    ),
    rubric_case(
        "unordered-levels",
        edit("  - {score: 3, label: High}", "  - {score: 0, label: High}"),
        ("field criteria[0].levels", "increasing score order; got scores [1, 2, 0]"),
    ),
    rubric_case(
        "duplicate-criterion-ids",
        edit("  - id: b", "  - id: a"),
        ("line 11", "field criteria[1].id: criterion id 'a' is used more than once"),
    ),
    rubric_case(
        "duplicate-key",
        edit('version: "1"', 'version: "1"\nversion: "2"'),
        ("line 4", "field version", "key 'version' appears twice"),
    ),
    rubric_case("non-mapping-list", "- 1\n- 2\n", ("line 1", "a rubric file must be a mapping")),
    rubric_case("non-mapping-scalar", "hello\n", ("line 1", "must be a mapping")),
    rubric_case(
        "yaml-syntax-error",
        edit("  - id: b\n", "  - id: [b\n"),
        ("line 12", "not valid YAML"),
    ),
    rubric_case("empty-rubric", "", ("the file is empty",)),
    rubric_case("comments-only-rubric", "# nothing here\n", ("the file is empty",)),
    rubric_case(
        "not-utf8", BASE.replace("Test", "T\xe9st").encode("latin-1"), ("not a UTF-8 text file",)
    ),
    rubric_case(
        "python-tag",
        edit("pass_rule:", "x: !!python/object/apply:os.system ['true']\npass_rule:"),
        ("line 13", "not allowed in a rubric"),
    ),
    rubric_case(
        "unknown-key",
        edit("title: Test rubric", "title: Test rubric\ncolour: blue"),
        ("line 3", "field colour", "unknown key 'colour'"),
    ),
    rubric_case(
        "no-criteria",
        edit("criteria:\n  - id: a\n    name: A\n  - id: b\n    name: B\n", "criteria: []\n"),
        ("line 8", "field criteria: needs at least 1 criterion; 0 given"),
    ),
    rubric_case(
        "criterion-not-a-mapping",
        edit("  - id: a\n", "  - 7\n  - id: a\n"),
        ("line 9", "field criteria[0]", "value '7'"),
    ),
    rubric_case(
        "missing-pass-rule",
        edit("pass_rule:\n  min_total: 4\n", ""),
        ("required key 'pass_rule' is missing",),
    ),
    rubric_case(
        "cross-field-beside-field-problem",
        edit("    name: B\n", '    name: ""\n').replace(
            "min_total: 4", "min_total: 4\n  min_levels: {zz: 2}"
        ),
        ("line 12, field criteria[1].name", "field pass_rule.min_levels.zz: names criterion 'zz'"),
    ),
    rubric_case(
        "unreachable-level",
        edit("min_total: 4", "min_level: 9"),
        ("line 14", "field pass_rule.min_level", "level 9 can never be reached on criterion 'a'"),
    ),
    BadInput(
        "rubric-is-a-folder",
        ("import", "{dir}/ok.csv", "--store", "{store}", "--rubric", "{dir}/rub"),
        files={"ok.csv": OK_CSV, "rub/x": ""},
        rc=1,
        says=("{dir}/rub", "is a folder, not a rubric YAML file"),
        store=True,
    ),
    BadInput(
        "validate-with-bad-rubric",
        ("validate", "{dir}/ok.csv", "--rubric", "{dir}/r.yaml", "--format", "json"),
        files={"ok.csv": OK_CSV, "r.yaml": BILLION_LAUGHS},
        rc=1,
        says=('"file": "{dir}/r.yaml"', '"line": 2', "alias *a"),
    ),
]


def export_case(
    id: str, files: dict[str, str | bytes], key: str, says: tuple[str, ...]
) -> BadInput:
    return BadInput(
        id,
        (
            "export",
            "{dir}/out.csv",
            "--store",
            "{store}",
            "--rubric-id",
            RUBRIC_ID,
            "--pseudonymize",
            "--pseudonym-key",
            key,
        ),
        files=files,
        rc=1,
        says=says,
        store=True,
    )


KEY_CASES = [
    export_case("empty-key-file", {"k": b""}, "{dir}/k", ("{dir}/k is empty", "delete it")),
    export_case("blank-key-file", {"k": b"  \n\n"}, "{dir}/k", ("{dir}/k is empty", "at least 16")),
    export_case("short-key-file", {"k": b"hello\n"}, "{dir}/k", ("{dir}/k holds only 5 bytes",)),
    export_case("key-path-is-a-folder", {"kd/x": ""}, "{dir}/kd", ("{dir}/kd is a folder",)),
    export_case(
        "key-path-under-a-file",
        {"f": "x"},
        "{dir}/f/k",
        ("{dir}/f/k cannot be created", "Not a directory", "nothing was written"),
    ),
    export_case(
        "key-path-in-missing-folder",
        {},
        "{dir}/nowhere/k",
        ("{dir}/nowhere/k cannot be created", "No such file or directory"),
    ),
]


@pytest.fixture(autouse=True)
def _no_key_from_environment(monkeypatch):
    monkeypatch.delenv("CALIBRATE_PSEUDONYM_KEY", raising=False)


@pytest.mark.parametrize("case", [c.param() for c in RUBRIC_CASES + KEY_CASES])
def test_refused(case, tmp_path, template_store, capsys):
    _, err = run_case(case, tmp_path, template_store, capsys)
    assert "Tuple should" not in err and "after validation" not in err
    assert not (tmp_path / "out.csv").exists()
    assert leftovers(tmp_path) == []


def test_dangling_symlink_key(tmp_path, template_store, capsys):
    (tmp_path / "k").symlink_to(tmp_path / "gone")
    case = export_case("dangling-key", {}, "{dir}/k", ("{dir}/k cannot be read",))
    run_case(case, tmp_path, template_store, capsys)


def test_billion_laughs_is_refused_at_once():
    from calibrate import RubricError
    from calibrate.rubric import parse_rubric

    start = time.perf_counter()
    with pytest.raises(RubricError) as info:
        parse_rubric(BILLION_LAUGHS, source="laughs.yaml")
    assert time.perf_counter() - start < 0.5
    assert all("alias" in p.message for p in info.value.problems)
    assert len(info.value.problems) == 8  # one per line, with the count


def test_scale_problem_reported_once(tmp_path):
    from calibrate import RubricError
    from calibrate.rubric import parse_rubric

    with pytest.raises(RubricError) as info:
        parse_rubric(edit("  - {score: 2, label: Mid}", "  - {score: x, label: Mid}"), source="s")
    assert [p.field for p in info.value.problems] == ["scale[1].score"]


def test_the_largest_rubric_allowed_is_read_quickly():
    from calibrate.rubric import parse_rubric

    text = edit(
        "  - id: a\n    name: A\n  - id: b\n    name: B\n",
        "".join(
            f"  - id: c{i}\n    name: C{i}\n    description: {'d' * 2000}\n" for i in range(100)
        ),
    )
    start = time.perf_counter()
    assert len(parse_rubric(text).criteria) == 100
    assert time.perf_counter() - start < 5


# ---- pseudonyms ------------------------------------------------------------------------


def test_the_reported_collision_is_gone():
    p = Pseudonymizer(b"k" * 64)
    assert p("S1111336", "S") != p("S1120284", "S")
    assert re.fullmatch(r"S-[A-Z2-7]{16}", p("S1111336", "S"))


def test_no_two_of_a_million_ids_share_a_pseudonym():
    ids = np.unique(np.random.default_rng(19).integers(0, 10**12, size=10**6)).astype(str)
    p = Pseudonymizer(b"k" * 64)
    table = p.mapping(ids.tolist(), "S")
    assert len(table) == len(ids) == len(set(table.values()))
    assert all(table[i] == p(i, "S") for i in ids[:500])  # the fast path spells the same


@pytest.fixture
def narrow_digest(monkeypatch):
    """Pseudonyms of zero bits: every id collides with every other."""
    monkeypatch.setattr("calibrate.report._pseudonym._DIGEST_BYTES", 0)


def test_collision_is_refused_by_the_library(narrow_digest):
    p = Pseudonymizer(b"k" * 64)
    with pytest.raises(PseudonymCollisionError, match="'S1' and 'S2' both become 'S-'"):
        p.mapping(["S1", "S2"], "S", what="submission_id")


COLLISION_CASES = [
    export_case(
        "collision-export",
        {"k": "k" * 64},
        "{dir}/k",
        ("pseudonyms collide: reviewer_id 'R1' and 'R2' both become 'R-'", "nothing was written"),
    ),
    *(
        BadInput(
            f"collision-{name}",
            (
                name,
                str(PILOT / "ratings.csv"),
                "--rubric",
                "{rubric}",
                *extra,
                "--pseudonymize",
                "--pseudonym-key",
                "{dir}/k",
                "--format",
                "json",
            ),
            files={"k": "k" * 64},
            rc=1,
            says=("pseudonyms collide: ", "both become", '"ok": false'),
        )
        for name, extra in (
            ("audit", ("--n-boot", "5", "--html", "{dir}/out.html")),
            ("reliability", ()),
            ("round", ("--key", str(PILOT / "key.csv"), "--html", "{dir}/out.html")),
            ("severity", ("--key", str(PILOT / "key.csv"))),
        )
    ),
]


@pytest.mark.parametrize("case", [c.param() for c in COLLISION_CASES])
def test_collision_is_refused_by_every_command(
    case, narrow_digest, tmp_path, template_store, capsys
):
    run_case(case, tmp_path, template_store, capsys)
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.html").exists()
    assert leftovers(tmp_path) == []


# ---- key files --------------------------------------------------------------------------


def test_key_file_is_created_private_and_whole(tmp_path):
    key = load_or_create_key(tmp_path / "k")
    assert len(key) == 64 and (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_readable_key_file_is_warned_once(tmp_path, capsys):
    from calibrate.report import _pseudonym

    (tmp_path / "k").write_text("s" * 32)
    os.chmod(tmp_path / "k", 0o644)
    _pseudonym._WARNED.discard(str(tmp_path / "k"))
    assert load_or_create_key(tmp_path / "k") == b"s" * 32
    assert load_or_create_key(tmp_path / "k") == b"s" * 32
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert f"{tmp_path / 'k'} can be read by everyone" in err and "chmod 600" in err


def test_default_key_path_is_ignored_by_git():
    assert ".calibrate-pseudonym-key" in (REPO / ".gitignore").read_text().splitlines()


# ---- pseudonymised outputs name no file ---------------------------------------------------


DISTRICT = REPO / "data" / "synthetic" / "district"


@pytest.mark.parametrize(
    ("name", "data", "rubric", "extra", "fmt"),
    [
        ("audit", PILOT, "evidence-4level", ("--n-boot", "5", "--html", "{dir}/a.html"), "json"),
        ("audit", PILOT, "evidence-4level", ("--n-boot", "5"), "table"),
        ("round", PILOT, "evidence-4level", ("--key", "{key}", "--html", "{dir}/a.html"), "json"),
        ("round", PILOT, "evidence-4level", ("--key", "{key}"), "table"),
        ("reliability", PILOT, "evidence-4level", (), "json"),
        ("severity", PILOT, "evidence-4level", ("--key", "{key}"), "json"),
        ("drift", DISTRICT, "discussion-hybrid", ("--key", "{key}"), "json"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_pseudonymised_output_names_no_file(name, data, rubric, extra, fmt, tmp_path, capsys):
    planted = tmp_path / "Jane_Doe_R001_scores.csv"
    planted.write_bytes((data / "ratings.csv").read_bytes())
    key = tmp_path / "Jane_Doe_key.csv"
    key.write_bytes((data / "key.csv").read_bytes())
    argv = [name, str(planted), "--rubric", str(REPO / "rubrics" / f"{rubric}.yaml")]
    argv += [a.format(dir=tmp_path, key=key) for a in extra]
    argv += ["--pseudonymize", "--pseudonym-key", str(tmp_path / "k"), "--format", fmt]
    assert main(argv) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    if (tmp_path / "a.html").exists():
        text += (tmp_path / "a.html").read_text()
    assert "Jane_Doe" not in text
    if name == "audit" and fmt == "json":
        assert json.loads(out.out)["file"] == "input 1"


def test_pseudonymised_export_names_no_file(tmp_path, capsys):
    planted = tmp_path / "Jane_Doe_R001_scores.csv"
    planted.write_text("submission_id,reviewer_id,criterion_id,score\nS1,R1,overview,3\n")
    store = str(tmp_path / "s.sqlite")
    rubric = str(REPO / "rubrics" / "evidence-4level.yaml")
    assert main(["import", str(planted), "--store", store, "--rubric", rubric]) == 0
    capsys.readouterr()  # the import names its file: it is not a pseudonymised output
    out = tmp_path / "out.csv"
    argv = ["export", str(out), "--store", store, "--rubric-id", RUBRIC_ID, "--pseudonymize"]
    assert main([*argv, "--pseudonym-key", str(tmp_path / "k"), "--format", "json"]) == 0
    text = capsys.readouterr().out + out.read_text()
    assert "Jane_Doe" not in text and "R1" not in out.read_text().split("\n", 1)[1]


# ---- faults: Ctrl-C and a full disk ------------------------------------------------------

_ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
_ENV.pop("CALIBRATE_PSEUDONYM_KEY", None)


def _limited(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _cli(argv: list[str], *, limit: int | None = None, cwd: Path | None = None):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from calibrate.cli import main; sys.exit(main(sys.argv[1:]))",
            *argv,
        ],
        capture_output=True,
        text=True,
        env=_ENV,
        cwd=cwd,
        preexec_fn=None if limit is None else _limited(limit),
        timeout=120,
    )


def test_ctrl_c_ends_with_interrupted_and_130(tmp_path):
    district = REPO / "data" / "synthetic" / "district"
    code = (
        "import sys; from calibrate.cli import main, build_parser; build_parser(); "
        "print('ready', flush=True); sys.exit(main(sys.argv[1:]))"
    )
    argv = [
        "audit",
        str(district / "ratings.csv"),
        "--rubric",
        str(REPO / "rubrics" / "discussion-hybrid.yaml"),
    ]
    argv += ["--n-boot", "1000000", "--html", str(tmp_path / "a.html")]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_ENV,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # well into the command (its bootstrap takes minutes)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and "KeyboardInterrupt" not in err
    assert list(tmp_path.iterdir()) == []


def test_full_disk_html_leaves_nothing_and_keeps_the_old_page(tmp_path):
    old = tmp_path / "r.html"
    old.write_text("the old page")
    argv = [
        "round",
        str(PILOT / "ratings.csv"),
        "--rubric",
        str(REPO / "rubrics" / "evidence-4level.yaml"),
    ]
    argv += ["--key", str(PILOT / "key.csv"), "--html", str(old)]
    done = _cli(argv, limit=20_000)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "File too large" in done.stderr
    assert old.read_text() == "the old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_full_disk_export_leaves_nothing(tmp_path, template_store):
    out = tmp_path / "out.xlsx"
    argv = ["export", str(out), "--store", str(template_store), "--rubric-id", RUBRIC_ID]
    done = _cli(argv, limit=2_000)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_full_disk_key_file_leaves_no_empty_key(tmp_path):
    argv = [
        "reliability",
        str(PILOT / "ratings.csv"),
        "--rubric",
        str(REPO / "rubrics" / "evidence-4level.yaml"),
    ]
    argv += ["--pseudonymize", "--pseudonym-key", str(tmp_path / "k")]
    done = _cli(argv, limit=10)
    assert done.returncode == 1, done.stderr
    assert f"the pseudonym key file {tmp_path / 'k'} cannot be created" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
    again = _cli(argv)  # with room again, the key is made and the command runs
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_atomic_writer_removes_its_temp_file_on_interrupt(tmp_path):
    from calibrate._atomic import atomic_path

    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "x.csv") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
