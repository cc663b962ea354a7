"""The feedback audit: hand counts, TF-IDF/cosine against scikit-learn, planted reviewers, edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from calibrate.feedback import criterion_text, feedback_audit
from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.reliability import decision_ratings
from calibrate.rubric import load_rubric
from calibrate.synth import PASTED_COMMENT, SynthSpec, generate, synth_comments

RUBRIC = load_rubric("rubrics/evidence-4level.yaml")  # conjunctive: every criterion >= 3
CRITS = ("overview", "artifacts", "reflection")


def _table(rows: list[tuple[str, str, str, int]]) -> RatingsTable:
    sub, rev, crit, score = zip(*rows, strict=True)
    return RatingsTable(canonical_frame(sub, rev, crit, score, RUBRIC), RUBRIC)


def _hand_table() -> tuple[RatingsTable, list[str]]:
    """R1 reviews S1..S4, R2 reviews S1, S2 (S2 incomplete). Decisions by hand:
    R1: S1 (3,3,3) pass; S2 (2,3,3) not yet; S3 (1,1,1) not yet; S4 (4,2,4) not yet.
    R2: S1 (3,4,2) not yet; S2 only two criteria: undecided."""
    scores = {
        ("R1", "S1"): (3, 3, 3),
        ("R1", "S2"): (2, 3, 3),
        ("R1", "S3"): (1, 1, 1),
        ("R1", "S4"): (4, 2, 4),
        ("R2", "S1"): (3, 4, 2),
        ("R2", "S2"): (2, 2, None),
    }
    texts = {
        ("R1", "S1", "overview"): "Plan sequences open questions well.",
        ("R1", "S2", "overview"): "   ",  # whitespace only: no feedback
        ("R1", "S3", "artifacts"): "Artifacts do not show the technique.",
        ("R1", "S3", "reflection"): "Describe the effect of the lesson.",
        ("R2", "S1", "reflection"): "Cite evidence from the artifacts.",
        ("R2", "S2", "overview"): "Needs open questions.",
    }
    rows, comments = [], []
    for (r, s), sc in scores.items():
        for c, v in zip(CRITS, sc, strict=True):
            if v is not None:
                rows.append((s, r, c, v))
                comments.append(texts.get((r, s, c), ""))
    return _table(rows), comments


def test_counts_by_hand():
    table, comments = _hand_table()
    audit = feedback_audit(table, comments=comments, min_not_yet=1)
    rv = audit.reviewers.set_index("reviewer_id")
    # R1: not yet on S2 (blank: whitespace only), S3 (2 comments), S4 (none)
    assert rv.loc["R1", "n_reviews"] == 4
    assert rv.loc["R1", "n_not_yet"] == 3
    assert rv.loc["R1", "not_yet_with_feedback"] == 1
    assert rv.loc["R1", "not_yet_without_feedback"] == 2
    assert rv.loc["R1", "n_comments"] == 3
    assert rv.loc["R1", "mean_words"] == pytest.approx((5 + 6 + 6) / 3, abs=1e-12)
    # R2: S1 not yet with feedback; S2 undecided (its comment still counts as a comment)
    assert rv.loc["R2", "n_reviews"] == 1
    assert rv.loc["R2", "n_not_yet"] == 1
    assert rv.loc["R2", "not_yet_without_feedback"] == 0
    assert rv.loc["R2", "n_comments"] == 2
    assert rv.loc["R1", "flags"] == ["2 of 3 not-yet decisions have no feedback"]
    assert rv.loc["R2", "flags"] == []
    cr = audit.criteria.set_index("criterion_id")
    # 4 not-yet reviews, each scored every criterion
    assert cr["n_not_yet"].tolist() == [4, 4, 4]
    # with feedback per criterion: overview none (S2 blank), artifacts S3, reflection S3 + R2 S1
    assert cr["not_yet_with_feedback"].tolist() == [0, 1, 2]
    d = audit.to_dict()
    assert {"reviewer_id", "n_not_yet", "not_yet_without_feedback", "reused_share", "flags"} <= set(
        d["reviewers"][0]
    )


def test_not_yet_matches_decision_ratings():
    program = generate(RUBRIC, SynthSpec(n_submissions=60, n_reviewers=6, seed=4))
    table = program.ratings_table()
    audit = feedback_audit(table, comments=synth_comments(table, seed=4))
    dec = decision_ratings(table).frame
    expected = (dec["score"] == 0).groupby(dec["reviewer_id"], observed=True).sum()
    got = audit.reviewers.set_index("reviewer_id")["n_not_yet"]
    assert got.to_dict() == expected.reindex(got.index, fill_value=0).to_dict()


def test_tfidf_and_cosine_against_sklearn():
    """Reference: scikit-learn's TfidfVectorizer + cosine_similarity, computed directly."""
    rows = [
        ("S1", "R1", "overview", 2),
        ("S2", "R1", "overview", 2),
        ("S3", "R1", "overview", 2),
        ("S1", "R1", "artifacts", 3),
        ("S1", "R2", "overview", 2),
        ("S2", "R2", "overview", 2),
    ]
    for s in ("S1", "S2", "S3"):
        for c in ("artifacts", "reflection"):
            if (s, "R1", c) not in {(r[0], r[1], r[2]) for r in rows}:
                rows.append((s, "R1", c, 3))
    for s in ("S1", "S2"):
        for c in ("artifacts", "reflection"):
            rows.append((s, "R2", c, 3))
    texts = {
        0: "Plan names open questions but not how they deepen discussion.",
        1: "Plan names open questions but not how they deepen the discussion today.",
        2: "Students answered the teacher only; try peer responses.",
        3: "Plan names open questions but not how they deepen discussion.",  # same submission as 0
        4: "Context missing, questions are closed recall.",
        5: "Questions are closed recall and the context is missing.",
    }
    comments = [texts.get(i, "") for i in range(len(rows))]
    table = _table(rows)
    audit = feedback_audit(table, comments=comments, near_copy=0.85)
    docs = [texts[i] for i in sorted(texts)]
    vec = TfidfVectorizer(stop_words="english")
    x = vec.fit_transform(docs)
    cos = cosine_similarity(x)
    sub = [rows[i][0] for i in sorted(texts)]
    rev = [rows[i][1] for i in sorted(texts)]
    crit = [rows[i][2] for i in sorted(texts)]
    cx = vec.transform([criterion_text(RUBRIC.criterion(c)) for c in crit])
    term_cos = np.asarray(cosine_similarity(x, cx)).diagonal()
    com = audit.comments.sort_values("row").reset_index(drop=True)
    assert com["row"].tolist() == sorted(texts)
    np.testing.assert_allclose(com["term_similarity"], term_cos, rtol=0, atol=1e-12)
    names = np.asarray((x.multiply(cx != 0)).getnnz(axis=1) > 0).ravel()
    assert com["names_terms"].tolist() == names.tolist()
    for i in range(len(docs)):
        others = [j for j in range(len(docs)) if j != i and rev[j] == rev[i] and sub[j] != sub[i]]
        best = max((cos[i, j] for j in others), default=np.nan)
        if np.isnan(best):
            assert np.isnan(com.loc[i, "best_other_similarity"])
        else:
            assert com.loc[i, "best_other_similarity"] == pytest.approx(best, abs=1e-12)
        assert com.loc[i, "near_copy"] == (not np.isnan(best) and best >= 0.85)
    # 0 (S1) and 1 (S2) have cosine 0.852 > 0.85; 3 is 0's text on 0's own submission
    # (not reuse by itself) but close to 1 on S2; 4 and 5 differ in word order only.
    assert cos[0, 1] == pytest.approx(0.852, abs=1e-3)
    assert com["near_copy"].tolist() == [True, True, False, True, True, True]


def test_identical_text_on_same_submission_only_is_not_reuse():
    rows = [(s, "R1", c, 3) for s in ("S1", "S2") for c in CRITS]
    comments = ["Same words here."] * 3 + ["Different idea entirely, students justify."] + [""] * 2
    audit = feedback_audit(_table(rows), comments=comments, min_comments=1)
    com = audit.comments.sort_values("row")
    assert com["near_copy"].tolist() == [False, False, False, False]
    assert audit.reviewers.loc[0, "reused_share"] == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_planted_reviewers_flagged_and_no_other(seed):
    program = generate(RUBRIC, SynthSpec(n_submissions=150, n_reviewers=10, seed=seed))
    table = program.ratings_table()
    ids = list(table.codes.reviewer_ids)
    rng = np.random.default_rng(seed)
    paster, blanker = rng.choice(ids, size=2, replace=False)
    texts = synth_comments(table, paste=[paster], blank=[blanker], seed=seed)
    audit = feedback_audit(table, comments=texts)
    flagged = dict(zip(audit.flagged["reviewer_id"], audit.flagged["flags"], strict=True))
    assert set(flagged) == {paster, blanker}
    assert len(flagged[paster]) == 1 and "near-copies" in flagged[paster][0]
    assert len(flagged[blanker]) == 1 and "have no feedback" in flagged[blanker][0]
    rv = audit.reviewers.set_index("reviewer_id")
    assert rv.loc[paster, "reused_share"] == 1.0
    assert rv.loc[blanker, "not_yet_with_feedback"] == 0


def test_no_comments_at_all():
    program = generate(RUBRIC, SynthSpec(n_submissions=30, n_reviewers=4, seed=1))
    table = program.ratings_table()
    audit = feedback_audit(table)
    rv = audit.reviewers
    assert (rv["n_comments"] == 0).all()
    assert (rv["not_yet_without_feedback"] == rv["n_not_yet"]).all()
    assert rv["reused_share"].isna().all()
    assert len(audit.comments) == 0
    d = audit.to_dict()
    assert d["reviewers"][0]["reused_share"] is None
    # blank and whitespace-only are the same as none
    same = feedback_audit(table, comments=[" \t\n"] * len(table))
    pd.testing.assert_frame_equal(same.reviewers, audit.reviewers)


def test_one_reviewer_and_stop_words_only():
    rows = [(s, "R1", c, 1) for s in ("S1", "S2", "S3") for c in CRITS]
    audit = feedback_audit(_table(rows), comments=["the and of"] * len(rows), min_comments=1)
    rv = audit.reviewers.iloc[0]
    # no vocabulary: identical texts on other submissions are still copies
    assert rv["n_comments"] == 9 and rv["reused_share"] == 1.0
    assert rv["names_terms_share"] == 0.0


def test_non_english_text():
    rows = [(s, "R1", c, 2) for s in ("S1", "S2", "S3", "S4", "S5") for c in CRITS]
    words = [
        "Les questions ouvertes approfondissent la discussion en classe.",
        "Die Schüler begründen ihre Antworten gegenüber Mitschülern.",
        "学生は互いの考えに基づいて議論を深めた。",
        "Η αναστοχαστική έκθεση αναφέρει επόμενα βήματα.",
        "El plan anticipa respuestas de los estudiantes.",
    ]
    comments = [words[(i + i // 3) % 5] + f" {i}" for i in range(len(rows))]
    audit = feedback_audit(_table(rows), comments=comments, min_comments=1)
    x = TfidfVectorizer(stop_words="english").fit_transform(comments)
    cos = cosine_similarity(x)
    sub = np.repeat(np.arange(5), 3)
    com = audit.comments.sort_values("row").reset_index(drop=True)
    for i in range(len(rows)):
        best = cos[i, sub != sub[i]].max()
        assert com.loc[i, "best_other_similarity"] == pytest.approx(best, abs=1e-12)


def test_chunked_product_matches_dense(monkeypatch):
    import calibrate.feedback._audit as mod

    program = generate(RUBRIC, SynthSpec(n_submissions=80, n_reviewers=3, seed=2))
    table = program.ratings_table()
    texts = synth_comments(table, seed=2)
    whole = feedback_audit(table, comments=texts, near_copy=0.5)
    monkeypatch.setattr(mod, "_CHUNK", 7)
    chunked = feedback_audit(table, comments=texts, near_copy=0.5)
    pd.testing.assert_frame_equal(whole.comments, chunked.comments)
    assert whole.reviewers["n_reused"].sum() > 0


def test_bad_options():
    table, comments = _hand_table()
    with pytest.raises(ValueError, match="near_copy"):
        feedback_audit(table, comments=comments, near_copy=1.5)
    with pytest.raises(ValueError, match="one text per rating row"):
        feedback_audit(table, comments=comments[:-1])
    with pytest.raises(TypeError, match="comments"):
        feedback_audit(table, comments="one text")
    with pytest.raises(TypeError, match="ratings"):
        feedback_audit("ratings.csv")
    with pytest.raises(ValueError, match="stop_words"):
        feedback_audit(table, comments=comments, stop_words="french")


def test_synth_comments_planted_and_reproducible():
    program = generate(RUBRIC, SynthSpec(n_submissions=40, n_reviewers=5, seed=3))
    table = program.ratings_table()
    ids = list(table.codes.reviewer_ids)
    a = synth_comments(table, paste=[ids[0]], blank=[ids[1]], seed=3)
    b = synth_comments(table, paste=[ids[0]], blank=[ids[1]], seed=3)
    assert a.tolist() == b.tolist()
    rev = table.frame["reviewer_id"].astype(str).to_numpy()
    assert set(a[rev == ids[0]]) == {PASTED_COMMENT}
    with pytest.raises(ValueError, match="not in the ratings"):
        synth_comments(table, paste=["nobody"])
