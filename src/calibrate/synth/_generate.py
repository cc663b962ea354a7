"""Generating a synthetic review program with known truth, vectorised over scorings.

The model, in level steps (score points on a scale of consecutive scores):

- a submission's latent value on criterion ``c`` is ``location + ability - difficulty[c] +
  e[c]`` with ``ability ~ N(0, 1)`` and ``e[c] ~ N(0, criterion_noise_sd)``; thresholds one
  latent unit apart cut it into the criterion's levels (its *true level*). ``location`` is
  set so that the pass rule passes ``true_pass_rate`` of live submissions;
- a reviewer ``r`` scoring it at time ``t`` gives ``clip(rint(mid + (1 - ct_r) * (x - mid)))``
  with ``x = true level - severity_r(t) + halo + noise``: ``severity_r(t)`` moves by
  ``drift_size`` from the drift onset on for drifting reviewers, ``halo ~ N(0, halo_r)`` is
  shared by every criterion of that scoring, ``noise ~ N(0, noise_r)`` is per criterion,
  ``ct_r`` shrinks toward the middle level ``mid`` and the result is clipped to the levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibrate.ratings import KINDS, AnswerKey, RatingsTable, canonical_frame
from calibrate.rubric import Rubric, load_rubric
from calibrate.synth._reviewers import ReviewerModel
from calibrate.synth._spec import SynthSpec

__all__ = ["SyntheticProgram", "generate"]

# Reviews happen on the first five days of each week from the start date, 08:00-18:00 UTC.
# Times are drawn as minutes on this working-time axis, then mapped onto the calendar.
_DAY_MINUTES = 600
_WEEK_MINUTES = 5 * _DAY_MINUTES
_DAY_START = 8 * 60
_ROUND_MINUTES = 2 * _DAY_MINUTES  # a calibration round takes the first two days of its week
_MAX_DELAY = 3 * _DAY_MINUTES  # a review follows the submission (or the first two) within 3 days
_CALIBRATION_DRAWS = 20_000  # Monte Carlo submissions used to place the latent scale
# Anchors are chosen to cover the levels: their abilities spread evenly over +-2.5 around a
# centre halfway between the live submissions' (0) and the middle of the latent scale.
_ANCHOR_SPAN = 2.5
_WORKLOAD_SHAPE = 4.0  # reviewers' shares of the live queue ~ Gamma(4): CV 0.5

_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True, eq=False)
class SyntheticProgram:
    """A generated review program and its truth.

    Attributes
    ----------
    name, description : str
        What the program is called and is meant to show.
    rubric : Rubric
        The rubric it was generated for.
    spec : SynthSpec
        The settings it was generated with.
    ratings : DataFrame
        The canonical ratings frame (see :class:`calibrate.ratings.RatingsTable`), one row
        per (submission, reviewer, criterion) score, in time order.
    key : DataFrame
        ``submission_id, criterion_id, key_score, rationale`` for every anchor
        (calibration and seeded).
    truth : dict
        True levels, reviewer parameters, the latent scale and the settings (JSON values).
    manifest : dict
        Name, rubric, generator settings, version and counts (JSON values).
    rubric_path : str or None
        How the manifest names the rubric file; None when the program carries its own copy
        (:func:`write_program` then writes ``rubric.yaml`` next to the ratings).
    attributes : DataFrame or None
        With ``spec.n_groups``: ``submission_id, group`` for every live submission
        (written as a ``group`` column of ``ratings.csv``); else None.
    """

    name: str
    description: str
    rubric: Rubric = field(repr=False)
    spec: SynthSpec = field(repr=False)
    ratings: pd.DataFrame = field(repr=False)
    key: pd.DataFrame = field(repr=False)
    truth: dict[str, Any] = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    rubric_path: str | None = None
    attributes: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        c = self.manifest["counts"]
        return (
            f"SyntheticProgram({self.name!r}, rubric={self.rubric.id!r}, {c['ratings']} ratings, "
            f"{c['submissions']} submissions, {c['reviewers']} reviewers, {c['anchors']} anchors, "
            f"{c['rounds']} rounds, seed={self.spec.seed})"
        )

    def ratings_table(self) -> RatingsTable:
        """The ratings as a :class:`~calibrate.ratings.RatingsTable` (no files needed)."""
        return RatingsTable(self.ratings, self.rubric, source=f"synthetic:{self.name}")

    def answer_key(self) -> AnswerKey:
        """The key as an :class:`~calibrate.ratings.AnswerKey`."""
        return AnswerKey(self.key, self.rubric, source=f"synthetic:{self.name}")


def generate(
    rubric: Rubric | str | Path,
    spec: SynthSpec | None = None,
    *,
    name: str = "synthetic",
    description: str = "",
    rubric_path: str | None = None,
) -> SyntheticProgram:
    """Generate a review program with known truth for ``rubric``.

    Parameters
    ----------
    rubric : Rubric, or path of a rubric YAML file
        Criteria, levels, pass rule and review policy of the program. A path is loaded and
        named in the manifest as given (unless ``rubric_path`` says otherwise).
    spec : SynthSpec, optional
        Sizes, reviewer behaviour, drift and seed (default ``SynthSpec()``).
    name, description : str
        Recorded in the manifest.
    rubric_path : str, optional
        How the manifest names the rubric file, relative to the repository root (e.g.
        ``"rubrics/evidence-4level.yaml"``).

    Returns
    -------
    SyntheticProgram

    Raises
    ------
    ValueError
        When the spec does not fit the rubric (too few reviewers for its review policy).
    TypeError
        When ``rubric`` or ``spec`` is of the wrong type.

    Notes
    -----
    The program holds:

    - calibration rounds ``R1``, ``R2``, ... (``kind="anchor"``): in round ``k`` every
      reviewer scores that round's ``n_anchors`` anchors, on the first two days of week
      ``floor((k - 1) * window_weeks / n_rounds)``;
    - live submissions (``kind="live"``), each scored by ``review_policy.reviewers``
      distinct reviewers, drawn with unequal workloads, within three working days of the
      submission's arrival; with two reviewers, a third reviews after both when any set
      trigger of ``review_policy.third_review`` fires on their scores: the pass decisions
      differ (``decision_differs``), the totals differ by at least ``total_differs_by``,
      a criterion differs by at least ``criterion_differs_by``, or either total lies
      within ``total_within`` of ``pass_rule.min_total``;
    - seeded anchors (``kind="seeded"``) at random times in the window, about
      ``seeded_rate`` per live review, each at most once per reviewer.

    Everything is drawn from one ``np.random.default_rng(spec.seed)`` in a fixed order, so
    the same rubric and spec give the same program. The key of an anchor is its true level.
    With ``spec.live_seed`` set, the structure (difficulties, location, anchors and their
    truth, reviewers and their workload shares, calibration rounds and their scores) comes
    from ``default_rng(spec.seed)`` alone and the live part (live submissions, their
    reviews, seeded-anchor scorings) from ``default_rng([spec.seed, spec.live_seed])``: a
    fresh draw of the same program.

    Examples
    --------
    >>> from calibrate.synth import SynthSpec, generate
    >>> program = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=50, n_reviewers=6, seed=1))
    >>> program.manifest["counts"]["submissions"], program.manifest["counts"]["rounds"]
    (50, 2)
    >>> program.ratings.columns.tolist()
    ['submission_id', 'reviewer_id', 'criterion_id', 'score', 'rated_at', 'round_id', 'kind']
    >>> program.ratings_table().select(kind="anchor").n_reviewers
    6

    Two live seeds: the same reviewers and anchors, other submissions.

    >>> a = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=50, n_reviewers=6, seed=1, live_seed=1))
    >>> b = generate("rubrics/evidence-4level.yaml", SynthSpec(n_submissions=80, n_reviewers=6, seed=1, live_seed=2))
    >>> a.truth["reviewers"] == b.truth["reviewers"], a.key.equals(b.key)
    (True, True)
    >>> def calibration(p):
    ...     return p.ratings[p.ratings["kind"] == "anchor"].astype(str).reset_index(drop=True)
    >>> calibration(a).equals(calibration(b))
    True
    """
    if isinstance(rubric, str | Path):
        if rubric_path is None:
            rubric_path = Path(rubric).as_posix()
        rubric = load_rubric(rubric)
    elif not isinstance(rubric, Rubric):
        raise TypeError(
            f"rubric must be a Rubric or the path of a rubric YAML file; got {type(rubric).__name__}"
        )
    if spec is None:
        spec = SynthSpec()
    elif not isinstance(spec, SynthSpec):
        raise TypeError(f"spec must be a SynthSpec; got {type(spec).__name__}")
    policy = rubric.review_policy
    first = policy.reviewers
    has_third = first == 2 and policy.third_review.any
    needed = first + int(has_third)
    if spec.n_reviewers < needed:
        why = f"{first} per submission" + (
            " plus a third when the reviews disagree" if has_third else ""
        )
        raise ValueError(
            f"n_reviewers must be at least {needed} for rubric {rubric.id!r} ({why}); got {spec.n_reviewers}"
        )
    return _Generator(rubric, spec).run(name=name, description=description, rubric_path=rubric_path)


class _Generator:
    """One generation run: the rubric's level tables, the RNG and the drawn truth."""

    def __init__(self, rubric: Rubric, spec: SynthSpec):
        self.rubric, self.spec = rubric, spec
        self.rng = np.random.default_rng(spec.seed)
        # The live part's generator: the same one unless a fresh draw is asked for (then
        # the structure never depends on how many live submissions there are).
        self.live_rng = (
            self.rng
            if spec.live_seed is None
            else np.random.default_rng([spec.seed, spec.live_seed])
        )
        crits = rubric.criteria
        self.n_crit = len(crits)
        self.n_levels = np.array([len(c.levels) for c in crits], dtype=np.int64)
        kmax = int(self.n_levels.max())
        # level index -> level score, padded with the top score (never indexed there)
        self.score_of = np.array(
            [[c.scores[min(k, len(c.scores) - 1)] for k in range(kmax)] for c in crits],
            dtype=np.int64,
        )
        # latent thresholds one unit apart, centred on 0; +inf pads criteria with fewer levels
        self.thresholds = np.full((self.n_crit, kmax - 1), np.inf)
        for i, k in enumerate(self.n_levels):
            self.thresholds[i, : k - 1] = np.arange(1, k) - k / 2
        self.mid = (self.n_levels - 1) / 2
        self.top = self.n_levels - 1
        self.window = spec.window_weeks * _WEEK_MINUTES

    # ---- truth -----------------------------------------------------------------
    def _levels(self, latent: np.ndarray) -> np.ndarray:
        # thresholds sit at k - K/2 (k = 1..K-1): counting those passed is a floor
        return np.clip(np.floor(latent + self.n_levels / 2), 0, self.top).astype(np.int64)

    def _scores(self, levels: np.ndarray) -> np.ndarray:
        return self.score_of[np.arange(self.n_crit), levels]

    def _location(self, difficulty: np.ndarray) -> float:
        """Shift of the latent scale at which the pass rule passes ``true_pass_rate``."""
        rng, s = self.rng, self.spec
        base = (
            rng.standard_normal(_CALIBRATION_DRAWS)[:, None]
            - difficulty
            + s.criterion_noise_sd * rng.standard_normal((_CALIBRATION_DRAWS, self.n_crit))
        )
        lo, hi = -10.0, 10.0
        for _ in range(32):  # the pass rate only grows with the shift: bisect
            mid = (lo + hi) / 2
            rate = float(np.mean(self.rubric.decide(self._scores(self._levels(base + mid)))))
            lo, hi = (mid, hi) if rate < s.true_pass_rate else (lo, mid)
        return hi

    def _true_levels(
        self,
        ability: np.ndarray,
        location: float,
        difficulty: np.ndarray,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        rng = self.rng if rng is None else rng
        eps = self.spec.criterion_noise_sd * rng.standard_normal((len(ability), self.n_crit))
        return self._levels(location + ability[:, None] - difficulty + eps)

    def _anchor_abilities(self, n: int, location: float) -> np.ndarray:
        """``n`` anchor abilities, one in each of ``n`` equal slices of the anchor span
        (stratified, so even a handful covers the levels), in random order."""
        if n == 0:
            return np.zeros(0)
        u = (self.rng.permutation(n) + self.rng.random(n)) / n
        return -location / 2 - _ANCHOR_SPAN + 2 * _ANCHOR_SPAN * u

    # ---- reviewers -----------------------------------------------------------------
    def _draw_reviewers(
        self, share: np.ndarray, n: int, k: int, exclude: np.ndarray | None = None
    ) -> np.ndarray:
        """``(n, k)`` reviewers drawn by workload share, distinct within a row and from
        ``exclude``'s row (redrawing clashes only)."""
        rng, n_rev = self.live_rng, self.spec.n_reviewers
        out = np.empty((n, k), dtype=np.int64)
        taken = np.empty((n, 0), dtype=np.int64) if exclude is None else exclude
        for j in range(k):
            col = rng.choice(n_rev, size=n, p=share)
            clash = (col[:, None] == taken).any(axis=1)
            while clash.any():
                idx = np.flatnonzero(clash)
                col[idx] = rng.choice(n_rev, size=len(idx), p=share)
                clash[idx] = (col[idx, None] == taken[idx]).any(axis=1)
            out[:, j] = col
            taken = np.column_stack([taken, col])
        return out

    def _score(
        self,
        true: np.ndarray,
        rev: np.ndarray,
        t: np.ndarray,
        rng: np.random.Generator | None = None,
        sub: np.ndarray | None = None,
    ) -> np.ndarray:
        """Level indices given by reviewers ``rev`` at working minutes ``t`` to submissions
        ``sub`` whose true level indices are ``true`` (shape (m, n_criteria)); a planted
        reviewer x group bias applies when ``sub`` is given and groups are set."""
        extra = None
        if sub is not None and self.spec.n_group_biased > 0:
            hit = self.group_biased[rev] & (self.group_of[sub] == 0)
            extra = np.where(hit, self.spec.group_bias, 0.0)
        return self.model.score(
            true, rev, self.n_levels, self.live_rng if rng is None else rng, t, extra
        )

    def _draw_groups(self, n_anchor: int) -> None:
        """Group of every submission (-1 for anchors) and the group-biased reviewers, from
        a generator of their own (the rest of the program does not change)."""
        s = self.spec
        self.group_of = np.full(n_anchor + s.n_submissions, -1, dtype=np.int64)
        self.group_biased = np.zeros(s.n_reviewers, dtype=bool)
        if s.n_groups == 0:
            return
        grng = np.random.default_rng([s.seed, 17_017])
        self.group_of[n_anchor:] = grng.integers(0, s.n_groups, size=s.n_submissions)
        self.group_biased[np.sort(grng.permutation(s.n_reviewers)[: s.n_group_biased])] = True

    # ---- time ------------------------------------------------------------------
    def _calendar(self, minutes: np.ndarray) -> np.ndarray:
        """Working minutes since the window opened -> datetime64[m] on the calendar."""
        minutes = np.asarray(minutes, dtype=np.int64)
        week, rest = np.divmod(minutes, _WEEK_MINUTES)
        day, minute = np.divmod(rest, _DAY_MINUTES)
        offset = (week * 7 + day) * 1440 + _DAY_START + minute
        return np.datetime64(self.spec.start_date, "m") + offset.astype("timedelta64[m]")

    def _iso(self, minutes: int) -> str:
        return str(self._calendar(np.array([minutes]))[0].astype("datetime64[s]")) + "Z"

    # ---- the run -----------------------------------------------------------------
    def run(self, *, name: str, description: str, rubric_path: str | None) -> SyntheticProgram:
        rng, s, rubric = self.rng, self.spec, self.rubric
        n_cal, n_seed = s.n_rounds * s.n_anchors, s.n_seeded_anchors
        n_anchor = n_cal + n_seed

        # Truth of submissions: anchors first (they sort first: "A..." < "S..."), then live.
        difficulty = s.difficulty_sd * rng.standard_normal(self.n_crit)
        location = self._location(difficulty)
        cal_ability = [self._anchor_abilities(s.n_anchors, location) for _ in range(s.n_rounds)]
        seed_ability = self._anchor_abilities(n_seed, location)
        if s.live_seed is None:
            ability = np.concatenate(
                [*cal_ability, seed_ability, rng.standard_normal(s.n_submissions)]
            )
            true = self._true_levels(ability, location, difficulty)
        else:  # anchors from the structure's generator, live submissions from the live one
            anchor_true = self._true_levels(
                np.concatenate([*cal_ability, seed_ability]), location, difficulty
            )
            live_ability = self.live_rng.standard_normal(s.n_submissions)
            true = np.concatenate(
                [anchor_true, self._true_levels(live_ability, location, difficulty, self.live_rng)]
            )
        share, drifting, onset = self._draw_reviewer_parameters()
        self._draw_groups(n_anchor)

        # Who scores what and when; the first live reviews are scored at once, because the
        # third-review trigger reads them. The rest are scored afterwards, in list order
        # (a fresh draw scores the calibration rounds at once, from the structure's generator).
        parts = self._calibration_rounds()
        if s.live_seed is not None:
            for p in parts:
                p["levels"] = self._score(true[p["sub"]], p["rev"], p["t"], rng, p["sub"])
        live, n_third = self._live_reviews(true[n_anchor:], n_anchor, share)
        parts += live
        if n_seed and s.seeded_rate > 0:
            load = np.bincount(np.concatenate([p["rev"] for p in live]), minlength=s.n_reviewers)
            parts.append(self._seeded(load, n_cal, n_seed))
        for p in parts:
            if "levels" not in p:
                p["levels"] = self._score(true[p["sub"]], p["rev"], p["t"], None, p["sub"])
        scorings = {k: np.concatenate([p[k] for p in parts]) for k in _PART_KEYS}

        ids = _ids("A", n_anchor, 3) + _ids("S", s.n_submissions, 5)
        reviewer_ids = _ids("R", s.n_reviewers, 3)
        round_ids = [f"R{k + 1}" for k in range(s.n_rounds)]
        ratings = self._ratings_frame(scorings, ids, reviewer_ids, round_ids)
        key = self._key_frame(true[:n_anchor], ids[:n_anchor])

        true_scores = self._scores(true)
        from calibrate import __version__

        parameters = s.to_dict()
        reviewers = {
            rid: {
                "severity": _num(self.reviewers["severity"][i]),
                "noise_sd": _num(self.reviewers["noise"][i]),
                "central_tendency": _num(self.reviewers["central_tendency"][i]),
                "halo_sd": _num(self.reviewers["halo"][i]),
                "workload_share": _num(share[i]),
                "drift_onset": self._iso(onset) if i in drifting else None,
                "drift_size": _num(self.reviewers["drift"][i]),
            }
            for i, rid in enumerate(reviewer_ids)
        }
        truth = {
            "rubric": {"id": rubric.id, "version": rubric.version},
            "generator": {
                "seed": s.seed,
                "parameters": parameters,
                "calibrate_version": __version__,
            },
            "criteria": list(rubric.criterion_ids),
            "latent": {
                "location": _num(location),
                "difficulty": {
                    cid: _num(d) for cid, d in zip(rubric.criterion_ids, difficulty, strict=True)
                },
                "thresholds": {
                    c.id: [_num(x) for x in self.thresholds[i, : len(c.levels) - 1]]
                    for i, c in enumerate(rubric.criteria)
                },
            },
            "true_levels": dict(zip(ids, true_scores.tolist(), strict=True)),
            "true_pass_rate": _num(float(np.mean(rubric.decide(true_scores[n_anchor:])))),
            "window": {"start": self._iso(0), "end": self._iso(self.window - 1)},
            "rounds": {
                rid: {
                    "anchors": ids[k * s.n_anchors : (k + 1) * s.n_anchors],
                    "starts_at": self._iso(self._round_week(k) * _WEEK_MINUTES),
                }
                for k, rid in enumerate(round_ids)
            },
            "seeded_anchors": ids[n_cal:n_anchor],
            "reviewers": reviewers,
        }
        attributes = None
        if s.n_groups:
            labels = np.array([f"G{g + 1}" for g in range(s.n_groups)], dtype=object)
            live_groups = labels[self.group_of[n_anchor:]]
            attributes = pd.DataFrame(
                {"submission_id": ids[n_anchor:], "group": live_groups.tolist()}
            )
            truth["groups"] = {
                "attribute": "group",
                "biased_against": "G1",
                "bias": _num(s.group_bias),
                "biased_reviewers": [
                    rid for i, rid in enumerate(reviewer_ids) if self.group_biased[i]
                ],
                "submissions": dict(zip(ids[n_anchor:], live_groups.tolist(), strict=True)),
            }
        by_kind = ratings["kind"].value_counts()
        manifest = {
            "name": name,
            "description": description,
            "rubric": {
                "path": rubric_path if rubric_path is not None else "rubric.yaml",
                "id": rubric.id,
                "version": rubric.version,
            },
            "generator": {"module": "calibrate.synth", "seed": s.seed, "parameters": parameters},
            "calibrate_version": __version__,
            "counts": {
                "submissions": s.n_submissions,
                "reviewers": int(ratings["reviewer_id"].nunique()),
                "anchors": n_anchor,
                "calibration_anchors": n_cal,
                "seeded_anchors": n_seed,
                "rounds": s.n_rounds,
                "ratings": len(ratings),
                "ratings_by_kind": {k: int(by_kind.get(k, 0)) for k in KINDS},
                "third_reviews": n_third,
                "drifting_reviewers": len(drifting),
            },
            # no anchors, no key: readers take a missing key.csv as "no key"
            "files": ["ratings.csv", *(["key.csv"] if n_anchor else []), "truth.json"],
        }
        return SyntheticProgram(
            name, description, rubric, s, ratings, key, truth, manifest, rubric_path, attributes
        )

    def _draw_reviewer_parameters(self) -> tuple[np.ndarray, set[int], int]:
        """Draw every reviewer's parameters into ``self.reviewers``; returns the workload
        shares, the drifting reviewers and the drift onset (working minutes)."""
        rng, s = self.rng, self.spec
        n_rev = s.n_reviewers
        share = rng.gamma(_WORKLOAD_SHAPE, size=n_rev)
        share = np.maximum(share / share.sum(), 0.25 / n_rev)  # nobody is (almost) idle
        share /= share.sum()
        drifting = np.sort(rng.choice(n_rev, size=s.n_drifting, replace=False))
        onset = round(s.drift_onset * self.window)
        self.reviewers = {
            "severity": s.severity_sd * rng.standard_normal(n_rev),
            "noise": rng.uniform(*s.noise_range, size=n_rev),
            "central_tendency": rng.uniform(*s.central_tendency_range, size=n_rev),
            "halo": rng.uniform(*s.halo_range, size=n_rev),
            "drift": np.zeros(n_rev),
            "onset": np.full(n_rev, np.iinfo(np.int64).max),  # never, unless drifting
        }
        self.reviewers["drift"][drifting] = s.drift_size
        self.reviewers["onset"][drifting] = onset
        r = self.reviewers
        self.model = ReviewerModel(
            tuple(f"R{i + 1:03d}" for i in range(n_rev)),
            r["severity"],
            r["noise"],
            r["central_tendency"],
            r["halo"],
            r["drift"],
            r["onset"],
        )
        return share, set(drifting.tolist()), onset

    def _round_week(self, k: int) -> int:
        return k * self.spec.window_weeks // self.spec.n_rounds

    def _calibration_rounds(self) -> list[dict[str, np.ndarray]]:
        """Every reviewer scores every anchor of round k, in its week's first two days."""
        s, parts = self.spec, []
        for k in range(s.n_rounds):
            sub = np.tile(np.arange(k * s.n_anchors, (k + 1) * s.n_anchors), s.n_reviewers)
            rev = np.repeat(np.arange(s.n_reviewers), s.n_anchors)
            start = self._round_week(k) * _WEEK_MINUTES
            t = start + self.rng.integers(0, _ROUND_MINUTES, size=len(sub))
            parts.append(_part(sub, rev, t, "anchor", round_code=k))
        return parts

    def _live_reviews(
        self, true: np.ndarray, first_id: int, share: np.ndarray
    ) -> tuple[list[dict[str, np.ndarray]], int]:
        """The first reviews of each live submission (scored), then the third reviews
        where the trigger fires (to be scored); returns them and the number of thirds."""
        rng, rubric = self.live_rng, self.rubric
        n = len(true)
        first = rubric.review_policy.reviewers
        delay = min(_MAX_DELAY, self.window // 10)
        sub = first_id + np.arange(n)
        arrival = rng.integers(0, self.window - 2 * delay, size=n)
        revs = self._draw_reviewers(share, n, first)
        times = arrival[:, None] + rng.integers(0, delay, size=(n, first))
        levels = self._score(
            np.repeat(true, first, axis=0),
            revs.ravel(),
            times.ravel(),
            None,
            np.repeat(sub, first),
        )
        parts = [_part(np.repeat(sub, first), revs.ravel(), times.ravel(), "live", levels=levels)]
        if first != 2 or not rubric.review_policy.third_review.any:
            return parts, 0
        pair = self._scores(levels).reshape(n, 2, self.n_crit)
        fired = np.flatnonzero(rubric.third_review_fires(pair[:, 0], pair[:, 1]))
        rev3 = self._draw_reviewers(share, len(fired), 1, exclude=revs[fired])[:, 0]
        t3 = times[fired].max(axis=1) + rng.integers(1, delay + 1, size=len(fired))
        parts.append(_part(sub[fired], rev3, t3, "live"))
        return parts, len(fired)

    def _seeded(self, load: np.ndarray, first_id: int, n_seed: int) -> dict[str, np.ndarray]:
        """About ``seeded_rate`` seeded anchors per live review, at random times, each at
        most once per reviewer."""
        rng, n_rev = self.live_rng, self.spec.n_reviewers
        count = np.minimum(rng.binomial(load, self.spec.seeded_rate), n_seed)
        order = np.argsort(rng.random((n_rev, n_seed)), axis=1)
        sub = first_id + order[np.arange(n_seed) < count[:, None]]
        rev = np.repeat(np.arange(n_rev), count)
        return _part(sub, rev, rng.integers(0, self.window, size=len(sub)), "seeded")

    def _ratings_frame(
        self,
        sc: dict[str, np.ndarray],
        ids: list[str],
        reviewer_ids: list[str],
        round_ids: list[str],
    ) -> pd.DataFrame:
        c = self.n_crit
        order = np.lexsort((sc["sub"], sc["rev"], sc["t"]))  # time, then reviewer, then submission
        rows = np.repeat(order, c)
        crit = np.tile(np.arange(c), len(order))
        score = self.score_of[crit, sc["levels"][order].ravel()]
        cal = self._calendar(sc["t"][rows]).astype("datetime64[ns]")
        rated_at = pd.Series(cal).dt.tz_localize("UTC")
        round_code = sc["round"][rows]
        used_rounds = sorted({round_ids[k] for k in np.unique(round_code[round_code >= 0])})
        remap = np.array(
            [used_rounds.index(r) if r in used_rounds else -1 for r in round_ids] + [-1],
            dtype=np.int64,
        )
        return canonical_frame(
            _categorical(sc["sub"][rows], ids),
            _categorical(sc["rev"][rows], reviewer_ids),
            pd.Categorical.from_codes(
                crit, categories=pd.Index(self.rubric.criterion_ids, dtype=object)
            ),
            score,
            self.rubric,
            rated_at=rated_at,
            round_id=pd.Categorical.from_codes(
                remap[round_code], categories=pd.Index(used_rounds, dtype=object)
            ),
            kind=pd.Categorical.from_codes(
                sc["kind"][rows], categories=pd.Index(KINDS, dtype=object)
            ),
        )

    def _key_frame(self, true: np.ndarray, ids: list[str]) -> pd.DataFrame:
        c = self.n_crit
        rationale = [[_rationale(crit, lv) for lv in crit.levels] for crit in self.rubric.criteria]
        crit = np.tile(np.arange(c), len(ids))
        lv = true.ravel()
        return pd.DataFrame(
            {
                "submission_id": pd.Categorical.from_codes(
                    np.repeat(np.arange(len(ids)), c), categories=pd.Index(ids, dtype=object)
                ),
                "criterion_id": pd.Categorical.from_codes(
                    crit, categories=pd.Index(self.rubric.criterion_ids, dtype=object)
                ),
                "key_score": self.score_of[crit, lv].astype(np.int64),
                "rationale": np.array(
                    [rationale[ci][li] for ci, li in zip(crit.tolist(), lv.tolist(), strict=True)],
                    dtype=object,
                ),
            }
        )


_PART_KEYS = ("sub", "rev", "t", "kind", "round", "levels")


def _part(
    sub: np.ndarray,
    rev: np.ndarray,
    t: np.ndarray,
    kind: str,
    *,
    round_code: int = -1,
    levels: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """A batch of scorings: submission and reviewer positions, working minutes, kind and
    round codes, and (once scored) level indices of shape (n, n_criteria)."""
    part = {
        "sub": np.asarray(sub, dtype=np.int64),
        "rev": np.asarray(rev, dtype=np.int64),
        "t": np.asarray(t, dtype=np.int64),
        "kind": np.full(len(sub), _KIND_CODE[kind]),
        "round": np.full(len(sub), round_code),
    }
    if levels is not None:
        part["levels"] = levels
    return part


def _ids(prefix: str, n: int, width: int) -> list[str]:
    width = max(width, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _categorical(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """Categorical over the labels actually used, sorted (as read from a file)."""
    used = np.unique(codes)
    cats = pd.Index(np.asarray(labels, dtype=object)[used], dtype=object)
    return pd.Categorical.from_codes(np.searchsorted(used, codes), categories=cats)


def _rationale(crit: Any, level: Any) -> str:
    head = f"Key {level.score} ({level.label})"
    if level.descriptor:
        return f"{head}: {level.descriptor}"
    return (
        f"{head}: the panel placed the evidence for {crit.name.lower()} at {level.label.lower()}."
    )


def _num(x: float) -> float:
    # Fixed precision keeps truth.json short and stable in its last digits.
    return round(float(x), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
