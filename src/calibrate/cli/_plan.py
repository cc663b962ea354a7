"""``calibrate plan``: planning before scoring (``plan qualification``: how well the
qualification rule separates weak reviewers from good ones on N anchors; ``plan seeding``:
the share of seeded anchors the drift monitor needs to catch a drift in time)."""

from __future__ import annotations

import argparse
import math
import sys

from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_format, add_html, add_key, add_rubric, add_seed
from calibrate.cli._output import Outcome, frame_text

#: What ``calibrate plan`` plans.
PLANS = ("qualification", "seeding")
#: The standards ``--rule`` sets (those of ``calibrate round``).
RULE_FIELDS = ("min_exact", "min_adjacent", "min_decision")


def _rule_text(rule: object) -> str:
    return ",".join(f"{f}={getattr(rule, f):g}" for f in RULE_FIELDS)


def _rule_from(args: argparse.Namespace) -> dict[str, float]:
    """The standards given by ``--rule`` and the ``--min-*`` flags (each at most once)."""
    values: dict[str, float] = {}
    for part in (args.rule or "").split(","):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        name = name.strip().replace("-", "_")
        if not eq or name not in RULE_FIELDS:
            raise UsageError(
                f"--rule takes FIELD=VALUE pairs with FIELD among {list(RULE_FIELDS)}; got {part.strip()!r}"
            )
        try:
            values[name] = float(value)
        except ValueError:
            raise UsageError(f"--rule {name} must be a number; got {value.strip()!r}") from None
    for name in RULE_FIELDS:
        flag = getattr(args, name)
        if flag is not None:
            if name in values:
                raise UsageError(
                    f"{name} is set twice: by --rule and by --{name.replace('_', '-')}"
                )
            values[name] = flag
    return values


def _configure(p: argparse.ArgumentParser) -> None:
    # each plan is a sub-command with its own options (argparse sub-subparsers)
    subs = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    # the sub-parsers are of the parent's class (calibrate's parser, whose usage errors
    # answer in JSON when asked)
    wants_json = bool(getattr(p, "wants_json", False))
    helps = {
        "qualification": "how likely the qualification rule qualifies a reviewer of true "
        "agreement p on N anchors, and the anchors needed",
        "seeding": "the share of seeded anchors in live work the drift monitor needs to flag "
        "a drift within K reviews at its false-alarm rate",
    }
    for name, configure in (
        ("qualification", _configure_qualification),
        ("seeding", _configure_seeding),
    ):
        sub = subs.add_parser(
            name,
            help=helps[name],
            description=helps[name],
            wants_json=wants_json,
        )
        configure(sub)
        add_format(sub)


def _configure_qualification(p: argparse.ArgumentParser) -> None:
    from calibrate.calibration import QualificationRule

    add_rubric(p, help="rubric YAML (criteria, levels and pass rule the anchors are scored on)")
    p.add_argument("--anchors", type=int, required=True, metavar="N", help="anchors per round")
    defaults = QualificationRule()
    p.add_argument(
        "--rule",
        metavar="FIELD=VALUE[,...]",
        help="the qualification rule's standards, e.g. 'min_exact=0.8,min_decision=0.95' "
        f"(fields {', '.join(RULE_FIELDS)}; default: {_rule_text(defaults)}, as `calibrate round`)",
    )
    for flag, dest in (
        ("--min-exact", "min_exact"),
        ("--min-adjacent", "min_adjacent"),
        ("--min-decision", "min_decision"),
    ):
        p.add_argument(
            flag,
            type=float,
            help=f"one standard of the rule, as in `calibrate round` (default {getattr(defaults, dest)})",
        )
    p.add_argument(
        "--weak", type=float, default=0.6, help="true agreement of a weak reviewer (default 0.6)"
    )
    p.add_argument(
        "--good", type=float, default=0.9, help="true agreement of a good reviewer (default 0.9)"
    )
    p.add_argument(
        "--max-false-pass",
        type=float,
        default=0.05,
        help="target chance of qualifying the weak reviewer (default 0.05)",
    )
    p.add_argument(
        "--max-false-fail",
        type=float,
        default=0.05,
        help="target chance of failing the good reviewer (default 0.05)",
    )
    p.add_argument(
        "--far-share",
        type=float,
        default=0.1,
        help="share of a reviewer's misses two levels from the key (default 0.1)",
    )
    p.add_argument(
        "--max-anchors",
        type=int,
        default=60,
        help="most anchors tried for the anchors needed (default 60)",
    )
    p.add_argument(
        "--n-sim",
        type=int,
        default=4000,
        help="simulated reviewers per agreement value when the decision standard is set "
        "(default 4000)",
    )
    add_seed(p, default=0, help="random seed of the simulation (default 0)")
    add_html(p, help="also write the plan page (the curve as a plot, the tables) here")


def _configure_seeding(p: argparse.ArgumentParser) -> None:
    add_rubric(p, help="rubric YAML (criteria and levels the seeded anchors are scored on)")
    add_key(
        p,
        help="answer key of the seeded pool: simulated anchors take its anchors' key levels "
        "(default: key levels uniform over each criterion's levels)",
    )
    p.add_argument(
        "--shift",
        type=float,
        default=0.5,
        help="drift to detect, in levels (half harsher, half more lenient; default 0.5)",
    )
    p.add_argument(
        "--within",
        type=int,
        default=100,
        metavar="K",
        help="reviews (seeded or live) after the onset within which to flag it (default 100)",
    )
    p.add_argument(
        "--false-alarm-rate",
        type=float,
        default=0.05,
        metavar="P",
        help="the drift monitor's design: probability that a steady reviewer is flagged "
        "over their record (default 0.05, as `calibrate drift`)",
    )
    p.add_argument(
        "--power",
        type=float,
        default=0.8,
        help="wanted probability of flagging a drifter within K reviews (default 0.8)",
    )
    p.add_argument(
        "--shares",
        metavar="S,S,...",
        help="seeding shares to try, comma-separated (default "
        "0.01,0.02,0.03,0.05,0.075,0.1,0.15,0.2,0.25,0.3,0.4,0.5)",
    )
    p.add_argument(
        "--horizon",
        type=int,
        default=400,
        metavar="N",
        help="reviews in each reviewer's monitored record (default 400); the onset is "
        "uniform from a fifth of the record to K reviews before its end",
    )
    p.add_argument(
        "--n-sim",
        type=int,
        default=1000,
        help="simulated drifting reviewers, and as many steady ones, per share (default 1000)",
    )
    add_seed(p, default=0, help="random seed of the simulation (default 0)")
    add_html(p, help="also write the plan page (the curve as a plot, the table) here")


@command(
    "plan",
    "Plan before scoring: `plan qualification` gives the chance that the qualification rule "
    "qualifies a reviewer of true agreement p on N anchors, and the anchors needed; "
    "`plan seeding` the share of seeded anchors the drift monitor needs to flag a drift "
    "within K reviews.",
    _configure,
)
def _plan(args: argparse.Namespace) -> Outcome:
    return _seeding(args) if args.what == "seeding" else _qualification(args)


def _shares_from(text: str | None) -> list[float] | None:
    if text is None:
        return None
    out = []
    for part in text.split(","):
        try:
            v = float(part)
        except ValueError:
            raise UsageError(
                f"--shares takes numbers between 0 and 1 separated by commas; got {part.strip()!r}"
            ) from None
        if not 0 < v < 1:
            raise UsageError(f"--shares must each be between 0 and 1 (exclusive); got {v:g}")
        out.append(v)
    return out


def _seeding(args: argparse.Namespace) -> Outcome:
    from calibrate.drift import seeding_plan
    from calibrate.io import read_key
    from calibrate.rubric import load_rubric

    for flag, v in (
        ("--within", args.within),
        ("--horizon", args.horizon),
        ("--n-sim", args.n_sim),
    ):
        if v < 1:
            raise UsageError(f"{flag} must be an integer >= 1; got {v}")
    for flag, v in (("--false-alarm-rate", args.false_alarm_rate), ("--power", args.power)):
        if not 0 < v < 1:
            raise UsageError(f"{flag} must be between 0 and 1 (exclusive); got {v:g}")
    if not (0 < args.shift <= 10 and math.isfinite(args.shift)):
        raise UsageError(f"--shift must be a number of levels in (0, 10]; got {args.shift:g}")
    shares = _shares_from(args.shares)
    rubric = load_rubric(args.rubric)
    key = read_key(args.key, rubric) if args.key else None
    from tqdm.auto import tqdm

    n_shares = len(set(shares)) if shares is not None else 12
    with tqdm(
        total=n_shares,
        desc="plan seeding",
        unit="share",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    ) as bar:
        try:
            plan = seeding_plan(
                rubric,
                shift=args.shift,
                within=args.within,
                false_alarm_rate=args.false_alarm_rate,
                power=args.power,
                shares=shares,
                horizon=args.horizon,
                key=key,
                n_sim=args.n_sim,
                rng=args.seed,
                progress=bar.update,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    doc = plan.to_dict()
    page = None
    if args.html:
        from calibrate.report import seeding_report

        page = seeding_report(plan).write(args.html)
        doc["html"] = str(page)
    keyed = (
        "key levels uniform"
        if plan.key_anchors is None
        else f"key levels drawn from the {plan.key_anchors} anchors of {args.key}"
    )
    need = (
        f"A share of {plan.share_needed:g} seeded anchors flags {plan.power:.0%} of drifters "
        f"within {plan.within} reviews."
        if plan.share_needed is not None
        else f"No share tried flags {plan.power:.0%} of drifters within {plan.within} reviews."
    )
    curve = plan.curve.rename(
        columns={"p_detect": f"P(flag <= {plan.within})", "median_delay": "median delay"}
    )
    text = "\n\n".join(
        [
            f"Seeded anchors on {rubric.id}: reviewers drifting by {plan.shift:g} levels at a "
            f"random review of a record of {plan.horizon} (onset {plan.earliest_onset}.."
            f"{plan.horizon - plan.within}), {plan.n_sim} drifters and {plan.n_sim} steady "
            f"reviewers per share; {keyed}; only seeded anchors referenced. The drift monitor "
            f"as `calibrate drift --false-alarm-rate {plan.false_alarm_rate:g}` runs it "
            f"(CUSUM, k = {plan.k:g}). false_alarm: steady reviewers flagged over the record; "
            "se: Monte Carlo standard errors; delay in reviews.",
            frame_text(curve, max_rows=200),
            need,
            *([f"HTML page: {page}"] if page else []),
        ]
    )
    note = [f"calibrate plan: wrote {page}"] if page and args.format == "json" else []
    return Outcome(doc, text, stderr=note)


def _qualification(args: argparse.Namespace) -> Outcome:
    from calibrate.calibration import QualificationRule, qualification_plan
    from calibrate.rubric import load_rubric

    for flag, v in (
        ("--anchors", args.anchors),
        ("--max-anchors", args.max_anchors),
        ("--n-sim", args.n_sim),
    ):
        if v < 1:
            raise UsageError(f"{flag} must be an integer >= 1; got {v}")
    try:
        rule = QualificationRule(**_rule_from(args))
    except ValueError as exc:
        raise UsageError(f"bad qualification rule: {exc}") from None
    rubric = load_rubric(args.rubric)
    try:
        plan = qualification_plan(
            rubric,
            args.anchors,
            rule=rule,
            weak=args.weak,
            good=args.good,
            max_false_pass=args.max_false_pass,
            max_false_fail=args.max_false_fail,
            far_share=args.far_share,
            max_anchors=args.max_anchors,
            n_sim=args.n_sim,
            rng=args.seed,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    page = None
    if args.html:
        from calibrate.report import qualification_report

        page = qualification_report(plan).write(args.html)
    how = (
        "exact (multinomial enumeration)"
        if plan.method == "exact"
        else f"simulation of {plan.n_sim} reviewers per p (MC standard error in se)"
    )
    curve = plan.curve.rename(columns={"p_qualified": "P(qualified)"})
    if plan.method == "exact":
        curve = curve.drop(columns="se")
    pm = "" if plan.method == "exact" else " +- {:.3f}"
    need = (
        f"{plan.anchors_needed} anchors keep both below the targets "
        f"({plan.max_false_pass:.0%} false pass, {plan.max_false_fail:.0%} false fail)"
        if plan.anchors_needed is not None
        else f"no number of anchors up to {args.max_anchors} keeps both below the targets "
        f"({plan.max_false_pass:.0%} false pass, {plan.max_false_fail:.0%} false fail)"
    )
    text = "\n\n".join(
        [
            f"Qualification rule on {plan.n_anchors} anchors of {rubric.id} (exact >= "
            f"{rule.min_exact:.0%}, within one >= {rule.min_adjacent:.0%} per criterion, "
            f"decision >= {rule.min_decision:.0%}); a reviewer's score equals the key with "
            f"probability p, {plan.far_share:.0%} of misses two levels away; anchors' key "
            f"levels uniform. Method: {how}.",
            frame_text(curve, max_rows=200),
            f"Weak reviewer (p = {plan.weak:g}) qualified: {plan.false_pass:.3f}"
            + pm.format(plan.false_pass_se)
            + f"\nGood reviewer (p = {plan.good:g}) failed:    {plan.false_fail:.3f}"
            + pm.format(plan.false_fail_se),
            need + ".",
            *([f"HTML page: {page}"] if page else []),
        ]
    )
    note = [f"calibrate plan: wrote {page}"] if page and args.format == "json" else []
    return Outcome(plan.to_dict(), text, stderr=note)
