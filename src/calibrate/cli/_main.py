"""The ``calibrate`` command line: argument parsing and dispatch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from calibrate._problems import DataProblemError
from calibrate._version import __version__
from calibrate.cli._options import add_format
from calibrate.cli._output import (
    EXIT_DATA,
    EXIT_USAGE,
    Outcome,
    UsageError,
    emit,
    problems_outcome,
)

Handler = Callable[[argparse.Namespace], Outcome]
#: Modules ``calibrate.cli._<name>`` that define subcommands, in --help order.
COMMAND_MODULES = [
    "validate",
    "store",
    "round",
    "serve",
    "policy",
    "synth",
    "demo",
    "audit",
    "severity",
    "reliability",
    "drift",
]
_COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = []


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Handler], Handler]:
    """Register a subcommand: its name, one-line help, argument set-up and handler."""

    def deco(fn: Handler) -> Handler:
        _COMMANDS.append((name, help_text, configure, fn))
        return fn

    return deco


def build_parser() -> argparse.ArgumentParser:
    import importlib

    for name in COMMAND_MODULES:  # each module registers its subcommand(s) on import
        importlib.import_module(f"calibrate.cli._{name}")

    parser = argparse.ArgumentParser(
        prog="calibrate",
        description="Calibration rounds, inter-rater reliability, reviewer severity and drift, and pass/tiebreak policies for rubric review programs.",
    )
    parser.add_argument("--version", action="version", version=f"calibrate {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, configure, fn in _COMMANDS:
        p = subs.add_parser(name, help=help_text, description=help_text)
        configure(p)
        add_format(p)
        p.set_defaults(handler=fn)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data problems, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error, as argparse does
    fmt = args.format
    try:
        outcome = args.handler(args)
    except DataProblemError as exc:
        outcome = problems_outcome(exc, what=exc.kind)
    except FileNotFoundError as exc:
        print(f"calibrate {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"calibrate {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, RuntimeError, OSError) as exc:  # e.g. a store written by a newer version
        outcome = Outcome(
            {"ok": False, "error": str(exc)}, "", EXIT_DATA, [f"calibrate {args.command}: {exc}"]
        )
    return emit(outcome, fmt)


def run() -> None:
    sys.exit(main())
