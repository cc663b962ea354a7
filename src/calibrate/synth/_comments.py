"""Synthetic reviewer comments drawn from the rubric's descriptors, with planted behaviours."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from calibrate._checks import as_rng, check_fraction, check_instance
from calibrate.ratings import RatingsTable
from calibrate.rubric import Rubric

__all__ = ["PASTED_COMMENT", "synth_comments"]

#: The one comment a planted "paster" writes on every rating.
PASTED_COMMENT = "Good effort overall. Please review the rubric and resubmit with more evidence."

_OPENERS = (
    "In this submission",
    "Looking at the evidence",
    "From what you sent",
    "Reading your work",
    "Here",
    "On this part",
    "Overall",
    "I noticed that",
    "Your evidence shows that",
    "As submitted",
)
_EVIDENCE = (
    "the second transcript excerpt",
    "the lesson plan's opening task",
    "your notes on the small-group work",
    "the video at minute four",
    "the student work samples",
    "the exit tickets",
    "your reflection on Tuesday's lesson",
    "the seating chart and plan",
    "the follow-up lesson",
    "the discussion record",
    "the annotated student responses",
    "the planning template",
    "the whole-class segment",
    "the questions you list for day two",
)
_LINKS = ("see", "for example", "as in", "notably", "look at", "compare")
_NEXT = (
    "Next time, try",
    "To move up, aim for this:",
    "A next step:",
    "Consider this change:",
    "For the resubmission,",
    "One thing to build on:",
)


def _words(text: str, rng: np.random.Generator, keep: float) -> str:
    words = text.rstrip(".").split()
    if len(words) <= 3:
        return " ".join(words)
    mask = rng.random(len(words)) < keep
    mask[0] = True
    return " ".join(w for w, m in zip(words, mask, strict=True) if m)


def _comment(rubric: Rubric, cid: str, score: int, rng: np.random.Generator) -> str:
    crit = rubric.criterion(cid)
    level = crit.level(score)
    text = level.descriptor or f"{crit.name} is at {level.label.lower()}"
    parts = [
        f"{_OPENERS[rng.integers(len(_OPENERS))]}, {_words(text, rng, 0.75).lower()}",
        f"({_LINKS[rng.integers(len(_LINKS))]} {_EVIDENCE[rng.integers(len(_EVIDENCE))]}).",
    ]
    higher = [lv for lv in crit.levels if lv.score > score]
    if higher and rng.random() < 0.8:
        nxt = higher[0].descriptor or f"{crit.name} at {higher[0].label.lower()}"
        parts.append(f"{_NEXT[rng.integers(len(_NEXT))]} {_words(nxt, rng, 0.7).lower()}.")
    if rng.random() < 0.5:
        parts.append(
            f"Also {_EVIDENCE[rng.integers(len(_EVIDENCE))]} and "
            f"{_EVIDENCE[rng.integers(len(_EVIDENCE))]}."
        )
    return " ".join(parts)


def synth_comments(
    ratings: RatingsTable,
    *,
    rubric: Rubric | None = None,
    paste: Iterable[str] = (),
    blank: Iterable[str] = (),
    comment_rate: float = 0.85,
    seed: Any = 0,
) -> np.ndarray:
    """A feedback comment per rating row, drawn from the rubric's level descriptors.

    Each comment puts the scored level's descriptor (with words dropped at random) after a
    varied opening, cites a piece of evidence, and, below the top level, usually names the
    next level's descriptor as a next step. Planted behaviours:

    * reviewers in ``paste`` write :data:`PASTED_COMMENT` on every rating;
    * reviewers in ``blank`` write nothing on any review the pass rule decides "not yet"
      (and comment as usual on passes).

    Other reviewers comment on each rating with probability ``comment_rate``.

    Parameters
    ----------
    ratings : RatingsTable
    rubric : Rubric, optional
        Default: the table's.
    paste, blank : iterable of reviewer ids
    comment_rate : float
        Chance that an ordinary reviewer comments on a rating.
    seed : anything numpy.random.default_rng takes

    Returns
    -------
    numpy.ndarray of str, one per row of ``ratings.frame`` ("" for no comment).

    References
    ----------
    .. [1] Brookhart, S. M. (2017). How to Give Effective Feedback to Your Students (2nd
       ed.). ASCD: feedback names the criterion and a next step.
    """
    check_instance("ratings", ratings, RatingsTable, "a calibrate.ratings.RatingsTable")
    rubric = ratings.rubric if rubric is None else rubric
    check_instance("rubric", rubric, Rubric, "None or a calibrate.rubric.Rubric")
    comment_rate = check_fraction("comment_rate", comment_rate)
    rng = as_rng(seed, "seed")
    paste_set, blank_set = set(paste), set(blank)
    known = set(ratings.codes.reviewer_ids)
    unknown = sorted((paste_set | blank_set) - known)
    if unknown:
        raise ValueError(f"paste / blank name reviewers not in the ratings: {unknown}")
    codes = ratings.codes
    n = len(ratings)
    # the pass rule per review, as the feedback audit applies it
    position = np.array([rubric.criterion_ids.index(c) for c in codes.criterion_ids], dtype=int)
    scores = np.full((codes.n_reviews, len(rubric.criteria)), np.nan)
    if n:
        scores[codes.review, position[codes.criterion]] = codes.score.astype(np.float64)
    not_yet = (rubric.decide(scores) == 0) if codes.n_reviews else np.zeros(0, bool)
    rev_ids = np.asarray(codes.reviewer_ids, dtype=object)[codes.reviewer]
    crit_ids = np.asarray(codes.criterion_ids, dtype=object)[codes.criterion]
    draws = rng.random(n)
    out = np.full(n, "", dtype=object)
    for i in range(n):
        rid = rev_ids[i]
        if rid in paste_set:
            out[i] = PASTED_COMMENT
        elif rid in blank_set and not_yet[codes.review[i]]:
            continue
        elif draws[i] < comment_rate:
            out[i] = _comment(rubric, crit_ids[i], int(codes.score[i]), rng)
    return out
