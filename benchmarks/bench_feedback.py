"""Issue 17: the feedback audit on 250,000 comments (target: under 30 s).

Data: a synthetic program (``calibrate.synth``) with 50 reviewers scoring about 40,000
live submissions on three criteria, a comment on every rating from
:func:`calibrate.synth.synth_comments` (one planted reviewer pastes one comment on all of
theirs, one leaves every "not yet" blank), written as a CSV with a ``rationale`` column.
Ours: ``read_feedback`` + ``feedback_audit``. Reference in the same run: the naive
computation, scikit-learn's ``TfidfVectorizer`` and a dense ``cosine_similarity`` matrix
per reviewer (near-copies on other submissions read off it), on the same comments.
"""

from __future__ import annotations

import time

from _harness import ROOT, WORK, measure, row

RUBRIC = str(ROOT / "rubrics" / "evidence-4level.yaml")
N_SUBMISSIONS = 40_000
N_REVIEWERS = 50


def comments_csv() -> str:
    path = WORK / f"feedback-{N_SUBMISSIONS}-{N_REVIEWERS}.csv"
    if path.is_file():
        return str(path)
    from calibrate.rubric import load_rubric
    from calibrate.synth import SynthSpec, generate, synth_comments

    program = generate(
        load_rubric(RUBRIC),
        SynthSpec(
            n_submissions=N_SUBMISSIONS, n_reviewers=N_REVIEWERS, n_rounds=0, n_anchors=0, seed=17
        ),
    )
    table = program.ratings_table()
    ids = list(table.codes.reviewer_ids)
    frame = program.ratings.copy()
    frame["rationale"] = synth_comments(
        table, paste=[ids[0]], blank=[ids[1]], comment_rate=1.0, seed=17
    )
    WORK.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return str(path)


def calibrate_feedback(csv: str) -> dict:
    from calibrate.feedback import feedback_audit, read_feedback
    from calibrate.rubric import load_rubric

    table, comments = read_feedback(csv, load_rubric(RUBRIC))
    t = time.perf_counter()
    audit = feedback_audit(table, comments=comments)
    return {
        "n_comments": int((comments != "").sum()),
        "audit_seconds": time.perf_counter() - t,
        "flagged": audit.flagged["reviewer_id"].tolist(),
        "n_reused": int(audit.reviewers["n_reused"].sum()),
    }


def sklearn_dense(csv: str) -> dict:
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    frame = frame[frame["rationale"].str.strip() != ""]
    x = TfidfVectorizer(stop_words="english").fit_transform(frame["rationale"].str.strip())
    n_reused = 0
    for _, idx in frame.groupby("reviewer_id").indices.items():
        sim = cosine_similarity(x[idx])  # dense n x n
        sub = frame["submission_id"].to_numpy()[idx]
        other = sub[:, None] != sub[None, :]
        n_reused += int(((sim >= 0.9) & other).any(axis=1).sum())
    return {"n_comments": len(frame), "n_reused": n_reused}


def run() -> list[dict]:
    csv = comments_csv()
    ours = measure("bench_feedback:calibrate_feedback", csv)
    ref = measure("bench_feedback:sklearn_dense", csv)
    info = ours.info
    print(
        f"  calibrate feedback_audit alone: {info['audit_seconds']:.2f} s on {info['n_comments']:,} comments; "
        f"flagged {info['flagged']}; near-copies {info['n_reused']:,} (dense reference: {ref.info['n_reused']:,})"
    )
    return [
        row(
            "feedback",
            f"read + feedback audit, {info['n_comments']:,} comments",
            ours,
            reference=ref,
            target="< 30 s",
            ok=ours.seconds < 30 and info["n_reused"] == ref.info["n_reused"],
        )
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
