"""``calibrate invite``, ``calibrate session`` and ``calibrate round close``: remote
calibration sessions with personal links."""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from datetime import timedelta
from pathlib import Path

from calibrate.cli._assign import id_list
from calibrate.cli._main import UsageError, command
from calibrate.cli._options import add_round, add_rubric_id, add_store
from calibrate.cli._output import Outcome, frame_text
from calibrate.store import Store

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """``7d``, ``12h`` or ``30m`` as a timedelta (a usage error otherwise)."""
    m = _DURATION.match(text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(
            f"--expires must be a positive number of d, h or m (7d, 12h, 30m); got {text!r}"
        )
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def _existing(path: str) -> None:
    if not Path(path).exists():
        raise FileNotFoundError(f"no store at {path}")


def _invite_args(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_rubric_id(p, help="the stored rubric of the round")
    add_round(p, help="the round (assigned with calibrate round assign)", required=True)
    p.add_argument(
        "--reviewers",
        metavar="R1,R2,...|FILE",
        help="only these reviewers (ids separated by commas, or a file with a reviewer_id "
        "column); default every reviewer of the round",
    )
    p.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000",
        help="the address reviewers reach calibrate session at (default http://127.0.0.1:8000)",
    )
    p.add_argument("--expires", default="7d", help="how long the links open the page (default 7d)")
    p.add_argument(
        "--lead", action="store_true", help="the lead's link (live progress view) instead"
    )
    p.add_argument(
        "--revoke",
        action="store_true",
        help="revoke links instead: those of --reviewers (or the lead's with --lead), else all the round's",
    )


@command(
    "invite",
    "Create one personal link per reviewer of a round (a random token stored only as a hash), "
    "the lead's link (--lead), or revoke links (--revoke).",
    _invite_args,
)
def _invite(args: argparse.Namespace) -> Outcome:
    _existing(args.store)
    reviewers = None if args.reviewers is None else id_list(args.reviewers, "reviewer")
    if args.lead and reviewers is not None:
        raise UsageError("--lead makes the lead's link: drop --reviewers")
    with Store.open(args.store, create=False) as store:
        if args.revoke:
            n = store.revoke_invitations(
                args.rubric_id, args.round_id, reviewers=reviewers, lead=args.lead
            )
            return Outcome(
                {"ok": True, "round_id": args.round_id, "revoked": n},
                f"revoked {n} links of round {args.round_id}",
            )
        links = store.create_invitations(
            args.rubric_id,
            args.round_id,
            reviewers=reviewers,
            lead=args.lead,
            expires=parse_duration(args.expires),
        )
    base = args.base_url.rstrip("/")
    rows = [
        {
            "reviewer_id": link.reviewer_id,
            "url": f"{base}/{'lead' if link.reviewer_id is None else 'r'}/{link.token}",
            "expires_at": link.expires_at,
        }
        for link in links
    ]
    import pandas as pd

    table = pd.DataFrame(rows).fillna({"reviewer_id": "(lead)"})
    text = (
        f"{len(rows)} new links to round {args.round_id} (each replaces that person's "
        "earlier link; the store keeps only their hashes: send each to its person now)\n\n"
        + frame_text(table, max_rows=10_000)
    )
    return Outcome(rows, text)


def _session_args(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_rubric_id(p, help="serve only this rubric's rounds", required=False)
    add_round(p, help="serve only this round (other rounds' links are refused)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@command(
    "session",
    "Serve the reviewers' personal entry pages and the lead's view (links from calibrate "
    "invite) until interrupted.",
    _session_args,
)
def _session(args: argparse.Namespace) -> Outcome:
    _existing(args.store)
    import uvicorn

    from calibrate.session import app

    if not is_loopback(args.host):
        print(
            f"warning: serving on {args.host} without TLS: the links' tokens and the scores "
            "travel in clear text over the network. Put a TLS proxy (Caddy, nginx) in front, "
            "or serve on 127.0.0.1 through an SSH tunnel.",
            file=sys.stderr,
            flush=True,
        )
    served = app(args.store, rubric_id=args.rubric_id, round_id=args.round_id)
    print(
        f"serving calibration sessions of {args.store} at http://{args.host}:{args.port}/ "
        "(Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.run(served, host=args.host, port=args.port, log_level="warning", access_log=False)
    except KeyboardInterrupt:
        pass
    return Outcome({"ok": True}, "stopped serving")


def _close_args(p: argparse.ArgumentParser) -> None:
    add_store(p)
    add_rubric_id(p, help="the stored rubric of the round")
    add_round(p, help="the round to close", required=True)


@command(
    "close-round",
    "Close a calibration round (also `calibrate round close`): no more scores; reviewers' "
    "links show their results against the key.",
    _close_args,
)
def _close(args: argparse.Namespace) -> Outcome:
    _existing(args.store)
    with Store.open(args.store, create=False) as store:
        store.close_round(args.rubric_id, args.round_id)
        rounds = store.rounds(args.rubric_id)
    row = rounds[rounds["round_id"] == args.round_id].iloc[0]
    return Outcome(
        {
            "ok": True,
            "round_id": args.round_id,
            "status": row["status"],
            "closed_at": row["closed_at"],
        },
        f"round {args.round_id} closed at {row['closed_at']} ({int(row['ratings'])} ratings)",
    )
