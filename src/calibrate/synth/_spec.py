"""The settings of a synthetic review program: a frozen, validated :class:`SynthSpec`."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["SynthSpec"]


def _help(text: str) -> dict[str, str]:
    # Each field's one-line help: the CLI turns it into the flag's --help text.
    return {"help": text}


@dataclass(frozen=True, kw_only=True)
class SynthSpec:
    """Settings of a synthetic review program (sizes, reviewer behaviour, drift, seed).

    Every field is keyword-only, checked on construction and named so that it maps to a
    command-line flag (``n_submissions`` -> ``--n-submissions``; a ``*_range`` field takes
    two numbers, low and high). ``dataclasses.fields(SynthSpec)`` lists them, each with its
    one-line help in ``metadata["help"]``. Change one setting with
    ``dataclasses.replace(spec, seed=2)``, which checks again.

    Parameters
    ----------
    seed : int
        Seed of the one ``numpy.random.default_rng`` that draws everything.
    n_submissions : int
        Live submissions (teachers' evidence) scored in the window.
    n_reviewers : int
        Reviewers in the program. The rubric's review policy may need more (two per
        submission plus a third when reviews disagree): :func:`generate` checks.
    n_rounds : int
        Calibration rounds; round ``k`` is held at the start of week
        ``floor(k * window_weeks / n_rounds)`` and uses its own anchors.
    n_anchors : int
        Anchors per calibration round; every reviewer scores every one of them.
    n_seeded_anchors : int
        Anchors in the seeded (validity) pool, slipped unlabelled into the live queue.
    seeded_rate : float
        Seeded anchors per live review in a reviewer's queue (0.05: about one in twenty);
        a reviewer never sees the same seeded anchor twice.
    true_pass_rate : float
        Share of live submissions whose true levels pass the rubric's pass rule (in
        expectation): the latent scale is shifted until the rule passes this share.
    criterion_noise_sd : float
        SD of a submission's criterion-specific deviation from its overall ability (in
        latent units, ability has SD 1): smaller means criteria correlate more.
    difficulty_sd : float
        SD of the criterion difficulties (latent units).
    start_date : str
        First day of the scoring window, ISO ``YYYY-MM-DD`` (a Monday: reviews fall on the
        first five days of each week, 08:00-18:00 UTC).
    window_weeks : int
        Length of the scoring window in weeks.
    severity_sd : float
        SD of reviewer severity, in score points (positive severity = harsher).
    noise_range : tuple of float
        Low and high of the reviewers' noise SDs (score points), drawn uniformly.
    central_tendency_range : tuple of float
        Low and high of the reviewers' central tendency: the share (0 to below 1) by which
        a reviewer shrinks a score toward the middle of the scale.
    halo_range : tuple of float
        Low and high of the reviewers' halo SDs (score points): the SD of an effect a
        reviewer adds to every criterion of one submission.
    n_drifting : int
        Reviewers whose severity changes during the window.
    drift_size : float
        Change of a drifting reviewer's severity after onset, in score points
        (positive = harsher, negative = more lenient).
    drift_onset : float
        When drift starts, as a share of the scoring window (0 to 1, exclusive).
    live_seed : int or None
        None (the default): one generator seeded with ``seed`` draws everything, in one
        fixed order. An integer: a *fresh draw of the same program*. The program's
        structure (criterion difficulties, the latent location, the anchors and their
        truth, every reviewer's parameters and workload share, the calibration rounds
        and their scores) is drawn from ``seed`` alone, independently of
        ``n_submissions``, while the live submissions, their reviews (third reviews
        included) and the seeded anchors' scorings come from a second generator seeded
        with ``(seed, live_seed)``. Two live seeds give two independent samples of
        submissions reviewed by the same reviewers: fit a model on one, check its
        predictions on the other. Left out of :meth:`to_dict` when None.
    n_groups : int
        Values of a group attribute (``group``: ``G1``, ``G2``, ...) given to the live
        submissions at random (0, the default: no attribute). Drawn from their own
        generator, so the rest of the program is the same with or without them.
    n_group_biased : int
        Reviewers who score group ``G1`` harder by ``group_bias`` (planted reviewer x
        group bias, for differential reviewer functioning); needs ``n_groups >= 1``.
    group_bias : float
        How much harder, in score points (positive = harsher), before rounding. The
        three group fields are left out of :meth:`to_dict` at their defaults.

    Examples
    --------
    >>> spec = SynthSpec(n_submissions=100, n_reviewers=6, seed=7)
    >>> spec.n_rounds, spec.noise_range
    (2, (0.3, 0.6))
    >>> a = SynthSpec(n_submissions=100, seed=7, live_seed=1)
    >>> b = SynthSpec(n_submissions=500, seed=7, live_seed=2)  # same reviewers, new submissions
    >>> "live_seed" in SynthSpec().to_dict(), a.to_dict()["live_seed"]
    (False, 1)
    >>> SynthSpec(n_reviewers=1)
    Traceback (most recent call last):
    ...
    ValueError: invalid synthetic program settings: n_reviewers must be an integer >= 2; got 1
    """

    seed: int = field(
        default=0,
        metadata=_help("seed of the random generator (same seed, same program, byte for byte)"),
    )
    n_submissions: int = field(default=200, metadata=_help("live submissions scored in the window"))
    n_reviewers: int = field(default=12, metadata=_help("reviewers in the program"))
    n_rounds: int = field(
        default=2, metadata=_help("calibration rounds (each with its own anchors)")
    )
    n_anchors: int = field(
        default=6, metadata=_help("anchors per calibration round; every reviewer scores each")
    )
    n_seeded_anchors: int = field(
        default=8,
        metadata=_help("anchors in the seeded pool, mixed unlabelled into the live queue"),
    )
    seeded_rate: float = field(
        default=0.05,
        metadata=_help("seeded anchors per live review in a reviewer's queue (0 to 0.5)"),
    )
    true_pass_rate: float = field(
        default=0.65, metadata=_help("expected share of live submissions whose true levels pass")
    )
    criterion_noise_sd: float = field(
        default=0.6,
        metadata=_help(
            "SD of criterion-specific deviations from ability (smaller: criteria correlate more)"
        ),
    )
    difficulty_sd: float = field(
        default=0.3, metadata=_help("SD of criterion difficulties (latent units)")
    )
    start_date: str = field(
        default="2026-09-14",
        metadata=_help("first day of the scoring window, YYYY-MM-DD (a Monday)"),
    )
    window_weeks: int = field(default=12, metadata=_help("length of the scoring window in weeks"))
    severity_sd: float = field(
        default=0.3, metadata=_help("SD of reviewer severity in score points (positive = harsher)")
    )
    noise_range: tuple[float, float] = field(
        default=(0.3, 0.6), metadata=_help("low and high of reviewer noise SDs in score points")
    )
    central_tendency_range: tuple[float, float] = field(
        default=(0.0, 0.25),
        metadata=_help("low and high of reviewer shrinkage toward the middle level (0 to <1)"),
    )
    halo_range: tuple[float, float] = field(
        default=(0.0, 0.3), metadata=_help("low and high of reviewer halo SDs in score points")
    )
    n_drifting: int = field(default=0, metadata=_help("reviewers whose severity drifts"))
    drift_size: float = field(
        default=0.5,
        metadata=_help("severity change after onset in score points (positive = harsher)"),
    )
    drift_onset: float = field(
        default=0.5, metadata=_help("drift onset as a share of the window (0 to 1)")
    )
    live_seed: int | None = field(
        default=None,
        metadata=_help(
            "seed of the live submissions and reviews alone (same seed, other live seed: "
            "a fresh draw of the same program); default: everything from --seed"
        ),
    )

    n_groups: int = field(
        default=0, metadata=_help("values of a submission group attribute 'group' (0: none)")
    )
    n_group_biased: int = field(
        default=0, metadata=_help("reviewers who score group G1 harder by --group-bias")
    )
    group_bias: float = field(
        default=0.5,
        metadata=_help("planted reviewer x group bias in score points (positive = harsher)"),
    )

    def __post_init__(self) -> None:
        problems: list[str] = []

        def integer(name: str, lo: int, hi: int | None = None) -> None:
            v = getattr(self, name)
            allowed = f"an integer >= {lo}" if hi is None else f"an integer from {lo} to {hi}"
            if (
                not isinstance(v, numbers.Integral)
                or isinstance(v, bool)
                or not lo <= int(v) <= (hi if hi is not None else int(v))
            ):
                problems.append(f"{name} must be {allowed}; got {v!r}")
            else:
                object.__setattr__(self, name, int(v))

        def real(
            name: str, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False
        ) -> None:
            v = getattr(self, name)
            ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))
            if ok:
                x = float(v)
                ok = (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi)
            if not ok:
                left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
                problems.append(
                    f"{name} must be a number in {left}{lo:g}, {hi:g}{right}; got {v!r}"
                )
            else:
                object.__setattr__(self, name, float(v))

        def pair(name: str, lo: float, hi: float, *, hi_open: bool = False) -> None:
            v = getattr(self, name)
            right = ")" if hi_open else "]"
            allowed = f"two numbers (low, high) with {lo:g} <= low <= high {'<' if hi_open else '<='} {hi:g}"
            try:
                a, b = (
                    float(x) for x in v if isinstance(x, numbers.Real) and not isinstance(x, bool)
                )
            except (TypeError, ValueError):
                problems.append(f"{name} must be {allowed}; got {v!r}")
                return
            if (
                len(tuple(v)) != 2
                or not (math.isfinite(a) and math.isfinite(b))
                or not lo <= a <= b
                or (b >= hi if hi_open else b > hi)
            ):
                problems.append(f"{name} must be {allowed} (in [{lo:g}, {hi:g}{right}); got {v!r}")
            else:
                object.__setattr__(self, name, (a, b))

        integer("seed", 0)
        integer("n_submissions", 1)
        integer("n_reviewers", 2)
        integer("n_rounds", 0)
        integer("n_anchors", 0)
        integer("n_seeded_anchors", 0)
        real("seeded_rate", 0.0, 0.5)
        real("true_pass_rate", 0.02, 0.98)
        real("criterion_noise_sd", 0.0, 5.0)
        real("difficulty_sd", 0.0, 5.0)
        integer("window_weeks", 1, 520)
        real("severity_sd", 0.0, 5.0)
        pair("noise_range", 0.0, 5.0)
        pair("central_tendency_range", 0.0, 1.0, hi_open=True)
        pair("halo_range", 0.0, 5.0)
        integer("n_drifting", 0)
        real("drift_size", -5.0, 5.0)
        real("drift_onset", 0.0, 1.0, lo_open=True, hi_open=True)
        if self.live_seed is not None:
            integer("live_seed", 0)
        integer("n_groups", 0, 1000)
        integer("n_group_biased", 0)
        real("group_bias", -5.0, 5.0)

        start = self.start_date
        if isinstance(start, dt.datetime):
            problems.append(
                f"start_date must be a date (YYYY-MM-DD), not a date-time; got {start!r}"
            )
        elif isinstance(start, dt.date):
            object.__setattr__(self, "start_date", start.isoformat())
        elif not isinstance(start, str) or not _is_iso_date(start):
            problems.append(
                f"start_date must be an ISO date YYYY-MM-DD from 1900 to 2199; got {start!r}"
            )

        # Cross-field checks only between fields that are themselves valid.
        bad = {p.split(" ", 1)[0] for p in problems}
        if not {"n_drifting", "n_reviewers"} & bad and self.n_drifting > self.n_reviewers:
            problems.append(
                f"n_drifting must be at most n_reviewers ({self.n_reviewers}); got {self.n_drifting}"
            )
        if not {"n_rounds", "n_anchors"} & bad and self.n_rounds > 0 and self.n_anchors < 1:
            problems.append(
                f"n_anchors must be >= 1 when there are calibration rounds (n_rounds={self.n_rounds}); got {self.n_anchors}"
            )
        if not {"n_rounds", "window_weeks"} & bad and self.n_rounds > self.window_weeks:
            problems.append(
                f"n_rounds must be at most window_weeks ({self.window_weeks}): one calibration round a week at most; got {self.n_rounds}"
            )
        if not {"n_group_biased", "n_reviewers"} & bad and self.n_group_biased > self.n_reviewers:
            problems.append(
                f"n_group_biased must be at most n_reviewers ({self.n_reviewers}); got {self.n_group_biased}"
            )
        if (
            not {"n_group_biased", "n_groups"} & bad
            and self.n_group_biased > 0
            and self.n_groups < 1
        ):
            problems.append(
                f"n_group_biased needs n_groups >= 1 (a group to be biased against); got n_groups={self.n_groups}"
            )
        if problems:
            raise ValueError("invalid synthetic program settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (ranges as two-item lists), in field order.

        ``live_seed`` is left out when None, so programs generated before it existed
        keep their manifests and truth byte for byte."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "live_seed" and v is None:
                continue
            if f.name in _GROUP_DEFAULTS and v == _GROUP_DEFAULTS[f.name]:
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out


_GROUP_DEFAULTS = {"n_groups": 0, "n_group_biased": 0, "group_bias": 0.5}


def _is_iso_date(text: str) -> bool:
    if len(text) != 10:
        return False
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return 1900 <= day.year <= 2199
