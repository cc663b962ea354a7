"""Resubmissions: educator_id and attempt (or resubmission_of) are resolved, checked and
stored as submission attributes; each attempt stays its own submission; ``--by attempt``
breaks reliability, fairness and the decisions down by attempt number."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibrate.cli import main
from calibrate.io import read_ratings, resolve_attempts, submission_attempts
from calibrate.policy import attempt_summary, decide
from calibrate.reliability import krippendorff_alpha, reliability_table
from calibrate.rubric import load_rubric
from calibrate.severity import ManyFacetRasch
from calibrate.store import Store

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = ROOT / "rubrics" / "evidence-4level.yaml"
#: The pilot's 399 live ratings: 60 submissions, 40 educators' first attempts and 20
#: second attempts (educators E001-E020), as columns educator_id and attempt.
RESUB = ROOT / "data" / "samples" / "resubmissions.csv"


def frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


# ---- resolving and checking -------------------------------------------------------------------
def test_resubmission_of_resolves_chains_to_attempt_numbers():
    f = frame(
        submission_id=["S3", "S1", "S2", "S9"],
        educator_id=[None, "E1", "", "E2"],
        resubmission_of=["S2", None, "S1", None],
    )
    got, problems = resolve_attempts(f)
    assert problems == []
    assert got.values.tolist() == [
        ["S1", "E1", "1"],
        ["S2", "E1", "2"],
        ["S3", "E1", "3"],
        ["S9", "E2", "1"],  # an educator without attempt or resubmission_of: attempt 1
    ]


@pytest.mark.parametrize(
    ("cols", "row", "column", "words"),
    [
        (
            {"educator_id": ["E1"], "attempt": ["2"]},
            2,
            "attempt",
            "attempt 2 of educator 'E1', who has no attempt 1",
        ),
        ({"educator_id": ["E1"], "attempt": ["two"]}, 2, "attempt", "whole number 1, 2"),
        ({"educator_id": [""], "attempt": ["1"]}, 2, "attempt", "no educator_id"),
        (
            {"educator_id": ["E1"], "resubmission_of": ["S7"]},
            2,
            "resubmission_of",
            "neither in this file nor stored",
        ),
        (
            {"educator_id": ["E1"], "resubmission_of": ["S1"]},
            2,
            "resubmission_of",
            "in a circle",
        ),
    ],
    ids=["no-attempt-1", "not-a-number", "no-educator", "unknown-earlier", "itself"],
)
def test_each_bad_attempt_is_a_problem_naming_its_row(cols, row, column, words):
    _, problems = resolve_attempts(
        frame(submission_id=["S1"], **cols), rows={"S1": row}, source="f.csv"
    )
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.file, p.row, p.column) == ("f.csv", row, column)
    assert words in p.message


def test_two_submissions_with_one_educator_and_attempt_and_a_wrong_educator_are_listed():
    f = frame(
        submission_id=["S1", "S2", "S3"],
        educator_id=["E1", "E1", "E2"],
        attempt=["1", "1", None],
        resubmission_of=[None, None, "S1"],
    )
    _, problems = resolve_attempts(f, rows={"S1": 2, "S2": 5, "S3": 9})
    got = sorted((p.row, p.column) for p in problems)
    assert got == [(2, "attempt"), (5, "attempt"), (9, "educator_id")]
    assert "'S1' and 'S2' (in this file) are both attempt 1 of educator 'E1'" in problems[0].message
    assert "educator 'E1') but has educator_id 'E2'" in problems[2].message


def test_stored_attempts_are_known_to_a_later_file():
    stored = frame(submission_id=["S1"], educator_id=["E1"], attempt=["1"], district=["North"])
    got, problems = resolve_attempts(
        frame(submission_id=["S2"], resubmission_of=["S1"]), known=stored
    )
    assert problems == [] and got.values.tolist() == [["S2", "E1", "2"]]
    _, problems = resolve_attempts(
        frame(submission_id=["S5"], educator_id=["E1"], attempt=["1"]), known=stored
    )
    assert ["stored" in p.message for p in problems] == [True]
    assert submission_attempts(stored).to_dict() == {"S1": 1}


# ---- import and store ---------------------------------------------------------------------------
def write(path: Path, rows: list[tuple], head: str) -> Path:
    path.write_text(head + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


HEAD = "submission_id,reviewer_id,criterion_id,score,educator_id,attempt,resubmission_of"


def test_import_stores_educator_and_attempt_and_refuses_bad_ones_writing_nothing(tmp_path):
    store = tmp_path / "s.db"
    first = write(
        tmp_path / "a.csv",
        [("S1", "R1", "overview", 2, "E1", 1, ""), ("S2", "R1", "overview", 3, "E2", "", "")],
        HEAD,
    )
    args = ["--rubric", str(RUBRIC), "--store", str(store)]
    assert main(["import", str(first), *args]) == 0
    bad = write(
        tmp_path / "b.csv",
        [("S3", "R2", "overview", 3, "", "", "S1"), ("S4", "R2", "overview", 3, "E2", 3, "")],
        HEAD,
    )
    with Store.open(store, read_only=True) as s:
        before = (len(s.ratings("evidence-4level")), s.attributes("submission"))
    assert main(["import", str(bad), *args, "--format", "json"]) == 1
    with Store.open(store, read_only=True) as s:  # refused: nothing of b.csv was written
        assert len(s.ratings("evidence-4level")) == before[0]
        pd.testing.assert_frame_equal(s.attributes("submission"), before[1])
    good = write(tmp_path / "c.csv", [("S3", "R2", "overview", 3, "", "", "S1")], HEAD)
    assert main(["import", str(good), *args]) == 0  # S1 is stored: S3 is E1's attempt 2
    with Store.open(store, read_only=True) as s:
        attrs = s.attributes("submission")
    assert attrs.values.tolist() == [["S1", "1", "E1"], ["S2", "1", "E2"], ["S3", "2", "E1"]]
    assert list(attrs.columns) == ["submission_id", "attempt", "educator_id"]


def test_a_refused_first_import_creates_no_store(tmp_path, capsys):
    bad = write(tmp_path / "b.csv", [("S4", "R2", "overview", 3, "E2", 2, "")], HEAD)
    store = tmp_path / "new.db"
    assert main(["import", str(bad), "--rubric", str(RUBRIC), "--store", str(store)]) == 1
    assert "b.csv, row 2, column 'attempt', value '2'" in capsys.readouterr().out
    assert not store.exists()


def test_google_forms_educator_and_attempt_columns_become_attributes(tmp_path):
    src = pd.read_csv(ROOT / "data" / "samples" / "google-forms.csv", dtype=str)
    subs = sorted(src["Submission ID"].unique())  # 20: educators T01-T10, two attempts each
    educator = {s: f"T{i % 10 + 1:02d}" for i, s in enumerate(subs)}
    attempt = {s: str(i // 10 + 1) for i, s in enumerate(subs)}
    src.insert(4, "Educator ID", src["Submission ID"].map(educator))
    src.insert(5, "Attempt number", src["Submission ID"].map(attempt))
    path = tmp_path / "forms.csv"
    src.to_csv(path, index=False)
    store = tmp_path / "s.db"
    cmd = ["import", str(path), "--rubric", str(RUBRIC), "--profile", "google-forms"]
    assert main([*cmd, "--timezone", "America/Chicago", "--store", str(store)]) == 0
    with Store.open(store, read_only=True) as s:
        attrs = s.attributes("submission").set_index("submission_id")
    assert attrs["educator_id"].to_dict() == educator
    assert attrs["attempt"].to_dict() == attempt
    assert {"district", "school", "grade_band"} <= set(attrs.columns)


# ---- attempts are separate submissions ---------------------------------------------------------
@pytest.fixture(scope="module")
def resub():
    rubric = load_rubric(RUBRIC)
    table = read_ratings(RESUB, rubric)
    raw = pd.read_csv(RESUB, dtype=str).drop_duplicates("submission_id")
    attempts = raw[["submission_id", "educator_id", "attempt"]].reset_index(drop=True)
    return rubric, table, attempts


def test_attempts_are_separate_submissions_in_reliability_and_severity(resub):
    _, table, attempts = resub
    assert attempts["educator_id"].nunique() == 40 and len(attempts) == 60
    overall = reliability_table(table, by=(), coefficients=["krippendorff_alpha"])
    assert overall.loc[overall["criterion_id"] == "decision", "n_units"].item() == 60
    model = ManyFacetRasch().fit(table)
    assert len(model.ability_) == 60  # one ability per attempt, not per educator


def test_reliability_by_attempt_equals_the_coefficient_on_each_attempt(resub):
    _, table, attempts = resub
    of = submission_attempts(attempts)
    rows = reliability_table(
        table, by=("attempt", "criterion"), coefficients=["krippendorff_alpha"], attempts=of
    )
    assert sorted(rows["attempt"].unique()) == [1, 2]
    for a in (1, 2):
        mask = table.frame["submission_id"].astype(str).map(of.to_dict()).eq(a).to_numpy()
        part = type(table)(table.frame[mask].reset_index(drop=True), table.rubric, table.source)
        direct = krippendorff_alpha(part.select(criterion="overview"), level="ordinal")
        got = rows[(rows["attempt"] == a) & (rows["criterion_id"] == "overview")]
        assert got["estimate"].item() == pytest.approx(direct.estimate, abs=1e-12)
    with pytest.raises(ValueError, match="by 'attempt' needs attempts"):
        reliability_table(table, by="attempt")


def test_reliability_cli_by_attempt(capsys):
    argv = ["reliability", str(RESUB), "--rubric", str(RUBRIC), "--by", "attempt,criterion"]
    assert main([*argv, "--coefficients", "krippendorff_alpha", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["attempt"] for r in rows} == {1, 2}
    decision = [r for r in rows if r["criterion_id"] == "decision"]
    assert sorted((r["attempt"], r["n_units"]) for r in decision) == [(1, 40), (2, 20)]
    plain = str(ROOT / "data" / "samples" / "long.csv")
    assert main(["reliability", plain, "--rubric", str(RUBRIC), "--by", "attempt"]) == 2
    assert "--by attempt needs each submission's attempt" in capsys.readouterr().err


# ---- decisions per attempt ------------------------------------------------------------------------
def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval, the closed form (JASA 22, 209-212, eq. for p)."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_attempt_summary_counts_wilson_and_previous_reviewers(resub):
    _, table, attempts = resub
    got = attempt_summary(table, attempts).set_index("attempt")
    rows = {r["submission_id"]: r for r in decide(table).rows}
    of = attempts.set_index("submission_id")
    for a in (1, 2):
        mine = [r for s, r in rows.items() if of.loc[s, "attempt"] == str(a)]
        k = sum(r["decision"] == "pass" for r in mine)
        n = sum(r["decision"] != "pending" for r in mine)
        assert got.loc[a, "submissions"] == len(mine) and got.loc[a, "pass"] == k
        assert got.loc[a, "pass_rate"] == pytest.approx(k / n, abs=1e-12)
        lo, hi = wilson(k, n)
        assert (got.loc[a, "pass_low"], got.loc[a, "pass_high"]) == pytest.approx(
            (lo, hi), abs=1e-12
        )
    # the previous attempt's reviewers, counted from the ratings themselves
    who = table.frame.groupby("submission_id", observed=True)["reviewer_id"].agg(
        lambda s: set(map(str, s))
    )
    first = {e: s for s, e, a in of.reset_index().values if a == "1"}
    second = [(s, first[e]) for s, e, a in of.reset_index().values if a == "2"]
    same = sum(bool(who[s] & who[p]) for s, p in second)
    assert got.loc[2, "with_previous"] == 20 and got.loc[2, "same_reviewer"] == same
    assert got.loc[2, "same_reviewer_share"] == pytest.approx(same / 20)
    assert np.isnan(got.loc[1, "same_reviewer_share"])


def test_decisions_cli_by_attempt_json_and_text(resub, capsys):
    _, table, attempts = resub
    argv = ["decisions", str(RESUB), "--rubric", str(RUBRIC), "--by", "attempt"]
    assert main([*argv, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = attempt_summary(table, attempts)
    assert [r["attempt"] for r in out["attempts"]] == [1, 2]
    assert [r["pass"] for r in out["attempts"]] == want["pass"].tolist()
    assert out["attempts"][0]["same_reviewer_share"] is None  # NaN as JSON null
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Per attempt" in text and "same_reviewer_share" in text


def test_fairness_by_attempt_from_resubmission_of(tmp_path, capsys):
    f = pd.read_csv(RESUB, dtype=str, keep_default_na=False)
    first = {
        e: s for s, e, a in zip(f.submission_id, f.educator_id, f.attempt, strict=True) if a == "1"
    }
    f["resubmission_of"] = [
        first[e] if a == "2" else "" for e, a in zip(f.educator_id, f.attempt, strict=True)
    ]
    f["educator_id"] = f["educator_id"].where(f["attempt"] == "1", "")
    path = tmp_path / "resub.csv"
    f.drop(columns="attempt").to_csv(path, index=False)
    assert (
        main(
            ["fairness", str(path), "--rubric", str(RUBRIC), "--by", "attempt", "--format", "json"]
        )
        == 0
    )
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert sorted((g["group"], g["submissions"]) for g in groups) == [("1", 40), ("2", 20)]


def test_attempts_come_from_the_store_and_survive_pseudonyms(resub, tmp_path, capsys):
    store = tmp_path / "s.db"
    assert main(["import", str(RESUB), "--rubric", str(RUBRIC), "--store", str(store)]) == 0
    plain = tmp_path / "plain.csv"
    pd.read_csv(RESUB, dtype=str).drop(columns=["educator_id", "attempt"]).to_csv(
        plain, index=False
    )
    capsys.readouterr()
    base = ["decisions", str(plain), "--rubric", str(RUBRIC), "--by", "attempt", "--format", "json"]
    assert main([*base, "--store", str(store)]) == 0
    from_store = json.loads(capsys.readouterr().out)["attempts"]
    assert (
        main(
            [*base, "--store", str(store), "--pseudonymize", "--pseudonym-key", str(tmp_path / "k")]
        )
        == 0
    )
    hidden = json.loads(capsys.readouterr().out)
    assert hidden["attempts"] == from_store  # the same counts under pseudonyms
    assert all(r["submission_id"].startswith("S-") for r in hidden["decisions"])
    _, table, attempts = resub
    want = attempt_summary(table, attempts)
    assert [r["same_reviewer"] for r in from_store] == want["same_reviewer"].tolist()


def test_drift_references_stay_within_an_attempt(resub):
    """A live rating's drift reference is the mean of its co-reviewers on the same
    submission: computed on the whole table or on one attempt's ratings alone, it is the
    same, so an earlier attempt's reviews never enter a resubmission's reference."""
    from calibrate.drift._residuals import residual_ratings

    _, table, attempts = resub
    whole = residual_ratings(table)
    by_row = dict(zip(whole.row.tolist(), whole.residual.tolist(), strict=True))
    of = submission_attempts(attempts).to_dict()
    for a in (1, 2):
        mask = table.frame["submission_id"].astype(str).map(of).eq(a).to_numpy()
        part = type(table)(table.frame[mask].reset_index(drop=True), table.rubric, table.source)
        alone = residual_ratings(part)
        rows = np.flatnonzero(mask)[alone.row]
        assert len(alone) > 100
        np.testing.assert_allclose([by_row[r] for r in rows], alone.residual, rtol=0, atol=1e-12)
