"""Reliability of a whole ratings table as one tidy frame: per criterion, round, reviewer pair
and for the pass / not yet decision, with intervals and interpretation bands.

The bands are in :mod:`._bands`, the decisions as ratings in :mod:`._decisions`, the reviewer
pairs in :mod:`._pairs`; this module plans which coefficients each group gets and builds the
table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from calibrate._checks import check_choice, check_confidence_level
from calibrate.ratings import VERSION_COLUMN, RatingsTable, VersionedRatings, compact
from calibrate.reliability._bands import interpretation_band
from calibrate.reliability._bootstrap import BOOTSTRAP_METHODS, COEFFICIENTS, bootstrap
from calibrate.reliability._classification import CLASSIFICATION_METHODS
from calibrate.reliability._data import CodedRatings, _encode
from calibrate.reliability._decision_classes import CLASSIFICATION_COLUMNS, classification_rows
from calibrate.reliability._decisions import _decisions
from calibrate.reliability._icc import _check_options, _compute
from calibrate.reliability._icc_design import _design_from_data
from calibrate.reliability._icc_forms import _CANONICAL, _MCGRAW_WONG, _SF_FORMS
from calibrate.reliability._pairs import _pairs
from calibrate.reliability._result import ReliabilityResult
from calibrate.reliability._weights import WEIGHT_NAMES

if TYPE_CHECKING:
    from calibrate.ratings import RatingCodes
    from calibrate.rubric import Rubric

__all__ = ["BREAKDOWNS", "TABLE_COLUMNS", "WEIGHT_FAMILIES", "reliability_table"]

#: What :func:`reliability_table` can break the ratings down by.
BREAKDOWNS: tuple[str, ...] = ("criterion", "round", "pair", "rubric_version", "attempt")
#: The columns of :func:`reliability_table`'s frame (key columns appear only when asked for).
TABLE_COLUMNS: tuple[str, ...] = (
    "coefficient",
    "level",
    "criterion_id",
    "rubric_version",
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
    "weights",
    "form",
    "form_mcgraw_wong",
    "F",
    "df1",
    "df2",
    "p",
    "p_value",
)
#: ``criterion_id`` of the rows pooling every criterion (the pass / not yet rows have
#: ``_decisions.DECISION``).
ALL_CRITERIA = "all"
_LEVELS = ("nominal", "ordinal", "interval", "ratio")

Level = Literal["nominal", "ordinal", "interval", "ratio"]

#: Rubric id of decimal scores read without a rubric (``calibrate.io.DECIMAL_SCORES_RUBRIC``):
#: the level scores are positions and the labels the values the statistics use.
_DECIMAL_SCORES_RUBRIC = "decimal-scores-as-given"

#: The weight families ``coefficients='all'`` uses at each level: identity for nominal
#: scores; at ordinal and interval every family but ratio (ratio weights need a true zero);
#: at ratio all eight (ratio left out for a group with a negative score, where it is undefined).
WEIGHT_FAMILIES: dict[str, tuple[str, ...]] = {
    "nominal": ("identity",),
    "ordinal": tuple(w for w in WEIGHT_NAMES if w != "ratio"),
    "interval": tuple(w for w in WEIGHT_NAMES if w != "ratio"),
    "ratio": WEIGHT_NAMES,
}
#: Coefficients that take ``weights=``.
_WEIGHTED = {
    "cohen_kappa",
    "fleiss_kappa",
    "conger_kappa",
    "gwet_ac2",
    "brennan_prediger",
    "percent_agreement",
    "light_kappa",
}


# ----------------------------------------------------------------------------------------
# One group's ratings as CodedRatings, read from the table's codes
# ----------------------------------------------------------------------------------------
def _categories(rubric: Rubric, codes: RatingCodes, crit_codes: Sequence[int]) -> np.ndarray:
    scores: set[int] = set()
    for c in crit_codes:
        scores |= set(rubric.criterion(codes.criterion_ids[c]).scores)
    return np.array(sorted(scores), dtype=float)


def _values(rubric: Rubric, cats: np.ndarray) -> np.ndarray:
    """The values the statistics use for the level scores ``cats``: the scores themselves,
    or for decimal scores read without a rubric the decimals their labels hold."""
    if rubric.id != _DECIMAL_SCORES_RUBRIC:
        return cats
    value = {lv.score: float(lv.label) for c in rubric.criteria for lv in c.levels}
    return np.array([value[int(s)] for s in cats], dtype=float)


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
        categories=_values(rubric, cats),
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


#: ``coefficients`` asking for every coefficient, weight family and ICC form.
ALL = "all"
Plan = list[tuple[str, dict[str, Any], dict[str, Any]]]
Families = list[tuple[str, Any]]


def _plan(
    level: str,
    wanted: set[str] | str | None,
    n_raters: int,
    weights: Families | None = None,
    icc_forms: Sequence[str] | None = None,
    categories: np.ndarray | None = None,
) -> Plan:
    """(coefficient, options, row fields) to compute for one group's ratings at one level.

    ``wanted`` None: the level's defaults, one weight family (``_SETTINGS``) and ICC(2,1);
    ``'all'``: every coefficient, the families of :data:`WEIGHT_FAMILIES` and the six
    ICC forms (the ICC only where the level allows it; ratio weights only on scores >= 0,
    given ``categories``). ``weights`` ((label, name or matrix) pairs) and ``icc_forms``
    replace the families and forms.
    """
    s = _SETTINGS[level]
    everything = wanted == ALL
    if everything:
        names = set(_ORDER) if s["icc"] else set(_ORDER) - {"icc"}
    elif wanted is None:
        names = {
            "krippendorff_alpha",
            "percent_agreement",
            "fleiss_kappa",
            "conger_kappa",
            "brennan_prediger",
            "gwet_ac2" if s["weights"] != "identity" else "gwet_ac1",
        }
        if s["icc"]:
            names.add("icc")
        if n_raters == 2:
            names.add("cohen_kappa")
    else:
        names = set(wanted)
    families = weights if weights is not None else _families(level, everything, categories)
    forms = icc_forms if icc_forms is not None else (_SF_FORMS if everything else ("ICC(2,1)",))
    plan: Plan = []
    for name in _ORDER:
        if name not in names:
            continue
        if name == "cohen_kappa" and n_raters != 2:
            continue  # two raters only; reviewer pairs come from by=("pair",)
        if name == "krippendorff_alpha":
            plan.append((name, {"level": s["alpha"]}, {}))
        elif name == "percent_agreement":
            plan.append((name, {"level": "exact"}, {}))
            if s["within_one"]:
                plan.append((name, {"level": "within_one"}, {}))
            if name in _WEIGHTED and (everything or weights is not None):
                plan += [(name, {"weights": w}, {"weights": lab}) for lab, w in families]
        elif name == "gwet_ac1":
            plan.append((name, {}, {}))
        elif name == "icc":
            plan += [(name, {"form": f}, {"form": f}) for f in forms]
        else:
            plan += [(name, {"weights": w}, {"weights": lab}) for lab, w in families]
    return plan


def _families(level: str, everything: bool, categories: np.ndarray | None) -> Families:
    """The level's weight families: its one default, or all that fit (``'all'``)."""
    if not everything:
        return [(_SETTINGS[level]["weights"],) * 2]
    negative = categories is not None and len(categories) > 0 and categories[0] < 0
    return [(w, w) for w in WEIGHT_FAMILIES[level] if not (w == "ratio" and negative)]


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


def _check_coefficients(coefficients: object) -> set[str] | str | None:
    if coefficients is None:
        return None
    names = [coefficients] if isinstance(coefficients, str) else list(coefficients)  # type: ignore[call-overload]
    if ALL in names:
        return ALL
    for n in names:
        check_choice("coefficients", n, (*COEFFICIENTS, *CLASSIFICATION_METHODS, ALL))
    return set(names)


def _check_weights(weights: object) -> Families | None:
    """(label, name or matrix) per weight family asked for."""
    if weights is None:
        return None
    items = (
        [w.strip() for w in weights.split(",") if w.strip()]
        if isinstance(weights, str)
        else list(weights)  # type: ignore[call-overload]
    )
    if not items:
        raise ValueError("weights must name at least one weight family; got none")
    n_matrices = sum(not isinstance(w, str | tuple) for w in items)
    out: Families = []
    for i, w in enumerate(items):
        if isinstance(w, str):
            out.append((w, check_choice("weights", w, WEIGHT_NAMES)))
            continue
        label = "custom" if n_matrices == 1 else f"custom:{i + 1}"
        if isinstance(w, tuple):
            if len(w) != 2 or not isinstance(w[0], str):
                raise TypeError(
                    f"weights entries are names, q x q matrices or (label, matrix) pairs; got {w!r}"
                )
            label, w = w
        m = np.asarray(w, dtype=float)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(
                f"weights matrix {label!r} must be square (q x q); got shape {m.shape}"
            )
        out.append((label, m))
    labels = [lab for lab, _ in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"weights lists a family more than once; got {labels}")
    return out


def _check_icc_forms(icc_forms: object) -> tuple[str, ...] | None:
    """Shrout & Fleiss names of the ICC forms asked for, in their order."""
    if icc_forms is None:
        return None
    if isinstance(icc_forms, str):
        # "ICC(1,1),ICC(3,k)": split at the commas outside the parentheses
        items = [f.strip() for f in re.split(r",(?![^()]*\))", icc_forms) if f.strip()]
    else:
        items = list(icc_forms)  # type: ignore[call-overload]
    wanted = {_CANONICAL[check_choice("icc_forms", f, tuple(_CANONICAL))] for f in items}
    if not wanted:
        raise ValueError("icc_forms must name at least one ICC form; got none")
    return tuple(f for f in _SF_FORMS if f in wanted)


def reliability_table(
    ratings: RatingsTable | VersionedRatings,
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
    weights: str | Iterable[Any] | None = None,
    icc_forms: str | Iterable[str] | None = None,
    attempts: Mapping[str, int] | pd.Series | None = None,
) -> pd.DataFrame:
    """Every reliability coefficient of a ratings table, broken down, as one tidy frame.

    Parameters
    ----------
    ratings : RatingsTable or VersionedRatings
        A unit is a submission in a round: the same anchor scored in two calibration
        rounds is two units. A :class:`~calibrate.ratings.VersionedRatings` (from
        :func:`~calibrate.ratings.combine_versions`) is read as its combined table; with
        ``by`` 'rubric_version' and 'criterion' the criteria it left out (changed or
        retired in a revision) get rows in their own version too, on that version's
        ratings and rubric, with a note and no difference.
    rubric : Rubric, optional
        Whose pass rule gives the decision rows (default: the table's rubric).
    level : {'nominal', 'ordinal', 'interval', 'ratio'}, optional
        Level of measurement of the scores. Default 'ordinal' (rubric levels are
        ordered). It sets Krippendorff's metric, the weights of the kappas, AC2 and
        Brennan-Prediger (identity for nominal, quadratic for ordinal and interval,
        ratio for ratio), whether within-one agreement and the ICC are reported
        (not for nominal), and AC1 (nominal) or AC2 (others).
    by : str or iterable of {'criterion', 'round', 'pair', 'rubric_version'}, default ('criterion',)
        Breakdowns, combined: 'criterion' (else every criterion pooled, a unit being a
        submission's criterion, ``criterion_id`` 'all'), 'round' (``round_id``; None for
        ratings outside rounds), 'pair' (adds Cohen's kappa for every pair of reviewers
        sharing at least ``min_pair_units`` units, keys ``reviewer_a``, ``reviewer_b``).
        'rubric_version' (ratings with a ``rubric_version`` column, from
        :func:`calibrate.ratings.combine_versions`, ``Store.ratings_across_versions`` or a
        file read with :func:`calibrate.io.read_versioned_ratings`): every row once per
        version (``rubric_version`` '1.0', '2.0', oldest first, each on that version's
        ratings alone), then per older version the rows of the difference newest minus
        older (``rubric_version`` '2.0 - 1.0') of each coefficient both versions have:
        ``estimate`` the difference, ``ci_low``/``ci_high`` the percentile interval of the
        differences of the two versions' bootstrap estimates (each version's submissions
        resampled on their own; needs ``bootstrap`` > 0, else NaN with a note), ``se``
        their SD, ``n_units`` both versions' units, no band. Classification rows get no
        difference.
        ``()``, None or 'overall' give the overall rows. A string may list several
        separated by commas.
    coefficients : str or iterable of str, optional
        Which coefficients (names as in :data:`COEFFICIENTS`); default all that fit the
        level, in one weight family each and ICC(2,1). ``'all'``: every coefficient, the
        weighted ones (Cohen's, Conger's and Fleiss' kappa, AC2, Brennan-Prediger and
        percent agreement where it takes ``weights=``) in every family of
        :data:`WEIGHT_FAMILIES` for the level (nominal: identity; ordinal and interval:
        all but ratio, whose weights need a true zero; ratio: all eight, ratio weights
        only when no score is negative), and the six
        ICC forms (not at nominal), and the two classification rows below. Cohen's kappa
        needs exactly two reviewers in the group (or 'pair').
        ``'livingston_lewis'`` and ``'rudner'`` (named, or with ``'all'``; never by
        default) add a row each to the decision rows: classification accuracy and
        consistency of the pass rule's total cut ``min_total`` (:func:`livingston_lewis`
        on every complete review's total with ICC(2,1) of the review totals as the
        reliability; :func:`rudner` on each submission's many-facet Rasch measure and SE
        with the cut at the ability whose expected total, at average severity, is
        ``min_total``). Their ``estimate`` is the consistency; the columns of
        :data:`CLASSIFICATION_COLUMNS` (``accuracy``, ``consistency``, ``kappa``,
        ``false_pass``, ``false_fail``, ``pass_rate``, ``cut``, ``reliability_used``,
        ``effective_length``, ``true_model``) are added to the frame only when such a row
        is present. They are computed on the whole table (``round_id`` None under
        'round'), are not bootstrapped, and for a rule without ``min_total`` are NaN with
        a note.
    decision : bool, default True
        Add rows for the pass / not yet decision (``criterion_id`` 'decision'), from
        :func:`decision_ratings`, with nominal coefficients.
    bootstrap : int, default 0
        Bootstrap resamples per row (0: analytic intervals where published, ICC's F
        interval). See :func:`bootstrap`. Every coefficient of a group (a criterion, a
        round, a reviewer pair) is bootstrapped with the same seed, drawn for the group
        from ``rng`` (so a group's intervals do not depend on which other coefficients
        are asked for); the ICC forms and Conger's kappa then resample the same units,
        drawn once.
    method : {'bca', 'percentile'}, default 'bca'
        Bootstrap interval method.
    confidence_level : float, default 0.95
    min_pair_units : int, default 10
        Units two reviewers must share for a pair row.
    rng : int, Generator or None
        For the bootstrap.
    progress : bool or None
        Progress bars of long bootstraps (see :func:`bootstrap`).
    weights : str or iterable, optional
        Weight families of the weighted coefficients (and the reviewer pairs' Cohen's
        kappa), replacing the level's: names of :data:`WEIGHT_NAMES` (a string may list
        several separated by commas), q x q agreement matrices (as ``weights=`` of the
        coefficients; row field ``weights`` 'custom') or (label, matrix) pairs. One row per
        coefficient and family, the family in ``weights``. The decision rows keep identity.
    icc_forms : str or iterable of str, optional
        ICC forms (:data:`ICC_FORMS`, Shrout & Fleiss or McGraw & Wong names; a string may
        list several separated by commas), replacing ICC(2,1) (or the six of 'all'). All
        forms of a group come from one fit.
    attempts : mapping or Series, optional
        Each submission's attempt number (submission id -> 1, 2, ...:
        :func:`calibrate.io.submission_attempts`), for ``by`` 'attempt': every breakdown
        is then made within each attempt (key ``attempt``; <NA> for submissions without
        one), each attempt being its own submissions. Attempts are separate submissions
        whatever ``by`` is: they have their own submission ids.

    Returns
    -------
    DataFrame
        One row per coefficient (and level/weights/form) per breakdown, with the columns
        of :data:`TABLE_COLUMNS` (``round_id`` only with 'round', ``reviewer_a`` and
        ``reviewer_b`` only with 'pair'): ``ci_method`` says how the interval was
        obtained, ``band`` and ``band_source`` give the conventional interpretation
        (:func:`interpretation_band`), ``note`` why a coefficient is undefined or caveats.
        ``weights`` is the weight family of a weighted coefficient (None for the others);
        ICC rows have ``form`` (Shrout & Fleiss), ``form_mcgraw_wong`` and the F test of
        ICC = 0, ``F``, ``df1``, ``df2`` and ``p`` (None elsewhere, and without F test).
        ``p_value`` is each coefficient's test of H0: coefficient = 0 as its reference
        implementation reports it (:attr:`ReliabilityResult.p_value`; NaN where there is none).
        Each estimate equals the direct call of the coefficient on the group's ratings.

    References
    ----------
    Gwet, K. L. (2014). *Handbook of Inter-Rater Reliability* (4th ed.), ch. 3.
    Advanced Analytics.

    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
    correlation coefficients. *Psychological Methods*, 1(1), 30-46.

    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
    rater reliability. *Psychological Bulletin*, 86(2), 420-428.

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
    families = _check_weights(weights)
    forms = _check_icc_forms(icc_forms)
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
    if "attempt" in keys and "rubric_version" in keys:
        raise ValueError(
            "by 'attempt' and 'rubric_version' together is not supported: break down by one, "
            "then the other"
        )
    if "attempt" in keys:
        return _by_attempt(
            ratings.ratings if isinstance(ratings, VersionedRatings) else ratings,
            attempts,
            rubric=rubric,
            level=level,
            by=tuple(k for k in keys if k != "attempt"),
            coefficients=coefficients,
            decision=decision,
            bootstrap=bootstrap,
            method=method,
            confidence_level=confidence_level,
            min_pair_units=min_pair_units,
            rng=gen,
            progress=progress,
            weights=weights,
            icc_forms=icc_forms,
        )
    if attempts is not None:
        raise ValueError("attempts are for by='attempt'; add 'attempt' to by or drop attempts")
    compute = _Computer(int(bootstrap), meth, cl, gen, progress)
    options = (keys, wanted, families, forms, cl, min_pair_units, decision)
    versioned = ratings if isinstance(ratings, VersionedRatings) else None
    table = ratings.ratings if isinstance(ratings, VersionedRatings) else ratings
    if "rubric_version" in keys:
        rows = _version_rows(table, rubric, lvl, compute, options, versioned)
    else:
        rows = _rows(table, rubric, lvl, compute, options)
    classified = any(r["coefficient"] in CLASSIFICATION_METHODS for r in rows)
    columns = [
        c
        for c in TABLE_COLUMNS
        if not (c == "round_id" and "round" not in keys)
        and not (c in ("reviewer_a", "reviewer_b") and "pair" not in keys)
        and not (c == "rubric_version" and "rubric_version" not in keys)
    ] + (list(CLASSIFICATION_COLUMNS) if classified else [])
    return pd.DataFrame(rows, columns=columns)


def _rows(
    ratings: RatingsTable,
    rubric: Rubric | None,
    lvl: str,
    compute: _Computer,
    options: tuple[Any, ...],
) -> list[dict[str, Any]]:
    """The table's rows for one set of ratings (a rubric version's, or all)."""
    keys, wanted, families, forms, cl, min_pair_units, decision = options
    rows: list[dict[str, Any]] = []
    rows += _table_rows(
        ratings, lvl, keys, wanted, compute, min_pair_units, decision=False, weights=families,
        icc_forms=forms,
    )  # fmt: skip
    if decision:
        dec, incomplete = _decisions(ratings, rubric)
        note = (
            f"{incomplete} reviewer score set(s) with a criterion unscored left out of the decisions"
            if incomplete
            else ""
        )
        dec_rows = _table_rows(
            dec, "nominal", keys, wanted, compute, min_pair_units, decision=True, icc_forms=forms
        )
        methods = (
            set(CLASSIFICATION_METHODS)
            if wanted == ALL
            else set(wanted or ()) & set(CLASSIFICATION_METHODS)
        )
        if methods:
            key: dict[str, Any] = {}  # on all the table's reviews (no round or pair split)
            if "round" in keys:
                key["round_id"] = None
            if "pair" in keys:
                key |= {"reviewer_a": None, "reviewer_b": None}
            dec_rows += classification_rows(ratings, rubric, methods, key, cl)
        for r in dec_rows:
            r["note"] = "; ".join(x for x in (r["note"], note) if x)
        rows += dec_rows
    return rows


#: The fields a row of one version is matched on with the same row of another.
_MATCH = (
    "coefficient",
    "level",
    "criterion_id",
    "round_id",
    "reviewer_a",
    "reviewer_b",
    "weights",
    "form",
)


def _version_rows(
    ratings: RatingsTable,
    rubric: Rubric | None,
    lvl: str,
    compute: _Computer,
    options: tuple[Any, ...],
    versioned: VersionedRatings | None,
) -> list[dict[str, Any]]:
    """Rows per rubric version, then the differences newest minus each older version.

    Each version's groups are bootstrapped on their own seeds (resampling that version's
    submissions), so the versions' bootstrap estimates are independent draws and their
    differences, resample by resample, are the bootstrap distribution of the difference;
    its interval is the percentile interval of those differences.
    """
    frame = ratings.frame
    if VERSION_COLUMN not in frame.columns:
        raise ValueError(
            "by='rubric_version' needs ratings with a rubric_version column: a table from "
            "calibrate.ratings.combine_versions or Store.ratings_across_versions, or a ratings "
            "file with the rubric_version column calibrate export writes"
        )
    col = frame[VERSION_COLUMN]
    versions = (
        [str(v) for v in col.cat.categories if (col == v).any()]
        if isinstance(col.dtype, pd.CategoricalDtype)
        else list(dict.fromkeys(col.astype(str)))
    )
    per: dict[str, list[dict[str, Any]]] = {}
    for v in versions:
        part = RatingsTable(
            frame.loc[(col.astype(str) == v).to_numpy()].reset_index(drop=True),
            ratings.rubric,
            ratings.source,
        )
        per[v] = [r | {VERSION_COLUMN: v} for r in _rows(part, rubric, lvl, compute, options)]
        if versioned is not None and "criterion" in options[0]:
            per[v] += _not_carried_rows(versioned, v, lvl, compute, options)
    rows = [r for v in versions for r in per[v]]
    newest = versions[-1]
    by_key = {tuple(r.get(k) for k in _MATCH): r for r in per[newest]}
    for v in versions[:-1]:
        for old in per[v]:
            new = by_key.get(tuple(old.get(k) for k in _MATCH))
            if (
                new is not None
                and old["coefficient"] not in CLASSIFICATION_METHODS
                and not old.get("_not_carried")
            ):
                rows.append(_difference(new, old, f"{newest} - {v}", compute))
    return rows


def _not_carried_rows(
    versioned: VersionedRatings,
    version: str,
    lvl: str,
    compute: _Computer,
    options: tuple[Any, ...],
) -> list[dict[str, Any]]:
    """Rows of the criteria of ``version`` that were not carried over to the newest, on
    that version's own ratings and rubric (no difference: they are not comparable)."""
    out: list[dict[str, Any]] = []
    dropped = versioned.dropped
    for r in dropped.loc[dropped[VERSION_COLUMN] == version].itertuples():
        part = versioned.tables[version].select(criterion=str(r.criterion_id))
        if len(part) == 0:
            continue
        note = f"{r.reason}: this criterion is analysed within version {version} only"
        own = (*options[:6], False)  # no decision rows: the version's own are above
        for row in _rows(part, None, lvl, compute, own):
            row["note"] = "; ".join(x for x in (row["note"], note) if x)
            out.append(row | {VERSION_COLUMN: version, "_not_carried": True})
    return out


def _difference(
    new: dict[str, Any], old: dict[str, Any], label: str, compute: _Computer
) -> dict[str, Any]:
    """A row of ``new``'s estimate minus ``old``'s, with the bootstrap interval of the
    difference when both were bootstrapped."""
    estimate = new["estimate"] - old["estimate"]
    a, b = new.get("_boot"), old.get("_boot")
    low = high = se = np.nan
    method, notes = "none", []
    if a is None or b is None:
        notes.append(
            "no bootstrap interval of the difference: give bootstrap=N (--bootstrap N)"
            if not compute.n_boot
            else "a version's coefficient is undefined: no interval of the difference"
        )
    else:
        d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
        d = d[np.isfinite(d)]
        if len(d) >= 2:
            tail = (1.0 - compute.cl) / 2.0
            low, high = (float(x) for x in np.quantile(d, [tail, 1.0 - tail]))
            se, method = float(np.std(d, ddof=1)), "bootstrap-percentile"
        else:
            notes.append("too few resamples with both coefficients defined for an interval")
    if not np.isfinite(estimate):
        notes.append("undefined in a version: no difference")
    row: dict[str, Any] = dict.fromkeys(new)
    row.update({k: new[k] for k in _MATCH if k in new})
    row.update(
        {
            VERSION_COLUMN: label,
            "estimate": estimate,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "ci_method": method,
            "confidence_level": compute.cl,
            "n_units": int(new["n_units"]) + int(old["n_units"]),
            "n_pairable": int(new["n_pairable"]) + int(old["n_pairable"]),
            "note": "; ".join(notes),
            "form_mcgraw_wong": new.get("form_mcgraw_wong"),
            "band": None,
            "band_source": None,
            "F": np.nan,
            "df1": np.nan,
            "df2": np.nan,
            "p": np.nan,
            "p_value": np.nan,
        }
    )
    return row


def _by_attempt(ratings: RatingsTable, attempts: object, **options: Any) -> pd.DataFrame:
    """:func:`reliability_table` within each attempt number (one generator for all)."""
    if attempts is None:
        raise ValueError(
            "by 'attempt' needs attempts: each submission's attempt number (submission id -> 1, 2, ...)"
        )
    if not isinstance(attempts, Mapping | pd.Series):
        raise TypeError(
            f"attempts must map submission ids to attempt numbers; got {type(attempts).__name__}"
        )
    of = {str(k): v for k, v in dict(attempts).items()}
    bad = [
        (k, v)
        for k, v in of.items()
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1
    ]
    if bad:
        raise ValueError(
            f"attempts must be whole numbers >= 1; got {bad[0][1]!r} for {bad[0][0]!r}"
        )
    subs = ratings.frame["submission_id"].astype(str)
    number = subs.map(of)
    parts = []
    for a in [*sorted({int(v) for v in number.dropna()}), None]:
        mask = number.isna() if a is None else number == a
        if not mask.any():
            continue
        part = RatingsTable(
            ratings.frame.loc[mask.to_numpy()].reset_index(drop=True),
            ratings.rubric,
            ratings.source,
        )
        rows = reliability_table(part, **options)
        rows.insert(2, "attempt", pd.array([a] * len(rows), dtype="Int64"))
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


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
        self.group_seed: int | None = None

    def start_group(self) -> None:
        """A new group: its coefficients are bootstrapped on the same resamples of its
        units (one seed per group, drawn in group order from the table's generator)."""
        if self.n_boot:
            self.group_seed = int(self.gen.integers(0, 2**63))

    def _rng(self) -> np.random.Generator:
        if self.group_seed is None:
            return self.gen
        return np.random.default_rng(self.group_seed)

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
                rng=self._rng(),
                progress=self.progress,
                **options,
            )
        return COEFFICIENTS[name](coded, confidence_level=self.cl, **options)

    def iccs(self, coded: CodedRatings, forms: Sequence[str]) -> list[ReliabilityResult]:
        """Several ICC forms: from one fit (as :func:`icc_all`), or bootstrapped one by one."""
        if self.n_boot:
            return [self("icc", coded, {"form": f}) for f in forms]
        _, level, estimator = _check_options("ICC(2,1)", self.cl, None, None, None)
        return _compute(_design_from_data(coded), tuple(forms), level, estimator, None)


_NO_ICC = {"form": None, "form_mcgraw_wong": None, "F": None, "df1": None, "df2": None, "p": None}


def _row(
    result: ReliabilityResult, keys: dict[str, Any], meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    band, source = interpretation_band(result.coefficient, result.estimate)
    meta = meta or {}
    if "form" in meta:
        e = result.extra
        icc_fields = {
            "form": meta["form"],
            "form_mcgraw_wong": _MCGRAW_WONG[meta["form"]],
            "F": e.get("F", np.nan),
            "df1": e.get("df1", np.nan),
            "df2": e.get("df2", np.nan),
            "p": e.get("p_value", np.nan),
        }
    else:
        icc_fields = _NO_ICC
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
        "weights": meta.get("weights"),
        **icc_fields,
        "p_value": result.p_value,
        # the bootstrap estimates, for differences between rubric versions (not a column)
        "_boot": result.bootstrap_estimates,
    }


def _table_rows(
    ratings: RatingsTable,
    level: str,
    keys: tuple[str, ...],
    wanted: set[str] | str | None,
    compute: _Computer,
    min_pair_units: int,
    *,
    decision: bool,
    weights: Families | None = None,
    icc_forms: Sequence[str] | None = None,
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
            compute.start_group()
            plan = _plan(level, wanted, coded.n_raters, weights, icc_forms, coded.categories)
            icc_plan = [meta["form"] for name, _, meta in plan if name == "icc"]
            iccs = iter(compute.iccs(coded, icc_plan) if icc_plan else [])
            for name, options, meta in plan:
                result = next(iccs) if name == "icc" else compute(name, coded, options)
                out.append(_row(result, key, meta))
            if "pair" in keys and (wanted is None or wanted == ALL or "cohen_kappa" in wanted):
                families = (
                    weights
                    if weights is not None
                    else _families(level, wanted == ALL, coded.categories)
                )
                for a, b, pair in _pairs(coded, min_pair_units):
                    pair_key = key | {"reviewer_a": a, "reviewer_b": b}
                    for lab, w in families:
                        result = compute("cohen_kappa", pair, {"weights": w})
                        out.append(_row(result, pair_key, {"weights": lab}))
    return out
