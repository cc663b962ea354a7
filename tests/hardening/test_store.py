"""Bad inputs the store refuses: conflicting keys and ratings (nothing of the command
written), bad key rows, and store files that are damaged, truncated, not SQLite, empty,
of another schema, missing tables or columns, folders, or missing.

Every case runs through the corpus harness (exit code, no traceback, the file and the
row / column named); cases on a store file given by the case check themselves that the
file is byte-for-byte unchanged and that nothing was left beside it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from calibrate.cli import main
from tests.hardening.corpus import RUBRIC, BadInput, digest, leftovers, run_case

IMPORT = ("import", "{dir}/new.csv", "--store", "{store}", "--rubric", "{rubric}")
HEAD = "submission_id,reviewer_id,criterion_id,score\n"
KIND_HEAD = "submission_id,reviewer_id,criterion_id,score,kind\n"
KEY_HEAD = "submission_id,criterion_id,key_score\n"

#: The keyed store: two anchors scored by two reviewers, and their answer key.
KEYED_CSV = KIND_HEAD + (
    "A1,R1,overview,3,anchor\nA1,R2,overview,2,anchor\n"
    "A2,R1,overview,4,anchor\nA2,R2,overview,4,anchor\n"
)
KEYED_KEY = KEY_HEAD + "A1,overview,3\nA2,overview,4\n"
NEW_ANCHOR_RATINGS = KIND_HEAD + "A1,R3,overview,3,anchor\nA2,R3,overview,4,anchor\n"


@pytest.fixture(scope="module")
def keyed_store(tmp_path_factory) -> Path:
    """A store holding anchor ratings and their key (built once)."""
    folder = tmp_path_factory.mktemp("keyed")
    (folder / "r.csv").write_text(KEYED_CSV)
    (folder / "k.csv").write_text(KEYED_KEY)
    store = folder / "keyed.sqlite"
    argv = ["import", str(folder / "r.csv"), "--key", str(folder / "k.csv")]
    assert main([*argv, "--store", str(store), "--rubric", str(RUBRIC)]) == 0
    return store


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> Path:
    """A store of 9,000 ratings: big enough that the ratings fill many pages."""
    folder = tmp_path_factory.mktemp("big")
    rows = "".join(
        f"S{s:04d},R{r},{c},{1 + (s + r) % 4}\n"
        for s in range(1500)
        for r in (1, 2)
        for c in ("overview", "artifacts", "reflection")
    )
    (folder / "r.csv").write_text(HEAD + rows)
    store = folder / "big.sqlite"
    assert (
        main(["import", str(folder / "r.csv"), "--store", str(store), "--rubric", str(RUBRIC)]) == 0
    )
    return store


# ---- conflicts: the whole command is refused, the store unchanged ------------------------
CONFLICTS = [
    BadInput(
        "rating-conflicts-with-store",
        IMPORT,
        files={"new.csv": HEAD + "S1,R1,overview,2\n"},
        says=("new.csv", "row 2", "column 'score'", "value '2'", "stored with score 3"),
        store=True,
    ),
    BadInput(
        "rating-conflict-on-row-4",
        IMPORT,
        files={"new.csv": HEAD + "S9,R1,overview,2\nS9,R2,overview,2\nS2,R2,overview,3\n"},
        says=("new.csv, row 4", "submission 'S2', reviewer 'R2'", "stored with score 1"),
        store=True,
    ),
    BadInput(
        "rating-conflict-after-blank-lines",
        IMPORT,
        files={"new.csv": HEAD + "S9,R1,overview,2\n\n\nS1,R2,overview,1\n"},
        says=("new.csv, row 5", "stored with score 4"),
        store=True,
    ),
    BadInput(
        "rating-conflicts-crlf",
        IMPORT,
        files={"new.csv": HEAD.replace("\n", "\r\n") + "S9,R1,overview,2\r\nS3,R1,overview,4\r\n"},
        says=("new.csv, row 3", "stored with score 1"),
        store=True,
    ),
    BadInput(
        "rating-conflicts-json",
        (*IMPORT, "--format", "json"),
        files={"new.csv": HEAD + "S1,R1,overview,2\n"},
        says=('"file": "{dir}/new.csv"', '"row": 2', '"column": "score"', '"value": "2"'),
        store=True,
    ),
]

WITH_KEY = (*IMPORT, "--key", "{dir}/key.csv")
KEY_CONFLICTS = [
    BadInput(  # the bug of issue 19: the ratings were committed (729 -> 732) and "table row 0"
        "key-conflict-commits-no-ratings",
        WITH_KEY,
        files={"new.csv": NEW_ANCHOR_RATINGS, "key.csv": KEY_HEAD + "A1,overview,2\n"},
        says=(
            "key.csv, row 2",
            "column 'key_score'",
            "value '2'",
            "the key for submission 'A1', criterion 'overview' is stored with score 3",
        ),
        store=True,
    ),
    BadInput(
        "key-conflict-on-row-3",
        WITH_KEY,
        files={
            "new.csv": NEW_ANCHOR_RATINGS,
            "key.csv": KEY_HEAD + "A2,overview,4\nA1,overview,4\n",
        },
        says=("key.csv, row 3", "value '4'", "stored with score 3"),
        store=True,
    ),
    BadInput(
        "key-conflicts-on-two-rows",
        WITH_KEY,
        files={
            "new.csv": NEW_ANCHOR_RATINGS,
            "key.csv": KEY_HEAD + "A1,overview,1\nA2,overview,1\n",
        },
        says=("2 problem(s)", "key.csv, row 2", "key.csv, row 3", "stored with score 4"),
        store=True,
    ),
    BadInput(
        "key-conflict-after-a-blank-line",
        WITH_KEY,
        files={
            "new.csv": NEW_ANCHOR_RATINGS,
            "key.csv": KEY_HEAD + "A2,overview,4\n\nA1,overview,1\n",
        },
        says=("key.csv, row 4", "value '1'"),
        store=True,
    ),
    BadInput(
        "rating-and-key-conflicts-listed-together",
        WITH_KEY,
        files={
            "new.csv": KIND_HEAD + "A1,R1,overview,4,anchor\n",
            "key.csv": KEY_HEAD + "A2,overview,2\n",
        },
        says=(
            "2 problem(s)",
            "new.csv, row 2",
            "column 'score'",
            "key.csv, row 2",
            "column 'key_score'",
        ),
        store=True,
    ),
    BadInput(
        "key-conflict-json",
        (*WITH_KEY, "--format", "json"),
        files={"new.csv": NEW_ANCHOR_RATINGS, "key.csv": KEY_HEAD + "A1,overview,2\n"},
        says=('"file": "{dir}/key.csv"', '"row": 2', '"column": "key_score"'),
        store=True,
    ),
    BadInput(
        "key-conflict-without-new-ratings",
        WITH_KEY,
        files={"new.csv": KEYED_CSV, "key.csv": KEY_HEAD + "A1,overview,3\nA2,overview,2\n"},
        says=("key.csv, row 3", "stored with score 4"),
        store=True,
    ),
]

# ---- bad key rows: refused before the store is opened ----------------------------------------
BAD_KEYS = [
    BadInput(
        f"bad-key-{name}",
        WITH_KEY,
        files={"new.csv": NEW_ANCHOR_RATINGS, "key.csv": key},
        says=("key.csv", *says),
        store=True,
    )
    for name, key, says in [
        ("criterion", KEY_HEAD + "A1,overveiw,3\n", ("row 2", "criterion_id", "overveiw")),
        ("score-not-a-level", KEY_HEAD + "A1,overview,7\n", ("row 2", "key_score", "7")),
        ("no-key-score-column", "submission_id,criterion_id\nA1,overview\n", ("key_score",)),
        ("duplicate-row", KEY_HEAD + "A1,overview,3\nA1,overview,3\n", ("row 3", "duplicate")),
        ("empty-submission", KEY_HEAD + ",overview,3\n", ("row 2", "submission_id")),
    ]
]


@pytest.mark.parametrize("case", [c.param() for c in CONFLICTS])
def test_conflicting_ratings_write_nothing(case, tmp_path, template_store, capsys):
    run_case(case, tmp_path, template_store, capsys)


@pytest.mark.parametrize("case", [c.param() for c in KEY_CONFLICTS + BAD_KEYS])
def test_conflicting_or_bad_keys_write_nothing(case, tmp_path, keyed_store, capsys):
    run_case(case, tmp_path, keyed_store, capsys)


# ---- store files that cannot be used ---------------------------------------------------------
def _copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)


def _truncate(
    fraction: float | None = None, size: int | None = None
) -> Callable[[Path, Path], None]:
    def make(src: Path, dst: Path) -> None:
        data = src.read_bytes()
        dst.write_bytes(data[: size if size is not None else int(len(data) * (fraction or 0))])

    return make


def _flip_middle(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    mid = len(data) // 2 // 4096 * 4096
    data[mid : mid + 4096] = bytes(b ^ 0x5A for b in data[mid : mid + 4096])
    dst.write_bytes(bytes(data))


def _flip_ratings_page(src: Path, dst: Path) -> None:
    """Damage the middle page of the ratings table itself (found with SQLite's dbstat), so
    the case does not depend on where new tables of later schema versions put the file's
    middle page: an export reads every ratings page."""
    with contextlib.closing(sqlite3.connect(src)) as conn:
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = [
            int(r[0])
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'ratings' AND pagetype = 'leaf' "
                "ORDER BY pageno"
            )
        ]
    assert len(pages) >= 3, "the fixture's ratings must fill several pages"
    data = bytearray(src.read_bytes())
    at = (pages[len(pages) // 2] - 1) * size
    data[at : at + size] = bytes(b ^ 0x5A for b in data[at : at + size])
    dst.write_bytes(bytes(data))


def _sql(*statements: str) -> Callable[[Path, Path], None]:
    def make(src: Path, dst: Path) -> None:
        shutil.copyfile(src, dst)
        with contextlib.closing(sqlite3.connect(dst, isolation_level=None)) as conn:
            for s in statements:
                conn.execute(s)

    return make


def _other_program(src: Path, dst: Path) -> None:
    with contextlib.closing(sqlite3.connect(dst, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")


def _empty_sqlite(src: Path, dst: Path) -> None:
    with contextlib.closing(sqlite3.connect(dst, isolation_level=None)) as conn:
        conn.execute("VACUUM")  # a header page, no tables
    if dst.stat().st_size == 0:  # (some SQLite builds write nothing for an empty database)
        dst.write_bytes(b"SQLite format 3\x00" + bytes([16, 0, 1, 1, 0, 64, 32, 32]) + bytes(4072))


def _bad_header(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    data[16:100] = b"\xff" * 84  # page size and the rest of the header overwritten
    dst.write_bytes(bytes(data))


BAD = "{dir}/bad.sqlite"
NEW = "submission_id,reviewer_id,criterion_id,score\nZ1,R1,overview,3\n"


def _import(store: str = BAD) -> tuple[str, ...]:
    return ("import", "{dir}/new.csv", "--store", store, "--rubric", "{rubric}")


def _summary(store: str = BAD) -> tuple[str, ...]:
    return ("summary", "--store", store)


def _export(store: str = BAD) -> tuple[str, ...]:
    return ("export", "{dir}/out.csv", "--store", store, "--rubric-id", "evidence-4level")


def _backup(store: str = BAD) -> tuple[str, ...]:
    return ("backup", "--store", store, "--to", "{dir}/copy.sqlite")


DAMAGED = (
    "{dir}/bad.sqlite",
    "is damaged",
    "restore it from a backup",
    "calibrate backup --restore",
)
NOT_A_STORE = ("{dir}/bad.sqlite", "not a calibrate store")
FILE_CASES = [
    # (id, how the file is made, from which store, command, rc, says)
    ("truncated-half-import", _truncate(0.5), "big", _import(), 1, DAMAGED),
    ("truncated-half-summary", _truncate(0.5), "big", _summary(), 1, DAMAGED),
    ("truncated-half-export", _truncate(0.5), "big", _export(), 1, DAMAGED),
    ("truncated-to-one-page-import", _truncate(size=4096), "big", _import(), 1, DAMAGED),
    ("truncated-to-100-bytes-summary", _truncate(size=100), "big", _summary(), 1, DAMAGED),
    ("truncated-last-page-export", _truncate(size=-4096), "big", _export(), 1, DAMAGED),
    ("flipped-middle-import", _flip_middle, "big", _import(), 1, (*DAMAGED, "quick_check")),
    ("flipped-ratings-page-export", _flip_ratings_page, "big", _export(), 1, DAMAGED),
    ("flipped-middle-backup", _flip_middle, "big", _backup(), 1, (*DAMAGED, "quick_check")),
    ("header-overwritten-import", _bad_header, "big", _import(), 1, DAMAGED),
    ("header-overwritten-summary", _bad_header, "big", _summary(), 1, DAMAGED),
    (
        "not-sqlite-bytes-import",
        lambda s, d: d.write_bytes(bytes(range(256)) * 64),
        "",
        _import(),
        1,
        NOT_A_STORE,
    ),
    (
        "csv-as-store-summary",
        lambda s, d: d.write_text(NEW * 50),
        "",
        _summary(),
        1,
        (*NOT_A_STORE, "not a SQLite database"),
    ),
    (
        "zero-bytes-summary",
        lambda s, d: d.write_bytes(b""),
        "",
        _summary(),
        1,
        ("{dir}/bad.sqlite", "empty file (0 bytes)"),
    ),
    (
        "zero-bytes-export",
        lambda s, d: d.write_bytes(b""),
        "",
        _export(),
        1,
        ("{dir}/bad.sqlite", "empty file (0 bytes)"),
    ),
    (
        "zero-bytes-backup",
        lambda s, d: d.write_bytes(b""),
        "",
        _backup(),
        1,
        ("{dir}/bad.sqlite", "empty file (0 bytes)"),
    ),
    (
        "empty-sqlite-summary",
        _empty_sqlite,
        "",
        _summary(),
        1,
        ("{dir}/bad.sqlite", "empty SQLite database"),
    ),
    ("other-program-db-import", _other_program, "", _import(), 1, (*NOT_A_STORE, "contacts")),
    ("other-program-db-export", _other_program, "", _export(), 1, (*NOT_A_STORE, "contacts")),
    (
        "newer-schema-import",
        _sql("PRAGMA user_version = 99"),
        "small",
        _import(),
        1,
        ("{dir}/bad.sqlite", "schema version 99", "newer calibrate"),
    ),
    (
        "newer-schema-summary",
        _sql("UPDATE meta SET value = '7' WHERE key = 'schema_version'"),
        "small",
        _summary(),
        1,
        ("{dir}/bad.sqlite", "schema version 7"),
    ),
    (
        "older-version-with-newer-tables",
        _sql("PRAGMA user_version = 1", "UPDATE meta SET value = '1' WHERE key = 'schema_version'"),
        "small",
        _import(),
        1,
        (*DAMAGED, "schema version 1", "'rationales'"),
    ),
    (
        "missing-ratings-table-import",
        _sql("DROP TABLE ratings"),
        "small",
        _import(),
        1,
        (*DAMAGED, "table 'ratings' is missing"),
    ),
    (
        "missing-ratings-table-summary",
        _sql("DROP TABLE ratings"),
        "small",
        _summary(),
        1,
        (*DAMAGED, "table 'ratings' is missing"),
    ),
    (
        "missing-two-tables-export",
        _sql("DROP TABLE rounds", "DROP TABLE reviewers"),
        "small",
        _export(),
        1,
        ("table 'reviewers' is missing", "table 'rounds' is missing"),
    ),
    (
        "missing-column-import",
        _sql("ALTER TABLE imports DROP COLUMN sha256"),
        "small",
        _import(),
        1,
        (*DAMAGED, "table 'imports' has no column 'sha256'"),
    ),
    (
        "missing-column-backup",
        _sql("ALTER TABLE answer_keys DROP COLUMN rationale"),
        "small",
        _backup(),
        1,
        (*DAMAGED, "'answer_keys' has no column 'rationale'"),
    ),
]


@pytest.mark.parametrize(
    ("make", "source", "case"),
    [
        pytest.param(
            make, src, BadInput(cid, argv, files={"new.csv": NEW}, rc=rc, says=says), id=cid
        )
        for cid, make, src, argv, rc, says in FILE_CASES
    ],
)
def test_store_files_that_cannot_be_used(
    make, source, case, tmp_path, template_store, big_store, capsys
):
    stores = {"big": big_store, "small": template_store, "": template_store}
    bad = tmp_path / "bad.sqlite"
    make(stores[source], bad)
    before = digest(bad)
    run_case(case, tmp_path, template_store, capsys)
    assert digest(bad) == before, "the store file changed"
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "copy.sqlite").exists()  # a damaged store is not backed up
    assert not (tmp_path / "bad.sqlite.bak").exists()  # nor snapshotted over a good one


# ---- paths that are not store files ------------------------------------------------------------
PATHS = [
    BadInput(
        "folder-as-store-import",
        _import("{dir}/folder"),
        files={"new.csv": NEW, "folder/x": ""},
        says=("{dir}/folder is a folder",),
    ),
    BadInput(
        "folder-as-store-summary",
        _summary("{dir}/folder"),
        files={"folder/x": ""},
        says=("{dir}/folder is a folder",),
    ),
    BadInput(
        "folder-as-store-export",
        _export("{dir}/folder"),
        files={"folder/x": ""},
        says=("{dir}/folder is a folder",),
    ),
    BadInput(
        "summary-of-missing-store",
        _summary("{dir}/nowhere/s.sqlite"),
        rc=2,
        says=("no store at {dir}/nowhere/s.sqlite",),
    ),
    BadInput(
        "export-of-missing-store",
        _export("{dir}/s.sqlite"),
        rc=2,
        says=("no store at {dir}/s.sqlite",),
    ),
    BadInput(
        "backup-of-missing-store",
        _backup("{dir}/s.sqlite"),
        rc=2,
        says=("no store at {dir}/s.sqlite",),
    ),
    BadInput(
        "import-into-missing-folder",
        _import("{dir}/nowhere/s.sqlite"),
        files={"new.csv": NEW},
        rc=2,
        says=("the folder {dir}/nowhere does not exist",),
    ),
    BadInput(
        "export-unknown-rubric",
        ("export", "{dir}/out.csv", "--store", "{store}", "--rubric-id", "nope"),
        says=("'nope' is not in the store {store}", "evidence-4level"),
        store=True,
    ),
    BadInput(
        "backup-to-missing-folder",
        ("backup", "--store", "{store}", "--to", "{dir}/no/copy.sqlite"),
        rc=2,
        says=("the folder {dir}/no does not exist",),
        store=True,
    ),
    BadInput(
        "backup-to-the-store-itself",
        ("backup", "--store", "{store}", "--to", "{store}"),
        says=("another file than the store itself",),
        store=True,
    ),
    BadInput(
        "restore-without-snapshot",
        ("backup", "--restore", "--store", "{store}"),
        rc=2,
        says=("no backup at {store}.bak",),
        store=True,
    ),
    BadInput(
        "restore-from-garbage",
        ("backup", "--restore", "--store", "{store}", "--from", "{dir}/junk.bak"),
        files={"junk.bak": b"\x00junk" * 300},
        says=("{dir}/junk.bak", "not a calibrate store"),
        store=True,
    ),
    BadInput(
        "restore-from-empty-file",
        ("backup", "--restore", "--store", "{store}", "--from", "{dir}/e.bak"),
        files={"e.bak": b""},
        says=("{dir}/e.bak", "empty file"),
        store=True,
    ),
    BadInput(
        "from-without-restore",
        ("backup", "--store", "{store}", "--from", "{dir}/x.bak"),
        rc=2,
        says=("--from names the backup to restore",),
        store=True,
    ),
    BadInput(
        "to-with-restore",
        ("backup", "--restore", "--store", "{store}", "--to", "{dir}/x.bak"),
        rc=2,
        says=("--to is for making a backup",),
        store=True,
    ),
]


@pytest.mark.parametrize("case", [c.param() for c in PATHS])
def test_paths_that_are_not_stores(case, tmp_path, template_store, capsys):
    run_case(case, tmp_path, template_store, capsys)


def test_restore_from_a_damaged_backup_changes_nothing(tmp_path, template_store, big_store, capsys):
    _truncate(0.5)(big_store, tmp_path / "half.bak")
    case = BadInput(
        "restore-from-truncated-backup",
        ("backup", "--restore", "--store", "{store}", "--from", "{dir}/half.bak"),
        says=("{dir}/half.bak", "is damaged"),
        store=True,
    )
    run_case(case, tmp_path, template_store, capsys)
    assert not (tmp_path / "store.sqlite.before-restore").exists()


def test_corpus_size():
    n = len(CONFLICTS) + len(KEY_CONFLICTS) + len(BAD_KEYS) + len(FILE_CASES) + len(PATHS) + 1
    assert n >= 35, n
