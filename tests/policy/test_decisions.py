"""The decision roster (``calibrate.policy.decide``, ``calibrate decisions``).

The hand-built table's decisions are worked out by hand below, from the rubric's pass rule
(evidence-4level: every criterion >= 3) and review policy (two reviewers, a third when
their decisions differ, majority of three). On synthetic programs every decision is
checked against the policy simulator's own decision code (``policy._simulate._decide``)
fed with the reviews in the order they were scored, rebuilt here with pandas.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.policy import Policy, decide
from calibrate.policy._simulate import _decide
from calibrate.ratings import RatingsTable
from calibrate.synth import SynthSpec, generate

RUBRIC = "rubrics/evidence-4level.yaml"
CRITS = ("overview", "artifacts", "reflection")

# (submission, reviewer, scores, minutes after the start, rationale of overview)
REVIEWS = [
    ("S1", "R1", (3, 3, 3), 0, ""),
    ("S1", "R2", (4, 3, 3), 5, ""),
    ("S2", "R1", (2, 3, 3), 0, '=HYPERLINK("http://x")'),
    ("S2", "R2", (2, 3, 4), 5, "plan lacks open questions"),
    ("S3", "R3", (3, 3, 4), 90, "tiebreak: the plan is there"),  # first in the file, scored last
    ("S3", "R1", (3, 3, 3), 0, ""),
    ("S3", "R2", (3, 2, 3), 5, ""),
    ("S4", "R1", (3, 3, 3), 0, ""),
    ("S4", "R2", (1, 3, 3), 5, ""),
    ("S5", "R2", (4, 4, 4), 0, ""),
    ("S6", "R1", (4, 4, 4), 0, ""),
    ("S6", "R2", (3, 3, 3), 5, ""),
    ("S6", "R3", (1, 1, 1), 9, ""),  # not called for: the first two agree
]


def _write(path, reviews=REVIEWS):
    rows = []
    for sub, rev, scores, minutes, why in reviews:
        at = (pd.Timestamp("2026-10-01T09:00Z") + pd.Timedelta(minutes=minutes)).isoformat()
        for c, s in zip(CRITS, scores, strict=True):
            rows.append(
                {
                    "submission_id": sub,
                    "reviewer_id": rev,
                    "criterion_id": c,
                    "score": s,
                    "rated_at": at,
                    "kind": "live",
                    "rationale": why if c == "overview" else "",
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _run(capsys, *args):
    code = main(["decisions", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def roster(tmp_path, capsys):
    ratings = _write(tmp_path / "ratings.csv")
    code, out, _ = _run(capsys, ratings, "--rubric", RUBRIC, "--format", "json")
    assert code == 0
    return json.loads(out)


def test_hand_built_decisions(roster):
    rows = {r["submission_id"]: r for r in roster["decisions"]}
    # S1: 3,3,3 and 4,3,3 both pass: pass, no tiebreak
    assert rows["S1"]["decision"] == "pass" and rows["S1"]["tiebreak"] is None
    assert rows["S1"]["pending"] is None and rows["S1"]["criteria_short"] == []
    assert rows["S1"]["scores"] == {
        "R1": {"overview": 3, "artifacts": 3, "reflection": 3},
        "R2": {"overview": 4, "artifacts": 3, "reflection": 3},
    }
    # S2: both not yet (overview 2); means 2, 3, 3.5: only overview short; rationales kept
    assert rows["S2"]["decision"] == "not yet" and rows["S2"]["tiebreak"] is None
    assert rows["S2"]["criteria_short"] == ["overview"]
    assert rows["S2"]["feedback"] == [
        {"reviewer_id": "R1", "criterion_id": "overview", "text": '=HYPERLINK("http://x")'},
        {"reviewer_id": "R2", "criterion_id": "overview", "text": "plan lacks open questions"},
    ]
    # S3: R1 pass, R2 not yet (artifacts 2) -> third review R3 (scored last, listed first in
    # the file) passes: majority pass, resolved by R3
    assert rows["S3"]["reviewers"] == ["R1", "R2", "R3"]
    assert rows["S3"]["decision"] == "pass"
    assert rows["S3"]["tiebreak"] == {
        "triggered": True,
        "reason": "decisions differ (R1 pass, R2 not yet)",
        "resolved_by": "R3",
    }
    # S4: R1 pass, R2 not yet, no third review: pending the tiebreak
    assert rows["S4"]["decision"] == "pending" and rows["S4"]["pending"] == "tiebreak"
    assert rows["S4"]["tiebreak"]["triggered"] and rows["S4"]["tiebreak"]["resolved_by"] is None
    # S5: one review of two: pending the second review
    assert rows["S5"]["decision"] == "pending" and rows["S5"]["pending"] == "second review"
    assert rows["S5"]["tiebreak"] is None
    # S6: the first two agree (pass); the uncalled third review changes nothing
    assert rows["S6"]["decision"] == "pass" and rows["S6"]["tiebreak"] is None
    assert rows["S6"]["reviewers"] == ["R1", "R2", "R3"]
    assert [r["submission_id"] for r in roster["pending"]] == ["S4", "S5"]
    assert roster["summary"] == {
        "submissions": 6,
        "pass": 3,
        "not_yet": 1,
        "pending": 2,
        "tiebreaks_triggered": 2,
        "tiebreaks_resolved": 1,
    }
    for r in roster["decisions"]:
        assert {"submission_id", "decision", "reviewers", "tiebreak", "pending"} <= set(r)


def test_policy_file_changes_the_rule(tmp_path, capsys):
    ratings = _write(tmp_path / "ratings.csv")
    policy = tmp_path / "policy.yaml"
    # average of three: S3's means 3, 2.67, 3.33 -> not yet; a criterion 2 apart also
    # calls a third review: S4 (overview 3 vs 1) for two reasons
    policy.write_text("resolution: average\ncriterion_differs_by: 2\n")
    code, out, _ = _run(capsys, ratings, "--rubric", RUBRIC, "--policy", policy, "--format", "json")
    assert code == 0
    rows = {r["submission_id"]: r for r in json.loads(out)["decisions"]}
    assert rows["S3"]["decision"] == "not yet" and rows["S3"]["criteria_short"] == ["artifacts"]
    assert rows["S4"]["tiebreak"]["reason"] == (
        "decisions differ (R1 pass, R2 not yet); overview differs by 2 (trigger: 2)"
    )
    # S6: 4,4,4 vs 3,3,3 is no criterion 2 apart: still no tiebreak
    assert rows["S6"]["tiebreak"] is None and rows["S6"]["decision"] == "pass"


def test_text_summary_and_csv_roster(tmp_path, capsys):
    ratings = _write(tmp_path / "ratings.csv")
    out_csv = tmp_path / "roster.csv"
    code, out, _ = _run(capsys, ratings, "--rubric", RUBRIC, "--out", out_csv)
    assert code == 0
    assert "6 submissions: 3 pass, 1 not yet, 2 pending; tiebreaks triggered 2, resolved 1." in out
    back = pd.read_csv(out_csv, dtype=str, keep_default_na=False).set_index("submission_id")
    assert back.loc["S3", "reviewers"] == "R1, R2, R3"
    assert back.loc["S3", "resolved_by"] == "R3"
    assert back.loc["S4", "pending"] == "tiebreak"
    # the formula-like rationale is neutralised with a leading apostrophe
    assert back.loc["S2", "feedback"].startswith("R1 on overview: =HYPERLINK")
    assert not any(v.startswith("=") for v in back.to_numpy().ravel())


def test_xlsx_roster_has_decisions_and_pending_sheets(tmp_path, capsys):
    from openpyxl import load_workbook

    ratings = _write(tmp_path / "ratings.csv")
    bad = [("S7", "R1", (3, 3, 3), 0, "=cmd|' /C calc'!A0"), ("S7", "R2", (3, 3, 3), 1, "")]
    _write(ratings, REVIEWS + bad)
    out = tmp_path / "roster.xlsx"
    code, _, err = _run(capsys, ratings, "--rubric", RUBRIC, "--out", out, "--format", "json")
    assert code == 0 and "wrote" in err
    book = load_workbook(out)
    assert book.sheetnames == ["decisions", "pending"]
    dec = list(book["decisions"].values)
    assert dec[0][:3] == ("submission_id", "decision", "reviewers")
    assert [r[0] for r in dec[1:]] == ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]
    pend = list(book["pending"].values)
    assert pend == [
        ("submission_id", "reviewers", "waits_for"),
        ("S4", "R1, R2", "tiebreak"),
        ("S5", "R2", "second review"),
    ]
    cells = [c for row in dec for c in row if isinstance(c, str)]
    assert not any(c.startswith("=") for c in cells)
    col = dec[0].index("feedback")
    feedback = {r[0]: r[col] for r in dec}
    assert feedback["S7"] == "R1 on overview: =cmd|' /C calc'!A0"  # inside the text: inert
    for row in book["decisions"].iter_rows():
        for c in row:
            assert c.data_type != "f"  # no formula cell anywhere


def test_leading_formula_cell_is_neutralised(tmp_path, capsys):
    """A cell that itself begins like a formula (a reviewer id) gets the apostrophe."""
    ratings = tmp_path / "ratings.csv"
    _write(ratings, [("S1", "+R1", (3, 3, 3), 0, ""), ("S1", "R2", (3, 3, 3), 1, "")])
    out = tmp_path / "roster.csv"
    assert _run(capsys, ratings, "--rubric", RUBRIC, "--out", out)[0] == 0
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back.loc[0, "reviewers"] == "'+R1, R2"


def test_bad_input_errors(tmp_path, capsys):
    ratings = _write(tmp_path / "ratings.csv")
    code, out, err = _run(capsys, ratings, "--rubric", RUBRIC, "--out", tmp_path / "r.txt")
    assert code == 2 and "--out must end in .csv or .xlsx" in err
    policy = tmp_path / "policy.yaml"
    policy.write_text("reviewers: 5\nbogus: 1\n")
    code, out, err = _run(
        capsys, ratings, "--rubric", RUBRIC, "--policy", policy, "--format", "json"
    )
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False
    assert doc["problems"][0]["file"] == str(policy) and "bogus" in doc["problems"][0]["message"]
    policy.write_text("reviewers: [2\n")
    code, out, _ = _run(capsys, ratings, "--rubric", RUBRIC, "--policy", policy, "--format", "json")
    assert code == 1 and "not valid YAML" in json.loads(out)["problems"][0]["message"]
    broken = tmp_path / "broken.csv"
    frame = pd.read_csv(ratings)
    frame.loc[3, "score"] = 9
    frame.loc[7, "reviewer_id"] = ""
    frame.to_csv(broken, index=False)
    out_csv = tmp_path / "never.csv"
    code, out, _ = _run(capsys, broken, "--rubric", RUBRIC, "--out", out_csv, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and len(doc["problems"]) >= 2  # every problem at once
    assert {p["row"] for p in doc["problems"]} >= {5, 9}
    assert not out_csv.exists()  # nothing written
    anchors = tmp_path / "anchors.csv"
    frame = pd.read_csv(ratings).assign(kind="anchor")
    frame.to_csv(anchors, index=False)
    code, out, _ = _run(capsys, anchors, "--rubric", RUBRIC, "--format", "json")
    assert code == 1 and "no live reviews" in json.loads(out)["error"]


def test_decide_argument_errors(evidence_rubric):
    table = generate(RUBRIC, SynthSpec(n_submissions=20, n_reviewers=4, seed=1)).ratings_table()
    with pytest.raises(TypeError, match="policy must be a calibrate.policy.Policy"):
        decide(table, "majority")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one rationale per rating"):
        decide(table, feedback=["x"])


def _expected(table: RatingsTable, policy: Policy):
    """The simulator's decision code on the reviews in scoring order, rebuilt with pandas:
    per live submission (decision or None when undecided, trigger fired, third reviewer)."""
    rubric = policy.apply_to(table.rubric)
    f = table.frame.reset_index(drop=True)
    f = f[f["kind"].astype(str) == "live"].assign(row=lambda d: d.index)
    heads = (
        f.groupby(["submission_id", "reviewer_id"], observed=True)
        .agg(at=("rated_at", "min"), row=("row", "min"))
        .reset_index()
        .sort_values(["submission_id", "at", "row"])
    )
    wide = f.pivot_table(
        index=["submission_id", "reviewer_id"],
        columns="criterion_id",
        values="score",
        aggfunc="first",
        observed=True,
    )[list(rubric.criterion_ids)]
    subs = sorted(heads["submission_id"].astype(str).unique())
    n, C = len(subs), len(rubric.criteria)
    S = [np.full((n, C), np.nan) for _ in range(3)]
    who: list[list[str]] = [[] for _ in range(n)]
    for i, s in enumerate(subs):
        revs = heads.loc[heads["submission_id"] == s, "reviewer_id"].astype(str).tolist()
        who[i] = revs
        for j, r in enumerate(revs[:3]):
            S[j][i] = wide.loc[(s, r)].to_numpy(dtype=float)
    decided = [rubric.decide(s) == 1 for s in S]
    final, extra, by_expert = _decide(
        rubric, policy, S, decided, np.full((n, C), np.nan), np.ones(n)
    )
    k = policy.review.reviewers
    out = {}
    for i, s in enumerate(subs):
        first_ok = len(who[i]) >= k
        if extra[i] and k < 3:
            complete = len(who[i]) > k
        else:
            complete = first_ok
        ok = first_ok and complete and not by_expert[i]
        third = who[i][k] if extra[i] and k < 3 and complete else None
        out[s] = (bool(final[i]) if ok else None, bool(extra[i]) and first_ok, third)
    return out


@pytest.mark.parametrize(
    ("rubric", "changes"),
    [
        (RUBRIC, {}),
        (RUBRIC, {"resolution": "average", "criterion_differs_by": 2}),
        (RUBRIC, {"resolution": "replace_farthest", "total_differs_by": 2}),
        ("rubrics/discussion-hybrid.yaml", {}),
        ("rubrics/discussion-hybrid.yaml", {"reviewers": 1, "decision_differs": False}),
        ("rubrics/met-not-yet.yaml", {"reviewers": 3, "resolution": "average"}),
    ],
    ids=["rubric-own", "average-criterion2", "farthest-total2", "hybrid", "one-reviewer", "three"],
)
def test_decisions_equal_the_policy_simulators_rule(rubric, changes):
    program = generate(rubric, SynthSpec(n_submissions=150, n_reviewers=6, seed=11))
    table = program.ratings_table()
    policy = Policy.from_rubric(table.rubric, **changes)
    roster = decide(table, policy)
    expected = _expected(table, policy)
    assert [r["submission_id"] for r in roster.rows] == sorted(expected)
    n_decided = 0
    for r in roster.rows:
        want, fired, third = expected[r["submission_id"]]
        if want is None:
            assert r["decision"] == "pending" and r["pending"] is not None
        else:
            n_decided += 1
            assert r["decision"] == ("pass" if want else "not yet"), r
        assert (r["tiebreak"] is not None) == fired, r
        if fired:
            assert r["tiebreak"]["resolved_by"] == third
    assert n_decided > 40  # the check is not vacuous (three reviews: only the tiebroken)


def test_expert_and_incomplete_reviews_are_pending(tmp_path, capsys):
    ratings = _write(tmp_path / "ratings.csv")
    frame = pd.read_csv(ratings)
    # S8: R1 left reflection unscored, so its first two reviews are incomplete
    extra = pd.DataFrame(
        {
            "submission_id": "S8",
            "reviewer_id": ["R1", "R1", "R2", "R2", "R2"],
            "criterion_id": ["overview", "artifacts", "overview", "artifacts", "reflection"],
            "score": [3, 3, 3, 3, 3],
            "rated_at": "2026-10-01T09:00:00+00:00",
            "kind": "live",
            "rationale": "",
        }
    )
    pd.concat([frame, extra]).to_csv(ratings, index=False)
    policy = tmp_path / "expert.yaml"
    policy.write_text("resolution: expert\n")
    code, out, _ = _run(capsys, ratings, "--rubric", RUBRIC, "--policy", policy, "--format", "json")
    assert code == 0
    rows = {r["submission_id"]: r for r in json.loads(out)["decisions"]}
    # S3 has its third review, but under 'expert' the expert's decision is not in the ratings
    assert rows["S3"]["pending"] == "expert decision" and rows["S3"]["decision"] == "pending"
    assert rows["S3"]["tiebreak"]["resolved_by"] is None
    assert rows["S4"]["pending"] == "tiebreak"
    assert rows["S8"]["pending"] == "complete scores" and rows["S8"]["tiebreak"] is None
    assert rows["S8"]["scores"]["R1"] == {"overview": 3, "artifacts": 3}
    assert rows["S1"]["decision"] == "pass"  # agreeing reviewers need no expert


def test_total_trigger_reason(tmp_path, capsys):
    ratings = _write(tmp_path / "ratings.csv")
    policy = tmp_path / "policy.yaml"
    policy.write_text("decision_differs: false\ntotal_differs_by: 2\n")
    code, out, _ = _run(capsys, ratings, "--rubric", RUBRIC, "--policy", policy, "--format", "json")
    rows = {r["submission_id"]: r for r in json.loads(out)["decisions"]}
    # S4 totals 9 and 7; S6 12 and 9 (its third review now resolves it); S3 9 and 8: no call
    assert rows["S4"]["tiebreak"]["reason"] == "totals differ by 2 (trigger: 2)"
    assert rows["S6"]["tiebreak"] == {
        "triggered": True,
        "reason": "totals differ by 3 (trigger: 2)",
        "resolved_by": "R3",
    }
    assert rows["S6"]["decision"] == "pass"  # majority: R1 and R2 pass, R3 does not
    # S3's decisions differ but nothing calls the third review: the two reviews' average
    # (artifacts 2.5) decides, as the simulator does
    assert rows["S3"]["tiebreak"] is None and rows["S3"]["decision"] == "not yet"
    assert rows["S3"]["criteria_short"] == ["artifacts"]
