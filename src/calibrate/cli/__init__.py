"""The ``calibrate`` command line. Every subcommand takes ``--format table|json``;
exit codes: 0 success, 1 the data has problems (all listed), 2 a usage error."""

from calibrate.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
