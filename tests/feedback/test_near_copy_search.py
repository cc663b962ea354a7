"""The near-copy search (BLAS triangle blocks or sparse chunks) against a brute-force dense
reference: scikit-learn's TfidfVectorizer + the full cosine_similarity matrix, every pair of
a reviewer's comments on different submissions looked at one by one. Same ``near_copy``
flags exactly, same best cosines to 1e-12, on random comment sets with planted copies."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

import calibrate.feedback._audit as audit_mod
from calibrate.feedback import feedback_audit
from calibrate.ratings import RatingsTable, canonical_frame
from calibrate.rubric import load_rubric

RUBRIC = load_rubric("rubrics/evidence-4level.yaml")
CRITS = ("overview", "artifacts", "reflection")
THRESHOLD = 0.8


def _random_program(seed: int, n_words: int) -> tuple[RatingsTable, list[str]]:
    """4 reviewers x 30 submissions x 3 criteria, random words from ``n_words``; planted:
    exact copies and one-word edits on other submissions, the same text on two criteria of
    one submission, blanks, stop-words-only texts and texts differing only in stop words."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i:04d}" for i in range(n_words)]
    rows, texts = [], []
    for r in range(4):
        written: list[str] = []
        for s in range(30):
            for c in CRITS:
                rows.append((f"S{s:03d}", f"R{r:03d}", c, int(rng.integers(1, 5))))
                u = rng.random()
                if written and u < 0.15:
                    t = written[rng.integers(len(written))]  # pasted
                elif written and u < 0.3:
                    words = written[rng.integers(len(written))].split()
                    words[rng.integers(len(words))] = vocab[rng.integers(n_words)]
                    t = " ".join(words)  # one word changed
                elif written and u < 0.35:
                    t = "the " + written[-1] + " and"  # only stop words added
                elif u < 0.42:
                    t = ""
                elif u < 0.45:
                    t = "the and of"  # no vocabulary word: a zero vector
                else:
                    t = " ".join(rng.choice(vocab, size=int(rng.integers(3, 12))))
                texts.append(t)
                if t:
                    written.append(t)
        # the same text on two criteria of one submission (not reuse by itself)
        texts[-2] = texts[-1] = f"only here w{r:04d} w{r + 1:04d}"
    frame = canonical_frame(*zip(*rows, strict=True), RUBRIC)
    return RatingsTable(frame, RUBRIC), texts


def _reference(table: RatingsTable, texts: list[str]) -> tuple[list[bool], list[float]]:
    rows = [i for i, t in enumerate(texts) if t.strip()]
    docs = [texts[i].strip() for i in rows]
    cos = cosine_similarity(TfidfVectorizer(stop_words="english").fit_transform(docs))
    frame = table.frame
    rev = frame["reviewer_id"].astype(str).to_numpy()[rows]
    sub = frame["submission_id"].astype(str).to_numpy()[rows]
    near, best = [], []
    for a in range(len(rows)):
        b_best, b_near = -np.inf, False
        for b in range(len(rows)):
            if b == a or rev[b] != rev[a] or sub[b] == sub[a]:
                continue
            value = 1.0 if docs[b] == docs[a] else cos[a, b]
            b_best = max(b_best, value)
            b_near |= docs[b] == docs[a] or cos[a, b] >= THRESHOLD
        near.append(b_near)
        best.append(b_best if np.isfinite(b_best) else np.nan)
    return near, best


@pytest.mark.parametrize("n_words", [12, 400])  # few words: BLAS triangle; many: sparse
@pytest.mark.parametrize("seed", range(4))
def test_same_flags_and_best_cosines_as_brute_force(seed, n_words, monkeypatch):
    table, texts = _random_program(seed, n_words)
    near, best = _reference(table, texts)
    assert 5 < sum(near) < len(near) - 5  # planted copies found, not everything
    results = [feedback_audit(table, comments=texts, near_copy=THRESHOLD).comments]
    # small blocks: many square / row blocks per reviewer, exclusions across blocks
    monkeypatch.setattr(audit_mod, "_CELLS", 50)
    monkeypatch.setattr(audit_mod, "_CHUNK", 7)
    results.append(feedback_audit(table, comments=texts, near_copy=THRESHOLD).comments)
    for dense in (True, False):  # each way forced
        original = audit_mod._near_copies

        def forced(*args, dense=dense, original=original, **kwargs):
            return original(*args, dense=dense)

        monkeypatch.setattr(audit_mod, "_near_copies", forced)
        results.append(feedback_audit(table, comments=texts, near_copy=THRESHOLD).comments)
        monkeypatch.setattr(audit_mod, "_near_copies", original)
    for com in results:
        com = com.sort_values("row")
        assert com["near_copy"].tolist() == near
        np.testing.assert_allclose(com["best_other_similarity"], best, rtol=0, atol=1e-12)


def test_the_flop_count_picks_each_way(monkeypatch):
    """Few shared terms (400 words): sparse; 12 words: the dense triangle."""
    picked: list[str] = []
    monkeypatch.setattr(
        audit_mod,
        "_best_dense",
        lambda x, e, f=audit_mod._best_dense: picked.append("d") or f(x, e),
    )
    monkeypatch.setattr(
        audit_mod,
        "_best_sparse",
        lambda x, e, f=audit_mod._best_sparse: picked.append("s") or f(x, e),
    )
    for n_words, way in ((12, "d"), (400, "s")):
        picked.clear()
        table, texts = _random_program(0, n_words)
        feedback_audit(table, comments=texts)
        assert set(picked) == {way}
