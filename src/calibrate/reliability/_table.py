"""Reliability of a whole ratings table as one tidy frame: per criterion, round, reviewer pair
and for the pass / not yet decision, with intervals and interpretation bands."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_confidence_level
from calibrate.reliability._bootstrap import BOOTSTRAP_METHODS, COEFFICIENTS, bootstrap
from calibrate.reliability._data import CodedRatings, _encode
from calibrate.reliability._result import ReliabilityResult

if TYPE_CHECKING:
    from calibrate.ratings import RatingsTable
    from calibrate.rubric import Rubric

__all__ = [
    "BREAKDOWNS",
    "TABLE_COLUMNS",
    "decision_ratings",
    "interpretation_band",
    "pair_agreement",
    "reliability_table",
]

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
#: ``criterion_id`` of the rows pooling every criterion and of the pass / not yet rows.
ALL_CRITERIA, DECISION = "all", "decision"
_LEVELS = ("nominal", "ordinal", "interval", "ratio")

Level = Literal["nominal", "ordinal", "interval", "ratio"]


# ----------------------------------------------------------------------------------------
# Interpretation bands
# ----------------------------------------------------------------------------------------
_KRIPPENDORFF = (
    "Krippendorff (2004): rely on alpha >= .800; .667-.800 for tentative conclusions only",
    (
        (0.667, "unacceptable (< .667)"),
        (0.800, "tentative (.667-.800)"),
        (math.inf, "acceptable (>= .800)"),
    ),
)
_LANDIS_KOCH = (
    "Landis & Koch (1977)",
    (
        (0.0, "poor (< 0)"),
        (0.20, "slight (0-.20)"),
        (0.40, "fair (.21-.40)"),
        (0.60, "moderate (.41-.60)"),
        (0.80, "substantial (.61-.80)"),
        (math.inf, "almost perfect (.81-1)"),
    ),
)
_KOO_LI = (
    "Koo & Li (2016)",
    (
        (0.50, "poor (< .50)"),
        (0.75, "moderate (.50-.75)"),
        (0.90, "good (.75-.90)"),
        (math.inf, "excellent (> .90)"),
    ),
)
_BANDS = {
    "krippendorff_alpha": _KRIPPENDORFF,
    "cohen_kappa": _LANDIS_KOCH,
    "fleiss_kappa": _LANDIS_KOCH,
    "conger_kappa": _LANDIS_KOCH,
    "gwet_ac1": _LANDIS_KOCH,
    "gwet_ac2": _LANDIS_KOCH,
    "brennan_prediger": _LANDIS_KOCH,
    "icc": _KOO_LI,
}


def interpretation_band(coefficient: str, estimate: float) -> tuple[str | None, str | None]:
    """The conventional label of a coefficient's value and where the convention comes from.

    Parameters
    ----------
    coefficient : str
        A coefficient name (as in :data:`COEFFICIENTS`).
    estimate : float

    Returns
    -------
    (band, source) : tuple of str or None
        ``(None, None)`` for an undefined estimate or a coefficient without a published
        convention (percent agreement: programs set their own standards).

    Notes
    -----
    - Krippendorff's alpha: Krippendorff (2004, p. 241): rely on variables with
      alpha >= .800, draw only tentative conclusions from .667 <= alpha < .800.
    - Kappas, Gwet's AC1/AC2 and Brennan-Prediger: Landis & Koch (1977): < 0 poor,
      up to .20 slight, .40 fair, .60 moderate, .80 substantial, above almost perfect
      (Gwet 2014, ch. 6, applies the same scale to his coefficients).
    - ICC: Koo & Li (2016): < .50 poor, .50-.75 moderate, .75-.90 good, > .90 excellent.
      (Cicchetti's 1994 scale, .40 / .60 / .75, is the more lenient alternative.)

    References
    ----------
    Krippendorff, K. (2004). *Content Analysis: An Introduction to Its Methodology*
    (2nd ed.). Sage.
    Landis, J. R., & Koch, G. G. (1977). The measurement of observer agreement for
    categorical data. *Biometrics*, 33, 159-174.
    Koo, T. K., & Li, M. Y. (2016). A guideline of selecting and reporting intraclass
    correlation coefficients for reliability research. *Journal of Chiropractic
    Medicine*, 15, 155-163.

    Examples
    --------
    >>> from calibrate.reliability import interpretation_band
    >>> interpretation_band("krippendorff_alpha", 0.72)[0]
    'tentative (.667-.800)'
    >>> interpretation_band("fleiss_kappa", 0.55)
    ('moderate (.41-.60)', 'Landis & Koch (1977)')
    """
    check_choice("coefficient", coefficient, tuple(COEFFICIENTS))
    if coefficient not in _BANDS or not math.isfinite(estimate):
        return None, None
    source, cuts = _BANDS[coefficient]
    for upper, label in cuts:
        if estimate < upper or (
            upper != math.inf and _is_closed(coefficient) and estimate <= upper
        ):
            return label, source
    return cuts[-1][1], source  # pragma: no cover - the last cut is infinite


def _is_closed(coefficient: str) -> bool:
    """Landis & Koch's bands include their upper limits (.20 is slight); the others not."""
    return _BANDS[coefficient] is _LANDIS_KOCH


# ----------------------------------------------------------------------------------------
# Decisions as ratings
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _decision_rubric() -> Rubric:
    from calibrate.rubric import Rubric

    return Rubric.model_validate(
        {
            "id": "pass-decision",
            "title": "Pass / not yet decision",
            "version": "1",
            "criteria": [
                {
                    "id": DECISION,
                    "name": "Decision",
                    "levels": [{"score": 0, "label": "not yet"}, {"score": 1, "label": "pass"}],
                }
            ],
            "pass_rule": {"min_level": 1},
        }
    )


def _decisions(ratings: RatingsTable, rubric: Rubric | None) -> tuple[RatingsTable, int]:
    from calibrate.ratings import RatingsTable, canonical_frame

    rubric = _check_rubric(ratings, rubric)
    f = ratings.frame
    crit = f["criterion_id"].cat.codes.to_numpy().astype(np.int64)
    ids = list(f["criterion_id"].cat.categories)
    col = np.array([rubric.criterion_ids.index(c) for c in ids], dtype=np.int64)[crit]
    rnd = f["round_id"].cat.codes.to_numpy().astype(np.int64) + 1
    sub = f["submission_id"].cat.codes.to_numpy().astype(np.int64)
    rev = f["reviewer_id"].cat.codes.to_numpy().astype(np.int64)
    n_sub = len(f["submission_id"].cat.categories)
    n_rev = len(f["reviewer_id"].cat.categories)
    key = (rnd * n_sub + sub) * n_rev + rev
    keys, first, sets = np.unique(key, return_index=True, return_inverse=True)
    scores = np.full((len(keys), len(rubric.criteria)), np.nan)
    scores[sets, col] = f["score"].to_numpy(dtype=float)
    passed = rubric.decide(scores)
    complete = ~np.isnan(passed)
    rows = first[complete]
    latest = (
        f["rated_at"].groupby(sets).max().reset_index(drop=True)[complete]
        if f["rated_at"].notna().any()
        else None
    )

    def take(column: str) -> pd.Categorical:
        c = f[column].cat
        return pd.Categorical.from_codes(c.codes.to_numpy()[rows], categories=c.categories)

    frame = canonical_frame(
        take("submission_id"),
        take("reviewer_id"),
        pd.Categorical([DECISION] * len(rows), categories=pd.Index([DECISION], dtype=object)),
        passed[complete].astype(np.int64),
        _decision_rubric(),
        rated_at=latest,
        round_id=take("round_id"),
        kind=take("kind"),
    )
    return RatingsTable(frame, _decision_rubric(), ratings.source), int((~complete).sum())


def decision_ratings(ratings: RatingsTable, rubric: Rubric | None = None) -> RatingsTable:
    """Each reviewer's pass / not yet per submission, as a one-criterion ratings table.

    The rubric's pass rule is applied to each reviewer's complete set of criterion scores
    of a submission (in a round); sets with a criterion unscored are left out. The
    result has one criterion, ``decision``, with levels 0 (``not yet``) and 1
    (``pass``), so every coefficient measures agreement on the decision itself.

    Parameters
    ----------
    ratings : RatingsTable
    rubric : Rubric, optional
        Whose pass rule to apply (default: the table's rubric); it must have the
        table's criteria.

    Returns
    -------
    RatingsTable

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import decision_ratings, krippendorff_alpha
    >>> program = read_program("data/synthetic/pilot")
    >>> decisions = decision_ratings(program.ratings.select(kind="live"))
    >>> decisions.rubric.criterion_ids, sorted(decisions.frame["score"].unique().tolist())
    (('decision',), [0, 1])
    """
    return _decisions(ratings, rubric)[0]


def _check_rubric(ratings: RatingsTable, rubric: Rubric | None) -> Rubric:
    if rubric is None:
        return ratings.rubric
    from calibrate.rubric import Rubric

    if not isinstance(rubric, Rubric):
        raise TypeError(f"rubric must be a Rubric or None; got {type(rubric).__name__}")
    if set(rubric.criterion_ids) != set(ratings.rubric.criterion_ids):
        raise ValueError(
            f"rubric must have the ratings' criteria {list(ratings.rubric.criterion_ids)}; "
            f"got {list(rubric.criterion_ids)}"
        )
    return rubric


# ----------------------------------------------------------------------------------------
# Groups of ratings as integer codes
# ----------------------------------------------------------------------------------------
def _dense(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 for the distinct values of ``key`` (increasing) and the values."""
    if len(key) and key.min() >= 0 and key.max() <= 8 * len(key) + 1024:
        used = np.bincount(key) > 0
        values = np.flatnonzero(used)
        remap = np.cumsum(used) - 1
        return remap[key].astype(np.int64), values
    values, codes = np.unique(key, return_inverse=True)
    return codes.astype(np.int64), values


class _Codes:
    """The frame's columns as integer codes, read once."""

    def __init__(self, ratings: RatingsTable):
        f = ratings.frame
        self.rubric = ratings.rubric
        self.sub = f["submission_id"].cat.codes.to_numpy().astype(np.int64)
        self.rev = f["reviewer_id"].cat.codes.to_numpy().astype(np.int64)
        self.crit = f["criterion_id"].cat.codes.to_numpy().astype(np.int64)
        self.rnd = f["round_id"].cat.codes.to_numpy().astype(np.int64)  # -1: no round
        self.score = f["score"].to_numpy(dtype=float)
        self.crit_ids = [str(c) for c in f["criterion_id"].cat.categories]
        self.round_ids = [str(r) for r in f["round_id"].cat.categories]
        self.reviewer_ids = np.asarray(f["reviewer_id"].cat.categories, dtype=object)
        self.n_sub = len(f["submission_id"].cat.categories)

    def categories(self, crit_codes: Sequence[int]) -> np.ndarray:
        scores: set[int] = set()
        for c in crit_codes:
            scores |= set(self.rubric.criterion(self.crit_ids[c]).scores)
        return np.array(sorted(scores), dtype=float)

    def coded(self, rows: np.ndarray, pooled: bool) -> CodedRatings:
        """One group's ratings; a unit is a submission in a round (and a criterion, pooled)."""
        crits = np.unique(self.crit[rows])
        cats = self.categories(crits.tolist())
        key = (self.rnd[rows] + 1) * self.n_sub + self.sub[rows]
        if pooled:
            key = key * len(self.crit_ids) + self.crit[rows]
        unit, _ = _dense(key)
        rater, used = _dense(self.rev[rows])
        return CodedRatings.from_codes(
            unit,
            rater,
            _encode(self.score[rows], cats),
            categories=cats,
            n_raters=len(used),
            rater_labels=self.reviewer_ids[used],
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
    codes = _Codes(ratings)
    n = len(codes.score)
    everything = np.arange(n)
    by_crit = "criterion" in keys or decision
    crit_groups: list[tuple[str, np.ndarray]] = (
        [(codes.crit_ids[c], np.flatnonzero(codes.crit == c)) for c in np.unique(codes.crit)]
        if by_crit
        else [(ALL_CRITERIA, everything)]
    )
    out: list[dict[str, Any]] = []
    for crit_id, crit_rows in crit_groups:
        if "round" in keys:
            rounds = np.unique(codes.rnd[crit_rows])
            groups = [
                (None if r < 0 else codes.round_ids[r], crit_rows[codes.rnd[crit_rows] == r])
                for r in rounds
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
            coded = codes.coded(rows, pooled=not by_crit)
            for name, options in _plan(level, wanted, coded.n_raters):
                out.append(_row(compute(name, coded, options), key))
            if "pair" in keys and (wanted is None or "cohen_kappa" in wanted):
                weights = _SETTINGS[level]["weights"]
                for a, b, pair in _pairs(coded, min_pair_units):
                    result = compute("cohen_kappa", pair, {"weights": weights})
                    out.append(_row(result, key | {"reviewer_a": a, "reviewer_b": b}))
    return out


def _pair_index(unit: np.ndarray, rater: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the two ratings of every pair of ratings of one unit (rater a < b)."""
    order = np.lexsort((rater, unit))
    u = unit[order]
    ia, ib = [], []
    k = 1
    while k < len(u):
        same = np.flatnonzero(u[k:] == u[:-k])
        if len(same) == 0:
            break
        ia.append(order[same])
        ib.append(order[same + k])
        k += 1
    if not ia:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(ia), np.concatenate(ib)


def _pairs(coded: CodedRatings, min_units: int) -> list[tuple[str, str, CodedRatings]]:
    """Two-rater ratings of every pair of raters sharing at least ``min_units`` units."""
    rater = coded._require_raters("pairs")
    ia, ib = _pair_index(coded.unit, rater)
    ra, rb, va, vb = rater[ia], rater[ib], coded.value[ia], coded.value[ib]
    labels = coded.rater_labels if coded.rater_labels is not None else np.arange(coded.n_raters)
    key = ra * coded.n_raters + rb
    order = np.argsort(key, kind="stable")
    key, va, vb = key[order], va[order], vb[order]
    pair_keys, starts, counts = np.unique(key, return_index=True, return_counts=True)
    out = []
    for pk, s, c in zip(pair_keys, starts, counts, strict=True):
        if c < min_units:
            continue
        a, b = divmod(int(pk), coded.n_raters)
        units = np.repeat(np.arange(c, dtype=np.int64), 2)
        values = np.column_stack([va[s : s + c], vb[s : s + c]]).ravel()
        pair = CodedRatings(
            units,
            np.tile(np.array([0, 1], dtype=np.int64), int(c)),
            values,
            coded.categories,
            int(c),
            2,
        )
        out.append((str(labels[a]), str(labels[b]), pair))
    return out


def pair_agreement(
    ratings: RatingsTable,
    *,
    criterion: str | Sequence[str] | None = None,
    min_shared: int = 1,
) -> pd.DataFrame:
    """Agreement of every pair of reviewers on the scores they both gave.

    Parameters
    ----------
    ratings : RatingsTable
    criterion : str or list of str, optional
        Criteria to use (default: all, each (submission, criterion, round) a shared item).
    min_shared : int, default 1
        Pairs sharing fewer submissions (in a round) are left out.

    Returns
    -------
    DataFrame
        One row per pair (``reviewer_a`` < ``reviewer_b``): ``n_submissions`` both
        scored, ``n_shared`` items (submission x criterion) both scored, ``exact`` and
        ``within_one`` (shares of those items on which the two gave the same level, or
        levels at most one apart) and ``mean_difference`` (a's score minus b's), sorted
        by pair.

    Examples
    --------
    >>> from calibrate.io import read_program
    >>> from calibrate.reliability import pair_agreement
    >>> live = read_program("data/synthetic/pilot").ratings.select(kind="live")
    >>> pairs = pair_agreement(live, min_shared=5)
    >>> list(pairs.columns)
    ['reviewer_a', 'reviewer_b', 'n_submissions', 'n_shared', 'exact', 'within_one', 'mean_difference']
    """
    if (
        isinstance(min_shared, bool)
        or not isinstance(min_shared, int | np.integer)
        or min_shared < 1
    ):
        raise ValueError(f"min_shared must be a whole number >= 1; got {min_shared!r}")
    if criterion is not None:
        ratings = ratings.select(criterion=criterion)
    codes = _Codes(ratings)
    columns = [
        "reviewer_a",
        "reviewer_b",
        "n_submissions",
        "n_shared",
        "exact",
        "within_one",
        "mean_difference",
    ]
    if len(codes.score) == 0:
        return pd.DataFrame(columns=columns)
    # level positions within each rating's criterion: "one apart" means one level apart
    pos = np.zeros(len(codes.score))
    for c in np.unique(codes.crit):
        here = codes.crit == c
        scores = np.array(codes.rubric.criterion(codes.crit_ids[c]).scores, dtype=float)
        pos[here] = np.searchsorted(scores, codes.score[here])
    submission = (codes.rnd + 1) * codes.n_sub + codes.sub
    unit, _ = _dense(submission * len(codes.crit_ids) + codes.crit)
    ia, ib = _pair_index(unit, codes.rev)
    ra, rb = codes.rev[ia], codes.rev[ib]
    frame = pd.DataFrame(
        {
            "a": ra,
            "b": rb,
            "submission": submission[ia],
            "exact": (codes.score[ia] == codes.score[ib]).astype(float),
            "within_one": (np.abs(pos[ia] - pos[ib]) <= 1).astype(float),
            "mean_difference": codes.score[ia] - codes.score[ib],
        }
    )
    g = frame.groupby(["a", "b"], sort=True)
    out = g[["exact", "within_one", "mean_difference"]].mean()
    out.insert(0, "n_shared", g.size())
    out.insert(0, "n_submissions", g["submission"].nunique())
    out = out[out["n_submissions"] >= min_shared].reset_index()
    labels = codes.reviewer_ids
    return pd.DataFrame(
        {
            "reviewer_a": labels[out["a"].to_numpy()].astype(str),
            "reviewer_b": labels[out["b"].to_numpy()].astype(str),
            "n_submissions": out["n_submissions"].to_numpy(dtype=np.int64),
            "n_shared": out["n_shared"].to_numpy(dtype=np.int64),
            "exact": out["exact"].to_numpy(),
            "within_one": out["within_one"].to_numpy(),
            "mean_difference": out["mean_difference"].to_numpy(),
        },
        columns=columns,
    )
