"""Reliability of a whole ratings table as one tidy frame: per criterion, round, reviewer pair
and for the pass / not yet decision, with intervals and interpretation bands.

The bands are in :mod:`._bands`, the decisions as ratings in :mod:`._decisions`, the reviewer
pairs in :mod:`._pairs`; this module plans which coefficients each group gets and builds the
table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_confidence_level
from calibrate.ratings import compact
from calibrate.reliability._bands import interpretation_band
from calibrate.reliability._bootstrap import BOOTSTRAP_METHODS, COEFFICIENTS, bootstrap
from calibrate.reliability._data import CodedRatings, _encode
from calibrate.reliability._decisions import _decisions
from calibrate.reliability._pairs import _pairs
from calibrate.reliability._result import ReliabilityResult

if TYPE_CHECKING:
    from calibrate.ratings import RatingCodes, RatingsTable
    from calibrate.rubric import Rubric

__all__ = ["BREAKDOWNS", "TABLE_COLUMNS", "reliability_table"]

#: What :func:`reliability_table` can break the ratings down by.
BREAKDOWNS: tuple[str, ...] = ("criterion", "round", "pair")
#: The columns of :func:`reliability_table`'s frame (key columns appear only when asked for).
TABLE_COLUMNS: tuple[str, ...] = (
    "coefficient",
    "level",
    "criterion_id",
    "round_id",
    "reviewer_a",
    "reviewer_b",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_method",
    "confidence_level",
    "n_units",
    "n_pairable",
    "band",
    "band_source",
    "note",
)
#: ``criterion_id`` of the rows pooling every criterion (the pass / not yet rows have
#: ``_decisions.DECISION``).
ALL_CRITERIA = "all"
_LEVELS = ("nominal", "ordinal", "interval", "ratio")

Level = Literal["nominal", "ordinal", "interval", "ratio"]


# ----------------------------------------------------------------------------------------
# One group's ratings as CodedRatings, read from the table's codes
# ----------------------------------------------------------------------------------------
def _categories(rubric: Rubric, codes: RatingCodes, crit_codes: Sequence[int]) -> np.ndarray:
    scores: set[int] = set()
    for c in crit_codes:
        scores |= set(rubric.criterion(codes.criterion_ids[c]).scores)
    return np.array(sorted(scores), dtype=float)


def _coded(rubric: Rubric, codes: RatingCodes, rows: np.ndarray, pooled: bool) -> CodedRatings:
    """One group's ratings; a unit is a submission in a round (and a criterion, pooled)."""
    crits = np.unique(codes.criterion[rows])
    cats = _categories(rubric, codes, crits.tolist())
    unit, _ = compact((codes.cell() if pooled else codes.unit)[rows])
    rater, used = compact(codes.reviewer[rows], codes.n_reviewers)
    # one criterion: its categories are its levels, so the level codes are the values
    value = codes.level[rows] if len(crits) == 1 else _encode(codes.score[rows], cats)
    return CodedRatings.from_codes(
        unit,
        rater,
        value,
        categories=cats,
        n_raters=len(used),
        rater_labels=np.asarray(codes.reviewer_ids, dtype=object)[used],
    )


# ----------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------
_SETTINGS: dict[str, dict[str, Any]] = {
    "nominal": {"alpha": "nominal", "weights": "identity", "within_one": False, "icc": False},
    "ordinal": {"alpha": "ordinal", "weights": "quadratic", "within_one": True, "icc": True},
    "interval": {"alpha": "interval", "weights": "quadratic", "within_one": True, "icc": True},
    "ratio": {"alpha": "ratio", "weights": "ratio", "within_one": True, "icc": True},
}
_ORDER = (
    "krippendorff_alpha",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "conger_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "brennan_prediger",
    "icc",
    "light_kappa",  # only when asked for by name (not in _plan's default set)
)


def _plan(level: str, wanted: set[str] | None, n_raters: int) -> list[tuple[str, dict[str, Any]]]:
    """(coefficient, options) to compute for one group's ratings at one level."""
    s = _SETTINGS[level]
    default = {
        "krippendorff_alpha",
        "percent_agreement",
        "fleiss_kappa",
        "conger_kappa",
        "brennan_prediger",
        "gwet_ac2" if s["weights"] != "identity" else "gwet_ac1",
    }
    if s["icc"]:
        default.add("icc")
    if n_raters == 2:
        default.add("cohen_kappa")
    names = default if wanted is None else wanted
    plan: list[tuple[str, dict[str, Any]]] = []
    for name in _ORDER:
        if name not in names:
            continue
        if name == "cohen_kappa" and n_raters != 2:
            continue  # two raters only; reviewer pairs come from by=("pair",)
        if name == "krippendorff_alpha":
            plan.append((name, {"level": s["alpha"]}))
        elif name == "percent_agreement":
            plan.append((name, {"level": "exact"}))
            if s["within_one"]:
                plan.append((name, {"level": "within_one"}))
        elif name == "gwet_ac1":
            plan.append((name, {}))
        elif name == "icc":
            plan.append((name, {"form": "ICC(2,1)"}))
        else:
            plan.append((name, {"weights": s["weights"]}))
    return plan


def _check_by(by: object) -> tuple[str, ...]:
    if by is None:
        return ()
    items = [b.strip() for b in by.split(",") if b.strip()] if isinstance(by, str) else list(by)  # type: ignore[call-overload]
    out = []
    for b in items:
        if b == "overall":
            continue
        check_choice("by", b, BREAKDOWNS)
        if b not in out:
            out.append(b)
    return tuple(out)


def _check_coefficients(coefficients: object) -> set[str] | None:
    if coefficients is None:
        return None
    names = [coefficients] if isinstance(coefficients, str) else list(coefficients)  # type: ignore[call-overload]
    for n in names:
        check_choice("coefficients", n, tuple(COEFFICIENTS))
    return set(names)


def reliability_table(
    ratings: RatingsTable,
    rubric: Rubric | None = None,
    *,
    level: Level | None = None,
    by: str | Iterable[str] | None = ("criterion",),
    coefficients: str | Iterable[str] | None = None,
    decision: bool = True,
    bootstrap: int = 0,
    method: Literal["bca", "percentile"] = "bca",
    confidence_level: float = 0.95,
    min_pair_units: int = 10,
    rng: int | np.random.Generator | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Every reliability coefficient of a ratings table, broken down, as one tidy frame.

    Parameters
    ----------
    ratings : RatingsTable
        A unit is a submission in a round: the same anchor scored in two calibration
        rounds is two units.
    rubric : Rubric, optional
        Whose pass rule gives the decision rows (default: the table's rubric).
    level : {'nominal', 'ordinal', 'interval', 'ratio'}, optional
        Level of measurement of the scores. Default 'ordinal' (rubric levels are
        ordered). It sets Krippendorff's metric, the weights of the kappas, AC2 and
        Brennan-Prediger (identity for nominal, quadratic for ordinal and interval,
        ratio for ratio), whether within-one agreement and the ICC are reported
        (not for nominal), and AC1 (nominal) or AC2 (others).
    by : str or iterable of {'criterion', 'round', 'pair'}, default ('criterion',)
        Breakdowns, combined: 'criterion' (else every criterion pooled, a unit being a
        submission's criterion, ``criterion_id`` 'all'), 'round' (``round_id``; None for
        ratings outside rounds), 'pair' (adds Cohen's kappa for every pair of reviewers
        sharing at least ``min_pair_units`` units, keys ``reviewer_a``, ``reviewer_b``).
        ``()``, None or 'overall' give the overall rows. A string may list several
        separated by commas.
    coefficients : str or iterable of str, optional
        Which coefficients (names as in :data:`COEFFICIENTS`); default all that fit the
        level. Cohen's kappa needs exactly two reviewers in the group (or 'pair').
    decision : bool, default True
        Add rows for the pass / not yet decision (``criterion_id`` 'decision'), from
        :func:`decision_ratings`, with nominal coefficients.
    bootstrap : int, default 0
        Bootstrap resamples per row (0: analytic intervals where published, ICC's F
        interval). See :func:`bootstrap`.
    method : {'bca', 'percentile'}, default 'bca'
        Bootstrap interval method.
    confidence_level : float, default 0.95
    min_pair_units : int, default 10
        Units two reviewers must share for a pair row.
    rng : int, Generator or None
        For the bootstrap.
    progress : bool or None
        Progress bars of long bootstraps (see :func:`bootstrap`).

    Returns
    -------
    DataFrame
        One row per coefficient (and level/weights/form) per breakdown, with the columns
        of :data:`TABLE_COLUMNS` (``round_id`` only with 'round', ``reviewer_a`` and
        ``reviewer_b`` only with 'pair'): ``ci_method`` says how the interval was
        obtained, ``band`` and ``band_source`` give the conventional interpretation
        (:func:`interpretation_band`), ``note`` why a coefficient is undefined or caveats.
        Each estimate equals the direct call of the coefficient on the group's ratings.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import reliability_table
    >>> live = read_program("data/synthetic/pilot").ratings.select(kind="live")
    >>> table = reliability_table(live, coefficients=["krippendorff_alpha"])
    >>> table[["coefficient", "level", "criterion_id"]].iloc[0].tolist()
    ['krippendorff_alpha', 'ordinal', 'overview']
    >>> table["criterion_id"].tolist()[-1]
    'decision'
    """
    lvl = "ordinal" if level is None else check_choice("level", level, _LEVELS)
    keys = _check_by(by)
    wanted = _check_coefficients(coefficients)
    cl = check_confidence_level(confidence_level)
    meth = check_choice("method", method, BOOTSTRAP_METHODS)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a number of resamples >= 0; got {bootstrap!r}")
    if bootstrap == 1:
        raise ValueError("bootstrap must be 0 (no bootstrap) or at least 2 resamples; got 1")
    if (
        isinstance(min_pair_units, bool)
        or not isinstance(min_pair_units, int | np.integer)
        or min_pair_units < 1
    ):
        raise ValueError(f"min_pair_units must be a whole number >= 1; got {min_pair_units!r}")
    if not isinstance(decision, bool):
        raise TypeError(f"decision must be True or False; got {decision!r}")
    gen = np.random.default_rng(rng)
    compute = _Computer(int(bootstrap), meth, cl, gen, progress)

    rows: list[dict[str, Any]] = []
    rows += _table_rows(ratings, lvl, keys, wanted, compute, min_pair_units, decision=False)
    if decision:
        dec, incomplete = _decisions(ratings, rubric)
        note = (
            f"{incomplete} reviewer score set(s) with a criterion unscored left out of the decisions"
            if incomplete
            else ""
        )
        dec_rows = _table_rows(dec, "nominal", keys, wanted, compute, min_pair_units, decision=True)
        for r in dec_rows:
            r["note"] = "; ".join(x for x in (r["note"], note) if x)
        rows += dec_rows
    columns = [
        c
        for c in TABLE_COLUMNS
        if not (c == "round_id" and "round" not in keys)
        and not (c in ("reviewer_a", "reviewer_b") and "pair" not in keys)
    ]
    return pd.DataFrame(rows, columns=columns)


class _Computer:
    """One coefficient on one group's ratings: the direct call or its bootstrap."""

    def __init__(
        self,
        n_boot: int,
        method: str,
        cl: float,
        gen: np.random.Generator,
        progress: bool | None,
    ):
        self.n_boot, self.method, self.cl, self.gen, self.progress = (
            n_boot,
            method,
            cl,
            gen,
            progress,
        )

    def __call__(
        self, name: str, coded: CodedRatings, options: dict[str, Any]
    ) -> ReliabilityResult:
        if self.n_boot:
            return bootstrap(
                name,
                coded,
                n_resamples=self.n_boot,
                confidence_level=self.cl,
                method=self.method,  # type: ignore[arg-type]
                rng=self.gen,
                progress=self.progress,
                **options,
            )
        return COEFFICIENTS[name](coded, confidence_level=self.cl, **options)


def _row(result: ReliabilityResult, keys: dict[str, Any]) -> dict[str, Any]:
    band, source = interpretation_band(result.coefficient, result.estimate)
    return {
        "coefficient": result.coefficient,
        "level": result.level,
        **keys,
        "estimate": result.estimate,
        "se": result.se,
        "ci_low": result.ci[0],
        "ci_high": result.ci[1],
        "ci_method": result.method,
        "confidence_level": result.confidence_level,
        "n_units": result.n_units,
        "n_pairable": result.n_pairable,
        "band": band,
        "band_source": source,
        "note": result.note,
    }


def _table_rows(
    ratings: RatingsTable,
    level: str,
    keys: tuple[str, ...],
    wanted: set[str] | None,
    compute: _Computer,
    min_pair_units: int,
    *,
    decision: bool,
) -> list[dict[str, Any]]:
    codes = ratings.codes
    n = len(codes)
    everything = np.arange(n)
    by_crit = "criterion" in keys or decision
    crit_groups: list[tuple[str, np.ndarray]] = (
        [
            (str(codes.criterion_ids[c]), np.flatnonzero(codes.criterion == c))
            for c in np.unique(codes.criterion)
        ]
        if by_crit
        else [(ALL_CRITERIA, everything)]
    )
    out: list[dict[str, Any]] = []
    for crit_id, crit_rows in crit_groups:
        if "round" in keys:
            rnd = codes.round[crit_rows]
            groups = [
                (None if r < 0 else str(codes.round_ids[r]), crit_rows[rnd == r])
                for r in np.unique(rnd)
            ]
        else:
            groups = [(None, crit_rows)]
        for round_id, rows in groups:
            if len(rows) == 0:
                continue
            key: dict[str, Any] = {"criterion_id": crit_id}
            if "round" in keys:
                key["round_id"] = round_id
            if "pair" in keys:
                key |= {"reviewer_a": None, "reviewer_b": None}
            coded = _coded(ratings.rubric, codes, rows, pooled=not by_crit)
            for name, options in _plan(level, wanted, coded.n_raters):
                out.append(_row(compute(name, coded, options), key))
            if "pair" in keys and (wanted is None or "cohen_kappa" in wanted):
                weights = _SETTINGS[level]["weights"]
                for a, b, pair in _pairs(coded, min_pair_units):
                    result = compute("cohen_kappa", pair, {"weights": weights})
                    out.append(_row(result, key | {"reviewer_a": a, "reviewer_b": b}))
    return out
