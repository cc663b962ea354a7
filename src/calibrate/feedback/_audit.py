"""The feedback audit: feedback on "not yet" decisions, its length, rubric terms and reuse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from calibrate._checks import check_count, check_fraction, check_instance
from calibrate.feedback._read import comment_texts
from calibrate.ratings import RatingsTable
from calibrate.rubric import Criterion, Rubric

__all__ = ["FeedbackAudit", "criterion_text", "feedback_audit"]

_CHUNK = 2048  # rows of the similarity product computed at once (at most)
_CELLS = 8_000_000  # ... and at most this many similarities (64 MB) at once


def criterion_text(criterion: Criterion) -> str:
    """A criterion's own words: its name, description, level labels and descriptors."""
    parts = [criterion.name, criterion.description]
    for lv in criterion.levels:
        parts += [lv.label, lv.descriptor]
    return " ".join(p for p in parts if p)


@dataclass(frozen=True, eq=False)
class FeedbackAudit:
    """Result of :func:`feedback_audit`: ``reviewers``, ``criteria`` and ``comments`` frames."""

    reviewers: pd.DataFrame
    criteria: pd.DataFrame
    comments: pd.DataFrame = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> pd.DataFrame:
        """The reviewers with at least one flag."""
        return self.reviewers[self.reviewers["flags"].map(len) > 0]

    def to_dict(self) -> dict[str, Any]:
        """``{"reviewers": [...], "criteria": [...], "options": {...}}`` (JSON-ready)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for rec in frame.to_dict(orient="records"):
                out.append(
                    {
                        k: (list(v) if isinstance(v, list | tuple) else _plain(v))
                        for k, v in rec.items()
                    }
                )
            return out

        return {
            "reviewers": rows(self.reviewers),
            "criteria": rows(self.criteria),
            "options": dict(self.options),
        }


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, float) and np.isnan(v):
        return None
    return v


def _not_yet(table: RatingsTable, rubric: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """Per review (round, submission, reviewer): decided (complete) and not yet, under
    the rubric's pass rule, as :func:`calibrate.reliability.decision_ratings` applies it."""
    codes = table.codes
    position = np.array([rubric.criterion_ids.index(c) for c in codes.criterion_ids], dtype=int)
    scores = np.full((codes.n_reviews, len(rubric.criteria)), np.nan)
    if len(table):
        scores[codes.review, position[codes.criterion]] = codes.score.astype(np.float64)
    passed = rubric.decide(scores) if codes.n_reviews else np.zeros(0)
    complete = ~np.isnan(passed)
    return complete, complete & (passed == 0)


def _excluded_pairs(members: np.ndarray, one_sub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local index pairs (i, j), i != j, both orderings, of an owner's distinct texts that
    are each on one submission, the same one: not "another submission" for each other."""
    local = np.flatnonzero(one_sub[members] >= 0)
    if len(local) < 2:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    s = one_sub[members[local]]
    order = np.argsort(s, kind="stable")
    local, s = local[order], s[order]
    start = np.flatnonzero(np.diff(s, prepend=s[0] - 1))
    size = np.diff(start, append=len(s))
    pi, pj = [], []
    for k in np.unique(size[size > 1]):  # submissions with k texts: all k(k-1) ordered pairs
        g = local[start[size == k, None] + np.arange(k)]  # groups x k
        a, b = np.nonzero(~np.eye(k, dtype=bool))
        pi.append(g[:, a].ravel())
        pj.append(g[:, b].ravel())
    if not pi:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    return np.concatenate(pi), np.concatenate(pj)


def _best_dense(xd: np.ndarray, excl: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per row of ``xd`` (unit rows, dense), the highest dot product with another row,
    leaving out the pairs ``excl``: the upper triangle of the Gram matrix in square
    blocks of at most ``_CELLS`` entries (BLAS), each block's maxima taken both ways.

    (A float32 first pass with float64 recomputation of the near-maximal entries was
    measured: about 10% faster on the benchmark's comments, not worth its bookkeeping.)
    """
    m = len(xd)
    best = np.full(m, -np.inf)
    side = max(1, min(_CHUNK, int(np.sqrt(_CELLS))))
    ei, ej = excl
    for r0 in range(0, m, side):
        r1 = min(m, r0 + side)
        for c0 in range(r0, m, side):
            c1 = min(m, c0 + side)
            sim = xd[r0:r1] @ xd[c0:c1].T
            if c0 == r0:
                np.fill_diagonal(sim, -np.inf)
            hit = (ei >= r0) & (ei < r1) & (ej >= c0) & (ej < c1)
            sim[ei[hit] - r0, ej[hit] - c0] = -np.inf
            np.maximum(best[r0:r1], sim.max(axis=1), out=best[r0:r1])
            if c0 != r0:
                np.maximum(best[c0:c1], sim.max(axis=0), out=best[c0:c1])
    return best


def _best_sparse(xm: sp.csr_matrix, excl: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """As :func:`_best_dense` for sparse rows: the sparse product in row chunks of at most
    ``_CELLS`` similarities (when the rows share few terms, cheaper than BLAS)."""
    m = xm.shape[0]
    best = np.full(m, -np.inf)
    xt = xm.T.tocsc()
    step = max(1, min(_CHUNK, _CELLS // m))
    ei, ej = excl
    for r0 in range(0, m, step):
        r1 = min(m, r0 + step)
        sim = (xm[r0:r1] @ xt).toarray()  # chunk x m, dense
        sim[np.arange(r1 - r0), np.arange(r0, r1)] = -np.inf  # itself
        hit = (ei >= r0) & (ei < r1)
        sim[ei[hit] - r0, ej[hit]] = -np.inf
        best[r0:r1] = sim.max(axis=1, initial=-np.inf)
    return best


def _near_copies(
    x: sp.csr_matrix,
    texts: np.ndarray,
    sub: np.ndarray,
    owner: np.ndarray,
    threshold: float,
    *,
    dense: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per comment: whether the same owner has a comment on another submission with
    TF-IDF cosine >= ``threshold`` (identical texts always count), and the highest such
    cosine (NaN: none on another submission).

    Identical texts of one owner are merged first (a pasted comment costs one row). Per
    owner, the cosines of every pair of distinct texts are computed (the best one is
    reported, near-copy or not), never the whole n x n matrix at once: with BLAS on the
    dense rows restricted to the owner's terms, upper triangle only, when that costs less
    than the sparse product (``dense=None``: chosen per owner by a flop count; True/False
    forces one way, for tests).
    """
    n = len(texts)
    near = np.zeros(n, dtype=bool)
    best = np.full(n, np.nan)
    if n == 0:
        return near, best
    # distinct (owner, text)
    key = pd.MultiIndex.from_arrays([owner, texts])
    uid, _ = pd.factorize(key)
    n_u = int(uid.max()) + 1
    first = np.full(n_u, -1)
    first[uid[::-1]] = np.arange(n)[::-1]
    u_owner = owner[first]
    # submissions per distinct text: count of distinct, and the single one when only one
    pairs = pd.DataFrame({"u": uid, "s": sub}).drop_duplicates()
    n_sub = np.bincount(pairs["u"].to_numpy(), minlength=n_u)
    one_sub = np.full(n_u, -1)
    one_sub[pairs["u"].to_numpy()] = pairs["s"].to_numpy()
    one_sub[n_sub > 1] = -1
    xu = x[first]
    own_multi = n_sub > 1
    # best cosine, per distinct text, with a comment of the same owner on another submission
    # (another distinct text used on 2+ submissions, or on one that is not this text's)
    best_u = np.full(n_u, -np.inf)
    order = np.argsort(u_owner, kind="stable")
    bounds = np.flatnonzero(np.diff(u_owner[order], prepend=-1, append=-2))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        members = order[a:b]
        m = len(members)
        xm = xu[members]
        excl = _excluded_pairs(members, one_sub)
        cols = np.flatnonzero(xm.getnnz(axis=0))
        use_dense = dense
        if use_dense is None:
            # the sparse product does sum_t df_t^2 multiply-adds plus m^2 to read it off;
            # the dense way half of m^2 |cols| (one triangle), each ~16x cheaper (measured
            # on bench_feedback's comments: 4.6e9 sparse ones took 25 s, 8.0e10 dense 14 s,
            # i.e. ~25x; 16 leans towards the sparse way, which needs less memory)
            df = xm.getnnz(axis=0)[cols].astype(np.float64)
            use_dense = m * len(cols) <= _CELLS and m * m * len(cols) / 32 < df @ df + m * m
        if use_dense:
            best_u[members] = _best_dense(xm[:, cols].toarray(), excl)
        else:
            best_u[members] = _best_sparse(xm, excl)
    near_u = own_multi | (best_u >= threshold)
    best_u = np.where(own_multi, 1.0, best_u)
    near = near_u[uid]
    best = best_u[uid]
    best[~np.isfinite(best)] = np.nan  # no comment of the owner on another submission
    return near, best


def feedback_audit(
    ratings: RatingsTable,
    rubric: Rubric | None = None,
    *,
    comments: Sequence[str | None] | np.ndarray | pd.Series | None = None,
    near_copy: float = 0.9,
    blank_share: float = 0.5,
    reused_share: float = 0.5,
    min_not_yet: int = 5,
    min_comments: int = 5,
    stop_words: str | None = "english",
) -> FeedbackAudit:
    """Audit the feedback reviewers give: on "not yet" decisions, its length, whether it
    names the criterion's own terms, and how much of it is pasted.

    A *review* is one reviewer's scoring of one submission (in a round); the rubric's pass
    rule decides it (as :func:`calibrate.reliability.decision_ratings` does; a review with
    a criterion unscored is not decided). A review *carries feedback* when at least one
    of its comments is not blank (empty or whitespace-only text is no feedback).

    Parameters
    ----------
    ratings : RatingsTable
    rubric : Rubric, optional
        Whose pass rule and criterion terms to use (default: the table's).
    comments : sequence of str, optional
        The feedback text of each rating row (``ratings.frame`` order), e.g. the
        ``rationale`` column of the file (:func:`calibrate.feedback.read_feedback`);
        None or missing values are no feedback. None: no comments at all.
    near_copy : float
        A comment is a near-copy when the same reviewer wrote one on *another* submission
        whose TF-IDF vector has cosine >= ``near_copy`` with it (identical texts always).
    blank_share : float
        Flag a reviewer when at least this share of their not-yet decisions has no feedback
        (and they made at least ``min_not_yet`` of them).
    reused_share : float
        Flag a reviewer when at least this share of their comments are near-copies (and they
        wrote at least ``min_comments``).
    min_not_yet, min_comments : int
        Fewer decisions / comments than these are never flagged (too little to go on).
    stop_words : "english" or None
        Words TF-IDF leaves out (scikit-learn's English list; None keeps every word).

    Returns
    -------
    FeedbackAudit
        ``reviewers``: one row per reviewer with ``reviewer_id``, ``n_reviews``,
        ``n_not_yet``, ``not_yet_with_feedback``, ``not_yet_without_feedback``,
        ``n_comments``, ``mean_words``, ``names_terms_share`` (share of comments with at
        least one TF-IDF term of their criterion's own words, see :func:`criterion_text`),
        ``mean_term_similarity`` (mean cosine of a comment with its criterion's words),
        ``n_reused``, ``reused_share`` and ``flags`` (reasons in words).
        ``criteria``: the same counts per criterion (a not-yet decision lacks feedback on
        a criterion when that criterion's comment is blank). ``comments``: one row per
        non-blank comment.

    Notes
    -----
    TF-IDF is scikit-learn's ``TfidfVectorizer`` (smooth idf, l2 norm, its default
    tokens) fitted on the non-blank comments; criterion words are transformed with it. A
    flag is evidence for a conversation with the reviewer, not a verdict.

    References
    ----------
    .. [1] Salton, G. & Buckley, C. (1988). Term-weighting approaches in automatic text
       retrieval. Information Processing & Management 24(5), 513-523.
    .. [2] scikit-learn, ``sklearn.feature_extraction.text.TfidfVectorizer``.

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> from calibrate.synth import synth_comments
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=40, n_reviewers=6, seed=1))
    >>> table = program.ratings_table()
    >>> texts = synth_comments(table, paste=["R001"], blank=["R002"], seed=1)
    >>> audit = feedback_audit(table, comments=texts)
    >>> audit.flagged[["reviewer_id", "flags"]].to_dict(orient="records")  # doctest: +NORMALIZE_WHITESPACE
    [{'reviewer_id': 'R001', 'flags': ['100% of comments are near-copies of their comments on other submissions']},
     {'reviewer_id': 'R002', 'flags': ['15 of 15 not-yet decisions have no feedback']}]
    """
    check_instance("ratings", ratings, RatingsTable, "a calibrate.ratings.RatingsTable")
    if rubric is None:
        rubric = ratings.rubric
    check_instance("rubric", rubric, Rubric, "None or a calibrate.rubric.Rubric")
    missing = [c for c in ratings.codes.criterion_ids if c not in rubric.criterion_ids]
    if missing:
        raise ValueError(f"rubric {rubric.id!r} has no criteria {missing} of the ratings")
    near_copy = check_fraction("near_copy", near_copy)
    blank_share = check_fraction("blank_share", blank_share)
    reused_share = check_fraction("reused_share", reused_share)
    min_not_yet = check_count("min_not_yet", min_not_yet)
    min_comments = check_count("min_comments", min_comments)
    if stop_words not in ("english", None):
        raise ValueError(f"stop_words must be 'english' or None; got {stop_words!r}")
    texts = comment_texts(comments, len(ratings))
    codes = ratings.codes
    n_rev = codes.n_reviewers
    reviewer_ids = list(codes.reviewer_ids)
    crit_ids = list(codes.criterion_ids)
    n_crit = len(crit_ids)

    given = np.array([bool(t) for t in texts], dtype=bool)
    decided, not_yet = _not_yet(ratings, rubric)
    review = codes.review
    _, _, review_reviewer = codes.review_parts() if len(ratings) else (None, None, np.zeros(0, int))
    review_has = np.zeros(codes.n_reviews, dtype=bool)
    review_has[review[given]] = True

    # TF-IDF on the non-blank comments
    idx = np.flatnonzero(given)
    ctext = texts[idx]
    crit_of = codes.criterion[idx]
    words = np.array([len(t.split()) for t in ctext], dtype=np.int64)
    from sklearn.feature_extraction.text import TfidfVectorizer  # when used: pages import fast

    vec = TfidfVectorizer(stop_words=stop_words)
    try:
        x = vec.fit_transform(ctext).tocsr() if len(ctext) else None
    except ValueError:  # every comment is stop words or punctuation: no vocabulary
        x = None
    if x is None:
        x = sp.csr_matrix((len(ctext), 0))
        names_terms = np.zeros(len(ctext), dtype=bool)
        term_sim = np.zeros(len(ctext))
    else:
        cx = vec.transform([criterion_text(rubric.criterion(c)) for c in crit_ids]).tocsr()
        sims = x.multiply(cx[crit_of]).sum(axis=1).A1  # rows are unit vectors
        term_sim = np.asarray(sims, dtype=np.float64)
        names_terms = (x.multiply(cx[crit_of] != 0).getnnz(axis=1)) > 0
    rev_of = codes.reviewer[idx]
    near, best = _near_copies(x, ctext, codes.submission[idx], rev_of, near_copy)

    comments_frame = pd.DataFrame(
        {
            "row": idx,
            "reviewer_id": pd.Categorical.from_codes(rev_of, categories=codes.reviewer_ids)
            if len(idx)
            else pd.Categorical([], categories=codes.reviewer_ids),
            "submission_id": np.asarray(codes.submission_ids, dtype=object)[codes.submission[idx]],
            "criterion_id": np.asarray(crit_ids, dtype=object)[crit_of],
            "text": ctext,
            "words": words,
            "names_terms": names_terms,
            "term_similarity": term_sim,
            "best_other_similarity": best,
            "near_copy": near,
        }
    )

    def per(group: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=size)

    ny_rev = per(review_reviewer[not_yet], n_rev).astype(int)
    ny_fb = per(review_reviewer[not_yet & review_has], n_rev).astype(int)
    n_reviews = per(review_reviewer[decided], n_rev).astype(int)
    n_com = per(rev_of, n_rev).astype(int)
    n_near = per(rev_of[near], n_rev).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        reviewers = pd.DataFrame(
            {
                "reviewer_id": reviewer_ids,
                "n_reviews": n_reviews,
                "n_not_yet": ny_rev,
                "not_yet_with_feedback": ny_fb,
                "not_yet_without_feedback": ny_rev - ny_fb,
                "n_comments": n_com,
                "mean_words": per(rev_of, n_rev, words.astype(float)) / n_com,
                "names_terms_share": per(rev_of, n_rev, names_terms.astype(float)) / n_com,
                "mean_term_similarity": per(rev_of, n_rev, term_sim) / n_com,
                "n_reused": n_near,
                "reused_share": n_near / n_com,
            }
        )
        flags: list[list[str]] = []
        for r in reviewers.itertuples(index=False):
            f: list[str] = []
            blank = r.not_yet_without_feedback
            if r.n_not_yet >= max(min_not_yet, 1) and blank / r.n_not_yet >= blank_share:
                f.append(f"{blank} of {r.n_not_yet} not-yet decisions have no feedback")
            if r.n_comments >= max(min_comments, 1) and r.reused_share >= reused_share:
                f.append(
                    f"{r.reused_share:.0%} of comments are near-copies of their comments "
                    "on other submissions"
                )
            flags.append(f)
        reviewers["flags"] = flags

        # per criterion: a not-yet review's rows on that criterion
        row_ny = not_yet[review]
        crit = codes.criterion
        ny_c = per(crit[row_ny], n_crit).astype(int)
        ny_c_fb = per(crit[row_ny & given], n_crit).astype(int)
        c_com = per(crit_of, n_crit).astype(int)
        c_near = per(crit_of[near], n_crit).astype(int)
        criteria = pd.DataFrame(
            {
                "criterion_id": crit_ids,
                "n_ratings": per(crit, n_crit).astype(int),
                "n_not_yet": ny_c,
                "not_yet_with_feedback": ny_c_fb,
                "not_yet_without_feedback": ny_c - ny_c_fb,
                "n_comments": c_com,
                "mean_words": per(crit_of, n_crit, words.astype(float)) / c_com,
                "names_terms_share": per(crit_of, n_crit, names_terms.astype(float)) / c_com,
                "mean_term_similarity": per(crit_of, n_crit, term_sim) / c_com,
                "n_reused": c_near,
                "reused_share": c_near / c_com,
            }
        )
    options = {
        "near_copy": near_copy,
        "blank_share": blank_share,
        "reused_share": reused_share,
        "min_not_yet": min_not_yet,
        "min_comments": min_comments,
        "stop_words": stop_words,
    }
    return FeedbackAudit(reviewers, criteria, comments_frame, options)
