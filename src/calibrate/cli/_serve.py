"""``calibrate serve-entry``: serve a round's score-entry form to reviewers' browsers."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_round, add_rubric_id, add_store
from calibrate.cli._output import Outcome
from calibrate.store import Store

APP = Path(__file__).resolve().parents[1] / "widgets" / "apps" / "score-entry.ipynb"


def _serve_args(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_rubric_id(p, help="the stored rubric of the round")
    add_round(p, help="the round (assigned with Store.assign_round)", required=True)
    p.add_argument(
        "--ip",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 serves the local network)",
    )
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")


@command(
    "serve-entry",
    "Serve a calibration round's score-entry form with Voila until interrupted.",
    _serve_args,
)
def _serve(args: argparse.Namespace) -> Outcome:
    if not Path(args.store).exists():
        raise FileNotFoundError(f"no store at {args.store}")
    with Store.open(args.store, create=False, read_only=True) as store:
        try:
            assigned = store.round_assignment(args.rubric_id, args.round_id)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if not assigned["anchors"]:
        raise UsageError(f"round {args.round_id!r} has no anchors assigned (Store.assign_round)")
    env = {
        **os.environ,
        "CALIBRATE_STORE": str(Path(args.store).resolve()),
        "CALIBRATE_RUBRIC": args.rubric_id,
        "CALIBRATE_ROUND": args.round_id,
    }
    url = f"http://{args.ip}:{args.port}/"
    print(
        f"serving the score-entry form of round {args.round_id} at {url} (Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    cmd = [
        sys.executable,
        "-m",
        "voila",
        str(APP),
        "--no-browser",
        f"--Voila.ip={args.ip}",
        f"--port={args.port}",
        "--strip_sources=True",
    ]
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    return Outcome({"ok": code == 0, "url": url}, f"stopped serving {url}", 0 if code == 0 else 1)
