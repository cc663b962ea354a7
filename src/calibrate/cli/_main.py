"""The ``calibrate`` command line: argument parsing and dispatch."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

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
    to_json,
)

Handler = Callable[[argparse.Namespace], Outcome]
#: Modules ``calibrate.cli._<name>`` that define subcommands, in --help order.
COMMAND_MODULES = [
    "validate",
    "store",
    "round",
    "assign",
    "plan",
    "serve",
    "session",
    "policy",
    "decisions",
    "synth",
    "demo",
    "audit",
    "severity",
    "reliability",
    "drift",
    "fairness",
    "feedback",
    "profile",
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


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are also a JSON document on stdout when the
    command line asks for ``--format json`` (scripts read one shape for every failure)."""

    def __init__(self, *args: object, wants_json: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.wants_json = wants_json

    def error(self, message: str) -> NoReturn:
        if self.wants_json:
            print(usage_json(message))
        super().error(message)  # usage and message on stderr, exit 2


def usage_json(message: str) -> str:
    """The JSON document of a usage error: the same shape as a data problem's, no rows."""
    return to_json({"ok": False, "error": message, "problems": []})


def _asks_json(argv: Sequence[str]) -> bool:
    """Whether the raw command line asks for ``--format json`` (read before parsing, so that
    an error in parsing can answer in JSON too)."""
    argv = list(argv)
    for i, arg in enumerate(argv):
        if arg == "--format" and i + 1 < len(argv):
            return argv[i + 1] == "json"
        if arg.startswith("--format="):
            return arg.split("=", 1)[1] == "json"
    return False


def _order(entry: tuple[str, str, object, Handler]) -> int:
    """--help order: that of COMMAND_MODULES, whichever module was imported first."""
    module = entry[3].__module__.rsplit("._", 1)[-1]
    return COMMAND_MODULES.index(module) if module in COMMAND_MODULES else len(COMMAND_MODULES)


def build_parser(*, wants_json: bool = False, only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; with ``only``, a command whose module has its own
    name (``reliability`` -> ``calibrate.cli._reliability``), only that subcommand's, so a
    run imports what that command needs and not every library package."""
    import importlib

    if only is not None and only in COMMAND_MODULES:
        importlib.import_module(f"calibrate.cli._{only}")
    if only is None or all(c[0] != only for c in _COMMANDS):
        only = None
        for name in COMMAND_MODULES:  # each module registers its subcommand(s) on import
            importlib.import_module(f"calibrate.cli._{name}")

    parser = _Parser(
        wants_json=wants_json,
        prog="calibrate",
        description="Calibration rounds, inter-rater reliability, reviewer severity and drift, and pass/tiebreak policies for rubric review programs.",
    )
    parser.add_argument("--version", action="version", version=f"calibrate {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text, configure, fn in sorted(_COMMANDS, key=_order):
        if only is not None and name != only:
            continue
        p = subs.add_parser(name, help=help_text, description=help_text, wants_json=wants_json)
        configure(p)
        add_format(p)
        p.set_defaults(handler=fn)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data problems, 2 usage).

    With ``--format json`` every outcome is one JSON document on stdout, failures
    included: ``{"ok": false, "error": ..., "problems": [...]}`` (the message is also on
    stderr, for people)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(argv)
    except KeyboardInterrupt:  # Ctrl-C: outputs are written whole or not at all
        print("calibrate: interrupted (nothing half-written was left)", file=sys.stderr)
        return EXIT_INTERRUPTED


#: The exit code of a command stopped by Ctrl-C, as a shell reports a process ended by SIGINT.
EXIT_INTERRUPTED = 130


#: Two-word spellings of commands: ``calibrate round assign ...`` is ``calibrate assign ...``,
#: ``calibrate round close ...`` is ``calibrate close-round ...``.
#: (``round``'s first positional is its RATINGS file; a file named ``assign`` is given as
#: ``./assign``.)
ALIASES = {("round", "assign"): "assign", ("round", "close"): "close-round"}


def _run(argv: list[str]) -> int:
    if tuple(argv[:2]) in ALIASES:
        argv = [ALIASES[(argv[0], argv[1])], *argv[2:]]
    # ``calibrate NAME ...``: only NAME's module is imported (the others load the library's
    # plotting and statistics packages, seconds of imports a command does not need)
    first = argv[0] if argv and not argv[0].startswith("-") else None
    parser = build_parser(wants_json=_asks_json(argv), only=first)
    args = parser.parse_args(argv)  # exits 2 on a usage error, as argparse does
    fmt = args.format
    try:
        outcome = args.handler(args)
    except DataProblemError as exc:
        outcome = problems_outcome(exc, what=exc.kind)
    except (FileNotFoundError, UsageError) as exc:
        print(f"calibrate {args.command}: {exc}", file=sys.stderr)
        if fmt == "json":
            print(usage_json(str(exc)))
        return EXIT_USAGE
    except (ValueError, RuntimeError, OSError) as exc:  # e.g. a store written by a newer version
        outcome = Outcome(
            {"ok": False, "error": str(exc), "problems": []},
            "",
            EXIT_DATA,
            [f"calibrate {args.command}: {exc}"],
        )
    try:
        code = emit(outcome, fmt)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``calibrate ... | head``): end quietly
        _quiet_stdout()
        return EXIT_PIPE
    return code


#: The exit code of a command whose reader went away (``calibrate ... | head``), as a
#: process ended by SIGPIPE reports it to the shell.
EXIT_PIPE = 141


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush of what is still
    buffered cannot raise a second BrokenPipeError (Python docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
