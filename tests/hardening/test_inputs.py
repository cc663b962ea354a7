"""Bad ratings files: ids, scores, field counts, workbooks, encodings, sizes, grouping.

Every case is run twice where it can be: ``validate`` (nothing written) and ``import``
into a copy of the template store (the store must stay byte-for-byte the same).
"""

from __future__ import annotations

import codecs
import io
import json

import pandas as pd
import pytest

from tests.hardening.corpus import BadInput, run_case

HEADER = "submission_id,reviewer_id,criterion_id,score"
HEADER7 = "submission_id,reviewer_id,criterion_id,score,rated_at,round_id,kind"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook written by openpyxl (formulas are kept as formulas, with no saved result)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parquet(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, engine="pyarrow", index=False)
    return out.getvalue()


XLSX_HEADER = ["submission_id", "reviewer_id", "criterion_id", "score"]

#: (id, file name, content, fragments the message must hold, extra options)
FILE_CASES: list[tuple[str, str, bytes | str, tuple[str, ...], tuple[str, ...]]] = [
    # ---- ids: invisible, control, too long, written two ways ----------------------------
    (
        "id-zero-width-space",
        "r.csv",
        csv_text("S1,R1,overview,3", "S1,RV01\u200b,overview,3"),
        ("{dir}/r.csv", "row 3", "reviewer_id", "'RV01\\u200b'", "U+200B"),
        (),
    ),
    (
        "id-zero-width-joiner",
        "r.csv",
        csv_text("S\u200d1,R1,overview,3"),
        ("{dir}/r.csv", "row 2", "submission_id", "'S\\u200d1'", "U+200D"),
        (),
    ),
    (
        "id-byte-order-mark-inside",
        "r.csv",
        csv_text("S1,R\ufeff2,overview,3"),
        ("{dir}/r.csv", "row 2", "reviewer_id", "'R\\ufeff2'", "U+FEFF"),
        (),
    ),
    (
        "id-word-joiner-in-round",
        "r.csv",
        csv_text("S1,R1,overview,3,,round\u20601,", header=HEADER7),
        ("{dir}/r.csv", "row 2", "round_id", "'round\\u20601'", "U+2060"),
        (),
    ),
    (
        "id-bidi-override",
        "r.csv",
        csv_text("S1,\u202eR1,overview,3"),
        ("{dir}/r.csv", "row 2", "reviewer_id", "'\\u202eR1'", "U+202E"),
        (),
    ),
    (
        "id-control-character",
        "r.csv",
        csv_text("S1,R\x071,overview,3"),
        ("{dir}/r.csv", "row 2", "reviewer_id", "'R\\x071'", "U+0007"),
        (),
    ),
    (
        "id-invisible-criterion",
        "r.csv",
        csv_text("S1,R1,overview\u200b,3"),
        ("{dir}/r.csv", "row 2", "criterion_id", "'overview\\u200b'", "U+200B"),
        (),
    ),
    (
        "id-too-long",
        "r.csv",
        csv_text(f"S1,{'R' * 201},overview,3"),
        ("{dir}/r.csv", "row 2", "reviewer_id", "201 characters long", "at most 200"),
        (),
    ),
    (
        "id-one-megabyte",
        "r.csv",
        csv_text("S1,R1,overview,3", f"S1,{'R' * 1_000_000},overview,3"),
        ("{dir}/r.csv", "row 3", "reviewer_id", "1,000,000 characters"),
        (),
    ),
    (
        "id-formula-guard-merge",
        "r.csv",
        csv_text("S1,'=x,overview,3", "S1,=x,overview,2"),
        ("{dir}/r.csv", "row 2", "reviewer_id", '"\'=x"', "would be one id"),
        (),
    ),
    (
        "id-nfd-and-nfc-are-one-reviewer",
        "r.csv",
        csv_text("S1,Rene\u0301e,overview,3", "S1,Ren\u00e9e,overview,2"),
        ("{dir}/r.csv", "row 3", "duplicate rating", "the same as row 2"),
        (),
    ),
    (
        "id-blank-after-strip",
        "r.csv",
        csv_text("S1,  ,overview,3"),
        ("{dir}/r.csv", "row 2", "reviewer_id", "reviewer id is empty"),
        (),
    ),
    # ---- scores: only plain ASCII numbers -------------------------------------------
    (
        "score-underscore",
        "r.csv",
        csv_text("S1,R1,overview,3_0"),
        ("{dir}/r.csv", "row 2", "'score'", "'3_0'", "not a plain number"),
        (),
    ),
    (
        "score-full-width-digit",
        "r.csv",
        csv_text("S1,R1,overview,\uff13"),
        ("{dir}/r.csv", "row 2", "'score'", "'\uff13'", "not a plain number"),
        (),
    ),
    (
        "score-arabic-indic-digit",
        "r.csv",
        csv_text("S1,R1,overview,\u0663"),
        ("{dir}/r.csv", "row 2", "'score'", "'\u0663'", "not a plain number"),
        (),
    ),
    (
        "score-overflow",
        "r.csv",
        csv_text("S1,R1,overview,1e400"),
        ("{dir}/r.csv", "row 2", "'score'", "'1e400'", "not a plain number"),
        (),
    ),
    (
        "score-nan",
        "r.csv",
        csv_text("S1,R1,overview,nan"),
        ("{dir}/r.csv", "row 2", "'score'", "'nan'", "not a plain number"),
        (),
    ),
    (
        "score-infinity",
        "r.csv",
        csv_text("S1,R1,overview,-inf"),
        ("{dir}/r.csv", "row 2", "'score'", "'-inf'", "not a plain number"),
        (),
    ),
    (
        "score-exponent",
        "r.csv",
        csv_text("S1,R1,overview,3e0"),
        ("{dir}/r.csv", "row 2", "'score'", "'3e0'", "not a plain number"),
        (),
    ),
    (
        "score-inner-space",
        "r.csv",
        csv_text("S1,R1,overview,3 0"),
        ("{dir}/r.csv", "row 2", "'score'", "'3 0'", "not a level"),
        (),
    ),
    (
        "score-out-of-range",
        "r.csv",
        csv_text("S1,R1,overview,9"),
        ("{dir}/r.csv", "row 2", "'score'", "'9'", "out of range"),
        (),
    ),
    # ---- field counts ------------------------------------------------------------------
    (
        "fields-more-on-first-row",
        "r.csv",
        csv_text(
            "S1,R1,overview,3,2026-10-01T10:00:00Z,,live,x,y",
            "S2,R1,overview,3,2026-10-01T10:00:00Z,,live",
            header=HEADER7,
        ),
        ("{dir}/r.csv", "row 2 has 9 fields where the header has 7", "S1,R1,overview"),
        (),
    ),
    (
        "fields-fewer",
        "r.csv",
        csv_text("S1,R1,overview,3", "S2,R1", "S3,R1,overview,3"),
        ("{dir}/r.csv", "row 3 has 2 fields where the header has 4", "'S2,R1'"),
        (),
    ),
    (
        "fields-after-quoted-line-break",
        "r.csv",
        csv_text('S1,"R\n1",overview,3', "S2,R1,overview,3,extra"),
        ("{dir}/r.csv", "row 4 has 5 fields where the header has 4"),
        (),
    ),
    (
        "fields-tsv",
        "r.tsv",
        "submission_id\treviewer_id\tcriterion_id\tscore\nS1\tR1\toverview\t3\t4\n",
        ("{dir}/r.tsv", "row 2 has 5 fields where the header has 4"),
        (),
    ),
    # ---- file shapes ------------------------------------------------------------------
    ("empty-file", "r.csv", "", ("{dir}/r.csv", "the file is empty"), ()),
    ("blank-file", "r.csv", "\n \n\n", ("{dir}/r.csv", "the file is empty"), ()),
    (
        "header-only",
        "r.csv",
        csv_text(),
        ("{dir}/r.csv", "header but no data rows"),
        (),
    ),
    (
        "duplicate-header",
        "r.csv",
        csv_text("S1,R1,overview,3,4", header=HEADER + ",Score"),
        ("{dir}/r.csv", "row 1", "column 'score' appears more than once", "columns 4, 5"),
        (),
    ),
    (
        "missing-column",
        "r.csv",
        csv_text("S1,R1,overview", header="submission_id,reviewer_id,criterion_id"),
        ("{dir}/r.csv", "row 1", "required column 'score' is missing"),
        (),
    ),
    (
        "bom-then-bad-score",
        "r.csv",
        "\ufeff" + csv_text("S1,R1,overview,7"),
        ("{dir}/r.csv", "row 2", "'score'", "'7'", "out of range"),
        (),
    ),
    (
        "mixed-line-endings",
        "r.csv",
        HEADER + "\r\nS1,R1,overview,3\nS2,R1,overview,x\r\nS3,R1,overview,3\n",
        ("{dir}/r.csv", "row 3", "'score'", "'x'"),
        (),
    ),
    (
        "nul-bytes",
        "r.csv",
        (csv_text("S1,R1,overview,3") + "S2,R1,over\x00view,3\n").encode(),
        ("{dir}/r.csv", "line 3", "NUL byte"),
        (),
    ),
    (
        "very-long-line",
        "r.csv",
        csv_text(
            "S1,R1,overview,3,x", f"S2,R1,overview,3,{'x' * 2_000_000}", header=HEADER + ",comment"
        ),
        ("{dir}/r.csv", "row 3", "column 'comment'", "2,000,000 characters", "at most 100,000"),
        (),
    ),
    (
        "undecodable-byte",
        "r.csv",
        (csv_text("S1,R1,overview,3") + "S2,R\x81,overview,3\n").encode("latin-1"),
        ("{dir}/r.csv", "line 3", "b'\\x81'", "neither UTF-8 nor Windows-1252"),
        (),
    ),
    (
        "latin-1-read-then-bad-score",
        "r.csv",
        csv_text("S1,Ren\u00e9e,overview,five").encode("latin-1"),
        ("{dir}/r.csv", "row 2", "'score'", "'five'"),
        (),
    ),
    (
        "utf16-with-bom-is-read",
        "r.csv",
        codecs.BOM_UTF16_LE + csv_text("S1,R1,overview,3", "S2,R1,overview,8").encode("utf-16-le"),
        ("{dir}/r.csv", "row 3", "'score'", "'8'", "out of range"),
        (),
    ),
    (
        "utf16-without-bom",
        "r.csv",
        csv_text("S1,R1,overview,3").encode("utf-16-le"),
        ("{dir}/r.csv", "UTF-16", "without a byte-order mark"),
        (),
    ),
    (
        "twenty-thousand-columns",
        "r.csv",
        csv_text(
            *(f"S{i},R1,overview,3," + ",".join("x" * 19_996) for i in range(3)),
            header=HEADER + "," + ",".join(f"c{i}" for i in range(19_996)),
        ),
        ("{dir}/r.csv", "row 1", "20,000 columns", "at most 1,000"),
        (),
    ),
    # ---- other columns ----------------------------------------------------------------
    (
        "kind-unknown",
        "r.csv",
        csv_text("S1,R1,overview,3,,,practice", header=HEADER7),
        ("{dir}/r.csv", "row 2", "'kind'", "'practice'", "kind must be one of"),
        (),
    ),
    (
        "rated-at-not-a-date",
        "r.csv",
        csv_text("S1,R1,overview,3,yesterday,,", header=HEADER7),
        ("{dir}/r.csv", "row 2", "'rated_at'", "'yesterday'", "ISO 8601"),
        (),
    ),
    (
        "duplicate-rating",
        "r.csv",
        csv_text("S1,R1,overview,3", "S1,R1,overview,2"),
        ("{dir}/r.csv", "row 3", "duplicate rating", "the same as row 2"),
        (),
    ),
    # ---- workbooks and Parquet --------------------------------------------------------
    (
        "xlsx-formula-cell",
        "r.xlsx",
        xlsx({"Sheet1": [XLSX_HEADER, ["S1", "R1", "overview", "=1+2"]]}),
        ("{dir}/r.xlsx", "row 2", "'score'", "cell D2", "formula =1+2", "sheet 'Sheet1'"),
        (),
    ),
    (
        "xlsx-data-on-second-sheet",
        "r.xlsx",
        xlsx({"Sheet1": [], "Responses": [XLSX_HEADER, ["S1", "R1", "overview", 3]]}),
        (
            "{dir}/r.xlsx",
            "sheet 'Sheet1' is empty; the workbook has data on 'Responses'",
            "--sheet 'Responses'",
        ),
        (),
    ),
    (
        "xlsx-named-sheet-missing",
        "r.xlsx",
        xlsx({"Scores": [XLSX_HEADER, ["S1", "R1", "overview", 3]]}),
        ("{dir}/r.xlsx", "no sheet 'Responses'", "'Scores'"),
        ("--sheet", "Responses"),
    ),
    (
        "xlsx-duplicate-header",
        "r.xlsx",
        xlsx({"Sheet1": [[*XLSX_HEADER, "Score"], ["S1", "R1", "overview", 3, 4]]}),
        ("{dir}/r.xlsx", "row 1", "column 'score' appears more than once"),
        (),
    ),
    (
        "xlsx-invisible-id",
        "r.xlsx",
        xlsx({"Sheet1": [XLSX_HEADER, ["S1", "R1\u200b", "overview", 3]]}),
        ("{dir}/r.xlsx", "row 2", "reviewer_id", "'R1\\u200b'"),
        (),
    ),
    (
        "parquet-control-in-id",
        "r.parquet",
        parquet(
            pd.DataFrame(
                {
                    "submission_id": ["S\x1b1"],
                    "reviewer_id": ["R1"],
                    "criterion_id": ["overview"],
                    "score": ["3"],
                }
            )
        ),
        ("{dir}/r.parquet", "row 2", "submission_id", "'S\\x1b1'"),
        (),
    ),
    (
        "wide-invisible-reviewer",
        "w.csv",
        "Reviewer ID,Submission ID,Overview questions\nR1\u2060,S1,3\n",
        ("{dir}/w.csv", "row 2", "reviewer_id", "'R1\\u2060'"),
        ("--wide",),
    ),
]


def _cases() -> list[object]:
    out = []
    for cid, name, content, says, extra in FILE_CASES:
        files = {name: content}
        target = "{dir}/" + name
        out.append(
            BadInput(
                f"validate-{cid}",
                ("validate", target, "--rubric", "{rubric}", *extra),
                files,
                1,
                says,
            ).param()
        )
        out.append(
            BadInput(
                f"import-{cid}",
                ("import", target, "--store", "{store}", "--rubric", "{rubric}", *extra),
                files,
                1,
                says,
                store=True,
            ).param()
        )
    return out


KEY_HEADER = "submission_id,criterion_id,key_score"
OTHER_CASES = [
    BadInput(
        "key-invisible-submission",
        (
            "import",
            "{dir}/r.csv",
            "--key",
            "{dir}/k.csv",
            "--store",
            "{store}",
            "--rubric",
            "{rubric}",
        ),
        {"r.csv": csv_text("S9,R1,overview,3"), "k.csv": f"{KEY_HEADER}\nS9\u200b,overview,3\n"},
        1,
        ("{dir}/k.csv", "row 2", "submission_id", "'S9\\u200b'"),
        store=True,
    ),
    BadInput(
        "key-score-full-width",
        ("validate", "{dir}/r.csv", "--key", "{dir}/k.csv", "--rubric", "{rubric}"),
        {"r.csv": csv_text("S9,R1,overview,3"), "k.csv": f"{KEY_HEADER}\nS9,overview,\uff12\n"},
        1,
        ("{dir}/k.csv", "row 2", "'key_score'", "not a plain number"),
    ),
    BadInput(
        "no-rubric-interval-label",
        ("reliability", "{dir}/r.csv", "--level", "interval"),
        {"r.csv": "submission_id,reviewer_id,score\nS1,R1,2.5\nS1,R2,high\nS2,R1,3\n"},
        1,
        ("{dir}/r.csv", "row 3", "'score'", "'high'", "must be a finite number"),
    ),
    BadInput(
        "no-rubric-interval-nan",
        ("reliability", "{dir}/r.csv", "--level", "interval"),
        {"r.csv": "submission_id,reviewer_id,score\nS1,R1,2.5\nS1,R2,nan\nS2,R1,3\n"},
        1,
        ("{dir}/r.csv", "row 3", "'score'", "'nan'", "not a plain number"),
    ),
    BadInput(
        "no-rubric-underscore",
        ("reliability", "{dir}/r.csv", "--level", "ordinal"),
        {"r.csv": "submission_id,reviewer_id,score\nS1,R1,2\nS1,R2,3_0\nS2,R1,3\n"},
        1,
        ("{dir}/r.csv", "row 3", "'score'", "'3_0'", "not a plain number"),
    ),
    BadInput(
        "no-rubric-invisible-reviewer",
        ("reliability", "{dir}/r.csv", "--level", "ordinal"),
        {"r.csv": "submission_id,reviewer_id,score\nS1,R1,2\nS1,R\u200b1,3\n"},
        1,
        ("{dir}/r.csv", "row 3", "reviewer_id", "'R\\u200b1'"),
    ),
]

CASES = [*_cases(), *(c.param() for c in OTHER_CASES)]


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case, tmp_path, template_store, capsys):
    run_case(case, tmp_path, template_store, capsys)


def test_the_corpus_is_large_and_distinct():
    ids = [c.values[0].id for c in CASES]
    assert len(set(ids)) == len(ids) and len(FILE_CASES) + len(OTHER_CASES) >= 40


# ---- grouping: many problems of a kind are a page, not a flood -------------------------
def _wrong_rubric_rows(n: int) -> str:
    return csv_text(*(f"S{i // 6},R{(i // 3) % 2},c{i % 3},{1 + i % 4}" for i in range(n)))


@pytest.mark.parametrize("store", [False, True], ids=["validate", "import"])
def test_a_wrong_rubric_says_so_once(tmp_path, template_store, capsys, store):
    argv = ("validate", "{dir}/r.csv", "--rubric", "{rubric}", "--format", "json")
    if store:
        argv = (
            "import",
            "{dir}/r.csv",
            "--store",
            "{store}",
            "--rubric",
            "{rubric}",
            "--format",
            "json",
        )
    case = BadInput(
        "wrong-rubric",
        argv,
        {"r.csv": _wrong_rubric_rows(6_000)},
        1,
        ("0 of 6,000 criterion ids are in the rubric", "is this the right rubric?", "'c1'"),
        store=store,
    )
    out, _ = run_case(case, tmp_path, template_store, capsys)
    payload = json.loads(out)
    assert len(payload["problems"]) == 1 and "duplicate" not in out  # no false duplicates
    assert payload["problem_counts"] == [{"kind": "wrong rubric", "count": 1, "listed": 1}]


def test_many_problems_of_a_kind_are_counted_not_listed(tmp_path, template_store, capsys):
    rows = [f"S{i},R1,overview,9" for i in range(400)] + [f"S{i},R1,artifacts,x" for i in range(3)]
    case = BadInput(
        "many-bad-scores",
        ("import", "{dir}/r.csv", "--store", "{store}", "--rubric", "{rubric}"),
        {"r.csv": csv_text(*rows)},
        1,
        ("403 problem(s)", "row 2", "'9'", "... and 350 more like this", "'x'"),
        store=True,
    )
    out, _ = run_case(case, tmp_path, template_store, capsys)
    assert out.count("out of range") == 50
    case = BadInput(**{**case.__dict__, "argv": (*case.argv, "--format", "json"), "says": ()})
    payload = json.loads(run_case(case, tmp_path, template_store, capsys)[0])
    assert len(payload["problems"]) == 53 and payload["more"] == 350
    counts = {c["kind"]: (c["count"], c["listed"]) for c in payload["problem_counts"]}
    assert counts == {
        "scores that are not levels of criterion 'overview'": (400, 50),
        "scores that are not levels of criterion 'artifacts'": (3, 3),
    }


def test_the_formula_guard_round_trips_without_merging(tmp_path):
    """Reviewers '=x and =x export as ''=x and '=x and read back as two reviewers."""
    from calibrate.io import export_table, read_ratings
    from calibrate.rubric import load_rubric
    from tests.hardening.corpus import RUBRIC

    rubric = load_rubric(RUBRIC)
    path = tmp_path / "r.csv"
    path.write_text(csv_text("S1,'=x,overview,3", "S1,=x,overview,2"))
    with pytest.raises(Exception, match="would be one id"):
        read_ratings(path, rubric)  # a file holding both spellings is ambiguous
    path.write_text(csv_text("S1,''=x,overview,3", "S1,'=y,overview,2"))
    table = read_ratings(path, rubric)
    assert sorted(table.frame["reviewer_id"].astype(str)) == ["'=x", "=y"]
    for suffix in (".csv", ".xlsx"):
        again = read_ratings(export_table(table, tmp_path / f"out{suffix}"), rubric)
        assert sorted(again.frame["reviewer_id"].astype(str)) == ["'=x", "=y"]
