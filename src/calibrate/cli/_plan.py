"""``calibrate plan``: planning before a round (``plan qualification``: how well the
qualification rule separates weak reviewers from good ones on N anchors)."""

from __future__ import annotations

import argparse

from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_html, add_rubric, add_seed
from calibrate.cli._output import Outcome, frame_text

#: What ``calibrate plan`` plans.
PLANS = ("qualification",)
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
    from calibrate.calibration import QualificationRule

    p.add_argument("what", choices=PLANS, help="what to plan")
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


@command(
    "plan",
    "Plan before a round: `plan qualification` gives the chance that the qualification rule "
    "qualifies a reviewer of true agreement p on N anchors, and the anchors needed.",
    _configure,
)
def _plan(args: argparse.Namespace) -> Outcome:
    return _qualification(args)


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
