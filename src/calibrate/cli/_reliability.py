"""``calibrate reliability``: every coefficient by criterion, round and pair, and of decisions."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np

from calibrate._problems import DataProblemError, Problem
from calibrate.cli._inputs import (
    load_attempts,
    load_inputs,
    load_versioned,
    page_inputs,
    pseudonymizer_from,
    select_ratings,
)
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import (
    add_attempts_store,
    add_html,
    add_kind,
    add_older_rubric,
    add_pseudonymize,
    add_ratings_file,
    add_rubric,
    add_seed,
    add_sheet,
    add_wide,
)
from calibrate.cli._output import Outcome, frame_text
from calibrate.io import read_ratings_without_rubric

_WEIGHT_NAMES = (
    "identity",
    "linear",
    "quadratic",
    "ordinal",
    "radical",
    "ratio",
    "circular",
    "bipolar",
)
_CLASSIFICATION = ("livingston_lewis", "rudner")
_CLASSIFICATION_SHOWN = (
    "accuracy",
    "consistency",
    "kappa",
    "false_pass",
    "false_fail",
    "cut",
    "reliability_used",
    "effective_length",
)
_ICC_NAMES = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


def _configure(p: argparse.ArgumentParser) -> None:
    add_ratings_file(p)
    add_attempts_store(p)
    add_rubric(
        p,
        required=False,
        help="rubric YAML the scores are checked against; gives the levels and the pass rule "
        "(decision rows). Without it, give --level: a file with only submission_id, "
        "reviewer_id and score is then one criterion named 'score'",
    )
    p.add_argument(
        "--level",
        choices=("nominal", "ordinal", "interval", "ratio"),
        help="level of measurement of the scores (default with --rubric: ordinal). Without "
        "--rubric the scores may be: nominal: whole numbers or labels (a, Proficient, met; "
        "matched ignoring case); ordinal: whole numbers, or labels with --order; interval, "
        "ratio: whole numbers or decimals. Decimals at nominal/ordinal are refused (they are "
        "measurements, not categories; --order makes them labels)",
    )
    p.add_argument(
        "--order",
        metavar="L1,L2,...",
        help="without --rubric, at --level ordinal (or nominal): the score labels in order, "
        "lowest first; every score must be one of them",
    )
    p.add_argument(
        "--by",
        default="criterion",
        metavar="KEYS",
        help="breakdowns, comma-separated: criterion, round, pair (reviewer pairs, Cohen's kappa), "
        "rubric_version (rows per rubric version and the difference newest minus older with a "
        "bootstrap interval; the file's rubric_version column, as calibrate export writes it, "
        "with --rubric the newest version and --older-rubric the others), "
        "attempt (each attempt number of educators' resubmissions: the file's educator_id and "
        "attempt or resubmission_of columns, or --store) or overall (default: criterion)",
    )
    add_older_rubric(p)
    p.add_argument(
        "--coefficients",
        metavar="NAMES",
        help="comma-separated coefficients (default: those that fit the level, one weight "
        "family each, ICC(2,1)): krippendorff_alpha, cohen_kappa, fleiss_kappa, conger_kappa, "
        "gwet_ac1, gwet_ac2, brennan_prediger, icc, percent_agreement; for the pass decision "
        "(with --rubric, a rule with min_total) livingston_lewis and rudner: classification "
        "accuracy and consistency of the total cut (one row each, estimate = consistency, "
        "fields accuracy, consistency, kappa, false_pass, false_fail, pass_rate, cut, "
        "reliability_used, effective_length, true_model); or 'all': every "
        "coefficient, the weighted ones in every weight family that fits the level (nominal: "
        "identity; ordinal, interval: all but ratio, whose weights need a true zero; ratio: all "
        "eight), all six ICC forms (not at nominal) and the two classification rows",
    )
    p.add_argument(
        "--weights",
        metavar="NAMES",
        help="weight families of the weighted coefficients (Cohen's, Conger's, Fleiss' kappa, "
        "gwet_ac2, brennan_prediger, weighted percent agreement where available), "
        "comma-separated, replacing the level's: " + ", ".join(_WEIGHT_NAMES) + " (irrCAC's), "
        "or custom:FILE, a q x q agreement matrix in CSV (q = number of levels, lowest first; "
        "an optional header row names the levels; values in [0, 1], ones on the diagonal). "
        "One row per coefficient and family, the family in the row's 'weights'",
    )
    p.add_argument(
        "--icc",
        metavar="FORMS",
        help="ICC forms, comma-separated: " + ", ".join(_ICC_NAMES) + " (Shrout-Fleiss) or the "
        "McGraw-Wong names ICC(1), ICC(A,1), ICC(C,1), ICC(k), ICC(A,k), ICC(C,k) (default "
        "ICC(2,1); with --coefficients all: all six), computed from one fit; rows carry form, "
        "form_mcgraw_wong and the F test of ICC = 0: F, df1, df2, p",
    )
    add_kind(
        p, default="all", help="which ratings (default: all; a unit is a submission within a round)"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=None,
        metavar="N",
        help="bootstrap resamples of submissions per row (default 0: analytic intervals; "
        "1000 with --by rubric_version, for the interval of the difference)",
    )
    p.add_argument(
        "--method",
        choices=("bca", "percentile"),
        default="bca",
        help="bootstrap interval (default bca)",
    )
    add_seed(p, default=None, help="random seed for the bootstrap")
    p.add_argument(
        "--confidence-level",
        type=float,
        default=0.95,
        metavar="P",
        help="confidence level of the intervals (default 0.95)",
    )
    p.add_argument(
        "--min-pair-units",
        type=int,
        default=10,
        metavar="N",
        help="submissions two reviewers must share for a pair row (default 10)",
    )
    p.add_argument(
        "--no-decision",
        action="store_true",
        help="leave out the pass / not yet decision rows",
    )
    add_wide(
        p,
        help="RATINGS is a form export: a row per reviewer and submission, a column per criterion (needs --rubric)",
    )
    add_sheet(p)
    add_pseudonymize(p)
    add_html(
        p,
        help="also write the reliability page (plain-words summary, forest plot, full table) there",
    )


def _split(text: str | None) -> list[str]:
    return [] if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _icc_split(text: str | None) -> list[str]:
    # "ICC(1,1),ICC(3,k)": the commas outside the parentheses separate forms
    return (
        [] if text is None else [t.strip() for t in re.split(r",(?![^()]*\))", text) if t.strip()]
    )


def _icc_accepted() -> tuple[str, ...]:
    from calibrate.reliability import ICC_FORMS

    return ICC_FORMS


def _custom_weights(path_text: str, table: Any) -> np.ndarray:
    """A q x q agreement matrix from a CSV file, checked against the table's levels."""
    import pandas as pd

    path = Path(path_text)
    if not path.is_file():
        raise FileNotFoundError(f"--weights custom:{path_text}: no such file")
    src = str(path)
    try:
        cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataProblemError(
            [Problem(f"weight matrix cannot be read as CSV ({exc})", file=src)]
        ) from None
    cells = cells.apply(lambda c: c.str.strip())
    criteria = table.rubric.criteria
    level_sets = {tuple(lv.label for lv in c.levels) for c in criteria}
    q_set = {len(c.levels) for c in criteria}
    first = cells.iloc[0].tolist() if len(cells) else []
    header = bool(first) and pd.to_numeric(pd.Series(first), errors="coerce").isna().any()
    problems: list[Problem] = []
    if header:
        names = [str(x) for x in first]
        body = cells.iloc[1:]
        ok = any(
            [n.casefold() for n in names] == [x.casefold() for x in labels]
            or names == [str(lv.score) for lv in c.levels]
            for c in criteria
            for labels in [tuple(lv.label for lv in c.levels)]
        )
        if not ok:
            expected = " or ".join(", ".join(s) for s in sorted(level_sets))
            problems.append(
                Problem(
                    f"the header row names levels {', '.join(names)}; expected the levels in "
                    f"order, lowest first: {expected}",
                    file=src,
                    row=1,
                )
            )
        row0 = 2
    else:
        body, row0 = cells, 1
    values = np.full(body.shape, np.nan)
    for i in range(body.shape[0]):
        for j in range(body.shape[1]):
            text = str(body.iat[i, j])
            try:
                v = float(text)
            except ValueError:
                v = np.nan
            if not np.isfinite(v) or not 0.0 <= v <= 1.0:
                problems.append(
                    Problem(
                        "a weight must be a number between 0 and 1",
                        file=src,
                        row=row0 + i,
                        column=str(j + 1),
                        value=text,
                    )
                )
            elif i == j and v != 1.0:
                problems.append(
                    Problem(
                        "the diagonal must be 1 (a score fully agrees with itself)",
                        file=src,
                        row=row0 + i,
                        column=str(j + 1),
                        value=text,
                    )
                )
            values[i, j] = v
    n_rows, n_cols = values.shape
    if n_rows != n_cols:
        problems.append(
            Problem(
                f"the weight matrix must be square; it has {n_rows} rows and {n_cols} columns",
                file=src,
            )
        )
    elif len(q_set) == 1 and n_rows not in q_set:
        (q,) = q_set
        problems.append(
            Problem(
                f"the weight matrix is {n_rows} x {n_rows}; the scores have {q} levels "
                f"({', '.join(next(iter(level_sets)))}), so it must be {q} x {q}",
                file=src,
            )
        )
    if problems:
        raise DataProblemError(problems)
    return values


def _weights(text: str | None, table: Any) -> list[Any] | None:
    if text is None:
        return None
    out: list[Any] = []
    for w in _split(text):
        if w.startswith("custom:"):
            out.append((w, _custom_weights(w[len("custom:") :], table)))
        else:
            out.append(w)
    return out


def _check_args(args: argparse.Namespace) -> None:
    from calibrate.reliability import BREAKDOWNS, CLASSIFICATION_METHODS, COEFFICIENTS

    if args.rubric is None and args.level is None:
        raise UsageError(
            "give --rubric RUBRIC (the scale and pass rule) or --level "
            "nominal|ordinal|interval|ratio (scores taken as they are)"
        )
    if args.wide and args.rubric is None:
        raise UsageError("--wide needs --rubric: the criterion columns are the rubric's")
    bad = [b for b in _split(args.by) if b not in (*BREAKDOWNS, "overall")]
    if bad:
        raise UsageError(
            "--by takes criterion, round, pair, rubric_version, attempt or overall "
            f"(comma-separated); got {', '.join(bad)}"
        )
    versioned = "rubric_version" in _split(args.by) or bool(args.older_rubric)
    if versioned and args.rubric is None:
        raise UsageError(
            "--by rubric_version and --older-rubric need --rubric (the newest version): each "
            "version's rubric says how its ratings read under the newest"
        )
    if versioned and args.wide:
        raise UsageError("--by rubric_version reads a long ratings file; drop --wide")
    if args.bootstrap is None:
        args.bootstrap = 1000 if "rubric_version" in _split(args.by) else 0
    known = (*COEFFICIENTS, *CLASSIFICATION_METHODS)
    bad = [c for c in _split(args.coefficients) if c not in (*known, "all")]
    if bad:
        raise UsageError(
            f"--coefficients must be among {', '.join(known)} or all; got {', '.join(bad)}"
        )
    asked = set(_split(args.coefficients)) & set(CLASSIFICATION_METHODS)
    if asked and (args.rubric is None or args.no_decision):
        raise UsageError(
            f"--coefficients {','.join(sorted(asked))} classify the pass decision: they need "
            "--rubric (its pass rule's min_total) and no --no-decision"
        )
    if args.order is not None:
        if args.rubric is not None:
            raise UsageError("--order is for files without --rubric (the rubric orders its levels)")
        if args.level not in ("nominal", "ordinal"):
            raise UsageError(
                f"--order names the order of score labels, at --level ordinal (or nominal); "
                f"got --level {args.level}"
            )
    bad = [
        w for w in _split(args.weights) if w not in _WEIGHT_NAMES and not w.startswith("custom:")
    ]
    if bad or (args.weights is not None and not _split(args.weights)):
        raise UsageError(
            f"--weights takes {', '.join(_WEIGHT_NAMES)} or custom:FILE (comma-separated); "
            f"got {', '.join(bad) or repr(args.weights)}"
        )
    bad = [f for f in _icc_split(args.icc) if f not in _icc_accepted()]
    if bad or (args.icc is not None and not _icc_split(args.icc)):
        raise UsageError(
            f"--icc takes {', '.join(_ICC_NAMES)} or their McGraw-Wong names (comma-separated); "
            f"got {', '.join(bad) or repr(args.icc)}"
        )
    if args.bootstrap < 0 or args.bootstrap == 1:
        raise UsageError(f"--bootstrap must be 0 or at least 2 resamples; got {args.bootstrap}")
    if not 0 < args.confidence_level < 1:
        raise UsageError(
            f"--confidence-level must be between 0 and 1 (exclusive); got {args.confidence_level}"
        )
    if args.min_pair_units < 1:
        raise UsageError(f"--min-pair-units must be at least 1; got {args.min_pair_units}")


@command(
    "reliability",
    "Inter-rater reliability per criterion, round and reviewer pair, and of the pass decision, "
    "with intervals (analytic or bootstrap) and interpretation bands.",
    _configure,
)
def _reliability(args: argparse.Namespace) -> Outcome:
    from calibrate.reliability import reliability_table

    _check_args(args)
    notes_versions: list[str] = []
    combined: Any = None
    hider = pseudonymizer_from(args)
    if args.rubric is not None and ("rubric_version" in _split(args.by) or args.older_rubric):
        from calibrate.ratings import combine_versions

        # hide and select each version's own table, then combine: the criteria left out
        # of the combined table are analysed on their version's table (hidden alike)
        parts = list(load_versioned(args).tables.values())
        if hider is not None:
            parts = [hider.table(t) for t in parts]
        if args.kind != "all":
            parts = [
                t.select(kind=args.kind) if t.frame["kind"].notna().any() else t for t in parts
            ]
        combined = combine_versions(parts)
        table = select_ratings(combined.ratings, kind="all")  # nothing left: a usage error
        decision = not args.no_decision
        notes_versions = combined.notes()
        if "rubric_version" not in _split(args.by):
            combined = None
    else:
        if args.rubric is not None:
            args.key = None
            _, table, _ = load_inputs(args)
            decision = not args.no_decision
        else:
            table = read_ratings_without_rubric(
                args.ratings, sheet=args.sheet, level=args.level, order=args.order
            )
            decision = False
        if hider is not None:
            table = hider.table(table)
        table = select_ratings(table, kind=args.kind)
    by = tuple(b for b in _split(args.by) if b != "overall")
    attempts = load_attempts(args) if "attempt" in by else None
    if attempts is not None and hider is not None:  # the table's ids are pseudonyms now
        attempts = attempts.set_axis([hider(str(s), "S") for s in attempts.index])
    coefficients = _split(args.coefficients) or None
    if coefficients is not None and "all" in coefficients:
        coefficients = ["all"]
    elif coefficients is not None and args.icc is not None and "icc" not in coefficients:
        coefficients.append("icc")  # --icc asks for the ICC
    weights = _weights(args.weights, table)
    try:
        rows = reliability_table(
            table if combined is None else combined,
            level=args.level,
            by=by,
            coefficients=coefficients,
            decision=decision,
            bootstrap=args.bootstrap,
            method=args.method,
            confidence_level=args.confidence_level,
            min_pair_units=args.min_pair_units,
            rng=args.seed,
            weights=weights,
            icc_forms=_icc_split(args.icc) or None,
            attempts=attempts,
        )
    except ValueError as exc:
        if weights is None or isinstance(exc, DataProblemError) or "weights" not in str(exc):
            raise
        # a custom matrix that does not fit some group's levels (criteria of different sizes)
        raise UsageError(f"--weights {args.weights}: {exc}") from None
    payload = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]
    shown = [
        c
        for c in (
            "attempt",
            "criterion_id",
            "rubric_version",
            "round_id",
            "reviewer_a",
            "reviewer_b",
            "coefficient",
            "level",
            *(["weights"] if rows["weights"].astype(str).str.startswith("custom").any() else []),
            "estimate",
            "ci_low",
            "ci_high",
            "n_units",
            "band",
        )
        if c in rows.columns
    ]
    classified = rows.loc[
        rows["coefficient"].isin(_CLASSIFICATION),
        ["coefficient", *(c for c in _CLASSIFICATION_SHOWN if c in rows.columns)],
    ]
    how = (
        f"{args.bootstrap} bootstrap resamples of submissions ({args.method})"
        if args.bootstrap
        else "analytic intervals (ICC: F)"
    )
    notes = rows.loc[rows["note"].astype(bool), ["coefficient", "level", "criterion_id", "note"]]
    what = (
        f"Reliability of {len(table)} ratings by {', '.join(by) or 'overall'}; "
        f"{args.confidence_level:.0%} {how}"
        + (
            "; rows 'NEW - OLD' are the difference between rubric versions, with the percentile "
            "interval of the differences of the versions' bootstrap estimates (each version's "
            "submissions resampled on their own)."
            if "rubric_version" in by
            else "."
        )
    )
    page = None
    if args.html:
        from calibrate.report import reliability_report

        report = reliability_report(rows, what=what).provenance(
            pseudonymised=hider is not None,
            inputs=page_inputs(
                args, hidden=hider is not None, rubric=table.rubric if args.rubric else None
            ),
        )
        page = report.write(args.html)
    text = "\n\n".join(
        [
            what,
            frame_text(rows[shown].fillna({"band": ""}), max_rows=200),
            *(
                [
                    "Pass decision, classification accuracy and consistency of the total cut "
                    "(estimate = consistency):\n" + frame_text(classified, max_rows=10)
                ]
                if len(classified)
                else []
            ),
            "Bands: " + "; ".join(sorted({str(s) for s in rows["band_source"].dropna()})),
        ]
        + (["Notes:\n" + frame_text(notes, max_rows=60)] if len(notes) else [])
        + (["Rubric versions:\n" + "\n".join(notes_versions)] if notes_versions else [])
        + ([f"HTML report: {page}"] if page is not None else [])
    )
    return Outcome(payload, text)
